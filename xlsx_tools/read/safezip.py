"""Reading zip members without trusting what the archive says about them.

One routine, `read_member`, is used for every member we decompress (workbook parts, files inside
collected archives, archives inside archives, a --narrative .docx). It decompresses the raw data
itself, a block at a time, and stops as soon as the bytes actually produced pass the cap: a header
that understates the uncompressed size (a "lying" zip bomb) costs at most `cap` bytes of memory.
The CRC and the declared size are verified afterwards, so a member that is not what its header
says is refused as damaged.

`unsafe_path` tells a member name that would land outside the folder it is extracted to (absolute,
a drive, "..", a NUL), for the workbook's parts and the members of collected archives alike.
`duplicate_name` finds a name that occurs twice in an archive (how polyglot/confusion attacks
hide a second copy of a part); callers refuse such archives.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

_BLOCK = 1 << 16
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_LOCAL_MAGIC = b"PK\x03\x04"


class MemberTooLarge(Exception):
    """A member produced more than its cap (or the archive more than its budget)."""

    def __init__(self, name: str, limit: int, total: bool = False):
        super().__init__(f"{name}: more than {limit} bytes{' in total' if total else ''}")
        self.name = name
        self.limit = limit
        self.total = total  # the budget for all members together was exceeded


class Budget:
    """Bytes that all members read from one archive may still produce together."""

    def __init__(self, limit: int):
        self.limit = limit
        self.left = limit

    def take(self, n: int, name: str) -> None:
        self.left -= n
        if self.left < 0:
            raise MemberTooLarge(name, self.limit, total=True)


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, budget: Budget | None = None,
                sink: Callable[[bytes], object] | None = None) -> bytes:
    """The bytes of a stored or deflated member, never more than `cap`: MemberTooLarge as soon as
    the data decompresses to more (whatever its header declares); zipfile.BadZipFile when the
    member is damaged or is not what its header says (size or CRC). Encrypted members and other
    compression methods are refused by the callers before this is reached (BadZipFile here).

    With `sink`, the data is handed to it a block at a time and not kept (b"" is returned): a
    hash of a big member costs no memory. The bytes returned are a bytearray (no final copy)."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise zipfile.BadZipFile(f"{info.filename}: encrypted or unsupported compression")
    fp = zf.fp
    if fp is None:
        raise ValueError("archive is closed")
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise zipfile.BadZipFile(f"{info.filename}: truncated local header")
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_MAGIC:
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    fp.seek(fields[10] + fields[11], 1)  # file name and extra field
    left = info.compress_size
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    out = bytearray()
    crc = 0
    size = 0

    def produced(chunk: bytes) -> None:
        nonlocal crc, size
        size += len(chunk)
        if size > cap:
            raise MemberTooLarge(info.filename, cap)
        if budget is not None:
            budget.take(len(chunk), info.filename)
        if sink is None:
            out.extend(chunk)
        else:
            sink(chunk)
        crc = zlib.crc32(chunk, crc)

    try:
        while left > 0:
            raw = fp.read(min(_BLOCK, left))
            if not raw:
                raise zipfile.BadZipFile(f"{info.filename}: truncated data")
            left -= len(raw)
            if inflate is None:
                produced(raw)
                continue
            data = raw
            while data:
                # at most one block of output per step: a bomb never expands in one call
                produced(inflate.decompress(data, _BLOCK))
                data = inflate.unconsumed_tail
                if inflate.eof:
                    break
            if inflate.eof:
                break
        if inflate is not None:
            while not inflate.eof and (chunk := inflate.decompress(b"", _BLOCK)):
                produced(chunk)  # output still held back by the last block's limit
            if not inflate.eof:
                raise zipfile.BadZipFile(f"{info.filename}: incomplete deflate stream")
    except zlib.error as e:
        raise zipfile.BadZipFile(f"{info.filename}: {e}") from None
    if size != info.file_size or (crc & 0xFFFFFFFF) != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: size or CRC does not match the header")
    return out  # type: ignore[return-value]  # bytes-like; no copy of up to `cap` bytes


def duplicate_name(names: Iterable[str], *, casefold: bool = False) -> str | None:
    """The first name that occurs twice (compared case-insensitively with `casefold`, as the
    parts of an Office package are), or None."""
    seen: set[str] = set()
    for name in names:
        key = name.casefold() if casefold else name
        if key in seen:
            return name
        seen.add(key)
    return None


def unsafe_path(name: str, *, backslash: bool = False) -> bool:
    """Whether a member name points outside the folder it would be extracted to: absolute, with a
    drive ("C:"), a NUL or a ".." part. With `backslash` (archives written on Windows) a "\\"
    separates parts; without it a name holding one is refused (no part of a package has one)."""
    if "\x00" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return True
    if "\\" in name and not backslash:
        return True
    return ".." in name and ".." in PurePosixPath(name.replace("\\", "/")).parts
