"""The three tables of the report as Word tables: the grid from the format spec (merged cells as
gridSpan and vMerge), column widths that fit the figures, and the font size and cell margins a
table needs to fit the 156 mm text width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from docx.document import Document
from docx.oxml.ns import qn

from ..format.grid import Table
from ..format.numbers import fmt_number
from ..model.report import Report
from . import docx_oxml as ox
from .docx_styles import (
    DIGIT_EM,
    NUMBER_PAD_EM,
    TABLE_CELL_MARGIN,
    TABLE_FONT_STEPS,
    TABLE_MIN_CELL_MARGIN,
    TEXT_WIDTH,
    TIGHT_NUMBER_PAD_EM,
    table_style,
)
from .docx_text import text_width


@dataclass(frozen=True)
class _Slot:
    text: str
    row: int
    col: int
    rowspan: int
    colspan: int
    role: str  # title | corner | column | row | value


def table_slots(table: Table, figures: Mapping[str, object] | None = None) -> list[_Slot]:
    """Every cell of a table's grid (labels from the spec, values formatted), relative to its
    top-left corner."""
    out = [
        _Slot(c.text, c.row - table.origin_row, c.col - table.origin_col, c.rowspan, c.colspan, c.role)
        for c in table.cells
    ]
    figures = figures or {}
    for f in table.fields:
        value = figures.get(f.id)
        text = "" if value is None else fmt_number(value)  # type: ignore[arg-type]
        out.append(_Slot(text, f.row - table.origin_row, f.col - table.origin_col, 1, f.colspan, "value"))
    return out


def table_rows(table: Table, figures: Mapping[str, object] | None = None) -> list[ox.RowXml]:
    """The grid as rows of w:tc descriptions: merged cells become gridSpan, vertical merges a
    restart cell and continue cells below it."""
    owner: dict[tuple[int, int], _Slot] = {}
    for slot in table_slots(table, figures):
        for r in range(slot.row, slot.row + slot.rowspan):
            for c in range(slot.col, slot.col + slot.colspan):
                if (r, c) in owner or not (0 <= r < table.grid_rows and 0 <= c < table.grid_columns):
                    raise ValueError(f"table {table.key}: cell ({r}, {c}) is covered twice or lies outside the grid")
                owner[(r, c)] = slot
    header = {r - table.origin_row for r in table.header_rows}
    rows = []
    for r in range(table.grid_rows):
        cells = []
        c = 0
        while c < table.grid_columns:
            slot = owner.get((r, c))
            if slot is None:
                raise ValueError(f"table {table.key}: no cell covers ({r}, {c})")
            if slot.row == r:
                cells.append(ox.CellXml(
                    slot.text, slot.colspan, "restart" if slot.rowspan > 1 else None, _align(slot),
                ))
            else:
                cells.append(ox.CellXml("", slot.colspan, "continue"))
            c += slot.colspan
        rows.append(ox.RowXml(tuple(cells), header=r in header))
    return rows


def _align(slot: _Slot) -> str:
    # long row labels read from the left; everything else, and numbers, centred
    return "left" if slot.role == "row" and slot.rowspan == 1 else "center"


def _column_needs(table: Table, figures: Mapping[str, object] | None, pad_em: float
                  ) -> tuple[list[float], list[float]]:
    """Each grid column's minimum and wish, in ems of the table's font (see column_widths)."""
    n = table.grid_columns
    low = [2.0] * n
    want = [2.0] * n
    for s in table_slots(table, figures):
        if s.colspan != 1:
            continue
        w = text_width(s.text)
        if s.role == "value":
            w = len(s.text) * DIGIT_EM + pad_em
            low[s.col] = max(low[s.col], w)
            want[s.col] = max(want[s.col], w)
        elif s.role == "row" and s.rowspan > 1:
            low[s.col] = max(low[s.col], 4)
            want[s.col] = max(want[s.col], 4)
        else:
            want[s.col] = max(want[s.col], w)
    return low, want


def column_widths(table: Table, figures: Mapping[str, object] | None = None, *,
                  total: int = TEXT_WIDTH, margin: int = TABLE_CELL_MARGIN,
                  font_pt: float | None = None, pad_em: float = NUMBER_PAD_EM) -> list[int]:
    """Grid column widths in twips summing to `total` (the 156 mm text width).

    Each column has a minimum (two characters of a header, the widest number; four characters
    for a label spanning rows, written vertically in a narrow column) and a wish (its longest
    single-column text on one line). Wishes are granted in full when they fit, scaled up to
    fill the width; otherwise the room left above the minimums is shared in proportion to what
    each column still wants, so long row labels get most of it. Where even the minimums do not
    fit, every column is scaled down alike (numbers wrap; table_layout avoids that).
    """
    font_twips = (font_pt or table.font_size) * 20
    low, want = _column_needs(table, figures, pad_em)
    lo = [x * font_twips + 2 * margin for x in low]
    hi = [max(x * font_twips + 2 * margin, lo[i]) for i, x in enumerate(want)]
    if sum(hi) <= total:
        widths = [x * total / sum(hi) for x in hi]
    elif sum(lo) >= total:
        widths = [x * total / sum(lo) for x in lo]
    else:
        room = total - sum(lo)
        extra = [h - lw for h, lw in zip(hi, lo, strict=True)]
        widths = [lw + e * room / sum(extra) for lw, e in zip(lo, extra, strict=True)]
    out = [int(w) for w in widths]
    out[out.index(max(out))] += total - sum(out)
    return out


@dataclass(frozen=True)
class TableLayout:
    font_pt: float
    cell_margin: int  # twips each side
    widths: tuple[int, ...]  # twips, summing to the text width


def table_layout(table: Table, figures: Mapping[str, object] | None = None, *,
                 total: int = TEXT_WIDTH) -> TableLayout:
    """The font size, cell margins and column widths of a table in the report.

    Table 四's 15 columns cannot hold 4- or 5-digit figures at 9 pt on a portrait page: where the
    columns' minimums exceed `total`, the room beside the numbers narrows, then the table steps
    down through TABLE_FONT_STEPS; at the smallest size its cell margins narrow (to no less than
    TABLE_MIN_CELL_MARGIN); only if the numbers still do not fit do they wrap.
    """
    sizes = [table.font_size, *(s for s in TABLE_FONT_STEPS if s < table.font_size)]
    for size in sizes:
        for pad in (NUMBER_PAD_EM, TIGHT_NUMBER_PAD_EM):
            low, _ = _column_needs(table, figures, pad)
            if sum(x * size * 20 + 2 * TABLE_CELL_MARGIN for x in low) <= total:
                widths = column_widths(table, figures, total=total, font_pt=size, pad_em=pad)
                return TableLayout(size, TABLE_CELL_MARGIN, tuple(widths))
    size = sizes[-1]
    low, _ = _column_needs(table, figures, TIGHT_NUMBER_PAD_EM)
    room = (total - sum(x * size * 20 for x in low)) / (2 * len(low))
    margin = max(TABLE_MIN_CELL_MARGIN, min(TABLE_CELL_MARGIN, math.floor(room)))
    widths = column_widths(table, figures, total=total, margin=margin, font_pt=size, pad_em=TIGHT_NUMBER_PAD_EM)
    return TableLayout(size, margin, tuple(widths))


def append_table(doc: Document, table: Table, report: Report, layout: TableLayout) -> None:
    figures = report.figures
    tbl = ox.build_table(
        layout.widths, table_rows(table, figures), style_id=table_style(layout.font_pt).id,
        cell_margin=layout.cell_margin,
    )
    body = doc.element.body
    sect = body.find(qn("w:sectPr"))
    if sect is not None:
        sect.addprevious(tbl)
    else:
        body.append(tbl)
