"""Small pieces of the spreadsheet format the reader needs: the one XML parser every part goes
through (defusedxml, streaming, bounded in elements), Excel's `_xHHHH_` escapes in strings and the
bounds on the work one workbook may cause (cells, rows, strings).

A filled template has about 300 cells per sheet and a few hundred strings; the bounds leave
hundreds of times that, and stop a file padded with millions of cells early (a clean TOO_LARGE
finding instead of gigabytes of memory and minutes of parsing).
"""

from __future__ import annotations

import io
import re

import defusedxml.ElementTree as DET

MAX_SHEET_CELLS = 200_000  # cells in one worksheet
MAX_SHEET_ROWS = 100_000  # <row> elements in one worksheet
MAX_BOOK_CELLS = 500_000  # cells of all worksheets read from one workbook together
MAX_STRINGS = 200_000  # entries of the shared string table
MAX_CELL_CHARS = 32_767  # characters in one cell: Excel's own limit
MAX_STYLES = 65_536  # numFmt or xf entries of styles.xml (Excel allows 64,000 cell formats)
MAX_PART_ELEMENTS = 2_000_000  # XML elements in one part (a filled template has a few thousand)


class TooMuchWork(Exception):
    """Parsing a part would go past a bound on the work per part (elements, cells, rows, strings);
    `why` is Chinese and names what and where, e.g. "工作表「表三」中的单元格超过 200000 个"."""

    def __init__(self, why: str, reason: str, limit: int):
        super().__init__(why)
        self.why = why
        self.reason = reason
        self.limit = limit


def iterparse(data: bytes, events: tuple[str, ...] = ("end",), max_elements: int | None = None):
    """defusedxml's streaming parser over bytes (entity declarations, DTD-based expansion and
    external references raise instead of being expanded), stopping (TooMuchWork) after
    `max_elements` events (MAX_PART_ELEMENTS by default): a part cannot make its reader work or
    hold without bound."""
    limit = MAX_PART_ELEMENTS if max_elements is None else max_elements
    for n, item in enumerate(DET.iterparse(io.BytesIO(data), events=events)):
        if n >= limit:
            raise TooMuchWork(f"XML 元素超过 {limit} 个", "elements", limit)
        yield item


_LOCAL: dict[str, str] = {}


def local(tag: str) -> str:
    """The local name of a namespaced tag (transitional and strict OOXML alike)."""
    try:
        return _LOCAL[tag]
    except KeyError:
        name = _LOCAL[tag] = tag.rpartition("}")[2]
        return name

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
