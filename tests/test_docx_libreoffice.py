"""The Word report through a real LibreOffice: converted to PDF once, then measured with poppler
(pdftotext -bbox, pdftoppm) against GB/T 9704-2012 and the format file."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.spec import load_format
from xlsx_tools.write import docx_report as dr
from xlsx_tools.write import office

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
    pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                       reason="poppler-utils (pdftotext, pdftoppm) 未安装"),
]

SPEC = load_format()
PT_PER_MM = 72 / 25.4
LEFT = dr.MARGIN_LEFT_MM * PT_PER_MM
TOP = dr.MARGIN_TOP_MM * PT_PER_MM
XHTML = "{http://www.w3.org/1999/xhtml}"
DPI = 60


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass
class Rendered:
    pdf: Path
    width: float  # page size in pt
    height: float
    words: list[Word]
    text: str
    pages: list[tuple[int, int, bytes]]  # (width, height, 8-bit grey pixels) per page at DPI
    report: object


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Rendered:
    out = tmp_path_factory.mktemp("pdf")
    report = samples.sample_report()
    report.figures = samples.random_figures(SPEC, random.Random(11), busy=1.0)
    report.figures["t2.item8.fees.amount"] = Decimal("26.55")
    docx_path = dr.write_docx(report, out / "报告.docx", signature=True, date="2022年1月20日")
    pdf = office.convert(docx_path, "pdf", out)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    root = ET.fromstring(bbox)
    words, size = [], None
    for n, page in enumerate(root.iter(f"{XHTML}page"), start=1):
        size = float(page.get("width")), float(page.get("height"))
        for w in page.iter(f"{XHTML}word"):
            words.append(Word(n, *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")), w.text or ""))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(pdf), str(out / "page")], check=True)
    pages = [_read_pgm(p) for p in sorted(out.glob("page-*.pgm"), key=lambda p: int(p.stem.split("-")[1]))]
    # PNGs to look at (kept in the temporary folder; XLSX_TOOLS_KEEP_PNG copies them out)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(out / "page")], check=True)
    keep = os.environ.get("XLSX_TOOLS_KEEP_PNG")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for png in out.glob("page-*.png"):
            shutil.copy(png, Path(keep) / png.name)
    return Rendered(pdf, size[0], size[1], words, text, pages, report)


def _read_pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(fields.group(1)), int(fields.group(2))
    return w, h, data[fields.end():fields.end() + w * h]


def lines_of(words: list[Word], page: int) -> list[str]:
    rows: dict[int, list[Word]] = defaultdict(list)
    for w in words:
        if w.page == page:
            rows[round(w.y0)].append(w)
    return ["".join(w.text for w in sorted(r, key=lambda w: w.x0)) for _, r in sorted(rows.items())]


def test_pdf_is_a4(rendered):
    assert abs(rendered.width - 210 * PT_PER_MM) < 1 and abs(rendered.height - 297 * PT_PER_MM) < 1
    assert len(rendered.pages) >= 4


def test_every_table_label_is_in_its_cell(rendered):
    """Each label read back from the words lying inside its cell's column range (pdftotext's
    reading order mixes neighbouring cells, so the cells are cut out geometrically)."""
    missing = []
    for table in SPEC.tables:
        edges = [LEFT]
        for width in dr.table_layout(table, rendered.report.figures).widths:
            edges.append(edges[-1] + width / 20)
        for cell in table.cells:
            x0, x1 = edges[cell.col - table.origin_col], edges[cell.col - table.origin_col + cell.colspan]
            inside = sorted(
                (w for w in rendered.words if w.x0 >= x0 - 1 and w.x1 <= x1 + 1),
                key=lambda w: (w.page, round(w.y0), w.x0),
            )
            if re.sub(r"\s", "", cell.text) not in "".join(w.text for w in inside):
                missing.append((table.key, cell.text))
    assert missing == []


def test_every_table_label_is_in_the_pdf_text(rendered):
    """pdftotext's plain text holds every label's characters in order (cells may be interleaved)."""
    text = re.sub(r"\s", "", rendered.text)
    for table in SPEC.tables:
        for cell in table.cells:
            pos = 0
            for ch in re.sub(r"\s", "", cell.text):
                pos = text.find(ch, pos) + 1
                assert pos, cell.text


def test_everything_stays_inside_the_text_block_width(rendered):
    right = rendered.width - dr.MARGIN_RIGHT_MM * PT_PER_MM
    outside = [w for w in rendered.words if w.x0 < LEFT - 1 or w.x1 > right + 1]
    assert outside == []


def test_table_borders_fit_the_page(rendered):
    """No dark pixel (text or table rule) left or right of the 156 mm text block."""
    for n, (w, h, pixels) in enumerate(rendered.pages, start=1):
        px_per_mm = w / 210
        lo, hi = int(dr.MARGIN_LEFT_MM * px_per_mm) - 1, int((210 - dr.MARGIN_RIGHT_MM) * px_per_mm) + 1
        for y in range(h):
            row = pixels[y * w:(y + 1) * w]
            dark = [x for x in range(w) if row[x] < 128]
            if dark:
                assert lo <= dark[0] and dark[-1] <= hi, f"page {n} row {y}: {dark[0]}..{dark[-1]} outside {lo}..{hi}"


def test_first_body_line_has_28_characters(rendered):
    lines = lines_of(rendered.words, 1)
    assert "根据《中华人民共和国政府信息公开条例》规定和《国务院" in lines  # 2 indent + 26 = 28
    assert "办公厅政府信息与政务公开办公室关于印发<中华人民共和国政" in lines  # 28


def test_a_full_text_page_has_22_lines(rendered):
    block_bottom = rendered.height - dr.MARGIN_BOTTOM_MM * PT_PER_MM
    body = [w for w in rendered.words if w.page == 2 and TOP - 2 <= w.y0 and w.y1 <= block_bottom + 2]
    assert len({round(w.y0) for w in body}) == 22


def test_page_numbers_odd_right_even_left_7mm_below_the_text(rendered):
    block_bottom = rendered.height - dr.MARGIN_BOTTOM_MM * PT_PER_MM
    right = rendered.width - dr.MARGIN_RIGHT_MM * PT_PER_MM
    one_char = dr.PAGE_NUMBER_PT
    for page in range(1, len(rendered.pages) + 1):
        footer = sorted((w for w in rendered.words if w.page == page and w.y0 > block_bottom), key=lambda w: w.x0)
        assert "".join(w.text for w in footer) == f"\u2014{page}\u2014"
        middle = (footer[0].y0 + footer[0].y1) / 2
        assert abs((middle - block_bottom) / PT_PER_MM - dr.PAGE_NUMBER_OFFSET_MM) < 1
        if page % 2:
            assert abs(footer[-1].x1 - (right - one_char)) < 2  # 单页码居右空一字
        else:
            assert abs(footer[0].x0 - (LEFT + one_char)) < 2  # 双页码居左空一字


def test_table_header_repeats_on_the_next_page(rendered):
    t3 = SPEC.table("t3")
    rows = [c.text for c in t3.cells if c.role == "row" and c.rowspan == 1]
    body_pages = {w.page for w in rendered.words for label in rows if w.text.startswith(label[:5])}
    header_pages = {w.page for w in rendered.words if w.text == t3.cells[1].text}  # 申请人情况
    assert len(body_pages) == 2  # this report's table 三 runs onto a second page ...
    assert header_pages == body_pages  # ... which starts with the column header again


def test_figures_and_fee_are_printed(rendered):
    assert "26.55" in rendered.text
    total = rendered.report.figures["t3.received.total"]
    assert str(total) in rendered.text


def test_signature_and_date_close_the_text(rendered):
    lines = lines_of(rendered.words, len(rendered.pages))
    assert lines[-3:-1] == ["沙坡头区政务服务中心", "2022年1月20日"]


def test_chinese_fonts_are_embedded(rendered):
    fonts = subprocess.run(["pdffonts", str(rendered.pdf)], capture_output=True, text=True).stdout
    assert re.search(r"CJK|Fandol|UMing|UKai", fonts), fonts


def test_five_digit_figures_in_table_four_stay_on_one_line(tmp_path):
    """Table 四 with 12345 in every input (totals 49380) set smaller to fit: in the PDF each number
    is one word, none split over two lines of its cell."""
    report = samples.sample_report()
    report.figures = SPEC.compute({f.id: (12_345 if f.id.startswith("t4.") else 7) for f in SPEC.input_fields})
    pdf = office.convert(dr.write_docx(report, tmp_path / "表四.docx"), "pdf", tmp_path)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words = [w.text or "" for w in ET.fromstring(bbox).iter(f"{XHTML}word")]
    assert (words.count("12345"), words.count("49380")) == (12, 3)  # a wrapped one would be two words


def test_a_long_signature_prints_centred_over_the_date_4_characters_from_the_right(tmp_path):
    """GB/T 9704-2012 7.3.5: the date on one line, its right end 4 characters from the text's
    right edge; each line of a long 署名 centred over the date and inside the text block; the
    signature on the page of the text's last lines."""
    report = samples.sample_report()
    report.agency.name = "青山区人民政府国有资产监督管理委员会办公室（青山区国有资本投资运营服务中心）"
    pdf = office.convert(dr.write_docx(report, tmp_path / "署名.docx", signature=True, date="2025年12月31日"),
                         "pdf", tmp_path)
    root = ET.fromstring(subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                                        check=True).stdout)
    pages = list(root.iter(f"{XHTML}page"))
    width = float(pages[-1].get("width"))
    words = [Word(len(pages), *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")), w.text or "")
             for w in pages[-1].iter(f"{XHTML}word")]
    rows: dict[int, list[Word]] = defaultdict(list)
    for w in words:
        rows[round(w.y0)].append(w)
    lines = [sorted(r, key=lambda w: w.x0) for _, r in sorted(rows.items())]
    texts = ["".join(w.text for w in line) for line in lines]
    at = texts.index("2025年12月31日")  # the date on one line
    date = lines[at]
    right_edge = width - dr.MARGIN_RIGHT_MM * PT_PER_MM
    assert date[-1].x1 == pytest.approx(right_edge - 4 * dr.BODY_PT, abs=2)
    centre = (date[0].x0 + date[-1].x1) / 2
    name_lines = []
    for line, text in zip(lines[:at][::-1], texts[:at][::-1], strict=True):
        if not text:
            break
        name_lines.insert(0, (line, text))
        if "".join(t for _, t in name_lines) == report.agency.name:
            break
    assert "".join(t for _, t in name_lines) == report.agency.name
    for line, _ in name_lines:
        assert LEFT - 1 <= line[0].x0 and line[-1].x1 <= right_edge + 1
        assert (line[0].x0 + line[-1].x1) / 2 == pytest.approx(centre, abs=dr.BODY_PT / 2 + 1)
    # the last lines of the text share the page with the signature
    assert any(len(t) > 10 for t in texts[:at - len(name_lines)])


def test_pdf_uses_the_simplified_chinese_glyphs(tmp_path):
    """Noto CJK ships one collection for every language (pdffonts names its shared outlines
    "NotoSerifCJKjp" whatever face is used), so the face is told by a glyph: 户 has a dot on top
    in Simplified Chinese, a horizontal stroke in Japanese. Rendered large, the topmost ink of 户
    is narrow."""
    report = samples.sample_report()
    report.agency.name = "户"
    report.narrative = {k: "户" for k in report.narrative}
    doc = dr.build_document(report, strict=False)
    pdf_src = tmp_path / "户.docx"
    doc.save(str(pdf_src))
    pdf = office.convert(pdf_src, "pdf", tmp_path)
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    w, h, px = _read_pgm(next(tmp_path.glob("p-*.pgm")))
    # the title's 户 (2号, 22 pt = 92 px at 300 dpi): the first ink rows of the page
    ink = [(y, [x for x in range(w) if px[y * w + x] < 128]) for y in range(h)]
    rows_with_ink = [(y, xs) for y, xs in ink if xs]
    top_y, top_xs = rows_with_ink[0]
    glyph = [xs for y, xs in rows_with_ink if y < top_y + 92]
    glyph_width = max(max(xs) for xs in glyph) - min(min(xs) for xs in glyph)
    assert max(top_xs) - min(top_xs) < 0.35 * glyph_width, "户 is drawn with the Japanese glyph"


def test_the_signature_never_starts_a_page_alone(tmp_path):
    """Section 六 grown line by line across a page break: on every length the last page holds
    lines of the text above the signature (the text's last lines move with it), never the name
    and date alone."""
    page_counts = set()
    for k in range(8, 13):
        report = samples.sample_report()
        report.narrative["other"] = "本年度" + "无其他需要报告的事项" * (k * 28 // 10)
        pdf = office.convert(dr.write_docx(report, tmp_path / f"k{k}.docx", signature=True, date="2025年1月20日"),
                             "pdf", tmp_path)
        root = ET.fromstring(subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                                            check=True).stdout)
        pages = list(root.iter(f"{XHTML}page"))
        page_counts.add(len(pages))
        rows: dict[int, list[str]] = defaultdict(list)
        for w in pages[-1].iter(f"{XHTML}word"):
            rows[round(float(w.get("yMin")))].append(w.text or "")
        lines = ["".join(r) for _, r in sorted(rows.items())]
        at = lines.index("沙坡头区政务服务中心")
        assert lines[at + 1] == "2025年1月20日"
        assert any("无其他需要报告的事项" in line for line in lines[:at]), (k, lines)
    assert len(page_counts) > 1  # the sweep did cross a page break
