"""Collect the returns of a roster: walk a folder (and the zip archives in it, opened in memory),
read and check every file in a pool of processes, match each file to a roster agency by the
identity the template carries, decide the status of every agency and every file, and write
收集情况.xlsx and collect.json (and, on request, each accepted agency's .docx).

Memory stays flat in the number of files while they are read: workers send each file's record,
figures and findings packed, the parent appends them unread to a spill file in a staging folder
inside OUTDIR and keeps two integers a file; once the workers are stopped, the records (without
figures and findings, about 1.5 KB a file) are read back to decide the statuses and write the
outputs, which read the figures and findings from the spill file as they go. Outputs are built in the staging folder and moved into place, so an
interrupted run leaves either the previous complete outputs or the new complete ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..format.spec import FormatSpec, load_format
from ..model.aggregate import Aggregator
from ..model.identity import identity_keys
from ..model.record import FileRecord, newest_key
from ..model.report import Agency, Provenance, Report, loads
from ..model.status import ACCEPTED, Status
from ..read.roster import RosterRow
from ..util import fsutil
from ..util.fsutil import os_error_text
from ..util.timefmt import now_local
from .archive import ARCHIVES
from .classify import CollectError, RosterIndex, classify, infer_year, roster_loader
from .collect_json import write_collect_json
from .collection import Collection, Spill
from .notice import move_notices, stage_notices
from .walk import (
    DEFAULT_ARCHIVE_LIMITS,
    DOCX_DIR,
    NOTICE_DIR,
    OUTPUT_JSON,
    OUTPUT_XLSX,
    STAGING_PREFIX,
    ArchiveLimits,
    Walker,
    collect_output,
    is_zip_name,
    open_chain,
    walk,
)
from .workbook import write_collect_workbook
from .worker import Pool, ReadOptions, is_blank, read_items, save_previous

# ---------------------------------------------------------------------------------------------
# The run


ProgressCallback = Callable[[int, int], None]  # (files read, files found so far)


def _stale_staging(outdir: Path) -> None:
    """Remove staging folders that interrupted runs left behind (their process is gone)."""
    for entry in outdir.glob(STAGING_PREFIX + "*"):
        if not entry.is_dir():
            continue
        pid_text = entry.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if pid_text.isdigit() and _alive(int(pid_text), entry):
            continue
        shutil.rmtree(entry, ignore_errors=True)


STALE_AFTER = 24 * 3600  # seconds, where a process cannot be probed


def _alive(pid: int, folder: Path) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        # os.kill(pid, 0) would terminate the process on Windows: judge by the folder's age
        try:
            return time.time() - folder.stat().st_mtime < STALE_AFTER
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def index_previous(folder: Path, jobs: int | Pool = 1,
                   limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS) -> dict[str, Report]:
    """Last year's returns (.xlsx, read in the pool) and Report .json files under `folder`, zip
    archives included, by roster key ("code:…", "name:…"); for an agency with several, the
    newest. Each is read once, here, and kept as a Report without its narrative. Files that are
    not a report are ignored: last year's folder is only a help."""
    files = [i for i in walk(folder, limits=limits) if i.archive is None and i.problem is None]
    found: list[tuple[tuple[float, str], Report]] = []
    workbooks = (i for i in files if i.name.lower().endswith(".xlsx"))
    reads = jobs.read(workbooks, ReadOptions(limits=limits)) if isinstance(jobs, Pool) else \
        read_items(workbooks, ReadOptions(limits=limits), jobs)
    for res in reads:
        ident = res.identity
        if res.figures is None or not ident.get("year", "").isdigit():
            continue
        report = Report(format=ident.get("format", ""), agency=Agency(ident.get("agency", ""), ident.get("code", "")),
                        year=int(ident["year"]), figures=res.figures, provenance=Provenance(source=res.name))
        found.append((newest_key(res.saved_at, res.name), report))
    try:
        for item in files:
            if item.name.lower().endswith(".json"):
                try:
                    data = (open_chain(item.path, item.members, limits) if item.members
                            else fsutil.read_regular(item.path, limits.member.max_file_bytes))
                    report = Report.from_json(data.decode("utf-8-sig"))
                    report.narrative, report.contact = {}, {}
                    report.provenance.source = item.name
                    found.append((newest_key(report.provenance.saved_at or "", item.name), report))
                except Exception:  # not one of our reports, or broken: last year's folder is only a help
                    continue
    finally:
        ARCHIVES.close()
    out: dict[str, Report] = {}
    # oldest first, the newest overwrites; a blank template never wins over a filled report
    for _, report in sorted(found, key=lambda t: (not is_blank(t[1].figures), t[0])):
        for key in identity_keys(report.agency.name, report.agency.code):
            out[key] = report
    return out


def _same_path(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def check_previous_year(prev_index: Mapping[str, Report], year: int, previous: Path) -> None:
    """CollectError when the reports found for --previous are mostly of `year` or later: the
    folder given is this year's (or the next), and every agency would get a PREV_OTHER_YEAR."""
    years = Counter(r.year for r in {id(r): r for r in prev_index.values()}.values())
    if not years:
        return
    found = max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]
    if found < year:
        return
    what = "与本次收集的年度相同" if found == year else f"晚于本次收集的 {year} 年度"
    raise CollectError(f"--previous 指定的文件夹「{previous}」中是 {found} 年度的报告，{what}。"
                       f"请指定上一年度（{year - 1} 年度）退回文件（或导出的 .json）所在的文件夹。")


def collect(
    root: str | Path,
    roster: str | Path | Sequence[RosterRow],
    outdir: str | Path,
    *,
    year: int | None = None,
    previous: str | Path | None = None,
    jobs: int | None = None,
    docx: bool = False,
    blank_as_zero: bool = False,
    spec: FormatSpec | None = None,
    progress: ProgressCallback | None = None,
    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
    now: dt.datetime | None = None,
    notices: bool = True,
    office: str = "",
    contact: str = "",
    deadline: str = "",
) -> Collection:
    """Collect the returns under `root` against `roster` into `outdir`. Raises CollectError for
    usage problems; everything about the files themselves is in the outputs."""
    spec = spec or load_format()
    root = Path(root)
    if not root.exists():
        raise CollectError(f"找不到文件夹 {root}。")
    if not (root.is_dir() or is_zip_name(root.name)):
        raise CollectError(f"{root} 不是文件夹：请指定存放退回文件的文件夹。")
    if isinstance(roster, str | Path):
        roster_path = str(roster)
        roster_rows = roster_loader(roster, spec)  # checked now, parsed again once the files are read
    else:
        roster_path = ""
        rows = list(roster)
        if not rows:
            raise CollectError("名单中没有机关。")
        roster_rows = lambda: rows  # noqa: E731
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CollectError(f"无法创建输出文件夹 {outdir}：{os_error_text(e)}。") from None
    if not outdir.is_dir():
        raise CollectError(f"输出位置 {outdir} 不是文件夹。")
    prev_index: dict[str, Report] = {}
    if previous is not None:
        previous = Path(previous)
        if not previous.is_dir():
            raise CollectError(f"找不到上一年度的文件夹 {previous}。")
        if _same_path(previous, root):
            raise CollectError(f"--previous 指定的文件夹「{previous}」就是本次收集的文件夹。"
                               "请指定上一年度退回文件（或导出的 .json）所在的文件夹。")
    _refuse_overwrite(outdir, root, roster_path, previous, docx=docx, notices=notices)
    with Pool(max(1, jobs or os.cpu_count() or 1)) as pool:  # started once, for last year's files too
        if previous is not None:
            prev_index = index_previous(previous, pool, limits)
            if year is not None:
                check_previous_year(prev_index, year, previous)
        _stale_staging(outdir)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=outdir))
        try:
            return _run(root, roster_path, roster_rows, outdir, staging, spec=spec, year=year, previous=previous,
                        prev_index=prev_index, pool=pool, docx=docx, blank_as_zero=blank_as_zero, progress=progress,
                        limits=limits, now=now,
                        notices={"office": office, "contact": contact, "deadline": deadline} if notices else None)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _refuse_overwrite(outdir: Path, root: Path, roster: str, previous: Path | None, *, docx: bool,
                      notices: bool) -> None:
    """CollectError when an output would replace an input: the roster, a file of last year's
    folder, a return in the collected folder (unless it is an earlier run's output there)."""
    inputs: list[Path] = [p for p in (Path(roster) if roster else None, previous) if p is not None]
    if not collect_output(outdir):
        inputs.append(root)
    files = [outdir / OUTPUT_XLSX, outdir / OUTPUT_JSON]
    folders = [outdir / d for d, on in ((DOCX_DIR, docx), (NOTICE_DIR, notices)) if on]
    if clash := fsutil.output_clash(files + folders, inputs):
        raise CollectError(clash)
    for folder in folders:
        if folder.exists() and fsutil.is_within(root, folder):
            raise CollectError(f"本次收集的文件夹「{root}」在输出的“{folder.name}”文件夹中，写入 Word 文件会覆盖或删除其中的文件。"
                               "请用 -o 另选输出文件夹。")


def _run(root: Path, roster_path: str, roster_rows: Callable[[], Sequence[RosterRow]], outdir: Path, staging: Path, *, spec: FormatSpec,
         year: int | None, previous: Path | None, prev_index: dict[str, Report], pool: Pool, docx: bool, blank_as_zero: bool,
         progress: ProgressCallback | None, limits: ArchiveLimits, now: dt.datetime | None,
         notices: dict[str, str] | None = None) -> Collection:
    exclude = [outdir / OUTPUT_XLSX, outdir / OUTPUT_JSON, outdir / DOCX_DIR, outdir / NOTICE_DIR, staging]
    exclude += list(outdir.glob(STAGING_PREFIX + "*"))
    if roster_path:
        exclude.append(Path(roster_path))
    walker = Walker([root], exclude, limits)
    docx_stage = staging / "docx"
    if docx:
        docx_stage.mkdir()
    # last year's reports reach the workers through a file (they were started before it existed)
    in_file = pool.jobs > 1 and bool(prev_index)
    options = ReadOptions(limits=limits, blank_as_zero=blank_as_zero, docx_dir=str(docx_stage) if docx else "",
                          previous={} if in_file else prev_index, pack=True,
                          previous_file=save_previous(prev_index, staging / "previous.bin") if in_file else "")
    spill = Spill(staging / "spill.bin")
    try:
        offsets = _read_all(walker, options, pool, spill, progress)
        pool.close()
        records = _records(spill, offsets)
        del offsets
        # the roster's rows and their index (name variants), about 0.9 KB an agency, once the
        # workers are gone: while they read, the parent holds nothing that grows with the roster
        index = RosterIndex(roster_rows())
        year_inferred = year is None
        if year is None:
            year = infer_year(records, index, spec.id)
            if year is not None and previous is not None:
                check_previous_year(prev_index, year, previous)
        agencies = classify(records, index, year=year, format_id=spec.id)
        del index  # its memory is used again for the outputs
        totals = Aggregator(spec)
        for agency in agencies:
            if agency.status in ACCEPTED and agency.file is not None:
                totals.add(spill.figures(agency.file))
        generated = (now or now_local()).replace(microsecond=0).isoformat()  # ISO 8601, UTC+8
        collection = Collection(
            spec=spec, root=str(root), roster_path=roster_path, year=year, year_inferred=year_inferred, files=records,
            agencies=agencies, spill=spill, totals=totals.figures(), total_count=totals.count,
            generated_at=generated, outdir=outdir, files_found=walker.count,
        )
        # the long sheets compressed in a thread of their own only where the pool had more than
        # one core: with -j 1 that thread's hand-overs cost about 0.09 s CPU per 1,000 agencies
        _write_outputs(collection, staging, docx=docx, notices=notices, behind=pool.jobs > 1)
    finally:
        spill.close()
    collection.spill = None
    return collection


def _read_all(walker: Walker, options: ReadOptions, pool: Pool, spill: Spill,
              progress: ProgressCallback | None) -> array:
    """Every file the walk finds, read in the pool; each file's record, figures and findings go
    to the spill file as they arrive (worker.packed_item), and the parent keeps only where: the
    spill offsets in the order the files were found."""
    found = array("q")  # seq, offset, seq, offset ...
    for seq, data in pool.read_packed(walker, options):
        found.append(seq)
        found.append(spill.append_record(data))
        if progress is not None:
            progress(len(found) // 2, walker.count)
    offsets = array("q", [-1]) * walker.count
    for i in range(0, len(found), 2):
        offsets[found[i]] = found[i + 1]
    if len(found) // 2 != walker.count or -1 in offsets:  # the promise of the tool: nothing found goes unreported
        raise RuntimeError(f"found {walker.count} files but have {len(found) // 2} results")
    return offsets


def _records(spill: Spill, offsets: array) -> list[FileRecord]:
    """The records of the files read, in the order found (once the workers are gone)."""
    return [spill.record(offset) for offset in offsets]


def _write_outputs(collection: Collection, staging: Path, *, docx: bool, notices: dict[str, str] | None,
                   behind: bool) -> None:
    """The outputs, built in the staging folder and moved into place."""
    outdir = collection.outdir
    if docx:
        _place_docx(collection, staging)
    if notices is not None:
        collection.notices = stage_notices(collection, staging, **notices)
    xlsx_tmp = staging / OUTPUT_XLSX
    write_collect_workbook(collection, xlsx_tmp, behind=behind)
    json_tmp = staging / OUTPUT_JSON
    write_collect_json(collection, json_tmp)
    os.replace(xlsx_tmp, outdir / OUTPUT_XLSX)
    os.replace(json_tmp, outdir / OUTPUT_JSON)
    if notices is not None:
        move_notices(outdir, staging, collection.notices)


def _place_docx(collection: Collection, staging: Path) -> None:
    """Move the staged .docx of every accepted agency into OUTDIR/年度报告/, named as the docx
    command names it (the report's title: agency + 年度报告 title); two agencies whose names give
    one file name on Windows/macOS (case, width, characters replaced) get "（2）" … rather than
    overwrite each other. Every roster agency without a Word report is listed with the reason.
    Remove the files an earlier run wrote for agencies that are no longer accepted."""
    target_dir = collection.outdir / DOCX_DIR
    written: list[str] = []
    taken: set[str] = set()
    missing: list[tuple[str, str]] = []
    title = collection.spec.report_title.format(year=collection.year) if collection.year else ""
    for agency in collection.agencies:
        rec = agency.file
        if agency.status not in ACCEPTED or rec is None:
            why = (Status.MISSING.label if agency.status == Status.MISSING
                   else f"{agency.status.label}，改正后重新收集才会生成")
            missing.append((agency.row.agency, why))
            continue
        if not rec.docx:
            problem = rec.docx_problem or "未生成 Word 报告"
            if rec.docx_problem:
                agency.note = (agency.note + "；" if agency.note else "") + rec.docx_problem
            missing.append((agency.row.agency, problem.removeprefix("未生成 Word 报告：")))
            continue
        target_dir.mkdir(exist_ok=True)
        stem = fsutil.safe_filename((rec.identity.get("agency") or agency.row.agency) + title)
        name = fsutil.unique_name(stem + ".docx", lambda n, stem=stem: f"{stem}（{n}）.docx", taken)
        if name != stem + ".docx":
            agency.note = (agency.note + "；" if agency.note else "") + \
                f"Word 报告的文件名与另一机关的相同，已命名为“{name}”"
        os.replace(rec.docx, target_dir / name)
        agency.docx = f"{DOCX_DIR}/{name}"
        written.append(agency.docx)
    for old in _previous_docx(collection.outdir):
        if old not in written and old.startswith(DOCX_DIR + "/"):
            with contextlib.suppress(OSError):
                (collection.outdir / old).unlink()
    collection.docx = written
    collection.docx_requested = True
    collection.docx_missing = missing


def _previous_docx(outdir: Path) -> list[str]:
    try:
        data = loads((outdir / OUTPUT_JSON).read_text(encoding="utf-8"))
        return [str(p) for p in data.get("docx", []) if isinstance(p, str) and "/" in p and ".." not in p]
    except (OSError, ValueError, AttributeError):
        return []
