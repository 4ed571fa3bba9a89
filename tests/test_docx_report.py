"""The Word report against the sample report, the format file and GB/T 9704-2012, read back from
the .docx it wrote (python-docx and the raw XML)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.grid import Table
from xlsx_tools.format.numbers import fmt_number
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.report import Report
from xlsx_tools.util.timefmt import LOCAL_TZ, now_local
from xlsx_tools.write import docx_report as dr

DATA = Path(__file__).parent / "data"
SPEC = load_format()
TWIPS_PER_MM = 1440 / 25.4


def w(name: str) -> str:
    return qn(f"w:{name}")


def val(el, name: str = "val") -> str | None:
    return None if el is None else el.get(w(name))


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory) -> Path:
    return dr.write_docx(samples.sample_report(), tmp_path_factory.mktemp("docx") / "sample.docx")


@pytest.fixture(scope="module")
def doc(sample_path):
    return docx.Document(str(sample_path))


@pytest.fixture(scope="module")
def styles(doc) -> dict[str, object]:
    return {s.get(w("styleId")): s for s in doc.styles.element.findall(w("style"))}


def body_text_parts(document) -> list[str]:
    """The body in reading order: paragraph texts, and each table's cells row by row (a cell
    merged over several rows counted once, where it starts)."""
    parts = []
    for el in document.element.body:
        if el.tag == w("p"):
            parts.append(Paragraph(el, document).text)
        elif el.tag == w("tbl"):
            for tr in el.iter(w("tr")):
                for tc in tr.findall(w("tc")):
                    vm = tc.find(f"{w('tcPr')}/{w('vMerge')}")
                    if vm is not None and val(vm) != "restart":
                        continue
                    parts.append("".join(t.text or "" for t in tc.iter(w("t"))))
    return parts


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------------------------------------
# The sample report reproduced


def test_sample_report_text_reproduced_exactly(doc):
    published = (DATA / "sample-report-2021.txt").read_text(encoding="utf-8")
    # the PDF extraction's stray link annotation ("mailto:…") is not part of the report
    published = "".join(line for line in published.splitlines(True) if not line.strip().startswith("mailto:"))
    assert squeeze("".join(body_text_parts(doc))) == squeeze(published)


def test_sections_in_order_with_official_headings(doc):
    headings = [p.text for p in doc.paragraphs if p.style.name == dr.HEADING1.name]
    assert headings == [s.heading for s in SPEC.sections]


def test_each_table_follows_its_heading(doc):
    body = list(doc.element.body)
    tables = [i for i, el in enumerate(body) if el.tag == w("tbl")]
    assert len(tables) == 3
    for i, (section, table) in zip(tables, [(s, SPEC.table(s.key)) for s in SPEC.sections if s.kind == "table"], strict=True):
        assert Paragraph(body[i - 1], doc).text == section.heading
        assert table.heading == section.heading


def test_title_is_agency_and_report_title_on_two_lines(doc):
    title = doc.paragraphs[0]
    assert title.style.name == dr.TITLE.name
    assert title.text.split("\n") == ["沙坡头区政务服务中心", SPEC.report_title.format(year=2021)]


def title_runs(name: str) -> list[str]:
    """The title paragraph's runs as written: each run's text, or "<br>" for a line break."""
    report = samples.sample_report()
    report = Report(format=report.format, agency=replace(report.agency, name=name), year=report.year,
                    contact=report.contact, narrative=report.narrative, figures=report.figures)
    title = dr.build_document(report).element.body.find(w("p"))
    out = []
    for r in title.findall(w("r")):
        assert [c.tag for c in r if c.tag != w("rPr")] in ([w("t")], [w("br")]), "one text or one break a run"
        out.append("<br>" if r.find(w("br")) is not None else r.find(w("t")).text)
    return out


@pytest.mark.parametrize("name,lines", [
    ("沙坡头区政务服务中心", ["沙坡头区政务服务中心"]),
    # 30 characters: 14 + 16, broken after 区 (the balanced point is 15), not "…服务中" / "心"
    ("宁夏回族自治区中卫市沙坡头区住房和城乡建设局房屋征收服务中心",
     ["宁夏回族自治区中卫市沙坡头区", "住房和城乡建设局房屋征收服务中心"]),
    # no natural boundary at all: at the balanced point
    ("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥甲乙丙丁戊己庚辛",
     ["甲乙丙丁戊己庚辛壬癸子丑寅卯辰", "巳午未申酉戌亥甲乙丙丁戊己庚辛"]),
    # a bracketed second name goes to a line of its own
    ("中卫市沙坡头区人民政府办公室（中卫市沙坡头区政务服务管理局）",
     ["中卫市沙坡头区人民政府办公室", "（中卫市沙坡头区政务服务管理局）"]),
    # 21 characters: Word would leave "心）" alone on the second line
    ("中卫市沙坡头区人民政府政务服务中心（中心）", ["中卫市沙坡头区人民政府", "政务服务中心（中心）"]),
])
def test_long_agency_name_broken_into_balanced_title_lines(name, lines):
    """GB/T 9704-2012 7.3.1: 标题分一行或多行居中排布；回行时要做到词意完整，排列对称."""
    assert dr.TITLE_CHARS_PER_LINE == 20  # 2号 (22 pt) on the 156 mm text block
    expected = []
    for line in lines:
        expected += [line, "<br>"]
    assert title_runs(name) == expected + [SPEC.report_title.format(year=2021)]
    assert all(dr.text_width(line) <= dr.TITLE_CHARS_PER_LINE for line in lines)


def test_title_lines_never_start_with_closing_punctuation():
    for n in range(21, 41):
        name = "甲" * (n - 2) + "（乙）"
        assert all(line[0] not in "）、，。" and line[-1] != "（" for line in dr.title_lines(name)), name
    assert len(dr.title_lines("甲" * 41)) == 3


def test_absurdly_long_agency_names_are_set_line_by_line_quickly():
    """A name of hundreds or thousands of characters (a damaged or hostile file) is filled line by
    line: balancing it would try every combination of breaks (hung collect --docx for minutes)."""
    import time

    for name in ("名" * 200 + "甲", "局" * 10000, ("甲" * 19 + "（乙）") * 30):
        start = time.process_time()
        lines = dr.title_lines(name)
        assert time.process_time() - start < 1, len(name)
        assert "".join(lines) == name
        assert all(dr.text_width(line) <= dr.TITLE_CHARS_PER_LINE for line in lines)
        assert all(line[0] not in "）、，。" and line[-1] != "（" for line in lines)
    assert dr.title_lines("名" * 200 + "甲")[-1] == "甲"


def test_a_very_long_agency_name_is_clipped_in_the_file_properties_only(tmp_path):
    """python-docx refuses a title over 255 characters (in English, which the docx command then
    showed as its error); the document's own title keeps the whole name."""
    from tests import reader_fixtures as fx

    name = "局" * 1000
    path = dr.write_docx(fx.report(agency=name), tmp_path / "长.docx")
    props = docx.Document(str(path)).core_properties
    assert len(props.title) == len(props.author) == 255 and props.author.endswith("…")
    assert name in docx.Document(str(path)).paragraphs[0].text.replace("\n", "")


def test_subheadings_are_kaiti_runs_and_nothing_else_is_formatted_directly(doc):
    inline = []
    for p in doc.paragraphs:
        for r in p.runs:
            rpr = r._r.rPr
            if rpr is None:
                continue
            assert [c.tag for c in rpr] == [w("rStyle")], f"direct formatting in {p.text[:20]}"
            assert r.style.name == dr.HEADING2_CHAR.name
            inline.append(r.text)
    assert inline == [
        "（一）依法主动公开。", "（二）规范依申请公开。", "（三）加强政府信息管理。",
        "（四）优化政府信息公开平台。", "（五）健全监督保障机制。",
    ]


# ---------------------------------------------------------------------------------------------
# Page (GB/T 9704-2012 5.1, 5.2)


def test_a4_page_and_margins(doc):
    sect = doc.sections[0]._sectPr
    size = sect.find(w("pgSz"))
    assert (int(val(size, "w")), int(val(size, "h"))) == (11906, 16838)
    mar = sect.find(w("pgMar"))
    for side, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
        assert abs(int(val(mar, side)) - mm * TWIPS_PER_MM) <= 1, side
    text_width = 11906 - int(val(mar, "left")) - int(val(mar, "right"))
    assert abs(text_width - 156 * TWIPS_PER_MM) <= 2


def test_grid_of_22_lines_and_28_characters(doc, styles):
    sect = doc.sections[0]._sectPr
    grid = sect.find(w("docGrid"))
    pitch = int(val(grid, "linePitch"))
    assert val(grid, "type") == "lines"
    text_height = 225 * TWIPS_PER_MM
    assert 22 * pitch <= text_height < 23 * pitch
    # the body is set at exactly the grid pitch
    spacing = styles[dr.BODY.id].find(f"{w('pPr')}/{w('spacing')}")
    assert (int(val(spacing, "line")), val(spacing, "lineRule")) == (pitch, "exact")
    assert 28 * 20 <= int(val(spacing, "line")) <= 29 * 20  # 28-29 pt
    # 28 characters of 3号 with the body's condensed spacing fit 156 mm, 29 do not
    rpr = styles[dr.BODY.id].find(w("rPr"))
    advance = int(val(rpr.find(w("sz")))) * 10 + int(val(rpr.find(w("spacing"))))  # twips
    assert 28 * advance <= dr.TEXT_WIDTH < 29 * advance


def test_body_punctuation_setting_keeps_libreoffice_inside_the_text_block(styles):
    # Word's default ("1"); LibreOffice reads it inverted and turns hanging punctuation off
    assert val(styles[dr.BODY.id].find(f"{w('pPr')}/{w('overflowPunct')}")) == "1"


def test_body_indent_is_two_characters(styles):
    ind = styles[dr.BODY.id].find(f"{w('pPr')}/{w('ind')}")
    assert (val(ind, "firstLineChars"), val(ind, "firstLine")) == ("200", "640")
    assert val(styles[dr.BODY.id].find(f"{w('pPr')}/{w('jc')}")) == "both"


# ---------------------------------------------------------------------------------------------
# Fonts and styles


EXPECTED_FONTS = {
    # style id: (eastAsia, ascii/hAnsi, size in pt)
    "GwBody": ("仿宋_GB2312", "Times New Roman", 16),
    "GwTitle": ("方正小标宋简体", "方正小标宋简体", 22),
    "GwHeading1": ("黑体", "Times New Roman", 16),
    "GwHeading2": ("楷体_GB2312", "Times New Roman", 16),
    "GwHeading2Char": ("楷体_GB2312", "Times New Roman", 16),
    "GwSignature": ("仿宋_GB2312", "Times New Roman", 16),
    "GwTable": ("宋体", "Times New Roman", 10.5),
    "GwTable9": ("宋体", "Times New Roman", 9),
    "Footer": ("宋体", "宋体", 14),
    "Normal": ("仿宋_GB2312", "Times New Roman", 16),
}


@pytest.mark.parametrize("style_id", sorted(EXPECTED_FONTS))
def test_style_fonts_on_all_four_slots_and_size(styles, style_id):
    east, latin, size = EXPECTED_FONTS[style_id]
    rpr = styles[style_id].find(w("rPr"))
    fonts = rpr.find(w("rFonts"))
    assert (val(fonts, "eastAsia"), val(fonts, "ascii"), val(fonts, "hAnsi"), val(fonts, "cs")) == (east, latin, latin, latin)
    assert val(rpr.find(w("sz"))) == val(rpr.find(w("szCs"))) == str(round(size * 2))
    assert val(rpr.find(w("lang")), "eastAsia") == "zh-CN"


def test_style_names_an_agency_can_find(doc):
    names = {s.name for s in doc.styles}
    assert {"公文正文", "公文标题", "一级标题", "二级标题", "二级标题字符", "表格文字", "表格文字 9pt", "署名"} <= names


def test_every_style_resolves_all_four_font_slots(doc, styles):
    defaults = doc.styles.element.find(f"{w('docDefaults')}/{w('rPrDefault')}/{w('rPr')}/{w('rFonts')}")
    for sid, style in styles.items():
        if val(style, "type") not in ("paragraph", "character"):
            continue
        resolved: dict[str, str] = {}
        chain = style
        while chain is not None:
            fonts = chain.find(f"{w('rPr')}/{w('rFonts')}")
            for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
                if fonts is not None and val(fonts, slot):
                    resolved.setdefault(slot, val(fonts, slot))
            based = chain.find(w("basedOn"))
            chain = styles.get(val(based)) if based is not None else None
        for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
            resolved.setdefault(slot, val(defaults, slot))
        assert all(resolved.values()) and len(resolved) == 4, sid


def test_no_theme_fonts_anywhere(sample_path):
    import zipfile

    with zipfile.ZipFile(sample_path) as z:
        names = z.namelist()
        assert "word/stylesWithEffects.xml" not in names
        for name in names:
            if name.endswith(".xml") and name.startswith("word/") and "theme" not in name:
                xml = z.read(name).decode("utf-8")
                assert not re.search(r"w:(ascii|hAnsi|eastAsia|cs)Theme=|w:cstheme=", xml), name


def test_document_language_is_chinese(doc):
    rpr = doc.styles.element.find(f"{w('docDefaults')}/{w('rPrDefault')}/{w('rPr')}")
    assert val(rpr.find(w("lang")), "eastAsia") == "zh-CN"
    assert val(doc.settings.element.find(w("themeFontLang")), "eastAsia") == "zh-CN"


def test_headings_are_outline_levels(styles):
    assert val(styles["GwHeading1"].find(f"{w('pPr')}/{w('outlineLvl')}")) == "0"
    assert val(styles["GwHeading2"].find(f"{w('pPr')}/{w('outlineLvl')}")) == "1"
    assert styles["GwHeading1"].find(f"{w('pPr')}/{w('keepNext')}") is not None


# ---------------------------------------------------------------------------------------------
# Footer: GB/T 9704-2012 7.5


def test_page_numbers_odd_right_even_left_with_em_dashes(doc):
    assert doc.settings.odd_and_even_pages_header_footer
    sect = doc.sections[0]
    refs = {val(r, "type") for r in sect._sectPr.findall(w("footerReference"))}
    assert refs == {"default", "even"}
    for footer, align, side in ((sect.footer, "right", "rightChars"), (sect.even_page_footer, "left", "leftChars")):
        (p,) = footer.paragraphs
        assert p.style.style_id == "Footer"
        ppr = p._p.pPr
        assert val(ppr.find(w("jc"))) == align
        assert val(ppr.find(w("ind")), side) == "100"  # set in by one character
        assert p.text == "\u2014 1 \u2014"
        assert [val(f, "fldCharType") for f in p._p.iter(w("fldChar"))] == ["begin", "separate", "end"]
        assert next(p._p.iter(w("instrText"))).text.strip() == "PAGE"


def test_footer_distance_puts_the_number_7mm_under_the_text_block(doc):
    mar = doc.sections[0]._sectPr.find(w("pgMar"))
    footer_mm = int(val(mar, "footer")) / TWIPS_PER_MM
    line_mm = 14 / 72 * 25.4  # the footer line is exactly 14 pt
    middle_below_block = 35 - (footer_mm + line_mm / 2)
    assert abs(middle_below_block - 7) < 0.5


# ---------------------------------------------------------------------------------------------
# Tables against the format file


def grid_cells(tbl) -> set[tuple[int, int, int, int, str]]:
    """(row, col, rowspan, colspan, text) of every cell, from gridSpan and vMerge."""
    open_cells: dict[int, list] = {}  # grid column -> the cell that started above
    cells = []
    for r, tr in enumerate(tbl.findall(w("tr"))):
        col = 0
        for tc in tr.findall(w("tc")):
            tcPr = tc.find(w("tcPr"))
            span = int(val(tcPr.find(w("gridSpan"))) or 1) if tcPr.find(w("gridSpan")) is not None else 1
            vm = tcPr.find(w("vMerge"))
            if vm is not None and val(vm) != "restart":
                cell = open_cells[col]
                assert cell[3] == span, "a continued cell has the width of the cell it continues"
                cell[2] += 1
            else:
                cell = [r, col, 1, span, "".join(t.text or "" for t in tc.iter(w("t")))]
                cells.append(cell)
                open_cells[col] = cell
            col += span
    return {tuple(c) for c in cells}


def spec_cells(table: Table, figures) -> set[tuple[int, int, int, int, str]]:
    out = {(c.row, c.col, c.rowspan, c.colspan, c.text) for c in table.cells}
    out |= {(f.row, f.col, 1, f.colspan, fmt_number(figures[f.id])) for f in table.fields}
    return out


@pytest.fixture(scope="module")
def busy_report() -> Report:
    report = samples.random_report(SPEC, random.Random(7), "测试局", year=2024, busy=1.0)
    report.figures["t2.item8.fees.amount"] = Decimal("26.55")
    return report


@pytest.fixture(scope="module")
def busy_doc(busy_report, tmp_path_factory):
    path = dr.write_docx(busy_report, tmp_path_factory.mktemp("busy") / "busy.docx")
    return docx.Document(str(path))


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_every_cell_and_merge_matches_the_format_file(busy_doc, busy_report, key):
    table = SPEC.table(key)
    tbl = busy_doc.element.body.findall(w("tbl"))[[t.key for t in SPEC.tables].index(key)]
    assert grid_cells(tbl) == spec_cells(table, busy_report.figures)
    assert len(tbl.findall(w("tr"))) == table.grid_rows


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_table_grid_widths_rows_and_font(busy_doc, key):
    table = SPEC.table(key)
    tbl = busy_doc.element.body.findall(w("tbl"))[[t.key for t in SPEC.tables].index(key)]
    widths = [int(val(g, "w")) for g in tbl.iter(w("gridCol"))]
    assert len(widths) == table.grid_columns
    assert sum(widths) == dr.TEXT_WIDTH  # exactly the 156 mm text width
    assert val(tbl.find(f"{w('tblPr')}/{w('tblLayout')}"), "type") == "fixed"
    borders = tbl.find(f"{w('tblPr')}/{w('tblBorders')}")
    assert {val(b) for b in borders} == {"single"} and len(borders) == 6
    rows = tbl.findall(w("tr"))
    assert all(tr.find(f"{w('trPr')}/{w('cantSplit')}") is not None for tr in rows)
    repeated = [i for i, tr in enumerate(rows) if tr.find(f"{w('trPr')}/{w('tblHeader')}") is not None]
    assert repeated == [r - table.origin_row for r in table.header_rows]
    style_ids = {val(s) for s in tbl.iter(w("pStyle"))}
    (style_id,) = style_ids
    style = busy_doc.styles.element.get_by_id(style_id)
    size = style.find(f"{w('rPr')}/{w('sz')}")
    assert int(val(size)) == round(table.font_size * 2)


def test_numbers_centred_long_row_labels_left(busy_doc):
    tbl = busy_doc.element.body.findall(w("tbl"))[1]
    for tc in tbl.iter(w("tc")):
        text = "".join(t.text or "" for t in tc.iter(w("t")))
        jc = tc.find(f"{w('p')}/{w('pPr')}/{w('jc')}")
        if text.isdigit():
            assert jc is None  # centred by the style
        if text.startswith("1.属于国家秘密"):
            assert val(jc) == "left"


def test_fee_printed_as_entered(busy_doc):
    tbl = busy_doc.element.body.findall(w("tbl"))[0]
    assert "26.55" in {"".join(t.text for t in tc.iter(w("t"))) for tc in tbl.iter(w("tc"))}


@pytest.mark.parametrize("value, shown", [
    (Decimal("26.55"), "26.55"), (Decimal("0.0001"), "0.0001"), (Decimal("96171.6"), "96171.6"),
    (Decimal("0.1") + Decimal("0.2"), "0.3"), (Decimal("12.00"), "12"), (None, ""),
])
def test_fee_cell_text(value, shown):
    figures = dict(samples.sample_report().figures)
    figures["t2.item8.fees.amount"] = value
    slots = dr.table_slots(SPEC.table("t2"), figures)
    (fee,) = [s for s in slots if s.role == "value" and s.row == 13]
    assert fee.text == shown


def test_column_widths_favour_long_row_labels():
    t3 = dr.column_widths(SPEC.table("t3"))
    assert sum(t3) == dr.TEXT_WIDTH
    assert max(t3) == t3[2]  # the "1.属于国家秘密" column
    nine_pt = 9 * 20
    assert all(width >= 2 * nine_pt for width in t3[3:])  # two characters of a header per line
    t4 = dr.column_widths(SPEC.table("t4"))
    assert sum(t4) == dr.TEXT_WIDTH and min(t4) >= 2 * nine_pt + 2 * dr.TABLE_CELL_MARGIN
    t2 = dr.column_widths(SPEC.table("t2"))
    assert sum(t2) == dr.TEXT_WIDTH and t2[0] == max(t2)


def test_column_widths_make_room_for_big_numbers():
    figures = {f.id: 0 for f in SPEC.fields}
    figures["t4.review.total"] = 123456789
    widths = dr.column_widths(SPEC.table("t4"), figures)
    assert widths[4] == max(widths)


def test_table_rows_refuse_overlapping_cells():
    from dataclasses import replace

    t2 = SPEC.table("t2")
    broken = replace(t2, cells=t2.cells + (replace(t2.cells[1], col=1),))
    with pytest.raises(ValueError, match="covered twice"):
        dr.table_rows(broken)


# ---------------------------------------------------------------------------------------------
# Opening paragraph, narrative, signature


def test_opening_paragraph_drops_clauses_without_data():
    report = samples.sample_report()
    report.contact = {"phone": "0955-1"}
    text = dr.opening_paragraph(report)
    assert "下载" not in text  # no website: no download clause
    # 联系单位 defaults to the agency; empty items go with their separators
    assert text.endswith("如有疑问和建议，请与沙坡头区政务服务中心联系（联系电话：0955-1）。")
    report.contact = {"address": "某路 1 号", "email": "a@b.cn"}
    assert dr.opening_paragraph(report).endswith("联系（地址：某路 1 号；电子邮箱：a@b.cn）。")
    report.contact = {"contact_org": "某办公室"}
    assert dr.opening_paragraph(report).endswith("请与某办公室联系。")
    report.contact = {}
    text = dr.opening_paragraph(report)
    assert text.endswith("12月31日。") and "联系" not in text


def test_opening_paragraph_dates_have_no_stray_spaces():
    report = samples.sample_report()
    report.year = 2025
    text = dr.opening_paragraph(report)
    assert "《沙坡头区政务服务中心2025年政府信息公开年度报告》" in text
    assert "本报告统计数据从2025年1月1日至12月31日。" in text
    assert not re.search(r"\d\s+[年月日]|[年月日至从]\s+\d", text)


def test_opening_paragraph_matches_the_sample():
    report = samples.sample_report()
    assert squeeze(dr.opening_paragraph(report)) == squeeze(samples.sample_agency()["preamble"])


@pytest.mark.parametrize("text, head, rest", [
    ("（一）依法主动公开。贯彻落实", "（一）依法主动公开。", "贯彻落实"),
    ("（十二）其他", "（十二）其他", ""),
    ("本年度（一）不是标题。", "", "本年度（一）不是标题。"),
    ("1.第三层。正文", "", "1.第三层。正文"),
])
def test_split_subheading(text, head, rest):
    assert dr.split_subheading(text) == (head, rest)


def test_a_subheading_alone_is_a_heading_paragraph():
    report = samples.sample_report()
    report.narrative["other"] = "（一）信息处理费\n本年度未收取信息处理费。"
    document = dr.build_document(report)
    styles = [(p.style.name, p.text) for p in document.paragraphs][-2:]
    assert styles == [(dr.HEADING2.name, "（一）信息处理费"), (dr.BODY.name, "本年度未收取信息处理费。")]


def test_empty_optional_section_says_nothing_to_report():
    report = samples.sample_report()
    report.narrative.pop("other")
    document = dr.build_document(report)
    assert [p.text for p in document.paragraphs][-2:] == [SPEC.section("other").heading, SPEC.nothing_to_report]


def test_empty_required_section_is_an_error_not_a_blank_page():
    report = samples.sample_report()
    report.narrative["problems"] = " \n "
    findings = dr.narrative_findings(report)
    assert [(f.code, f.severity) for f in findings] == [("NARRATIVE_EMPTY", "error")]
    assert findings[0].message == (
        "报告第五部分「五、存在的主要问题及改进情况」没有填写内容。这一部分必须填写，缺少它报告不能发布："
        "请在「文字部分」工作表中补充，或用 --narrative 提供文字。"
    )
    # the same finding, with the same severity, as check and collect give
    from xlsx_tools.checks import check_report
    assert [(f.code, f.severity, f.cells) for f in check_report(report) if f.code == "NARRATIVE_EMPTY"] == \
        [(f.code, f.severity, f.cells) for f in findings]
    assert findings[0].cells == ("文字部分!B9",)
    with pytest.raises(dr.IncompleteReport, match="第五部分"):
        dr.build_document(report)
    dr.build_document(report, strict=False)  # --force


def signature_lines(document):
    paras = document.paragraphs
    return [(p.style.name, p.text, val(p._p.pPr.find(w("ind")), "rightChars")) for p in paras[-3:]]


def test_signature_date_right_4_and_the_name_centred_over_it():
    """GB/T 9704-2012 7.3.5: 成文日期右空四字; 署名以成文日期为准居中: the name's paragraph is a
    block centred on the date's centre (4 + date + 4 characters wide, flush with the right edge)."""
    document = dr.build_document(samples.sample_report(), signature=True, date="2022年1月20日")
    blank, name, date = signature_lines(document)
    assert blank[1] == ""  # 下空一行
    assert date == (dr.SIGNATURE.name, "2022年1月20日", "400")
    assert name == (dr.SIGNATURE.name, "沙坡头区政务服务中心", "0")
    ppr = document.paragraphs[-2]._p.pPr
    assert val(ppr.find(w("jc")), "val") == "center"
    # date 6.5 characters wide (digits are half width) + 5 quarter-character spaces where digits
    # meet Chinese: block 7.75 + 8, left indent 28 - 15.75
    assert dr.printed_width("2022年1月20日") == 7.75
    assert val(ppr.find(w("ind")), "leftChars") == "1225"
    block_centre = (1225 + 2800) / 2
    date_centre = 2800 - 400 - 775 / 2
    assert block_centre == date_centre


@pytest.mark.parametrize("agency", [
    "某局", "沙坡头区政务服务中心", "青山区人民政府国有资产监督管理委员会办公室（青山区国有资本投资运营服务中心）",
    "青山区人民政府国有资产监督管理委员会办公室青山区国有资本投资运营服务中心青山区某某某某某某某某中心",
])
def test_signature_of_any_length_stays_within_the_block(agency):
    report = samples.sample_report()
    report.agency.name = agency
    document = dr.build_document(report, signature=True, date=dt.date(2025, 12, 31))
    name_p, date_p = document.paragraphs[-2], document.paragraphs[-1]
    assert date_p.text == "2025年12月31日" and val(date_p._p.pPr.find(w("ind")), "rightChars") == "400"
    lines = name_p.text.split("\n")
    assert "".join(lines) == agency
    block = 7 + 1.25 + 8  # 2025年12月31日 is 7 characters wide, +5 quarter spaces
    assert val(name_p._p.pPr.find(w("ind")), "leftChars") == str(round((28 - block) * 100))
    assert all(dr.text_width(line) <= block for line in lines)
    if dr.text_width(agency) > block:
        assert len(lines) >= 2
        assert not any(line.startswith(("）", "心）")) for line in lines)
    if "（" in agency and len(lines) == 2:
        assert lines[1].startswith("（")  # broken at the natural boundary


def test_signature_keeps_with_the_last_lines_of_the_text():
    document = dr.build_document(samples.sample_report(), signature=True, date="2022年1月20日")
    last_text, blank, name, date = document.paragraphs[-4:]
    assert last_text.text and not blank.text
    for p in (last_text, blank, name):
        assert p._p.pPr.find(w("keepNext")) is not None, p.text
    for p in (name, date):
        assert p._p.pPr.find(w("keepLines")) is not None


def test_signature_date_from_contact_or_today():
    report = samples.sample_report()
    report.contact["report_date"] = "2022-01-05"
    document = dr.build_document(report, signature=True)
    assert document.paragraphs[-1].text == "2022年1月5日"
    report.contact["report_date"] = ""
    document = dr.build_document(report, signature=True)
    assert document.paragraphs[-1].text == dr.format_date(now_local().date())


@pytest.mark.parametrize("text", ["2022年1月20日", "2022-01-20", "2022/1/20", "2022.1.20", " 2022 年 1 月 20 日 "])
def test_parse_date(text):
    assert dr.parse_date(text) == dt.date(2022, 1, 20)
    assert dr.format_date(dr.parse_date(text)) == "2022年1月20日"


@pytest.mark.parametrize("text", ["2022年2月30日", "20220120", "明天", ""])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError, match="无法识别：请写成 2022年1月20日、2022-01-20 或 2022/1/20（须是实际存在的日期）"):
        dr.parse_date(text)


def test_default_filename():
    assert dr.default_filename(samples.sample_report()) == "沙坡头区政务服务中心2021年政府信息公开工作年度报告.docx"
    report = samples.sample_report()
    report.agency.name = "甲/乙局"
    assert dr.default_filename(report) == "甲_乙局2021年政府信息公开工作年度报告.docx"


def test_write_docx_is_atomic_and_overwrites(tmp_path):
    target = tmp_path / "out" / "r.docx"
    target.parent.mkdir()
    target.write_bytes(b"old")
    assert dr.write_docx(samples.sample_report(), target) == target
    assert target.read_bytes()[:2] == b"PK"
    assert [p.name for p in target.parent.iterdir()] == ["r.docx"]


def test_file_properties(doc):
    props = doc.core_properties
    assert props.title == "沙坡头区政务服务中心2021年政府信息公开工作年度报告"
    assert props.author == props.last_modified_by == "沙坡头区政务服务中心"
    assert props.language == "zh-CN"
    assert props.created.year >= 2025 and props.created == props.modified


def test_text_width_counts_half_width_digits():
    assert dr.text_width("2022年1月20日") == 6.5
    assert dr.text_width("“三安全一稳定”") == 8


@pytest.mark.parametrize("key,big", [
    ("t2", 45_678), ("t3", 45_678),
    # table 四 has 15 columns: 4-digit counts in one group (a city's 行政复议), small ones elsewhere
    ("t4", {"t4.review.upheld": 1_234, "t4.review.pending": 3_000, "t4.suit_direct.upheld": 456}),
])
def test_big_numbers_fit_their_cells_on_one_line(key, big):
    """A province's or a city's combined figures. Each number must fit its cell on one line even
    where a PDF is made without Times New Roman: fontconfig then falls back to DejaVu Serif, whose
    digits are 0.636 em wide (Times New Roman's are 0.5 em)."""
    table = SPEC.table(key)
    if isinstance(big, int):
        inputs = {f.id: (Decimal("12345.6789") if f.type.kind == "decimal" else big) for f in SPEC.input_fields}
    else:
        inputs = {f.id: big.get(f.id, 7) for f in SPEC.input_fields}
    figures = SPEC.compute(inputs)
    widths = dr.column_widths(table, figures)
    for slot in dr.table_slots(table, figures):
        if slot.role == "value" and slot.text:
            room = sum(widths[slot.col:slot.col + slot.colspan]) - 2 * dr.TABLE_CELL_MARGIN
            assert len(slot.text) * 0.64 * table.font_size * 20 <= room, (key, slot.text, slot.col, room)


def five_digit_t4_report() -> Report:
    """A province's combined figures: 12345 in every input of table 四 (totals 49380)."""
    report = samples.sample_report()
    report.figures = SPEC.compute({f.id: (12_345 if f.id.startswith("t4.") else 7) for f in SPEC.input_fields})
    return report


def test_table_four_with_5_digit_figures_steps_its_font_down_to_fit():
    """15 columns of 5-digit figures cannot fit 156 mm at 9 pt (0.64 em a digit): the table is set
    smaller, down to 六号 (7.5 pt) and no further, and then every number fits its cell on one line."""
    report = five_digit_t4_report()
    table = SPEC.table("t4")
    assert sum(dr.column_widths(table, report.figures)) == dr.TEXT_WIDTH  # at 9 pt the numbers would wrap:
    assert any(len(s.text) * dr.DIGIT_EM * 9 * 20 > width - 2 * dr.TABLE_CELL_MARGIN
               for s, width in zip(sorted((s for s in dr.table_slots(table, report.figures) if s.role == "value"),
                                          key=lambda s: s.col),
                                   dr.column_widths(table, report.figures), strict=True))

    doc = dr.build_document(report)
    tbl = doc.element.body.findall(w("tbl"))[[t.key for t in SPEC.tables].index("t4")]
    widths = [int(val(g, "w")) for g in tbl.iter(w("gridCol"))]
    assert sum(widths) == dr.TEXT_WIDTH
    (style_id,) = {val(s) for s in tbl.iter(w("pStyle"))}
    size = int(val(doc.styles.element.get_by_id(style_id).find(f"{w('rPr')}/{w('sz')}"))) / 2
    assert 7.5 <= size <= 9
    margin = int(val(tbl.find(f"{w('tblPr')}/{w('tblCellMar')}/{w('left')}"), "w"))
    assert margin >= dr.TABLE_MIN_CELL_MARGIN
    numbers = 0
    for tr in tbl.findall(w("tr")):
        col = 0
        for tc in tr.findall(w("tc")):
            span = int(val(tc.find(f"{w('tcPr')}/{w('gridSpan')}")) or 1)
            text = "".join(t.text or "" for t in tc.iter(w("t")))
            if text.isdigit():
                numbers += 1
                room = sum(widths[col:col + span]) - 2 * margin
                assert len(text) * dr.DIGIT_EM * size * 20 <= room, (text, col, room)
            col += span
    assert numbers == 15
    # the other tables keep the format file's size
    t3 = doc.element.body.findall(w("tbl"))[[t.key for t in SPEC.tables].index("t3")]
    assert {val(s) for s in t3.iter(w("pStyle"))} == {"GwTable9"}


@pytest.mark.parametrize("figure,size", [
    (7, 9), (999, 9),  # 4-digit totals still fit at 9 pt
    ({"t4.review.": 1_234}, 8),  # 4-digit 行政复议 and 行政诉讼 totals
    (1_234, 7.5), (99_999, 7.5),  # 6-digit totals: the smallest size, and they wrap
])
def test_table_layout_font_never_below_7_5_pt(figure, size):
    def value(field_id: str) -> int:
        if isinstance(figure, int):
            return figure
        return next((v for prefix, v in figure.items() if field_id.startswith(prefix)), 999)

    figures = SPEC.compute({f.id: value(f.id) for f in SPEC.input_fields})
    layout = dr.table_layout(SPEC.table("t4"), figures)
    assert layout.font_pt == size and sum(layout.widths) == dr.TEXT_WIDTH
    assert dr.TABLE_MIN_CELL_MARGIN <= layout.cell_margin <= dr.TABLE_CELL_MARGIN


def test_an_aggregate_title_is_the_report_the_opening_paragraph_publishes():
    """With --title the first sentence names the same report as the title (it named
    "《<agency>2025年政府信息公开年度报告》" under a title "…（汇总）")."""
    report = samples.sample_report()
    report.agency = dataclasses.replace(report.agency, name="青山区人民政府办公室")
    report.year = 2025
    title = "青山区2025年政府信息公开工作年度报告（汇总）"
    text = dr.opening_paragraph(report, title=title)
    assert f"现发布《{title}》，本报告统计数据从2025年1月1日至12月31日。" in text
    assert "《青山区人民政府办公室2025年" not in text
    doc = dr.build_document(report, title=title)
    assert f"现发布《{title}》" in doc.paragraphs[1].text
    assert "现发布《青山区人民政府办公室2025年政府信息公开年度报告》" in dr.opening_paragraph(report)  # without a title


def test_the_default_signature_date_is_the_day_in_beijing(monkeypatch):
    """At 01:00 on 1 January in Beijing the machine (UTC) is still on 31 December: the 成文日期 is
    the office's day."""
    report = samples.sample_report()
    report.contact.pop("report_date", None)
    monkeypatch.setattr(dr, "now_local", lambda: dt.datetime(2026, 1, 1, 1, 0, tzinfo=LOCAL_TZ))
    assert dr.signature_date(report, None) == "2026年1月1日"
