"""A published report reduced to lines and tokens, whatever it came from.

Every input kind (text, Word, web page, PDF) becomes a list of `Line`s in reading order. A line is
either plain text (cells unknown: words separated by spaces) or a row of delimited cells (a
Markdown pipe row, a table row of a Word file, a web page or a PDF grid). Tokens are what the
table finder works on: TEXT (a piece of a label), NUM (a number), NA ("/" and dashes printed for
"not applicable") and EMPTY (a delimited cell with nothing in it).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ...format.numbers import NumberError, parse_number
from .normalize import base_key

TEXT, NUM, NA, EMPTY = "text", "num", "na", "empty"

# how a figure is printed: digits (full width after NFKC), thousands separators, a decimal point;
# never in exponent form
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?", re.ASCII)
_NA_RE = re.compile(r"^(?:/|-+|—+|–+|－+|─+|\\)$")
_SEPARATOR_ROW_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PAGE_NUMBER_RE = re.compile(
    r"^\s*(?:[-—–－~]\s*\d{1,4}\s*[-—–－~]|第\s*\d{1,4}\s*页(?:\s*[,，]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})\s*$"
)
_LAYOUT_GAP_RE = re.compile(r"\S(?: {3,}|\t)\S")


@dataclass
class Line:
    text: str  # as printed (for narrative and titles)
    cells: list[str] | None = None  # delimited cells, or None for plain text
    origin: dict[str, Any] = field(default_factory=dict)  # {"line": 12} / {"page": 2, "line": 7} / {"table": 1, "row": 3}
    columns: list[int] | None = None  # grid column of each cell (structured sources)
    in_table: bool = False  # a row of a real table (Word, web page, PDF grid)
    # horizontal extent (x0, x1) of each whitespace-separated chunk of a plain line, where the
    # source has positions (PDF words in pt, pdftotext -layout in character columns)
    spans: list[tuple[float, float]] | None = None


@dataclass
class Token:
    kind: str
    raw: str
    line: int  # index into the document's lines
    cell: int | None = None  # index of the cell in a delimited line
    value: Any = None  # int or Decimal for NUM (None when `error`)
    key: str = ""  # comparison form for TEXT
    span: tuple[float, float] | None = None  # horizontal extent, where known
    error: NumberError | None = None  # a NUM printed beyond every bound (no value)

    def origin(self, lines: list[Line]) -> dict[str, Any]:
        line = lines[self.line]
        out = dict(line.origin)
        if self.cell is not None and line.columns is not None and self.cell < len(line.columns):
            out["column"] = line.columns[self.cell] + 1
        elif self.cell is not None and line.in_table:
            out["cell"] = self.cell + 1
        return out


def _printed(text: str) -> str | None:
    t = unicodedata.normalize("NFKC", text).strip()
    return t if _NUMBER_RE.fullmatch(t) else None


def is_number(text: str) -> bool:
    """Whether a text is printed as a number (whatever its size)."""
    return _printed(text) is not None


def number(text: str) -> int | Decimal | None:
    """A printed number (full-width digits and thousands separators accepted), else None. Its
    value is built by the bounded parser every input goes through (format/numbers.py): a number
    beyond those bounds (more than 30 significant digits, 10^30 or more) raises NumberError."""
    t = _printed(text)
    if t is None:
        return None
    d = parse_number(t.replace(",", ""))
    return int(d) if "." not in t else d


def is_not_applicable(text: str) -> bool:
    return bool(_NA_RE.match(unicodedata.normalize("NFKC", text).strip()))


def classify(text: str, line: int, cell: int | None) -> Token:
    s = text.strip()
    if not s:
        return Token(EMPTY, "", line, cell)
    try:
        v = number(s)
    except NumberError as e:
        return Token(NUM, s, line, cell, error=e)
    if v is not None:
        return Token(NUM, s, line, cell, value=v)
    if is_not_applicable(s):
        return Token(NA, s, line, cell)
    return Token(TEXT, s, line, cell, key=base_key(s))


def split_pipes(text: str) -> list[str] | None:
    """The cells of a Markdown-style row ("| a | b |", "a | b", "规章 |", "|||"), or None."""
    s = text.strip()
    if "|" not in s:
        return None
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in s.split("|")]


def tokens_of(lines: list[Line]) -> list[Token]:
    out: list[Token] = []
    for i, line in enumerate(lines):
        if line.cells is not None:
            for j, cell in enumerate(line.cells):
                out.append(classify(cell, i, j))
        else:
            chunks = line.text.split()
            spans = line.spans if line.spans is not None and len(line.spans) == len(chunks) else None
            for n, chunk in enumerate(chunks):
                tok = classify(chunk, i, None)
                if tok.kind != EMPTY:
                    tok.span = spans[n] if spans else None
                    out.append(tok)
    return out


def display_spans(raw: str) -> list[tuple[float, float]]:
    """(start, end) display column of each whitespace-separated chunk (CJK characters are two
    columns wide, as pdftotext -layout and a fixed-width editor align them)."""
    out = []
    col = 0.0
    start = None
    for ch in raw.expandtabs(8):
        w = 2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0
        if ch.isspace():
            if start is not None:
                out.append((start, col))
                start = None
        elif start is None:
            start = col
        col += w
    if start is not None:
        out.append((start, col))
    return out


def is_page_furniture(text: str) -> bool:
    """A page number line ("— 3 —", "第 3 页 共 9 页", "3/9")."""
    return bool(_PAGE_NUMBER_RE.match(text))


def text_lines(text: str) -> tuple[list[Line], str]:
    """Lines of a plain or Markdown text, and the text style seen:
    "pipes" (one table row per line, cells between |), "pipe-cells" (one cell per line ending in |),
    "layout" (cells padded with runs of spaces, as pdftotext -layout prints them) or "plain"."""
    lines: list[Line] = []
    styles: Counter[str] = Counter()
    for n, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        raw = raw.replace("\f", "").rstrip()
        if not raw.strip() or is_page_furniture(raw) or raw.lstrip().startswith("mailto:"):
            continue
        if _SEPARATOR_ROW_RE.match(raw):
            styles["pipes"] += 1
            continue
        cells = split_pipes(raw)
        if cells is not None:
            styles["pipes" if len(cells) > 1 else "pipe-cells"] += 1
            lines.append(Line(text=" ".join(c for c in cells if c), cells=cells, origin={"line": n}))
            continue
        if _LAYOUT_GAP_RE.search(raw):
            styles["layout"] += 1
        lines.append(Line(text=raw.strip(), origin={"line": n}, spans=display_spans(raw)))
    style = "plain"
    if styles["pipes"] >= 5 and styles["pipes"] >= styles["pipe-cells"]:
        style = "pipes"
    elif styles["pipe-cells"] >= 5:
        style = "pipe-cells"
    elif styles["layout"] >= 10:
        style = "layout"
    return lines, style
