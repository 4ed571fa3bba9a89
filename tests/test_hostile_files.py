"""Files that lie or never end (issue 8 §3): zip members decompressed under a cap on the bytes
actually produced, duplicate member names, sheet relationships pointing outside the package, work
bounded per sheet and per workbook (peak memory measured in a subprocess), non-regular files, and
Excel's `_xHHHH_` string escapes. Every fixture is generated here."""

from __future__ import annotations

import io
import json
import os
import random
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests import reader_fixtures as fx
from xlsx_tools.read import ooxml
from xlsx_tools.read.intake import open_source
from xlsx_tools.read.reader import KIND_OK, KIND_UNREADABLE, read_and_check, read_workbook
from xlsx_tools.read.safezip import Budget, MemberTooLarge, duplicate_name, read_member

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return fx.write_filled(tmp_path_factory.mktemp("hostile") / "base.xlsx")


# ---------------------------------------------------------------------------------------------
# helpers that build lying archives


def lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite the uncompressed size of `member` in its local header and the central directory
    (the CRC is left alone): a "lying" zip whose headers understate what the data inflates to."""
    buf = bytearray(data)
    name = member.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        pos = buf.find(sig)
        while pos >= 0:
            n = int.from_bytes(buf[pos + name_len_at:pos + name_len_at + 2], "little")
            if bytes(buf[pos + name_at:pos + name_at + n]) == name:
                buf[pos + size_at:pos + size_at + 4] = declared.to_bytes(4, "little")
            pos = buf.find(sig, pos + 4)
    return bytes(buf)


def with_duplicate(src: Path, member: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zout.writestr(member, data)
    return out.getvalue()


def peak_rss_mb(code: str, timeout: float = 240) -> tuple[float, str]:
    """Run `code` in a fresh interpreter (our package first on the path); its peak RSS in MB and
    its stdout."""
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big pytest process
    # would report its parent's peak
    prog = textwrap.dedent(code) + textwrap.dedent("""
        import re, resource
        try:
            with open("/proc/self/status") as fh:
                peak = int(re.search(r"VmHWM:\\s*(\\d+) kB", fh.read()).group(1)) / 1024
        except (OSError, AttributeError):
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("PEAK", peak)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    peak = float(re.search(r"PEAK ([\d.]+)", done.stdout).group(1))
    return peak, done.stdout


# ---------------------------------------------------------------------------------------------
# read_member: the one routine for every member we decompress


def test_read_member_equals_zipfile_and_stops_at_the_cap():
    out = io.BytesIO()
    payload = os.urandom(50_000) + b"x" * 2_000_000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.bin", payload)
        z.writestr("empty", b"")
        z.writestr(zipfile.ZipInfo("stored.txt"), b"hello" * 1000)
    zf = zipfile.ZipFile(out)
    for info in zf.infolist():
        assert read_member(zf, info, 10 * MiB) == zf.read(info)
    with pytest.raises(MemberTooLarge) as e:
        read_member(zf, zf.getinfo("a.bin"), 1 * MiB)
    assert e.value.limit == 1 * MiB and not e.value.total
    budget = Budget(1_000_000)
    with pytest.raises(MemberTooLarge) as e:
        read_member(zf, zf.getinfo("a.bin"), 10 * MiB, budget)
    assert e.value.total


def test_read_member_refuses_a_member_that_is_not_what_its_header_says():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", b"abc" * 10_000)
    lying = lie_about_size(out.getvalue(), "a.txt", 1000)
    zf = zipfile.ZipFile(io.BytesIO(lying))
    with pytest.raises(zipfile.BadZipFile):
        read_member(zf, zf.getinfo("a.txt"), 10 * MiB)


def test_lying_bomb_stops_at_the_cap_not_at_the_declared_size():
    """512 MiB of zeros declared as 1 KB: stdlib zipfile's read() inflates it in one call (MemoryError
    in the issue); we stop after the cap, with little memory."""
    peak, out = peak_rss_mb("""
        import io, zipfile
        from tests.test_hostile_files import lie_about_size
        from xlsx_tools.read.safezip import MemberTooLarge, read_member
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, z.open("xl/worksheets/sheet1.xml", "w") as fh:
            block = bytes(1 << 20)
            for _ in range(512):
                fh.write(block)
        lying = lie_about_size(buf.getvalue(), "xl/worksheets/sheet1.xml", 1000)
        del buf
        zf = zipfile.ZipFile(io.BytesIO(lying))
        try:
            read_member(zf, zf.getinfo("xl/worksheets/sheet1.xml"), 64 << 20)
        except MemberTooLarge as e:
            print("STOPPED", e.limit)
    """)
    assert "STOPPED 67108864" in out
    assert peak < 300, peak


def test_workbook_part_inflating_past_its_declared_size_is_a_zip_bomb(base, tmp_path):
    """A sheet part whose real data inflates past the per-part cap while its header says 1 KB."""
    pad = b"<row>" + b"<c><v>0</v></c>" * 1000 + b"</row>"
    part = fx.sheet_part(base, "表三")
    big = fx.rewrite_zip(base, tmp_path / "big.xlsx",
                         {part: lambda d: d.replace(b"</sheetData>", pad * 5000 + b"</sheetData>")})
    lying = tmp_path / "lying.xlsx"
    lying.write_bytes(lie_about_size(big.read_bytes(), part, 1000))
    from xlsx_tools.read.intake import Limits

    result = read_workbook(lying, limits=Limits(max_entry_bytes=8 * MiB, max_ratio=1e9))
    assert result.kind == KIND_UNREADABLE
    [f] = result.findings
    assert f.code == "ZIP_BOMB"
    assert "实际解压后超过 8 MB" in f.message and "压缩炸弹" in f.message and part in f.message


def test_all_parts_together_are_capped_by_bytes_produced(base, tmp_path):
    from xlsx_tools.read.intake import Limits

    result = read_workbook(base, limits=Limits(max_total_bytes=40_000))
    [f] = result.findings
    assert f.code == "ZIP_BOMB" and "总大小超过" in f.message


# ---------------------------------------------------------------------------------------------
# duplicate names, relationships outside the package


def test_duplicate_part_names_are_refused(base, tmp_path):
    part = fx.sheet_part(base, "表三")
    with zipfile.ZipFile(base) as z:
        original = z.read(part)
    dup = tmp_path / "dup.xlsx"
    dup.write_bytes(with_duplicate(base, part, original))
    result = read_and_check(dup)
    assert result.kind == KIND_UNREADABLE and result.report is None
    [f] = result.findings
    assert f.code == "UNSAFE_FILE" and f.values["reason"] == "duplicate"
    assert f"两个同名的部件“{part}”" in f.message and "篡改" in f.message


def test_part_names_differing_only_in_case_are_duplicates(base, tmp_path):
    part = fx.sheet_part(base, "表三")
    case = tmp_path / "case.xlsx"
    fx.rewrite_zip(base, case, add={part.upper(): b"<x/>"})
    [f] = read_and_check(case).findings
    assert f.code == "UNSAFE_FILE" and f.values["reason"] == "duplicate"


def test_duplicate_name_helper():
    assert duplicate_name(["a", "b", "a"]) == "a"
    assert duplicate_name(["a", "A"]) is None
    assert duplicate_name(["a", "A"], casefold=True) == "A"


@pytest.mark.parametrize("target", [
    "../../../etc/passwd", "/etc/passwd", "http://example.com/sheet3.xml", "file:///C:/sheet3.xml",
    "worksheets/nothere.xml",
])
def test_sheet_relationship_outside_the_package_is_a_damaged_file(base, tmp_path, target):
    part = fx.sheet_part(base, "表三")
    old = part.removeprefix("xl/")
    bad = fx.rewrite_zip(base, tmp_path / "rel.xlsx",
                         {"xl/_rels/workbook.xml.rels": fx.bytes_replace(f'Target="{old}"'.encode(),
                                                                         f'Target="{target}"'.encode())})
    result = read_and_check(bad)
    assert result.kind == KIND_UNREADABLE and result.report is None
    assert [f.code for f in result.findings] == ["UNREADABLE"]  # not 166 BLANKs
    message = result.findings[0].message
    assert "工作表「表三」的内容不在文件中" in message and "文件已损坏" in message
    assert target[:40] in message or "文件中没有" in message


# ---------------------------------------------------------------------------------------------
# bounded work per sheet and per workbook


def padded(src: Path, dst: Path, mib: int, sheets: str = "2-6", values: int = 9) -> Path:
    """Sheets padded with `mib` MiB of cells without r= attributes each (the issue's case: every
    part under the per-part cap, the file under the size cap)."""
    rnd = random.Random(7)

    def row() -> str:
        return "<row>" + "".join(f"<c><v>{rnd.randint(0, values)}</v></c>" for _ in range(50)) + "</row>"

    chunk = "".join(row() for _ in range(100)).encode()
    pad = chunk * (mib * MiB // len(chunk))
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if re.match(rf"xl/worksheets/sheet[{sheets}]\.xml$", info.filename):
                data = data.replace(b"</sheetData>", pad + b"</sheetData>")
            zout.writestr(info.filename, data)
    dst.write_bytes(out.getvalue())
    return dst


def test_sheet_padded_with_cells_is_bounded_in_time_and_memory(base, tmp_path):
    """Five sheets padded with ~40 MiB of cells each (an 18 MB file; before: 2.5 GB and 217 s, then
    a clean report): one TOO_LARGE finding naming the sheet, peak memory well under 300 MB."""
    path = padded(base, tmp_path / "padded.xlsx", 40)
    assert path.stat().st_size < 20 * MiB
    peak, out = peak_rss_mb(f"""
        import time
        from xlsx_tools.read.reader import read_and_check
        t = time.perf_counter()
        r = read_and_check({str(path)!r})
        print("SECONDS", time.perf_counter() - t)
        print("CODES", [f.code for f in r.findings])
        print("MESSAGE", r.findings[0].message)
    """)
    assert "CODES ['TOO_LARGE']" in out
    assert re.search(r"工作表「表.」中的单元格超过 200000 个", out)
    assert peak < 300, peak
    assert float(re.search(r"SECONDS ([\d.]+)", out).group(1)) < 30


def test_all_sheets_together_are_bounded(base, tmp_path, monkeypatch):
    monkeypatch.setattr(ooxml, "MAX_BOOK_CELLS", 30_000)
    path = padded(base, tmp_path / "some.xlsx", 1, sheets="2-6")  # ~15,000 cells per sheet
    [f] = read_and_check(path).findings
    assert f.code == "TOO_LARGE" and "与其他工作表合计" in f.message and f.values["reason"] == "cells"


def test_rows_and_strings_are_bounded(base, tmp_path, monkeypatch):
    monkeypatch.setattr(ooxml, "MAX_SHEET_ROWS", 500)
    part = fx.sheet_part(base, "表三")
    rows = fx.rewrite_zip(base, tmp_path / "rows.xlsx",
                          {part: lambda d: d.replace(b"</sheetData>", b"<row/>" * 600 + b"</sheetData>")})
    [f] = read_and_check(rows).findings
    assert f.code == "TOO_LARGE" and "工作表「表三」中的行超过 500 行" in f.message
    monkeypatch.setattr(ooxml, "MAX_STRINGS", 10)
    [f] = read_and_check(base).findings
    assert f.code == "TOO_LARGE" and "共享字符串表中的字符串超过 10 个" in f.message


def test_styles_are_bounded_in_count_and_memory(base, tmp_path, monkeypatch):
    """A styles.xml padded with 10^6 number formats (48 MB unpacked, under the per-part cap) was
    held whole while looking for date formats: 676 MB and 8.7 s. Entries are dropped as they are
    read and their number is bounded (Excel allows 64,000 cell formats)."""
    def many(d: bytes) -> bytes:
        fmts = b"".join(b'<numFmt numFmtId="%d" formatCode="0.%s"/>' % (1000 + i, b"0" * (i % 7))
                        for i in range(1_000_000))
        return d.replace(b"</numFmts>", fmts + b"</numFmts>", 1)

    path = fx.rewrite_zip(base, tmp_path / "styles.xlsx", {"xl/styles.xml": many})
    peak, out = peak_rss_mb(f"""
        from xlsx_tools.read.reader import read_and_check
        r = read_and_check({str(path)!r})
        print("CODES", [f.code for f in r.findings])
        print("MESSAGE", r.findings[0].message)
    """)
    assert "CODES ['TOO_LARGE']" in out
    assert "样式表中的数字格式或单元格格式超过 65536 个" in out
    assert peak < 300, peak
    monkeypatch.setattr(ooxml, "MAX_STYLES", 3)  # the template's own styles pass at the real bound
    [f] = read_and_check(base).findings
    assert f.code == "TOO_LARGE" and f.values["reason"] == "styles"
    monkeypatch.undo()
    assert read_and_check(base).findings == []


def test_a_part_with_too_many_elements_is_bounded(base, tmp_path, monkeypatch):
    monkeypatch.setattr(ooxml, "MAX_PART_ELEMENTS", 50)
    [f] = read_and_check(base).findings
    assert f.code == "TOO_LARGE" and f.values["reason"] == "elements" and "XML 元素超过 50 个" in f.message


# ---------------------------------------------------------------------------------------------
# non-regular files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "xlsx_tools", "check", "--json", str(fifo)], capture_output=True,
                          text=True, timeout=60, env=env)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    [finding] = json.loads(done.stdout)["findings"]
    assert finding["code"] == "UNREADABLE" and "不是普通文件（是命名管道 FIFO），未读取" in finding["message"]
    intake = open_source(fifo)
    assert intake.finding is not None and intake.finding.values["reason"] == "not_regular"


def test_folder_given_as_a_file_is_not_regular(tmp_path):
    intake = open_source(tmp_path)
    assert intake.finding is not None and "这是一个文件夹，不是文件" in intake.finding.message


# ---------------------------------------------------------------------------------------------
# _xHHHH_ escapes


def test_unescape_as_excel_does():
    assert ooxml.unescape("a_x000D_\nb") == "a\nb"
    assert ooxml.unescape("a_x000D_b") == "a\nb"
    assert ooxml.unescape("tab_x0009_x") == "tab\tx"
    assert ooxml.unescape("_x005F_x000D_") == "_x000D_"  # an escaped underscore: the literal text
    assert ooxml.unescape("_x4E2D__x6587_") == "中文"
    assert ooxml.unescape("_xD83D__xDE00_") == "\U0001F600"
    assert ooxml.unescape("_xD83D_") == "\ufffd"
    assert ooxml.unescape("bell_x0007_") == "bell"  # cannot be written to XML again
    assert ooxml.unescape("_x00zz_ and _x12_") == "_x00zz_ and _x12_"
    assert ooxml.unescape("plain") == "plain"


def test_escapes_in_shared_and_inline_strings_are_decoded(base, tmp_path):
    overview = fx.NARRATIVE["overview"]
    head, tail = overview[:6], overview[6:]
    edited = fx.rewrite_zip(base, tmp_path / "esc.xlsx", {
        "xl/sharedStrings.xml": fx.bytes_replace(overview.encode(),
                                                 f"{head}_x000D_\n{tail}_x005F_x000D_".encode()),
    })
    result = read_and_check(edited)
    assert result.kind == KIND_OK
    text = result.report.narrative["overview"]
    assert "_x000D_\n" not in text and f"{head}\n{tail}" in text
    assert text.endswith("_x000D_")  # the escaped underscore stays literal
