"""One test per element that xlsx_tools.write.docx_oxml writes, read back from the XML it produced."""

from __future__ import annotations

import docx
import pytest
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement, parse_xml

from xlsx_tools.write import docx_oxml as ox

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def w(name: str) -> str:
    return qn(f"w:{name}")


def attr(el, name: str) -> str | None:
    return el.get(w(name))


def children(el) -> list[str]:
    return [c.tag.split("}")[1] for c in el]


def rpr(xml: str = "") -> object:
    return parse_xml(f'<w:rPr xmlns:w="{W}">{xml}</w:rPr>')


def ppr(xml: str = "") -> object:
    return parse_xml(f'<w:pPr xmlns:w="{W}">{xml}</w:pPr>')


# -- run properties


def test_set_fonts_fills_all_four_slots_and_drops_theme_fonts():
    el = rpr('<w:rFonts w:asciiTheme="minorHAnsi" w:eastAsiaTheme="minorEastAsia" w:hAnsiTheme="minorHAnsi" w:cstheme="minorBidi"/>')
    ox.set_fonts(el, latin="Times New Roman", east_asia="仿宋_GB2312")
    fonts = el.find(w("rFonts"))
    assert {k.split("}")[1]: v for k, v in fonts.attrib.items()} == {
        "ascii": "Times New Roman", "hAnsi": "Times New Roman", "eastAsia": "仿宋_GB2312",
        "cs": "Times New Roman", "hint": "eastAsia",
    }


def test_set_fonts_keeps_schema_order():
    el = rpr('<w:b/><w:sz w:val="20"/>')
    ox.set_fonts(el, latin="A", east_asia="B", cs="C", hint=None)
    assert children(el) == ["rFonts", "b", "sz"]
    assert attr(el.find(w("rFonts")), "cs") == "C"
    assert attr(el.find(w("rFonts")), "hint") is None


def test_strip_theme_fonts_everywhere():
    styles = parse_xml(
        f'<w:styles xmlns:w="{W}"><w:style><w:rPr><w:rFonts w:asciiTheme="majorHAnsi" w:ascii="X"/></w:rPr></w:style>'
        '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:eastAsiaTheme="minorEastAsia" w:cstheme="minorBidi"/></w:rPr>'
        "</w:rPrDefault></w:docDefaults></w:styles>"
    )
    assert ox.strip_theme_fonts(styles) == 3
    for fonts in styles.iter(w("rFonts")):
        assert not any(a in fonts.attrib for a in map(qn, ox.THEME_FONT_ATTRS))
    assert attr(next(styles.iter(w("rFonts"))), "ascii") == "X"


def test_set_size_writes_half_points_for_both_scripts():
    el = rpr('<w:rFonts w:ascii="A"/><w:lang w:val="en-US"/>')
    ox.set_size(el, 10.5)
    assert children(el) == ["rFonts", "sz", "szCs", "lang"]
    assert attr(el.find(w("sz")), "val") == "21" and attr(el.find(w("szCs")), "val") == "21"


def test_set_lang_is_chinese_on_the_east_asian_slot():
    el = rpr('<w:lang w:val="en-US" w:eastAsia="ja-JP"/>')
    ox.set_lang(el)
    lang = el.find(w("lang"))
    assert (attr(lang, "val"), attr(lang, "eastAsia")) == ("en-US", "zh-CN")
    assert len(el.findall(w("lang"))) == 1


def test_set_char_spacing_sits_between_color_and_sz():
    el = rpr('<w:color w:val="000000"/><w:sz w:val="32"/>')
    ox.set_char_spacing(el, -5)
    assert children(el) == ["color", "spacing", "sz"]
    assert attr(el.find(w("spacing")), "val") == "-5"


def test_set_bold():
    el = rpr()
    ox.set_bold(el, False)
    assert [attr(c, "val") for c in el] == ["0", "0"] and children(el) == ["b", "bCs"]


def test_set_theme_font_lang():
    settings = parse_xml(f'<w:settings xmlns:w="{W}"><w:themeFontLang w:val="en-US" w:eastAsia="ja-JP"/></w:settings>')
    ox.set_theme_font_lang(settings)
    assert attr(settings.find(w("themeFontLang")), "eastAsia") == "zh-CN"


# -- paragraph properties


def test_set_spacing_exact_and_auto():
    el = ppr('<w:spacing w:beforeLines="100" w:after="200"/>')
    ox.set_spacing(el, line=579)
    sp = el.find(w("spacing"))
    assert (attr(sp, "line"), attr(sp, "lineRule"), attr(sp, "before"), attr(sp, "after")) == ("579", "exact", "0", "0")
    assert attr(sp, "beforeLines") is None
    ox.set_spacing(el, line=240, rule="auto", after=579)
    assert (attr(sp, "lineRule"), attr(sp, "after")) == ("auto", "579")


def test_set_indent_writes_chars_and_twips():
    el = ppr('<w:jc w:val="both"/>')
    ox.set_indent(el, first_line_chars=200)
    ind = el.find(w("ind"))
    assert children(el) == ["ind", "jc"]
    assert (attr(ind, "firstLineChars"), attr(ind, "firstLine")) == ("200", "640")
    ox.set_indent(el, right_chars=100, char_twips=280)
    assert (attr(ind, "rightChars"), attr(ind, "right")) == ("100", "280")


def test_paragraph_flags_in_schema_order():
    el = ppr('<w:pStyle w:val="X"/><w:jc w:val="left"/>')
    ox.set_outline_level(el, 0)
    ox.set_snap_to_grid(el, False)
    ox.set_keep_next(el)
    ox.set_widow_control(el, False)
    ox.set_jc(el, "center")
    assert children(el) == ["pStyle", "keepNext", "widowControl", "snapToGrid", "jc", "outlineLvl"]
    assert attr(el.find(w("snapToGrid")), "val") == "0"
    assert attr(el.find(w("jc")), "val") == "center"
    assert attr(el.find(w("outlineLvl")), "val") == "0"


def test_set_overflow_punct_before_snap_to_grid():
    el = ppr('<w:snapToGrid w:val="0"/>')
    ox.set_overflow_punct(el, True)
    assert children(el) == ["overflowPunct", "snapToGrid"]
    assert attr(el.find(w("overflowPunct")), "val") == "1"


def test_remove_tabs():
    el = ppr('<w:tabs><w:tab w:val="center" w:pos="4680"/></w:tabs><w:jc w:val="left"/>')
    ox.remove_tabs(el)
    assert children(el) == ["jc"]


# -- section


def test_set_doc_grid_after_cols():
    sect = parse_xml(f'<w:sectPr xmlns:w="{W}"><w:pgSz/><w:pgMar/><w:cols w:space="720"/></w:sectPr>')
    ox.set_doc_grid(sect, line_pitch=579, char_space=-849)
    grid = sect.find(w("docGrid"))
    assert children(sect)[-1] == "docGrid"
    assert (attr(grid, "type"), attr(grid, "linePitch"), attr(grid, "charSpace")) == ("lines", "579", "-849")


# -- page number field


def test_add_page_number_is_a_page_field_between_em_dashes():
    p = OxmlElement("w:p")
    ox.add_page_number(p)
    texts = [t.text for t in p.iter(w("t"))]
    assert texts == ["\u2014 ", "1", " \u2014"]
    kinds = [attr(f, "fldCharType") for f in p.iter(w("fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    assert next(p.iter(w("instrText"))).text.strip() == "PAGE"
    # the field parts come in order: dash, begin, instr, separate, result, end, dash
    order = []
    for r in p.findall(w("r")):
        c = r[0]
        order.append(attr(c, "fldCharType") or c.tag.split("}")[1])
    assert order == ["t", "begin", "instrText", "separate", "t", "end", "t"]


# -- tables


def test_set_table_borders_single_on_every_edge():
    tblPr = OxmlElement("w:tblPr")
    ox.set_table_borders(tblPr, sz=4)
    borders = tblPr.find(w("tblBorders"))
    assert children(borders) == list(ox.BORDER_SIDES)
    assert all(attr(b, "val") == "single" and attr(b, "sz") == "4" for b in borders)


def test_cell_merges():
    tcPr = parse_xml(f'<w:tcPr xmlns:w="{W}"><w:tcW w:w="100" w:type="dxa"/><w:vAlign w:val="top"/></w:tcPr>')
    ox.set_grid_span(tcPr, 3)
    ox.set_vmerge(tcPr, restart=True)
    assert children(tcPr) == ["tcW", "gridSpan", "vMerge", "vAlign"]
    assert attr(tcPr.find(w("gridSpan")), "val") == "3"
    assert attr(tcPr.find(w("vMerge")), "val") == "restart"
    ox.set_vmerge(tcPr, restart=False)
    assert attr(tcPr.find(w("vMerge")), "val") is None


def test_grid_span_of_one_is_not_written():
    tcPr = OxmlElement("w:tcPr")
    ox.set_grid_span(tcPr, 1)
    assert tcPr.find(w("gridSpan")) is None


def test_row_flags():
    trPr = OxmlElement("w:trPr")
    ox.set_repeat_header(trPr)
    ox.set_cant_split(trPr)
    assert children(trPr) == ["cantSplit", "tblHeader"]


def test_build_table():
    rows = [
        ox.RowXml((ox.CellXml("头", span=2, vmerge="restart"), ox.CellXml("甲")), header=True),
        ox.RowXml((ox.CellXml("", span=2, vmerge="continue"), ox.CellXml("1", align="left"))),
    ]
    tbl = ox.build_table([1000, 2000, 3000], rows, style_id="GwTable")
    assert children(tbl) == ["tblPr", "tblGrid", "tr", "tr"]
    tblPr = tbl.find(w("tblPr"))
    assert children(tblPr) == ["tblW", "jc", "tblInd", "tblBorders", "tblLayout", "tblCellMar", "tblLook"]
    assert attr(tblPr.find(w("tblW")), "w") == "6000"
    assert attr(tblPr.find(w("tblLayout")), "type") == "fixed"
    assert [attr(g, "w") for g in tbl.iter(w("gridCol"))] == ["1000", "2000", "3000"]
    tr1, tr2 = tbl.findall(w("tr"))
    assert children(tr1.find(w("trPr"))) == ["cantSplit", "tblHeader"]
    assert children(tr2.find(w("trPr"))) == ["cantSplit"]
    first = tr1.find(w("tc"))
    assert attr(first.find(f"{w('tcPr')}/{w('tcW')}"), "w") == "3000"
    assert attr(first.find(f"{w('tcPr')}/{w('vMerge')}"), "val") == "restart"
    cont = tr2.find(w("tc"))
    assert cont.find(f"{w('tcPr')}/{w('vMerge')}").get(w("val")) is None
    assert list(cont.iter(w("t"))) == []  # a covered cell holds an empty paragraph
    assert [attr(s, "val") for s in tbl.iter(w("pStyle"))] == ["GwTable"] * 4
    assert [attr(j, "val") for j in tbl.iter(w("jc")) if j.getparent().tag == w("pPr")] == ["left"]


def test_build_table_refuses_a_row_that_does_not_fill_the_grid():
    with pytest.raises(ValueError, match="covers 1 grid columns"):
        ox.build_table([1000, 2000], [ox.RowXml((ox.CellXml("x"),))], style_id="S")


def test_installed_python_docx_has_the_private_attributes_docx_oxml_relies_on():
    problems = ox.check_python_docx()
    assert not problems, (
        f"python-docx {docx.__version__} changed what xlsx_tools/write/docx_oxml.py relies on: "
        + "; ".join(problems) + ". Adapt its accessors (or pin python-docx below this version).")


def test_check_names_an_attribute_that_is_gone(monkeypatch):
    monkeypatch.setattr(ox, "p_element", lambda paragraph: paragraph._no_such_attribute)
    problems = ox.check_python_docx()
    assert problems and all("Paragraph._p" in p or "Document._body" in p for p in problems)
