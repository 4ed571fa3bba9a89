"""Collect the returns of a roster: walk a folder (and the zip archives in it, opened in memory),
read and check every file in a pool of processes, match each file to a roster agency by the
identity the template carries, decide the status of every agency and every file, and write
收集情况.xlsx and collect.json (and, on request, each accepted agency's .docx).

Memory stays flat in the number of files: workers return compact results, the figures and
findings are spilled to a JSON-lines file in a staging folder inside OUTDIR, and only a small
record per file is kept. Outputs are built in the staging folder and moved into place, so an
interrupted run leaves either the previous complete outputs or the new complete ones.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import multiprocessing
import os
import pickle
import shutil
import signal
import stat
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..format.spec import FormatSpec, Number, load_format
from ..model.aggregate import Aggregator
from ..model.findings import ERROR, Finding
from ..model.matching import NO_MATCH, NameMatch, NameMatcher
from ..model.report import Agency, Provenance, Report, dumps, loads
from ..read.intake import DEFAULT_LIMITS, Limits, MiB
from ..read.resilience import cross_year_failed
from ..read.roster import RosterError, RosterRow, read_roster
from ..read.safezip import MemberTooLarge, duplicate_name, read_member, unsafe_path
from ..util import fsutil
from ..util.fsutil import os_error_text
from ..util.timefmt import now_local
from .archive import ARCHIVES

# -- statuses (user-facing text)

OK, WARN, ERR, MISSING = "合格", "有警告", "有错误", "未提交"
DUPLICATE, UNREADABLE, FOREIGN, ARCHIVE = "重复提交", "无法读取", "非本次模板", "压缩包"
SYSTEM = "系统文件"  # Thumbs.db, ~$ lock files, __MACOSX/…: listed, never read nor attributed
INTERNAL = "内部错误"  # a bug of ours stopped this file's check: not the agency's fault, sent to maintainers
AGENCY_STATUSES = (OK, WARN, ERR, MISSING)
FILE_STATUSES = (OK, WARN, ERR, DUPLICATE, UNREADABLE, INTERNAL, FOREIGN, ARCHIVE, SYSTEM)
ACCEPTED = (OK, WARN)
STATUS_CODES = {
    OK: "ok", WARN: "warning", ERR: "error", MISSING: "missing",
    DUPLICATE: "duplicate", UNREADABLE: "unreadable", FOREIGN: "foreign", ARCHIVE: "archive", SYSTEM: "system",
    INTERNAL: "internal",
}
BY_IDENTITY, BY_NAME = "模板标识", "文件名"

OUTPUT_XLSX = "收集情况.xlsx"
OUTPUT_JSON = "collect.json"
DOCX_DIR = "年度报告"
NOTICE_DIR = "问题通知"  # notice.NOTICE_DIR
STAGING_PREFIX = ".xlsx-tools-collect-"

# The figures the status sheet shows per agency (stable field ids; skipped when a format lacks one).
KEY_FIGURES = (
    "t3.received.total", "t3.carried_over.total", "t3.results_total.total", "t3.carry_forward.total",
    "t4.review.total", "t4.suit_direct.total", "t4.suit_after_review.total", "t2.item8.fees.amount",
)

# Files an operating system or office suite leaves beside the returns (thumbnail caches, folder
# settings, lock files of open workbooks, a Mac's resource forks): never a return.
_JUNK_NAMES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"}
_JUNK_PREFIXES = ("~$", ".~lock.", "._")
_JUNK_FOLDER = "__macosx"


class CollectError(ValueError):
    """A usage problem (missing folder, unusable roster ...); the message is Chinese."""


# ---------------------------------------------------------------------------------------------
# Archives: the same caps as the reader's intake for what one member may be; an archive itself
# may hold more files than a workbook holds parts.


@dataclass(frozen=True)
class ArchiveLimits:
    member: Limits = DEFAULT_LIMITS  # a member is read like a returned file
    max_members: int = 10_000
    max_total_bytes: int = 2048 * MiB  # declared uncompressed size of all members of one archive
    max_nested_bytes: int = 64 * MiB  # an archive inside an archive is held in memory
    max_depth: int = 3  # zip in zip in zip


DEFAULT_ARCHIVE_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class Item:
    """One file found: on disk (`members` empty) or inside (nested) archives (`members` are the
    indexes in each archive's member list, outermost first)."""

    seq: int
    name: str  # display path relative to the root, "a.zip!b/c.xlsx"
    path: str  # the file on disk
    members: tuple[int, ...] = ()
    size: int | None = None
    archive: int | None = None  # number of files listed inside, for an archive we opened
    problem: str | None = None  # why it is not read (Chinese), for files refused before reading
    hashable: bool = True  # whether its sha256 can be computed within the caps
    output: bool = False  # written by an earlier collect run (a copy of its output folder)
    system: bool = False  # left by an operating system or office suite (Thumbs.db, ~$x.xlsx ...)


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _member_name(info: zipfile.ZipInfo) -> str:
    """Zip names without the UTF-8 flag are cp437 to zipfile; Chinese Windows writes GBK."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def _printable(name: str) -> str:
    """A name fit for display and for the outputs: undecodable bytes of a file system name
    (surrogate escapes) and control characters become "?"."""
    return "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in name)


def _member_problem(info: zipfile.ZipInfo, name: str, limits: ArchiveLimits) -> tuple[str | None, bool]:
    """(why a member is refused, whether it may still be hashed)."""
    if unsafe_path(name, backslash=True):
        return "的路径指向压缩包之外（路径不安全），未读取。", True
    if stat.S_ISLNK(info.external_attr >> 16):
        return "是压缩包内的符号链接，未读取。", False
    if info.flag_bits & 0x1:
        return "在压缩包中被加密（设置了压缩包密码），无法读取。请提交未加密的文件。", False
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"使用了不支持的压缩方式（{info.compress_type}），无法读取。", False
    size, cap = info.file_size, limits.member
    if size > cap.max_file_bytes:
        return (f"解压后 {size / MiB:.1f} MB，超过单个文件的上限 {cap.max_file_bytes / MiB:.0f} MB，未读取。"), False
    ratio = size / max(1, info.compress_size)
    if size > cap.ratio_floor_bytes and ratio > cap.max_ratio:
        return f"的压缩比高达 {ratio:.0f}:1（疑似“压缩炸弹”），未读取。", False
    return None, True


def _open_chain(path: str, members: Sequence[int], limits: ArchiveLimits) -> bytes:
    """The bytes of a (nested) archive member; raises on anything unexpected (MemberTooLarge when
    it decompresses to more than the cap, whatever its header says). The archives stay open in
    this process between calls: reading each of 10,000 members must not parse the central
    directory 10,000 times."""
    return ARCHIVES.member(path, members, limits.member.max_file_bytes, limits.max_nested_bytes)


class _Walker:
    """Yields Items in a deterministic order (names sorted, depth first), numbering them."""

    def __init__(self, roots: Sequence[Path], exclude: Iterable[Path] = (), limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
                 relative: bool = True):
        self.roots = list(roots)
        self.relative = relative and len(self.roots) == 1
        self.exclude = {os.path.normcase(os.path.abspath(p)) for p in exclude}
        self.limits = limits
        self.count = 0  # items yielded so far (read by the progress display from another thread)
        self._prefix = ""

    def __iter__(self) -> Iterator[Item]:
        for root in self.roots:
            # names relative to the one folder collected, or else starting with the path as given
            self._prefix = "" if self.relative else root.as_posix().rstrip("/") + "/"
            if root.is_dir():  # a folder reached through a symbolic link is followed (only the root)
                yield from self._dir(root, root)
            else:
                yield from self._file(root, _printable(root.as_posix() if self._prefix else root.name))

    def _next(self, **kw: Any) -> Item:
        item = Item(seq=self.count, **kw)
        self.count += 1
        return item

    def _excluded(self, path: str) -> bool:
        return os.path.normcase(os.path.abspath(path)) in self.exclude

    def _dir(self, root: Path, folder: Path, outputs: bool = False, system: bool = False) -> Iterator[Item]:
        """`outputs`: the folder is the 年度报告 folder of an earlier collect's outputs; `system`:
        a folder only an operating system writes (__MACOSX)."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            rel = folder.relative_to(root).as_posix() if folder != root else folder.name
            yield self._next(name=rel + "/", path=str(folder), problem=f"（文件夹）无法打开：{os_error_text(e)}。",
                             hashable=False)
            return
        ours = _collect_output(folder)
        for entry in entries:
            if self._excluded(entry.path):
                continue
            rel = _printable(self._prefix + Path(entry.path).relative_to(root).as_posix())
            try:
                if entry.is_symlink():
                    yield self._next(name=rel, path=entry.path, problem=_symlink_note(entry.path), hashable=False)
                elif entry.is_dir(follow_symlinks=False):
                    yield from self._dir(root, Path(entry.path), ours and entry.name in (DOCX_DIR, NOTICE_DIR),
                                         system or entry.name.casefold() == _JUNK_FOLDER)
                elif entry.is_file(follow_symlinks=False) and (system or system_file(entry.name)):
                    yield self._next(name=rel, path=entry.path, size=entry.stat().st_size, problem=_SYSTEM_NOTE,
                                     system=True)
                elif entry.is_file(follow_symlinks=False) and (
                        (ours and entry.name in (OUTPUT_XLSX, OUTPUT_JSON)) or (outputs and entry.name.endswith(".docx"))):
                    yield self._next(name=rel, path=entry.path, size=entry.stat().st_size, problem=_OUTPUT_NOTE,
                                     output=True)
                elif entry.is_file(follow_symlinks=False):
                    yield from self._file(Path(entry.path), rel)
                else:
                    yield self._next(name=rel, path=entry.path, problem="不是普通文件，未读取。", hashable=False)
            except OSError as e:
                yield self._next(name=rel, path=entry.path, problem=f"无法读取：{os_error_text(e)}。", hashable=False)

    def _file(self, path: Path, rel: str) -> Iterator[Item]:
        try:
            size = path.stat().st_size
        except OSError as e:
            yield self._next(name=rel, path=str(path), problem=f"无法读取：{os_error_text(e)}。", hashable=False)
            return
        problem = fsutil.regular_file_problem(path)
        if problem is not None:  # a FIFO given as the root: opening it would wait forever
            yield self._next(name=rel, path=str(path), problem=f"{problem}，未读取。", hashable=False)
            return
        if not _is_zip_name(rel):
            yield self._next(name=rel, path=str(path), size=size)
            return
        try:
            with open(path, "rb") as fh:
                zf = zipfile.ZipFile(fh)
                yield from self._archive(zf, str(path), (), rel, size, 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as e:
            yield self._next(name=rel, path=str(path), size=size, problem=_broken_archive(e))

    def _archive(self, zf: zipfile.ZipFile, path: str, chain: tuple[int, ...], rel: str, size: int,
                 depth: int) -> Iterator[Item]:
        infos = zf.infolist()
        files = [(i, info) for i, info in enumerate(infos) if not info.is_dir()]
        total = sum(info.file_size for _, info in files)
        limits = self.limits
        twice = duplicate_name(info.filename for info in infos)
        if twice is not None:
            yield self._next(name=rel, path=path, members=chain, size=size,
                             problem=f"中有两个同名的文件“{_printable(_member_name(zf.getinfo(twice)))[:80]}”"
                                     "（同一名称出现两次，可能被篡改过），未展开。请重新打包后提交，或直接发送其中的 .xlsx 文件。")
            return
        if len(files) > limits.max_members:
            yield self._next(name=rel, path=path, members=chain, size=size,
                             problem=f"是含 {len(files)} 个文件的压缩包，超过上限 {limits.max_members} 个，未展开。")
            return
        if total > limits.max_total_bytes:
            yield self._next(name=rel, path=path, members=chain, size=size,
                             problem=f"是解压后共 {total / MiB:.0f} MB 的压缩包，超过上限 {limits.max_total_bytes / MiB:.0f} MB（疑似“压缩炸弹”），未展开。")
            return
        yield self._next(name=rel, path=path, members=chain, size=size, archive=len(files))
        named = sorted(((_member_name(info), i, info) for i, info in files), key=lambda t: (t[0], t[1]))
        for name, index, info in named:
            member_rel = f"{rel}!{_printable(name)}"
            member_chain = chain + (index,)
            problem, hashable = _member_problem(info, name, limits)
            if system_file(name):
                yield self._next(name=member_rel, path=path, members=member_chain, size=info.file_size,
                                 problem=_SYSTEM_NOTE, hashable=hashable, system=True)
                continue
            if problem is None and _is_zip_name(name):
                if depth >= limits.max_depth:
                    problem, hashable = f"是嵌套超过 {limits.max_depth} 层的压缩包，未展开。", True
                elif info.file_size > limits.max_nested_bytes:
                    problem, hashable = (f"是解压后 {info.file_size / MiB:.0f} MB 的压缩包，超过上限"
                                         f" {limits.max_nested_bytes / MiB:.0f} MB，未展开。"), False
                else:
                    try:
                        data = read_member(zf, info, limits.max_nested_bytes)
                        inner = zipfile.ZipFile(io.BytesIO(data))
                    except MemberTooLarge as e:
                        problem, hashable = _bomb_note(e), False
                    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as e:
                        problem = _broken_archive(e)
                    else:
                        yield from self._archive(inner, path, member_chain, member_rel, info.file_size, depth + 1)
                        continue
            yield self._next(name=member_rel, path=path, members=member_chain, size=info.file_size,
                             problem=problem, hashable=hashable)


_OUTPUT_NOTE = "是此前运行“收集”生成的结果文件，不是机关退回的文件，未读取。"
_SYSTEM_NOTE = "是操作系统或办公软件自动生成的文件（缩略图缓存、文件夹设置、打开中的文件的锁定文件等），不是机关退回的文件，已忽略。"


def system_file(path: str) -> bool:
    """Whether a file (a path inside the folder or an archive, "/" or "\\" separated) is one an
    operating system or office suite leaves behind: Thumbs.db, desktop.ini, .DS_Store, Office's
    ~$x.xlsx and LibreOffice's .~lock.x.xlsx# lock files, a Mac's ._x and anything in __MACOSX/."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if not parts:
        return False
    if any(p.casefold() == _JUNK_FOLDER for p in parts[:-1]):
        return True
    name = parts[-1].casefold()
    return name in _JUNK_NAMES or name.startswith(_JUNK_PREFIXES)


def _collect_output(folder: Path) -> bool:
    """Whether `folder` holds the outputs of a collect run (its collect.json says so)."""
    path = folder / OUTPUT_JSON
    try:
        if fsutil.regular_file_problem(path) is not None:
            return False  # a FIFO named collect.json must not stop the walk
        with open(path, "rb") as fh:
            head = fh.read(200)
    except OSError:
        return False
    return b'"tool": "xlsx-tools collect"' in head


def _symlink_note(path: str) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = ""
    shown = f"（指向“{_printable(target)[:120]}”）" if target else ""
    return (f"是符号链接（快捷方式）{shown}，未读取：文件夹内的链接不跟随，以免重复或循环。"
            "如需收集其指向的文件，请把文件本身复制到此文件夹。")


def _bomb_note(e: MemberTooLarge) -> str:
    return (f"解压后实际超过 {e.limit / MiB:.0f} MB（文件头声明的大小不实，疑似“压缩炸弹”），未读取。"
            "请直接发送填好的 .xlsx 文件。")


def _broken_archive(e: BaseException) -> str:
    return "是损坏或不完整的压缩包，无法打开。请重新打包，或直接发送其中的 .xlsx 文件。"


def walk(roots: Path | Sequence[Path], *, exclude: Iterable[Path] = (),
         limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS, relative: bool = True) -> Iterator[Item]:
    """Every file under `roots` (folders recursively, .zip archives opened in memory). Names are
    relative to a single root folder, or (`relative=False`, or several roots) start with the
    root as given."""
    roots = [roots] if isinstance(roots, Path | str) else list(roots)
    return iter(_Walker([Path(r) for r in roots], exclude, limits, relative))


# ---------------------------------------------------------------------------------------------
# Reading one file (runs in a worker process)


@dataclass
class FileResult:
    """What a worker says about one file: small, picklable."""

    seq: int
    name: str
    size: int | None
    sha256: str = ""
    kind: str = ""  # the reader's kind, or "archive" / "refused" / "output" (an earlier run's) / "system"
    reason: str = ""  # why unusable (Chinese), from the first error finding or the walker
    identity: dict[str, str] = field(default_factory=dict)
    saved_at: str = ""
    application: str = ""
    errors: int = 0
    warnings: int = 0
    figures: dict[str, Number | None] | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    archive: int | None = None
    docx: str = ""  # staged .docx, for a report without errors
    docx_problem: str = ""
    reason_in_findings: bool = False  # the reason is the message of one of the findings
    previous_file: str = ""  # --previous: last year's report compared with (its path there)
    previous_note: str = ""  # --previous: why the cross-year rules did not run, if they did not


@dataclass(frozen=True)
class ReadOptions:
    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS
    blank_as_zero: bool = False
    docx_dir: str = ""  # where workers stage .docx files ("" = none)
    previous: Mapping[str, Report] = field(default_factory=dict)  # roster key -> last year's report


_OPTIONS: ReadOptions | None = None


def _init_worker(options: ReadOptions) -> None:
    global _OPTIONS
    _OPTIONS = options
    # Ctrl-C is handled by the parent, which terminates the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _process(item: Item) -> FileResult:
    assert _OPTIONS is not None
    return process_item(item, _OPTIONS)


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


def process_item(item: Item, options: ReadOptions) -> FileResult:
    """Read and check one file. Never raises: whatever goes wrong with one file (a bug of ours
    included) becomes that file's result, and the season goes on with the others."""
    try:
        return _process_item(item, options)
    except Exception:
        out = FileResult(seq=item.seq, name=item.name, size=item.size, kind="internal", reason=INTERNAL_NOTE)
        try:
            out.sha256 = _hash_chain(item, options.limits)
        except Exception:
            out.sha256 = ""
        return out


def _process_item(item: Item, options: ReadOptions) -> FileResult:
    out = FileResult(seq=item.seq, name=item.name, size=item.size)
    if item.archive is not None or item.problem is not None:
        out.kind = ("archive" if item.problem is None else "output" if item.output else "system" if item.system
                    else "refused")
        out.archive = item.archive
        out.reason = item.problem or ""
        out.sha256 = _hash_chain(item, options.limits)
        return out
    try:
        source: str | bytes = item.path if not item.members else _open_chain(item.path, item.members, options.limits)
    except MemberTooLarge as e:
        out.kind = "unreadable"
        finding = Finding(code="ZIP_BOMB", severity=ERROR, message=f"「{item.name}」{_bomb_note(e)}",
                          values={"limit": e.limit, "produced": True})
        out.findings, out.errors, out.reason = [finding.to_dict()], 1, _bomb_note(e)
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


def _read(source: str | bytes, name: str, options: ReadOptions):
    from ..read.reader import read_and_check

    return read_and_check(source, name=name, blank_as_zero=options.blank_as_zero)


def _fill_result(out: FileResult, result: Any, options: ReadOptions) -> None:
    out.sha256 = result.sha256 or ""
    out.kind = result.kind or ""
    identity = dict(result.identity or {})
    report: Report | None = result.report
    if report is not None:
        identity.setdefault("agency", report.agency.name)
        identity.setdefault("code", report.agency.code)
        identity.setdefault("year", str(report.year))
        identity.setdefault("format", report.format)
    out.identity = {k: ("" if v is None else str(v)) for k, v in identity.items()
                    if k in ("format", "format_version", "fingerprint", "agency", "code", "year")}
    out.saved_at = _iso(result.saved_at)
    out.application = str(result.application or "")
    findings: list[Finding] = list(result.findings or [])
    if report is not None and options.previous:
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
    out.figures = dict(report.figures)
    if options.docx_dir and out.errors == 0:
        _stage_docx(out, report, options)


def _after_name(message: str, name: str) -> str:
    """A reader message starts with the file's name in 「」; the outputs put the name in its own
    column, so the reason continues from it ("是纯文本文件，不是 Excel 工作簿。……")."""
    for prefix in (f"「{name}」", f"「{name.rsplit('!', 1)[-1]}」"):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


# Reasons are written to follow a file name ("“x.xlsx”是纯文本文件…"); others get a colon.
_CONTINUES = ("是", "的", "在", "使用", "解压", "无法", "有", "与", "（")


def quoted_reason(name: str, reason: str) -> str:
    """“name”reason, or “name”：reason when the reason does not continue the name."""
    return f"“{name}”{reason}" if reason.startswith(_CONTINUES) else f"“{name}”：{reason}"


def _iso(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _cross_year(report: Report, options: ReadOptions, out: FileResult) -> list[Finding]:
    """Cross-year rules against last year's report of the same agency, if the folder has one;
    `out` records which file that was, or why the rules did not run."""
    from .. import checks

    previous = next((options.previous[k] for k in _identity_keys(report.agency.name, report.agency.code)
                     if k in options.previous), None)
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
    previous = next((options.previous[k] for k in _identity_keys(report.agency.name, report.agency.code)
                     if k in options.previous), None)
    source = previous.provenance.source if previous is not None and previous.provenance else ""
    return cross_year_failed(report.agency.name, source or "")


def is_blank(figures: Mapping[str, Number | None]) -> bool:
    """A template sent back (or kept) without a single figure typed in."""
    return all(v is None for v in figures.values())


def _stage_docx(out: FileResult, report: Report, options: ReadOptions) -> None:
    from ..write.docx_report import write_docx

    target = Path(options.docx_dir) / f"{out.seq}.docx"
    try:
        write_docx(report, target)
    except ValueError as e:  # IncompleteReport and other refusals carry a Chinese message
        out.docx_problem = f"未生成 Word 报告：{e}"
    except OSError as e:
        out.docx_problem = f"未生成 Word 报告：写入失败（{os_error_text(e)}）"
    else:
        out.docx = str(target)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a single-threaded server that has imported the reader once
    ("forkserver"): forking the caller itself would copy the locks of its other threads (the
    progress display's, the pool's own). Spawned where there is no forkserver (Windows)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["xlsx_tools.collect.run", "xlsx_tools.read.reader", "xlsx_tools.checks"])
        return ctx
    return multiprocessing.get_context("spawn")


def read_items(items: Iterable[Item], options: ReadOptions, jobs: int = 1) -> Iterator[FileResult]:
    """Results of process_item over `items`, in completion order. With jobs > 1 a pool of
    processes reads them; the items are consumed lazily by the pool's feeder."""
    if jobs <= 1:
        try:
            for item in items:
                yield process_item(item, options)
        finally:
            ARCHIVES.close()
        return
    pool = _pool_context().Pool(jobs, initializer=_init_worker, initargs=(options,))
    try:
        yield from pool.imap_unordered(_process, items, chunksize=4)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


# ---------------------------------------------------------------------------------------------
# The roster


def _norm(code: str) -> str:
    from ..model.identity import code_key

    return code_key(code)


def _identity_keys(agency: str, code: str) -> list[str]:
    from ..model.identity import identity_keys

    return identity_keys(agency, code)


class RosterIndex:
    """Finds a roster agency by the identity a workbook carries, or (fallback) by a file name:
    see matching.NameMatcher (short forms, no place prefix, roster aliases, case)."""

    def __init__(self, rows: Sequence[RosterRow]):
        self.rows = list(rows)
        self._code = {_norm(r.code): i for i, r in enumerate(self.rows) if r.code.strip()}
        self.names = NameMatcher([r.agency for r in self.rows], [r.aliases for r in self.rows])

    def __len__(self) -> int:
        return len(self.rows)

    def identify(self, agency: str, code: str) -> NameMatch:
        if code and _norm(code) in self._code:
            return NameMatch(self._code[_norm(code)])
        return self.names.identity(agency) if agency else NO_MATCH

    def by_identity(self, agency: str, code: str) -> int | None:
        return self.identify(agency, code).index

    def match_file(self, display: str) -> NameMatch:
        """The roster agency a file's path names (system files name nobody)."""
        return self.names.filename(display, skip=system_file(display.rsplit("!", 1)[-1]))

    def by_filename(self, display: str) -> int | None:
        return self.match_file(display).index


def load_roster(path: str | Path, spec: FormatSpec | None = None) -> list[RosterRow]:
    """A roster CSV or a template manifest (manifest.csv has the same 机关名称/机关代码 columns)."""
    try:
        return read_roster(path, spec)
    except RosterError as e:
        raise CollectError(str(e)) from None


# ---------------------------------------------------------------------------------------------
# Records and statuses


@dataclass(slots=True)
class FileRecord:
    """What the parent keeps per file (figures and findings are in the spill file)."""

    seq: int
    name: str
    size: int | None
    sha256: str
    kind: str
    reason: str
    identity: dict[str, str]
    saved_at: str
    application: str
    errors: int
    warnings: int
    archive: int | None
    has_report: bool
    offset: int  # of its record in the spill file
    docx: str = ""
    docx_problem: str = ""
    reason_in_findings: bool = False
    previous_file: str = ""
    previous_note: str = ""
    status: str = ""
    roster: int | None = None  # index of the roster agency it is attributed to
    candidates: tuple[int, ...] = ()  # roster agencies its name may mean, when it is not attributed
    match: str = ""  # BY_IDENTITY | BY_NAME
    note: str = ""

    @property
    def agency(self) -> str:
        return self.identity.get("agency", "")

    @property
    def code(self) -> str:
        return self.identity.get("code", "")


@dataclass(slots=True)
class AgencyStatus:
    index: int
    row: RosterRow
    status: str = MISSING
    file: FileRecord | None = None  # the file used
    files: list[FileRecord] = field(default_factory=list)  # every file attributed to it
    note: str = ""
    docx: str = ""  # relative path of the written .docx
    notice: str = ""  # relative path of its 问题通知


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


def _status_of(rec: FileRecord) -> str:
    return ERR if rec.errors else WARN if rec.warnings else OK


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
        if rec.kind == "archive":
            rec.status = ARCHIVE
            rec.note = f"已展开，含 {rec.archive} 个文件"
            continue
        if rec.kind == "output":  # never attributed by its name (年度报告/沙坡头区民政局.docx)
            rec.status, rec.note = FOREIGN, rec.reason
            continue
        if rec.kind == "system":  # never attributed by its name (~$沙坡头区民政局.xlsx), nor an error
            rec.status, rec.note = SYSTEM, rec.reason
            continue
        if rec.has_report and (rec.agency or rec.code):
            found = roster.identify(rec.agency, rec.code)
            rec.roster, rec.candidates = found.index, found.candidates
            rec.match = BY_IDENTITY if rec.roster is not None else ""
            if found.loose:
                rec.note = f"模板中的机关名称“{rec.agency}”与名单不完全相同，按简称或别名对应"
            fmt, file_year = rec.identity.get("format", ""), rec.identity.get("year", "")
            if fmt != format_id:
                rec.status = FOREIGN
                rec.reason = f"是其他格式（{fmt or '未知'}）的模板，本次收集使用 {format_id}。"
            elif year is not None and file_year != str(year):
                rec.status = FOREIGN
                rec.reason = f"是 {file_year or '未知'} 年度的模板，本次收集的是 {year} 年度。请用本年度下发的模板填写。"
            elif rec.roster is None and found.ambiguous:
                rec.status = FOREIGN
                rec.reason = (f"是“{rec.agency}”的模板，名单中有几个机关与此名称相近（{_names(roster, found)}），"
                              "无法确定是哪一个，未自动对应。")
            elif rec.roster is None:
                rec.status = FOREIGN
                shown = rec.agency or rec.code
                rec.reason = f"是“{shown}”的模板，该机关不在本次名单中。"
            else:
                candidates.setdefault(rec.roster, []).append(rec)
                continue
            rec.reason_in_findings = False
            rec.note = rec.reason
            continue
        found = roster.match_file(rec.name)
        rec.roster, rec.candidates = found.index, found.candidates
        rec.match = BY_NAME if rec.roster is not None else ""
        if rec.has_report:  # a report without any identity: only its file name can place it
            if rec.roster is not None:
                candidates.setdefault(rec.roster, []).append(rec)
                continue
            rec.status = FOREIGN
            rec.reason, rec.reason_in_findings = "文件中没有模板标识，" + _unplaced(roster, found), False
            rec.note = rec.reason
            continue
        rec.status = {"foreign": FOREIGN, "internal": INTERNAL}.get(rec.kind, UNREADABLE)
        rec.note = rec.reason
        if rec.roster is not None:
            rec.note += f"（按文件名对应到“{roster.rows[rec.roster].agency}”）"
        elif found.ambiguous:
            rec.note += _unplaced(roster, found)

    for index, recs in candidates.items():
        recs.sort(key=lambda r: newest_key(r.saved_at, r.name), reverse=True)
        used, rest = recs[0], recs[1:]
        used.status = _status_of(used)
        agency = agencies[index]
        agency.file, agency.status = used, used.status
        for rec in rest:
            rec.status = DUPLICATE
            rec.note = f"同一机关有较新的文件，已采用“{used.name}”" + ("（内容相同）" if rec.sha256 and rec.sha256 == used.sha256 else "")
        if used.match == BY_NAME:
            used.note = "文件中没有模板标识，按文件名对应到本机关"
        elif used.note:
            agencies[index].note = used.note
        if rest:
            agency.note = f"重复提交 {len(rest)} 个较旧的文件，已采用保存时间最新的一个"

    for rec in records:
        if rec.roster is not None:
            agencies[rec.roster].files.append(rec)
    for agency in agencies:
        if agency.file is not None and agency.file.previous_note:
            agency.note = (agency.note + "；" if agency.note else "") + agency.file.previous_note
        if agency.file is not None:
            others = [r for r in agency.files if r.status in (UNREADABLE, INTERNAL, FOREIGN)]
            if others:
                extra = "；另有不能使用的文件：" + "、".join(f"“{r.name}”" for r in others)
                agency.note = (agency.note + extra) if agency.note else extra.lstrip("；")
            continue
        if agency.files:  # only unusable files: the agency sent something, it must send again
            agency.status = ERR
            first = agency.files[0]
            by_name = "（按文件名对应到本机关）" if first.match == BY_NAME else ""
            if first.status == INTERNAL:  # not the agency's fault: it need not send again
                agency.note = (f"提交的文件未能检查{by_name}（本工具内部出错，不是文件的问题）："
                               + quoted_reason(first.name, first.reason))
            else:
                agency.note = f"提交的文件无法使用{by_name}：" + quoted_reason(first.name, first.reason)
            if len(agency.files) > 1:
                agency.note += f"（共 {len(agency.files)} 个文件，见文件清单）"
    for rec in records:  # a file that may be one of several agencies': said where each is missing
        for i in rec.candidates if rec.roster is None else ():
            if agencies[i].status == MISSING:
                hint = f"文件“{rec.name}”可能是本机关的（名称不能确定是哪个机关），请核对"
                agencies[i].note = (agencies[i].note + "；" if agencies[i].note else "") + hint
    for agency in agencies:
        agency.note = explain(agency)
    return agencies


def _names(roster: RosterIndex, found: NameMatch) -> str:
    return "、".join(f"“{roster.rows[i].agency}”" for i in found.candidates)


def _unplaced(roster: RosterIndex, found: NameMatch) -> str:
    if found.ambiguous:
        return f"文件名可能指名单中的{_names(roster, found)}，无法确定是哪一个，未自动对应。"
    return "文件名也对应不上名单中的机关。"


def explain(agency: AgencyStatus) -> str:
    """The 说明 of an agency: for every status but 合格 it says what is wrong and what to do."""
    rec, note = agency.file, agency.note
    if agency.status == MISSING:
        head = "未收到该机关的文件"
    elif agency.status in (ERR, WARN) and rec is not None:
        counts = "、".join(x for x in (f"错误 {rec.errors} 处" if rec.errors else "",
                                      f"警告 {rec.warnings} 处" if rec.warnings else "") if x)
        what = "请修改后重新报送" if agency.status == ERR else "请核实，确有需要的修改后重新报送"
        head = f"{counts}，{what}（见问题清单）"
    else:
        return note
    return head + ("；" + note if note else "")


# ---------------------------------------------------------------------------------------------
# The spill file and the totals


class Spill:
    """Figures and findings of every file, one pickled record each, read back by offset. An
    internal temporary file of this run only (pickle is exact for Decimals and fast)."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = open(path, "w+b")  # noqa: SIM115 - closed by close()
        self._end = 0

    def append(self, figures: Mapping[str, Number | None] | None, findings: list[dict[str, Any]]) -> int:
        data = pickle.dumps((figures, findings), protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._end
        self._fh.seek(offset)
        self._fh.write(len(data).to_bytes(4, "little") + data)
        self._end += 4 + len(data)
        return offset

    def _read(self, offset: int) -> tuple[dict[str, Number | None] | None, list[dict[str, Any]]]:
        self._fh.seek(offset)
        size = int.from_bytes(self._fh.read(4), "little")
        return pickle.loads(self._fh.read(size))

    def figures(self, rec: FileRecord) -> dict[str, Number | None]:
        return self._read(rec.offset)[0] or {}

    def findings(self, rec: FileRecord) -> list[dict[str, Any]]:
        return self._read(rec.offset)[1]

    def close(self) -> None:
        self._fh.close()


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

    def counts(self) -> dict[str, int]:
        c = Counter(a.status for a in self.agencies)
        return {s: c.get(s, 0) for s in AGENCY_STATUSES}

    def file_counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.files)
        return {s: c.get(s, 0) for s in FILE_STATUSES}

    @property
    def missing(self) -> list[AgencyStatus]:
        return [a for a in self.agencies if a.status == MISSING]

    @property
    def ok(self) -> bool:
        """Every roster agency submitted, and nothing submitted has errors (exit status 0)."""
        return all(a.status in ACCEPTED for a in self.agencies) and not self.internal

    @property
    def internal(self) -> list[FileRecord]:
        """Files a bug of ours kept from being checked (exit status 4)."""
        return [r for r in self.files if r.status == INTERNAL]

    def summary_lines(self, max_names: int | None = 20) -> list[str]:
        c = self.counts()
        expected = len(self.agencies)
        submitted = expected - c[MISSING]
        line = (f"应交 {expected} 家，已交 {submitted} 家：合格 {c[OK]}，有警告 {c[WARN]}，有错误 {c[ERR]}；"
                f"未提交 {c[MISSING]} 家")
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
        extra = [f"{s} {fc[s]}" for s in (DUPLICATE, UNREADABLE, INTERNAL, FOREIGN, ARCHIVE) if fc[s]]
        if fc[SYSTEM]:
            extra.append(f"{SYSTEM} {fc[SYSTEM]}（已忽略）")
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
        return [r for r in self.files if r.roster is None and r.status not in (ARCHIVE, SYSTEM) and r.kind != "output"]

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

    def iter_findings(self) -> Iterator[tuple[FileRecord, dict[str, Any]]]:
        for rec in self.problem_files():
            if self.spill is not None and (rec.errors or rec.warnings):
                for f in self.spill.findings(rec):
                    yield rec, f

    def iter_used_figures(self) -> Iterator[tuple[AgencyStatus, dict[str, Number | None]]]:
        for agency in self.agencies:
            if agency.file is not None and agency.file.has_report and self.spill is not None:
                yield agency, self.spill.figures(agency.file)

    def finding_count(self) -> int:
        return sum(r.errors + r.warnings for r in self.files)

    def used_count(self) -> int:
        return sum(1 for a in self.agencies if a.file is not None and a.file.has_report)


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


def index_previous(folder: Path, jobs: int = 1, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS) -> dict[str, Report]:
    """Last year's returns (.xlsx, read in the pool) and Report .json files under `folder`, zip
    archives included, by roster key ("code:…", "name:…"); for an agency with several, the
    newest. Each is read once, here, and kept as a Report without its narrative. Files that are
    not a report are ignored: last year's folder is only a help."""
    files = [i for i in walk(folder, limits=limits) if i.archive is None and i.problem is None]
    found: list[tuple[tuple[float, str], Report]] = []
    workbooks = (i for i in files if i.name.lower().endswith(".xlsx"))
    for res in read_items(workbooks, ReadOptions(limits=limits), jobs):
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
                    data = (_open_chain(item.path, item.members, limits) if item.members
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
        for key in _identity_keys(report.agency.name, report.agency.code):
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
    if not (root.is_dir() or _is_zip_name(root.name)):
        raise CollectError(f"{root} 不是文件夹：请指定存放退回文件的文件夹。")
    if isinstance(roster, str | Path):
        roster_path = str(roster)
        rows = load_roster(roster, spec)
    else:
        roster_path = ""
        rows = list(roster)
        if not rows:
            raise CollectError("名单中没有机关。")
    index = RosterIndex(rows)
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
    jobs = max(1, jobs or os.cpu_count() or 1)
    if previous is not None:
        prev_index = index_previous(previous, jobs, limits)
        if year is not None:
            check_previous_year(prev_index, year, previous)

    _stale_staging(outdir)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=outdir))
    try:
        return _run(root, roster_path, index, outdir, staging, spec=spec, year=year, previous=previous,
                    prev_index=prev_index,
                    jobs=jobs, docx=docx, blank_as_zero=blank_as_zero, progress=progress, limits=limits, now=now,
                    notices={"office": office, "contact": contact, "deadline": deadline} if notices else None)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _refuse_overwrite(outdir: Path, root: Path, roster: str, previous: Path | None, *, docx: bool,
                      notices: bool) -> None:
    """CollectError when an output would replace an input: the roster, a file of last year's
    folder, a return in the collected folder (unless it is an earlier run's output there)."""
    inputs: list[Path] = [p for p in (Path(roster) if roster else None, previous) if p is not None]
    if not _collect_output(outdir):
        inputs.append(root)
    files = [outdir / OUTPUT_XLSX, outdir / OUTPUT_JSON]
    folders = [outdir / d for d, on in ((DOCX_DIR, docx), (NOTICE_DIR, notices)) if on]
    if clash := fsutil.output_clash(files + folders, inputs):
        raise CollectError(clash)
    for folder in folders:
        if folder.exists() and fsutil.is_within(root, folder):
            raise CollectError(f"本次收集的文件夹「{root}」在输出的“{folder.name}”文件夹中，写入 Word 文件会覆盖或删除其中的文件。"
                               "请用 -o 另选输出文件夹。")


def _run(root: Path, roster_path: str, index: RosterIndex, outdir: Path, staging: Path, *, spec: FormatSpec,
         year: int | None, previous: Path | None, prev_index: dict[str, Report], jobs: int, docx: bool, blank_as_zero: bool,
         progress: ProgressCallback | None, limits: ArchiveLimits, now: dt.datetime | None,
         notices: dict[str, str] | None = None) -> Collection:
    exclude = [outdir / OUTPUT_XLSX, outdir / OUTPUT_JSON, outdir / DOCX_DIR, outdir / NOTICE_DIR, staging]
    exclude += list(outdir.glob(STAGING_PREFIX + "*"))
    if roster_path:
        exclude.append(Path(roster_path))
    walker = _Walker([root], exclude, limits)
    docx_stage = staging / "docx"
    if docx:
        docx_stage.mkdir()
    options = ReadOptions(limits=limits, blank_as_zero=blank_as_zero,
                          docx_dir=str(docx_stage) if docx else "", previous=prev_index)
    spill = Spill(staging / "spill.bin")
    records: list[FileRecord] = []
    done = 0
    for res in read_items(walker, options, jobs):
        offset = spill.append(res.figures, res.findings)
        records.append(FileRecord(
            seq=res.seq, name=res.name, size=res.size, sha256=res.sha256, kind=res.kind, reason=res.reason,
            identity=res.identity, saved_at=res.saved_at, application=res.application, errors=res.errors,
            warnings=res.warnings, archive=res.archive, has_report=res.figures is not None, offset=offset,
            docx=res.docx, docx_problem=res.docx_problem, reason_in_findings=res.reason_in_findings,
            previous_file=res.previous_file, previous_note=res.previous_note,
        ))
        done += 1
        if progress is not None:
            progress(done, walker.count)
    records.sort(key=lambda r: r.seq)
    if len(records) != walker.count:  # the promise of the tool: nothing found goes unreported
        raise RuntimeError(f"found {walker.count} files but have {len(records)} results")

    year_inferred = year is None
    if year is None:
        year = infer_year(records, index, spec.id)
        if year is not None and previous is not None:
            try:
                check_previous_year(prev_index, year, previous)
            except CollectError:
                spill.close()
                raise
    agencies = classify(records, index, year=year, format_id=spec.id)

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
    try:
        if docx:
            _place_docx(collection, staging)
        if notices is not None:
            from ..write.notice import stage_notices

            collection.notices = stage_notices(collection, staging, **notices)
        from .workbook import write_collect_workbook

        xlsx_tmp = staging / OUTPUT_XLSX
        write_collect_workbook(collection, xlsx_tmp)
        json_tmp = staging / OUTPUT_JSON
        write_collect_json(collection, json_tmp)
        os.replace(xlsx_tmp, outdir / OUTPUT_XLSX)
        os.replace(json_tmp, outdir / OUTPUT_JSON)
        if notices is not None:
            from ..write.notice import move_notices

            move_notices(outdir, staging, collection.notices)
    finally:
        spill.close()
        collection.spill = None
    return collection


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
            why = "未提交" if agency.status == MISSING else f"{agency.status}，改正后重新收集才会生成"
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


# ---------------------------------------------------------------------------------------------
# collect.json


def _file_dict(rec: FileRecord, collection: Collection, findings: list[dict[str, Any]]) -> dict[str, Any]:
    agency = collection.agencies[rec.roster].row if rec.roster is not None else None
    return {
        "seq": rec.seq + 1,
        "path": rec.name,
        "size": rec.size,
        "sha256": rec.sha256,
        "status": rec.status,
        "status_code": STATUS_CODES[rec.status],
        "agency": agency.agency if agency else "",
        "code": agency.code if agency else "",
        "match": rec.match,
        "identity": rec.identity,
        "saved_at": rec.saved_at,
        "application": rec.application,
        "errors": rec.errors,
        "warnings": rec.warnings,
        "note": rec.note,
        "findings": findings,
    }


def _agency_dict(agency: AgencyStatus, figures: Mapping[str, Number | None] | None) -> dict[str, Any]:
    rec = agency.file
    return {
        "seq": agency.index + 1,
        "agency": agency.row.agency,
        "code": agency.row.code,
        "status": agency.status,
        "status_code": STATUS_CODES[agency.status],
        "file": rec.name if rec else "",
        "sha256": rec.sha256 if rec else "",
        "match": rec.match if rec else "",
        "saved_at": rec.saved_at if rec else "",
        "application": rec.application if rec else "",
        "errors": rec.errors if rec else 0,
        "warnings": rec.warnings if rec else 0,
        "files": [r.name for r in agency.files],
        "note": agency.note,
        "docx": agency.docx,
        "notice": agency.notice,
        "previous": {"file": rec.previous_file, "note": rec.previous_note} if rec and (rec.previous_file or rec.previous_note) else None,
        "figures": figures,
    }


def write_collect_json(collection: Collection, path: Path) -> None:
    """collect.json, streamed: the same content as 收集情况.xlsx."""
    spill = collection.spill
    counts = collection.counts()
    head = {
        "tool": "xlsx-tools collect",
        "version": __version__,
        "generated_at": collection.generated_at,
        "format": collection.spec.id,
        "year": collection.year,
        "year_inferred": collection.year_inferred,
        "source": collection.root,
        "roster": collection.roster_path,
        "summary": {
            "expected": len(collection.agencies),
            "submitted": len(collection.agencies) - counts[MISSING],
            **{STATUS_CODES[s]: n for s, n in counts.items()},
            "files": collection.files_found,
            "files_by_status": {STATUS_CODES[s]: n for s, n in collection.file_counts().items()},
            "text": collection.summary_lines(max_names=None),
        },
    }
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("{\n")
        for key, value in head.items():
            fh.write(f" {json.dumps(key)}: {dumps(value, indent=None)},\n")
        fh.write(' "agencies": [')
        for i, agency in enumerate(collection.agencies):
            figures = spill.figures(agency.file) if (spill and agency.file and agency.file.has_report) else None
            fh.write(("," if i else "") + "\n  " + dumps(_agency_dict(agency, figures), indent=None))
        fh.write("\n ],\n \"files\": [")
        for i, rec in enumerate(collection.files):
            findings = spill.findings(rec) if (spill and (rec.errors or rec.warnings)) else []
            fh.write(("," if i else "") + "\n  " + dumps(_file_dict(rec, collection, findings), indent=None))
        fh.write("\n ],\n")
        unplaced = [{"path": r.name, "sha256": r.sha256, "status": r.status, "status_code": STATUS_CODES[r.status],
                     "reason": collection.unattributed_reason(r),
                     "candidates": [collection.agencies[i].row.agency for i in r.candidates]}
                    for r in collection.unattributed()]
        fh.write(' "unattributed": ' + dumps(unplaced, indent=None) + ",\n")
        included = [a.row.agency for a in collection.agencies if a.status in ACCEPTED]
        total = {"agencies": collection.total_count, "included": included, "figures": collection.totals}
        fh.write(' "total": ' + dumps(total, indent=None) + ",\n")
        fh.write(' "docx": ' + dumps(collection.docx, indent=None) + ",\n")
        if collection.docx_requested:
            fh.write(' "docx_not_written": ' + dumps([{"agency": a, "reason": why} for a, why in collection.docx_missing],
                                                    indent=None) + ",\n")
        fh.write(' "notices": ' + dumps(collection.notices, indent=None) + "\n}\n")


__all__ = [
    "ACCEPTED", "AGENCY_STATUSES", "ARCHIVE", "ArchiveLimits", "BY_IDENTITY", "BY_NAME", "CollectError",
    "Collection", "DUPLICATE", "ERR", "FILE_STATUSES", "FOREIGN", "FileRecord", "FileResult", "Item",
    "KEY_FIGURES", "MISSING", "OK", "OUTPUT_JSON", "OUTPUT_XLSX", "ReadOptions", "RosterIndex", "SYSTEM",
    "INTERNAL", "UNREADABLE", "WARN", "classify", "collect", "index_previous", "infer_year", "load_roster", "newest_key", "process_item",
    "quoted_reason", "read_items", "system_file", "walk", "write_collect_json",
]
