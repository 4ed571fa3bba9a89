"""收集情况.xlsx: what the office looks at during collection season, written with xlsxwriter.

Sheets: 收集情况 (one row per roster agency: status, file, errors, warnings, key figures, with a
filter and colours), 问题清单 (every finding, ready to forward), 文件清单 (every file found, with
its sha256 and status), 汇总 (the combined figures in the official table layout, from the spec's
header cells and field positions), 图表 (native Excel charts of the combined 办理结果 and of the
collection status) and 全部数据 (long form: agency × field × row/column labels × value, for pivot
tables).

The three long sheets can hold hundreds of thousands of rows. xlsxwriter keeps every cell of a
sheet in memory (or, in constant_memory mode, cannot write the vertical merges of 汇总) and spends
about 5 µs per cell, so those sheets are written by xlsxwriter with their header, column formats,
filter and one formatted sample row only; after the workbook is closed, the sample row is replaced
by the real rows, generated as sheet XML (inline strings) straight from the spill file into the
zip. Memory stays flat and the cost per cell drops to well under a microsecond.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from ..checks import decimal_places
from ..format.numbers import plain
from ..format.spec import Field, FormatSpec, Number, Table
from ..model.findings import (
    GROUP_AT,
    GROUP_LIST,
    SEVERITY_LABELS,
    Finding,
    condensed,
    group_cells,
    named_cells,
)
from ..util.timefmt import display_time
from ..write.sheet_print import lines_needed, scale_to, setup_page, shared_columns, text_units
from .run import (
    ARCHIVE,
    DUPLICATE,
    ERR,
    FOREIGN,
    INTERNAL,
    KEY_FIGURES,
    MISSING,
    OK,
    SYSTEM,
    UNREADABLE,
    WARN,
    Collection,
    FileRecord,
)

# Sheet names and column headers (UI text; labels of the format come from the spec).
STATUS_SHEET = "收集情况"
PROBLEMS_SHEET = "问题清单"
FILES_SHEET = "文件清单"
TOTAL_SHEET = "汇总"
CHART_SHEET = "图表"
DATA_SHEET = "全部数据"
UNATTRIBUTED_SHEET = "无法对应到机关的文件"

MAX_SHEET_ROWS = 1_000_000  # Excel allows 1,048,576 rows; a long sheet continues on 全部数据2 …

STATUS_COLOURS = {  # fill, font
    OK: ("#C6EFCE", "#006100"),
    WARN: ("#FFEB9C", "#9C5700"),
    ERR: ("#FFC7CE", "#9C0006"),
    MISSING: ("#D9D9D9", "#404040"),
    DUPLICATE: ("#DDEBF7", "#1F4E78"),
    UNREADABLE: ("#FFC7CE", "#9C0006"),
    INTERNAL: ("#FFC7CE", "#9C0006"),
    FOREIGN: ("#FCE4D6", "#843C0C"),
    ARCHIVE: ("#EDEDED", "#404040"),
    SYSTEM: ("#F2F2F2", "#7F7F7F"),
}
CHART_COLOURS = {OK: "#70AD47", WARN: "#FFC000", ERR: "#C00000", MISSING: "#A5A5A5"}

FONT = "宋体"
AMOUNT_FORMAT = "0.######"  # with a conditional "0" for whole numbers: the digits entered, no padding

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: Any) -> str:
    """Text safe for a cell: no characters XML 1.0 forbids."""
    return _ILLEGAL_XML.sub("?", "" if text is None else str(text))


def _cell_value(v: Number | None) -> int | float | None:
    if v is None:
        return None
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


# ---------------------------------------------------------------------------------------------
# Long sheets streamed as XML


@dataclass
class Column:
    header: str
    width: float
    kind: str = "text"  # "text" | "number" | "amount" (a number shown with its own digits)
    wrap: bool = False  # wrapped text (the row grows when the office suite lays it out)
    # wrapped and top-aligned, but never making its row taller than the other cells do: a long
    # text prints its first lines and stays whole in the cell (filter, formula bar)
    clip: bool = False


@dataclass
class LongSheet:
    name: str
    columns: list[Column]
    count: int  # number of data rows rows() yields
    rows: Callable[[], Iterator[Sequence[Any]]]
    status_col: int | None = None  # column coloured by status
    # faster alternative to rows(): given each column's style attribute, row XML templates whose
    # only placeholder is {n}, the row number
    templates: Callable[[list[str]], Iterator[str]] | None = None
    top: int = 0  # 0-based row of the header; rows above it are written by before()
    before: Callable[[Any, _Formats], None] | None = None
    freeze_cols: int = 0
    print_cols: int | None = None  # columns printed (the first n); None = all
    print_rows: bool = True  # False: only the rows down to the header are printed
    note: str = ""  # page header when printed (default: the sheet's name)


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        return plain(value)
    return repr(value) if isinstance(value, float) else str(value)


def _cell_xml(ref: str, value: Any, style: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        return f'<c r="{ref}"{style}><v>{_number_text(value)}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{_escape(value)}</t></is></c>'


@lru_cache(maxsize=65536)
def _escape(text: str) -> str:
    text = clean(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> part name of the worksheet XML in a workbook."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    with zipfile.ZipFile(path) as zf:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", ns)}
    out = {}
    for sheet in wb.find("m:sheets", ns).findall("m:sheet", ns):
        target = targets[sheet.get(f"{{{ns['r']}}}id")]
        out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')


def _splice(src: Path, dst: Path, sheets: Sequence[tuple[LongSheet, int, int]]) -> None:
    """Copy the workbook `src` to `dst`, replacing the sample row of each long sheet by its rows
    [start, start + count) of LongSheet.rows()."""
    parts = _sheet_parts(src)
    by_part = {parts[ls.name]: (ls, start, count) for ls, start, count in sheets}
    iterators: dict[str, Iterator[Sequence[Any]]] = {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename not in by_part:
                zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            ls, start, count = by_part[info.filename]
            xml = data.decode("utf-8")
            letters = [xl_col_to_name(i) for i in range(len(ls.columns))]
            first = ls.top + 2  # 1-based number of the first data row, the sample row
            xml = _DIMENSION.sub(f'<dimension ref="A1:{letters[-1]}{first + count - 1}"/>', xml, count=1)
            m = re.search(f'<row r="{first}"[^>]*>(.*?)</row>', xml, re.S)
            styles = {}
            if m:
                found = re.findall(f'<c r="([A-Z]+){first}"(?: s="(\\d+)")?', m.group(0))
                styles = {col: (f' s="{s}"' if s else "") for col, s in found}
                head, tail = xml[:m.start()], xml[m.end():]
            else:
                head, tail = xml, ""
            col_styles = [styles.get(L, "") for L in letters]
            wrapped = [(i, col.width, col.clip) for i, col in enumerate(ls.columns) if col.wrap]
            key = ls.name.rstrip("0123456789")  # 全部数据2 … continue the rows of 全部数据
            rows = iterators.get(key)
            if rows is None:
                rows = iterators[key] = ls.templates(col_styles) if ls.templates else ls.rows()
            out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            out.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(out, "w", force_zip64=True) as fh:
                fh.write(head.encode("utf-8"))
                buf: list[str] = []
                for n in range(first, first + count):
                    if ls.templates:
                        buf.append(next(rows).format(n=n))
                        continue
                    values = next(rows)
                    cells = "".join(_cell_xml(f"{L}{n}", v, s) for L, v, s in zip(letters, values, col_styles, strict=False))
                    buf.append(f'<row r="{n}"{_row_height(values, wrapped)}>{cells}</row>')
                    if len(buf) >= 2000:
                        fh.write("".join(buf).encode("utf-8"))
                        buf.clear()
                fh.write("".join(buf).encode("utf-8"))
                fh.write(tail.encode("utf-8"))


LINE_PT = 14.0  # one line of 10 pt text in a row


def _row_height(values: Sequence[Any], wrapped: Sequence[tuple[int, float, bool]]) -> str:
    """The row's height attributes when its wrapped cells need more than one line: office suites
    do not lay out the rows of a file they open, so the height is set here (clipped columns do
    not count)."""
    lines = 1
    for i, width, clip in wrapped:
        if not clip and i < len(values) and values[i] not in (None, ""):
            lines = max(lines, lines_needed(str(values[i]), width, 10))
    return f' ht="{lines * LINE_PT + 2:g}" customHeight="1"' if lines > 1 else ""


# ---------------------------------------------------------------------------------------------
# The workbook


class _Formats:
    def __init__(self, wb: Workbook):
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.note = wb.add_format({**base, "font_color": "#595959"})
        self.note_wrap = wb.add_format({**base, "font_color": "#595959", "text_wrap": True})
        self.header = wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                                     "align": "center"})
        self.heading = wb.add_format({**base, "bold": True, "font_size": 12})
        self.text = wb.add_format({**base})
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.clip = wb.add_format({**base, "text_wrap": True, "valign": "top"})
        self.number = wb.add_format({**base, "num_format": "General"})
        # amounts show exactly the digits entered (see _amount_column); Excel's General would round
        # 24252.311082 to 11 characters
        self.amount = wb.add_format({**base, "num_format": AMOUNT_FORMAT})
        self.whole = wb.add_format({"num_format": "0"})
        self.grid_amount = {}
        self.grid_label = {}
        self.grid_value = {}
        self.status = {s: wb.add_format({"bg_color": fill, "font_color": font}) for s, (fill, font) in STATUS_COLOURS.items()}
        self._wb = wb
        self._base = base

    def label(self, size: float, bold: bool = False):
        key = (size, bold)
        if key not in self.grid_label:
            self.grid_label[key] = self._wb.add_format({**self._base, "font_size": size, "border": 1, "text_wrap": True,
                                                        "align": "center", "bold": bold})
        return self.grid_label[key]

    def amount_value(self, size: float, decimals: int):
        """A grid cell of an amount with exactly `decimals` decimals (as entered, never padded)."""
        key = (size, decimals)
        if key not in self.grid_amount:
            self.grid_amount[key] = self._wb.add_format({
                **self._base, "font_size": size, "border": 1, "align": "center",
                "num_format": "0." + "0" * decimals if decimals else "0"})
        return self.grid_amount[key]

    def value(self, size: float):
        if size not in self.grid_value:
            self.grid_value[size] = self._wb.add_format({**self._base, "font_size": size, "border": 1, "align": "center",
                                                         "num_format": "General"})
        return self.grid_value[size]


def write_collect_workbook(collection: Collection, path: str | Path) -> Path:
    """Write 收集情况.xlsx to `path` (the caller moves it into place)."""
    path = Path(path)
    raw = path.with_name(path.name + ".raw")
    wb = Workbook(str(raw), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                             # column widths are in digits of the default font: Arial (Liberation Sans
                             # in LibreOffice, same metrics) prints at the same scale in every office
                             # suite, where Calibri falls back to a wider font without Office
                             "default_format_properties": {"font_name": "Arial", "font_size": 10}})
    wb.set_properties({"title": f"收集情况 {collection.year or ''}".strip(), "author": "xlsx-tools",
                       "comments": "xlsx-tools collect"})
    fmt = _Formats(wb)
    longs = [_status_sheet(collection), _problems_sheet(collection), _files_sheet(collection),
             _unattributed_sheet(collection)]
    for ls in longs:
        _long_sheet_frame(wb, fmt, ls, ls.name, ls.count)
    _total_sheet(wb, fmt, collection)
    _chart_sheet(wb, fmt, collection)
    data = _data_sheet(collection)
    parts: list[tuple[LongSheet, int, int]] = [(ls, 0, ls.count) for ls in longs]
    chunks = max(1, math.ceil(data.count / MAX_SHEET_ROWS))
    for k in range(chunks):
        name = DATA_SHEET if k == 0 else f"{DATA_SHEET}{k + 1}"
        count = min(MAX_SHEET_ROWS, data.count - k * MAX_SHEET_ROWS)
        _long_sheet_frame(wb, fmt, data, name, count)
        parts.append((LongSheet(name, data.columns, count, data.rows, data.status_col, print_rows=False,
                                note=data.note), k * MAX_SHEET_ROWS, count))
    wb.get_worksheet_by_name(STATUS_SHEET).activate()
    wb.close()
    try:
        _splice(raw, path, parts)
    finally:
        raw.unlink(missing_ok=True)
    return path


def _long_sheet_frame(wb: Workbook, fmt: _Formats, ls: LongSheet, name: str, count: int) -> None:
    """The sheet as xlsxwriter writes it: whatever is above the header, the header, the column
    formats, the filter, the colours and one formatted sample row that _splice replaces."""
    ws = wb.add_worksheet(name)
    if ls.before is not None:
        ls.before(ws, fmt)
    top = ls.top
    for i, col in enumerate(ls.columns):
        ws.set_column(i, i, col.width)
        ws.write_string(top, i, col.header, fmt.header)
    # the header wraps: as many lines as its longest label needs in its column
    lines = max(lines_needed(col.header, col.width, 10) for col in ls.columns)
    ws.set_row(top, max(15.0, lines * 13.5 + 3))
    ws.freeze_panes(top + 1, ls.freeze_cols)
    last_col = len(ls.columns) - 1
    printed = last_col if ls.print_cols is None else min(last_col, ls.print_cols - 1)
    setup_page(ws, repeat_to=top, header=ls.note)
    ws.print_area(0, 0, top + (count if ls.print_rows else 0), printed)
    if not ls.print_rows:
        ws.fit_to_pages(1, 1)
    if count:
        for i, col in enumerate(ls.columns):
            style = {"number": fmt.number, "amount": fmt.amount}.get(
                col.kind, fmt.clip if col.clip else fmt.wrap if col.wrap else fmt.text)
            ws.write_blank(top + 1, i, None, style)
            if col.kind == "amount":
                _amount_column(ws, fmt, top + 1, i, top + count)
        ws.autofilter(top, 0, top + count, last_col)
        if ls.status_col is not None:
            _colour_status(ws, fmt, top + 1, ls.status_col, top + count)
    else:
        ws.autofilter(top, 0, top, last_col)


def _amount_column(ws, fmt: _Formats, first_row: int, col: int, last_row: int) -> None:
    """A column of amounts (and counts) shows each value with its own digits: "0.######", and "0"
    for a whole number, so that 12 is not "12." (the template's fee cell does the same)."""
    ref = xl_rowcol_to_cell(first_row, col, row_abs=False, col_abs=True)
    ws.conditional_format(first_row, col, last_row, col, {
        "type": "formula", "criteria": f"=AND(ISNUMBER({ref}),INT({ref})={ref})", "format": fmt.whole})


def _colour_status(ws, fmt: _Formats, first_row: int, col: int, last_row: int) -> None:
    for status, f in fmt.status.items():
        ws.conditional_format(first_row, col, last_row, col, {
            "type": "cell", "criteria": "==", "value": f'"{status}"', "format": f,
        })


# -- 收集情况


def _label(spec: FormatSpec, key: str) -> str:
    return next((f.label for f in spec.info_fields if f.key == key), key)


def key_fields(spec: FormatSpec) -> list[Field]:
    return [spec.field(fid) for fid in KEY_FIGURES if spec.has_field(fid)]


def key_header(f: Field) -> str:
    return f"{f.sheet}{f.label}"


def _figure_kind(f: Field) -> str:
    return "amount" if f.type.kind == "decimal" else "number"


# The key figures printed on 收集情况 (the others follow, outside the print area).
PRINTED_FIGURES = ("t3.received.total", "t3.results_total.total", "t4.review.total")


def _status_sheet(c: Collection) -> LongSheet:
    """One row per roster agency. The printed block (landscape A4, one page wide, at most 12
    columns so that it prints at 9 pt or more) comes first; the details an office filters on
    but does not print for its leaders (code, how the file was matched, the saving software, the
    other key figures, contacts) follow outside the print area."""
    spec = c.spec
    contact_keys = [f.key for f in spec.info_fields
                    if not f.locked and any(f.key in a.row.contact for a in c.agencies)]
    keys = key_fields(spec)
    printed_keys = [f for f in keys if f.id in PRINTED_FIGURES]
    other_keys = [f for f in keys if f.id not in PRINTED_FIGURES]
    with_docx = c.docx_requested or bool(c.docx)
    # widths (about 136 units) print at 94 % or more of 10 pt on landscape A4
    columns = [
        Column("序号", 4, "number"), Column(_label(spec, "agency"), 19, wrap=True), Column("状态", 6.5),
        Column("错误数", 4.5, "number"), Column("警告数", 4.5, "number"), Column("说明", 28.5 if with_docx else 35.5, wrap=True),
        Column("采用的文件", 19, wrap=True), Column("保存时间", 17),
    ] + [Column(key_header(f), 8.5, _figure_kind(f)) for f in printed_keys]
    if with_docx:  # printed: 已生成 or 未生成; the file's path follows outside the print area
        columns.append(Column("Word 报告", 7, wrap=True))
    print_cols = len(columns)
    columns += [Column(_label(spec, "code"), 14), Column("对应方式", 10), Column("保存软件", 16)] \
        + [Column(key_header(f), 14, _figure_kind(f)) for f in other_keys] \
        + [Column(_label(spec, k), 14) for k in contact_keys]
    columns.append(Column("Word 报告文件" if with_docx else "Word 报告", 30 if with_docx else 14))
    # details of the season's feedback: each agency's 问题通知, and the last-year report compared with
    with_notice = bool(c.notices)
    with_previous = any(a.file is not None and (a.file.previous_file or a.file.previous_note) for a in c.agencies)
    if with_notice:
        columns.append(Column("问题通知", 30))
    if with_previous:
        columns.append(Column("上一年度报告（跨年度核对）", 40, wrap=True))
    lines = c.summary_lines()
    top = len(lines) + 2

    def before(ws, fmt: _Formats) -> None:
        ws.write_string(0, 0, f"{c.year or ''} 年度政府信息公开工作年度报告收集情况".lstrip(), fmt.title)
        ws.set_row(0, 24)
        width = sum(col.width for col in columns[:print_cols])
        for i, line in enumerate(lines, start=1):
            # across the printed columns, wrapped: a long list of missing agencies stays on the page
            ws.merge_range(i, 0, i, print_cols - 1, clean(line), fmt.note_wrap)
            ws.set_row(i, lines_needed(line, width, 10) * 13.5 + 2)

    def rows() -> Iterator[Sequence[Any]]:
        spill = c.spill
        for agency in c.agencies:
            rec = agency.file
            figures = spill.figures(rec) if (spill and rec and rec.has_report) else {}
            printed = ([agency.index + 1, agency.row.agency, agency.status,
                        rec.errors if rec else None, rec.warnings if rec else None, agency.note,
                        rec.name if rec else (agency.files[0].name if agency.files else ""),
                        display_time(rec.saved_at) if rec else ""]
                       + [figures.get(f.id) for f in printed_keys])
            details = ([agency.row.code, rec.match if rec else "", rec.application if rec else ""]
                       + [figures.get(f.id) for f in other_keys]
                       + [agency.row.contact.get(k, "") for k in contact_keys])
            if with_docx:
                printed.append("已生成" if agency.docx else "未生成")
            yield (printed + details + [agency.docx] + ([agency.notice] if with_notice else [])
                   + ([previous_text(rec) if rec else ""] if with_previous else []))

    return LongSheet(STATUS_SHEET, columns, len(c.agencies), rows, status_col=2, top=top, before=before,
                     freeze_cols=2, print_cols=print_cols)


# -- 问题清单, 文件清单, 全部数据


def _file_agency(c: Collection, rec: FileRecord) -> str:
    return c.agencies[rec.roster].row.agency if rec.roster is not None else ""


def _own_reason(rec: FileRecord) -> bool:
    """Whether a file's status needs its own line in 问题清单 (no finding says it already)."""
    return rec.status in (UNREADABLE, INTERNAL, FOREIGN) and bool(rec.reason) and not rec.reason_in_findings


def _problem_rows(findings: Sequence[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """(严重程度, 代码, 单元格, 位置, 问题说明) per printed row of one file's findings: many blanks
    (or other single-cell findings of one kind) on one sheet make one row, grouped as in the
    问题通知, naming the count and the first cells; its 单元格 lists every cell for filtering."""
    out = []
    for group in condensed([Finding.from_dict(f) for f in findings], GROUP_AT):
        f = group[0]
        level = SEVERITY_LABELS.get(f.severity, f.severity)
        cells = "、".join(c for g in group for c in g.cells)
        if len(group) == 1:
            out.append((level, f.code, cells, "；".join(f.labels), f.message))
            continue
        sheet, names = group_cells(group)
        out.append((level, f.code, cells, f"{sheet}：{named_cells(names, GROUP_LIST)}",
                    f"同类问题共 {len(group)} 处（「单元格」一列列出全部），例如：{f.message}"))
    return out


def _problems_sheet(c: Collection) -> LongSheet:
    columns = [
        Column("序号", 5, "number"), Column(_label(c.spec, "agency"), 16, wrap=True), Column("文件", 18, wrap=True),
        Column("文件状态", 7, wrap=True), Column("严重程度", 6), Column("代码", 14, wrap=True),
        Column("单元格", 11, wrap=True, clip=True), Column("位置", 28, wrap=True), Column("问题说明", 46, wrap=True),
    ]
    files = c.problem_files()  # the adopted file of each agency: superseded drafts are in 文件清单
    spill = c.spill

    def problems(rec: FileRecord) -> list[tuple[str, str, str, str, str]]:
        return _problem_rows(spill.findings(rec)) if spill is not None and (rec.errors or rec.warnings) else []

    # the rows are counted before they are written (a second read of the spill file, findings only)
    count = sum(1 for r in files if _own_reason(r)) + sum(len(problems(r)) for r in files)

    def rows() -> Iterator[Sequence[Any]]:
        n = 0
        for rec in files:
            agency = _file_agency(c, rec)
            if _own_reason(rec):
                n += 1
                yield [n, agency, rec.name, rec.status, SEVERITY_LABELS["error"], rec.status, "", "", rec.reason]
            for row in problems(rec):
                n += 1
                yield [n, agency, rec.name, rec.status, *row]

    return LongSheet(PROBLEMS_SHEET, columns, count, rows, status_col=3)


def _files_sheet(c: Collection) -> LongSheet:
    spec = c.spec
    columns = [
        Column("序号", 5, "number"), Column("文件", 22, wrap=True), Column("大小（字节）", 8, "number"),
        Column("sha256", 24, wrap=True), Column("状态", 7, wrap=True), Column("对应机关", 15, wrap=True),
        Column("对应方式", 7, wrap=True), Column(f"模板中的{_label(spec, 'agency')}", 15, wrap=True),
        Column(f"模板中的{_label(spec, 'year')}", 7), Column("保存时间", 17),
        Column("保存软件", 10, wrap=True), Column("错误数", 5, "number"), Column("警告数", 5, "number"),
        Column("说明", 26, wrap=True),
    ]
    previous = any(r.previous_file or r.previous_note for r in c.files)  # collect --previous
    if previous:
        columns.append(Column("上一年度报告（跨年度核对）", 30, wrap=True))

    def rows() -> Iterator[Sequence[Any]]:
        for rec in c.files:
            year = rec.identity.get("year", "")
            yield [rec.seq + 1, rec.name, rec.size, rec.sha256, rec.status, _file_agency(c, rec), rec.match,
                   rec.identity.get("agency", ""), int(year) if year.isdigit() else year, display_time(rec.saved_at),
                   rec.application, rec.errors if rec.has_report or rec.errors else None,
                   rec.warnings if rec.has_report or rec.warnings else None, rec.note] + (
                [previous_text(rec)] if previous else [])

    return LongSheet(FILES_SHEET, columns, len(c.files), rows, status_col=4)


def previous_text(rec: FileRecord) -> str:
    """Which last-year report a file was compared with, and why not where it was not."""
    if rec.previous_file and not rec.previous_note:
        return rec.previous_file
    return "；".join(x for x in (rec.previous_file, rec.previous_note) if x)


def _unattributed_sheet(c: Collection) -> LongSheet:
    """Files nobody on the roster can be said to have sent, each with the reason."""
    columns = [Column("序号", 5, "number"), Column("文件", 26, wrap=True), Column("状态", 8, wrap=True),
               Column("原因", 62, wrap=True), Column("可能的机关", 22, wrap=True), Column("sha256", 24, wrap=True)]
    files = c.unattributed()

    def rows() -> Iterator[Sequence[Any]]:
        for n, rec in enumerate(files, start=1):
            yield [n, rec.name, rec.status, c.unattributed_reason(rec),
                   "、".join(c.agencies[i].row.agency for i in rec.candidates), rec.sha256]

    return LongSheet(UNATTRIBUTED_SHEET, columns, len(files), rows, status_col=2)


def _data_sheet(c: Collection) -> LongSheet:
    spec = c.spec
    fields = spec.fields
    columns = [
        Column(_label(spec, "agency"), 24), Column(_label(spec, "code"), 12), Column("状态", 8), Column("表", 6),
        Column("行", 48), Column("列", 30), Column("数值", 14, "amount"), Column("单位", 6), Column("类型", 6),
        Column("数据项编号", 40),
    ]
    middle = [[f.sheet, " / ".join(f.row_labels), " / ".join(f.column_labels)] for f in fields]
    tails = [[f.type.unit, "填报" if f.input else "计算", f.id] for f in fields]
    count = c.used_count() * len(fields)

    def rows() -> Iterator[Sequence[Any]]:
        for agency, figures in c.iter_used_figures():
            head = [agency.row.agency, agency.row.code, agency.status]
            for f, mid, tail in zip(fields, middle, tails, strict=True):
                yield head + mid + [figures.get(f.id)] + tail

    def templates(styles: list[str]) -> Iterator[str]:
        # about 200 rows per agency: the constant parts of a row are built once
        letters = [xl_col_to_name(i) for i in range(len(columns))]

        def text(col: int, value: str) -> str:
            if not value:
                return ""
            escaped = _escape(value).replace("{", "{{").replace("}", "}}")
            return f'<c r="{letters[col]}{{n}}"{styles[col]} t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'

        mids = ["".join(text(3 + i, v) for i, v in enumerate(mid)) for mid in middle]
        ends = ["".join(text(7 + i, v) for i, v in enumerate(tail)) + "</row>" for tail in tails]
        value_cell = f'<c r="{letters[6]}{{{{n}}}}"{styles[6]}><v>{{}}</v></c>'
        for agency, figures in c.iter_used_figures():
            head = '<row r="{n}">' + text(0, agency.row.agency) + text(1, agency.row.code) + text(2, agency.status)
            for f, mid, end in zip(fields, mids, ends, strict=True):
                v = figures.get(f.id)
                yield head + mid + ("" if v is None else value_cell.format(_number_text(v))) + end

    note = (f"{DATA_SHEET}：每个机关每个数据项一行（共 {count} 行），供筛选和数据透视使用；"
            "默认只打印表头，如需打印全部，请先取消打印区域。")
    return LongSheet(DATA_SHEET, columns, count, rows, status_col=2, templates=templates, print_rows=False,
                     note=note)


# -- 汇总: the official tables, stacked, each with its own column widths

TOTAL_WIDTH = 140.0  # column-width units of every table on 汇总 (landscape A4 at full size)


def _natural_widths(table: Table) -> list[float]:
    """Column widths a table's labels and figures need (before stretching to TOTAL_WIDTH)."""
    widths = [0.0] * table.grid_columns
    for cell in table.cells:
        if cell.colspan == 1 and cell.role in ("row", "corner") and cell.rowspan < 4:
            widths[cell.col] = max(widths[cell.col], min(30.0, text_units(cell.text, table.font_size) + 2))
    for f in table.fields:
        if f.colspan == 1:
            widths[f.col] = max(widths[f.col], 9.0)
    return [max(w, 6.0) for w in widths]


def total_layout(spec: FormatSpec) -> tuple[list[float], list[list[tuple[int, int]]], list[list[float]]]:
    """汇总's columns: (sheet column widths, per table per column (first sheet column, span),
    per table its own column widths)."""
    own = [scale_to(_natural_widths(t), TOTAL_WIDTH) for t in spec.tables]
    sheet, spans = shared_columns(own)
    return sheet, spans, own


def _total_sheet(wb: Workbook, fmt: _Formats, c: Collection) -> None:
    spec = c.spec
    ws = wb.add_worksheet(TOTAL_SHEET)
    counts = c.counts()
    ws.write_string(0, 0, f"{c.year or ''} 年度汇总".lstrip(), fmt.title)
    ws.write_string(1, 0, (f"计入汇总：{c.total_count} 家（{OK}、{WARN}）；未计入：{ERR} {counts[ERR]} 家，"
                           f"{MISSING} {counts[MISSING]} 家。"), fmt.note)
    sheet_widths, spans, own = total_layout(spec)
    for col, w in enumerate(sheet_widths):
        ws.set_column(col, col, w)
    setup_page(ws)
    row = 3
    breaks = []
    for table, span, widths in zip(spec.tables, spans, own, strict=True):
        if row > 3:
            breaks.append(row)  # each table starts a page
        last = span[-1][0] + span[-1][1] - 1
        ws.merge_range(row, 0, row, last, table.heading or table.sheet, fmt.heading)
        ws.set_row(row, 22)
        row += 1
        row = _write_grid(ws, fmt, table, row, c.totals, span, widths) + 1
    ws.set_h_pagebreaks(breaks)
    ws.print_area(0, 0, row - 1, len(sheet_widths) - 1)


def _write_grid(ws, fmt: _Formats, table: Table, top: int, figures: dict[str, Number | None],
                span: list[tuple[int, int]], widths: list[float]) -> int:
    """The table at sheet row `top`, its column j over the sheet columns span[j]; returns the row
    after it."""
    shift = top - table.origin_row
    size = table.font_size
    label, value = fmt.label(size), fmt.value(size)
    lines: dict[int, float] = {}

    def place(col: int, colspan: int) -> tuple[int, int]:
        first = span[col][0]
        last = span[col + colspan - 1][0] + span[col + colspan - 1][1] - 1
        return first, last

    for cell in table.cells:
        r = cell.row + shift
        width = sum(widths[cell.col:cell.col + cell.colspan])
        need = math.ceil(text_units(cell.text, size) / max(1.0, width - 1)) / cell.rowspan
        lines[r] = max(lines.get(r, 1), need)
        first, last = place(cell.col, cell.colspan)
        if cell.rowspan > 1 or last > first:
            ws.merge_range(r, first, r + cell.rowspan - 1, last, clean(cell.text), label)
        else:
            ws.write_string(r, first, clean(cell.text), label)
    for f in table.fields:
        r = f.row + shift
        exact = figures.get(f.id)
        v = _cell_value(exact)
        style = value
        if isinstance(exact, Decimal) and exact.is_finite():
            style = fmt.amount_value(size, decimal_places(exact))
        first, last = place(f.col, f.colspan)
        if last > first:
            ws.merge_range(r, first, r, last, "" if v is None else v, style)
        elif v is None:
            ws.write_blank(r, first, None, style)
        else:
            ws.write_number(r, first, v, style)
    for r, n in lines.items():
        ws.set_row(r, max(18.0, math.ceil(n) * (size * 1.35 + 1) + 4))
    return top + table.grid_rows


# -- 图表


def result_groups(spec: FormatSpec) -> tuple[str, Field, list[tuple[str, list[str]]]] | None:
    """For the 办理结果 chart: (title label, the total field, [(group label, field ids)]): the rows
    under the same top row label as table 三's （七）总计, in the same column, grouped by their
    second-level label (（一）予以公开 … （六）其他处理). None for a format without that field."""
    fid = "t3.results_total.total"
    if not spec.has_field(fid):
        return None
    total = spec.field(fid)
    table = spec.table(total.table)
    groups: dict[str, list[str]] = {}
    for f in table.fields:
        if (f.id == fid or len(f.row_labels) < 2 or f.row_labels[0] != total.row_labels[0]
                or f.column_labels != total.column_labels):
            continue
        groups.setdefault(f.row_labels[1], []).append(f.id)
    if not groups:
        return None
    return total.row_labels[0], total, list(groups.items())


def _chart_sheet(wb: Workbook, fmt: _Formats, c: Collection) -> None:
    ws = wb.add_worksheet(CHART_SHEET)
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 10)
    ws.set_column(3, 3, 10)
    ws.set_column(4, 4, 10)
    groups = result_groups(c.spec)
    if groups is not None:
        title, total, items = groups
        ws.write_string(0, 0, title, fmt.header)
        ws.write_string(0, 1, total.column_short, fmt.header)
        for i, (label, ids) in enumerate(items, start=1):
            ws.write_string(i, 0, clean(label), fmt.text)
            ws.write_number(i, 1, sum(_cell_value(c.totals.get(fid)) or 0 for fid in ids), fmt.number)
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({
            "name": title, "categories": [CHART_SHEET, 1, 0, len(items), 0],
            "values": [CHART_SHEET, 1, 1, len(items), 1], "data_labels": {"value": True},
            "fill": {"color": "#4472C4"},
        })
        chart.set_title({"name": f"{title}（汇总，{c.total_count} 家）", "name_font": {"name": FONT, "size": 12}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, "num_font": {"name": FONT}})
        chart.set_x_axis({"num_font": {"name": FONT}})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(items) + 2, 0, chart)
    counts = c.counts()
    ws.write_string(0, 3, "状态", fmt.header)
    ws.write_string(0, 4, "机关数", fmt.header)
    for i, status in enumerate(counts, start=1):
        ws.write_string(i, 3, status, fmt.text)
        ws.write_number(i, 4, counts[status], fmt.number)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({
        "name": "收集情况", "categories": [CHART_SHEET, 1, 3, len(counts), 3],
        "values": [CHART_SHEET, 1, 4, len(counts), 4],
        "points": [{"fill": {"color": CHART_COLOURS[s]}} for s in counts],
        "data_labels": {"value": True, "category": True},
    })
    pie.set_title({"name": f"收集情况（应交 {len(c.agencies)} 家）", "name_font": {"name": FONT, "size": 12}})
    pie.set_size({"width": 480, "height": 360})
    pie_row = len(groups[2]) + 22 if groups else 6
    ws.insert_chart(pie_row, 0, pie)
    # print both charts on A4: the print area must reach past the wider bar chart (720 px)
    setup_page(ws, landscape=False)
    ws.print_area(0, 0, pie_row + 19, 7)


__all__ = ["Column", "LongSheet", "clean", "key_fields", "key_header", "result_groups", "total_layout",
           "write_collect_workbook"]
