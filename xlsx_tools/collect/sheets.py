"""The machinery of the sheets collect and import write with xlsxwriter: cell formats, text made
safe for a cell, and long sheets streamed as XML.

The long sheets can hold hundreds of thousands of rows. xlsxwriter keeps every cell of a sheet in
memory (or, in constant_memory mode, cannot write the vertical merges of 汇总) and spends about
5 µs per cell, so those sheets are written by xlsxwriter with their header, column formats,
filter and one formatted sample row only; after the workbook is closed, the sample row is replaced
by the real rows, generated as sheet XML (inline strings) straight from the spill file into the
zip. Memory stays flat and the cost per cell drops to well under a microsecond.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from ..format.grid import Field
from ..format.numbers import Number, plain
from ..format.spec import FormatSpec
from ..model.status import Status
from ..util.xmltext import xml_safe
from ..write.sheet_print import lines_needed, setup_page
from .behind import Behind
from .rowblock import Blocks, RowBlock

# Sheet names (UI text; labels of the format come from the spec).


STATUS_SHEET = "收集情况"
PROBLEMS_SHEET = "问题清单"
FILES_SHEET = "文件清单"
TOTAL_SHEET = "汇总"
CHART_SHEET = "图表"
DATA_SHEET = "全部数据"
UNATTRIBUTED_SHEET = "无法对应到机关的文件"

MAX_SHEET_ROWS = 1_000_000  # Excel allows 1,048,576 rows; a long sheet continues on 全部数据2 …

STATUS_COLOURS = {  # fill, font
    Status.OK: ("#C6EFCE", "#006100"),
    Status.WARN: ("#FFEB9C", "#9C5700"),
    Status.ERR: ("#FFC7CE", "#9C0006"),
    Status.MISSING: ("#D9D9D9", "#404040"),
    Status.DUPLICATE: ("#DDEBF7", "#1F4E78"),
    Status.UNREADABLE: ("#FFC7CE", "#9C0006"),
    Status.INTERNAL: ("#FFC7CE", "#9C0006"),
    Status.FOREIGN: ("#FCE4D6", "#843C0C"),
    Status.ARCHIVE: ("#EDEDED", "#404040"),
    Status.SYSTEM: ("#F2F2F2", "#7F7F7F"),
}

FONT = "宋体"
AMOUNT_FORMAT = "0.######"  # with a conditional "0" for whole numbers: the digits entered, no padding

def clean(text: Any) -> str:
    """Text safe for a cell: no characters XML 1.0 forbids."""
    return xml_safe("" if text is None else str(text))


def cell_value(v: Number | None) -> int | float | None:
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
    # faster alternative to rows(): given each column's style attribute and the shared-string
    # table, blocks of rows (RowBlock) as XML whose only placeholder is ROW, the row number
    # (texts are shared strings: the rows hold none, and count their references in
    # SharedStrings.count)
    templates: Callable[[list[str], SharedStrings], Iterator[RowBlock]] | None = None
    top: int = 0  # 0-based row of the header; rows above it are written by before()
    before: Callable[[Any, Formats], None] | None = None
    freeze_cols: int = 0
    print_cols: int | None = None  # columns printed (the first n); None = all
    print_rows: bool = True  # False: only the rows down to the header are printed
    note: str = ""  # page header when printed (default: the sheet's name)


def number_text(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        return plain(value)
    return repr(value) if isinstance(value, float) else str(value)


def _cell_xml(ref: str, value: Any, style: str) -> str:
    kind = type(value)  # the usual two first
    if kind is str:
        if not value:
            return ""
        return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape_text(value)}</t></is></c>'
    if kind is int:
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        return f'<c r="{ref}"{style}><v>{number_text(value)}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape_text(value)}</t></is></c>'


@lru_cache(maxsize=4096)  # the texts that repeat are few (labels, statuses); the cache is kept all run
def escape_text(text: str) -> str:
    text = clean(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SHARED_STRINGS = "xl/sharedStrings.xml"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> part name of the worksheet XML in a workbook."""
    ns = {"m": _MAIN_NS,
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


class SharedStrings:
    """The workbook's shared-string table, which the rows of a template sheet (LongSheet.templates)
    refer to: xlsxwriter's strings, then the ones the rows add. A text repeated on every row of
    全部数据 (the field labels, the agency's name) is written once, and each cell holds its index."""

    _COUNTS = re.compile(r'<sst\b[^>]*?\bcount="(\d+)"[^>]*?\buniqueCount="(\d+)"')

    def __init__(self, xml: bytes | None):
        self._xml = xml.decode("utf-8") if xml is not None else None
        self.count = self.unique = 0
        self._index: dict[str, int] = {}
        self._added: list[str] = []
        if self._xml is None:
            return
        m = self._COUNTS.search(self._xml)
        if m is None:
            raise ValueError("unexpected sharedStrings.xml")
        self.count, self.unique = int(m.group(1)), int(m.group(2))
        for i, si in enumerate(ET.fromstring(self._xml).findall(f"{{{_MAIN_NS}}}si")):
            t = si.find(f"{{{_MAIN_NS}}}t")  # plain strings only; a duplicate elsewhere is harmless
            if t is not None and len(si) == 1 and t.text and "_x" not in t.text and "\r" not in t.text:
                self._index.setdefault(t.text, i)

    def index(self, text: str) -> int:
        """The index of a (non-empty) text, added if new; the caller counts the references."""
        text = clean(text)
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = self.unique
            self.unique += 1
            self._added.append(text)
        return found

    def xml(self) -> bytes:
        """sharedStrings.xml with the counts and the strings added."""
        return b"".join(self.chunks())

    def chunks(self) -> Iterator[bytes]:
        """xml() in pieces of a few hundred strings: the table holds two strings an agency (its
        name and code), and a national collection's would be tens of MB as one text."""
        if self._xml is None:
            raise ValueError("the workbook has no shared-string table")
        head, tail = self._xml.rsplit("</sst>", 1)
        head = self._COUNTS.sub(lambda m: m.group(0).replace(f'count="{m.group(1)}"', f'count="{self.count}"', 1)
                                .replace(f'uniqueCount="{m.group(2)}"', f'uniqueCount="{self.unique}"', 1), head, count=1)
        yield head.encode("utf-8")
        for i in range(0, len(self._added), 500):
            yield "".join(f'<si><t xml:space="preserve">{escape_text(t)}</t></si>'
                          for t in self._added[i:i + 500]).encode("utf-8")
        yield ("</sst>" + tail).encode("utf-8")


_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')
LEVEL = 6  # zlib's default, for the parts copied as xlsxwriter wrote them
# the long sheets and the shared strings: many rows of few distinct pieces, cheap to compress.
# Level 2 costs what level 1 (the fastest) does on them and makes 全部数据 13 % smaller (1,000
# agencies: the file 3.73 -> 3.26 MB; the whole workbook 0.375 s CPU at level 1, 0.379 at 2)
LONG_LEVEL = 2


def splice(src: Path, dst: Path, sheets: Sequence[tuple[LongSheet, int, int]], *, behind: bool = True) -> None:
    """Copy the workbook `src` to `dst`, replacing the sample row of each long sheet by its rows
    [start, start + count) of LongSheet.rows() (or templates()). `behind`: compress the long
    sheets in a thread of their own (Behind), on a core the caller has to spare; without it, in
    the caller's thread, which costs less CPU in all (no hand-over of each chunk)."""
    parts = _sheet_parts(src)
    by_part = {parts[ls.name]: (ls, start, count) for ls, start, count in sheets}
    iterators: dict[str, Iterator[Any]] = {}
    # the long sheets at LONG_LEVEL, the rest as it was
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=LONG_LEVEL) as zout:
        names = set(zin.namelist())
        strings = SharedStrings(zin.read(SHARED_STRINGS) if SHARED_STRINGS in names else None)
        deferred = None
        for info in zin.infolist():
            if info.filename == SHARED_STRINGS:
                deferred = info  # written once the sheets have added their strings
                continue
            if info.filename not in by_part:
                zout.writestr(info, zin.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=LEVEL)
                continue
            ls, _start, count = by_part[info.filename]
            with zout.open(info.filename, "w", force_zip64=True) as fh:  # at the ZipFile's level
                with Behind(fh) if behind else nullcontext(fh.write) as write:
                    for chunk in _sheet_xml(zin.read(info).decode("utf-8"), ls, count, iterators, strings):
                        write(chunk.encode("utf-8"))
        if deferred is not None:
            deferred.compress_type = zipfile.ZIP_DEFLATED
            with zout.open(deferred, "w") as fh:  # streamed, at the ZipFile's level
                for chunk in strings.chunks():
                    fh.write(chunk)


def _sheet_xml(xml: str, ls: LongSheet, count: int, iterators: dict[str, Iterator[Any]],
               strings: SharedStrings) -> Iterator[str]:
    """The sheet's XML in chunks: xlsxwriter's, with the sample row replaced by `count` rows."""
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
    key = ls.name.rstrip("0123456789")  # 全部数据2 … continue the rows of 全部数据
    rows = iterators.get(key)
    if rows is None:
        rows = iterators[key] = Blocks(ls.templates(col_styles, strings)) if ls.templates else ls.rows()
    yield head
    if isinstance(rows, Blocks):
        n = first
        for block, lo, hi in rows.take(count):
            yield block.xml(n, lo, hi)
            n += hi - lo
    else:
        buf: list[str] = []
        wrapped = [(i, col.width, col.clip) for i, col in enumerate(ls.columns) if col.wrap]
        for n in range(first, first + count):
            values = next(rows)
            number = str(n)
            cells = "".join([_cell_xml(L + number, v, s) for L, v, s in zip(letters, values, col_styles, strict=False)])
            buf.append(f'<row r="{number}"{_row_height(values, wrapped)}>{cells}</row>')
            if len(buf) >= 100:  # about 100 KB at a time (the rows of 文件清单 are long; Behind holds two more)
                yield "".join(buf)
                buf.clear()
        yield "".join(buf)
    yield tail


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


class Formats:
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


def long_sheet_frame(wb: Workbook, fmt: Formats, ls: LongSheet, name: str, count: int) -> None:
    """The sheet as xlsxwriter writes it: whatever is above the header, the header, the column
    formats, the filter, the colours and one formatted sample row that splice replaces."""
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


def _amount_column(ws, fmt: Formats, first_row: int, col: int, last_row: int) -> None:
    """A column of amounts (and counts) shows each value with its own digits: "0.######", and "0"
    for a whole number, so that 12 is not "12." (the template's fee cell does the same)."""
    ref = xl_rowcol_to_cell(first_row, col, row_abs=False, col_abs=True)
    ws.conditional_format(first_row, col, last_row, col, {
        "type": "formula", "criteria": f"=AND(ISNUMBER({ref}),INT({ref})={ref})", "format": fmt.whole})


def _colour_status(ws, fmt: Formats, first_row: int, col: int, last_row: int) -> None:
    for status, f in fmt.status.items():
        ws.conditional_format(first_row, col, last_row, col, {
            "type": "cell", "criteria": "==", "value": f'"{status.label}"', "format": f,
        })


# -- 收集情况


def info_label(spec: FormatSpec, key: str) -> str:
    return next((f.label for f in spec.info_fields if f.key == key), key)


def key_fields(spec: FormatSpec) -> list[Field]:
    """The figures 收集情况 shows per agency ([figure_sets] key_figures of the format file)."""
    return [spec.field(fid) for fid in spec.figure_set("key_figures") if spec.has_field(fid)]


def key_header(f: Field) -> str:
    return f"{f.sheet}{f.label}"


def figure_kind(f: Field) -> str:
    return "amount" if f.type.kind == "decimal" else "number"
