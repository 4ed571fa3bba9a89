"""The one place that patches WordprocessingML where python-docx has no API: East Asian fonts,
theme-font removal, language, the document grid, PAGE-field footers, table borders, merges and
row flags. One function per element; each keeps children in schema order (ECMA-376 Part 1, §17)
so that Word, WPS and LibreOffice all accept the result.

Measures are in twips (1/20 pt) unless a name says otherwise; "chars" values are hundredths of
a character, as Word stores them (w:firstLineChars="200" = two characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import docx
from docx.document import Document
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.section import Section
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

# -- the XML elements behind python-docx's objects: its private attributes, used only here
# (tests/test_docx_oxml.py fails with a clear message when a python-docx release renames them)

def check_python_docx() -> list[str]:
    """What the installed python-docx no longer gives the accessors below (empty when all work),
    in sentences naming the attribute and the version."""
    doc = docx.Document()
    paragraph = doc.add_paragraph("x")
    table = doc.add_table(rows=1, cols=1)
    probes = (
        ("Paragraph._p", lambda: p_element(paragraph), "w:p"),
        ("Run._r", lambda: r_element(paragraph.runs[0]), "w:r"),
        ("Section._sectPr", lambda: sect_pr(doc.sections[0]), "w:sectPr"),
        ("Table._tbl", lambda: tbl_element(table), "w:tbl"),
        ("_Row._tr", lambda: tr_element(table.rows[0]), "w:tr"),
        ("_Cell._tc", lambda: tc_element(table.cell(0, 0)), "w:tc"),
        ("Document._body", lambda: body_paragraph(doc, p_element(paragraph))._p, "w:p"),
    )
    problems = []
    for name, probe, tag in probes:
        try:
            element = probe()
        except AttributeError as e:
            problems.append(f"python-docx {docx.__version__}: {name} is gone ({e})")
            continue
        if getattr(element, "tag", None) != qn(tag):
            problems.append(f"python-docx {docx.__version__}: {name} is no longer the {tag} element")
    return problems


def p_element(paragraph: Paragraph) -> etree._Element:
    """The w:p of a paragraph."""
    return paragraph._p


def r_element(run: Run) -> etree._Element:
    """The w:r of a run."""
    return run._r


def sect_pr(section: Section) -> etree._Element:
    """The w:sectPr of a section."""
    return section._sectPr


def tbl_element(table: Table) -> etree._Element:
    """The w:tbl of a table."""
    return table._tbl


def tr_element(row: _Row) -> etree._Element:
    """The w:tr of a table row."""
    return row._tr


def tc_element(cell: _Cell) -> etree._Element:
    """The w:tc of a table cell."""
    return cell._tc


def body_paragraph(doc: Document, p: etree._Element) -> Paragraph:
    """A python-docx Paragraph for a w:p already placed in the document's body."""
    return Paragraph(p, doc._body)


# -- schema order of the children we touch (ECMA-376 Part 1: CT_RPr, CT_PPrBase, CT_SectPr, ...)

RPR_ORDER = (
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
    "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
    "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz",
    "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign",
    "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
)
PPR_ORDER = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
    "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
    "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
    "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
    "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
    "w:sectPr", "w:pPrChange",
)
SECTPR_ORDER = (
    "w:headerReference", "w:footerReference", "w:footnotePr", "w:endnotePr", "w:type", "w:pgSz",
    "w:pgMar", "w:paperSrc", "w:pgBorders", "w:lnNumType", "w:pgNumType", "w:cols", "w:formProt",
    "w:vAlign", "w:noEndnote", "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
    "w:docGrid", "w:printerSettings", "w:sectPrChange",
)
TBLPR_ORDER = (
    "w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
    "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders",
    "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
)
TRPR_ORDER = (
    "w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter", "w:cantSplit",
    "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden",
)
TCPR_ORDER = (
    "w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders", "w:shd",
    "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
)
BORDER_SIDES = ("top", "left", "bottom", "right", "insideH", "insideV")

THEME_FONT_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")

EM_DASH = "\u2014"


def child(parent: etree._Element, tag: str, order: Sequence[str]) -> etree._Element:
    """The first `tag` child of `parent`, created in schema order (given by `order`) if absent."""
    clark = qn(tag)
    found = parent.find(clark)
    if found is not None:
        return found
    new = etree.SubElement(parent, clark)
    parent.remove(new)
    later = _later(order, tag)
    for existing in parent:
        if existing.tag in later:
            existing.addprevious(new)
            return new
    parent.append(new)
    return new


_LATER: dict[tuple[int, str], frozenset[str]] = {}


def _later(order: Sequence[str], tag: str) -> frozenset[str]:
    """Clark names of the children that come after `tag` in `order` (cached per order)."""
    key = (id(order), tag)
    found = _LATER.get(key)
    if found is None:
        found = _LATER[key] = frozenset(qn(t) for t in order[order.index(tag) + 1:])
    return found


def _set(el: etree._Element, **attrs: str | int | None) -> etree._Element:
    for name, value in attrs.items():
        key = qn(f"w:{name}")
        if value is None:
            el.attrib.pop(key, None)
        else:
            el.set(key, str(value))
    return el


# ---------------------------------------------------------------------------------- run properties


def set_fonts(rPr: etree._Element, *, latin: str, east_asia: str, cs: str | None = None,
              hint: str | None = "eastAsia") -> etree._Element:
    """w:rFonts naming a font on all four slots, with no theme font that could override them.

    Word picks the slot per character: ascii/hAnsi for Latin letters and digits, eastAsia for
    Chinese, cs for complex scripts. hint="eastAsia" makes shared characters (“ ” — …) take the
    East Asian font, as Chinese Word does, so quotation marks stay full-width.
    """
    fonts = child(rPr, "w:rFonts", RPR_ORDER)
    for attr in THEME_FONT_ATTRS:
        fonts.attrib.pop(qn(attr), None)
    _set(fonts, ascii=latin, hAnsi=latin, eastAsia=east_asia, cs=cs or latin, hint=hint)
    return fonts


def strip_theme_fonts(root: etree._Element) -> int:
    """Remove every theme-font attribute (asciiTheme, eastAsiaTheme, ...) below `root`.

    A theme attribute wins over the named font, and python-docx's default template points the
    East Asian slot at a theme whose Japanese entry makes LibreOffice and WPS use Japanese glyphs.
    Returns how many attributes were removed.
    """
    removed = 0
    for fonts in root.iter(qn("w:rFonts")):
        for attr in THEME_FONT_ATTRS:
            if fonts.attrib.pop(qn(attr), None) is not None:
                removed += 1
    return removed


def set_size(rPr: etree._Element, pt: float) -> None:
    """w:sz and w:szCs in half-points (3号 = 16 pt -> 32)."""
    half_points = str(round(pt * 2))
    _set(child(rPr, "w:sz", RPR_ORDER), val=half_points)
    _set(child(rPr, "w:szCs", RPR_ORDER), val=half_points)


def set_char_spacing(rPr: etree._Element, twentieths: int) -> None:
    """w:spacing in a run's properties: extra (negative: less) space after each character, in
    twentieths of a point."""
    _set(child(rPr, "w:spacing", RPR_ORDER), val=twentieths)


def set_bold(rPr: etree._Element, on: bool) -> None:
    _set(child(rPr, "w:b", RPR_ORDER), val="1" if on else "0")
    _set(child(rPr, "w:bCs", RPR_ORDER), val="1" if on else "0")


def set_lang(rPr: etree._Element, *, east_asia: str = "zh-CN", latin: str = "en-US") -> None:
    """w:lang: without eastAsia="zh-CN" LibreOffice and WPS may shape CJK with Japanese forms."""
    _set(child(rPr, "w:lang", RPR_ORDER), val=latin, eastAsia=east_asia, bidi="ar-SA")


def set_theme_font_lang(settings: etree._Element, *, east_asia: str = "zh-CN",
                        latin: str = "en-US") -> None:
    """w:themeFontLang in settings.xml (python-docx's template says ja-JP)."""
    found = settings.find(qn("w:themeFontLang"))
    if found is None:
        found = OxmlElement("w:themeFontLang")
        settings.append(found)
    _set(found, val=latin, eastAsia=east_asia)


# ---------------------------------------------------------------------------- paragraph properties


def set_spacing(pPr: etree._Element, *, line: int | None = None, rule: str = "exact",
                before: int = 0, after: int = 0) -> None:
    """w:spacing: `line` in twips with lineRule exact (公文 fixed line spacing), or with
    rule="auto" in 240ths of a line (240 = single)."""
    el = child(pPr, "w:spacing", PPR_ORDER)
    _set(el, before=before, beforeLines=None, after=after, afterLines=None,
         line=line, lineRule=rule if line is not None else None)


def set_indent(pPr: etree._Element, *, first_line_chars: int | None = None,
               left_chars: int | None = None, right_chars: int | None = None,
               char_twips: int = 320) -> None:
    """w:ind in characters (hundredths) with the equivalent twips beside them.

    Word uses the *Chars values (one character = the grid's character pitch); LibreOffice up to
    7.x reads only the twips values, computed here from `char_twips` (3号 = 16 pt = 320 twips).
    """
    el = child(pPr, "w:ind", PPR_ORDER)
    if first_line_chars is not None:
        _set(el, firstLineChars=first_line_chars, firstLine=first_line_chars * char_twips // 100,
             hanging=None, hangingChars=None)
    if left_chars is not None:
        _set(el, leftChars=left_chars, left=left_chars * char_twips // 100)
    if right_chars is not None:
        _set(el, rightChars=right_chars, right=right_chars * char_twips // 100)


def set_jc(pPr: etree._Element, val: str) -> None:
    """Paragraph alignment: left, center, right, both (justified)."""
    _set(child(pPr, "w:jc", PPR_ORDER), val=val)


def remove_tabs(pPr: etree._Element) -> None:
    for tabs in pPr.findall(qn("w:tabs")):
        pPr.remove(tabs)


def set_snap_to_grid(pPr: etree._Element, on: bool) -> None:
    """w:snapToGrid: table text must not snap to the 22-line grid or every row is 29 pt high."""
    _set(child(pPr, "w:snapToGrid", PPR_ORDER), val="1" if on else "0")


def set_overflow_punct(pPr: etree._Element, on: bool) -> None:
    """w:overflowPunct: whether punctuation may hang past the right margin at a line end."""
    _set(child(pPr, "w:overflowPunct", PPR_ORDER), val="1" if on else "0")


def set_keep_next(pPr: etree._Element) -> None:
    child(pPr, "w:keepNext", PPR_ORDER)


def set_keep_lines(pPr: etree._Element) -> None:
    """w:keepLines: the paragraph is never split over two pages."""
    child(pPr, "w:keepLines", PPR_ORDER)


def set_outline_level(pPr: etree._Element, level: int) -> None:
    """w:outlineLvl (0 = level 1): headings show in Word's navigation pane and in a PDF outline."""
    _set(child(pPr, "w:outlineLvl", PPR_ORDER), val=level)


def set_widow_control(pPr: etree._Element, on: bool) -> None:
    _set(child(pPr, "w:widowControl", PPR_ORDER), val="1" if on else "0")


# ------------------------------------------------------------------------------- section properties


def set_doc_grid(sectPr: etree._Element, *, line_pitch: int, char_space: int | None = None,
                 type: str = "lines") -> None:
    """w:docGrid: the line grid of GB/T 9704-2012 5.2.3 (22 lines a page).

    line_pitch is in twips; char_space (used by type "linesAndChars") is how much narrower
    (negative) or wider than the default font size a character cell is, in 1/4096 pt.
    """
    _set(child(sectPr, "w:docGrid", SECTPR_ORDER), type=type, linePitch=line_pitch,
         charSpace=char_space)


# -------------------------------------------------------------------------------------- page field


def _run(p: etree._Element, text: str | None = None) -> etree._Element:
    r = etree.SubElement(p, qn("w:r"))
    if text is not None:
        t = etree.SubElement(r, qn("w:t"))
        t.text = text
        if text != text.strip():
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return r


def _fld_char(p: etree._Element, kind: str) -> None:
    r = _run(p)
    _set(etree.SubElement(r, qn("w:fldChar")), fldCharType=kind)


def add_page_number(p: etree._Element, *, dash: str = EM_DASH) -> None:
    """Append "— PAGE —" to paragraph `p`: GB/T 9704-2012 7.5, a 一字线 each side of the number.

    The number is a complex PAGE field (begin / instrText / separate / cached "1" / end), which
    Word, WPS and LibreOffice all update when laying out the page.
    """
    _run(p, f"{dash} ")
    _fld_char(p, "begin")
    instr = etree.SubElement(_run(p), qn("w:instrText"))
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = " PAGE "
    _fld_char(p, "separate")
    _run(p, "1")
    _fld_char(p, "end")
    _run(p, f" {dash}")


# ------------------------------------------------------------------------------------------ tables


def set_table_borders(tblPr: etree._Element, *, sz: int = 4, val: str = "single") -> None:
    """w:tblBorders: every outer and inner edge one thin line (sz in eighths of a point)."""
    borders = child(tblPr, "w:tblBorders", TBLPR_ORDER)
    for el in list(borders):
        borders.remove(el)
    for side in BORDER_SIDES:
        _set(etree.SubElement(borders, qn(f"w:{side}")), val=val, sz=sz, space=0, color="auto")


def set_cell_margins(tblPr: etree._Element, *, left: int, right: int, top: int = 0,
                     bottom: int = 0) -> None:
    mar = child(tblPr, "w:tblCellMar", TBLPR_ORDER)
    for el in list(mar):
        mar.remove(el)
    for side, w in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        _set(etree.SubElement(mar, qn(f"w:{side}")), w=w, type="dxa")


def set_grid_span(tcPr: etree._Element, span: int) -> None:
    """w:gridSpan: a cell covering `span` grid columns (a horizontal merge)."""
    if span > 1:
        _set(child(tcPr, "w:gridSpan", TCPR_ORDER), val=span)


def set_vmerge(tcPr: etree._Element, restart: bool) -> None:
    """w:vMerge: restart opens a vertical merge; a bare w:vMerge continues the one above."""
    el = child(tcPr, "w:vMerge", TCPR_ORDER)
    _set(el, val="restart" if restart else None)


def set_v_align(tcPr: etree._Element, val: str = "center") -> None:
    _set(child(tcPr, "w:vAlign", TCPR_ORDER), val=val)


def set_cant_split(trPr: etree._Element) -> None:
    """w:cantSplit: a row is never broken across two pages."""
    child(trPr, "w:cantSplit", TRPR_ORDER)


def set_repeat_header(trPr: etree._Element) -> None:
    """w:tblHeader: the row repeats at the top of each page the table runs onto."""
    child(trPr, "w:tblHeader", TRPR_ORDER)


@dataclass(frozen=True)
class CellXml:
    """One w:tc: its text, how many grid columns it spans, and its place in a vertical merge
    ("restart" for the top cell, "continue" for the cells it covers below)."""

    text: str = ""
    span: int = 1
    vmerge: str | None = None
    align: str = "center"


@dataclass(frozen=True)
class RowXml:
    cells: tuple[CellXml, ...]
    header: bool = False


def build_table(widths: Sequence[int], rows: Sequence[RowXml], *, style_id: str,
                border_sz: int = 4, cell_margin: int = 85) -> etree._Element:
    """A whole w:tbl with a fixed layout: explicit grid column widths (twips), full single
    borders, header rows repeated and no row split across pages.

    Written directly rather than through python-docx's cell.merge(), which rescans the table
    for every merge.
    """
    tbl = OxmlElement("w:tbl")
    tblPr = etree.SubElement(tbl, qn("w:tblPr"))
    total = sum(widths)
    _set(child(tblPr, "w:tblW", TBLPR_ORDER), w=total, type="dxa")
    _set(child(tblPr, "w:jc", TBLPR_ORDER), val="center")
    _set(child(tblPr, "w:tblInd", TBLPR_ORDER), w=0, type="dxa")
    set_table_borders(tblPr, sz=border_sz)
    _set(child(tblPr, "w:tblLayout", TBLPR_ORDER), type="fixed")
    set_cell_margins(tblPr, left=cell_margin, right=cell_margin)
    _set(child(tblPr, "w:tblLook", TBLPR_ORDER), val="0000", firstRow="0", lastRow="0",
         firstColumn="0", lastColumn="0", noHBand="1", noVBand="1")
    grid = etree.SubElement(tbl, qn("w:tblGrid"))
    for w in widths:
        _set(etree.SubElement(grid, qn("w:gridCol")), w=w)
    for row in rows:
        tr = etree.SubElement(tbl, qn("w:tr"))
        trPr = etree.SubElement(tr, qn("w:trPr"))
        set_cant_split(trPr)
        if row.header:
            set_repeat_header(trPr)
        col = 0
        for cell in row.cells:
            tc = etree.SubElement(tr, qn("w:tc"))
            tcPr = etree.SubElement(tc, qn("w:tcPr"))
            _set(child(tcPr, "w:tcW", TCPR_ORDER), w=sum(widths[col:col + cell.span]), type="dxa")
            set_grid_span(tcPr, cell.span)
            if cell.vmerge:
                set_vmerge(tcPr, cell.vmerge == "restart")
            set_v_align(tcPr, "center")
            p = etree.SubElement(tc, qn("w:p"))
            pPr = etree.SubElement(p, qn("w:pPr"))
            _set(etree.SubElement(pPr, qn("w:pStyle")), val=style_id)
            if cell.align != "center":
                set_jc(pPr, cell.align)
            if cell.text and cell.vmerge != "continue":
                _run(p, cell.text)
            col += cell.span
        if col != len(widths):
            raise ValueError(f"row covers {col} grid columns, the grid has {len(widths)}")
    return tbl
