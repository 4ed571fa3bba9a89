"""One file handed to `collect` or `aggregate` and what became of it: what reading it said (filled
in a worker process, small and picklable), then its status and the agency it was attributed to.

While a run goes on, the parent keeps only this record per file: the figures and findings a
worker sends are written to the run's spill file (`has_report`, `offset`) and dropped here, so
memory does not grow with the figures of 150,000 files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..format.numbers import Number
from .status import Status

# The identity a template carries (model.meta), kept as text.
IDENTITY_KEYS = ("format", "format_version", "fingerprint", "agency", "code", "year")


@dataclass(slots=True)
class FileRecord:
    seq: int  # order found (the walk is deterministic)
    name: str  # display path, "a.zip!b/c.xlsx"
    size: int | None = None
    sha256: str = ""
    kind: str = ""  # the reader's kind, or "archive" / "refused" / "output" (an earlier run's) / "system" / "internal"
    reason: str = ""  # why unusable (Chinese), from the first error finding or the walker
    identity: dict[str, str] = field(default_factory=dict)  # IDENTITY_KEYS, as text
    saved_at: str = ""  # ISO 8601, as the workbook says
    application: str = ""
    errors: int = 0
    warnings: int = 0
    archive: int | None = None  # files listed inside, for an archive that was opened
    has_report: bool = False  # the figures could be read
    # figures and findings travel from the worker to the parent, which spills and drops them
    figures: dict[str, Number | None] | None = field(default=None, repr=False)
    findings: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # or, from a collect worker, both packed for the spill file as they are (collect.collection.Spill)
    payload: bytes = field(default=b"", repr=False)
    offset: int = -1  # of its figures and findings in the spill file
    reason_in_findings: bool = False  # the reason is the message of one of the findings
    docx: str = ""  # staged .docx, for a report without errors (collect --docx)
    docx_problem: str = ""
    previous_file: str = ""  # --previous: last year's report compared with (its path there)
    previous_note: str = ""  # --previous: why the cross-year rules did not run, if they did not
    # what collect decided
    status: Status | None = None
    roster: int | None = None  # index of the roster agency it is attributed to
    candidates: tuple[int, ...] = ()  # roster agencies its name may mean, when it is not attributed
    match: str = ""  # BY_IDENTITY | BY_NAME
    note: str = ""
    # what aggregate decided
    used: bool = False  # summed
    sources: tuple[tuple[str, str], ...] = ()  # (agency, code) summed in it, for an aggregate JSON
    blanks: int = 0  # blank input cells summed as 0

    @property
    def agency(self) -> str:
        return self.identity.get("agency", "")

    @property
    def code(self) -> str:
        return self.identity.get("code", "")

    @property
    def format(self) -> str:
        return self.identity.get("format", "")

    @property
    def year(self) -> int | None:
        text = self.identity.get("year", "")
        return int(text) if text.isdigit() else None

    @property
    def internal(self) -> bool:
        """A bug of ours kept this file from being read (exit status 4)."""
        return self.kind == "internal"


# What a collect worker's record says besides its figures and findings, in this order: the record
# as the spill file keeps it (collect.collection.Spill), a tuple without field names.
SPILLED_FIELDS = tuple(f for f in FileRecord.__slots__ if f not in ("figures", "findings", "payload"))


def newest_key(saved_at: str, name: str) -> tuple[float, str]:
    """Sort key for "the newest file": the workbook's own save time (files without one count as
    the oldest), then the file name, so that the choice never depends on the order of reading."""
    ts = float("-inf")
    if saved_at:
        try:
            when = dt.datetime.fromisoformat(saved_at.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            ts = when.timestamp()
        except ValueError:
            pass
    return (ts, name)


# Reasons are written to follow a file name ("“x.xlsx”是纯文本文件…"); others get a colon.
_CONTINUES = ("是", "的", "在", "使用", "解压", "无法", "有", "与", "（")


def quoted_reason(name: str, reason: str) -> str:
    """“name”reason, or “name”：reason when the reason does not continue the name."""
    return f"“{name}”{reason}" if reason.startswith(_CONTINUES) else f"“{name}”：{reason}"


__all__ = ["IDENTITY_KEYS", "SPILLED_FIELDS", "FileRecord", "newest_key", "quoted_reason"]
