"""The computed cells of a returned workbook: each must still hold its formula (FORMULA_OVERWRITTEN),
that formula must still sum what the format's rule says (FORMULA_CHANGED), and the result the
file shows is compared with the one recomputed from the inputs (CACHED_MISMATCH, a warning: the
recomputed figure is the one used).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ..checks import field_where
from ..format.spec import Number, a1, fmt_number
from ..model.findings import ERROR, WARNING
from .formulas import formula_terms, term_key
from .layout import Layout
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
    spec = idx.spec
    field_cells = {term_key(*loc) for loc in locate.values() if loc is not None}
    for f in spec.computed_fields:
        rule = spec.computing_rule(f.id)
        loc = locate.get(f.name)
        if rule is None or loc is None:
            continue
        sheet_name, r, c = loc
        sheet = wb.sheet(sheet_name)
        if sheet is None or sheet_name in wb.unreliable:
            continue
        cell = sheet.cells.get((r, c))
        where = field_where(f, sheet_name, r, c)
        ref = f"{sheet_name}!{a1(r, c)}"
        expected = figures.get(f.id)
        should = f"（按本表数字应为 {fmt_number(expected)}）" if expected is not None else ""
        common = {"cells": (ref,), "fields": (f.id,), "labels": (where,), "title": rule.title, "expr": rule.expr}
        if cell is None or not cell.formula:
            raw = cell.value if cell is not None else None
            if raw is None or not str(raw).strip():
                wb.add("FORMULA_OVERWRITTEN", ERROR,
                       f"{where}是自动计算的单元格，其公式已被删除{should}。请恢复公式（使用原模板重新填写，或从原模板复制该单元格）。",
                       values={"value": None, "expected": expected}, **common)
            else:
                shown = cell_text(cell, set())
                wb.add("FORMULA_OVERWRITTEN", ERROR,
                       f"{where}是自动计算的单元格，公式被改成了固定内容“{shown}”{should}。请恢复公式（使用原模板重新填写，或从原模板复制该单元格）。",
                       values={"value": shown, "expected": expected}, **common)
            continue
        want: Counter = Counter()
        for t in rule.right:
            if t.field is None:
                want[(None, 0, 0)] += t.sign * t.constant
                continue
            tloc = locate.get(idx.field_names[t.field])
            if tloc is None:
                want = None
                break
            want[term_key(*tloc)] += t.sign
        if want is None:
            continue
        want = Counter({k: v for k, v in want.items() if v})
        got = formula_terms(cell.formula, sheet_name)
        if got is not None and got != want:
            got = _without_empty(wb, got, field_cells)
        if got != want:
            wb.add("FORMULA_CHANGED", ERROR,
                   f"{where}的公式被改成了“={cell.formula}”，应为「{rule.title}」{should}。请恢复原公式（使用原模板重新填写）。",
                   values={"formula": cell.formula, "expected": expected}, **common)
            continue
        if cell.value is None or expected is None:
            continue  # openpyxl-saved files carry no cached results: nothing to compare
        cached = exact(cell.value) if cell.kind == "n" else None
        if cached is not None and cached == expected:
            continue
        shown = fmt_number(cached) if cached is not None else cell.value
        wb.add("CACHED_MISMATCH", WARNING,
               f"{where}在文件中显示为 {shown}，但按表中填写的数字重新计算应为 {fmt_number(expected)}。"
               "可能文件保存前没有重新计算，或有数字以文本形式填写；本系统以重新计算的结果为准。",
               values={"cached": cached if cached is not None else cell.value, "recomputed": expected}, **common)
