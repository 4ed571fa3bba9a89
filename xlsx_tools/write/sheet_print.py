"""Printing the sheets of 收集情况.xlsx on A4: page setup and column widths.

Column widths are in Excel's units (the width of a digit of the workbook's default font, Calibri
11: about 7 px or 5.25 pt). `text_units` estimates how many of those units a text at 11 pt takes
(a CJK character about two); sizes scale it.

Several tables stacked on one sheet share its columns. `shared_columns` gives each table its own
column widths anyway: the sheet's columns are the union of every table's column boundaries, and
a table's column spans the sheet columns between its own boundaries (merged cells).
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Sequence

A4 = 9  # xlsxwriter paper code
# A4 landscape: 297 mm wide; margins 12 mm left and right leave 273 mm.
MARGIN_SIDE_IN = 0.47
MARGIN_TOP_IN = 0.6
MARGIN_BOTTOM_IN = 0.6


def text_units(text: str, size: float = 11) -> float:
    """Column-width units `text` needs on one line at `size` pt."""
    # added in the text's order, as the floats always were (a sum in another order can differ in
    # the last bit, and so a line count at a boundary)
    if text.isascii():  # every character 1.05: the same sum, kept per length
        units = _ASCII_UNITS.get(len(text))
        if units is None:
            units = sum(itertools.repeat(1.05, len(text)))
            if len(text) <= 1000:
                _ASCII_UNITS[len(text)] = units
    else:  # each character's units kept: the same floats added in the same order
        units = sum(map(_CHAR_UNITS.__getitem__, text))
    return units * size / 11


_UNITS = {"W": 2.0, "F": 2.0, "Na": 1.05, "H": 1.05, "A": 1.05, "N": 1.05}  # by East Asian width
_ASCII_UNITS: dict[int, float] = {}


class _CharUnits(dict):
    """The units of each character met, by its East Asian width: a few thousand in real texts,
    and never more than _CHARS_KEPT, whatever characters a file brings."""

    def __missing__(self, ch: str) -> float:
        if len(self) >= _CHARS_KEPT:
            self.clear()
        units = self[ch] = _UNITS[unicodedata.east_asian_width(ch)]
        return units


_CHARS_KEPT = 65536


_CHAR_UNITS = _CharUnits()


def lines_needed(text: str, width: float, size: float = 11) -> int:
    """Lines `text` wraps to in a column `width` units wide (at least 1)."""
    if not text:
        return 1
    key = (text, width, size)
    lines = _LINES.get(key)
    if lines is None:
        room = max(1.0, width - 1)
        if "\n" in text:
            lines = max(1, sum(math.ceil(text_units(part, size) / room) or 1 for part in text.split("\n")))
        else:
            lines = math.ceil(text_units(text, size) / room) or 1
        if len(_LINES) >= _LINES_KEPT:  # the texts of a sheet's column repeat (statuses, labels): kept
            _LINES.clear()               # a while, the memory bounded
        _LINES[key] = lines
    return lines


_LINES: dict[tuple[str, float, float], int] = {}
_LINES_KEPT = 4096


def setup_page(ws, *, landscape: bool = True, repeat_to: int | None = None, fit_width: bool = True,
               header: str = "", footer_pages: bool = True) -> None:
    """A4 page setup of a worksheet: orientation, margins, rows 0..repeat_to printed on every
    page, fit to one page wide (any number of pages tall), a page header (sheet name unless
    given) and a page-number footer."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=MARGIN_SIDE_IN, right=MARGIN_SIDE_IN, top=MARGIN_TOP_IN, bottom=MARGIN_BOTTOM_IN)
    if repeat_to is not None:
        ws.repeat_rows(0, repeat_to)
    if fit_width:
        ws.fit_to_pages(1, 0)
    head = header or "&A"
    ws.set_header(f"&C&\"宋体\"&9{_escape(head) if header else head}", {"margin": 0.25})
    if footer_pages:
        ws.set_footer("&C&\"宋体\"&9第 &P 页，共 &N 页", {"margin": 0.25})


def _escape(text: str) -> str:
    return text.replace("&", "&&")


def shared_columns(tables: Sequence[Sequence[float]], snap: float = 1.0) -> tuple[list[float], list[list[tuple[int, int]]]]:
    """Sheet column widths for tables stacked on one sheet, each with its own column widths.

    `tables` holds each table's column widths (any totals). A column edge within `snap` units of
    an edge of an earlier table moves onto it (no sliver columns). Returns the sheet's column
    widths and, for each table, for each of its columns, (first sheet column, number of sheet
    columns)."""
    cuts: list[float] = []
    edges_per_table: list[list[float]] = []
    for widths in tables:
        edges = [0.0]
        x = 0.0
        for w in widths:
            x += w
            near = min(cuts, key=lambda c: abs(c - x), default=None)
            edge = near if near is not None and abs(near - x) <= snap and near > edges[-1] else round(x, 2)
            edges.append(edge)
        edges_per_table.append(edges)
        cuts.extend(e for e in edges if e not in cuts)
    grid = sorted(cuts)
    index = {x: i for i, x in enumerate(grid)}
    sheet = [b - a for a, b in zip(grid, grid[1:], strict=False)]
    spans = []
    for edges in edges_per_table:
        spans.append([(index[a], index[b] - index[a]) for a, b in zip(edges, edges[1:], strict=False)])
    return sheet, spans


def scale_to(widths: Sequence[float], total: float) -> list[float]:
    """The widths stretched (or shrunk) proportionally to sum to `total`."""
    s = sum(widths)
    return [w * total / s for w in widths] if s else list(widths)


__all__ = ["A4", "lines_needed", "scale_to", "setup_page", "shared_columns", "text_units"]
