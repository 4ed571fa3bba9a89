"""The parts of a workbook package as plain data: the workbook (sheets in order, defined names),
its relationships, the shared strings, the cells of a worksheet, the date formats of the styles
and the document properties. Each parser reads its part once, as a stream, within the bounds of
`ooxml` (cells, rows, strings, styles, elements), and keeps only what the reader needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..format.spec import cell_index
from . import ooxml
from .formulas import translate
from .ooxml import local


@dataclass(slots=True)
class Cell:
    kind: str  # the t attribute: n (default), s, str, inlineStr, b, e, d
    value: str | None  # <v> text; for s and inlineStr the string itself
    formula: str | None = None
    style: int = 0
    shared: str | None = None  # si of a shared formula

@dataclass
class Sheet:
    cells: dict[tuple[int, int], Cell]
    protected: bool


def parse_strings(data: bytes) -> list[str]:
    out: list[str] = []
    for _, el in ooxml.iterparse(data):
        if local(el.tag) != "si":
            continue
        if len(out) >= ooxml.MAX_STRINGS:
            raise ooxml.TooMuchWork(f"共享字符串表中的字符串超过 {ooxml.MAX_STRINGS} 个", "strings", ooxml.MAX_STRINGS)
        out.append(rich_text(el))
        el.clear()
    return out


def rich_text(el) -> str:
    """Text of an <si> or <is>: its <t>, or the <t> of its runs; phonetic runs (rPh) skipped."""
    parts = []
    for child in el:
        tag = local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            for t in child:
                if local(t.tag) == "t":
                    parts.append(t.text or "")
    text = ooxml.unescape("".join(parts))
    if len(text) > ooxml.MAX_CELL_CHARS:
        raise ooxml.TooMuchWork(f"有单元格的文字超过 {ooxml.MAX_CELL_CHARS} 个字符（Excel 单元格的上限）", "text", ooxml.MAX_CELL_CHARS)
    return text


# children of <c> read when the cell ends; every other element is cleared as soon as it ends
_CELL_PARTS = frozenset(("v", "f", "is", "r", "t"))


def parse_sheet(data: bytes, strings: list[str], sheet: str = "", max_cells: int | None = None) -> Sheet:
    """The cells of a worksheet; TooMuchWork past `max_cells` cells (MAX_SHEET_CELLS by default)
    or MAX_SHEET_ROWS rows."""
    if max_cells is None:
        max_cells = ooxml.MAX_SHEET_CELLS
    cells: dict[tuple[int, int], Cell] = {}
    ncells = nrows = 0
    protected = False
    masters: dict[str, tuple[int, int, str]] = {}  # shared formula si -> (row, col, text)
    pending: list[Cell] = []  # cells without an r attribute, placed when their row ends
    row_no = 0
    col_no = -1
    nstrings = len(strings)
    for _, el in ooxml.iterparse(data):
        tag = local(el.tag)
        if tag == "c":
            a = el.attrib
            kind = a.get("t", "n")
            value = formula = shared = None
            for child in el:
                ctag = local(child.tag)
                if ctag == "v":
                    value = child.text
                elif ctag == "f":
                    formula = child.text or ""
                    if child.get("t") == "shared":
                        shared = child.get("si")
                        if formula:
                            ref = a.get("r")
                            rc = cell_index(ref) if ref else None
                            if rc is not None and shared is not None:
                                masters[shared] = (rc[0], rc[1], formula)
                elif ctag == "is":
                    value = rich_text(child)
            if kind == "s" and value is not None:
                try:
                    i = int(value)
                    value = strings[i] if 0 <= i < nstrings else ""
                except ValueError:
                    value = ""
            try:
                style = int(a.get("s", 0))
            except ValueError:
                style = 0
            cell = Cell(kind, value, formula, style, shared)
            ncells += 1
            if ncells > max_cells:
                what = "单元格" if max_cells == ooxml.MAX_SHEET_CELLS else "单元格（与其他工作表合计）"
                raise ooxml.TooMuchWork(f"工作表「{sheet}」中的{what}超过 {max_cells} 个", "cells", max_cells)
            ref = a.get("r")
            rc = cell_index(ref) if ref else None
            if rc is None:
                pending.append(cell)
            else:
                cells[rc] = cell
                col_no = rc[1]
            el.clear()
        elif tag == "row":
            nrows += 1
            if nrows > ooxml.MAX_SHEET_ROWS:
                raise ooxml.TooMuchWork(f"工作表「{sheet}」中的行超过 {ooxml.MAX_SHEET_ROWS} 行", "rows", ooxml.MAX_SHEET_ROWS)
            r = el.get("r")
            row_no = int(r) - 1 if r and r.isdigit() else row_no
            for cell in pending:
                col_no += 1
                cells[(row_no, col_no)] = cell
            pending.clear()
            row_no += 1
            col_no = -1
            el.clear()
        elif tag == "sheetProtection":
            protected = el.get("sheet", "0").lower() in ("1", "true")
        elif tag not in _CELL_PARTS:
            el.clear()
    for (r, c), cell in cells.items():
        if cell.shared is not None and not cell.formula and cell.shared in masters:
            mr, mc, text = masters[cell.shared]
            cell.formula = translate(text, r - mr, c - mc)
    return Sheet(cells, protected)


@dataclass
class Book:
    sheets: list[tuple[str, str, str]]  # (name, part, state) in workbook order
    names: dict[str, str]  # workbook-level defined names -> formula text


def parse_workbook(data: bytes, rels: dict[str, str]) -> Book:
    sheets = []
    names = {}
    for _, el in ooxml.iterparse(data):
        tag = local(el.tag)
        if tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if local(k) == "id"), "")
            sheets.append((el.get("name", ""), rels.get(rid, ""), el.get("state", "visible")))
        elif tag == "definedName":
            if el.get("localSheetId") is None and el.get("name"):
                names[el.get("name")] = (el.text or "").strip()
            el.clear()
    return Book(sheets, names)


# A relationship whose target is outside the package (external, a URL, "../" past the root):
# kept as OUTSIDE + the target as written, so that a sheet pointing there is reported, not read.
OUTSIDE = "\x00outside:"

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def parse_rels(data: bytes, base: str = "xl/") -> dict[str, str]:
    out = {}
    for _, el in ooxml.iterparse(data):
        if local(el.tag) == "Relationship":
            written = target = el.get("Target", "")
            if el.get("TargetMode") == "External" or _SCHEME_RE.match(target) or "\\" in target:
                out[el.get("Id", "")] = OUTSIDE + written
                continue
            parts = (target[1:] if target.startswith("/") else base + target).split("/")
            norm: list[str] = []
            outside = False
            for p in parts:
                if p == "..":
                    if not norm:
                        outside = True
                        break
                    norm.pop()
                elif p and p != ".":
                    norm.append(p)
            out[el.get("Id", "")] = OUTSIDE + written if outside else "/".join(norm)
    return out


# built-in number formats that show a date or time (ECMA-376 18.8.30, plus the CJK ones)
_DATE_FORMAT_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_DATE_CODE_RE = re.compile(r"[ymdhsYMDHS年月日]")


def _is_date_code(code: str) -> bool:
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", code)
    return bool(_DATE_CODE_RE.search(code)) and code.lower() not in ("general", "@")


def parse_styles(data: bytes) -> set[int]:
    """Indices of the cell formats (cellXfs) that display a number as a date or time."""
    codes: dict[int, str] = {}
    xfs: list[int] = []
    in_cell_xfs = False
    container = None  # numFmts / cellXfs: emptied as we go, so the tree never holds the entries
    for event, el in ooxml.iterparse(data, ("start", "end")):
        tag = local(el.tag)
        if tag == "cellXfs":
            in_cell_xfs = event == "start"
            if not in_cell_xfs:
                break  # numFmts and cellXfs come first (ECMA-376 CT_Stylesheet order)
            container = el
        elif tag == "numFmts" and event == "start":
            container = el
        elif event == "end" and tag == "numFmt":
            try:
                codes[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
            except ValueError:
                pass
        elif event == "end" and tag == "xf" and in_cell_xfs:
            try:
                xfs.append(int(el.get("numFmtId", "0")))
            except ValueError:
                xfs.append(0)
        else:
            continue
        if len(codes) > ooxml.MAX_STYLES or len(xfs) > ooxml.MAX_STYLES:
            raise ooxml.TooMuchWork(f"样式表中的数字格式或单元格格式超过 {ooxml.MAX_STYLES} 个", "styles", ooxml.MAX_STYLES)
        if event == "end" and container is not None:
            del container[:]
    out = set()
    for i, fid in enumerate(xfs):
        if fid in codes:
            if _is_date_code(codes[fid]):
                out.add(i)
        elif fid in _DATE_FORMAT_IDS:
            out.add(i)
    return out


def parse_props(data: bytes) -> dict[str, str]:
    """docProps/custom.xml -> {name: value}; app.xml and core.xml -> {local tag: text}."""
    out: dict[str, str] = {}
    for _, el in ooxml.iterparse(data):
        tag = local(el.tag)
        if tag == "property" and el.get("name"):
            out[el.get("name")] = "".join(el.itertext()).strip()
        elif len(el) == 0 and el.text and tag not in out:
            out[tag] = el.text.strip()
    return out
