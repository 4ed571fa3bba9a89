"""Issue 12, PDF: hostile and image-only PDFs (no LibreOffice needed), and PDF files that are not
reports. The round trips through LibreOffice are in test_import_libreoffice.py."""

from __future__ import annotations

import io
import zlib

import pytest
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.read.published import import_file
from xlsx_tools.read.published.sources import Limits

pytest.importorskip("pdfplumber")


def pdf_bytes(pages: list[bytes], *, extra: list[bytes] | None = None, flate: bool = False) -> bytes:
    """A minimal valid PDF: one content stream per page (Helvetica), with a correct xref."""
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font = 3 + 2 * n
    for i, content in enumerate(pages):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        filt = b" /Filter /FlateDecode" if flate else b""
        objs.append(b"<< /Length %d%s >>\nstream\n" % (len(content), filt) + content + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objs += extra or []
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + o + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def text_page(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 760 Td (" + text.encode() + b") Tj ET"


def test_a_pdf_with_too_many_pages(tmp_path):
    p = tmp_path / "many.pdf"
    p.write_bytes(pdf_bytes([text_page(f"page {i}") for i in range(80)]))
    r = import_file(p, limits=Limits(max_pdf_pages=60))
    assert r.report is None and "有 80 页，超出上限 60 页" in r.findings[0].message


def test_an_image_only_pdf_needs_ocr(tmp_path):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (400, 560), "white").save(buf, "PDF")
    p = tmp_path / "scan.pdf"
    p.write_bytes(buf.getvalue())
    r = import_file(p)
    assert r.report is None
    assert "扫描件" in r.findings[0].message and "需要 OCR" in r.findings[0].message
    assert r.findings[0].values["reason"] == "needs_ocr"


def test_a_pdf_bomb_is_stopped(tmp_path, monkeypatch):
    """A content stream that inflates far beyond the parsing child's memory cap (lowered here to
    keep the test light): the child fails or is stopped, and the user gets a message."""
    from xlsx_tools.read.published import pdf

    monkeypatch.setattr(pdf, "MEMORY_CAP", 400 << 20)
    comp = zlib.compressobj(9)
    chunk = b"0 0 m " * (1 << 16)
    body = b"".join(comp.compress(chunk) for _ in range((600 << 20) // len(chunk))) + comp.flush()
    data = pdf_bytes([body], flate=True)
    p = tmp_path / "bomb.pdf"
    p.write_bytes(data)
    r = import_file(p, limits=Limits(pdf_seconds=20))
    assert r.report is None
    assert "PDF 炸弹" in r.findings[0].message or "没有可读取的文字" in r.findings[0].message


@pytest.mark.parametrize("data, expected", [
    (b"%PDF-1.4\n" + b"garbage " * 100, "不是有效的 PDF"),
    (pdf_bytes([text_page("hello")])[:200], "不是有效的 PDF"),
])
def test_broken_pdfs(tmp_path, data, expected):
    p = tmp_path / "broken.pdf"
    p.write_bytes(data)
    r = import_file(p)
    text = r.findings[0].message
    assert expected in text or "没有可读取的文字" in text or "没有找到" in text
    res = CliRunner().invoke(app, ["import", str(p)])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_a_pdf_that_is_not_a_report(tmp_path):
    p = tmp_path / "other.pdf"
    p.write_bytes(pdf_bytes([text_page("Invoice 2021 total 300")]))
    r = import_file(p)
    assert r.report is not None and r.has_errors
    assert r.source_block["figures_found"] == 0
