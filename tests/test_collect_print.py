"""收集情况.xlsx printed: LibreOffice renders the whole workbook to PDF, poppler reads it back.

Each page carries its sheet's name as the page header (全部数据: its note), so pages are told
apart by their first line. Asserted: page counts per sheet, paper orientation, every printed
column heading inside the page and repeated on each page, the title repeated, and the size the
agency names print at on 收集情况 (≥ 9 pt for a 30-agency roster)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest

from tests.test_collect import YEAR, clean_report, with_error, with_warning, write_return
from xlsx_tools.collect import run, walk
from xlsx_tools.read.roster import RosterRow
from xlsx_tools.write import office

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) 未安装"),
]

XHTML = "{http://www.w3.org/1999/xhtml}"
LONG = "青山区人民政府国有资产监督管理委员会办公室（青山区国有资本投资运营服务中心）"
OFFICES = ["发展和改革局", "教育局", "科学技术局", "工业和信息化局", "公安分局", "民政局", "司法局", "财政局",
           "人力资源和社会保障局", "自然资源局", "生态环境分局", "住房和城乡建设局", "交通运输局", "水务局", "农业农村局",
           "商务局", "文化和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局",
           "统计局", "医疗保障局", "城市管理局", "信访局", "林业局", "档案馆", "政务服务中心"]


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass
class Printed:
    book: Path
    sizes: list[tuple[float, float]]  # per page (width, height) in pt
    words: list[Word]
    sheet_of_page: list[str]  # the page header: the sheet's name

    def pages(self, sheet: str) -> list[int]:
        return [n for n, s in enumerate(self.sheet_of_page, start=1) if s == sheet]

    def on(self, page: int) -> list[Word]:
        return [w for w in self.words if w.page == page]


def roster(n: int) -> list[RosterRow]:
    names = [f"青山区{o}" for o in OFFICES[:n - 1]] + [LONG]
    return [RosterRow(a, f"11010{i:03d}") for i, a in enumerate(names)]


def season_of(tmp: Path, n: int, docx: bool = False) -> Path:
    """n agencies: every 7th sent nothing, some with warnings, some with errors."""
    rows = roster(n)
    for i, row in enumerate(rows):
        if i % 7 == 5:
            continue
        r = clean_report(i, i, roster=rows)
        if i % 4 == 1:
            r = with_warning(r)
        if i % 5 == 2:
            r = with_error(r)
        write_return(tmp / "in" / f"{row.agency}.xlsx", r)
    run.collect(tmp / "in", rows, tmp / "out", jobs=1, docx=docx)
    return tmp / "out" / walk.OUTPUT_XLSX


def render(book: Path, outdir: Path) -> Printed:
    pdf = office.convert(book, "pdf", outdir)
    root = ET.fromstring(subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                                        check=True).stdout)
    words, sizes, sheets = [], [], []
    for n, page in enumerate(root.iter(f"{XHTML}page"), start=1):
        sizes.append((float(page.get("width")), float(page.get("height"))))
        mine = [Word(n, *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")), w.text or "")
                for w in page.iter(f"{XHTML}word")]
        words += mine
        top = min((w.y0 for w in mine), default=0)
        sheets.append("".join(w.text for w in sorted(mine, key=lambda w: w.x0) if abs(w.y0 - top) < 2))
    keep = os.environ.get("XLSX_TOOLS_KEEP_PNG")
    if keep and shutil.which("pdftoppm"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(Path(keep) / book.parent.parent.name)],
                       check=True)
    return Printed(book, sizes, words, sheets)


@pytest.fixture(scope="module")
def thirty(tmp_path_factory) -> Printed:
    tmp = tmp_path_factory.mktemp("thirty")
    return render(season_of(tmp, 30, docx=True), tmp / "pdf")  # --docx: the 12th printed column


@pytest.fixture(scope="module")
def eight(tmp_path_factory) -> Printed:
    tmp = tmp_path_factory.mktemp("eight")
    return render(season_of(tmp, 8), tmp / "pdf")


def printed_headings(book: Path, sheet: str) -> list[str]:
    ws = openpyxl.load_workbook(book)[sheet]
    ref = ws.print_area.split("!")[-1].replace("$", "")
    first, last = ref.split(":")
    header_row = int(ws.print_title_rows.split(":")[-1].replace("$", ""))
    last_col = openpyxl.utils.column_index_from_string("".join(ch for ch in last if ch.isalpha()))
    return [ws.cell(header_row, col).value for col in range(1, last_col + 1)]


def assert_headings_on_every_page(p: Printed, sheet: str) -> None:
    headings = printed_headings(p.book, sheet)
    assert headings and all(headings)
    for page in p.pages(sheet):
        width, _ = p.sizes[page - 1]
        words = p.on(page)
        for h in headings:
            # a wrapped heading prints its first line as one word: a prefix of the heading
            hits = [w for w in words if len(w.text) >= 2 and h.replace(" ", "").startswith(w.text)]
            assert hits, f"{sheet} 第 {page} 页缺少表头「{h}」"
            assert all(0 <= w.x0 and w.x1 <= width for w in hits), f"{sheet} 第 {page} 页表头「{h}」超出页面"


def test_every_sheet_prints_landscape_a4_except_the_chart(thirty):
    for n, (w, h) in enumerate(thirty.sizes, start=1):
        assert {round(w), round(h)} == {842, 595}, n  # A4
        sheet = thirty.sheet_of_page[n - 1]
        assert (w > h) == (sheet != "图表"), (n, sheet)


def test_status_sheet_thirty_agencies(thirty):
    assert len(printed_headings(thirty.book, "收集情况")) == 12
    assert printed_headings(thirty.book, "收集情况")[-1] == "Word 报告"
    pages = thirty.pages("收集情况")
    assert 1 <= len(pages) <= 3, thirty.sheet_of_page
    title = f"{YEAR}年度政府信息公开工作年度报告收集情况"
    for page in pages:  # title and header rows repeated
        assert title in "".join(w.text for w in thirty.on(page))
    assert_headings_on_every_page(thirty, "收集情况")
    # every agency printed once, at 9 pt or more: a name on one line is as wide as its characters
    short = {r.agency for r in roster(30) if len(r.agency) <= 8}  # the longer ones wrap
    printed = [w for page in pages for w in thirty.on(page) if w.text in short]
    assert {w.text for w in printed} == short
    sizes = [(w.x1 - w.x0) / len(w.text) for w in printed]
    assert min(sizes) >= 9.0, sizes


def test_problem_and_file_lists_fit_the_width_with_headers_repeated(thirty):
    for sheet in ("问题清单", "文件清单"):
        assert thirty.pages(sheet), thirty.sheet_of_page
        assert_headings_on_every_page(thirty, sheet)
    # wrapped text: the long agency name stays inside its column, on the page
    for page in thirty.pages("问题清单") + thirty.pages("文件清单"):
        width, _ = thirty.sizes[page - 1]
        assert all(w.x1 <= width for w in thirty.on(page))


def test_total_sheet_one_page_per_table_and_the_long_form_only_its_header(thirty):
    assert len(thirty.pages("汇总")) == 3
    note = [s for s in thirty.sheet_of_page if s.startswith("全部数据")]
    assert len(note) == 1 and "默认只打印表头" in note[0]
    page = thirty.sheet_of_page.index(note[0]) + 1
    assert {"机关名称", "数据项编号"} <= {w.text for w in thirty.on(page)}
    assert len(thirty.pages("图表")) == 1


def test_whole_workbook_of_an_eight_agency_season_prints_on_few_pages(eight):
    counts = Counter(eight.sheet_of_page)
    assert len(eight.sheet_of_page) <= 40, counts
    assert counts["收集情况"] == 1
    assert_headings_on_every_page(eight, "收集情况")


def test_the_end_to_end_season_prints(tmp_path):
    """The season of tests/season.py (27 agencies, returns as offices send them) with --docx."""
    from tests.season import build_season

    s = build_season(tmp_path / "season")
    run.collect(s.returns, s.manifest, tmp_path / "out", jobs=1, docx=True)
    p = render(tmp_path / "out" / walk.OUTPUT_XLSX, tmp_path / "pdf")
    counts = Counter(p.sheet_of_page)
    # 27 agencies, 13 of them not 合格 with a 说明 of several lines each; a blank template's 166
    # blanks print as one 问题清单 row per sheet (was 16 pages of 问题清单, 30 in all)
    assert 1 <= counts["收集情况"] <= 5, counts
    assert counts["问题清单"] <= 2, counts
    for sheet in ("收集情况", "问题清单", "文件清单"):
        assert_headings_on_every_page(p, sheet)
    for n, (w, h) in enumerate(p.sizes, start=1):
        assert all(word.x1 <= w + 0.5 and word.y1 <= h + 0.5 for word in p.on(n)), n
    assert len(p.sheet_of_page) <= 16, counts
