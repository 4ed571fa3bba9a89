"""Safe intake: what a file is, from its bytes, and the caps of the zip pre-scan."""

from __future__ import annotations

import struct
import zipfile

import pytest
import xlsxwriter

from tests import reader_fixtures as fx
from xlsx_tools.read.intake import DEFAULT_LIMITS, Limits, open_source, sniff
from xlsx_tools.read.reader import read_workbook


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    return fx.write_filled(tmp_path_factory.mktemp("intake") / "filled.xlsx")


@pytest.mark.parametrize(("data", "name", "kind"), [
    (b"", "a.xlsx", "empty"),
    (b"PK\x03\x04rest", "a.xlsx", "zip-container"),
    (b"PKxx", "a.xlsx", "truncated"),
    (fx.ole_file("Workbook"), "a.xls", "xls"),
    (fx.ole_file("Workbook"), "a.et", "et"),
    (fx.ole_file("WordDocument"), "a.doc", "doc"),
    (fx.ole_file("EncryptionInfo", "EncryptedPackage"), "a.xlsx", "encrypted"),
    (fx.ole_file("Other"), "a.xlsx", "ole"),
    (b"%PDF-1.7\n", "a.pdf", "pdf"),
    (b"Rar!\x1a\x07\x01\x00", "a.rar", "rar"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04", "a.7z", "7z"),
    (b"\x1f\x8b\x08\x00", "a.gz", "gzip"),
    (b"\x89PNG\r\n\x1a\n", "a.png", "image"),
    (b"\xff\xd8\xff\xe0", "a.jpg", "image"),
    (b"<html><body><table><tr><td>1</td></tr></table>", "a.xls", "html"),
    (b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">', "a.xml", "xml2003"),
    ("机关名称,数量\n测试局,1\n".encode("gbk"), "a.txt", "csv"),
    ("机关名称\t数量\n测试局\t1\n".encode("utf-8-sig"), "a.txt", "csv"),
    ("一个字段\n".encode(), "a.csv", "csv"),
    ("年度报告全文".encode("utf-16"), "a.txt", "text"),
    (bytes(range(256)) * 4, "a.bin", "unknown"),
])
def test_sniff(data, name, kind):
    assert sniff(data, name) == kind


def test_accepts_our_template_and_hashes_it(filled):
    intake = open_source(filled)
    assert intake.ok and intake.detected == "xlsx"
    assert intake.sha256 == fx.sha256(filled) and intake.size == filled.stat().st_size
    assert intake.has("xl/workbook.xml")
    bytes_intake = open_source(filled.read_bytes(), name="archive.zip!a/b.xlsx")
    assert bytes_intake.ok and bytes_intake.name == "archive.zip!a/b.xlsx"


def test_size_cap_before_reading(filled):
    limits = Limits(max_file_bytes=1000)
    for source in (filled, filled.read_bytes()):
        intake = open_source(source, limits=limits)
        assert intake.finding.code == "TOO_LARGE"
        assert intake.finding.values == {"size": filled.stat().st_size, "limit": 1000}
        assert "过大" in intake.finding.message


def test_missing_file_is_a_finding(tmp_path):
    result = read_workbook(tmp_path / "没有这个文件.xlsx")
    assert result.kind == "unreadable"
    assert result.findings[0].code == "UNREADABLE" and result.findings[0].values == {"reason": "io"}
    assert "打开文件失败" in result.findings[0].message


def test_entry_and_total_caps():
    data = fx.zip_bytes({"xl/workbook.xml": b"<a/>" * 1000, "xl/styles.xml": b"<b/>" * 1000})
    f = open_source(data, "x.xlsx", limits=Limits(max_entry_bytes=3000)).finding
    assert f.code == "ZIP_BOMB" and f.values["entry"] == "xl/workbook.xml"
    f = open_source(data, "x.xlsx", limits=Limits(max_total_bytes=6000)).finding
    assert f.code == "ZIP_BOMB" and f.values == {"size": 8000}
    assert open_source(data, "x.xlsx").ok  # within the caps it goes on to the reader


def test_entry_count_is_read_from_the_end_record_before_listing():
    data = fx.zip_bytes({f"f{i}": b"" for i in range(20)})
    f = open_source(data, "x.xlsx", limits=Limits(max_entries=10)).finding
    assert f.code == "ZIP_BOMB" and f.values == {"entries": 20}


def test_ratio_guard_accepts_real_styles_and_shared_strings(tmp_path):
    """A workbook with thousands of cell formats and repetitive strings: its styles.xml and
    sharedStrings.xml compress well (10-30:1) but far less than a bomb (~1000:1)."""
    path = tmp_path / "big.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    formats = [wb.add_format({"num_format": "0." + "0" * (i % 10), "font_size": 8 + i % 20, "border": i % 5,
                              "bg_color": f"#{i * 7919 % 0xFFFFFF:06X}"}) for i in range(1500)]
    for r in range(3000):
        ws.write_string(r, 0, f"第{r}行 本机关不掌握相关政府信息 {r % 300}", formats[r % 1500])
        ws.write_number(r, 1, r, formats[r * 3 % 1500])
    wb.close()
    with zipfile.ZipFile(path) as z:
        ratios = {i.filename: i.file_size / i.compress_size for i in z.infolist()}
    assert ratios["xl/styles.xml"] > 10 and ratios["xl/sharedStrings.xml"] > 5
    strict = Limits(ratio_floor_bytes=16 * 1024)  # apply the guard to every part of this size
    assert open_source(path, limits=strict).ok
    bomb = fx.zip_bytes({"xl/workbook.xml": b" " * (2 << 20)})
    assert open_source(bomb, "b.xlsx").finding.code == "ZIP_BOMB"
    assert open_source(bomb, "b.xlsx").finding.values["ratio"] > DEFAULT_LIMITS.max_ratio


@pytest.mark.parametrize("bad", ["/etc/passwd", "C:/Windows/x.xml", "xl\\..\\x", "a/../../b", "../x"])
def test_path_tricks(bad):
    data = fx.zip_bytes({"xl/workbook.xml": b"<a/>", bad: b"x"})
    f = open_source(data, "p.xlsx").finding
    assert f.code == "UNSAFE_FILE" and f.values == {"reason": "path"}


def test_a_lying_size_cannot_inflate_a_part(filled, tmp_path):
    """The central directory says sharedStrings.xml is 100 bytes: zipfile stops there and the CRC
    check fails, so the part is reported as damaged instead of being read past its declared size."""
    data = bytearray(filled.read_bytes())
    name = b"xl/sharedStrings.xml"
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        n = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if data[pos + 46:pos + 46 + n] == name:
            data[pos + 24:pos + 28] = struct.pack("<I", 100)
        pos = data.find(b"PK\x01\x02", pos + 4)
    path = tmp_path / "lying.xlsx"
    path.write_bytes(bytes(data))
    result = read_workbook(path)
    assert result.kind == "unreadable"
    assert result.findings[0].code == "UNREADABLE" and result.findings[0].values == {"reason": "zip"}
    assert "xl/sharedStrings.xml" in result.findings[0].message


def test_unsupported_compression_is_refused():
    data = fx.zip_bytes({"xl/workbook.xml": b"<a/>" * 10}, compression=zipfile.ZIP_BZIP2)
    f = open_source(data, "c.xlsx").finding
    assert f.code == "UNREADABLE" and f.values == {"reason": "zip"}
