"""问题通知 of a collect run: one for every roster agency whose return has errors or warnings
(written by write.notice), staged with the other outputs and moved into OUTDIR/问题通知, where
the notices an earlier run wrote for agencies that have since sent a good file are removed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..model.record import FileRecord, quoted_reason
from ..model.status import Status
from ..util.timefmt import now_local
from ..write.notice import DEADLINE_COLUMNS, NOTICE_DIR, Notice, notice_docx, unique_filenames
from .classify import AgencyStatus
from .collection import Collection


def _date(collection: Collection) -> dt.date:
    try:
        return dt.datetime.fromisoformat(collection.generated_at).date()
    except (TypeError, ValueError):
        return now_local().date()


def _noticed(collection: Collection) -> list[tuple[AgencyStatus, FileRecord]]:
    """Every roster agency 有错误 or 有警告, with the file its notice is about."""
    out = []
    for agency in collection.agencies:
        if agency.status not in (Status.ERR, Status.WARN):
            continue
        rec = agency.file if agency.file is not None else (agency.files[0] if agency.files else None)
        if rec is not None:
            out.append((agency, rec))
    return out


def _notice(collection: Collection, agency: AgencyStatus, rec: FileRecord, when: dt.date, office: str, contact: str,
            deadline: str) -> Notice:
    spill = collection.spill
    findings = spill.findings(rec) if (spill is not None and (rec.errors or rec.warnings)) else []
    reason = ""
    if agency.file is None:  # only unusable files: the first one's reason
        reason = "" if rec.reason_in_findings and findings else quoted_reason(rec.name, rec.reason)
        if len(agency.files) > 1:
            reason += "另有：" + "、".join(f"“{r.name}”" for r in agency.files[1:]) + "，同样无法使用。"
    row = agency.row
    return Notice(
        agency=row.agency, file=rec.name, sha256=rec.sha256, saved_at=rec.saved_at, year=collection.year,
        findings=findings, reason=reason,
        deadline=deadline or next((row.extra[c] for c in DEADLINE_COLUMNS if row.extra.get(c)), ""),
        office=office, contact=contact, date=when)


def stage_notices(collection: Collection, staging: Path, *, office: str = "", contact: str = "",
                  deadline: str = "") -> list[str]:
    """Write the notices of a collect run to staging/问题通知 and set each agency's `notice`; the
    returned paths (relative to OUTDIR) are moved into place by move_notices. Each notice is made
    as it is written: a season's notices and their findings are never all in memory at once."""
    chosen = _noticed(collection)
    names = unique_filenames([a.row.agency for a, _ in chosen], [a.row.code for a, _ in chosen])
    when = _date(collection)
    written: list[str] = []
    folder = staging / NOTICE_DIR
    if chosen:
        folder.mkdir(exist_ok=True)
    for (agency, rec), name in zip(chosen, names, strict=True):
        # written as it is: the staging folder is this run's own, and move_notices moves each
        # complete file into place (no temporary name and rename per notice)
        with open(folder / name, "xb") as fh:
            fh.write(notice_docx(_notice(collection, agency, rec, when, office, contact, deadline)))
        agency.notice = f"{NOTICE_DIR}/{name}"
        written.append(agency.notice)
    return written


def move_notices(outdir: Path, staging: Path, written: Sequence[str]) -> None:
    """Move the staged notices into OUTDIR/问题通知 and remove the ones an earlier run wrote there
    that this run did not (that agency has since sent a good file)."""
    target = Path(outdir) / NOTICE_DIR
    if written and not target.exists():
        try:  # the first run into OUTDIR: the staged folder, which holds exactly these, as a whole
            (staging / NOTICE_DIR).replace(target)
            return
        except OSError:  # made meanwhile, or a system that does not replace folders: one by one
            pass
    for rel in written:
        target.mkdir(exist_ok=True)
        (staging / rel).replace(Path(outdir) / rel)
    if target.is_dir():
        kept = set(written)
        for old in target.glob("*_问题通知*.docx"):
            if f"{NOTICE_DIR}/{old.name}" not in kept:
                old.unlink(missing_ok=True)
