"""Small pieces of the spreadsheet format the reader needs: Excel's `_xHHHH_` escapes in strings
and the bounds on the work one workbook may cause (cells, rows, strings).

A filled template has about 300 cells per sheet and a few hundred strings; the bounds leave
hundreds of times that, and stop a file padded with millions of cells early (a clean TOO_LARGE
finding instead of gigabytes of memory and minutes of parsing).
"""

from __future__ import annotations

import re

MAX_SHEET_CELLS = 200_000  # cells in one worksheet
MAX_SHEET_ROWS = 100_000  # <row> elements in one worksheet
MAX_BOOK_CELLS = 500_000  # cells of all worksheets read from one workbook together
MAX_STRINGS = 200_000  # entries of the shared string table
MAX_CELL_CHARS = 32_767  # characters in one cell: Excel's own limit
MAX_STYLES = 65_536  # numFmt or xf entries of styles.xml (Excel allows 64,000 cell formats)

_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# C0 controls other than tab, line feed and carriage return cannot be written to XML again
# (our Word and Excel outputs): Excel shows them as nothing, so they are dropped.
_DROP = {i: None for i in range(32) if i not in (9, 10, 13)}


def _char(m: re.Match) -> str:
    return chr(int(m.group(1), 16))


def unescape(text: str) -> str:
    """A string as Excel shows it: `_xHHHH_` is the character U+HHHH (`_x000D_` a carriage
    return, `_x005F_` an underscore, so `_x005F_x000D_` is the literal text "_x000D_"). Line
    ends become "\\n"; escaped surrogate pairs are joined, a lone surrogate becomes U+FFFD."""
    if "_x" not in text:
        return text
    out = _ESCAPE_RE.sub(_char, text)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in out):
        out = out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return out.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP)
