"""The formula text the reader understands: the cells a simple additive formula sums (to tell a
computed cell's formula from an edited one), a shared formula as it reads in each cell it covers,
and where a defined name points. Cell references are turned into rows and columns by format.spec.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from ..format.cells import A1_PATTERN, cell_index


class _FormulaSyntax(Exception):
    pass


_TOKEN_RE = re.compile(
    rf"\s*(?:(?P<ref>(?:(?:'(?:[^']|'')+'|[^\s'!:(),+\-*/^&=<>\"]+)!)?{A1_PATTERN}"
    rf"(?::{A1_PATTERN})?)|(?P<num>\d+(?:\.\d+)?)|(?P<func>[A-Z][A-Z0-9.]*)\(|(?P<op>[-+(),]))"
)
_MAX_RANGE_CELLS = 10000


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.strip()
    if text.startswith("="):
        text = text[1:]
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise _FormulaSyntax(text[pos:])
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


_QUOTED_RE = re.compile(r"('(?:[^']|'')*')|([^']+)")
_COLON_RE = re.compile(r"\s*:\s*")


def formula_terms(text: str, sheet: str) -> Counter | None:
    """The cells a simple additive formula sums, with their coefficients: Counter of
    (sheet, row, col) -> coefficient, plus (None, 0, 0) for a constant. None when the formula is
    anything else (a product, another function, a whole-column reference ...).

    Spaces, $ and letter case do not matter; sheet names are case-folded (Excel's are
    case-insensitive), so compare with keys made by `term_key`."""
    text = _QUOTED_RE.sub(lambda m: m.group(1) or _COLON_RE.sub(":", m.group(2).upper()), text)
    try:
        toks = _tokens(text)
        pos, terms = _expr(toks, 0, sheet.casefold())
    except (_FormulaSyntax, IndexError):
        return None
    if pos != len(toks):
        return None
    return Counter({k: v for k, v in terms.items() if v})


def term_key(sheet: str, row: int, col: int) -> tuple[str, int, int]:
    """The key formula_terms uses for a cell."""
    return sheet.casefold(), row, col


def _expr(toks, pos, sheet) -> tuple[int, Counter]:
    total: Counter = Counter()
    sign = 1
    expect_term = True
    while pos < len(toks):
        kind, text = toks[pos]
        if kind == "op" and text in "+-" and expect_term:
            sign = -sign if text == "-" else sign
            pos += 1
            continue
        if kind == "op" and text in "+-":
            sign = -1 if text == "-" else 1
            expect_term = True
            pos += 1
            continue
        if not expect_term:
            break
        if kind == "ref":
            for key in _expand(text, sheet):
                total[key] += sign
            pos += 1
        elif kind == "num":
            total[(None, 0, 0)] += sign * Decimal(text)
            pos += 1
        elif kind == "func":
            if text != "SUM":
                raise _FormulaSyntax(text)
            pos += 1
            while True:
                pos, inner = _expr(toks, pos, sheet)
                for k, v in inner.items():
                    total[k] += sign * v
                kind2, text2 = toks[pos]
                pos += 1
                if text2 == ")":
                    break
                if text2 != ",":
                    raise _FormulaSyntax(text2)
        elif kind == "op" and text == "(":
            pos, inner = _expr(toks, pos + 1, sheet)
            if toks[pos][1] != ")":
                raise _FormulaSyntax(toks[pos][1])
            pos += 1
            for k, v in inner.items():
                total[k] += sign * v
        else:
            break
        sign = 1
        expect_term = False
    if expect_term:
        raise _FormulaSyntax("missing term")
    return pos, total


def _expand(ref: str, sheet: str) -> Iterable[tuple[str, int, int]]:
    if "!" in ref:
        prefix, _, ref = ref.rpartition("!")
        sheet = (prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix).casefold()
    first, _, last = ref.partition(":")
    a = cell_index(first)
    b = cell_index(last) if last else a
    if a is None or b is None:
        raise _FormulaSyntax(ref)
    r0, r1 = sorted((a[0], b[0]))
    c0, c1 = sorted((a[1], b[1]))
    if (r1 - r0 + 1) * (c1 - c0 + 1) > _MAX_RANGE_CELLS:
        raise _FormulaSyntax(ref)
    return [(sheet, r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


_NAME_TARGET_RE = re.compile(rf"^=?(?:'((?:[^']|'')+)'|([^'!]+))!({A1_PATTERN})(?::{A1_PATTERN})?$")


@functools.lru_cache(maxsize=1 << 14)
def name_target(text: str) -> tuple[str, int, int] | None:
    """(sheet, row, col) of the first cell a defined name refers to ("'表三'!$C$5"), or None."""
    m = _NAME_TARGET_RE.match(text.strip())
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") if m.group(1) is not None else m.group(2)
    rc = cell_index(m.group(3))
    return (sheet, rc[0], rc[1]) if rc else None
