"""问题通知: one Word document per agency whose return has errors or warnings, that the office can
e-mail back as it is. Addressed to the agency; names the file received (name, sha256 prefix, save
time in UTC+8); lists every finding with its sheet, cell, labels and what to change (many blanks of
one sheet on one row); says the deadline when one is known and whom to contact; signed by the
office with the date. A4 portrait, one page for a usual return.

Word (.docx) rather than .xlsx: an agency's staff open, print and forward it like any notice; it
prints on one page without page-setup tinkering; and a Word notice looks like the office's own
correspondence. The findings are also in 收集情况.xlsx「问题清单」 for filtering.

The notices of a collect run are chosen and placed by collect.notice; `check --notice` by
check_notices here. python-docx builds the document once per run as a shell (python_docx_notice
with specimen texts); each notice is the shell's document.xml with its texts and rows filled in
(write.docx_clone.Stencil), about 0.4 ms of CPU where a python-docx document per notice took
12-25 ms.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from ..model.findings import (
    GROUP_AT,
    GROUP_LIST,
    SEVERITY_LABELS,
    Finding,
    condensed,
    group_cells,
    named_cells,
)
from ..read.deadline import template_deadline
from ..util import fsutil
from ..util.timefmt import display_time, now_local
from ..util.xmltext import xml_safe
from . import docx_clone as dc
from . import docx_oxml as ox
from .docx_text import core_text, text_width

NOTICE_DIR = "问题通知"
TITLE = "政府信息公开工作年度报告填报问题通知"
FONT_LATIN = "Times New Roman"
FONT_TITLE = "方正小标宋简体"
FONT_BODY = "仿宋_GB2312"
FONT_TABLE = "宋体"
FONT_BOLD = "黑体"
TITLE_PT, BODY_PT, TABLE_PT = 18, 14, 10.5
SIGN_RIGHT_CHARS = 4  # the date: right-aligned, 4 characters from the right margin
SHA_PREFIX = 12  # hex digits of the sha256 shown: enough to tell two files apart by eye


@dataclass
class Notice:
    """What one notice says. `findings` are Finding dicts (Finding.to_dict / collect.json)."""

    agency: str
    file: str
    sha256: str = ""
    saved_at: str = ""  # ISO 8601, shown in UTC+8
    year: int | None = None
    findings: Sequence[Mapping[str, Any]] = ()
    reason: str = ""  # an unusable file without findings: why
    deadline: str = ""
    office: str = ""  # who signs, e.g. 青山区人民政府办公室（政务公开办）
    contact: str = ""  # whom to contact, e.g. 王五，0955-7012345
    date: dt.date = field(default_factory=lambda: now_local().date())

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.get("severity") == "error") + (1 if self.reason else 0)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.get("severity") != "error")


def notice_filename(agency: str) -> str:
    return f"{fsutil.safe_filename(agency)}_问题通知.docx"


def rows(notice: Notice) -> list[tuple[str, str, str]]:
    """(级别, 位置, 问题及修改方法) per row: errors first; many single-cell findings of one kind on
    one sheet (a template sent back blank) as one row naming the cells."""
    items = sorted((Finding.from_dict(f) for f in notice.findings), key=lambda f: 0 if f.is_error else 1)
    out: list[tuple[str, str, str]] = []
    if notice.reason:
        out.append((SEVERITY_LABELS["error"], "整个文件", notice.reason))
    for group in condensed(items, GROUP_AT):
        f = group[0]
        level = SEVERITY_LABELS.get(f.severity, f.severity)
        if len(group) > 1:
            sheet, cells = group_cells(group)
            named = named_cells(cells, GROUP_LIST, "、\u200b")  # a zero-width space: a long list wraps between cells
            out.append((level, f"{sheet}：{named}", f"同类问题共 {len(cells)} 处，例如：{f.message}"))
            continue
        out.append((level, location(f), f.message))
    return out


def location(f: Finding) -> str:
    """Sheet, cell and labels: "表三 第6行「（一）予以公开」自然人（D6）", "等 4 处" for a rule."""
    if f.labels:
        where = f.labels[0]
    elif f.cells:
        where = f.cells[0].replace("!", " ")
    else:
        return "整个文件"
    return where + (f" 等 {len(f.cells)} 处" if len(f.cells) > 1 else "")


# -- what the notice says


@dataclass(frozen=True)
class Wording:
    """Every text of one notice in the order it shows them, each safe for XML (util.xmltext.xml_safe)."""

    greeting: str  # "{agency}："
    body: str
    facts: tuple[tuple[str, str], ...]  # (收到的文件, name), ...
    rows: tuple[tuple[str, str, str, str], ...]  # (序号, 级别, 位置, 问题及修改方法)
    contact: str
    office: str
    date: str
    title: str  # the file properties
    author: str


def wording(notice: Notice) -> Wording:
    year = f"{notice.year}年度" if notice.year else ""  # prose: no space, as in 公文
    if notice.errors:
        ask = "请逐项修改后重新报送"
    else:
        ask = "请逐项核实，确需修改的修改后重新报送；无误的请回复说明"
    deadline = f"，报送截止日期为{notice.deadline}" if notice.deadline else ""
    counts = "、".join(x for x in (f"错误 {notice.errors} 处" if notice.errors else "",
                                  f"警告 {notice.warnings} 处" if notice.warnings else "") if x)
    facts = [("收到的文件", notice.file)]
    if notice.sha256:
        facts.append(("文件校验码", f"sha256 {notice.sha256[:SHA_PREFIX]}…（前 {SHA_PREFIX} 位）"))
    if notice.saved_at:
        facts.append(("文件保存时间", display_time(notice.saved_at)))
    safe = xml_safe
    return Wording(
        greeting=safe(f"{notice.agency}："),
        body=safe(f"你单位报送的{year}政府信息公开工作年度报告填报表经校验，发现{counts}，详见下表。{ask}{deadline}。"),
        facts=tuple((label, safe(value)) for label, value in facts),
        rows=tuple((str(n), safe(level), safe(where), safe(what))
                   for n, (level, where, what) in enumerate(rows(notice), start=1)),
        contact=safe(f"如有疑问，请联系{notice.contact or '本级政务公开工作机构'}。"),
        office=safe(notice.office),
        date=f"{notice.date.year}年{notice.date.month}月{notice.date.day}日",
        title=safe(core_text(f"{notice.agency} {TITLE}")),
        author=safe(core_text(notice.office or "xlsx-tools")),
    )


# -- the document: python-docx builds a shell once per (contact, office, date); each notice is a
# copy of its document.xml with the texts set and the specimen rows repeated (docx_clone)

AGENCY_AT, BODY_AT, FACTS_AT, FINDINGS_AT = 1, 2, 3, 5  # docx_clone.blocks of python_docx_notice
SPECIMEN_ROWS = (("1", SEVERITY_LABELS["error"], "位置", "问题"), ("2", SEVERITY_LABELS["warning"], "位置", "问题"))


def notice_docx(notice: Notice) -> bytes:
    """The notice as a .docx package."""
    w = wording(notice)
    shell, stencil = _stencil(w.contact, w.office, w.date)
    error = SEVERITY_LABELS["error"]
    document = stencil.render({AGENCY_AT: [w.greeting], BODY_AT: [w.body]},
                              {FACTS_AT: ((0, fact) for fact in w.facts),
                               FINDINGS_AT: ((0 if row[1] == error else 1, row) for row in w.rows)})
    return shell.package(document, title=w.title, author=w.author)


def notice_document(notice: Notice) -> bytes:
    """word/document.xml of the notice made on a copy of the shell's tree (set_texts, fill_table):
    what notice_docx's stencil must give (the tests compare the two)."""
    w = wording(notice)
    document = _shell(w.contact, w.office, w.date).document()
    blocks = dc.blocks(document)
    dc.set_texts(blocks[AGENCY_AT], [w.greeting])
    dc.set_texts(blocks[BODY_AT], [w.body])
    dc.fill_table(blocks[FACTS_AT], 0, ((0, fact) for fact in w.facts))
    error = SEVERITY_LABELS["error"]
    dc.fill_table(blocks[FINDINGS_AT], 1, ((0 if row[1] == error else 1, row) for row in w.rows))
    return dc.document_xml(document)


def write_notice(notice: Notice, path: str | Path) -> Path:
    return fsutil.atomic_write_bytes(path, notice_docx(notice))


@functools.lru_cache(maxsize=4)
def _stencil(contact: str, office: str, date: str) -> tuple[dc.Shell, dc.Stencil]:
    """The shell of the notices of one run and its document with holes for what differs."""
    shell = _shell(contact, office, date)
    return shell, dc.Stencil(shell, paragraphs=(AGENCY_AT, BODY_AT), tables=((FACTS_AT, 0), (FINDINGS_AT, 1)))


@functools.lru_cache(maxsize=4)
def _shell(contact: str, office: str, date: str) -> dc.Shell:
    """The shell of the notices of one run: what differs per notice holds specimens."""
    specimen = Wording(greeting="机关：", body="正文", facts=(("收到的文件", "文件"),), rows=SPECIMEN_ROWS,
                       contact=contact, office=office, date=date, title=TITLE, author="xlsx-tools")
    return dc.Shell.of(python_docx_notice(specimen))


def python_docx_notice(w: Wording) -> Document:
    """The whole notice built with python-docx: the shell of notice_docx (with specimen texts),
    and what the tests compare notice_docx with."""
    doc = Document()
    _page(doc)
    _styles(doc)
    _para(doc, TITLE, FONT_TITLE, TITLE_PT, align="center", after=10)
    _para(doc, w.greeting, FONT_BODY, BODY_PT, after=2)
    _para(doc, w.body, FONT_BODY, BODY_PT, indent=True, after=6)
    _facts(doc, w.facts)
    _findings(doc, w.rows)
    _para(doc, w.contact, FONT_BODY, BODY_PT, align="left", indent=True, before=8, after=12)
    if w.office:  # the office's name centred over the date (GB/T 9704 7.3.5.2)
        shift = max(0.0, SIGN_RIGHT_CHARS + (text_width(w.date) - text_width(w.office)) / 2)
        _para(doc, w.office, FONT_BODY, BODY_PT, align="right", right_chars=shift, keep_next=True)
    _para(doc, w.date, FONT_BODY, BODY_PT, align="right", right_chars=SIGN_RIGHT_CHARS)
    doc.core_properties.title = w.title
    doc.core_properties.author = w.author
    return doc


# -- layout


def _page(doc: Document) -> None:
    s = doc.sections[0]
    s.page_width, s.page_height = Mm(210), Mm(297)
    s.top_margin, s.bottom_margin = Mm(25), Mm(20)
    s.left_margin, s.right_margin = Mm(25), Mm(22)


def _styles(doc: Document) -> None:
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    ox.set_fonts(rpr, latin=FONT_LATIN, east_asia=FONT_BODY)
    ox.set_lang(rpr)
    ox.set_theme_font_lang(doc.settings.element)


def _run_fonts(run, east_asia: str, size: float, bold: bool = False) -> None:
    rpr = ox.r_element(run).get_or_add_rPr()
    ox.set_fonts(rpr, latin=FONT_LATIN, east_asia=east_asia)
    run.font.size = Pt(size)
    run.font.bold = bold


def _para(doc, text: str, font: str, size: float, *, align: str = "justify", indent: bool = False,
          before: float = 0, after: float = 0, right_chars: float = 0, bold: bool = False, keep_next: bool = False):
    p = doc.add_paragraph()
    p.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                   "justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    pf = p.paragraph_format
    pf.space_before, pf.space_after = Pt(before), Pt(after)
    pf.line_spacing = Pt(size * 1.55)
    if indent:
        pf.first_line_indent = Pt(size * 2)
    if right_chars:
        pf.right_indent = Pt(size * right_chars)
    pf.keep_with_next = keep_next or None
    _run_fonts(p.add_run(text), font, size, bold)
    return p


def _cell(cell, text: str, *, bold: bool = False, align: str = "left", size: float = TABLE_PT,
          colour: str | None = None, font: str = FONT_TABLE) -> None:
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if align == "center" else WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.space_before = p.paragraph_format.space_after = Pt(1)
    p.paragraph_format.line_spacing = 1.1
    run = p.add_run(text)
    _run_fonts(run, FONT_BOLD if bold else font, size)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)


def _table(doc, widths_mm: Sequence[float], n_rows: int):
    table = doc.add_table(rows=n_rows, cols=len(widths_mm))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(w)
    grid = ox.tbl_element(table).find(qn("w:tblGrid"))
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(round(w / 25.4 * 1440)))
    return table


def _facts(doc, facts: Sequence[tuple[str, str]]) -> None:
    table = _table(doc, (32, 131), len(facts))
    for row, (label, value) in zip(table.rows, facts, strict=True):
        _cell(row.cells[0], label, bold=True, align="center")
        _cell(row.cells[1], value)
    _para(doc, "", FONT_BODY, 6)


def _findings(doc, items: Sequence[tuple[str, str, str, str]]) -> None:
    table = _table(doc, (12, 13, 50, 88), len(items) + 1)
    for cell, text in zip(table.rows[0].cells, ("序号", "级别", "位置", "问题及修改方法"), strict=True):
        _cell(cell, text, bold=True, align="center")
        ox.child(ox.tc_element(cell).get_or_add_tcPr(), "w:shd", ox.TCPR_ORDER).attrib.update(
            {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): "D9D9D9"})
    header = ox.tr_element(table.rows[0]).get_or_add_trPr()
    ox.set_repeat_header(header)
    for row, (n, level, where, what) in zip(table.rows[1:], items, strict=True):
        _cell(row.cells[0], n, align="center")
        _cell(row.cells[1], level, align="center", colour="C00000" if level == SEVERITY_LABELS["error"] else "9C5700")
        _cell(row.cells[2], where)
        _cell(row.cells[3], what)
        ox.set_cant_split(ox.tr_element(row).get_or_add_trPr())


__all__ = ["NOTICE_DIR", "Notice", "Wording", "location", "notice_docx", "notice_filename", "python_docx_notice", "rows",
           "wording", "write_notice"]


# -- file names, and the notices of `check --notice` (collect's: collect.notice)

DEADLINE_COLUMNS = ("填报截止日期", "报送截止日期", "截止日期")


def unique_filenames(agencies: Sequence[str], codes: Sequence[str] = ()) -> list[str]:
    """notice_filename of each agency; two that would be one file on a Windows share (case-only,
    width-only or after making them safe) get the agency code, or a number, added."""
    names = [notice_filename(a) for a in agencies]
    keys = [fsutil.filename_key(n) for n in names]
    shared = {key for key, n in Counter(keys).items() if n > 1}  # (counted once: a season has thousands)
    out, used = [], set()
    for i, (name, key) in enumerate(zip(names, keys, strict=True)):
        if key in shared or key in used:
            stem = name.removesuffix(".docx")
            code = codes[i] if i < len(codes) else ""
            first = f"{stem}（{fsutil.safe_filename(code)}）.docx" if code else f"{stem}（2）.docx"
            name = fsutil.unique_name(first, lambda n, stem=stem: f"{stem}（{n}）.docx", used, start=3)
        else:
            used.add(key)
        out.append(name)
    return out


def check_notices(results: Sequence[Any], outdir: str | Path, *, office: str = "", contact: str = "",
                  deadline: str = "", paths: Sequence[Path] = ()) -> list[Path]:
    """`check --notice DIR`: a notice for each checked file (reader.ReadResult; `paths` the files
    in the same order) with errors or warnings, named after the agency the workbook names (or the
    file). Without `deadline`, the 填报截止日期 the workbook's own 填报说明 shows, if any."""
    todo = [(r, p) for r, p in zip(results, list(paths) + [None] * (len(results) - len(paths)), strict=True)
            if r.findings]
    agencies = [r.agency or Path(r.source).stem for r, _ in todo]
    names = unique_filenames(agencies)
    written = []
    for (result, path), agency, name in zip(todo, agencies, names, strict=True):
        shown = deadline
        if not shown and path is not None and result.report is not None:  # a return the reader accepted
            shown = template_deadline(Path(path)) or ""
        notice = Notice(agency=agency, file=Path(result.source).name, sha256=result.sha256 or "",
                        saved_at=str(result.saved_at or ""), year=result.year,
                        findings=[f.to_dict() for f in result.findings], deadline=shown, office=office,
                        contact=contact)
        written.append(write_notice(notice, Path(outdir) / name))
    return written
