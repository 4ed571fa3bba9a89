"""Small file helpers: outputs are written to a temporary name beside the target and moved into
place, so an interrupted run never leaves a half-written file; inputs are hashed, never touched."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it is renamed to target."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the output the permissions a plain open() would have
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(target, text.encode(encoding))


def printable(name: str) -> str:
    """A file name fit for display and for the outputs (JSON, workbooks, CSV): the undecodable
    bytes of a file system name (surrogate escapes, which UTF-8 cannot encode) and control
    characters become "?"."""
    return "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in name)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    ensure_regular(path)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class NotRegularFile(OSError):
    """The path is a named pipe (FIFO), a device, a socket or a folder: reading it could block
    forever or never end. `strerror` is Chinese ("「x」不是普通文件（是命名管道 FIFO）")."""

    def __init__(self, path: str | Path, kind: str):
        super().__init__(f"「{path}」不是普通文件（是{kind}）")
        self.strerror = f"不是普通文件（是{kind}）"
        self.filename = str(path)
        self.kind = kind


class FileTooLarge(OSError):
    """A regular file bigger than the caller's cap (read_regular)."""

    def __init__(self, path: str | Path, size: int, limit: int):
        super().__init__(f"「{path}」过大")
        self.strerror = f"文件过大（{size / (1 << 20):.1f} MB，上限 {limit / (1 << 20):.0f} MB）"
        self.filename = str(path)
        self.size = size
        self.limit = limit


def file_kind(mode: int) -> str:
    """What a non-regular file is, in Chinese ("命名管道 FIFO", "文件夹", ...)."""
    if stat.S_ISFIFO(mode):
        return "命名管道 FIFO"
    if stat.S_ISDIR(mode):
        return "文件夹"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    return "特殊文件"


def regular_file_problem(path: str | Path) -> str | None:
    """Why `path` is not a regular file we may open (Chinese, to follow the file's name), or None.
    `stat` follows symbolic links and never blocks, unlike opening a FIFO."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # the caller's open() reports it
    return None if stat.S_ISREG(mode) else f"不是普通文件（是{file_kind(mode)}）"


def ensure_regular(path: str | Path) -> None:
    """NotRegularFile unless `path` is a regular file (or does not exist: the caller reports that)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise NotRegularFile(path, file_kind(mode))


def read_regular(path: str | Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, opened so that it can never block: O_NONBLOCK (a FIFO with no
    writer would otherwise wait forever), then fstat on the open descriptor (no race with a
    rename) — anything but a regular file is NotRegularFile. More than `max_bytes`: FileTooLarge."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # as open() says it, so callers' folder messages apply
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, file_kind(st.st_mode))
        if max_bytes is not None and st.st_size > max_bytes:
            raise FileTooLarge(path, st.st_size, max_bytes)
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            if max_bytes is None:
                data = fh.read()
            else:  # the size fstat gave first (read(n) allocates n bytes), then the rest up to the cap if it grew
                data = fh.read(min(st.st_size, max_bytes) + 1)
                if len(data) > st.st_size:
                    data += fh.read(max_bytes + 1 - len(data))
    finally:
        if fd >= 0:
            os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:  # grew while we read it
        raise FileTooLarge(path, len(data), max_bytes)
    return data


# A file name's bytes: 255 on Linux and macOS; keep room for the temporary suffix atomic_path adds.
MAX_NAME_BYTES = 180


# Names Windows refuses as a file name whatever the extension or case ("AUX.局.docx" is the device
# AUX); the superscript digits are reserved too.
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{dev}{d}" for dev in ("COM", "LPT") for d in "123456789\u00b9\u00b2\u00b3"]
)
# Characters no Windows file name may hold (the office's files end up on Windows shares).
_WINDOWS_BAD = frozenset('<>:"/\\|?*')


def is_windows_device_name(name: str) -> bool:
    """True when Windows would take `name` (with any extension, any case) for a device."""
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.upper() in _WINDOWS_DEVICES


def safe_filename(name: str, default: str = "未命名", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name from an agency name that Windows, macOS and Linux all accept: keep Chinese;
    replace characters illegal on Windows and control characters with "_"; drop leading and
    trailing dots and spaces; append "_" to a Windows device name (CON, NUL, AUX.局 → AUX_.局);
    shorten to `max_bytes` of UTF-8 (60 Chinese characters). The caller appends the extension.
    Two different names can give the same file name (and Windows ignores case): compare
    `filename_key` of the results to find collisions."""
    cleaned = "".join(
        "_" if (c in _WINDOWS_BAD or ord(c) < 32 or ord(c) == 127) else c for c in name
    ).strip(" .")
    if is_windows_device_name(cleaned):
        stem, dot, rest = cleaned.partition(".")
        cleaned = stem.rstrip(" ") + "_" + dot + rest
    while len(cleaned.encode("utf-8")) > max_bytes:
        cleaned = cleaned[:-1]
    return cleaned.rstrip(" .") or default


def filename_key(name: str) -> str:
    """Two file names that are one file on Windows/macOS shares (case-only or full/half-width
    differences) have the same key."""
    return unicodedata.normalize("NFKC", name).casefold()


def unique_name(name: str, numbered: Callable[[int], str], used: set[str], start: int = 2) -> str:
    """`name`, or the first `numbered(n)` for n = start, start + 1, ... that is not one file with
    a name in `used` (a set of `filename_key`s, which gets the chosen name's key)."""
    n = start
    while filename_key(name) in used:  # ends within len(used) + 1 steps
        name, n = numbered(n), n + 1
    used.add(filename_key(name))
    return name


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # same inode: symlinks, hard links, any spelling
    except OSError:
        return False


def is_within(child: Path, folder: Path) -> bool:
    try:
        c, f = child.resolve(), folder.resolve()
    except (OSError, RuntimeError):
        return False
    if c == f or c.is_relative_to(f):
        return True
    # a case-insensitive or differently spelled folder: compare the existing ancestors by inode
    return f.is_dir() and any(_same(parent, f) for parent in c.parents)


def output_clash(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike], *,
                 option: str = "-o") -> str | None:
    """The one guard of every command that writes: a Chinese message when writing any of
    `outputs` would replace, or write into, one of the command's `inputs`; None when it is safe.

    An output is a file we write or a folder we write and delete files in. It clashes with an
    input when it is the same file (compared by inode, so a symlink, a hard link or another
    spelling of the path is caught), when it already exists inside an input folder (it would be
    read as an input and then replaced), or when it is a folder that holds the input."""
    ins = [Path(i) for i in inputs if i is not None]
    for out in (Path(o) for o in outputs if o is not None):
        if not (out.exists() or out.is_symlink()):
            continue
        for inp in ins:
            if not inp.exists():
                continue
            if _same(out, inp):
                what = "文件夹" if inp.is_dir() else "文件"
                return f"输出「{out}」就是输入{what}「{inp}」，写入会覆盖它。请用 {option} 另选输出位置。"
            if inp.is_dir() and is_within(out, inp):
                return (f"输出「{out}」已存在于输入文件夹「{inp}」中，写入会覆盖这个输入文件。"
                        f"请用 {option} 另选输出位置（不要放在输入文件夹中）。")
            if out.is_dir() and is_within(inp, out):
                return f"输入「{inp}」在输出文件夹「{out}」中，写入可能覆盖或删除它。请用 {option} 另选输出位置。"
    return None


_OS_ERRORS = {
    errno.EACCES: "没有权限，或文件正被其他程序占用（如已在 Excel/WPS 中打开，请先关闭）",
    errno.EPERM: "没有权限，或文件正被其他程序占用（如已在 Excel/WPS 中打开，请先关闭）",
    errno.EBUSY: "文件正被其他程序占用（如已在 Excel/WPS 中打开，请先关闭）",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一部分不是文件夹",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "磁盘或文件夹是只读的",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EEXIST: "文件已存在",
    errno.EIO: "读写磁盘出错",
}


def os_error_text(e: OSError) -> str:
    """An operating-system error in Chinese for the people who read our messages."""
    return _OS_ERRORS.get(e.errno, e.strerror or str(e))
