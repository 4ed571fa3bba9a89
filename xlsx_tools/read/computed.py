"""The computed cells of a returned workbook: each must still hold its formula (FORMULA_OVERWRITTEN),
that formula must still sum what the format's rule says (FORMULA_CHANGED), and the result the
file shows is compared with the one recomputed from the inputs (CACHED_MISMATCH, a warning: the
recomputed figure is the one used).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping
from itertools import repeat
from operator import is_

from ..checks import field_where
from ..format.cells import a1
from ..format.numbers import Number, fmt_number
from ..model.findings import ERROR, WARNING
from .formulas import formula_terms, term_key
from .layout import Layout, sheet_runs
from .parts import NOT_TEXT, cell_formulas
from .structure import Location
from .values import cell_text, exact
from .workbook import Workbook


def _without_empty(wb: Workbook, terms: Counter, field_cells: set) -> Counter:
    """A formula's terms without the empty cells that hold no field: a row inserted inside a
    SUM range (by Excel, which moves the formulas along) adds nothing as long as it is empty."""
    out = Counter()
    for key, coef in terms.items():
        folded, r, c = key
        if key not in field_cells and folded is not None:
            sheet_name = next((n for n in wb.sheet_parts if n.casefold() == folded), None)
            sheet = wb.sheet(sheet_name) if sheet_name is not None else None
            cell = sheet.cells.get((r, c)) if sheet is not None else None
            if cell is None or (cell.value in (None, "") and not cell.formula):
                continue
        out[key] = coef
    return out


def check_formulas(wb: Workbook, idx: Layout, locate: Mapping[str, Location | None],
                   figures: Mapping[str, Number | None]) -> None:
    """Findings about every computed cell whose formula or shown result is not what it should be."""
    if _all_as_they_should_be(wb, idx, locate, figures):
        return
    field_cells = None  # the cells of every field, once a formula differs
    cells_of: dict[str, Mapping | None] = {}  # sheet -> its cells (None: no such sheet, or unreliable)
    for f, rule, right, name in idx.computed:
        loc = locate.get(name)
        if loc is None:
            continue
        sheet_name, r, c = loc
        if sheet_name in cells_of:
            cells = cells_of[sheet_name]
        else:
            sheet = wb.sheet(sheet_name)
            cells = cells_of[sheet_name] = None if sheet is None or sheet_name in wb.unreliable else sheet.cells
        if cells is None:
            continue
        cell = cells.get((r, c))
        expected = figures.get(f.id)
        if cell is None or not cell.formula:
            _overwritten(wb, f, rule, loc, cell, expected)
            continue
        want = _wanted(idx, f.id, rule, tuple(map(locate.get, right)))  # a constant's name is None: no location
        if want is None:
            continue
        got = _terms(cell.formula, sheet_name)
        # neither holds a zero: equal as dicts is equal as Counters (and much cheaper)
        if got is not None and dict.__eq__(got, want):
            got = want
        elif got is not None:
            if field_cells is None:
                field_cells = {term_key(*loc) for loc in locate.values() if loc is not None}
            got = _without_empty(wb, got, field_cells)
        if got is not want and got != want:
            wb.add("FORMULA_CHANGED", ERROR,
                   f"{_where(f, loc)}的公式被改成了“={cell.formula}”，应为「{rule.title}」{_should(expected)}。"
                   "请恢复原公式（使用原模板重新填写）。",
                   values={"formula": cell.formula, "expected": expected}, **_common(f, rule, loc))
            continue
        if cell.value is None or expected is None:
            continue  # openpyxl-saved files carry no cached results: nothing to compare
        cached = exact(cell.value) if cell.kind == "n" else None
        if cached is not None and cached == expected:
            continue
        shown = fmt_number(cached) if cached is not None else cell.value
        wb.add("CACHED_MISMATCH", WARNING,
               f"{_where(f, loc)}在文件中显示为 {shown}，但按表中填写的数字重新计算应为 {fmt_number(expected)}。"
               "可能文件保存前没有重新计算，或有数字以文本形式填写；本系统以重新计算的结果为准。",
               values={"cached": cached if cached is not None else cell.value, "recomputed": expected},
               **_common(f, rule, loc))


def _all_as_they_should_be(wb: Workbook, idx: Layout, locate: Mapping[str, Location | None],
                           figures: Mapping[str, Number | None]) -> bool:
    """Whether check_formulas certainly finds nothing, seen at once: every computed cell and every
    cell its rule sums where the template puts them, on sheets read whole, each computed cell a
    number cell holding the formula its rule gives (as formula_terms reads it) and a result equal
    to the figure recomputed. False otherwise (then cell by cell, which says what is wrong)."""
    plan = _plan(idx)
    if plan is None or list(map(locate.get, plan[0])) != plan[1]:
        return False  # (a sheet whose rows shifted is not looked at cell by cell: nothing to say there either)
    for sheet_name, keys, fids, wants in plan[2]:
        sheet = wb.sheet(sheet_name)
        found = cell_formulas(sheet.cells, keys) if sheet is not None else None
        if found is None or NOT_TEXT in found[0]:
            return False
        formulas, texts = found
        got = list(map(_terms, formulas, repeat(sheet_name)))
        if any(map(is_, got, repeat(None))) or not all(map(dict.__eq__, got, wants)):
            return False  # (None: a formula not understood)
        if list(map(exact, texts)) != list(map(figures.get, fids)):
            return False
    return True


_PLAN = object()  # the key of _plan's entry in a layout's memo


def _plan(idx: Layout) -> tuple | None:
    """For _all_as_they_should_be: (the defined names of the computed cells and of the cells their
    rules sum, where the template puts them, and per run of computed cells on one sheet (sheet,
    cells, field ids, the terms each formula must sum)); None for a layout where that cannot be
    said at once. Kept in the layout's memo."""
    return idx.kept(_PLAN, _build_plan)


def _build_plan(idx: Layout) -> tuple | None:
    where = idx.where
    if where is None:
        return None
    names: dict[str, None] = {}
    items = []
    for f, rule, right, name in idx.computed:
        want = _terms_at(rule, tuple(where[t] if t is not None else None for t in right))
        if want is None:
            return None
        names.update(dict.fromkeys(t for t in (name, *right) if t is not None))
        sheet, r, c = where[name]
        items.append((sheet, (r, c), f.id, want))
    return list(names), [where[name] for name in names], sheet_runs(items)


def _overwritten(wb: Workbook, f, rule, loc: Location, cell, expected: Number | None) -> None:
    """FORMULA_OVERWRITTEN: a computed cell without its formula (empty, or a value typed over it)."""
    raw = cell.value if cell is not None else None
    where, should = _where(f, loc), _should(expected)
    if raw is None or not str(raw).strip():
        wb.add("FORMULA_OVERWRITTEN", ERROR,
               f"{where}是自动计算的单元格，其公式已被删除{should}。请恢复公式（使用原模板重新填写，或从原模板复制该单元格）。",
               values={"value": None, "expected": expected}, **_common(f, rule, loc))
    else:
        shown = cell_text(cell, set())
        wb.add("FORMULA_OVERWRITTEN", ERROR,
               f"{where}是自动计算的单元格，公式被改成了固定内容“{shown}”{should}。请恢复公式（使用原模板重新填写，或从原模板复制该单元格）。",
               values={"value": shown, "expected": expected}, **_common(f, rule, loc))


def _where(f, loc: Location) -> str:
    return field_where(f, *loc)


def _should(expected: Number | None) -> str:
    return f"（按本表数字应为 {fmt_number(expected)}）" if expected is not None else ""


def _common(f, rule, loc: Location) -> dict:
    sheet_name, r, c = loc
    return {"cells": (f"{sheet_name}!{a1(r, c)}",), "fields": (f.id,), "labels": (_where(f, loc),),
            "title": rule.title, "expr": rule.expr}


def _wanted(idx: Layout, field_id: str, rule, locs: tuple[Location | None, ...]) -> Counter | None:
    """The terms a computed cell's formula must sum, its rule's terms found at `locs` (one per
    term; None for a constant); None when a term's cell cannot be found. Kept per layout (the
    same for nearly every file), never mutated."""
    key = (field_id, locs)
    memo = idx.memo
    if key not in memo:
        if len(memo) > 4096:
            memo.clear()
        memo[key] = _terms_at(rule, locs)
    return memo[key]


def _terms_at(rule, locs: tuple[Location | None, ...]) -> Counter | None:
    want: Counter = Counter()
    for t, tloc in zip(rule.right, locs, strict=True):
        if t.field is None:
            want[(None, 0, 0)] += t.sign * t.constant
            continue
        if tloc is None:
            return None
        want[term_key(*tloc)] += t.sign
    return Counter({k: v for k, v in want.items() if v})


@functools.lru_cache(maxsize=1 << 14)
def _terms(formula: str, sheet: str) -> Counter | None:
    """formula_terms, once per formula text (never mutated)."""
    return formula_terms(formula, sheet)
