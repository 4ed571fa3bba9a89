"""Reading one file, in a worker process: the file's bytes (from disk or from inside its archives)
through the reader and the checks, the cross-year rules against last year's report
(--previous), its .docx staged (--docx); the answer is one FileRecord, never an exception. And
the pool that runs it over the walk."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import multiprocessing
import os
import pickle
import signal
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import checks
from ..format.errors import FormatError
from ..format.numbers import Number
from ..format.spec import load_format
from ..model.findings import ERROR, Finding
from ..model.identity import identity_keys
from ..model.record import IDENTITY_KEYS, SPILLED_FIELDS, FileRecord
from ..model.report import Report
from ..read.reader import read_and_check
from ..read.resilience import cross_year_failed
from ..read.safezip import MemberTooLarge
from ..util import fsutil
from ..util.fsutil import os_error_text
from ..util.lazy import lazy_import
from .archive import ARCHIVES
from .walk import DEFAULT_ARCHIVE_LIMITS, ArchiveLimits, Item, bomb_note, open_chain

# python-docx only in a worker that writes a Word report (collect --docx): every worker would
# otherwise carry it
docx_report = lazy_import("xlsx_tools.write.docx_report")


@dataclass(frozen=True)
class ReadOptions:
    """How to read the files; small, sent with the files to the pool's workers."""

    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS
    blank_as_zero: bool = False
    docx_dir: str = ""  # where workers stage .docx files ("" = none)
    previous: Mapping[str, Report] = field(default_factory=dict)  # roster key -> last year's report
    # the same, pickled in a file each worker loads once: the pool is started before it exists
    previous_file: str = ""
    pack: bool = False  # figures and findings sent as FileRecord.payload, ready for the spill file


def _previous(options: ReadOptions) -> Mapping[str, Report]:
    if options.previous or not options.previous_file:
        return options.previous
    return _load_previous(options.previous_file)


@functools.lru_cache(maxsize=1)
def _load_previous(path: str) -> Mapping[str, Report]:
    with open(path, "rb") as fh:
        return pickle.load(fh)


def save_previous(index: Mapping[str, Report], path: Path) -> str:
    """Write last year's reports for the workers (ReadOptions.previous_file)."""
    with open(path, "wb") as fh:
        pickle.dump(dict(index), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


def _init_worker() -> None:
    # Ctrl-C is handled by the parent, which terminates the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _apply(task: tuple[Callable[[Item, ReadOptions], Any], Item, ReadOptions]) -> Any:
    fn, item, options = task
    return fn(item, options)


def _hash_chain(item: Item, limits: ArchiveLimits) -> str:
    if not item.hashable:
        return ""
    try:
        if not item.members:
            return fsutil.sha256_file(item.path)
        # streamed into the hash: a refused member may be hashed up to the nested-archive cap
        # without holding it
        h = hashlib.sha256()
        ARCHIVES.member(item.path, item.members, limits.max_nested_bytes, limits.max_nested_bytes, sink=h.update)
        return h.hexdigest()
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RuntimeError, IndexError, MemberTooLarge):
        return ""


INTERNAL_NOTE = ("处理此文件时出现内部错误（是本工具的问题，不是文件的问题），此文件未能检查，其他文件照常处理。"
                 "请把此文件发给维护人员。")


def process_item(item: Item, options: ReadOptions) -> FileRecord:
    """Read and check one file. Never raises: whatever goes wrong with one file (a bug of ours
    included) becomes that file's result, and the season goes on with the others."""
    try:
        out = _process_item(item, options)
        if options.pack:
            out.payload = pack(out)
            out.figures, out.findings = None, []
        return out
    except Exception:
        out = FileRecord(seq=item.seq, name=item.name, size=item.size, kind="internal", reason=INTERNAL_NOTE)
        try:
            out.sha256 = _hash_chain(item, options.limits)
        except Exception:
            out.sha256 = ""
        return out


def _process_item(item: Item, options: ReadOptions) -> FileRecord:
    out = FileRecord(seq=item.seq, name=item.name, size=item.size)
    if item.archive is not None or item.problem is not None:
        out.kind = ("archive" if item.problem is None else "output" if item.output else "system" if item.system
                    else "refused")
        out.archive = item.archive
        out.reason = item.problem or ""
        out.sha256 = _hash_chain(item, options.limits)
        return out
    try:
        source: str | bytes = item.path if not item.members else open_chain(item.path, item.members, options.limits)
    except MemberTooLarge as e:
        out.kind = "unreadable"
        finding = Finding(code="ZIP_BOMB", severity=ERROR, message=f"「{item.name}」{bomb_note(e)}",
                          values={"limit": e.limit, "produced": True})
        out.findings, out.errors, out.reason = [finding.to_dict()], 1, bomb_note(e)
        return out
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RuntimeError, IndexError) as e:
        out.kind = "refused"
        out.reason = "无法从压缩包中取出：" + (os_error_text(e) if isinstance(e, OSError) else "压缩包已损坏或格式无法识别") + "。"
        return out
    try:
        result = _read(source, item.name, options)
    except Exception:  # a reader bug must not lose the file, nor be blamed on it
        out.kind = "internal"
        out.reason = INTERNAL_NOTE
        out.sha256 = hashlib.sha256(source).hexdigest() if not isinstance(source, str) else _hash_chain(item, options.limits)
        return out
    _fill_result(out, result, options)
    return out


def packed_item(item: Item, options: ReadOptions) -> tuple[int, bytes]:
    """(seq, the whole record of one file packed for the spill file): what a collect worker sends,
    so that the parent keeps nothing of it but an offset (collect.collection.Spill.append_record)."""
    rec = process_item(item, options if options.pack else replace(options, pack=True))
    if not rec.payload:  # an internal error: no figures, no findings
        rec.payload = pickle.dumps(("", None, []), protocol=pickle.HIGHEST_PROTOCOL)
    head = pickle.dumps(tuple(getattr(rec, f) for f in SPILLED_FIELDS), protocol=pickle.HIGHEST_PROTOCOL)
    return rec.seq, b"".join((len(head).to_bytes(4, "little"), head, len(rec.payload).to_bytes(4, "little"), rec.payload))


def pack(rec: FileRecord) -> bytes:
    """The figures and findings of a record as the spill file keeps them: the figures as a tuple
    in the order field_ids gives (the parent knows the ids), not a dict of 200 ids; a report
    whose figures come in another order is packed as its dict."""
    figures = rec.figures
    fmt = rec.identity.get("format", "")
    if figures is not None and tuple(figures) == field_ids(fmt):
        return pickle.dumps((fmt, tuple(figures.values()), rec.findings), protocol=pickle.HIGHEST_PROTOCOL)
    return pickle.dumps(("", figures, rec.findings), protocol=pickle.HIGHEST_PROTOCOL)


@functools.cache
def field_ids(format_id: str) -> tuple[str, ...]:
    """The field ids of a format in the order the reader gives a report's figures (the inputs,
    then the computed fields as the format computes them); () for a format not in templates/."""
    try:
        spec = load_format(format_id)
        return tuple(spec.compute({f.id: 0 for f in spec.input_fields}))
    except (FormatError, OSError, ValueError):
        return ()


def _read(source: str | bytes, name: str, options: ReadOptions):
    return read_and_check(source, name=name, blank_as_zero=options.blank_as_zero)


def _fill_result(out: FileRecord, result: Any, options: ReadOptions) -> None:
    out.sha256 = result.sha256 or ""
    out.kind = result.kind or ""
    identity = dict(result.identity or {})
    report: Report | None = result.report
    if report is not None:
        identity.setdefault("agency", report.agency.name)
        identity.setdefault("code", report.agency.code)
        identity.setdefault("year", str(report.year))
        identity.setdefault("format", report.format)
    out.identity = {k: ("" if v is None else str(v)) for k, v in identity.items() if k in IDENTITY_KEYS}
    out.saved_at = _iso(result.saved_at)
    out.application = str(result.application or "")
    findings: list[Finding] = list(result.findings or [])
    if report is not None and _previous(options):
        try:
            findings += _cross_year(report, options, out)
        except Exception:  # last year's report is broken in a way nobody foresaw: say so, go on
            failed = _cross_year_failed(report, options)
            out.previous_note = failed.message
            findings.append(failed)
    out.errors = sum(1 for f in findings if f.is_error)
    out.warnings = len(findings) - out.errors
    out.findings = [f.to_dict() for f in findings]
    first_error = next((f for f in findings if f.is_error), None)
    if report is None:
        out.reason = _after_name(first_error.message, out.name) if first_error else ""
        out.reason_in_findings = first_error is not None
        return
    out.figures = report.figures  # the report is dropped with the result: no copy needed
    out.has_report = True
    if options.docx_dir and out.errors == 0:
        _stage_docx(out, report, options)


def _after_name(message: str, name: str) -> str:
    """A reader message starts with the file's name in 「」; the outputs put the name in its own
    column, so the reason continues from it ("是纯文本文件，不是 Excel 工作簿。……")."""
    for prefix in (f"「{name}」", f"「{name.rsplit('!', 1)[-1]}」"):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _iso(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _cross_year(report: Report, options: ReadOptions, out: FileRecord) -> list[Finding]:
    """Cross-year rules against last year's report of the same agency, if the folder has one;
    `out` records which file that was, or why the rules did not run."""
    index = _previous(options)
    previous = next((index[k] for k in identity_keys(report.agency.name, report.agency.code) if k in index), None)
    if previous is None:
        out.previous_note = "上一年度的文件夹中没有本机关的报告，未做跨年度核对。"
        return []
    out.previous_file = previous.provenance.source or ""
    if is_blank(previous.figures):
        out.previous_note = f"上一年度的“{out.previous_file}”是未填写的空白模板，未做跨年度核对。"
        return []
    problem = checks.previous_problem(report, previous)
    if problem is not None:
        out.previous_note = problem.message
        return [problem]
    spec = report.spec
    codes = {r.code for r in spec.rules if r.cross_year}
    return [f for f in checks.check_rules(spec, report.figures, previous.figures) if f.code in codes]


def _cross_year_failed(report: Report, options: ReadOptions) -> Finding:
    index = _previous(options)
    previous = next((index[k] for k in identity_keys(report.agency.name, report.agency.code) if k in index), None)
    source = previous.provenance.source if previous is not None and previous.provenance else ""
    return cross_year_failed(report.agency.name, source or "")


def is_blank(figures: Mapping[str, Number | None]) -> bool:
    """A template sent back (or kept) without a single figure typed in."""
    return all(v is None for v in figures.values())


def _stage_docx(out: FileRecord, report: Report, options: ReadOptions) -> None:
    target = Path(options.docx_dir) / f"{out.seq}.docx"
    try:
        docx_report.write_docx(report, target)
    except ValueError as e:  # IncompleteReport and other refusals carry a Chinese message
        out.docx_problem = f"未生成 Word 报告：{e}"
    except OSError as e:
        out.docx_problem = f"未生成 Word 报告：写入失败（{os_error_text(e)}）"
    else:
        out.docx = str(target)


CHUNK = 16  # files a worker is given at a time by Pool.read_packed


def _pool_context() -> multiprocessing.context.BaseContext:
    """Workers spawned, each a fresh interpreter (the pool is started once a run): forking the
    caller itself would copy the locks of its other threads (the progress display's, the pool's
    own), and a forkserver stays alive beside the parent until it exits, holding its memory (about
    28 MB, a fifth of the run's peak) while the outputs are written."""
    return multiprocessing.get_context("spawn")


def spawn_can_start() -> bool:
    """Whether a spawned worker can start: it first imports the caller's main module again, by
    module name or from its file. A program read from standard input (`python3 - < script`) has
    neither, every worker would die while starting and the pool would start new ones for ever:
    such a caller reads in its own process instead."""
    main = sys.modules.get("__main__")
    if getattr(main, "__spec__", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


class Pool:
    """The reading processes of one run, started once (collect --previous reads last year's
    files and then this year's with the same workers); jobs <= 1 reads in this process."""

    def __init__(self, jobs: int = 1):
        self.jobs = jobs
        self._pool: Any = None

    def __enter__(self) -> Pool:
        if self.jobs > 1 and not spawn_can_start():
            self.jobs = 1
        if self.jobs > 1:
            self._pool = _pool_context().Pool(self.jobs, initializer=_init_worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (the files are all read: their memory is not kept while the outputs
        are written)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        _load_previous.cache_clear()

    def read(self, items: Iterable[Item], options: ReadOptions) -> Iterator[FileRecord]:
        """Results of process_item over `items`, in completion order; the items are consumed
        lazily by the pool's feeder."""
        return self._map(process_item, items, options, chunksize=4)

    def read_packed(self, items: Iterable[Item], options: ReadOptions) -> Iterator[tuple[int, bytes]]:
        """packed_item over `items`, in completion order: (seq, the record as the spill file
        keeps it)."""
        # each chunk costs the parent's pool threads about 0.5 ms of CPU, whatever its size: 16 files
        # (about 0.1 s of a worker's time for returns) a chunk, not 4
        return self._map(packed_item, items, options, chunksize=CHUNK)

    def _map(self, fn: Callable[[Item, ReadOptions], Any], items: Iterable[Item], options: ReadOptions,
             chunksize: int) -> Iterator[Any]:
        """fn(item, options) over `items`, in completion order: in the workers, or here for jobs <= 1."""
        if self._pool is None:
            try:
                for item in items:
                    yield fn(item, options)
            finally:
                ARCHIVES.close()
            return
        yield from self._pool.imap_unordered(_apply, ((fn, item, options) for item in items), chunksize=chunksize)


def read_items(items: Iterable[Item], options: ReadOptions, jobs: int = 1) -> Iterator[FileRecord]:
    """Results of process_item over `items`, in completion order, in a pool of its own."""
    with Pool(jobs) as pool:
        yield from pool.read(items, options)
