"""The report as a Word document in official 公文 format (GB/T 9704-2012): title, opening
paragraph, sections 一 to 六 with the three tables built from the format file, optional signature.

Layout rules are cited where they are applied; every label comes from the spec. The page and styles
are docx_styles.py's, the tables docx_tables.py's, line breaking and dates docx_text.py's; the
WordprocessingML python-docx has no API for is docx_oxml.py's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import string
from pathlib import Path

import docx
from docx.document import Document
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.text.paragraph import Paragraph

from ..checks import check_narrative
from ..format.spec import FormatSpec
from ..model.findings import Finding
from ..model.report import Report
from ..util.fsutil import atomic_path, safe_filename
from ..util.timefmt import now_local
from . import docx_oxml as ox
from .docx_styles import (  # noqa: F401  (re-exported: the page and styles of the report)
    BODY,
    BODY_PT,
    CHARS_PER_LINE,
    DIGIT_EM,
    HEADING1,
    HEADING2,
    HEADING2_CHAR,
    MARGIN_BOTTOM_MM,
    MARGIN_LEFT_MM,
    MARGIN_RIGHT_MM,
    MARGIN_TOP_MM,
    PAGE_NUMBER_OFFSET_MM,
    PAGE_NUMBER_PT,
    SIGNATURE,
    TABLE_CELL_MARGIN,
    TABLE_MIN_CELL_MARGIN,
    TEXT_WIDTH,
    TITLE,
    TITLE_CHARS_PER_LINE,
    StyleDef,
    add_styles,
    prepare_package,
    setup_page,
    table_style,
)
from .docx_tables import (  # noqa: F401
    TableLayout,
    append_table,
    column_widths,
    table_layout,
    table_rows,
    table_slots,
)
from .docx_text import (  # noqa: F401  (re-exported)
    SIGNATURE_DATE_RIGHT,
    core_text,
    format_date,
    paragraphs,
    parse_date,
    printed_width,
    signature_layout,
    split_subheading,
    text_width,
    title_lines,
)


class IncompleteReport(ValueError):
    """A required part of the report is empty; the message is Chinese."""


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
    prepare_package(doc)
    layouts = {table.key: table_layout(table, report.figures) for table in spec.tables}
    add_styles(doc, (layout.font_pt for layout in layouts.values()))
    setup_page(doc)

    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    _title(doc, report, spec, title)
    _paragraph(doc, opening_paragraph(report, spec, title=title), BODY)
    for section in spec.sections:
        _paragraph(doc, section.heading, HEADING1)
        if section.kind == "table":
            table = spec.table(section.key)
            append_table(doc, table, report, layouts[table.key])
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


def narrative_findings(report: Report, spec: FormatSpec | None = None) -> list[Finding]:
    """An error for each required narrative section that has no text (checks.check_narrative,
    with the docx command's --narrative as a way out)."""
    spec = spec or report.spec
    return [dataclasses.replace(f, message=f.message.rstrip("。") + "，或用 --narrative 提供文字。")
            for f in check_narrative(spec, {k: "\n".join(paragraphs(v)) for k, v in report.narrative.items()})]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


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
    return ox.body_paragraph(doc, p)


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


def _narrative_paragraph(doc: Document, text: str) -> None:
    head, rest = split_subheading(text)
    if head and not rest:
        _paragraph(doc, head, HEADING2)
        return
    p = ox.p_element(_paragraph(doc, "", BODY))
    if head:
        r = p.add_r()
        r.style = HEADING2_CHAR.id
        _set_text(r, head)
    if rest:
        _set_text(p.add_r(), rest)


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
    ox.set_keep_next(ox.p_element(blank).get_or_add_pPr())
    name = _paragraph(doc, lines[0], SIGNATURE)
    for line in lines[1:]:
        name.add_run().add_break()
        name.add_run(line)
    ppr = ox.p_element(name).get_or_add_pPr()
    ox.set_jc(ppr, "center")
    ox.set_indent(ppr, left_chars=round((CHARS_PER_LINE - block) * 100), right_chars=0)
    ox.set_keep_next(ppr)
    ox.set_keep_lines(ppr)
    when = _paragraph(doc, date_text, SIGNATURE)
    ppr = ox.p_element(when).get_or_add_pPr()
    ox.set_indent(ppr, right_chars=SIGNATURE_DATE_RIGHT * 100)
    ox.set_keep_lines(ppr)
