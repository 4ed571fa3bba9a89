"""Finding the three tables and every figure of a published report by its labels.

The format file gives, for each table, its row labels (leaves of the row header tree) and how many
figures each row holds. In the token stream of the table's section the row labels are searched in
order, tolerantly (normalize.key); a row's figures are the number tokens that follow its label (and
those printed between the pieces of a label broken over lines) up to the next piece of text. A table
without row labels (表四) takes the figures after its last column label. Nothing here names a label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...format.grid import Field, Table
from . import ordered
from .cells import (
    MISSING,
    Cell,
    TableResult,
    assign,
    by_order,
    by_position,
    candidates,
    cell_of,
    consistent,
    rows_of,
)
from .document import EMPTY, NA, NUM, TEXT, Line, Token
from .normalize import equivalent, key, tolerance
from .stream import Stream


def find_table(table: Table, tokens: list[Token], lines: list[Line],
               compute: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
               before: list[Token] | None = None) -> TableResult:
    """Every figure of `table` in the tokens of its section (`compute`: the format file's totals,
    to verify figures read by their order; `before`: figures the previous table's section ended
    with that were not its own)."""
    stream = Stream(tokens)
    cells: dict[str, Cell] = {}
    rows = rows_of(table)
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
            cell = cell_of(f, got[f.id], lines)
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
        cands = candidates(tokens, lines, first, last)
        delimited = any(lines[t.line].cells is not None for t in tokens[first:last + 1])
        used = assign(row, cands, lines, label, result.cells, delimited)
        consumed.update(id(t) for t in used)
        if used and len(used) == len(row) and all(t.span for t in used):
            columns.setdefault(len(row), []).append([(t.span[0] + t.span[1]) / 2 for t in used])
        elif not used and cands and not delimited and all(t.span for t in cands):
            pending.append((row, cands))
    for row, cands in pending:
        consumed.update(id(t) for t in by_position(row, cands, columns.get(len(row)), lines, result))
    by_order(rows, tokens, lines, consumed, result)
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
    if not assign(row, cands, lines, last_label, result.cells, delimited, labelled=False):
        # figures interleaved with the header (PDF text column by column): all the figures of
        # the section, when they are exactly as many as the row holds
        left = [t for t in tokens if t.kind in (NUM, NA)]
        if len(left) == len(row) and not delimited and consistent(row, left):
            for f, tok in zip(row, left, strict=True):
                result.cells[f.id] = cell_of(f, tok, lines)
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
    if not consistent(row, seq):
        return
    for f, tok in zip(row, seq, strict=True):
        result.cells[f.id] = cell_of(f, tok, lines)
        result.cells[f.id].origin.update({"by": "order", "verified": "totals"})


def _layout_2019(table: Table, stream: Stream) -> tuple[str, dict[str, Any]]:
    """("2019", {labels}) when the table prints a label only the 2019 format has (and the format
    being read does not: reading in the 2019 format itself, they are its own labels)."""
    tol = tolerance()
    own = {key(c.text) for c in table.cells}
    seen = [label for label in tol.format2019_labels
            if key(label) and key(label) not in own and key(label) in stream.text]
    if seen:
        return "2019", {"labels": seen, "document": tol.format2019_document}
    return "", {}


def _heading_with_figures(table: Table, stream: Stream, tokens: list[Token], lines: list[Line]) -> str:
    """A row heading of the official layout (（六）其他处理 has sub-rows since 2021) that the
    report prints with figures of its own: a table in an older layout."""
    leaf_labels = {f.row_labels[-1] for f in table.fields if f.row_labels}
    headings = [c.text for c in table.cells if c.role == "row" and c.text not in leaf_labels]
    width = max(len(r) for r in rows_of(table))
    for h in headings:
        hit = stream.find(h)
        if hit is None:
            continue
        first, last = stream.token_span(hit)
        cands = [t for t in candidates(tokens, lines, first, last) if t.kind in (NUM, NA)]
        if len(cands) >= width and width > 1:
            return h
    return ""
