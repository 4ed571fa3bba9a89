"""Statuses and roster matching: each file attributed to a roster agency (by the identity its
template carries, else by its name), the newest file of an agency adopted and the others marked
重复提交, and every agency's and file's status and 说明 decided."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..format.spec import FormatSpec
from ..model.identity import code_key
from ..model.matching import NO_MATCH, NameMatch, NameMatcher
from ..model.record import FileRecord, newest_key, quoted_reason
from ..model.status import Status
from ..read.roster import RosterError, RosterRow, parse_roster, roster_text
from .walk import system_file

BY_IDENTITY, BY_NAME = "模板标识", "文件名"


class CollectError(ValueError):
    """A usage problem (missing folder, unusable roster ...); the message is Chinese."""


# ---------------------------------------------------------------------------------------------
# The roster


class RosterIndex:
    """Finds a roster agency by the identity a workbook carries, or (fallback) by a file name:
    see matching.NameMatcher (short forms, no place prefix, roster aliases, case)."""

    def __init__(self, rows: Sequence[RosterRow]):
        self.rows = list(rows)
        self._code = {code_key(r.code): i for i, r in enumerate(self.rows) if r.code.strip()}
        self.names = NameMatcher([r.agency for r in self.rows], [r.aliases for r in self.rows])

    def __len__(self) -> int:
        return len(self.rows)

    def identify(self, agency: str, code: str) -> NameMatch:
        if code and code_key(code) in self._code:
            return NameMatch(self._code[code_key(code)])
        return self.names.identity(agency) if agency else NO_MATCH

    def by_identity(self, agency: str, code: str) -> int | None:
        return self.identify(agency, code).index

    def match_file(self, display: str) -> NameMatch:
        """The roster agency a file's path names (system files name nobody)."""
        return self.names.filename(display, skip=system_file(display.rsplit("!", 1)[-1]))

    def by_filename(self, display: str) -> int | None:
        return self.match_file(display).index


def roster_loader(path: str | Path, spec: FormatSpec | None = None) -> Callable[[], list[RosterRow]]:
    """A roster CSV or a template manifest (manifest.csv has the same 机关名称/机关代码 columns),
    in two steps: it is read and checked now (a roster that cannot be used is said, as a
    CollectError, before any file is read) and only its text is kept; the returned function
    parses it again. Its rows are thus not held while the files are read."""
    path = Path(path)
    try:
        text = roster_text(path)
        parse_roster(text, path.name, spec)
    except RosterError as e:
        raise CollectError(str(e)) from None
    return lambda: parse_roster(text, path.name, spec)


@dataclass(slots=True)
class AgencyStatus:
    """A roster agency in this season: its status, the file used and every file attributed to it."""

    index: int
    row: RosterRow
    status: Status = Status.MISSING
    file: FileRecord | None = None  # the file used
    files: list[FileRecord] = field(default_factory=list)  # every file attributed to it
    note: str = ""
    docx: str = ""  # relative path of the written .docx
    notice: str = ""  # relative path of its 问题通知


def _status_of(rec: FileRecord) -> Status:
    return Status.ERR if rec.errors else Status.WARN if rec.warnings else Status.OK


def infer_year(records: Iterable[FileRecord], roster: RosterIndex, format_id: str) -> int | None:
    """The year most files of roster agencies in this format are for (ties: the latest)."""
    years: Counter[int] = Counter()
    for rec in records:
        if not rec.has_report or rec.identity.get("format") != format_id:
            continue
        if roster.by_identity(rec.agency, rec.code) is None:
            continue
        try:
            years[int(rec.identity.get("year", ""))] += 1
        except ValueError:
            continue
    if not years:
        return None
    return max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]


def classify(records: Sequence[FileRecord], roster: RosterIndex, *, year: int | None, format_id: str) -> list[AgencyStatus]:
    """Decide each file's status and attribution and each roster agency's status."""
    agencies = [AgencyStatus(i, row) for i, row in enumerate(roster.rows)]
    candidates: dict[int, list[FileRecord]] = {}
    for rec in records:
        if _place(rec, roster, year, format_id):
            candidates.setdefault(rec.roster, []).append(rec)
    for index, recs in candidates.items():
        _adopt(agencies[index], recs)
    for rec in records:
        if rec.roster is not None:
            agencies[rec.roster].files.append(rec)
    for agency in agencies:
        _note_files(agency)
    for rec in records:  # a file that may be one of several agencies': said where each is missing
        for i in rec.candidates if rec.roster is None else ():
            if agencies[i].status == Status.MISSING:
                hint = f"文件“{rec.name}”可能是本机关的（名称不能确定是哪个机关），请核对"
                agencies[i].note = (agencies[i].note + "；" if agencies[i].note else "") + hint
    for agency in agencies:
        agency.note = explain(agency)
    return agencies


def _place(rec: FileRecord, roster: RosterIndex, year: int | None, format_id: str) -> bool:
    """Attribute one file and give it its status, unless it is a candidate for its agency's
    adopted file (True: the status is decided among the agency's candidates)."""
    if rec.kind == "archive":
        rec.status = Status.ARCHIVE
        rec.note = f"已展开，含 {rec.archive} 个文件"
        return False
    if rec.kind == "output":  # never attributed by its name (年度报告/沙坡头区民政局.docx)
        rec.status, rec.note = Status.FOREIGN, rec.reason
        return False
    if rec.kind == "system":  # never attributed by its name (~$沙坡头区民政局.xlsx), nor an error
        rec.status, rec.note = Status.SYSTEM, rec.reason
        return False
    if rec.has_report and (rec.agency or rec.code):
        return _place_by_identity(rec, roster, year, format_id)
    found = roster.match_file(rec.name)
    rec.roster, rec.candidates = found.index, found.candidates
    rec.match = BY_NAME if rec.roster is not None else ""
    if rec.has_report:  # a report without any identity: only its file name can place it
        if rec.roster is not None:
            return True
        rec.status = Status.FOREIGN
        rec.reason, rec.reason_in_findings = "文件中没有模板标识，" + _unplaced(roster, found), False
        rec.note = rec.reason
        return False
    rec.status = {"foreign": Status.FOREIGN, "internal": Status.INTERNAL}.get(rec.kind, Status.UNREADABLE)
    rec.note = rec.reason
    if rec.roster is not None:
        rec.note += f"（按文件名对应到“{roster.rows[rec.roster].agency}”）"
    elif found.ambiguous:
        rec.note += _unplaced(roster, found)
    return False


def _place_by_identity(rec: FileRecord, roster: RosterIndex, year: int | None, format_id: str) -> bool:
    found = roster.identify(rec.agency, rec.code)
    rec.roster, rec.candidates = found.index, found.candidates
    rec.match = BY_IDENTITY if rec.roster is not None else ""
    if found.loose:
        rec.note = f"模板中的机关名称“{rec.agency}”与名单不完全相同，按简称或别名对应"
    fmt, file_year = rec.identity.get("format", ""), rec.identity.get("year", "")
    if fmt != format_id:
        rec.reason = f"是其他格式（{fmt or '未知'}）的模板，本次收集使用 {format_id}。"
    elif year is not None and file_year != str(year):
        rec.reason = f"是 {file_year or '未知'} 年度的模板，本次收集的是 {year} 年度。请用本年度下发的模板填写。"
    elif rec.roster is None and found.ambiguous:
        rec.reason = (f"是“{rec.agency}”的模板，名单中有几个机关与此名称相近（{_names(roster, found)}），"
                      "无法确定是哪一个，未自动对应。")
    elif rec.roster is None:
        shown = rec.agency or rec.code
        rec.reason = f"是“{shown}”的模板，该机关不在本次名单中。"
    else:
        return True
    rec.status = Status.FOREIGN
    rec.reason_in_findings = False
    rec.note = rec.reason
    return False


def _adopt(agency: AgencyStatus, recs: list[FileRecord]) -> None:
    """The newest of an agency's candidate files is used; the others are 重复提交."""
    recs.sort(key=lambda r: newest_key(r.saved_at, r.name), reverse=True)
    used, rest = recs[0], recs[1:]
    used.status = _status_of(used)
    agency.file, agency.status = used, used.status
    for rec in rest:
        rec.status = Status.DUPLICATE
        rec.note = f"同一机关有较新的文件，已采用“{used.name}”" + ("（内容相同）" if rec.sha256 and rec.sha256 == used.sha256 else "")
    if used.match == BY_NAME:
        used.note = "文件中没有模板标识，按文件名对应到本机关"
    elif used.note:
        agency.note = used.note
    if rest:
        agency.note = f"重复提交 {len(rest)} 个较旧的文件，已采用保存时间最新的一个"


def _note_files(agency: AgencyStatus) -> None:
    """What the agency's other files add to its 说明; an agency that sent only unusable files 有错误."""
    if agency.file is not None and agency.file.previous_note:
        agency.note = (agency.note + "；" if agency.note else "") + agency.file.previous_note
    if agency.file is not None:
        others = [r for r in agency.files if r.status in (Status.UNREADABLE, Status.INTERNAL, Status.FOREIGN)]
        if others:
            extra = "；另有不能使用的文件：" + "、".join(f"“{r.name}”" for r in others)
            agency.note = (agency.note + extra) if agency.note else extra.lstrip("；")
        return
    if agency.files:  # only unusable files: the agency sent something, it must send again
        agency.status = Status.ERR
        first = agency.files[0]
        by_name = "（按文件名对应到本机关）" if first.match == BY_NAME else ""
        if first.status == Status.INTERNAL:  # not the agency's fault: it need not send again
            agency.note = (f"提交的文件未能检查{by_name}（本工具内部出错，不是文件的问题）："
                           + quoted_reason(first.name, first.reason))
        else:
            agency.note = f"提交的文件无法使用{by_name}：" + quoted_reason(first.name, first.reason)
        if len(agency.files) > 1:
            agency.note += f"（共 {len(agency.files)} 个文件，见文件清单）"


def _names(roster: RosterIndex, found: NameMatch) -> str:
    return "、".join(f"“{roster.rows[i].agency}”" for i in found.candidates)


def _unplaced(roster: RosterIndex, found: NameMatch) -> str:
    if found.ambiguous:
        return f"文件名可能指名单中的{_names(roster, found)}，无法确定是哪一个，未自动对应。"
    return "文件名也对应不上名单中的机关。"


def explain(agency: AgencyStatus) -> str:
    """The 说明 of an agency: for every status but 合格 it says what is wrong and what to do."""
    rec, note = agency.file, agency.note
    if agency.status == Status.MISSING:
        head = "未收到该机关的文件"
    elif agency.status in (Status.ERR, Status.WARN) and rec is not None:
        counts = "、".join(x for x in (f"错误 {rec.errors} 处" if rec.errors else "",
                                      f"警告 {rec.warnings} 处" if rec.warnings else "") if x)
        what = "请修改后重新报送" if agency.status == Status.ERR else "请核实，确有需要的修改后重新报送"
        head = f"{counts}，{what}（见问题清单）"
    else:
        return note
    return head + ("；" + note if note else "")
