"""The report as a Word document in official 公文 format (GB/T 9704-2012): title, opening
paragraph, sections 一 to 六 with the three tables built from the format file, optional signature.

Layout rules are cited where they are applied; every label comes from the spec, every style is a
named style an agency can still change in Word or WPS.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.document import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.shared import Mm, Twips
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph

from ..format.spec import FormatSpec, Table, fmt_number
from ..model.findings import Finding
from ..model.report import Report
from ..util.fsutil import atomic_path
from ..util.timefmt import now_local
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

# 7.3.1 回行时要做到词意完整: an agency name breaks best after the level or kind of body it names
# (…市|…区|…局, …人民政府|办公室) or before a bracketed second name; not inside 市场, 区域, 县级 ...
_NAME_BREAK = re.compile(
    r"(?:人民政府|委员会|办公室|自治区|自治州|自治县|中心|省|市(?![场政辖容民级])|区(?![域级])|县(?!级)|局|厅)(?=.)"
    r"|(?<=.)(?=（)"
)
# A line may not start with closing punctuation, nor end with opening punctuation.
_NO_LINE_START = frozenset("）》」』、，。；：！？”’")
_NO_LINE_END = frozenset("（《「『“‘")
# A break at a natural boundary is preferred to one up to this many characters closer to the
# balanced point (the cost of two lines that far off balance).
_UNNATURAL_BREAK_COST = 2 * 2.5 ** 2
_ORDINAL2 = re.compile(r"^（[一二三四五六七八九十]+）")
_CJK_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·]")


class IncompleteReport(ValueError):
    """A required part of the report is empty; the message is Chinese."""


# ------------------------------------------------------------------------------------ public API


def build_document(report: Report, *, spec: FormatSpec | None = None, signature: bool = False,
                   date: str | dt.date | None = None, strict: bool = True, title: str | None = None) -> Document:
    """The report as a python-docx Document in 公文 format.

    `signature` adds the agency name and date under the text (GB/T 9704-2012 7.3.5.2); the date
    is `date`, else the report's 成文日期 (contact["report_date"]), else today. With `strict`
    (the default) a required section without text raises IncompleteReport. `title` replaces
    the title (agency name + report title), e.g. for a district's aggregate.
    """
    spec = spec or report.spec
    if strict:
        missing = narrative_findings(report, spec)
        if missing:
            raise IncompleteReport("；".join(f.message for f in missing))
    doc = docx.Document()
    _prepare_package(doc)
    layouts = {table.key: table_layout(table, report.figures) for table in spec.tables}
    _add_styles(doc, (layout.font_pt for layout in layouts.values()))
    _setup_page(doc)

    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    _title(doc, report, spec, title)
    _paragraph(doc, opening_paragraph(report, spec, title=title), BODY)
    for section in spec.sections:
        _paragraph(doc, section.heading, HEADING1)
        if section.kind == "table":
            table = spec.table(section.key)
            _append_table(doc, table, report, layouts[table.key])
        else:
            texts = paragraphs(report.narrative.get(section.key, ""))
            if not texts and not section.required:
                texts = [spec.nothing_to_report]
            for text in texts:
                _narrative_paragraph(doc, text)
    if signature:
        _signature(doc, report, date)
    _core_properties(doc, report, spec, title)
    return doc


def write_docx(report: Report, path: str | Path, **kw) -> Path:
    """Build the document and write it atomically to `path` (keywords as build_document)."""
    doc = build_document(report, **kw)
    path = Path(path)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    return path


def default_filename(report: Report, spec: FormatSpec | None = None) -> str:
    """沙坡头区政务服务中心2021年政府信息公开工作年度报告.docx"""
    from ..util.fsutil import safe_filename

    spec = spec or report.spec
    return safe_filename(report.agency.name + spec.report_title.format(year=report.year)) + ".docx"


def opening_paragraph(report: Report, spec: FormatSpec | None = None, *, title: str | None = None) -> str:
    """The customary opening paragraph from spec.preamble and the report's 基本信息.

    A clause whose placeholders are all empty is left out (no website: no download sentence);
    inside a clause, an item left empty ("邮编：；") is dropped with its separator. 联系单位
    defaults to the agency's name, but alone does not keep the contact clause. A `title` (an
    aggregate's --title) is the report the paragraph publishes: "现发布《<title>》", as on its title.
    """
    spec = spec or report.spec
    given = {k: (v or "").strip() for k, v in report.contact.items()}
    given["agency"] = report.agency.name
    given["year"] = str(report.year)
    values = dict(given)
    if not values.get("contact_org"):
        values["contact_org"] = report.agency.name
    out = []
    for clause in spec.preamble:
        names = [name for _, name, _, _ in string.Formatter().parse(clause) if name]
        if names and not any(given.get(n) for n in names):
            continue
        text = _drop_empty_items(clause.format_map(_Blank(values)))
        if title and "{agency}" in clause and "《" in clause:
            named = f"《{report.agency.name}{report.year}年"
            start = text.find(named)
            end = text.find("》", start)
            if start >= 0 and end > start:
                text = f"{text[:start]}《{title}》{text[end + 1:]}"
        out.append(text)
    return "".join(out)


# "（地址：；邮编：755000；电话：）" -> "（邮编：755000）"
_EMPTY_ITEM = re.compile(r"(?<=[（；])[^（）；：]*：；|；[^（）；：]*：(?=）)|（[^（）；：]*：）")


def _drop_empty_items(text: str) -> str:
    while True:
        cleaned = _EMPTY_ITEM.sub("", text)
        if cleaned == text:
            return cleaned
        text = cleaned


def paragraphs(text: str) -> list[str]:
    """A narrative's paragraphs: one per line, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def split_subheading(text: str) -> tuple[str, str]:
    """("（一）依法主动公开。", "贯彻落实…") for a paragraph that opens with a （一） sub-heading;
    ("", text) otherwise. The sub-heading runs to the first 。 (the whole text if there is none)."""
    if not _ORDINAL2.match(text):
        return "", text
    end = text.find("。")
    if end < 0:
        return text, ""
    return text[:end + 1], text[end + 1:]


def narrative_findings(report: Report, spec: FormatSpec | None = None) -> list[Finding]:
    """An error for each required narrative section that has no text (checks.check_narrative,
    with the docx command's --narrative as a way out)."""
    from ..checks import check_narrative

    spec = spec or report.spec
    return [dataclasses.replace(f, message=f.message.rstrip("。") + "，或用 --narrative 提供文字。")
            for f in check_narrative(spec, {k: "\n".join(paragraphs(v)) for k, v in report.narrative.items()})]


def parse_date(text: str) -> dt.date:
    """"2022年1月20日", "2022-01-20", "2022/1/20" or "2022.1.20" -> date; ValueError (Chinese)."""
    m = re.fullmatch(r"\s*(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?\s*", text or "")
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise ValueError(f"日期「{text}」无法识别：请写成 2022年1月20日、2022-01-20 或 2022/1/20（须是实际存在的日期）。")


def format_date(d: dt.date) -> str:
    """GB/T 9704-2012 7.3.5: 年份标全称，月、日不编虚位 -> 2022年1月20日."""
    return f"{d.year}年{d.month}月{d.day}日"


# ----------------------------------------------------------------------------- package and styles


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _prepare_package(doc: Document) -> None:
    part = doc.part
    # stylesWithEffects (Word 2010) duplicates every style with theme fonts; nothing needs it.
    for rid, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            part.drop_rel(rid)
    ox.set_theme_font_lang(doc.settings.element)
    # 7.5: odd pages' number on the right, even pages' on the left
    doc.settings.odd_and_even_pages_header_footer = True


def _add_styles(doc: Document, table_sizes: Iterable[float]) -> None:
    """Set up docDefaults and the named styles, with a table text style for each size used."""
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


CORE_PROPERTY_CHARS = 255  # python-docx (and Word) refuse longer title/author properties


def core_text(text: str) -> str:
    """A file property value clipped to what Word accepts (a damaged or hostile workbook may name
    an agency in thousands of characters; python-docx would raise in English)."""
    return text if len(text) <= CORE_PROPERTY_CHARS else text[: CORE_PROPERTY_CHARS - 1] + "…"


def _core_properties(doc: Document, report: Report, spec: FormatSpec, title: str | None = None) -> None:
    """File properties as Word shows them (python-docx's template says "python-docx", 2013)."""
    props = doc.core_properties
    props.title = core_text(title or report.agency.name + spec.report_title.format(year=report.year))
    props.author = props.last_modified_by = core_text(report.agency.name)
    props.language = "zh-CN"
    props.comments = f"{spec.title}（{spec.document}）"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    props.created = props.modified = now
    props.revision = 1


def _setup_page(doc: Document) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.top_margin, section.bottom_margin = Mm(MARGIN_TOP_MM), Mm(MARGIN_BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(MARGIN_LEFT_MM), Mm(MARGIN_RIGHT_MM)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(FOOTER_DISTANCE_MM)
    section.gutter = Twips(0)
    ox.set_doc_grid(section._sectPr, line_pitch=LINE_PITCH, char_space=CHAR_SPACE, type="lines")
    # 7.5: 单页码居右空一字，双页码居左空一字
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles[FOOTER.name]
        ppr = p._p.get_or_add_pPr()
        ox.set_jc(ppr, align)
        ox.set_indent(ppr, **{f"{align}_chars": 100}, char_twips=PAGE_NUMBER_PT * 20)
        ox.add_page_number(p._p)


# ------------------------------------------------------------------------------------ body content


def _paragraph(doc: Document, text: str, sd: StyleDef) -> Paragraph:
    # straight to the XML: python-docx's add_paragraph(style=...) looks the style up by name, and
    # its body.add_p() searches the body for w:sectPr on every call (quadratic in paragraphs):
    # the section properties are the body's last child, found from the end
    body = doc.element.body
    p = OxmlElement("w:p")
    try:
        last = body[-1]
    except IndexError:
        last = None
    if last is not None and last.tag == qn("w:sectPr"):
        last.addprevious(p)
    else:
        body.append(p)
    p.style = sd.id
    if text:
        _set_text(p.add_r(), text)
    return Paragraph(p, doc._body)


def _set_text(r, text: str) -> None:
    """The text of a new run, as python-docx's `r.text = …` writes it (tab -> w:tab, line break ->
    w:br) without its clear_content() XPath, whose cost grows with the document (quadratic in
    paragraphs)."""
    for i, line in enumerate(text.split("\n")):
        if i:
            r.append(OxmlElement("w:br"))
        for j, piece in enumerate(line.split("\t")):
            if j:
                r.append(OxmlElement("w:tab"))
            if piece:
                t = OxmlElement("w:t")
                t.text = piece
                if piece != piece.strip():
                    t.set(qn("xml:space"), "preserve")
                r.append(t)


def _title(doc: Document, report: Report, spec: FormatSpec, title: str | None = None) -> None:
    """7.3.1: 2号小标宋, centred, agency name and report title on two lines of one title; an
    agency name longer than a line is itself broken into balanced lines (title_lines). A given
    `title` is laid out in balanced lines of its own."""
    lines = (_custom_title_lines(title, report.year) if title else
             [*title_lines(report.agency.name), spec.report_title.format(year=report.year)])
    p = _paragraph(doc, lines[0], TITLE)
    for line in lines[1:]:
        p.add_run().add_break()
        p.add_run(line)


def _custom_title_lines(title: str, year: int) -> list[str]:
    """A given title breaks where the official one does, before the year ("沙坡头区" /
    "2025年政府信息公开工作年度报告（汇总）"), each part in balanced lines of its own."""
    at = title.find(f"{year}年")
    if at <= 0:
        return title_lines(title)
    return [*title_lines(title[:at]), *title_lines(title[at:])]


def title_lines(text: str, per_line: float = TITLE_CHARS_PER_LINE) -> list[str]:
    """GB/T 9704-2012 7.3.1 分一行或多行居中排布；回行时要做到词意完整，排列对称: `text` in the
    fewest lines of at most `per_line` character cells, as equal in length as possible, broken
    at a natural boundary (_NAME_BREAK) where one lies near the balanced point. Never leaves
    a line starting with "）" or the like, as the office suite's own wrapping would ("心）")."""
    width = text_width(text)
    if width <= per_line or len(text) < 2:
        return [text]
    if math.ceil(width / per_line) > MAX_BALANCED_TITLE_LINES:
        return _filled_lines(text, per_line)  # not a real name; balancing would be combinatorial
    natural = {m.end() for m in _NAME_BREAK.finditer(text)}
    allowed = [i for i in range(1, len(text)) if text[i] not in _NO_LINE_START and text[i - 1] not in _NO_LINE_END]
    for count in range(math.ceil(width / per_line), len(text) + 1):
        target = width / count
        best: tuple[float, tuple[int, ...]] | None = None
        for cuts in itertools.combinations(allowed, count - 1):
            bounds = (0, *cuts, len(text))
            widths = [text_width(text[a:b]) for a, b in itertools.pairwise(bounds)]
            if max(widths) > per_line:
                continue
            cost = sum((w - target) ** 2 for w in widths)
            cost += _UNNATURAL_BREAK_COST * sum(1 for c in cuts if c not in natural)
            # ties: the upper line the longer
            key = (cost, tuple(-c for c in cuts))
            if best is None or key < (best[0], tuple(-c for c in best[1])):
                best = (cost, cuts)
        if best is not None:
            bounds = (0, *best[1], len(text))
            return [text[a:b] for a, b in itertools.pairwise(bounds)]
    return [text]


MAX_BALANCED_TITLE_LINES = 3  # a name needing more lines is set line by line, not balanced


def _filled_lines(text: str, per_line: float) -> list[str]:
    """Lines filled one after the other, never starting with a character that may not begin a
    line (a text too long for balancing: the search over breaks grows combinatorially)."""
    lines: list[str] = []
    start, width = 0, 0.0
    for i, ch in enumerate(text):
        w = text_width(ch)
        if width + w > per_line and i > start:
            cut = i
            while cut > start + 1 and (text[cut] in _NO_LINE_START or text[cut - 1] in _NO_LINE_END):
                cut -= 1
            lines.append(text[start:cut])
            start, width = cut, text_width(text[cut:i])
        width += w
    lines.append(text[start:])
    return lines


def _narrative_paragraph(doc: Document, text: str) -> None:
    head, rest = split_subheading(text)
    if head and not rest:
        _paragraph(doc, head, HEADING2)
        return
    p = _paragraph(doc, "", BODY)._p
    if head:
        r = p.add_r()
        r.style = HEADING2_CHAR.id
        _set_text(r, head)
    if rest:
        _set_text(p.add_r(), rest)


def text_width(text: str) -> float:
    """Width in character cells: Chinese and full-width characters 1, others (digits) 1/2."""
    return sum(1 if _CJK_WIDE.match(c) else 0.5 for c in text)


SIGNATURE_DATE_RIGHT = 4  # 成文日期右空四字
AUTOSPACE = 0.25  # office suites put a quarter character between Chinese and digits ("2025 年")


def printed_width(text: str) -> float:
    """text_width plus the space Word and LibreOffice add where Chinese meets digits or Latin."""
    changes = sum(1 for a, b in itertools.pairwise(text) if bool(_CJK_WIDE.match(a)) != bool(_CJK_WIDE.match(b)))
    return text_width(text) + AUTOSPACE * changes


def signature_layout(name: str, date_text: str) -> tuple[list[str], float]:
    """The 署名 lines and the width (in characters) of the block they are centred in.

    GB/T 9704-2012 7.3.5.1: 成文日期右空四字; 发文机关署名以成文日期为准居中. The block is
    centred on the date and reaches the right edge of the text, so it is 4 + date + 4 characters
    wide: a name that is longer is broken into balanced lines at natural boundaries (as titles
    are), each centred over the date."""
    block = min(float(CHARS_PER_LINE), printed_width(date_text) + 2 * SIGNATURE_DATE_RIGHT)
    return title_lines(name, per_line=block), block


def signature_date(report: Report, date: str | dt.date | None) -> str:
    """The 成文日期: `date`, else the report's 成文日期 (contact["report_date"]), else today."""
    if isinstance(date, dt.date):
        return format_date(date)
    if date:
        return format_date(parse_date(date))
    if (report.contact.get("report_date") or "").strip():
        try:
            return format_date(parse_date(report.contact["report_date"]))
        except ValueError as e:
            spec = report.spec
            label = spec.info_field("report_date").label
            raise ValueError(f"{spec.info_sheet}中的{label}：{e}也可以用 --date 指定{label}。") from None
    return format_date(now_local().date())  # the office's day (UTC+8), not the machine's


def _signature(doc: Document, report: Report, date: str | dt.date | None) -> None:
    """正文下空一行编排发文机关署名, 下一行成文日期 (GB/T 9704-2012 7.3.5.1): the date right
    aligned 4 characters from the right edge; the name centred over the date (a long name in
    balanced lines within the block). The blank line, the name and the date stay together and
    with the last lines of the text: no date alone on a new page."""
    date_text = signature_date(report, date)
    lines, block = signature_layout(report.agency.name, date_text)
    body = doc.element.body
    last = body.findall(qn("w:p"))
    if last:  # the text's last lines go with the signature
        ox.set_keep_next(last[-1].get_or_add_pPr())
    blank = _paragraph(doc, "", BODY)
    ox.set_keep_next(blank._p.get_or_add_pPr())
    name = _paragraph(doc, lines[0], SIGNATURE)
    for line in lines[1:]:
        name.add_run().add_break()
        name.add_run(line)
    ppr = name._p.get_or_add_pPr()
    ox.set_jc(ppr, "center")
    ox.set_indent(ppr, left_chars=round((CHARS_PER_LINE - block) * 100), right_chars=0)
    ox.set_keep_next(ppr)
    ox.set_keep_lines(ppr)
    when = _paragraph(doc, date_text, SIGNATURE)
    ppr = when._p.get_or_add_pPr()
    ox.set_indent(ppr, right_chars=SIGNATURE_DATE_RIGHT * 100)
    ox.set_keep_lines(ppr)


# ------------------------------------------------------------------------------------------ tables


@dataclass(frozen=True)
class _Slot:
    text: str
    row: int
    col: int
    rowspan: int
    colspan: int
    role: str  # title | corner | column | row | value


def table_slots(table: Table, figures: Mapping[str, object] | None = None) -> list[_Slot]:
    """Every cell of a table's grid (labels from the spec, values formatted), relative to its
    top-left corner."""
    out = [
        _Slot(c.text, c.row - table.origin_row, c.col - table.origin_col, c.rowspan, c.colspan, c.role)
        for c in table.cells
    ]
    figures = figures or {}
    for f in table.fields:
        value = figures.get(f.id)
        text = "" if value is None else fmt_number(value)  # type: ignore[arg-type]
        out.append(_Slot(text, f.row - table.origin_row, f.col - table.origin_col, 1, f.colspan, "value"))
    return out


def table_rows(table: Table, figures: Mapping[str, object] | None = None) -> list[ox.RowXml]:
    """The grid as rows of w:tc descriptions: merged cells become gridSpan, vertical merges a
    restart cell and continue cells below it."""
    owner: dict[tuple[int, int], _Slot] = {}
    for slot in table_slots(table, figures):
        for r in range(slot.row, slot.row + slot.rowspan):
            for c in range(slot.col, slot.col + slot.colspan):
                if (r, c) in owner or not (0 <= r < table.grid_rows and 0 <= c < table.grid_columns):
                    raise ValueError(f"table {table.key}: cell ({r}, {c}) is covered twice or lies outside the grid")
                owner[(r, c)] = slot
    header = {r - table.origin_row for r in table.header_rows}
    rows = []
    for r in range(table.grid_rows):
        cells = []
        c = 0
        while c < table.grid_columns:
            slot = owner.get((r, c))
            if slot is None:
                raise ValueError(f"table {table.key}: no cell covers ({r}, {c})")
            if slot.row == r:
                cells.append(ox.CellXml(
                    slot.text, slot.colspan, "restart" if slot.rowspan > 1 else None, _align(slot),
                ))
            else:
                cells.append(ox.CellXml("", slot.colspan, "continue"))
            c += slot.colspan
        rows.append(ox.RowXml(tuple(cells), header=r in header))
    return rows


def _align(slot: _Slot) -> str:
    # long row labels read from the left; everything else, and numbers, centred
    return "left" if slot.role == "row" and slot.rowspan == 1 else "center"


def _column_needs(table: Table, figures: Mapping[str, object] | None, pad_em: float
                  ) -> tuple[list[float], list[float]]:
    """Each grid column's minimum and wish, in ems of the table's font (see column_widths)."""
    n = table.grid_columns
    low = [2.0] * n
    want = [2.0] * n
    for s in table_slots(table, figures):
        if s.colspan != 1:
            continue
        w = text_width(s.text)
        if s.role == "value":
            w = len(s.text) * DIGIT_EM + pad_em
            low[s.col] = max(low[s.col], w)
            want[s.col] = max(want[s.col], w)
        elif s.role == "row" and s.rowspan > 1:
            low[s.col] = max(low[s.col], 4)
            want[s.col] = max(want[s.col], 4)
        else:
            want[s.col] = max(want[s.col], w)
    return low, want


def column_widths(table: Table, figures: Mapping[str, object] | None = None, *,
                  total: int = TEXT_WIDTH, margin: int = TABLE_CELL_MARGIN,
                  font_pt: float | None = None, pad_em: float = NUMBER_PAD_EM) -> list[int]:
    """Grid column widths in twips summing to `total` (the 156 mm text width).

    Each column has a minimum (two characters of a header, the widest number; four characters
    for a label spanning rows, written vertically in a narrow column) and a wish (its longest
    single-column text on one line). Wishes are granted in full when they fit, scaled up to
    fill the width; otherwise the room left above the minimums is shared in proportion to what
    each column still wants, so long row labels get most of it. Where even the minimums do not
    fit, every column is scaled down alike (numbers wrap; table_layout avoids that).
    """
    font_twips = (font_pt or table.font_size) * 20
    low, want = _column_needs(table, figures, pad_em)
    lo = [x * font_twips + 2 * margin for x in low]
    hi = [max(x * font_twips + 2 * margin, lo[i]) for i, x in enumerate(want)]
    if sum(hi) <= total:
        widths = [x * total / sum(hi) for x in hi]
    elif sum(lo) >= total:
        widths = [x * total / sum(lo) for x in lo]
    else:
        room = total - sum(lo)
        extra = [h - lw for h, lw in zip(hi, lo, strict=True)]
        widths = [lw + e * room / sum(extra) for lw, e in zip(lo, extra, strict=True)]
    out = [int(w) for w in widths]
    out[out.index(max(out))] += total - sum(out)
    return out


@dataclass(frozen=True)
class TableLayout:
    font_pt: float
    cell_margin: int  # twips each side
    widths: tuple[int, ...]  # twips, summing to the text width


def table_layout(table: Table, figures: Mapping[str, object] | None = None, *,
                 total: int = TEXT_WIDTH) -> TableLayout:
    """The font size, cell margins and column widths of a table in the report.

    Table 四's 15 columns cannot hold 4- or 5-digit figures at 9 pt on a portrait page: where the
    columns' minimums exceed `total`, the room beside the numbers narrows, then the table steps
    down through TABLE_FONT_STEPS; at the smallest size its cell margins narrow (to no less than
    TABLE_MIN_CELL_MARGIN); only if the numbers still do not fit do they wrap.
    """
    sizes = [table.font_size, *(s for s in TABLE_FONT_STEPS if s < table.font_size)]
    for size in sizes:
        for pad in (NUMBER_PAD_EM, TIGHT_NUMBER_PAD_EM):
            low, _ = _column_needs(table, figures, pad)
            if sum(x * size * 20 + 2 * TABLE_CELL_MARGIN for x in low) <= total:
                widths = column_widths(table, figures, total=total, font_pt=size, pad_em=pad)
                return TableLayout(size, TABLE_CELL_MARGIN, tuple(widths))
    size = sizes[-1]
    low, _ = _column_needs(table, figures, TIGHT_NUMBER_PAD_EM)
    room = (total - sum(x * size * 20 for x in low)) / (2 * len(low))
    margin = max(TABLE_MIN_CELL_MARGIN, min(TABLE_CELL_MARGIN, math.floor(room)))
    widths = column_widths(table, figures, total=total, margin=margin, font_pt=size, pad_em=TIGHT_NUMBER_PAD_EM)
    return TableLayout(size, margin, tuple(widths))


def table_style(size: float) -> StyleDef:
    """The paragraph style of a table's text at `size` (表格文字 at 10.5 pt, 表格文字 9pt ...)."""
    if size == TABLE_TEXT.size:
        return TABLE_TEXT
    return StyleDef(f"GwTable{size:g}".replace(".", "_"), f"{TABLE_TEXT.name} {size:g}pt",
                    "paragraph", FONT_TABLE, size=size, based_on=TABLE_TEXT.id)


def _append_table(doc: Document, table: Table, report: Report, layout: TableLayout) -> None:
    figures = report.figures
    tbl = ox.build_table(
        layout.widths, table_rows(table, figures), style_id=table_style(layout.font_pt).id,
        cell_margin=layout.cell_margin,
    )
    body = doc.element.body
    sect = body.find(qn("w:sectPr"))
    if sect is not None:
        sect.addprevious(tbl)
    else:
        body.append(tbl)

