"""Finding the three tables and every figure of a published report by its labels.

The format file gives, for each table, its row labels (leaves of the row header tree) and how many
figures each row holds. In the token stream of the table's section the row labels are searched in
order, tolerantly (normalize.key); a row's figures are the number tokens that follow its label (and
those printed between the pieces of a label broken over lines) up to the next piece of text. A table
without row labels (表四) takes the figures after its last column label. Nothing here names a label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...format.spec import Field, Number, Table
from . import ordered
from .document import EMPTY, NA, NUM, TEXT, Line, Token
from .normalize import equivalent, key, label_keys, tolerance

# states of a figure in the source block
VALUE, BLANK, NOT_APPLICABLE, MISSING = "value", "blank", "not_applicable", "missing"


@dataclass
class Cell:
    """What the report prints for one figure."""

    state: str
    value: Number | None = None
    raw: str = ""
    origin: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the row label looked for (for MISSING)
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


class Stream:
    """The keyed text of a run of tokens, with each character's token, for label search."""

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        chars: list[str] = []
        owner: list[int] = []
        for i, tok in enumerate(tokens):
            if tok.kind == TEXT:
                chars.append(tok.key)
                owner.extend([i] * len(tok.key))
        self.text = equivalent("".join(chars))
        self.owner = owner

    def find(self, label: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """(first, last) character position of the earliest printing of `label` (canonical form
        preferred on a tie), or None."""
        best: tuple[int, int] | None = None
        for k in label_keys(label):
            if not k:
                continue
            p = self.text.find(k, start, end)
            if p >= 0 and (best is None or p < best[0]):
                best = (p, p + len(k) - 1)
        return best

    def rfind(self, label: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        best: tuple[int, int] | None = None
        for k in label_keys(label):
            p = self.text.rfind(k, start, end)
            if p >= 0 and (best is None or p > best[0]):
                best = (p, p + len(k) - 1)
        return best

    def token_span(self, span: tuple[int, int]) -> tuple[int, int]:
        return self.owner[span[0]], self.owner[span[1]]

    def find_pieces(self, label: str, start_token: int = 0) -> tuple[int, int] | None:
        """(first, last) token of a label printed in pieces with other text between them, as a
        narrow merged cell's lines interleave with its neighbours' in extracted PDF text
        ("4.保护第 / 三方合法 / （三）不 / 权益"): up to MAX_SKIP foreign pieces are passed over;
        figures between the pieces are passed over too. Used where find() fails."""
        tokens = self.tokens
        stop = min(len(tokens), start_token + PIECES_WINDOW)
        for k in label_keys(label):
            if len(k) < 2:
                continue
            for i in range(start_token, stop):
                t = tokens[i]
                if t.kind != TEXT:
                    continue
                end = _match_from(tokens, i, k)
                if end is not None:
                    return i, end
        return None

    def char_of(self, token: int) -> int:
        """The first character position of a token (or of the next text token)."""
        for p, owner in enumerate(self.owner):
            if owner >= token:
                return p
        return len(self.text)


MAX_SKIP = 2
PIECES_WINDOW = 3000  # tokens after the previous row's label searched for a label in pieces
MIN_FIRST_PIECE = 2


def _match_from(tokens: list[Token], i: int, k: str) -> int | None:
    """The last token of label key `k` starting in token i, pieces allowed (see find_pieces)."""
    first = equivalent(tokens[i].key)
    rest = None
    for s in range(len(first)):
        piece = first[s:]
        if k.startswith(piece) and len(piece) >= min(MIN_FIRST_PIECE, len(k)):
            rest = k[len(piece):]
            break
        if piece.startswith(k):
            return i
    if rest is None:
        return None
    if not rest:
        return i
    skips = 0
    j = i + 1
    while j < len(tokens) and rest:
        t = tokens[j]
        if t.kind == TEXT:
            piece = equivalent(t.key)
            if rest.startswith(piece):
                rest = rest[len(piece):]
            elif piece.startswith(rest):
                rest = ""
            else:
                skips += 1
                if skips > MAX_SKIP:
                    return None
        j += 1
    return j - 1 if not rest else None


def _rows(table: Table) -> list[list[Field]]:
    """The table's fields grouped by row, in order."""
    rows: dict[int, list[Field]] = {}
    for f in table.fields:
        rows.setdefault(f.row, []).append(f)
    return [sorted(v, key=lambda f: f.col) for _, v in sorted(rows.items())]


def _candidates(tokens: list[Token], lines: list[Line], first: int, last: int) -> list[Token]:
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


def _fit(cands: list[Token], k: int) -> list[Token] | None:
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


def _cell(f: Field, tok: Token, lines: list[Line]) -> Cell:
    origin = tok.origin(lines)
    if tok.kind == NUM:
        v = tok.value
        if f.type.kind == "decimal" and isinstance(v, int):
            v = Decimal(v)
        return Cell(VALUE, v, tok.raw, origin)
    if tok.kind == NA:
        return Cell(NOT_APPLICABLE, None, tok.raw, origin)
    return Cell(BLANK, None, "", origin)


def _assign(row: list[Field], cands: list[Token], lines: list[Line], label: str,
            cells: dict[str, Cell], delimited: bool, labelled: bool = True) -> list[Token]:
    """Put a row's figures into `cells`; the tokens used (none when their number does not fit
    the row)."""
    fitted = _fit(cands, len(row))
    if fitted is None and not delimited and len(cands) >= 2 * len(row) and _consistent(row, cands[:len(row)]):
        # extracted PDF text that prints a block of rows' figures after the first row's label:
        # the first row takes the first figures (when its totals add up), the rest are given
        # out by order (_by_order)
        fitted = cands[:len(row)]
    if fitted is None and not delimited:
        # text without cell separators loses blank cells: a row that prints only its total
        # (blank organisation columns with a filled 总计) gives the one figure to the total
        figures = [t for t in cands if t.kind in (NUM, NA)]
        if labelled and len(figures) == 1 and len(row) > 1 and not row[-1].input:
            for f in row[:-1]:
                cells[f.id] = Cell(BLANK, None, "", figures[0].origin(lines))
            cells[row[-1].id] = _cell(row[-1], figures[0], lines)
            return figures
    if fitted is None:
        n = sum(1 for t in cands if t.kind != EMPTY)
        where = cands[0].origin(lines) if cands else {}
        for f in row:
            cells[f.id] = Cell(MISSING, label=label, why="count", origin=where,
                               raw=str(n))
        return []
    for f, tok in zip(row, fitted, strict=True):
        cells[f.id] = _cell(f, tok, lines)
    return fitted


def _by_position(row: list[Field], cands: list[Token], full_rows: list[list[float]] | None,
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
            cell = _cell(f, placed[i], lines)
        else:
            cell = Cell(BLANK, None, "", dict(where))
        cell.origin["by"] = "position"
        result.cells[f.id] = cell
    return figures


def _by_order(rows: list[list[Field]], tokens: list[Token], lines: list[Line], consumed: set[int],
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
        if not _consistent(r, toks):
            break
        for f, tok in zip(r, toks, strict=True):
            cell = _cell(f, tok, lines)
            cell.origin["by"] = "order"
            result.cells[f.id] = cell


def _consistent(row: list[Field], toks: list[Token]) -> bool:
    """Whether figures taken by order can be trusted: the row has totals (computed fields) and
    each equals the sum of the figures before it since the previous total (表三 rows, 表四's
    three groups). A row without a total cannot be verified, so it is never read by order."""
    if all(f.input for f in row) or len(toks) != len(row):
        return False
    run = 0
    for f, t in zip(row, toks, strict=True):
        if t.kind != NUM:
            return False
        if f.input:
            run += t.value
        else:
            if t.value != run:
                return False
            run = 0
    return True


def find_table(table: Table, tokens: list[Token], lines: list[Line],
               compute: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
               before: list[Token] | None = None) -> TableResult:
    """Every figure of `table` in the tokens of its section (`compute`: the format file's totals,
    to verify figures read by their order; `before`: figures the previous table's section ended
    with that were not its own)."""
    stream = Stream(tokens)
    cells: dict[str, Cell] = {}
    rows = _rows(table)
    result = TableResult(table, cells, found=False)
    result.layout, result.layout_detail = _layout_2019(table, stream)
    if not result.layout:
        order = _column_order(table, tokens, lines)
        if order:
            result.layout, result.layout_detail = "columns", {"order": order}
    if result.layout == "columns":
        for f in table.fields:
            cells[f.id] = Cell(MISSING, label=f.column_labels[-1] if f.column_labels else "", why="layout")
        return result
    has_row_labels = any(f.row_labels for f in table.fields)
    if not has_row_labels:
        _find_by_header(table, rows, stream, tokens, lines, result, before or [])
    else:
        _find_by_rows(table, rows, stream, tokens, lines, result)
        _by_print_order(table, rows, stream, tokens, lines, result, compute)
    return result


def _by_print_order(table: Table, rows: list[list[Field]], stream: Stream, tokens: list[Token],
                    lines: list[Line], result: TableResult,
                    compute: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None) -> None:
    """Plain pdftotext text of a ruled table (figures apart from their labels, see ordered.py):
    the figures no label gave are read by their printed order where that order is verified by
    the table's totals or, without totals, unambiguous from the headers around them."""
    cells = result.cells
    missing = [f for f in table.fields if cells.get(f.id) is None or cells[f.id].state == MISSING]
    if not missing or result.layout not in ("", "rows") or any(lines[t.line].cells is not None for t in tokens):
        return
    figures = [t for t in tokens if t.kind in (NUM, NA, EMPTY)]
    extra = figures[len(table.fields):]
    if extra and _text_between(tokens, figures[len(table.fields) - 1], extra[0]):
        # the next table's figures printed before its heading (see find_table's `before`)
        figures = figures[:len(table.fields)]
    else:
        extra = []
    if all(f.input for f in table.fields):
        if any(cells.get(f.id) is not None and cells[f.id].state != MISSING for f in table.fields):
            return
        def find(label: str, start: int) -> tuple[int, int] | None:
            hit = stream.find(label, stream.char_of(start))
            return stream.token_span(hit) if hit is not None else None
        got, by, verified = ordered.by_headers(table, tokens, find), "header_order", False
    else:
        got, by, verified = ordered.solve_rows(rows, figures, compute), "order", "totals"
        # what the labels gave must be what the order gives, else neither is trusted more
        for f in table.fields:
            c = cells.get(f.id)
            if c is not None and c.state != MISSING and (f.id not in got or got[f.id].value != c.value):
                return
    for f in missing:
        if f.id in got:
            cell = _cell(f, got[f.id], lines)
            cell.origin.update({"by": by, "verified": verified})
            cells[f.id] = cell
    if extra and all(f.id in got for f in table.fields):
        last = next(i for i, t in enumerate(tokens) if t is figures[-1])
        result.spill = tokens[last + 1:]
    if result.layout == "rows" and all(cells.get(f.id) is not None and cells[f.id].state != MISSING
                                       for f in table.fields):
        # every row label was printed, only apart from its figures: the official layout
        result.layout, result.layout_detail = "", {}


def _column_order(table: Table, tokens: list[Token], lines: list[Line]) -> list[str]:
    """In a table whose cells are delimited (Word, web page, PDF grid, pipes), the column labels
    in the order printed when it differs from the official order (read by position, figures
    would go to the wrong columns); [] when the order is official or cannot be seen. Labels that
    occur more than once in the table's header (表四's five results under each group, 表二's
    repeated block headers) are not used; 表四's groups are."""
    texts = [c.text for c in table.cells if c.role == "column"]
    official = {key(c.text): (c.col, c.text) for c in table.cells
                if c.role == "column" and texts.count(c.text) == 1}
    if len(official) < 2:
        return []
    seen: dict[str, tuple[int, int, int]] = {}  # label -> (official column, printed column, line)
    for t in tokens:
        if t.kind != TEXT or t.cell is None:
            continue
        line = lines[t.line]
        if line.cells is None or len(line.cells) < 2:
            continue  # one cell per line: no columns to compare
        k = equivalent(t.key)
        if k in official and official[k][1] not in seen:
            col = line.columns[t.cell] if line.columns is not None and t.cell < len(line.columns) else t.cell
            seen[official[k][1]] = (official[k][0], col, t.line)
    items = list(seen.items())
    for i, (_, (oa, pa, la)) in enumerate(items):
        for _, (ob, pb, lb) in items[i + 1:]:
            # labels of one printed row: their order is certain (pipes without the leading | may
            # shift a whole row by one cell, so rows are not compared with each other)
            if la == lb and oa != ob and (oa < ob) != (pa < pb):
                row = sorted((x for x in items if x[1][2] == la), key=lambda x: x[1][1])
                return [label for label, _ in row]
    return []


def _text_between(tokens: list[Token], a: Token, b: Token) -> bool:
    ia = next(i for i, t in enumerate(tokens) if t is a)
    ib = next(i for i, t in enumerate(tokens) if t is b)
    return any(t.kind == TEXT for t in tokens[ia + 1:ib])


def _find_by_rows(table: Table, rows: list[list[Field]], stream: Stream, tokens: list[Token],
                  lines: list[Line], result: TableResult) -> None:
    pos = 0
    found = 0
    consumed: set[int] = set()
    columns: dict[int, list[list[float]]] = {}  # row width -> x centres of full rows' figures
    pending: list[tuple[list[Field], list[Token]]] = []
    titles = {c.row: c.text for c in table.cells if c.role == "title"}
    for row in rows:
        # a block title (第二十条第（五）项) moves the search past the previous block
        title_row = max((r for r in titles if r < row[0].row), default=None)
        if title_row is not None:
            hit = stream.find(titles[title_row], pos)
            if hit is not None and hit[0] >= pos:
                pos = hit[1] + 1
        label = row[0].row_labels[-1]
        hit = stream.find(label, pos)
        if hit is not None:
            first, last = stream.token_span(hit)
            pos = hit[1] + 1
        else:
            span = stream.find_pieces(label, stream.owner[pos] if pos < len(stream.owner) else len(tokens))
            if span is None:
                for f in row:
                    result.cells[f.id] = Cell(MISSING, label=label, why="label")
                continue
            first, last = span
            pos = stream.char_of(last + 1)
        found += 1
        cands = _candidates(tokens, lines, first, last)
        delimited = any(lines[t.line].cells is not None for t in tokens[first:last + 1])
        used = _assign(row, cands, lines, label, result.cells, delimited)
        consumed.update(id(t) for t in used)
        if used and len(used) == len(row) and all(t.span for t in used):
            columns.setdefault(len(row), []).append([(t.span[0] + t.span[1]) / 2 for t in used])
        elif not used and cands and not delimited and all(t.span for t in cands):
            pending.append((row, cands))
    for row, cands in pending:
        consumed.update(id(t) for t in _by_position(row, cands, columns.get(len(row)), lines, result))
    _by_order(rows, tokens, lines, consumed, result)
    result.found = found > 0
    if found and found < len(rows) / 2 and not result.layout:
        result.layout, result.layout_detail = "rows", {"found": found, "expected": len(rows)}
    if found and not result.layout:
        heading = _heading_with_figures(table, stream, tokens, lines)
        if heading:
            result.layout, result.layout_detail = "heading_row", {"label": heading}


def _find_by_header(table: Table, rows: list[list[Field]], stream: Stream, tokens: list[Token],
                    lines: list[Line], result: TableResult, before: list[Token]) -> None:
    row = rows[0]
    leaves = [c for c in table.cells if c.role == "column"]
    last_label = max(leaves, key=lambda c: (c.row + c.rowspan, c.col)).text
    hit = stream.rfind(last_label)
    if hit is None:
        for f in row:
            result.cells[f.id] = Cell(MISSING, label=last_label, why="label")
        return
    result.found = True
    first, last = stream.token_span(hit)
    cands = []
    i = last + 1
    while i < len(tokens) and tokens[i].kind != TEXT:
        cands.append(tokens[i])
        i += 1
    delimited = any(lines[t.line].cells is not None for t in cands)
    if not _assign(row, cands, lines, last_label, result.cells, delimited, labelled=False):
        # figures interleaved with the header (PDF text column by column): all the figures of
        # the section, when they are exactly as many as the row holds
        left = [t for t in tokens if t.kind in (NUM, NA)]
        if len(left) == len(row) and not delimited and _consistent(row, left):
            for f, tok in zip(row, left, strict=True):
                result.cells[f.id] = _cell(f, tok, lines)
                result.cells[f.id].origin["by"] = "order"
        else:
            _displaced(row, left, before, lines, result)


def _displaced(row: list[Field], left: list[Token], before: list[Token], lines: list[Line],
               result: TableResult) -> None:
    """Plain pdftotext printed some figures of a one-row table (表四) before its section's heading,
    after the column labels they stand under ("复议后起诉 其他 尚未 结果 审结 1240 2447"): they go
    to the columns whose labels (and the label above) are printed with them, the rest in order,
    and are kept only when every total adds up."""
    displaced = [t for t in before if t.kind in (NUM, NA)]
    if not displaced or len(left) + len(displaced) != len(row):
        return
    first = next(i for i, t in enumerate(before) if t is displaced[0])
    header = Stream([t for t in before[:first] if t.kind == TEXT])

    def printed(label: str) -> bool:
        return header.find(label) is not None or header.find_pieces(label) is not None

    at = [i for i, f in enumerate(row) if len(f.column_labels) >= 2 and all(map(printed, f.column_labels[-2:]))]
    if len(at) != len(displaced):
        return
    d, i = iter(displaced), iter(left)
    seq = [next(d) if p in at else next(i) for p in range(len(row))]
    if not _consistent(row, seq):
        return
    for f, tok in zip(row, seq, strict=True):
        result.cells[f.id] = _cell(f, tok, lines)
        result.cells[f.id].origin.update({"by": "order", "verified": "totals"})


def _layout_2019(table: Table, stream: Stream) -> tuple[str, dict[str, Any]]:
    """("2019", {labels}) when the table prints a label only the 2019 format has."""
    tol = tolerance()
    seen = [label for label in tol.format2019_labels if key(label) and key(label) in stream.text]
    if seen:
        return "2019", {"labels": seen, "document": tol.format2019_document}
    return "", {}


def _heading_with_figures(table: Table, stream: Stream, tokens: list[Token], lines: list[Line]) -> str:
    """A row heading of the official layout (（六）其他处理 has sub-rows since 2021) that the
    report prints with figures of its own: a table in an older layout."""
    leaf_labels = {f.row_labels[-1] for f in table.fields if f.row_labels}
    headings = [c.text for c in table.cells if c.role == "row" and c.text not in leaf_labels]
    width = max(len(r) for r in _rows(table))
    for h in headings:
        hit = stream.find(h)
        if hit is None:
            continue
        first, last = stream.token_span(hit)
        cands = [t for t in _candidates(tokens, lines, first, last) if t.kind in (NUM, NA)]
        if len(cands) >= width and width > 1:
            return h
    return ""
