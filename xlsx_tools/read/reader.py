"""Read a returned workbook back into a Report, with findings about everything that is wrong with
it: what the file is, whose and which year's it is, what was done to the template (sheets, names,
labels, rows, protection, formulas), and every input value that is blank or not a number.

The reader parses only the parts it needs (workbook.xml, its rels, sharedStrings, styles, the sheets
of the format, docProps) with defusedxml's streaming parser after `intake` has vetted the
container; it never loads the workbook through openpyxl and never writes to its input. Cells are
found by their defined names, with the spec's coordinates and the printed labels as cross-checks.
Cached formula results are never trusted: computed cells are recomputed from the inputs.

Finding codes (see also intake and checks):
  identity   NOT_OUR_TEMPLATE, OTHER_FORMAT, OTHER_YEAR, OTHER_AGENCY (errors), TEMPLATE_CHANGED (warning)
  structure  SHEET_MISSING (error for a data sheet, warning otherwise), SHEET_RENAMED, SHEET_ADDED,
             NAME_MISSING, NAME_MOVED, PROTECTION_REMOVED (warnings), LABEL_CHANGED, ROWS_SHIFTED (errors)
  formulas   FORMULA_OVERWRITTEN, FORMULA_CHANGED (errors), CACHED_MISMATCH (warning)
  values     BLANK (error; warning with blank_as_zero), NOT_A_NUMBER, NEGATIVE, NUMBER_TOO_LARGE, NOT_INTEGER,
             TOO_MANY_DECIMALS, TOO_MANY_DIGITS (errors), TEXT_NUMBER, INPUT_FORMULA (warnings)

ReadResult.kind: "ok" (a Report was read; it may still have findings), "unreadable" (not a
workbook we can parse: intake refused it or its XML is broken; report is None), "foreign" (a
workbook, but not this office's template: not ours or another format — report is None — or ours
for another year or agency — report is filled in so that it can still be inspected), "internal"
(a bug of ours stopped the reading: one INTERNAL_ERROR finding, never blamed on the file).
"""

from __future__ import annotations

import functools
import re
import traceback
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from ..checks import (
    BLANK_TAIL,
    check_report,
    domain_problem,
    field_where,
    number_problem,
    too_large,
    value_finding,
)
from ..format.numbers import NumberError, cell_number, text_number
from ..format.numbers import shown as clipped
from ..format.spec import Field, FormatError, FormatSpec, Number, a1, fmt_number, load_format
from ..model import meta
from ..model.findings import ERROR, WARNING, Finding
from ..model.identity import agency_key, code_key, same_agency
from ..model.report import Agency, Provenance, Report, narrative_from_parts
from ..util import fsutil
from ..util.fsutil import os_error_text, regular_file_problem
from .intake import (
    DEFAULT_LIMITS,
    Intake,
    IntakeError,
    Limits,
    TooMuchWork,
    iterparse,
    open_source,
    parse_part,
    unreadable,
)
from .ooxml import (
    MAX_BOOK_CELLS,
    MAX_CELL_CHARS,
    MAX_SHEET_CELLS,
    MAX_SHEET_ROWS,
    MAX_STRINGS,
    MAX_STYLES,
    unescape,
)
from .safezip import MemberTooLarge

KIND_OK = "ok"
KIND_UNREADABLE = "unreadable"
KIND_FOREIGN = "foreign"
KIND_INTERNAL = "internal"
INTERNAL_NOTE = "这不是文件的问题，此文件未能检查。请把此文件发给维护人员"
IDENTITY_KEYS = ("agency", "code", "year")  # who and which year: must agree wherever the file says it


@dataclass
class ReadResult:
    source: str  # display name (path, or "archive.zip!inner/file.xlsx")
    sha256: str
    report: Report | None  # None when unreadable / not ours
    findings: list[Finding]
    identity: dict[str, str]  # what the workbook says it is (meta.KEYS)
    kind: str  # KIND_OK | KIND_UNREADABLE | KIND_FOREIGN
    saved_at: str | None = None  # docProps/core.xml dcterms:modified
    application: str | None = None  # docProps/app.xml Application

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)

    @property
    def agency(self) -> str:
        return self.report.agency.name if self.report else self.identity.get("agency", "")

    @property
    def year(self) -> int | None:
        if self.report:
            return self.report.year
        try:
            return int(self.identity.get("year", ""))
        except ValueError:
            return None


# ---------------------------------------------------------------------------------------------
# XML parts -> plain data


_LOCAL: dict[str, str] = {}


def _local(tag: str) -> str:
    """The local name of a namespaced tag (transitional and strict OOXML alike)."""
    try:
        return _LOCAL[tag]
    except KeyError:
        local = _LOCAL[tag] = tag.rpartition("}")[2]
        return local


@dataclass(slots=True)
class _Cell:
    kind: str  # the t attribute: n (default), s, str, inlineStr, b, e, d
    value: str | None  # <v> text; for s and inlineStr the string itself
    formula: str | None = None
    style: int = 0
    shared: str | None = None  # si of a shared formula


@dataclass
class _Sheet:
    cells: dict[tuple[int, int], _Cell]
    protected: bool


_REF_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


@functools.lru_cache(maxsize=1 << 16)
def _rc(ref: str) -> tuple[int, int] | None:
    m = _REF_RE.match(ref)
    if not m:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _parse_strings(data: bytes) -> list[str]:
    out: list[str] = []
    for _, el in iterparse(data):
        if _local(el.tag) != "si":
            continue
        if len(out) >= MAX_STRINGS:
            raise TooMuchWork(f"共享字符串表中的字符串超过 {MAX_STRINGS} 个", "strings", MAX_STRINGS)
        out.append(_rich_text(el))
        el.clear()
    return out


def _rich_text(el) -> str:
    """Text of an <si> or <is>: its <t>, or the <t> of its runs; phonetic runs (rPh) skipped."""
    parts = []
    for child in el:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            for t in child:
                if _local(t.tag) == "t":
                    parts.append(t.text or "")
    text = unescape("".join(parts))
    if len(text) > MAX_CELL_CHARS:
        raise TooMuchWork(f"有单元格的文字超过 {MAX_CELL_CHARS} 个字符（Excel 单元格的上限）", "text", MAX_CELL_CHARS)
    return text


# children of <c> read when the cell ends; every other element is cleared as soon as it ends
_CELL_PARTS = frozenset(("v", "f", "is", "r", "t"))


def _parse_sheet(data: bytes, strings: list[str], sheet: str = "", max_cells: int = MAX_SHEET_CELLS) -> _Sheet:
    """The cells of a worksheet; TooMuchWork past `max_cells` cells or MAX_SHEET_ROWS rows."""
    cells: dict[tuple[int, int], _Cell] = {}
    ncells = nrows = 0
    protected = False
    masters: dict[str, tuple[int, int, str]] = {}  # shared formula si -> (row, col, text)
    pending: list[_Cell] = []  # cells without an r attribute, placed when their row ends
    row_no = 0
    col_no = -1
    nstrings = len(strings)
    for _, el in iterparse(data):
        tag = _local(el.tag)
        if tag == "c":
            a = el.attrib
            kind = a.get("t", "n")
            value = formula = shared = None
            for child in el:
                ctag = _local(child.tag)
                if ctag == "v":
                    value = child.text
                elif ctag == "f":
                    formula = child.text or ""
                    if child.get("t") == "shared":
                        shared = child.get("si")
                        if formula:
                            ref = a.get("r")
                            rc = _rc(ref) if ref else None
                            if rc is not None and shared is not None:
                                masters[shared] = (rc[0], rc[1], formula)
                elif ctag == "is":
                    value = _rich_text(child)
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
            cell = _Cell(kind, value, formula, style, shared)
            ncells += 1
            if ncells > max_cells:
                what = "单元格" if max_cells == MAX_SHEET_CELLS else "单元格（与其他工作表合计）"
                raise TooMuchWork(f"工作表「{sheet}」中的{what}超过 {max_cells} 个", "cells", max_cells)
            ref = a.get("r")
            rc = _rc(ref) if ref else None
            if rc is None:
                pending.append(cell)
            else:
                cells[rc] = cell
                col_no = rc[1]
            el.clear()
        elif tag == "row":
            nrows += 1
            if nrows > MAX_SHEET_ROWS:
                raise TooMuchWork(f"工作表「{sheet}」中的行超过 {MAX_SHEET_ROWS} 行", "rows", MAX_SHEET_ROWS)
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
            cell.formula = _translate(text, r - mr, c - mc)
    return _Sheet(cells, protected)


_FORMULA_REF_RE = re.compile(r"(?<![A-Za-z0-9_.\"])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![A-Za-z0-9_(])")


def _translate(formula: str, dr: int, dc: int) -> str:
    """A shared formula as it reads in a cell dr rows and dc columns from its master."""

    def move(m: re.Match) -> str:
        cabs, col, rabs, row = m.groups()
        c = 0
        for ch in col:
            c = c * 26 + ord(ch) - 64
        c = c - 1 + (0 if cabs else dc)
        r = int(row) - 1 + (0 if rabs else dr)
        if c < 0 or r < 0:
            return "#REF!"
        from ..format.spec import col_letter

        return f"{cabs}{col_letter(c)}{rabs}{r + 1}"

    return _FORMULA_REF_RE.sub(move, formula)


@dataclass
class _Book:
    sheets: list[tuple[str, str, str]]  # (name, part, state) in workbook order
    names: dict[str, str]  # workbook-level defined names -> formula text


def _parse_workbook(data: bytes, rels: dict[str, str]) -> _Book:
    sheets = []
    names = {}
    for _, el in iterparse(data):
        tag = _local(el.tag)
        if tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            sheets.append((el.get("name", ""), rels.get(rid, ""), el.get("state", "visible")))
        elif tag == "definedName":
            if el.get("localSheetId") is None and el.get("name"):
                names[el.get("name")] = (el.text or "").strip()
            el.clear()
    return _Book(sheets, names)


# A relationship whose target is outside the package (external, a URL, "../" past the root):
# kept as OUTSIDE + the target as written, so that a sheet pointing there is reported, not read.
OUTSIDE = "\x00outside:"
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _parse_rels(data: bytes, base: str = "xl/") -> dict[str, str]:
    out = {}
    for _, el in iterparse(data):
        if _local(el.tag) == "Relationship":
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


def _parse_styles(data: bytes) -> set[int]:
    """Indices of the cell formats (cellXfs) that display a number as a date or time."""
    codes: dict[int, str] = {}
    xfs: list[int] = []
    in_cell_xfs = False
    container = None  # numFmts / cellXfs: emptied as we go, so the tree never holds the entries
    for event, el in iterparse(data, ("start", "end")):
        tag = _local(el.tag)
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
        if len(codes) > MAX_STYLES or len(xfs) > MAX_STYLES:
            raise TooMuchWork(f"样式表中的数字格式或单元格格式超过 {MAX_STYLES} 个", "styles", MAX_STYLES)
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


def _parse_props(data: bytes) -> dict[str, str]:
    """docProps/custom.xml -> {name: value}; app.xml and core.xml -> {local tag: text}."""
    out: dict[str, str] = {}
    for _, el in iterparse(data):
        tag = _local(el.tag)
        if tag == "property" and el.get("name"):
            out[el.get("name")] = "".join(el.itertext()).strip()
        elif len(el) == 0 and el.text and tag not in out:
            out[tag] = el.text.strip()
    return out


# ---------------------------------------------------------------------------------------------
# Values


def _exact(raw: str) -> Decimal | None:
    """A number as written in the cell XML, kept exact (binary noise beyond Excel's 15 digits
    dropped); None when it is not a number or out of every bound (numbers.py)."""
    try:
        return cell_number(raw)
    except NumberError:
        return None


def parse_text_number(text: str) -> Decimal | None:
    """numbers.text_number, None for a number out of bounds as well."""
    try:
        return text_number(text)
    except NumberError:
        return None


def _excel_date(serial: Decimal) -> str:
    try:
        day = datetime(1899, 12, 30) + timedelta(days=float(serial))
    except (OverflowError, ValueError):
        return fmt_number(serial)
    return f"{day.year}年{day.month}月{day.day}日"


def _cell_text(cell: _Cell | None, date_styles: set[int]) -> str:
    """What a text cell (基本信息, 文字部分, identity) says, as text."""
    if cell is None or cell.value is None:
        return ""
    if cell.kind in ("s", "str", "inlineStr", "d", "e"):
        return cell.value
    if cell.kind == "b":
        return "TRUE" if cell.value == "1" else "FALSE"
    d = _exact(cell.value)
    if d is None:
        return cell.value
    if cell.style in date_styles:
        return _excel_date(d)
    return fmt_number(d)


# ---------------------------------------------------------------------------------------------
# Formulas


class _FormulaSyntax(Exception):
    pass


_TOKEN_RE = re.compile(
    r"\s*(?:(?P<ref>(?:(?:'(?:[^']|'')+'|[^\s'!:(),+\-*/^&=<>\"]+)!)?\$?[A-Z]{1,3}\$?\d+"
    r"(?::\$?[A-Z]{1,3}\$?\d+)?)|(?P<num>\d+(?:\.\d+)?)|(?P<func>[A-Z][A-Z0-9.]*)\(|(?P<op>[-+(),]))"
)
_MAX_RANGE_CELLS = 10000


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.strip()
    if text.startswith("="):
        text = text[1:]
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise _FormulaSyntax(text[pos:])
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


_QUOTED_RE = re.compile(r"('(?:[^']|'')*')|([^']+)")
_COLON_RE = re.compile(r"\s*:\s*")


def formula_terms(text: str, sheet: str) -> Counter | None:
    """The cells a simple additive formula sums, with their coefficients: Counter of
    (sheet, row, col) -> coefficient, plus (None, 0, 0) for a constant. None when the formula is
    anything else (a product, another function, a whole-column reference ...).

    Spaces, $ and letter case do not matter; sheet names are case-folded (Excel's are
    case-insensitive), so compare with keys made by `term_key`."""
    text = _QUOTED_RE.sub(lambda m: m.group(1) or _COLON_RE.sub(":", m.group(2).upper()), text)
    try:
        toks = _tokens(text)
        pos, terms = _expr(toks, 0, sheet.casefold())
    except (_FormulaSyntax, IndexError):
        return None
    if pos != len(toks):
        return None
    return Counter({k: v for k, v in terms.items() if v})


def term_key(sheet: str, row: int, col: int) -> tuple[str, int, int]:
    """The key formula_terms uses for a cell."""
    return sheet.casefold(), row, col


def _expr(toks, pos, sheet) -> tuple[int, Counter]:
    total: Counter = Counter()
    sign = 1
    expect_term = True
    while pos < len(toks):
        kind, text = toks[pos]
        if kind == "op" and text in "+-" and expect_term:
            sign = -sign if text == "-" else sign
            pos += 1
            continue
        if kind == "op" and text in "+-":
            sign = -1 if text == "-" else 1
            expect_term = True
            pos += 1
            continue
        if not expect_term:
            break
        if kind == "ref":
            for key in _expand(text, sheet):
                total[key] += sign
            pos += 1
        elif kind == "num":
            total[(None, 0, 0)] += sign * Decimal(text)
            pos += 1
        elif kind == "func":
            if text != "SUM":
                raise _FormulaSyntax(text)
            pos += 1
            while True:
                pos, inner = _expr(toks, pos, sheet)
                for k, v in inner.items():
                    total[k] += sign * v
                kind2, text2 = toks[pos]
                pos += 1
                if text2 == ")":
                    break
                if text2 != ",":
                    raise _FormulaSyntax(text2)
        elif kind == "op" and text == "(":
            pos, inner = _expr(toks, pos + 1, sheet)
            if toks[pos][1] != ")":
                raise _FormulaSyntax(toks[pos][1])
            pos += 1
            for k, v in inner.items():
                total[k] += sign * v
        else:
            break
        sign = 1
        expect_term = False
    if expect_term:
        raise _FormulaSyntax("missing term")
    return pos, total


def _expand(ref: str, sheet: str) -> Iterable[tuple[str, int, int]]:
    if "!" in ref:
        prefix, _, ref = ref.rpartition("!")
        sheet = (prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix).casefold()
    first, _, last = ref.partition(":")
    a = _rc(first)
    b = _rc(last) if last else a
    if a is None or b is None:
        raise _FormulaSyntax(ref)
    r0, r1 = sorted((a[0], b[0]))
    c0, c1 = sorted((a[1], b[1]))
    if (r1 - r0 + 1) * (c1 - c0 + 1) > _MAX_RANGE_CELLS:
        raise _FormulaSyntax(ref)
    return [(sheet, r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


# ---------------------------------------------------------------------------------------------
# Reading


_NAME_TARGET_RE = re.compile(r"^=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?[A-Z]{1,3}\$?\d+)?$")


def _name_target(text: str) -> tuple[str, int, int] | None:
    m = _NAME_TARGET_RE.match(text.strip())
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") if m.group(1) is not None else m.group(2)
    rc = _rc(f"{m.group(3)}{m.group(4)}")
    return (sheet, rc[0], rc[1]) if rc else None


def _same_identity(key: str, a: str, b: str) -> bool:
    """Whether two records of one identity key (agency, code, year, ...) agree."""
    if key == "agency":
        return agency_key(a) == agency_key(b)
    if key == "code":
        return code_key(a) == code_key(b)
    return a.strip() == b.strip()


def _norm_label(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@functools.cache
def _known_formats() -> frozenset[str]:
    from ..format.spec import available_formats

    return frozenset(available_formats())


@dataclass
class _SpecIndex:
    """What the reader needs from a spec, computed once per spec (the reader runs on thousands
    of files per process)."""

    spec: FormatSpec
    named: list[tuple[str, str, int, int]]  # (defined name, spec sheet, row, col) of every named cell
    field_names: dict[str, str]  # field id -> defined name
    expected_sheets: list[tuple[str, bool]]  # (sheet, holds data) in template order
    labels: dict[str, list[tuple[object, str]]]  # table sheet -> (HeaderCell, normalised text)
    fingerprint: str


_INDEXES: dict[int, _SpecIndex] = {}


def _index(spec: FormatSpec) -> _SpecIndex:
    hit = _INDEXES.get(id(spec))
    if hit is not None and hit.spec is spec:
        return hit
    named = [(f.name, f.sheet, f.row, f.col) for f in spec.fields]
    named += [(f.name, f.sheet, f.row, f.col) for f in spec.info_fields]
    named += [(p.name, p.sheet, p.row, p.col) for p in spec.narrative_parts]
    expected: list[tuple[str, bool]] = []
    expected.append((meta.INSTRUCTIONS_SHEET, False))
    expected.append((spec.info_sheet, True))
    expected += [(t.sheet, True) for t in spec.tables]
    expected.append((spec.narrative_sheet, True))
    expected.append((meta.META_SHEET, False))
    labels = {t.sheet: [(hc, _norm_label(hc.text)) for hc in t.cells if hc.text] for t in spec.tables}
    idx = _SpecIndex(
        spec=spec, named=named, field_names={f.id: f.name for f in spec.fields},
        expected_sheets=expected, labels=labels, fingerprint=meta.template_fingerprint(spec),
    )
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[id(spec)] = idx
    return idx


def compute(spec: FormatSpec, inputs: Mapping[str, Number | None]) -> dict[str, Number | None]:
    """Every computed field from the inputs (None where an input is missing)."""
    return spec.compute(inputs)


class _Reader:
    """One workbook being read; collects findings as it goes."""

    def __init__(self, intake: Intake, blank_as_zero: bool):
        self.intake = intake
        self.blank_as_zero = blank_as_zero
        self.findings: list[Finding] = []
        self._sheet_cache: dict[str, _Sheet | None] = {}
        self.cells_left = MAX_BOOK_CELLS  # cells all worksheets may still hold together
        self._strings: list[str] | None = None
        self._date_styles: set[int] | None = None
        self.unreliable: set[str] = set()  # sheets whose values are displaced (rows shifted, names not)
        self.conflicts: dict[str, tuple[str, str]] = {}  # identity key -> (hidden sheet, properties)

    # -- parts

    def part(self, name: str, handler):
        return parse_part(self.intake, name, handler)

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            part = self.shared_strings_part
            self._strings = self.part(part, _parse_strings) if part and self.intake.has(part) else []
        return self._strings

    @property
    def date_styles(self) -> set[int]:
        if self._date_styles is None:
            part = self.styles_part
            self._date_styles = self.part(part, _parse_styles) if part and self.intake.has(part) else set()
        return self._date_styles

    def sheet(self, name: str | None) -> _Sheet | None:
        if name is None:
            return None
        if name not in self._sheet_cache:
            part = self.sheet_parts.get(name)
            if name in self.sheet_parts and (not part or not self.intake.has(part)):
                self._missing_part(name, part or "")
            if not part:
                self._sheet_cache[name] = None
            else:
                strings = self.strings
                cap = min(MAX_SHEET_CELLS, self.cells_left)
                sheet = self.part(part, lambda data: _parse_sheet(data, strings, name, cap))
                self.cells_left -= len(sheet.cells)
                self._sheet_cache[name] = sheet
        return self._sheet_cache[name]

    def _missing_part(self, name: str, part: str) -> None:
        """A sheet the workbook lists whose content is not in the file (its relationship points
        outside the package, or to a part that is not there): the file is damaged."""
        if part.startswith(OUTSIDE):
            where = f"指向文件之外的“{part[len(OUTSIDE):][:80]}”"
        elif part:
            where = f"应在部件 {part[:80]}，但文件中没有"
        else:
            where = "找不到它的部件"
        raise IntakeError(unreadable(
            self.intake.name, f"工作表「{name}」的内容不在文件中（{where}），文件已损坏", "sheet_missing"))

    def add(self, code: str, severity: str, message: str, **kw: Any) -> None:
        self.findings.append(Finding(code=code, severity=severity, message=message, **kw))

    # -- the steps

    def read(self, expected_year: int | None, expected_agency: str | None) -> ReadResult:
        intake = self.intake
        rels = self.part("xl/_rels/workbook.xml.rels", _parse_rels) if intake.has("xl/_rels/workbook.xml.rels") else {}
        book = self.part("xl/workbook.xml", lambda d: _parse_workbook(d, rels))
        self.book = book
        self.targets = {name: _name_target(text) for name, text in book.names.items()}
        self.sheet_parts = {name: part for name, part, _ in book.sheets}
        self.shared_strings_part = next((t for t in rels.values() if t.endswith("sharedStrings.xml")), "xl/sharedStrings.xml")
        self.styles_part = next((t for t in rels.values() if t.endswith("styles.xml")), "xl/styles.xml")

        custom = self.part("docProps/custom.xml", _parse_props) if intake.has("docProps/custom.xml") else {}
        app = self.part("docProps/app.xml", _parse_props) if intake.has("docProps/app.xml") else {}
        core = self.part("docProps/core.xml", _parse_props) if intake.has("docProps/core.xml") else {}
        application = app.get("Application") or None
        saved_at = core.get("modified") or core.get("created") or None

        identity = self._identity(custom)
        result = ReadResult(
            source=intake.name, sha256=intake.sha256, report=None, findings=self.findings, identity=identity,
            kind=KIND_FOREIGN, saved_at=saved_at, application=application,
        )
        spec = self._spec(identity)
        if spec is None:
            return result
        kind = KIND_OK
        try:
            year = int(identity["year"])
        except (KeyError, ValueError):
            self._not_ours("模板标识中的报告年度已损坏")
            return result
        agency = identity.get("agency", "")
        code = identity.get("code", "")
        if expected_year is not None and year != expected_year:
            kind = KIND_FOREIGN
            self.add("OTHER_YEAR", ERROR,
                     f"这是「{agency}」{year} 年度的报表，不是本次收集的 {expected_year} 年度。"
                     f"请使用 {expected_year} 年度的模板填写后重新提交。",
                     values={"year": year, "expected": expected_year})
        if expected_agency is not None and not same_agency(agency, code, expected_agency, expected_agency):
            kind = KIND_FOREIGN
            self.add("OTHER_AGENCY", ERROR,
                     f"这是「{agency}」的报表，不是「{expected_agency}」的。请确认是否发错文件，或使用本机关的模板填写。",
                     values={"agency": agency, "expected": expected_agency})
        self._conflicting_identity(spec)
        self.index = _index(spec)
        expected_fp = self.index.fingerprint
        if expected_fp and identity.get("fingerprint") and identity["fingerprint"] != expected_fp:
            self.add("TEMPLATE_CHANGED", WARNING,
                     f"此文件的模板指纹（{identity['fingerprint']}）与当前模板（{expected_fp}）不同，"
                     "可能是用旧版或其他版本的模板填写的。已按报告格式读取，请留意其他提示；如有疑问请使用新下发的模板。",
                     values={"fingerprint": identity["fingerprint"], "expected": expected_fp})

        sheet_map = self._sheets(spec)
        locate = self._locations(spec, sheet_map)
        inputs = self._inputs(spec, locate)
        figures = compute(spec, inputs)
        self._formulas(spec, locate, figures)
        self._protection(spec, sheet_map)
        contact = self._info(spec, sheet_map)
        narrative = self._narrative(spec, sheet_map)

        report = Report(
            format=spec.id, agency=Agency(agency, code), year=year, contact=contact, figures=figures,
            narrative=narrative,
            provenance=Provenance(
                source=fsutil.printable(intake.name), sha256=intake.sha256, application=application,
                app_version=app.get("AppVersion") or None, saved_at=saved_at,
                template_fingerprint=identity.get("fingerprint") or None,
                template_version=identity.get("generator_version") or None,
            ),
        )
        result.report = report
        result.kind = kind
        return result

    # -- identity

    def _identity(self, custom: Mapping[str, str]) -> dict[str, str]:
        """The template's identity: the hidden sheet's values over the document properties'
        (some programs drop custom properties). Where both are present and differ on who or
        which year, one of them was edited: kept in self.conflicts (key -> (sheet, properties))."""
        identity: dict[str, str] = {}
        for key in meta.KEYS:
            value = custom.get(meta.property_name(key))
            if value:
                identity[key] = value
        properties = dict(identity)
        if meta.META_SHEET in self.sheet_parts:
            sheet = self.sheet(meta.META_SHEET)
            if sheet is not None:
                for (r, c), cell in sheet.cells.items():
                    if c != 0:
                        continue
                    key = _cell_text(cell, set())
                    if key in meta.KEYS:
                        value = _cell_text(sheet.cells.get((r, 1)), set())
                        if value:
                            identity[key] = value
                            if key in IDENTITY_KEYS and not _same_identity(key, properties.get(key, value), value):
                                self.conflicts[key] = (value, properties[key])
        return identity

    def _conflicting_identity(self, spec: FormatSpec) -> None:
        if not self.conflicts:
            return
        labels = {f.key: f.label for f in spec.info_fields}
        sheet_says = "，".join(f"{labels.get(k, k)}“{a}”" for k, (a, _) in self.conflicts.items())
        props_say = "，".join(f"{labels.get(k, k)}“{b}”" for k, (_, b) in self.conflicts.items())
        self.add("IDENTITY_CONFLICT", ERROR,
                 f"模板标识前后不一致：隐藏的标识工作表「{meta.META_SHEET}」中为{sheet_says}，文件属性中为{props_say}。"
                 "标识可能被改动过，请核实这份报表属于哪个机关、哪个年度；必要时请该机关用下发的模板重新填写。",
                 values={k: {"sheet": a, "properties": b} for k, (a, b) in self.conflicts.items()})

    def _not_ours(self, why: str) -> None:
        self.add("NOT_OUR_TEMPLATE", ERROR,
                 f"这不是政务公开办下发的年报模板（{why}）。请在下发的模板中填写后提交，不要另建表格或整表复制到新文件。",
                 values={"reason": why})

    def _spec(self, identity: Mapping[str, str]) -> FormatSpec | None:
        if identity.get("generator") != meta.GENERATOR or not identity.get("format"):
            self._not_ours("文件中没有模板标识")
            return None
        fmt = identity["format"]
        spec = None
        if fmt in _known_formats():  # never a path built from what the file says
            try:
                spec = load_format(fmt)
            except (FormatError, OSError, ValueError):
                spec = None
        if spec is None or identity.get("format_version", spec.version) != spec.version:
            from ..format.spec import available_formats

            version = identity.get("format_version", "")
            self.add("OTHER_FORMAT", ERROR,
                     f"此文件使用的报告格式为 {fmt}{'（版本 ' + version + '）' if version else ''}，"
                     f"本程序支持的格式为：{'、'.join(available_formats())}。请使用政务公开办下发的模板。",
                     values={"format": fmt, "format_version": version})
            return None
        return spec

    # -- sheets and where every cell is

    def _sheets(self, spec: FormatSpec) -> dict[str, str | None]:
        """Spec sheet name -> the workbook's sheet that holds it (renamed or not), or None."""
        actual = [name for name, _, _ in self.book.sheets]
        present = set(actual)
        expected = self.index.expected_sheets
        expected_names = {n for n, _ in expected}
        sheet_map: dict[str, str | None] = {}
        # where the defined names of each spec sheet point now (Excel renames them along)
        targets: dict[str, Counter] = {}
        for name, sheet, _, _ in self.index.named:
            tgt = self.targets.get(name)
            if tgt:
                targets.setdefault(sheet, Counter())[tgt[0]] += 1
        used: set[str] = set()
        for name, _ in expected:
            if name in present:
                sheet_map[name] = name
                used.add(name)
        for index, (name, data) in enumerate(expected):
            if name in present:
                continue
            new = None
            votes = targets.get(name)
            if votes:
                cand = votes.most_common(1)[0][0]
                if cand in present and cand not in expected_names and cand not in used:
                    new = cand
            if new is None and index < len(actual) and actual[index] not in expected_names and actual[index] not in used \
                    and len(actual) == len(expected):
                new = actual[index]
            if new is not None:
                used.add(new)
                sheet_map[name] = new
                self.add("SHEET_RENAMED", WARNING,
                         f"工作表「{name}」被改名为「{new}」，已按原表读取。请改回原名称「{name}」。",
                         values={"sheet": name, "renamed_to": new})
                continue
            sheet_map[name] = None
            if data:
                self.add("SHEET_MISSING", ERROR,
                         f"缺少工作表「{name}」（可能被删除），其中的内容无法读取。请使用原模板重新填写。",
                         values={"sheet": name})
            else:
                self.add("SHEET_MISSING", WARNING,
                         f"缺少工作表「{name}」（可能被删除或改名）。数据不受影响，但请尽量使用原模板。",
                         values={"sheet": name})
        for name in actual:
            if name not in used:
                self.add("SHEET_ADDED", WARNING,
                         f"工作簿中多了工作表「{name}」，其内容不会被读取。需要报告的文字请填写在「{spec.narrative_sheet}」中。",
                         values={"sheet": name})
        self.sheet_map = sheet_map
        return sheet_map

    def _locations(self, spec: FormatSpec, sheet_map: Mapping[str, str | None]) -> dict[str, tuple[str, int, int] | None]:
        """Where every named cell (fields, info, narrative) is: (actual sheet, row, col), or None
        where its sheet or its row/column was deleted. Detects moved names, edited labels and
        inserted or deleted rows and columns.

        Excel, WPS and LibreOffice move defined names (and formulas) along when rows are inserted,
        so the values are still found through the names; a tool that does not (openpyxl) leaves
        the names behind, and then the sheet's values cannot be trusted at all."""
        labels = {t.sheet: self._labels(t, sheet_map.get(t.sheet)) for t in spec.tables}
        shifts = {sheet: moved for sheet, (moved, _) in labels.items()}
        names_moved: set[str] = set()
        for name, sheet, row, col in self.index.named:
            tgt = self.targets.get(name)
            if tgt and tgt[0] == sheet_map.get(sheet) and (tgt[1], tgt[2]) != (row, col):
                names_moved.add(sheet)
        out: dict[str, tuple[str, int, int] | None] = {}
        missing: dict[str, list[str]] = {}
        deleted: dict[str, list[str]] = {}
        gone: dict[str, set[tuple[int, int]]] = {}  # spec sheet -> spec cells whose row/column was deleted
        for name, sheet, row, col in self.index.named:
            actual = sheet_map.get(sheet)
            if actual is None:
                out[name] = None
                continue
            tgt = self.targets.get(name)
            if tgt is None or tgt[0] != actual:
                if name in self.book.names and shifts.get(sheet) and sheet in names_moved:
                    deleted.setdefault(actual, []).append(f"{actual}!{a1(row, col)}")
                    gone.setdefault(sheet, set()).add((row, col))
                    out[name] = None  # "#REF!": its row or column was deleted
                    continue
                missing.setdefault(actual, []).append(f"{actual}!{a1(row, col)}")
                out[name] = (actual, row, col)
                continue
            if (tgt[1], tgt[2]) == (row, col) or shifts.get(sheet):
                out[name] = tgt
                continue
            self.add("NAME_MOVED", WARNING,
                     f"单元格名称 {name} 原指向「{actual}」{a1(row, col)}，现在指向 {a1(tgt[1], tgt[2])}；"
                     f"表格本身没有移动，已按官方位置 {a1(row, col)} 读取。",
                     cells=(f"{actual}!{a1(row, col)}",), values={"name": name, "now": a1(tgt[1], tgt[2])})
            out[name] = (actual, row, col)
        for t in spec.tables:
            self._changed_labels(t, sheet_map.get(t.sheet), labels[t.sheet][1], gone.get(t.sheet, set()))
        for sheet, moved in shifts.items():
            if moved is None:
                continue
            actual = sheet_map[sheet]
            hc, r, c = moved
            if sheet in names_moved:
                consequence = "已按单元格名称找到各项数字，但表格必须与官方格式一致"
            else:
                consequence = "该表的数字已错位，无法可靠读取"
                self.unreliable.add(actual)
            self.add("ROWS_SHIFTED", ERROR,
                     f"「{actual}」的行或列被插入或删除：“{hc.text}”原在 {a1(hc.row, hc.col)}，现在位于 {a1(r, c)}。"
                     f"{consequence}。请使用原模板重新填写，不要插入或删除行、列。",
                     cells=(f"{actual}!{a1(hc.row, hc.col)}", f"{actual}!{a1(r, c)}"),
                     values={"label": hc.text, "expected": a1(hc.row, hc.col), "actual": a1(r, c),
                             "names_moved": sheet in names_moved})
        for sheet, cells in deleted.items():
            self.add("NAME_MISSING", ERROR,
                     f"「{sheet}」中有 {len(cells)} 个需要填写或计算的单元格所在的行或列已被删除（如 {cells[0].split('!')[1]}），"
                     "这些数字无法读取。请使用原模板重新填写。",
                     cells=tuple(cells), values={"count": len(cells), "deleted": True})
        for sheet, cells in missing.items():
            self.add("NAME_MISSING", WARNING,
                     f"工作表「{sheet}」中有 {len(cells)} 个单元格的定义名称丢失，已按官方表格位置读取。"
                     "如该表的行列有改动，读取结果可能不准确，建议使用原模板重新填写。",
                     cells=tuple(cells), values={"count": len(cells)})
        return out

    def _labels(self, table, actual: str | None) -> tuple[tuple | None, list[tuple]]:
        """Compare every printed label of a table with the sheet. Returns (HeaderCell, row, col)
        of the first label found displaced — rows or columns were inserted or deleted — or None,
        and the labels not found at all as (HeaderCell, what the cell says)."""
        if actual is None:
            return None, []
        sheet = self.sheet(actual)
        if sheet is None:
            return None, []
        texts: dict[str, list[tuple[int, int]]] = {}
        for (r, c), cell in sheet.cells.items():
            if cell.kind in ("s", "str", "inlineStr") and cell.value:
                texts.setdefault(_norm_label(cell.value), []).append((r, c))
        moved = None
        missing = []
        for hc, want in self.index.labels[table.sheet]:
            cell = sheet.cells.get((hc.row, hc.col))
            have = cell.value if cell is not None and cell.kind in ("s", "str", "inlineStr") else _cell_text(cell, set())
            if _norm_label(have or "") == want:
                continue
            elsewhere = texts.get(want)
            if elsewhere:
                if moved is None:
                    r, c = min(elsewhere, key=lambda p: abs(p[0] - hc.row) + abs(p[1] - hc.col))
                    moved = (hc, r, c)
                continue
            missing.append((hc, have or ""))
        return moved, missing

    def _changed_labels(self, table, actual: str | None, missing: list[tuple], gone: set[tuple[int, int]]) -> None:
        """LABEL_CHANGED for every label not found, except those of rows or columns deleted
        whole (their cells' names became #REF!; ROWS_SHIFTED and NAME_MISSING say so)."""
        rows = {r for r, _ in gone if all((r, f.col) in gone for f in table.fields if f.row == r)}
        cols = {c for _, c in gone if all((f.row, c) in gone for f in table.fields if f.col == c)}
        for hc, have in missing:
            if rows.intersection(range(hc.row, hc.row + hc.rowspan)) or cols.intersection(range(hc.col, hc.col + hc.colspan)):
                continue
            ref = a1(hc.row, hc.col)
            shown = f"“{have}”" if have else "空白"
            self.add("LABEL_CHANGED", ERROR,
                     f"「{actual}」{ref} 的表头文字被改成了{shown}，官方格式为“{hc.text}”。请恢复原文字（建议使用原模板重新填写）。",
                     cells=(f"{actual}!{ref}",), values={"expected": hc.text, "actual": have})

    # -- values

    def _inputs(self, spec: FormatSpec, locate: Mapping[str, tuple[str, int, int] | None]) -> dict[str, Number | None]:
        values: dict[str, Number | None] = {}
        found = []
        for f in spec.input_fields:
            loc = locate.get(f.name)
            if loc is None or loc[0] in self.unreliable:
                values[f.id] = None  # already reported: sheet missing, cell deleted, rows shifted
                continue
            sheet_name, r, c = loc
            sheet = self.sheet(sheet_name)
            found.append((f, sheet.cells.get((r, c)) if sheet is not None else None, sheet_name, r, c))
        # a number shown as a date (typed "2021/3/5") is told by its cell format
        numeric = any(cell is not None and cell.kind == "n" and cell.value is not None for _, cell, *_ in found)
        date_styles = self.date_styles if numeric else set()
        for f, cell, sheet_name, r, c in found:
            values[f.id] = self._value(f, cell, sheet_name, r, c, date_styles)
        return values

    def _value(self, f: Field, cell: _Cell | None, sheet: str, r: int, c: int, date_styles: set[int]) -> Number | None:
        loc = {"sheet": sheet, "cell": a1(r, c), "row": r, "col": c}

        def bad(code: str, tail: str, raw, severity: str = ERROR, **extra) -> None:
            self.findings.append(value_finding(code, severity, f, tail, raw, **loc, **extra))

        kind = cell.kind if cell is not None else "n"
        raw = cell.value if cell is not None else None
        if cell is not None and cell.formula:
            if raw is None or kind not in ("n",):
                shown = raw if raw is not None else ""
                bad("NOT_A_NUMBER", f"填写的是公式“={cell.formula}”{('，结果为“' + shown + '”') if shown else '，文件中没有计算结果'}，"
                    "请直接填写数字（没有的填 0）。", cell.formula)
                return None
            try:
                d = cell_number(raw)
            except NumberError as e:
                if e.kind == "syntax":
                    bad("NOT_A_NUMBER", f"填写的公式“={cell.formula}”没有得到数字，请直接填写数字。", cell.formula)
                else:
                    bad(*number_problem(f, e), e.shown)
                return None
            bad("INPUT_FORMULA", f"填写的是公式“={cell.formula}”，已按其结果 {fmt_number(d)} 读取；请直接填写数字。",
                cell.formula, severity=WARNING, parsed=d)
            return self._checked(f, d, bad)
        if raw is None or (kind in ("s", "str", "inlineStr") and not raw.strip()):
            if self.blank_as_zero:
                bad("BLANK", "没有填写，已按 0 处理（--blank-as-zero）。请确认该项确实为 0，并在表中填 0。", None, severity=WARNING)
                return Decimal(0) if f.type.kind == "decimal" else 0
            bad("BLANK", BLANK_TAIL, None)
            return None
        if kind in ("s", "str", "inlineStr"):
            try:
                d = text_number(raw)
            except NumberError as e:
                bad(*number_problem(f, e), e.shown)
                return None
            if d is None:
                bad("NOT_A_NUMBER", f"填写了“{raw.strip()}”，请改为数字（没有的填 0）。", raw)
                return None
            bad("TEXT_NUMBER", f"填写的“{raw}”是文本格式的数字，已按 {fmt_number(d)} 读取。请删除空格、全角字符或千位分隔符，直接输入数字。",
                raw, severity=WARNING, parsed=d)
            return self._checked(f, d, bad, raw)
        if kind == "b":
            shown = "TRUE" if raw == "1" else "FALSE"
            bad("NOT_A_NUMBER", f"填写了逻辑值“{shown}”，请改为数字（没有的填 0）。", shown)
            return None
        if kind == "e":
            bad("NOT_A_NUMBER", f"显示错误值“{raw}”，请改为数字（没有的填 0）。", raw)
            return None
        if kind == "d":
            bad("NOT_A_NUMBER", f"填写的是日期（{raw}），请改为数字（没有的填 0）。", raw)
            return None
        try:
            d = cell_number(raw)
        except NumberError as e:
            if e.kind == "syntax":
                bad("NOT_A_NUMBER", f"的内容“{e.shown}”不是数字，请改为数字（没有的填 0）。", e.shown)
            else:
                bad(*number_problem(f, e), e.shown)
            return None
        if cell is not None and cell.style in date_styles:
            bad("NOT_A_NUMBER", f"填写的是日期（{_excel_date(d)}），请改为数字（没有的填 0）。", raw)
            return None
        return self._checked(f, d, bad, raw)

    @staticmethod
    def _checked(f: Field, d: Decimal, bad, raw: str | None = None) -> Number | None:
        problem = domain_problem(f, d)
        if problem and problem[0] == "NUMBER_TOO_LARGE" and raw:
            problem = too_large(f, clipped(raw))  # as written ("1E+30", 17 digits), not as read
        if problem:
            bad(problem[0], problem[1], d)
            return None
        if f.type.kind == "integer":
            return int(d)
        return d

    # -- formulas

    def _without_empty(self, terms: Counter, field_cells: set) -> Counter:
        """A formula's terms without the empty cells that hold no field: a row inserted inside a
        SUM range (by Excel, which moves the formulas along) adds nothing as long as it is empty."""
        out = Counter()
        for key, coef in terms.items():
            folded, r, c = key
            if key not in field_cells and folded is not None:
                sheet_name = next((n for n in self.sheet_parts if n.casefold() == folded), None)
                sheet = self.sheet(sheet_name) if sheet_name is not None else None
                cell = sheet.cells.get((r, c)) if sheet is not None else None
                if cell is None or (cell.value in (None, "") and not cell.formula):
                    continue
            out[key] = coef
        return out

    def _formulas(self, spec: FormatSpec, locate, figures: Mapping[str, Number | None]) -> None:
        field_cells = {term_key(*loc) for loc in locate.values() if loc is not None}
        for f in spec.computed_fields:
            rule = spec.computing_rule(f.id)
            loc = locate.get(f.name)
            if rule is None or loc is None:
                continue
            sheet_name, r, c = loc
            sheet = self.sheet(sheet_name)
            if sheet is None or sheet_name in self.unreliable:
                continue
            cell = sheet.cells.get((r, c))
            where = field_where(f, sheet_name, r, c)
            ref = f"{sheet_name}!{a1(r, c)}"
            expected = figures.get(f.id)
            should = f"（按本表数字应为 {fmt_number(expected)}）" if expected is not None else ""
            common = {"cells": (ref,), "fields": (f.id,), "labels": (where,), "title": rule.title, "expr": rule.expr}
            if cell is None or not cell.formula:
                raw = cell.value if cell is not None else None
                if raw is None or not str(raw).strip():
                    self.add("FORMULA_OVERWRITTEN", ERROR,
                             f"{where}是自动计算的单元格，其公式已被删除{should}。请恢复公式（使用原模板重新填写，或从原模板复制该单元格）。",
                             values={"value": None, "expected": expected}, **common)
                else:
                    shown = _cell_text(cell, set())
                    self.add("FORMULA_OVERWRITTEN", ERROR,
                             f"{where}是自动计算的单元格，公式被改成了固定内容“{shown}”{should}。请恢复公式（使用原模板重新填写，或从原模板复制该单元格）。",
                             values={"value": shown, "expected": expected}, **common)
                continue
            want: Counter = Counter()
            for t in rule.right:
                if t.field is None:
                    want[(None, 0, 0)] += t.sign * t.constant
                    continue
                tloc = locate.get(self.index.field_names[t.field])
                if tloc is None:
                    want = None
                    break
                want[term_key(*tloc)] += t.sign
            if want is None:
                continue
            want = Counter({k: v for k, v in want.items() if v})
            got = formula_terms(cell.formula, sheet_name)
            if got is not None and got != want:
                got = self._without_empty(got, field_cells)
            if got != want:
                self.add("FORMULA_CHANGED", ERROR,
                         f"{where}的公式被改成了“={cell.formula}”，应为「{rule.title}」{should}。请恢复原公式（使用原模板重新填写）。",
                         values={"formula": cell.formula, "expected": expected}, **common)
                continue
            if cell.value is None or expected is None:
                continue  # openpyxl-saved files carry no cached results: nothing to compare
            cached = _exact(cell.value) if cell.kind == "n" else None
            if cached is not None and cached == expected:
                continue
            shown = fmt_number(cached) if cached is not None else cell.value
            self.add("CACHED_MISMATCH", WARNING,
                     f"{where}在文件中显示为 {shown}，但按表中填写的数字重新计算应为 {fmt_number(expected)}。"
                     "可能文件保存前没有重新计算，或有数字以文本形式填写；本系统以重新计算的结果为准。",
                     values={"cached": cached if cached is not None else cell.value, "recomputed": expected}, **common)

    def _protection(self, spec: FormatSpec, sheet_map: Mapping[str, str | None]) -> None:
        unprotected = []
        for name, data in self.index.expected_sheets:
            if not data and name != meta.META_SHEET:
                continue  # the instructions sheet holds nothing to tamper with
            actual = sheet_map.get(name)
            sheet = self.sheet(actual) if actual else None
            if sheet is not None and not sheet.protected:
                unprotected.append(actual)
        if unprotected:
            listed = "、".join(f"「{s}」" for s in unprotected)
            self.add("PROTECTION_REMOVED", WARNING,
                     f"工作表{listed}的保护已被撤销。数据已照常读取，但请确认没有改动表头和公式；建议使用原模板重新填写。",
                     values={"sheets": unprotected})

    # -- text

    def _text_at(self, name: str, locate_sheet: str, row: int, col: int) -> str:
        actual = self.sheet_map.get(locate_sheet)
        if actual is None:
            return ""
        tgt = self.targets.get(name)
        if tgt and tgt[0] == actual:
            row, col = tgt[1], tgt[2]
        sheet = self.sheet(actual)
        if sheet is None:
            return ""
        cell = sheet.cells.get((row, col))
        if cell is not None and cell.kind == "n" and cell.value is not None:
            return _cell_text(cell, self.date_styles).strip()
        return _cell_text(cell, set()).strip()

    def _info(self, spec: FormatSpec, sheet_map: Mapping[str, str | None]) -> dict[str, str]:
        """The 基本信息 inputs (contact details); the locked identity cells come from the meta data."""
        return {f.key: self._text_at(f.name, f.sheet, f.row, f.col) for f in spec.info_fields if not f.locked}

    def _narrative(self, spec: FormatSpec, sheet_map: Mapping[str, str | None]) -> dict[str, str]:
        parts = {f"{p.section}.{p.key}": self._text_at(p.name, p.sheet, p.row, p.col) for p in spec.narrative_parts}
        return narrative_from_parts(spec, parts)


# ---------------------------------------------------------------------------------------------
# Public API


def read_workbook(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    blank_as_zero: bool = False,
    expected_year: int | None = None,
    expected_agency: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ReadResult:
    """Read a returned workbook: the Report it holds and findings about the file, its identity,
    its structure and its values (not the rules between values: see read_and_check).

    `source` is a path or the file's bytes (`name` is then the display name, e.g.
    "archive.zip!inner/file.xlsx"). Never raises on bad content and never modifies the input."""
    intake = open_source(source, name, limits=limits)
    if not intake.ok:
        return ReadResult(
            source=intake.name, sha256=intake.sha256, report=None,
            findings=[intake.finding] if intake.finding else [], identity={}, kind=KIND_UNREADABLE,
        )
    reader = _Reader(intake, blank_as_zero)
    try:
        return reader.read(expected_year, expected_agency)
    except IntakeError as e:
        return ReadResult(source=intake.name, sha256=intake.sha256, report=None, findings=[e.finding],
                          identity={}, kind=KIND_UNREADABLE)
    except RecursionError:
        why, reason = "文件结构嵌套过深", "xml"
    except FORMAT_ERRORS:
        # The file is malformed in a way no check above anticipated (parts are vetted by
        # intake.parse_part, so the tests' mutated parts never reach this line).
        why, reason = "文件内容不符合 Excel 格式", "format"
    except OSError as e:
        why, reason = f"读取文件时出错（{os_error_text(e)}）", "io"
    except Exception as e:  # a bug of ours: never blamed on the agency's file
        return internal_result(intake.name, intake.sha256, e)
    finally:
        if intake.zip is not None:
            intake.zip.close()
    return ReadResult(source=intake.name, sha256=intake.sha256, report=None,
                      findings=[unreadable(intake.name, why, reason)], identity={}, kind=KIND_UNREADABLE)


# What a malformed file can make the parsing raise, besides the IntakeError of intake.parse_part:
# anything else is a bug of ours.
FORMAT_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ParseError, DefusedXmlException, TooMuchWork,
                 MemberTooLarge, UnicodeDecodeError, NotImplementedError)


def internal_error(name: str, e: BaseException) -> Finding:
    """INTERNAL_ERROR: the tool failed on this file. The message says so in Chinese and asks for
    the file; `values` keep what a maintainer needs (exception type, text and where it was raised)."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return Finding(
        code="INTERNAL_ERROR", severity=ERROR,
        message=f"「{name}」读取或检查时本工具内部出错（{INTERNAL_NOTE}）。",
        values={"exception": type(e).__name__, "detail": str(e)[:500], "where": where},
    )


def internal_result(name: str, sha256: str, e: BaseException) -> ReadResult:
    return ReadResult(source=name, sha256=sha256, report=None, findings=[internal_error(name, e)], identity={},
                      kind=KIND_INTERNAL)


def read_and_check(source: str | Path | bytes, *, previous: Report | None = None, **kw: Any) -> ReadResult:
    """read_workbook plus every check of the format (rules, narrative, text against tables);
    `previous` (last year's Report) adds the cross-year rules."""
    result = read_workbook(source, **kw)
    if result.report is not None:
        try:
            result.findings.extend(check_report(result.report, previous=previous, values=False))
        except Exception as e:  # a bug of ours in the checks: this file's result, not a traceback
            return internal_result(result.source, result.sha256, e)
    return result


class PreviousError(ValueError):
    """Last year's report cannot be used (the message is Chinese)."""


def load_previous(path: str | Path) -> Report:
    """Last year's Report, from its returned workbook (.xlsx, through the reader) or a JSON export."""
    path = Path(path)
    if path.is_dir():
        raise PreviousError(f"上一年度报告「{path}」是文件夹，请指定其中一个机关的文件（.xlsx 或 .json）。")
    problem = regular_file_problem(path)
    if problem is not None:  # a FIFO: reading it would wait forever
        raise PreviousError(f"上一年度报告「{path}」{problem}，无法读取。请指定保存在磁盘上的 .xlsx 或 .json 文件。")
    if not path.is_file():
        raise PreviousError(f"找不到上一年度报告文件：{path}")
    if path.suffix.lower() == ".json":
        try:
            report = Report.load(path)
        except (OSError, UnicodeDecodeError) as e:
            raise PreviousError(f"无法读取上一年度报告 {path}：{e}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise PreviousError(f"上一年度报告 {path} 不是本工具导出的 JSON：{e}") from None
    else:
        result = read_workbook(path)
        if result.report is None:
            why = "；".join(f.message for f in result.findings if f.is_error) or "无法读取"
            raise PreviousError(f"无法使用上一年度报告 {path}：{why}")
        report = result.report
    if all(report.figures.get(f.id) is None for f in report.spec.input_fields):
        # every cross-year rule would be skipped without a word: say so instead
        raise PreviousError(f"上一年度报告 {path}（「{report.agency.name}」{report.year} 年度）中没有填写任何数字，"
                            "可能是空白模板。请使用该机关上一年度填好交回的文件或导出的 JSON。")
    return report


__all__ = [
    "KIND_FOREIGN", "KIND_OK", "KIND_UNREADABLE", "PreviousError", "ReadResult", "formula_terms",
    "load_previous", "parse_text_number", "read_and_check", "read_workbook",
]
