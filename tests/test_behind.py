"""collect.behind.Behind: the chunks of a long sheet written in order by a thread of their own,
an error on either side raised in the caller, and no thread left behind."""

from __future__ import annotations

import io
import threading
import time
import zipfile

import pytest

from xlsx_tools.collect.behind import Behind


class Slow(io.BytesIO):
    """A file whose writes take a while and whose every write is recorded with its thread."""

    def __init__(self, fail_at: int | None = None):
        super().__init__()
        self.threads: set[str] = set()
        self.writes = 0
        self.fail_at = fail_at

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError(28, "No space left on device")
        self.threads.add(threading.current_thread().name)
        time.sleep(0.001)
        return super().write(data)


def test_chunks_are_written_in_order_by_another_thread():
    fh = Slow()
    chunks = [f"<row r=\"{i}\"/>".encode() * (i % 7 + 1) for i in range(300)]
    with Behind(fh) as write:
        for chunk in chunks:
            write(chunk)
    assert fh.getvalue() == b"".join(chunks)
    assert fh.threads == {"xlsx-tools-zip"}
    assert not [t for t in threading.enumerate() if t.name == "xlsx-tools-zip"]


def test_into_a_zip_member_the_member_is_whole():
    out = io.BytesIO()
    data = [b"<c r=\"A%d\"><v>%d</v></c>" % (i, i) * 50 for i in range(2000)]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh, Behind(fh) as write:
            for chunk in data:
                write(chunk)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None and z.read("xl/worksheets/sheet1.xml") == b"".join(data)


def test_an_error_of_the_writer_is_raised_in_the_caller():
    fh = Slow(fail_at=5)
    with pytest.raises(OSError, match="No space left"):
        with Behind(fh) as write:
            for i in range(100):
                write(b"x%d" % i)
    assert not [t for t in threading.enumerate() if t.name == "xlsx-tools-zip"]


def test_an_error_of_the_caller_stops_the_writer_and_is_the_one_raised():
    fh = Slow()
    with pytest.raises(ValueError, match="bad row"):
        with Behind(fh) as write:
            for i in range(50):
                write(b"x" * 1000)
                if i == 20:
                    raise ValueError("bad row")
    assert not [t for t in threading.enumerate() if t.name == "xlsx-tools-zip"]
    assert fh.getvalue() == b"x" * 1000 * 21  # what was made before the error, written in order



@pytest.mark.parametrize("jobs, behind", [(1, 0), (2, 5)])
def test_collect_writes_behind_only_with_more_than_one_core(tmp_path, monkeypatch, jobs, behind):
    """collect -j 1 keeps to one core: the long sheets are compressed in its own thread (a
    writer thread's hand-overs cost CPU there and save nothing); with a pool of two, each of the
    five long sheets is compressed behind the rows being made. Either way the workbook is whole."""
    from tests.test_collect import ROSTER, clean_report, write_return
    from xlsx_tools.collect import run, sheets, walk

    started: list[str] = []

    class Counted(Behind):
        def __enter__(self):
            started.append(threading.current_thread().name)
            return super().__enter__()

    monkeypatch.setattr(sheets, "Behind", Counted)
    for i in range(2):
        write_return(tmp_path / "in" / f"{i}.xlsx", clean_report(i, i))
    run.collect(tmp_path / "in", ROSTER[:2], tmp_path / "out", jobs=jobs)
    assert len(started) == behind
    with zipfile.ZipFile(tmp_path / "out" / walk.OUTPUT_XLSX) as z:
        assert z.testzip() is None
        data = z.read("xl/worksheets/sheet7.xml").decode()
    assert data.count("<row ") == 1 + 2 * len(run.load_format().fields)
