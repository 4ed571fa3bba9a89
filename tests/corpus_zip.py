"""A zip writer for the bad-input corpus that says whatever we want it to say: sizes that lie,
duplicate names, names in GBK without the UTF-8 flag, compression methods nobody supports.
Python's zipfile refuses to write most of these, so local headers, the central directory and the
end record are packed by hand (APPNOTE 4.3)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

DEFLATED = zipfile.ZIP_DEFLATED
STORED = zipfile.ZIP_STORED


@dataclass
class Entry:
    """One member. `payload` is what is stored (already compressed when method is DEFLATED and
    `raw` is True); the declared sizes and CRC default to the truth."""

    name: str | bytes
    data: bytes = b""
    method: int = DEFLATED
    raw: bool = False  # data is already the compressed stream
    declared_size: int | None = None  # uncompressed size written in both headers
    crc: int | None = None
    utf8_flag: bool | None = None  # None: set when the name is a str with non-ASCII characters
    flags: int = 0
    external_attr: int = 0o100644 << 16
    # the size the data really decompresses to (for raw streams)
    real_size: int | None = None


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def deflate_zeros(size: int, chunk: int = 1 << 24) -> tuple[bytes, int]:
    """A raw deflate stream of `size` zero bytes (about 1/1000 of it), and its CRC-32: one chunk
    compressed from a fresh state and fully flushed (so it refers to nothing before it) repeated."""
    assert size % chunk == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(chunk)
    piece = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // chunk):
        crc = zlib.crc32(block, crc)
    return piece * (size // chunk) + b"\x03\x00", crc


def build(entries: Iterable[Entry], *, comment: bytes = b"", prefix: bytes = b"",
          declared_entries: int | None = None) -> bytes:
    """The bytes of an archive holding `entries` in order (duplicates and all)."""
    body = bytearray(prefix)
    central = bytearray()
    count = 0
    for e in entries:
        count += 1
        if isinstance(e.name, str):
            name = e.name.encode("utf-8")
            utf8 = e.utf8_flag if e.utf8_flag is not None else not e.name.isascii()
        else:
            name = e.name
            utf8 = bool(e.utf8_flag)
        if e.raw:
            payload = e.data
            real = e.real_size if e.real_size is not None else 0
            crc = e.crc if e.crc is not None else 0
        else:
            payload = deflate(e.data) if e.method == DEFLATED else e.data
            real = len(e.data)
            crc = e.crc if e.crc is not None else zlib.crc32(e.data)
        size = e.declared_size if e.declared_size is not None else real
        flags = e.flags | (0x800 if utf8 else 0)
        offset = len(body)
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, e.method, 0, 0x21,
                            crc, len(payload), size & 0xFFFFFFFF, len(name), 0)
        body += name + payload
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x031E, 20, flags, e.method, 0, 0x21,
                               crc, len(payload), size & 0xFFFFFFFF, len(name), 0, 0, 0, 0,
                               e.external_attr, offset)
        central += name
    n = count if declared_entries is None else declared_entries
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(central), len(body), len(comment))
    return bytes(body + central + end + comment)


def entries_of(path: Path) -> Iterator[Entry]:
    """The members of an existing archive as Entries (data uncompressed), for rewriting."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            yield Entry(info.filename, z.read(info))


def rebuild(path: Path, dst: Path, *, replace: dict[str, Entry] | None = None,
            extra: Iterable[Entry] = (), first: Iterable[Entry] = ()) -> Path:
    """Copy an archive through `build`, swapping members by name and adding others."""
    replace = replace or {}
    entries = list(first)
    for e in entries_of(path):
        entries.append(replace.get(str(e.name), e))
    entries.extend(extra)
    dst.write_bytes(build(entries))
    return dst
