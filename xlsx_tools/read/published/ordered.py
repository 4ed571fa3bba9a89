"""Figures of text that prints a table's figures apart from their labels, in the order of the
PDF's text objects: `pdftotext` without -layout on a ruled table (issue 12).

Seen in LibreOffice's PDF of our own `docx` output (tests/test_import_libreoffice.py):
- 表三 prints its 175 figures without row labels between them; page by page, each row's seven
  figures in order, except that runs of rows come column by column (the three rows at the foot of
  a page: 3.其他, （七）总计, 四、结转…, one column after the other).
- 表二 prints each block's figures after its column headers: the figures after a run of adjacent
  headers fill those columns row by row ("本年制发件数 本年废止件数 0 259 1842 1555"), a header
  printed alone is followed by its column's figures ("现行有效件数 50 1844").

Neither order is guessed. 表三 is read by `solve_rows`: every split of the figures into rows read
row by row or runs of rows read column by column is tried; only splits where every row adds up to
its total and every computed figure of the table equals what the format file computes are kept,
and only figures on which all kept splits agree are taken ("by": "order", "verified": "totals").
表二 has no totals: `by_headers` takes a block's figures only when every block's headers are found
and followed by exactly the figures the block holds ("by": "header_order", "verified": False).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...format.grid import Field, Table
from .document import EMPTY, NUM, TEXT, Token

MAX_SOLUTIONS = 32  # splits kept; more means the figures say too little (zeros): nothing taken


def solve_rows(rows: list[list[Field]], figures: list[Token],
               compute: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None) -> dict[str, Token]:
    """The figure of each field on which every verified split of `figures` into `rows` agrees
    ({} when there is none). Rows must all hold the same number of figures and have totals.
    One figure fewer than the cells: one blank cell (text loses it), tried in every input cell
    of every row read in order; the tokens given for it are EMPTY."""
    if not rows or any(len(r) != len(rows[0]) for r in rows) or all(f.input for f in rows[0]):
        return {}
    width = len(rows[0])
    n = len(rows)
    blanks = width * n - len(figures)
    if blanks not in (0, 1) or any(t.kind != NUM for t in figures):
        return {}
    memo: dict[tuple[int, int], list[list[list[Token]]]] = {}

    def row_ok(row: list[Field], toks: list[Token]) -> bool:
        run, terms = 0, 0  # a computed figure after inputs is their sum (a row total); one
        for f, t in zip(row, toks, strict=True):  # in a row of totals is checked by `compute`
            if f.input:
                run, terms = run + (t.value or 0), terms + 1
            elif t.kind != NUM or (terms and t.value != run):
                return False
            else:
                run, terms = 0, 0
        return True

    def readings(r: int, b: int) -> list[tuple[int, int, list[list[Token]]]]:
        """(rows taken, blanks used, their tokens) for the rows from r on."""
        start = r * width - b
        out = []
        for k in range(1, n - r + 1):
            block = figures[start:start + k * width]
            if len(block) < k * width:
                break
            # k rows printed column by column (k == 1: one row in order)
            out.append((k, 0, [[block[c * k + i] for c in range(width)] for i in range(k)]))
        if b < blanks:
            part = figures[start:start + width - 1]
            for j, f in enumerate(rows[r]):
                if f.input and len(part) == width - 1:
                    line = part[max(0, j - 1)].line
                    out.append((1, 1, [part[:j] + [Token(EMPTY, "", line)] + part[j:]]))
        return out

    def tails(r: int, b: int) -> list[list[list[Token]]]:
        """Splits of rows r.. (each a list of per-row token lists), at most MAX_SOLUTIONS + 1."""
        if r == n:
            return [[]] if b == blanks else []
        if (r, b) in memo:
            return memo[(r, b)]
        out: list[list[list[Token]]] = []
        for k, used, got in readings(r, b):
            if not all(row_ok(rows[r + i], got[i]) for i in range(k)):
                continue
            for tail in tails(r + k, b + used):
                out.append(got + tail)
                if len(out) > MAX_SOLUTIONS:
                    memo[(r, b)] = out
                    return out
        memo[(r, b)] = out
        return out

    sols = tails(0, 0)
    if not sols or len(sols) > MAX_SOLUTIONS:
        return {}
    if compute is not None:
        sols = [s for s in sols if _computed_agree(rows, s, compute)]
    if not sols:
        return {}
    out: dict[str, Token] = {}
    for i, row in enumerate(rows):
        for j, f in enumerate(row):
            if len({(s[i][j].kind, s[i][j].value) for s in sols}) == 1:
                out[f.id] = sols[0][i][j]
    return out


def _computed_agree(rows: list[list[Field]], sol: list[list[Token]],
                    compute: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> bool:
    """Every computed figure as the format file computes it (a blank cell counted as 0)."""
    values = {f.id: t.value or 0 for row, toks in zip(rows, sol, strict=True) for f, t in zip(row, toks, strict=True)}
    computed = compute({fid: v for fid, v in values.items() if _is_input(rows, fid)})
    return all(computed.get(f.id) == values[f.id] for row in rows for f in row if not f.input)


def _is_input(rows: list[list[Field]], fid: str) -> bool:
    return any(f.id == fid and f.input for row in rows for f in row)


def by_headers(table: Table, tokens: list[Token], find: Callable[[str, int], tuple[int, int] | None],
               ) -> dict[str, Token]:
    """表二-like tables (blocks under a title, column headers, no totals): for each block, the
    figures printed right after its column headers. A run of adjacent headers takes
    rows x headers figures row by row; anything else (a count that does not fit, a header not
    found) and nothing of the table is taken. `find(label, start_token)` gives the (first, last)
    token of a label at or after a token."""
    titles = sorted((c.row, c.text) for c in table.cells if c.role == "title")
    if not titles:
        return {}
    fields_by_block: dict[int, list[Field]] = {}
    for f in table.fields:
        block = max(r for r, _ in titles if r < f.row)
        fields_by_block.setdefault(block, []).append(f)
    out: dict[str, Token] = {}
    for title_row, title in titles:
        fields = fields_by_block.get(title_row, [])
        if not fields:
            continue
        hit = find(title, 0)
        if hit is None:
            return {}
        headers = sorted({(f.col, f.column_labels[-1]) for f in fields})
        block_rows = sorted({f.row for f in fields})
        at: list[tuple[int, int, str]] = []  # (first token, last token, header) as printed
        for _col, label in headers:
            h = find(label, hit[1] + 1)
            if h is None:
                return {}
            at.append((h[0], h[1], label))
        at.sort()
        got: dict[str, Token] = {}
        i = 0
        while i < len(at):
            run = [at[i]]
            while i + len(run) < len(at) and at[i + len(run)][0] == run[-1][1] + 1:
                run.append(at[i + len(run)])
            i += len(run)
            figs = []
            j = run[-1][1] + 1
            while j < len(tokens) and tokens[j].kind != TEXT:
                if tokens[j].kind == NUM:
                    figs.append(tokens[j])
                else:
                    return {}  # "/" or a blank among them: which cell is it? not guessed
                j += 1
            labels = [label for _, _, label in run]
            cells = [f for r in block_rows for label in labels
                     for f in fields if f.row == r and f.column_labels[-1] == label]
            if len(figs) != len(cells) or len(cells) != len(block_rows) * len(labels):
                return {}
            got.update({f.id: t for f, t in zip(cells, figs, strict=True)})
        if len(got) != len(fields):
            return {}
        out.update(got)
    return out

