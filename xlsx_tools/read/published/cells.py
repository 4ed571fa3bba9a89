"""What a table prints for one figure (Cell), and how the figures printed with a row's label are
given to the row's fields: by count (the row prints exactly its figures, filler dropped), by
position (PDF words, pdftotext -layout: blank cells vanish from text, so a figure goes to the
column it stands under) or by order (a block of figures printed apart from their labels, kept only
where the row's totals add up). Nothing here names a label."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...format.grid import Field, Table
from ...format.numbers import Number, NumberError
from .document import EMPTY, NA, NUM, TEXT, Line, Token

# states of a figure in the source block ("invalid": a printed number beyond every bound, see
# format/numbers.py; the importer reports it as check does a cell)
VALUE, BLANK, NOT_APPLICABLE, MISSING, INVALID = "value", "blank", "not_applicable", "missing", "invalid"


@dataclass
class Cell:
    """What the report prints for one figure."""

    state: str
    value: Number | None = None
    raw: str = ""
    origin: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the row label looked for (for MISSING)
    error: NumberError | None = None  # for INVALID
    why: str = ""  # for MISSING: "label" (row label not found) | "count" (wrong number of figures)


@dataclass
class TableResult:
    table: Table
    cells: dict[str, Cell]
    found: bool  # any row label (or the column header) was found
    layout: str = ""  # "" = official layout; else why not ("2019", "rows", "heading_row")
    layout_detail: dict[str, Any] = field(default_factory=dict)
    # figures at the end of the section printed after the table's own (plain pdftotext puts the
    # next table's last figures before its heading): offered to the next table
    spill: list[Token] = field(default_factory=list)


def rows_of(table: Table) -> list[list[Field]]:
    """The table's fields grouped by row, in order."""
    rows: dict[int, list[Field]] = {}
    for f in table.fields:
        rows.setdefault(f.row, []).append(f)
    return [sorted(v, key=lambda f: f.col) for _, v in sorted(rows.items())]


def candidates(tokens: list[Token], lines: list[Line], first: int, last: int) -> list[Token]:
    """Figures of a row whose label occupies tokens first..last: number-like tokens between the
    label's pieces and after it, up to the next text. In a delimited row (a table row, a pipe
    row) only the row's own cells count."""
    out = [t for t in tokens[first:last + 1] if t.kind != TEXT]
    i = last + 1
    while i < len(tokens) and tokens[i].kind != TEXT:
        out.append(tokens[i])
        i += 1
    label_lines = {t.line for t in tokens[first:last + 1]}
    if any(lines[n].cells is not None and len(lines[n].cells) > 1 for n in label_lines):
        lo, hi = min(label_lines), max(label_lines)
        out = [t for t in out if lo <= t.line <= hi]
    return out


def fit(cands: list[Token], k: int) -> list[Token] | None:
    """Exactly k tokens for k figures: filler (empty cells) dropped from the front, then the
    back; None when the row does not hold k figures."""
    c = list(cands)
    while len(c) > k and c[0].kind == EMPTY:
        c.pop(0)
    while len(c) > k and c[-1].kind == EMPTY:
        c.pop()
    if len(c) == k:
        return c
    return None


def cell_of(f: Field, tok: Token, lines: list[Line]) -> Cell:
    origin = tok.origin(lines)
    if tok.kind == NUM and tok.error is not None:
        return Cell(INVALID, None, tok.raw, origin, error=tok.error)
    if tok.kind == NUM:
        v = tok.value
        if f.type.kind == "decimal" and isinstance(v, int):
            v = Decimal(v)
        return Cell(VALUE, v, tok.raw, origin)
    if tok.kind == NA:
        return Cell(NOT_APPLICABLE, None, tok.raw, origin)
    return Cell(BLANK, None, "", origin)


def assign(row: list[Field], cands: list[Token], lines: list[Line], label: str,
            cells: dict[str, Cell], delimited: bool, labelled: bool = True) -> list[Token]:
    """Put a row's figures into `cells`; the tokens used (none when their number does not fit
    the row)."""
    fitted = fit(cands, len(row))
    if fitted is None and not delimited and len(cands) >= 2 * len(row) and consistent(row, cands[:len(row)]):
        # extracted PDF text that prints a block of rows' figures after the first row's label:
        # the first row takes the first figures (when its totals add up), the rest are given
        # out by order (by_order)
        fitted = cands[:len(row)]
    if fitted is None and not delimited:
        # text without cell separators loses blank cells: a row that prints only its total
        # (blank organisation columns with a filled 总计) gives the one figure to the total
        figures = [t for t in cands if t.kind in (NUM, NA)]
        if labelled and len(figures) == 1 and len(row) > 1 and not row[-1].input:
            for f in row[:-1]:
                cells[f.id] = Cell(BLANK, None, "", figures[0].origin(lines))
            cells[row[-1].id] = cell_of(row[-1], figures[0], lines)
            return figures
    if fitted is None:
        n = sum(1 for t in cands if t.kind != EMPTY)
        where = cands[0].origin(lines) if cands else {}
        for f in row:
            cells[f.id] = Cell(MISSING, label=label, why="count", origin=where,
                               raw=str(n))
        return []
    for f, tok in zip(row, fitted, strict=True):
        cells[f.id] = cell_of(f, tok, lines)
    return fitted


def by_position(row: list[Field], cands: list[Token], full_rows: list[list[float]] | None,
                 lines: list[Line], result: TableResult) -> list[Token]:
    """A row printed with fewer figures than columns (blank cells vanish from text) in a source
    with positions (PDF words, pdftotext -layout): each figure goes to the column whose centre,
    measured on the table's full rows, is nearest; the columns left are blank. Nothing is
    placed when a figure is not clearly under one column."""
    if not full_rows:
        return []
    k = len(row)
    centres = [sum(r[i] for r in full_rows) / len(full_rows) for i in range(k)]
    if any(b <= a for a, b in zip(centres, centres[1:], strict=False)):
        return []
    gap = min((b - a for a, b in zip(centres, centres[1:], strict=False)), default=0.0)
    figures = [t for t in cands if t.kind in (NUM, NA)]
    if not figures or len(figures) >= k or gap <= 0:
        return []
    placed: dict[int, Token] = {}
    for t in figures:
        x = (t.span[0] + t.span[1]) / 2
        i = min(range(k), key=lambda j: abs(centres[j] - x))
        if abs(centres[i] - x) > gap / 2 or i in placed:
            return []
        placed[i] = t
    where = figures[0].origin(lines)
    for i, f in enumerate(row):
        if i in placed:
            cell = cell_of(f, placed[i], lines)
        else:
            cell = Cell(BLANK, None, "", dict(where))
        cell.origin["by"] = "position"
        result.cells[f.id] = cell
    return figures


def by_order(rows: list[list[Field]], tokens: list[Token], lines: list[Line], consumed: set[int],
              result: TableResult) -> None:
    """Text extracted from a PDF column by column prints a block of figures apart from their
    labels. When the figures no row took are exactly as many as the rows without figures hold,
    they are given to those rows in order (the source block says "by": "order"); otherwise
    nothing is guessed."""
    empty_rows = [r for r in rows if all(result.cells.get(f.id) is None or result.cells[f.id].state == MISSING
                                         for f in r)]
    if not empty_rows:
        return
    left = [t for t in tokens if t.kind in (NUM, NA) and id(t) not in consumed]
    if not left or len(left) != sum(len(r) for r in empty_rows):
        return
    if any(lines[t.line].cells is not None for t in left):
        return
    it = iter(left)
    plan = [(r, [next(it) for _ in r]) for r in empty_rows]
    # rows are given their figures in order while each row adds up; from the first that does
    # not (two rows printed interleaved), nothing more is guessed
    for r, toks in plan:
        if not consistent(r, toks):
            break
        for f, tok in zip(r, toks, strict=True):
            cell = cell_of(f, tok, lines)
            cell.origin["by"] = "order"
            result.cells[f.id] = cell


def consistent(row: list[Field], toks: list[Token]) -> bool:
    """Whether figures taken by order can be trusted: the row has totals (computed fields) and
    each equals the sum of the figures before it since the previous total (表三 rows, 表四's
    three groups). A row without a total cannot be verified, so it is never read by order."""
    if all(f.input for f in row) or len(toks) != len(row):
        return False
    run = 0
    for f, t in zip(row, toks, strict=True):
        if t.kind != NUM or t.value is None:
            return False
        if f.input:
            run += t.value
        else:
            if t.value != run:
                return False
            run = 0
    return True
