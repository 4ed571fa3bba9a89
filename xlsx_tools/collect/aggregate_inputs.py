"""`aggregate`'s inputs: every file handed to it read as a FileRecord (model/record.py, the record
collect keeps too: Report JSON directly, anything else through collect's walker, reader and checks), and the choice of which take part (the right
format and year, no errors unless asked, per agency only the newest file, no agency counted twice).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_report
from ..model.aggregate import AggregateError
from ..model.identity import identity_keys
from ..model.jsonio import read_json
from ..model.record import FileRecord, newest_key, quoted_reason
from ..model.report import Report
from ..util.fsutil import os_error_text, sha256_file
from .walk import Item, walk
from .worker import ReadOptions, read_items


@dataclass
class Selection:
    used: list[FileRecord]
    skipped: list[FileRecord]

    @property
    def all(self) -> list[FileRecord]:
        return sorted(self.used + self.skipped, key=lambda i: i.name)


# ---------------------------------------------------------------------------------------------
# Reading


def read_inputs(paths: Sequence[str | Path], *, jobs: int = 1) -> Iterator[FileRecord]:
    """Every file under `paths` (folders recursively, zip archives too) as a FileRecord: Report
    .json directly, anything else through the reader and the checks. Records are numbered (seq) in
    the order they are yielded."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise AggregateError(f"找不到：{'、'.join(missing)}。")
    jsons: list[Path] = []
    others: list[Path] = []
    for p in paths:
        p = Path(p)
        (jsons if p.is_file() and p.suffix.lower() == ".json" else others).append(p)
    seq = itertools.count(1)
    for p in jsons:
        yield _json_input(next(seq), p)
    if not others:
        return
    items = walk(others, relative=False)

    def json_aware(items: Iterator[Item]) -> Iterator[Item]:
        for item in items:
            if not item.members and item.problem is None and item.archive is None and item.name.lower().endswith(".json"):
                pending_json.append(item)
                continue
            yield item

    pending_json: list[Item] = []
    options = ReadOptions()
    for res in read_items(json_aware(items), options, jobs):
        if res.kind != "archive":  # a container is not a report; its members are listed
            yield _result_input(next(seq), res)
    for item in pending_json:
        yield _json_input(next(seq), Path(item.path), item.name)


def _json_input(seq: int, path: Path, name: str | None = None) -> FileRecord:
    name = name or str(path)
    inp = FileRecord(seq=seq, name=name)
    try:
        inp.sha256 = sha256_file(path)
        data = read_json(path)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        inp.reason = f"无法读取：{os_error_text(e) if isinstance(e, OSError) else e}。"
        return inp
    if isinstance(data, dict) and "agencies" in data and "figures" not in data:
        inp.reason = "是 collect 生成的收集结果，不是一个机关的报告；请汇总退回的文件或各机关导出的 JSON。"
        return inp
    try:
        report = Report.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        inp.reason = f"不是报告 JSON：{e}。"
        return inp
    findings = check_report(report)
    inp.identity = {"agency": report.agency.name, "code": report.agency.code, "year": str(report.year),
                    "format": report.format}
    inp.saved_at = report.provenance.saved_at or ""
    inp.errors = figure_errors(findings)
    inp.warnings = len(findings) - inp.errors
    inp.figures, inp.has_report = dict(report.figures), True
    summed = data.get("aggregate") if isinstance(data.get("aggregate"), dict) else {}
    inp.sources = tuple((str(s.get("agency") or ""), str(s.get("code") or ""))
                        for s in summed.get("sources") or () if isinstance(s, dict))
    return inp


def figure_errors(findings) -> int:
    """Errors that keep a report out of the sum: an empty narrative section (an error for
    publishing the report) does not touch its figures, and an aggregate has no narrative."""
    def kind(f) -> tuple[str, str]:  # a Finding, or its dict from a worker
        return (f["severity"], f["code"]) if isinstance(f, dict) else (f.severity, f.code)

    return sum(1 for f in findings or () if kind(f)[0] == "error" and kind(f)[1] != "NARRATIVE_EMPTY")


def _result_input(seq: int, rec: FileRecord) -> FileRecord:
    """A worker's record as aggregate keeps it: numbered in reading order, its errors counted as
    figure_errors counts them, its findings dropped (their counts are enough)."""
    errors = figure_errors(rec.findings)
    rec.seq, rec.errors, rec.warnings, rec.findings = seq, errors, rec.errors + rec.warnings - errors, []
    if rec.figures is None:
        rec.reason = rec.reason or "无法读取。"
        return rec
    with contextlib.suppress(ValueError):  # the reader parsed it to read the figures: " 2025" is 2025
        rec.identity["year"] = str(int(rec.identity.get("year", "")))
    rec.has_report = True
    return rec


# ---------------------------------------------------------------------------------------------
# Choosing


def _agency_key(inp: FileRecord) -> str:
    keys = identity_keys(inp.agency, inp.code)
    return keys[-1] if keys else "file:" + inp.name  # by name: codes may be missing on some files


def select(inputs: Iterable[FileRecord], *, year: int, format_id: str, include_errors: bool = False) -> Selection:
    """Which inputs take part: the right format and year, no errors (unless `include_errors`), and
    per agency only the newest file (by its own save time, then by name)."""
    used: dict[str, FileRecord] = {}
    skipped: list[FileRecord] = []
    for inp in inputs:
        if inp.figures is None:
            skipped.append(inp)
            continue
        if inp.format != format_id:
            inp.reason = f"的格式为 {inp.format or '未知'}，不是 {format_id}。"
        elif inp.year != year:
            inp.reason = f"是 {inp.year} 年度的报告，不是 {year} 年度。"
        elif inp.errors and not include_errors:
            inp.reason = f"表格中有 {inp.errors} 处错误（如需计入，请加 --include-errors）。"  # 文字部分 not counted: it does not touch the sum
        if inp.reason:
            skipped.append(inp)
            continue
        key = _agency_key(inp)
        other = used.get(key)
        if other is None:
            used[key] = inp
            continue

        newer, older = (inp, other) if newest_key(inp.saved_at, inp.name) > newest_key(other.saved_at, other.name) else (other, inp)
        older.reason = f"与“{newer.name}”是同一机关的报告，后者较新，已采用后者。"
        skipped.append(older)
        used[key] = newer
    skipped += _drop_double_counts(used)
    for inp in used.values():
        inp.used = True
    return Selection(sorted(used.values(), key=lambda i: i.name), skipped)


def _drop_double_counts(used: dict[str, FileRecord]) -> list[FileRecord]:
    """An earlier aggregate handed in with files it already summed: each agency counts once. The
    aggregate is kept (it may hold agencies not given separately) and the files in it are left
    out; of two aggregates with an agency in common, the first by name is kept."""
    dropped: list[FileRecord] = []
    covered: dict[str, FileRecord] = {}  # identity key -> the kept aggregate that summed it
    for agg in sorted((i for i in used.values() if i.sources), key=lambda i: i.name):
        keys = {src: identity_keys(*src) for src in agg.sources}
        common = [src[0] or src[1] for src, ks in keys.items() if any(k in covered for k in ks)]
        if common:
            first = next(covered[k] for ks in keys.values() for k in ks if k in covered)
            agg.reason = f"与汇总报告“{first.name}”含有相同的机关（{'、'.join(common)}），未计入，以免重复。"
            dropped.append(agg)
            continue
        for ks in keys.values():
            covered.update(dict.fromkeys(ks, agg))
    for key, inp in list(used.items()):
        if any(inp is d for d in dropped):
            del used[key]
            continue
        if inp.sources:
            continue
        agg = next((covered[k] for k in identity_keys(inp.agency, inp.code) if k in covered), None)
        if agg is not None:
            inp.reason = f"的数字已计入汇总报告“{agg.name}”，未重复计入。"
            dropped.append(inp)
            del used[key]
    return dropped


# ---------------------------------------------------------------------------------------------
# Saying what was chosen


def describe(selection: Selection) -> list[str]:
    """Chinese lines for the command's output: what was summed, what was left out and why."""
    lines = [f"计入汇总 {len(selection.used)} 份报告。"]
    for s in sorted(selection.skipped, key=lambda i: i.name):
        lines.append("未计入：" + quoted_reason(s.name, s.reason))
    return lines


def describe_blanks(used: Sequence[FileRecord]) -> list[str]:
    """Chinese lines naming every report whose blank cells were summed as 0 (after Aggregator.add
    set FileRecord.blanks): a total that silently counts a blank as 0 is a wrong total nobody sees."""
    with_blanks = [i for i in used if i.blanks]
    if not with_blanks:
        return []
    lines = [f"注意：{len(with_blanks)} 份报告有空白（未填写）或不是有效数字（如填了“无”）的单元格，"
             f"共 {sum(i.blanks for i in with_blanks)} 处，已按 0 计入汇总："]
    for i in sorted(with_blanks, key=lambda i: i.name):
        lines.append(f"  「{i.agency or i.name}」{i.blanks} 处（{i.name}）")
    return lines
