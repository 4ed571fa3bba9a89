"""Writing a long stream of chunks (the XML of a long sheet into its zip member) a few chunks
behind the code that makes them, in a thread of its own."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class Behind:
    """Writes the chunks of a zip member in a thread of its own, a few chunks behind the caller
    that makes them: zlib and crc32 release the GIL while they work, so a long sheet is
    compressed on another core while its next rows are made (the pool's cores are idle by then).
    The chunks are written in order; an error of either side is raised in the caller."""

    DEPTH = 1  # chunks in waiting (about 80 KB each): one made while one is compressed, memory flat

    def __init__(self, fh: Any):
        self._fh = fh
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="xlsx-tools-zip", daemon=True)

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._fh.write(chunk)
                except BaseException as e:  # raised in the caller
                    self._error = e

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def __enter__(self) -> Callable[[bytes], None]:
        self._thread.start()
        return self.write

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and error is None:
            raise self._error
