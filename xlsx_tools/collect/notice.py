"""问题通知 of a collect run: one for every roster agency whose return has errors or warnings
(written by write.notice), staged with the other outputs and moved into OUTDIR/问题通知, where
the notices an earlier run wrote for agencies that have since sent a good file are removed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..model.record import quoted_reason
from ..model.status import Status
from ..util.timefmt import now_local
from ..write.notice import DEADLINE_COLUMNS, NOTICE_DIR, Notice, unique_filenames, write_notice
from .classify import AgencyStatus
from .collection import Collection


def collection_notices(collection: Collection, *, office: str = "", contact: str = "", deadline: str = "") -> list[tuple[AgencyStatus, Notice]]:
    """(agency status, notice) for every roster agency 有错误 or 有警告 in a collect run."""
    spill = collection.spill
    when = now_local().date()
    try:
        when = dt.datetime.fromisoformat(collection.generated_at).date()
    except (TypeError, ValueError):
        pass
    out = []
    for agency in collection.agencies:
        if agency.status not in (Status.ERR, Status.WARN):
            continue
        rec = agency.file if agency.file is not None else (agency.files[0] if agency.files else None)
        if rec is None:
            continue
        findings = spill.findings(rec) if (spill is not None and (rec.errors or rec.warnings)) else []
        reason = ""
        if agency.file is None:  # only unusable files: the first one's reason
            reason = "" if rec.reason_in_findings and findings else quoted_reason(rec.name, rec.reason)
            if len(agency.files) > 1:
                reason += "另有：" + "、".join(f"“{r.name}”" for r in agency.files[1:]) + "，同样无法使用。"
        row = agency.row
        out.append((agency, Notice(
            agency=row.agency, file=rec.name, sha256=rec.sha256, saved_at=rec.saved_at, year=collection.year,
            findings=findings, reason=reason,
            deadline=deadline or next((row.extra[c] for c in DEADLINE_COLUMNS if row.extra.get(c)), ""),
            office=office, contact=contact, date=when)))
    return out


def stage_notices(collection: Collection, staging: Path, *, office: str = "", contact: str = "",
                  deadline: str = "") -> list[str]:
    """Write the notices of a collect run to staging/问题通知 and set each agency's `notice`; the
    returned paths (relative to OUTDIR) are moved into place by move_notices."""
    items = collection_notices(collection, office=office, contact=contact, deadline=deadline)
    names = unique_filenames([a.row.agency for a, _ in items], [a.row.code for a, _ in items])
    written: list[str] = []
    for (agency, notice), name in zip(items, names, strict=True):
        write_notice(notice, staging / NOTICE_DIR / name)
        agency.notice = f"{NOTICE_DIR}/{name}"
        written.append(agency.notice)
    return written


def move_notices(outdir: Path, staging: Path, written: Sequence[str]) -> None:
    """Move the staged notices into OUTDIR/问题通知 and remove the ones an earlier run wrote there
    that this run did not (that agency has since sent a good file)."""
    target = Path(outdir) / NOTICE_DIR
    for rel in written:
        target.mkdir(exist_ok=True)
        (staging / rel).replace(Path(outdir) / rel)
    if target.is_dir():
        for old in target.glob("*_问题通知*.docx"):
            if f"{NOTICE_DIR}/{old.name}" not in written:
                old.unlink(missing_ok=True)
