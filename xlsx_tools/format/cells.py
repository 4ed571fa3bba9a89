"""Cell references: the one place in the package that turns (row, column) into "B3" and back.

Coordinates are 0-based (row 0, column 0 is A1). The reader, the writers and the checks all use
these functions; nothing else parses or prints an A1 reference.
"""

from __future__ import annotations

import functools
import re


def col_letter(col: int) -> str:
    """0-based column index -> Excel letters (0 -> A)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based (row, col) -> "B3"."""
    return f"{col_letter(col)}{row + 1}"


def a1_range(row: int, col: int, rowspan: int = 1, colspan: int = 1) -> str:
    first = a1(row, col)
    if rowspan == 1 and colspan == 1:
        return first
    return f"{first}:{a1(row + rowspan - 1, col + colspan - 1)}"


# One cell reference as Excel writes it ("B3", "$B$3"): the pattern formula parsers build on.
A1_PATTERN = r"\$?[A-Z]{1,3}\$?\d+"
_A1_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def parse_a1(ref: str) -> tuple[int, int]:
    """"B3" -> (2, 1), 0-based (spaces and lower case allowed); ValueError for anything else."""
    rc = cell_index(ref.strip().upper())
    if rc is None:
        raise ValueError(f"not an A1 reference: {ref!r}")
    return rc


@functools.lru_cache(maxsize=1 << 12)
def defined_name(kind: str, key: str) -> str:
    """Workbook-level defined name for an input cell (letters, digits and _ only, so that
    Excel, WPS and LibreOffice all accept it)."""
    return "xt_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{kind}_{key}" if kind else key)


def col_index(letters: str) -> int:
    """Excel column letters (upper case) -> 0-based index ("A" -> 0, "AA" -> 26)."""
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return col - 1


@functools.lru_cache(maxsize=1 << 16)
def cell_index(ref: str) -> tuple[int, int] | None:
    """"B3" or "$B$3" -> (2, 1), 0-based, exactly as written (upper case, no spaces); None when
    `ref` is not a cell reference (the reader's hot path)."""
    m = _A1_RE.match(ref)
    return None if m is None else (int(m.group(2)) - 1, col_index(m.group(1)))


# a cell reference inside a formula: not part of a name, a sheet-qualified name or a function call
FORMULA_REF_RE = re.compile(r"(?<![A-Za-z0-9_.\"])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![A-Za-z0-9_(])")


def shift_formula(formula: str, dr: int, dc: int) -> str:
    """A formula with its relative references moved dr rows and dc columns (a shared formula as it
    reads in a cell away from its master); a reference moved off the sheet becomes #REF!."""

    def move(m: re.Match) -> str:
        cabs, col, rabs, row = m.groups()
        c = col_index(col) + (0 if cabs else dc)
        r = int(row) - 1 + (0 if rabs else dr)
        if c < 0 or r < 0:
            return "#REF!"
        return f"{cabs}{col_letter(c)}{rabs}{r + 1}"

    return FORMULA_REF_RE.sub(move, formula)
