"""How a label wraps in a narrow column, and column widths that never leave one character alone on
a label's last line ("商业企" / "业"): an office reads such a header as a typo.

Measure: a CJK (wide) character is 2 column units at 11 pt, any other character 1, scaled by the
font size. The room for text differs by program: Excel keeps about one unit of a column for
padding; LibreOffice lays text over the whole stored width (xlsxwriter stores w + 5 px, ≈ w + 0.71),
so one label may break "三、本/年度办/理结果" in Excel and "三、本年/度办理结/果" in LibreOffice.
A label must not orphan in either. Wrapping is greedy character by character (both programs break
CJK text anywhere)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, MutableMapping

CJK_UNITS, OTHER_UNITS = 2.0, 1.0
PADDING = 1.0  # column units an Excel cell keeps free of text
ROOMS = (-PADDING, 5 / 7)  # room for text = width + this: Excel, LibreOffice
STEP = 0.5  # widths move in half units
MAX_ROUNDS = 200


def char_units(ch: str, size: float) -> float:
    return (CJK_UNITS if unicodedata.east_asian_width(ch) in "WF" else OTHER_UNITS) * size / 11


def wrap(text: str, size: float, width: float, room: float = -PADDING) -> list[str]:
    """The lines `text` wraps into in a cell `width` units wide (explicit newlines kept), with
    `width + room` units for the text (Excel by default)."""
    avail = max(width + room, 0.01)
    lines: list[str] = []
    for part in text.split("\n"):
        line, used = "", 0.0
        for ch in part:
            w = char_units(ch, size)
            if line and used + w > avail:
                lines.append(line)
                line, used = "", 0.0
            line += ch
            used += w
        lines.append(line)
    return lines


def orphaned(text: str, size: float, width: float) -> bool:
    """Whether `text` wraps onto more than one line with a single character on the last, in
    Excel or in LibreOffice."""
    for room in ROOMS:
        lines = wrap(text, size, width, room)
        if len(lines) > 1 and len(lines[-1].strip()) < 2:
            return True
    return False


def effective(width: float) -> float:
    """The width a workbook really gets for `width`: whole pixels of 7 per unit (xlsxwriter
    writes int(w * 7 + 0.5) px plus 5 px of padding)."""
    return int(width * 7 + 0.5) / 7


def widen_for_orphans(cells: Iterable, widths: MutableMapping[int, float], size: float) -> None:
    """Widen the last column a label spans, half a unit at a time, until no label (cell objects
    with .text, .col, .colspan) leaves a single character on its last line. Widening only adds
    room, so it ends at the latest when every label fits on one line."""
    cells = list(cells)
    for _ in range(MAX_ROUNDS):
        bad = [c for c in cells
               if orphaned(c.text, size, sum(effective(widths[k]) for k in range(c.col, c.col + c.colspan)))]
        if not bad:
            return
        for col in {c.col + c.colspan - 1 for c in bad}:
            widths[col] += STEP
