"""Walking the collected folder: every file found, in a deterministic order (names sorted, depth
first), zip archives opened in memory and their members listed (GBK names decoded, unsafe or
encrypted members, bombs and deep nesting refused with the reason), files an operating system
leaves behind and an earlier run's outputs recognised. Nothing is read here: workers read the
Items this yields (collect.worker)."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..read.intake import DEFAULT_LIMITS, Limits, MiB
from ..read.safezip import MemberTooLarge, duplicate_name, read_member, unsafe_path
from ..util import fsutil
from ..util.fsutil import os_error_text
from .archive import ARCHIVES

# The outputs of a run in OUTDIR: recognised by the walker when a collected folder holds them.


OUTPUT_XLSX = "收集情况.xlsx"
OUTPUT_JSON = "collect.json"
DOCX_DIR = "年度报告"
NOTICE_DIR = "问题通知"  # = write.notice.NOTICE_DIR (not imported: walking needs no python-docx)
STAGING_PREFIX = ".xlsx-tools-collect-"

# Files an operating system or office suite leaves beside the returns (thumbnail caches, folder
# settings, lock files of open workbooks, a Mac's resource forks): never a return.
_JUNK_NAMES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"}
_JUNK_PREFIXES = ("~$", ".~lock.", "._")
_JUNK_FOLDER = "__macosx"


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


def is_zip_name(name: str) -> bool:
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
    if name.isprintable():  # the usual name, checked in C (a surrogate is never printable)
        return name
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


def open_chain(path: str, members: Sequence[int], limits: ArchiveLimits) -> bytes:
    """The bytes of a (nested) archive member; raises on anything unexpected (MemberTooLarge when
    it decompresses to more than the cap, whatever its header says). The archives stay open in
    this process between calls: reading each of 10,000 members must not parse the central
    directory 10,000 times."""
    return ARCHIVES.member(path, members, limits.member.max_file_bytes, limits.max_nested_bytes)


class Walker:
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

    def _dir(self, root: Path, folder: Path, rel_folder: str = "", outputs: bool = False,
             system: bool = False) -> Iterator[Item]:
        """`rel_folder`: the folder's path under `root`, "/"-separated, ending with "/" ("" for
        the root); `outputs`: the folder is the 年度报告 folder of an earlier collect's outputs;
        `system`: a folder only an operating system writes (__MACOSX). A file's name is made by
        joining texts, not by pathlib, which interns every part of every path it parses: a folder
        of 150,000 returns would leave the interpreter's table of interned strings that large."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            rel = rel_folder[:-1] if rel_folder else folder.name
            yield self._next(name=rel + "/", path=str(folder), problem=f"（文件夹）无法打开：{os_error_text(e)}。",
                             hashable=False)
            return
        ours = collect_output(folder)
        for entry in entries:
            if self._excluded(entry.path):
                continue
            rel = _printable(self._prefix + rel_folder + entry.name)
            try:
                if entry.is_symlink():
                    yield self._next(name=rel, path=entry.path, problem=_symlink_note(entry.path), hashable=False)
                elif entry.is_dir(follow_symlinks=False):
                    yield from self._dir(root, Path(entry.path), rel_folder + entry.name + "/",
                                         ours and entry.name in (DOCX_DIR, NOTICE_DIR),
                                         system or entry.name.casefold() == _JUNK_FOLDER)
                elif entry.is_file(follow_symlinks=False) and (system or system_file(entry.name)):
                    yield self._next(name=rel, path=entry.path, size=entry.stat().st_size, problem=_SYSTEM_NOTE,
                                     system=True)
                elif entry.is_file(follow_symlinks=False) and (
                        (ours and entry.name in (OUTPUT_XLSX, OUTPUT_JSON)) or (outputs and entry.name.endswith(".docx"))):
                    yield self._next(name=rel, path=entry.path, size=entry.stat().st_size, problem=_OUTPUT_NOTE,
                                     output=True)
                elif entry.is_file(follow_symlinks=False):
                    yield from self._file(entry.path, rel)
                else:
                    yield self._next(name=rel, path=entry.path, problem="不是普通文件，未读取。", hashable=False)
            except OSError as e:
                yield self._next(name=rel, path=entry.path, problem=f"无法读取：{os_error_text(e)}。", hashable=False)

    def _file(self, path: str | Path, rel: str) -> Iterator[Item]:
        try:
            size = os.stat(path).st_size
        except OSError as e:
            yield self._next(name=rel, path=str(path), problem=f"无法读取：{os_error_text(e)}。", hashable=False)
            return
        problem = fsutil.regular_file_problem(path)
        if problem is not None:  # a FIFO given as the root: opening it would wait forever
            yield self._next(name=rel, path=str(path), problem=f"{problem}，未读取。", hashable=False)
            return
        if not is_zip_name(rel):
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
            if problem is None and is_zip_name(name):
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
                        problem, hashable = bomb_note(e), False
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


def collect_output(folder: Path) -> bool:
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


def bomb_note(e: MemberTooLarge) -> str:
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
    return iter(Walker([Path(r) for r in roots], exclude, limits, relative))
