"""The archives a collect worker has open, kept between files.

The walker lists every member of an archive once; the workers then read the members one by one.
Opening the archive anew for each member parses its whole central directory each time, which
makes an archive of n members cost n² (9,999 small members took 156 s). A worker keeps the last
archive chain it opened (the outer file, and each nested archive by its position in the chain)
and reuses it while the file on disk is unchanged; members are consecutive in the walk, so each
archive is opened about once per worker.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Callable, Sequence
from typing import BinaryIO

from ..read.safezip import read_member
from ..util.fsutil import NotRegularFile, file_kind


class ArchiveCache:
    def __init__(self) -> None:
        self._key: tuple | None = None
        self._fh: BinaryIO | None = None
        self._zips: dict[tuple[int, ...], zipfile.ZipFile] = {}  # chain prefix -> open archive

    def member(self, path: str, members: Sequence[int], member_cap: int, nested_cap: int,
               sink: Callable[[bytes], object] | None = None) -> bytes:
        """The bytes of the member at `members` (indexes, outermost first) of the archive at
        `path`: the last one capped at `member_cap`, archives on the way at `nested_cap`."""
        if not members:
            raise ValueError("empty member chain")
        zf = self._outer(path)
        chain: tuple[int, ...] = ()
        for depth, index in enumerate(members):
            info = zf.infolist()[index]
            chain += (index,)
            if depth == len(members) - 1:
                return read_member(zf, info, member_cap, sink=sink)
            inner = self._zips.get(chain)
            if inner is None:
                # a new nested archive: forget the previous one at this depth and below
                for key in [k for k in self._zips if len(k) >= len(chain)]:
                    del self._zips[key]
                inner = self._zips[chain] = zipfile.ZipFile(io.BytesIO(read_member(zf, info, nested_cap)))
            zf = inner
        raise AssertionError("unreachable")

    def _outer(self, path: str) -> zipfile.ZipFile:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, file_kind(st.st_mode))
        key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if key != self._key or () not in self._zips:
            self.close()
            self._fh = open(path, "rb")  # noqa: SIM115 - kept open until the next archive or close()
            self._zips[()] = zipfile.ZipFile(self._fh)
            self._key = key
        return self._zips[()]

    def close(self) -> None:
        self._zips.clear()
        self._key = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


ARCHIVES = ArchiveCache()  # one per process (each pool worker has its own)
