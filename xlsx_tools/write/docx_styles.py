"""The page and the named styles of the report in 公文 format (GB/T 9704-2012): A4 with its margins
and line grid, the page-number footers, docDefaults, and every paragraph style (正文, 标题, 一级/二级
标题, 署名, 表格文字 at each size used). Every style is a named style an agency can still change in
Word or WPS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Mm, Twips
from docx.styles.style import BaseStyle

from . import docx_oxml as ox

# -- GB/T 9704-2012 §5: A4, margins 37/35/28/26 mm, text block 156 mm x 225 mm, 22 x 28

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_TOP_MM, MARGIN_BOTTOM_MM, MARGIN_LEFT_MM, MARGIN_RIGHT_MM = 37, 35, 28, 26
TEXT_WIDTH = round(156 / 25.4 * 1440)  # 8844 twips
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
# 7.5: the page number's 一字线 sits 7 mm below the text block. Word measures the footer distance
# from the paper's edge to the bottom of the footer line; with a 14 pt line set exactly, the
# number's middle lands 7 mm under the block.
FOOTER_DISTANCE_MM = 25.5
PAGE_NUMBER_OFFSET_MM = 7

BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
TITLE_CHARS_PER_LINE = math.floor(TEXT_WIDTH / 20 / TITLE_PT)  # 20 characters of 2号 on 156 mm
PAGE_NUMBER_PT = 14  # 4号
# 225 mm / 22 lines = 28.9 pt: the line pitch of the grid, and the fixed line spacing of the body
LINE_PITCH = math.floor(225 / 25.4 * 1440 / LINES_PER_PAGE)  # 579 twips
# 28 characters a line. Word would do it with a character grid (docGrid linesAndChars,
# charSpace -849: cells of 156 mm / 28 = 15.79 pt), but LibreOffice 7.x imports that grid as
# "snap to characters" and gives every 16 pt character two 15.79 pt cells: 14 characters a line.
# So the grid is a line grid only, and the body styles are condensed by 0.25 pt: 28 characters of
# 15.75 pt fit the 442.2 pt line in Word, WPS and LibreOffice alike, 29 do not.
BODY_CHAR_SPACING = -5  # twentieths of a point
CHAR_SPACE = math.floor((TEXT_WIDTH / 20 / CHARS_PER_LINE - BODY_PT) * 4096)  # -849, kept for Word

FONT_LATIN = "Times New Roman"
FONT_BODY = "仿宋_GB2312"
FONT_TITLE = "方正小标宋简体"
FONT_HEADING1 = "黑体"
FONT_HEADING2 = "楷体_GB2312"
FONT_TABLE = "宋体"
FONT_PAGE_NUMBER = "宋体"

TABLE_CELL_MARGIN = 85  # twips each side, 1.5 mm
# Digits are 0.5 em in Times New Roman, but a PDF made where it is missing falls back (fonts.conf)
# to DejaVu Serif, whose digits are 0.636 em: numbers are measured at the wider size so that a
# 5-digit count never wraps inside its cell.
DIGIT_EM = 0.64
NUMBER_PAD_EM = 0.5  # room beside the widest number of a column
# A table whose numbers do not fit the text width at its own size narrows the room beside them,
# then steps down through these sizes (六号 7.5 pt is the smallest; FORMAT-2021 §5: published
# reports set tables 三 and 四 at 7–7.5 pt), then narrows its cell margins; only then do numbers wrap.
TABLE_FONT_STEPS = (9, 8, 7.5)
TABLE_MIN_CELL_MARGIN = 28  # twips each side, 0.5 mm
TIGHT_NUMBER_PAD_EM = 0.25


@dataclass(frozen=True)
class StyleDef:
    id: str
    name: str
    kind: str  # "paragraph" | "character"
    east_asia: str
    latin: str = FONT_LATIN
    size: float | None = None
    based_on: str | None = None


# The styles of the document (ids are ASCII so every office suite keeps them; names are what the
# agency sees in the style list).
BODY = StyleDef("GwBody", "公文正文", "paragraph", FONT_BODY, size=BODY_PT, based_on="Normal")
TITLE = StyleDef("GwTitle", "公文标题", "paragraph", FONT_TITLE, FONT_TITLE, TITLE_PT, "GwBody")
HEADING1 = StyleDef("GwHeading1", "一级标题", "paragraph", FONT_HEADING1, size=BODY_PT, based_on="GwBody")
HEADING2 = StyleDef("GwHeading2", "二级标题", "paragraph", FONT_HEADING2, size=BODY_PT, based_on="GwBody")
HEADING2_CHAR = StyleDef("GwHeading2Char", "二级标题字符", "character", FONT_HEADING2, size=BODY_PT)
SIGNATURE = StyleDef("GwSignature", "署名", "paragraph", FONT_BODY, size=BODY_PT, based_on="GwBody")
TABLE_TEXT = StyleDef("GwTable", "表格文字", "paragraph", FONT_TABLE, size=10.5, based_on="Normal")
FOOTER = StyleDef("Footer", "footer", "paragraph", FONT_PAGE_NUMBER, FONT_PAGE_NUMBER, PAGE_NUMBER_PT, "Normal")
HEADER = StyleDef("Header", "header", "paragraph", FONT_BODY, size=BODY_PT, based_on="Normal")

# Built-in styles of python-docx's template that stay; the rest (Heading 1–9, Title, 100 table
# styles ...) are removed so that no theme font or Western default lingers in the file.
_KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "Header", "Footer"}


def prepare_package(doc: Document) -> None:
    part = doc.part
    # stylesWithEffects (Word 2010) duplicates every style with theme fonts; nothing needs it.
    for rid, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rid)
    ox.set_theme_font_lang(doc.settings.element)
    # 7.5: odd pages' number on the right, even pages' on the left
    doc.settings.odd_and_even_pages_header_footer = True


def _reset_styles(doc: Document) -> None:
    """Only the kept built-in styles, no theme fonts; docDefaults in the body font and size."""
    styles_el = doc.styles.element
    for style in list(styles_el.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) not in _KEEP_STYLES:
            styles_el.remove(style)
    ox.strip_theme_fonts(styles_el)

    defaults = styles_el.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    ox.set_fonts(rpr, latin=FONT_LATIN, east_asia=FONT_BODY)
    ox.set_size(rpr, BODY_PT)
    ox.set_lang(rpr)
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    ox.set_spacing(ppr, line=240, rule="auto")


def add_styles(doc: Document, table_sizes: Iterable[float]) -> None:
    """Set up docDefaults and the named styles, with a table text style for each size used."""
    _reset_styles(doc)
    styles_el = doc.styles.element
    normal = doc.styles["Normal"]
    _style_fonts(normal, StyleDef("Normal", "Normal", "paragraph", FONT_BODY, size=BODY_PT))

    for sd in (BODY, TITLE, HEADING1, HEADING2, SIGNATURE, TABLE_TEXT, HEADING2_CHAR):
        _new_style(doc, sd)
    for sd in (HEADER, FOOTER):
        _style_fonts(doc.styles[sd.name], sd)
    for char_id in ("HeaderChar", "FooterChar"):
        for el in styles_el.findall(qn("w:style")):
            link = el.find(qn("w:link"))
            if link is not None and link.get(qn("w:val")) == char_id:
                el.remove(link)

    body_ppr = _ppr(doc.styles[BODY.name])
    ox.set_widow_control(body_ppr, False)  # 22 lines on every page (5.2.3)
    ox.set_spacing(body_ppr, line=LINE_PITCH)
    ox.set_indent(body_ppr, first_line_chars=200)  # 每个自然段左空二字
    ox.set_jc(body_ppr, "both")
    # w:overflowPunct="1" is Word's own default (punctuation may overflow), but LibreOffice reads
    # the attribute inverted: only "1" turns its hanging punctuation off, so that the PDF keeps
    # every character inside the 156 mm 版心.
    ox.set_overflow_punct(body_ppr, True)
    ox.set_char_spacing(doc.styles[BODY.name].element.get_or_add_rPr(), BODY_CHAR_SPACING)

    title_ppr = _ppr(doc.styles[TITLE.name])
    ox.set_snap_to_grid(title_ppr, False)  # a 22 pt line would take two grid lines
    ox.set_char_spacing(doc.styles[TITLE.name].element.get_or_add_rPr(), 0)
    ox.set_indent(title_ppr, first_line_chars=0)
    ox.set_jc(title_ppr, "center")
    ox.set_spacing(title_ppr, line=LINE_PITCH, after=LINE_PITCH)  # 标题下空一行
    ox.set_keep_next(title_ppr)

    for level, sd in enumerate((HEADING1, HEADING2)):
        p = _ppr(doc.styles[sd.name])
        ox.set_keep_next(p)
        ox.set_outline_level(p, level)
    doc.styles[BODY.name].element.get_or_add_next().val = BODY.id
    for sd in (HEADING1, HEADING2, TITLE):
        doc.styles[sd.name].element.get_or_add_next().val = BODY.id

    sig = _ppr(doc.styles[SIGNATURE.name])
    ox.set_indent(sig, first_line_chars=0)
    ox.set_jc(sig, "right")

    table_ppr = _ppr(doc.styles[TABLE_TEXT.name])
    ox.set_snap_to_grid(table_ppr, False)
    ox.set_spacing(table_ppr, line=240, rule="auto")
    ox.set_indent(table_ppr, first_line_chars=0)
    ox.set_jc(table_ppr, "center")

    footer_ppr = _ppr(doc.styles[FOOTER.name])
    ox.set_snap_to_grid(footer_ppr, False)
    ox.set_spacing(footer_ppr, line=round(PAGE_NUMBER_PT * 20))
    ox.set_indent(footer_ppr, first_line_chars=0)
    header_ppr = _ppr(doc.styles[HEADER.name])
    ox.set_snap_to_grid(header_ppr, False)
    for ppr in (footer_ppr, header_ppr):
        ox.remove_tabs(ppr)  # the template's tab stops are for US Letter

    for size in sorted(set(table_sizes), reverse=True):
        sd = table_style(size)
        if sd.name not in {s.name for s in doc.styles}:
            _new_style(doc, sd)


def _new_style(doc: Document, sd: StyleDef) -> BaseStyle:
    kind = WD_STYLE_TYPE.PARAGRAPH if sd.kind == "paragraph" else WD_STYLE_TYPE.CHARACTER
    style = doc.styles.add_style(sd.name, kind)
    style.style_id = sd.id
    style.quick_style = True
    style.hidden = False
    style.unhide_when_used = False
    if sd.based_on:
        style.element.get_or_add_basedOn().val = sd.based_on
    _style_fonts(style, sd)
    return style


def _style_fonts(style: BaseStyle, sd: StyleDef) -> None:
    rpr = style.element.get_or_add_rPr()
    ox.set_fonts(rpr, latin=sd.latin, east_asia=sd.east_asia)
    if sd.size:
        ox.set_size(rpr, sd.size)
    ox.set_lang(rpr)


def _ppr(style: BaseStyle):
    return style.element.get_or_add_pPr()


def table_style(size: float) -> StyleDef:
    """The paragraph style of a table's text at `size` (表格文字 at 10.5 pt, 表格文字 9pt ...)."""
    if size == TABLE_TEXT.size:
        return TABLE_TEXT
    return StyleDef(f"GwTable{size:g}".replace(".", "_"), f"{TABLE_TEXT.name} {size:g}pt",
                    "paragraph", FONT_TABLE, size=size, based_on=TABLE_TEXT.id)


def setup_page(doc: Document) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(FOOTER_DISTANCE_MM)
    section.gutter = Twips(0)
    ox.set_doc_grid(ox.sect_pr(section), line_pitch=LINE_PITCH, char_space=CHAR_SPACE, type="lines")
    # 7.5: 单页码居右空一字，双页码居左空一字
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles[FOOTER.name]
        ppr = ox.p_element(p).get_or_add_pPr()
        ox.set_jc(ppr, align)
        ox.set_indent(ppr, **{f"{align}_chars": 100}, char_twips=PAGE_NUMBER_PT * 20)
        ox.add_page_number(ox.p_element(p))
