"""The result of a collect run, enough to render every output: the files and agencies with their
statuses, the totals, and the spill file that holds every file's figures and findings."""

from __future__ import annotations

import operator
import pickle
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..format.numbers import Number
from ..format.spec import FormatSpec
from ..model.record import SPILLED_FIELDS, FileRecord
from ..model.status import ACCEPTED, AGENCY_STATUSES, FILE_STATUSES, Status
from .classify import AgencyStatus
from .worker import field_ids

# ---------------------------------------------------------------------------------------------
# The spill file and the totals


class Spill:
    """Every file's record, figures and findings, pickled, read back by offset: the parent of a
    collect run keeps nothing of a file while the files are read. An internal temporary file of
    this run only (pickle is exact for Decimals and fast). Figures and findings are (format id,
    figures, findings): figures as a tuple in the order of the format's fields (as the workers
    pack them, worker.pack) or, with no format id, as a dict or None."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._end = 0
        self._at_end = True
        self._pickers: dict[tuple[str, tuple[str, ...]], Callable[[tuple], tuple] | None] = {}

    def append(self, figures: Mapping[str, Number | None] | None, findings: list[dict[str, Any]]) -> int:
        return self.append_packed(pickle.dumps(("", figures, findings), protocol=pickle.HIGHEST_PROTOCOL))

    def append_packed(self, data: bytes) -> int:
        """Append a record packed by a worker, as it is."""
        offset = self._end
        if not self._at_end:
            self._fh.seek(offset)
            self._at_end = True
        self._fh.write(len(data).to_bytes(4, "little") + data)
        self._end += 4 + len(data)
        return offset

    def append_record(self, data: bytes) -> int:
        """Append a whole record as a worker packed it (worker.packed_item: the record's fields,
        then its figures and findings as append_packed writes them); its offset for record()."""
        offset = self._end
        if not self._at_end:
            self._fh.seek(offset)
            self._at_end = True
        self._fh.write(data)
        self._end += len(data)
        return offset

    def record(self, offset: int) -> FileRecord:
        """The record appended at `offset` by append_record, without its figures and findings
        (its `offset` is theirs). Texts that many records carry alike are kept once."""
        self._at_end = False
        self._fh.seek(offset)
        size = int.from_bytes(self._fh.read(4), "little")
        values = pickle.loads(self._fh.read(size))
        rec = FileRecord(**dict(zip(SPILLED_FIELDS, values, strict=True)))
        rec.offset = offset + 4 + size
        rec.identity = {k: _shared(k, v) for k, v in rec.identity.items()}
        rec.kind, rec.application = sys.intern(rec.kind), sys.intern(rec.application)
        return rec

    def _load(self, offset: int) -> tuple[str, Any, list[dict[str, Any]]]:
        self._at_end = False
        self._fh.seek(offset)
        size = int.from_bytes(self._fh.read(4), "little")
        return pickle.loads(self._fh.read(size))

    def _read(self, offset: int) -> tuple[dict[str, Number | None] | None, list[dict[str, Any]]]:
        fmt, figures, findings = self._load(offset)
        if fmt:
            figures = dict(zip(field_ids(fmt), figures, strict=True))
        return figures, findings

    def values(self, rec: FileRecord, ids: tuple[str, ...]) -> tuple[Number | None, ...]:
        """figures(rec)[id] (None where it has none) for each of `ids`, without making the dict
        where the figures are packed in their format's order."""
        fmt, figures, _ = self._load(rec.offset)
        if fmt:
            pick = self._pickers.get((fmt, ids), False)
            if pick is False:
                pick = self._pickers[fmt, ids] = _picker(field_ids(fmt), ids)
            if pick is not None and len(figures) == len(field_ids(fmt)):
                return pick(figures)
            figures = dict(zip(field_ids(fmt), figures, strict=True))
        figures = figures or {}
        return tuple(figures.get(i) for i in ids)

    def items(self, rec: FileRecord) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        """The ids and the values of figures(rec), in its order, as two tuples (without making
        the dict where the figures are packed in their format's order)."""
        fmt, figures, _ = self._load(rec.offset)
        if fmt:
            ids = field_ids(fmt)
            if len(ids) != len(figures):
                raise ValueError(f"{len(figures)} figures packed for the {len(ids)} fields of {fmt}")
            return ids, figures
        figures = figures or {}
        return tuple(figures), tuple(figures.values())

    def figures(self, rec: FileRecord) -> dict[str, Number | None]:
        return self._read(rec.offset)[0] or {}

    def findings(self, rec: FileRecord) -> list[dict[str, Any]]:
        return self._load(rec.offset)[2]

    def close(self) -> None:
        self._fh.close()


def _picker(order: tuple[str, ...], ids: tuple[str, ...]) -> Callable[[tuple], tuple] | None:
    """The values of `ids` from figures packed in `order`; None unless every id is in `order`."""
    where = {fid: i for i, fid in enumerate(order)}
    if not ids or any(fid not in where for fid in ids):
        return None
    if tuple(order) == ids:
        return tuple
    pick = operator.itemgetter(*(where[fid] for fid in ids))
    return pick if len(ids) > 1 else lambda figures: (pick(figures),)


def _shared(key: str, value: str) -> str:
    """Identity texts that many files carry alike (the format, its version, the template's
    fingerprint, the year) are kept once."""
    return value if key in ("agency", "code") else sys.intern(value)


@dataclass
class Collection:
    """The result of a collect run, enough to render every output."""

    spec: FormatSpec
    root: str
    roster_path: str
    year: int | None
    year_inferred: bool
    files: list[FileRecord]
    agencies: list[AgencyStatus]
    spill: Spill | None
    totals: dict[str, Number | None]
    total_count: int  # agencies summed into the totals
    generated_at: str
    outdir: Path
    docx: list[str] = field(default_factory=list)
    docx_requested: bool = False
    docx_missing: list[tuple[str, str]] = field(default_factory=list)  # (agency, why no Word report)
    files_found: int = 0
    notices: list[str] = field(default_factory=list)

    # -- counts and the summary

    def counts(self) -> dict[Status, int]:
        c = Counter(a.status for a in self.agencies)
        return {s: c.get(s, 0) for s in AGENCY_STATUSES}

    def file_counts(self) -> dict[Status, int]:
        c = Counter(r.status for r in self.files)
        return {s: c.get(s, 0) for s in FILE_STATUSES}

    @property
    def missing(self) -> list[AgencyStatus]:
        return [a for a in self.agencies if a.status == Status.MISSING]

    @property
    def ok(self) -> bool:
        """Every roster agency submitted, and nothing submitted has errors (exit status 0)."""
        return all(a.status in ACCEPTED for a in self.agencies) and not self.internal

    @property
    def internal(self) -> list[FileRecord]:
        """Files a bug of ours kept from being checked (exit status 4)."""
        return [r for r in self.files if r.status == Status.INTERNAL]

    def summary_lines(self, max_names: int | None = 20) -> list[str]:
        c = self.counts()
        expected = len(self.agencies)
        submitted = expected - c[Status.MISSING]
        line = (f"应交 {expected} 家，已交 {submitted} 家：{Status.OK.label} {c[Status.OK]}，{Status.WARN.label} "
                f"{c[Status.WARN]}，{Status.ERR.label} {c[Status.ERR]}；{Status.MISSING.label} {c[Status.MISSING]} 家")
        missing = [a.row.agency for a in self.missing]
        if missing:
            cut = len(missing) if max_names is None else max_names
            shown = "、".join(missing[:cut]) + (f" 等 {len(missing)} 家" if len(missing) > cut else "")
            line += f"：{shown}。"
        else:
            line += "。"
        fc = self.file_counts()
        inside = sum(1 for r in self.files if "!" in r.name)
        files = f"共找到 {len(self.files)} 个文件" + (f"（其中压缩包内 {inside} 个）" if inside else "")
        extra = [f"{s.label} {fc[s]}" for s in (Status.DUPLICATE, Status.UNREADABLE, Status.INTERNAL, Status.FOREIGN, Status.ARCHIVE) if fc[s]]
        if fc[Status.SYSTEM]:
            extra.append(f"{Status.SYSTEM.label} {fc[Status.SYSTEM]}（已忽略）")
        unplaced = len(self.unattributed())
        if unplaced:
            extra.append(f"无法对应到机关 {unplaced}")
        files += ("：" + "，".join(extra) + "。") if extra else "。"
        lines = [line, files]
        if self.year is not None:
            lines.append(f"报告年度：{self.year}" + ("（按收到的文件推断，可用 --year 指定）" if self.year_inferred else ""))
        return lines

    # -- iteration for the renderers (roster order, then unattributed files by path)

    def ordered_files(self) -> list[FileRecord]:
        return sorted(self.files, key=lambda r: (r.roster if r.roster is not None else len(self.agencies), r.seq))

    def unattributed(self) -> list[FileRecord]:
        """Files that are returns of nobody on the roster (archives, system files and an earlier
        run's outputs aside): "无法对应到机关的文件"."""
        return [r for r in self.files if r.roster is None and r.status not in (Status.ARCHIVE, Status.SYSTEM) and r.kind != "output"]

    def unattributed_reason(self, rec: FileRecord) -> str:
        text = rec.note or rec.reason
        agency = rec.identity.get("agency", "")
        if rec.candidates or "不在本次名单中" in text or "对应不上" in text:
            return text
        if agency:
            return text + f"模板中的机关“{agency}”不在名单中。"
        return text + ("" if text.endswith("。") or not text else "。") + "文件名中没有名单中的机关名称。"

    def problem_files(self) -> list[FileRecord]:
        """The files 问题清单 is about, in roster order: each agency's adopted file, or (an agency
        that sent only unusable files) those files. Superseded drafts are not among them."""
        out: list[FileRecord] = []
        for agency in self.agencies:
            out += [agency.file] if agency.file is not None else agency.files
        return out

    def iter_used_figures(self) -> Iterator[tuple[AgencyStatus, dict[str, Number | None]]]:
        for agency in self.agencies:
            if agency.file is not None and agency.file.has_report and self.spill is not None:
                yield agency, self.spill.figures(agency.file)

    def iter_used_values(self, ids: tuple[str, ...]) -> Iterator[tuple[AgencyStatus, tuple[Number | None, ...]]]:
        """iter_used_figures, with the values of `ids` in that order (Spill.values)."""
        for agency in self.agencies:
            if agency.file is not None and agency.file.has_report and self.spill is not None:
                yield agency, self.spill.values(agency.file, ids)

    def finding_count(self) -> int:
        return sum(r.errors + r.warnings for r in self.files)

    def used_count(self) -> int:
        return sum(1 for a in self.agencies if a.file is not None and a.file.has_report)
