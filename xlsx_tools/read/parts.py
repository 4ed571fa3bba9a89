"""The shared strings and the cells of a worksheet as plain data (the workbook part, its
relationships and the document properties: book.py; the date formats of the styles: styles.py).
Each parser reads its part once, within the bounds of `ooxml` (cells, rows, strings, elements),
and keeps only what the reader needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat

from lxml import etree

from ..format.cells import cell_index, shift_formula
from . import ooxml
from .ooxml import GET, PARENT, TEXT, local


@dataclass(slots=True)
class Cell:
    kind: str  # the t attribute: n (default), s, str, inlineStr, b, e, d
    value: str | None  # <v> text; for s and inlineStr the string itself
    formula: str | None = None
    style: int = 0
    shared: str | None = None  # si of a shared formula

@dataclass
class Sheet:
    cells: Mapping[tuple[int, int], Cell]
    protected: bool


_TEXT_KINDS = ("s", "str", "inlineStr")
NOT_TEXT = object()  # _Cells.texts: not a text cell of the usual shape


class _Cells(Mapping):
    """The cells of a plain worksheet read whole: (row, col) -> its <c> element, replaced by its
    Cell when first asked for (a reader needs about half of them)."""

    __slots__ = ("_els", "_strings", "_v", "_is", "_f")

    def __init__(self, els: dict, strings: list[str], ns: str):
        self._els = els
        self._strings = strings
        self._v = f"{{{ns}}}v"  # the tags of <v> and <is> in the sheet's namespace
        self._is = f"{{{ns}}}is"
        self._f = f"{{{ns}}}f"

    def get(self, key, default=None):
        el = self._els.get(key)
        if el is None:
            return default
        if el.__class__ is Cell:
            return el
        # the usual cells, whose one child is a <v> or an <is>, as _cell makes them
        if len(el) == 1 and ((tag := (child := el[0]).tag) == self._v or tag == self._is):
            get = el.get  # (with a default, lxml's get takes a slower way)
            kind = get("t")
            if kind is None:
                kind = "n"
            value = child.text if tag == self._v else rich_text(child)
            if kind == "s" and value is not None:  # (an inline text too, as in _cell)
                value = _shared(value, self._strings)
            s = get("s")
            style = _STYLES.get(s) if s else 0  # (_style's usual case, without the call)
            cell = Cell(kind, value, None, _style(s) if style is None else style)
        else:
            cell = _cell(el, key, self._strings, {})
        self._els[key] = cell  # (a value replaced: iterating the keys meanwhile is fine)
        return cell

    def texts(self, keys) -> list:
        """For each key, the value get(key) gives a text cell (t="s", "str" or "inlineStr") whose
        one child is a <v> or an <is>, without making the Cell; NOT_TEXT for any other cell (and
        where there is none), which is then to be looked at through get()."""
        els, strings, v, inline = self._els, self._strings, self._v, self._is
        out = []
        for key in keys:
            el = els.get(key)
            if el is None:
                value = NOT_TEXT
            elif el.__class__ is Cell:  # made already
                value = el.value if el.kind in _TEXT_KINDS else NOT_TEXT
            elif (kind := el.get("t")) not in _TEXT_KINDS or len(el) != 1:
                value = NOT_TEXT
            elif (tag := (child := el[0]).tag) == v:
                value = child.text
                if kind == "s" and value is not None:
                    value = _shared(value, strings)
            elif tag == inline:
                value = rich_text(child)
                if kind == "s":
                    value = _shared(value, strings)
            else:
                value = NOT_TEXT
            out.append(value)
        return out

    def numbers(self, keys) -> tuple[list, set[int]]:
        """For each key, the <v> text of a number cell (no t, or t="n") whose one child is a <v>
        with a text, which get(key) makes a Cell of with that value and no formula, without making
        it; NOT_TEXT for any other cell (and where there is none). And the styles of those cells."""
        els, v = self._els, self._v
        texts = []
        made = set()  # the styles of the cells already made
        written = set()  # the s attributes of the others
        for key in keys:
            el = els.get(key)
            if el is None:
                texts.append(NOT_TEXT)
            elif el.__class__ is Cell:
                if el.kind == "n" and el.formula is None and el.value is not None:
                    texts.append(el.value)
                    made.add(el.style)
                else:
                    texts.append(NOT_TEXT)
            elif ((kind := el.get("t")) is None or kind == "n") and len(el) == 1 \
                    and (child := el[0]).tag == v and (text := child.text) is not None:
                texts.append(text)
                written.add(el.get("s"))
            else:
                texts.append(NOT_TEXT)
        return texts, made.union(_style(s) if s else 0 for s in written)

    def formulas(self, keys) -> tuple[list, list]:
        """For each key, the formula and the <v> text of a number cell (no t, or t="n") whose two
        children are an <f> with a text and a <v> with a text, which get(key) makes a Cell of with
        those, without making it; NOT_TEXT for both where the cell is not so."""
        els, f, v = self._els, self._f, self._v
        formulas = []
        texts = []
        for key in keys:
            el = els.get(key)
            formula = text = NOT_TEXT
            if el is None:
                pass
            elif el.__class__ is Cell:
                if el.kind == "n" and el.formula and el.value is not None:
                    formula, text = el.formula, el.value
            elif ((kind := el.get("t")) is None or kind == "n") and len(el) == 2 \
                    and (first := el[0]).tag == f and (second := el[1]).tag == v \
                    and first.text and second.text is not None:
                formula, text = first.text, second.text
            formulas.append(formula)
            texts.append(text)
        return formulas, texts

    def __getitem__(self, key):
        cell = self.get(key)
        if cell is None:
            raise KeyError(key)
        return cell

    def __iter__(self):
        return iter(self._els)

    def __len__(self) -> int:
        return len(self._els)


def cell_texts(cells: Mapping, keys: list[tuple[int, int]]) -> list | None:
    """_Cells.texts of a plain sheet's cells; None for cells read otherwise."""
    return cells.texts(keys) if cells.__class__ is _Cells else None


def cell_numbers(cells: Mapping, keys: list[tuple[int, int]]) -> tuple[list, set[int]] | None:
    """_Cells.numbers of a plain sheet's cells; None for cells read otherwise."""
    return cells.numbers(keys) if cells.__class__ is _Cells else None


def cell_formulas(cells: Mapping, keys: list[tuple[int, int]]) -> tuple[list, list] | None:
    """_Cells.formulas of a plain sheet's cells; None for cells read otherwise."""
    return cells.formulas(keys) if cells.__class__ is _Cells else None


def _shared(value: str, strings: list[str]) -> str:
    """The shared string a t="s" cell's <v> text points to ("" for none)."""
    try:
        i = int(value)
    except ValueError:
        return ""
    return strings[i] if 0 <= i < len(strings) else ""


_STYLES: dict[str, int] = {}  # an s attribute's text -> the cell format index it gives


def _style(s: str) -> int:
    style = _STYLES.get(s)
    if style is None:
        try:
            style = int(s)
        except ValueError:
            style = 0
        if len(_STYLES) < 1 << 16:
            _STYLES[s] = style
    return style


_PLAIN_STRINGS: dict[str, etree.XPath] = {}  # namespace -> _plain_strings' count of the elements


def parse_strings(data: bytes) -> list[str]:
    root = ooxml.small_tree(data)
    if root is not None:
        plain = _plain_strings(root)
        if plain is not None:
            return plain
        walk, streaming = etree.iterwalk(root, events=("end",), tag="{*}si"), False
    else:
        walk, streaming = ooxml.events(data, ("si",))
    out: list[str] = []
    limit = ooxml.MAX_STRINGS
    for _, el in walk:
        if len(out) >= limit:
            raise ooxml.TooMuchWork(f"共享字符串表中的字符串超过 {limit} 个", "strings", limit)
        out.append(rich_text(el))
        if streaming:
            el.clear()
    return out


def _plain_strings(root) -> list[str] | None:
    """The shared strings of a table read whole, when it is plain: every entry an <si> of the
    table's namespace holding one <t> and nothing else, no escape, none too long, within the
    bound on strings. None otherwise (parse_strings then walks it entry by entry, which gives
    the same strings)."""
    ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if not ns or local(root.tag) == "si":  # (parse_strings would take that root for an entry too)
        return None
    counts = _PLAIN_STRINGS.get(ns)
    if counts is None:
        counts = _PLAIN_STRINGS[ns] = etree.XPath("count(//*) = 1 + 2 * count(/*/s:si)", namespaces={"s": ns})
    if len(root) > ooxml.MAX_STRINGS or not counts(root):
        return None
    # each child of the root the parent of one <t> (in document order: the k-th of the k-th), so
    # that the root, its n children and their n <t> are 1 + 2n elements, which the count allows
    # only when the children are all <si> and there is no other element anywhere
    ts = list(root.iter(f"{{{ns}}}t"))
    if list(map(PARENT, ts)) != list(root):
        return None
    out = list(map(TEXT, ts))
    if None in out:
        out = [text or "" for text in out]
    if "_x" in "\x00".join(out) or max(map(len, out), default=0) > ooxml.MAX_CELL_CHARS:
        return None
    return out


def rich_text(el) -> str:
    """Text of an <si> or <is>: its <t>, or the <t> of its runs; phonetic runs (rPh) skipped."""
    if len(el) == 1 and el[0].tag.endswith("}t"):  # the usual case: one plain <t>
        text = el[0].text or ""
        if "_x" not in text and len(text) <= ooxml.MAX_CELL_CHARS:
            return text
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


# children of <c> read when the cell ends; while streaming, every other element is cleared as
# soon as it ends
_CELL_PARTS = frozenset(("v", "f", "is", "r", "t"))
_SHEET_TAGS = ("c", "row", "sheetProtection")


def parse_sheet(data: bytes, strings: list[str], sheet: str = "", max_cells: int | None = None) -> Sheet:
    """The cells of a worksheet; TooMuchWork past `max_cells` cells (MAX_SHEET_CELLS by default)
    or MAX_SHEET_ROWS rows."""
    if max_cells is None:
        max_cells = ooxml.MAX_SHEET_CELLS
    root = ooxml.small_tree(data)
    if root is not None:
        plain = _plain_sheet(data, root, strings, max_cells)
        if plain is not None:
            return plain
    cells: dict[tuple[int, int], Cell] = {}
    ncells = nrows = 0
    protected = False
    masters: dict[str, tuple[int, int, str]] = {}  # shared formula si -> (row, col, text)
    pending: list[Cell] = []  # cells without an r attribute, placed when their row ends
    row_no = 0
    col_no = -1
    walk, streaming = ooxml.events(data, _SHEET_TAGS, keep=_CELL_PARTS) if root is None else \
        (etree.iterwalk(root, events=("end",), tag=_SHEET_WANTED), False)
    for _, el in walk:
        tag = local(el.tag)
        if tag == "c":
            ncells += 1
            if ncells > max_cells:
                what = "单元格" if max_cells == ooxml.MAX_SHEET_CELLS else "单元格（与其他工作表合计）"
                raise ooxml.TooMuchWork(f"工作表「{sheet}」中的{what}超过 {max_cells} 个", "cells", max_cells)
            ref = el.get("r")
            rc = cell_index(ref) if ref else None
            cell = _cell(el, rc, strings, masters)
            if rc is None:
                pending.append(cell)
            else:
                cells[rc] = cell
                col_no = rc[1]
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
        else:  # sheetProtection
            protected = el.get("sheet", "0").lower() in ("1", "true")
            continue
        if streaming:
            el.clear()
    for (r, c), cell in cells.items():
        if cell.shared is not None and not cell.formula and cell.shared in masters:
            mr, mc, text = masters[cell.shared]
            cell.formula = shift_formula(text, r - mr, c - mc)
    return Sheet(cells, protected)


_SHEET_WANTED = tuple("{*}" + t for t in _SHEET_TAGS)


def _plain_sheet(data: bytes, root, strings: list[str], max_cells: int) -> Sheet | None:
    """A worksheet read whole, when it is plain: in a namespace, every cell (every element named
    c, as the walk takes them) a grandchild of a child of the root (as in a row of sheetData:
    none inside another), with its reference (r="B3"), no shared formula, no inline text too
    long, certainly within the bounds on cells and rows. None otherwise (parse_sheet then walks
    it element by element, which gives the same cells: with their references, rows play no
    part in where they go)."""
    ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if not ns or data[:1] != b"<" or local(root.tag) == "c":
        return None
    # the "<" bound the cells and the rows (see ooxml._small, which already held them to TREE_ELEMENTS)
    if (max_cells < ooxml.TREE_ELEMENTS or ooxml.MAX_SHEET_ROWS < ooxml.TREE_ELEMENTS) \
            and len(data) > min(max_cells, ooxml.MAX_SHEET_ROWS):
        n = data.count(b"<")
        if n > max_cells or n > ooxml.MAX_SHEET_ROWS:
            return None
    els = list(root.iter("{*}c"))  # in C, as every step below
    if not _grandchildren_of_children(els, root):
        return None  # a cell elsewhere
    if "shared" in map(GET, root.iter("{*}f"), repeat("t")):
        return None
    if len(data) > ooxml.MAX_CELL_CHARS and _long_inline(root):
        return None
    index = dict(zip(_cell_indexes(list(map(GET, els, repeat("r")))), els, strict=True))
    if None in index:
        return None  # a cell without its reference, or with one that is not a cell's
    protection = ooxml.ends(root, ("{*}sheetProtection",))  # the last to end says, as in the walk
    protected = bool(protection) and protection[-1].get("sheet", "0").lower() in ("1", "true")
    return Sheet(_Cells(index, strings, ns), protected)


def _grandchildren_of_children(els: list, root) -> bool:
    """Whether every element of `els` is a grandchild of a child of `root` (as a cell in a row
    of sheetData is), so that none is inside another."""
    level = set(map(PARENT, els))
    for _ in range(2):
        if root in level:
            return False  # one of them, or its parent, is a child of the root
        level = set(map(PARENT, level))
    return level <= {root}


_CELL_INDEX: dict[str | None, tuple[int, int] | None] = {None: None}  # cell_index of an r attribute (None: none)


def _cell_indexes(refs: list[str | None]) -> list[tuple[int, int] | None]:
    """cell_index of every reference (None for a cell without one), through a table kept for
    the run (the same few hundred references in every file)."""
    try:
        return list(map(_CELL_INDEX.__getitem__, refs))
    except KeyError:
        if len(_CELL_INDEX) > 1 << 16:
            _CELL_INDEX.clear()
            _CELL_INDEX[None] = None
        _CELL_INDEX.update((ref, cell_index(ref)) for ref in set(refs) if ref not in _CELL_INDEX)
        return list(map(_CELL_INDEX.__getitem__, refs))


_LONG_INLINE = etree.XPath("boolean(//*[local-name()='c']/*[local-name()='is'][string-length(.) > $chars])")


def _long_inline(root) -> bool:
    """Whether a cell holds an inline text (all of it, phonetic runs too) longer than a cell may
    hold (where rich_text would refuse it)."""
    return _LONG_INLINE(root, chars=ooxml.MAX_CELL_CHARS)


def _cell(el, rc: tuple[int, int] | None, strings: list[str], masters: dict[str, tuple[int, int, str]]) -> Cell:
    """One <c> element as a Cell; the master of a shared formula is noted in `masters`."""
    get = el.get
    kind = get("t", "n")
    value = formula = shared = None
    for child in el:
        ctag = local(child.tag)
        if ctag == "v":
            value = child.text
        elif ctag == "f":
            formula = child.text or ""
            if child.get("t") == "shared":
                shared = child.get("si")
                if formula and rc is not None and shared is not None:
                    masters[shared] = (rc[0], rc[1], formula)
        elif ctag == "is":
            value = rich_text(child)
    if kind == "s" and value is not None:
        value = _shared(value, strings)
    s = get("s")
    return Cell(kind, value, formula, _style(s) if s else 0, shared)
