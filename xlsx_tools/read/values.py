"""What a cell holds, as the report needs it: an input figure (a number of the field's type, or a
finding saying why not: blank, text, a date, a formula, out of bounds ...), and the text of the
基本信息 and 文字部分 cells.

Finding codes: BLANK (error; warning with blank_as_zero), NOT_A_NUMBER, NEGATIVE, NUMBER_TOO_LARGE,
NOT_INTEGER, TOO_MANY_DECIMALS, TOO_MANY_DIGITS (errors), TEXT_NUMBER, INPUT_FORMULA (warnings).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from ..checks import BLANK_TAIL, domain_problem, number_problem, too_large, value_finding
from ..format.cells import a1
from ..format.grid import Field
from ..format.numbers import Number, NumberError, cell_number, fmt_number, text_number
from ..format.numbers import shown as clipped
from ..format.spec import FormatSpec
from ..model.findings import ERROR, WARNING, Finding
from ..model.report import narrative_from_parts
from ..util.memo import table_for
from .layout import Layout, layout, sheet_runs
from .parts import NOT_TEXT, Cell, cell_numbers, cell_texts
from .workbook import Workbook

_TEXT_KINDS = ("s", "str", "inlineStr")


def exact(raw: str) -> Decimal | None:
    """A number as written in the cell XML, kept exact (binary noise beyond Excel's 15 digits
    dropped); None when it is not a number or out of every bound (numbers.py)."""
    return _plain_number(raw)


def parse_text_number(text: str) -> Decimal | None:
    """numbers.text_number, None for a number out of bounds as well."""
    try:
        return text_number(text)
    except NumberError:
        return None


def excel_date(serial: Decimal) -> str:
    try:
        day = datetime(1899, 12, 30) + timedelta(days=float(serial))
    except (OverflowError, ValueError):
        return fmt_number(serial)
    return f"{day.year}年{day.month}月{day.day}日"


def cell_text(cell: Cell | None, date_styles: set[int]) -> str:
    """What a text cell (基本信息, 文字部分, identity) says, as text."""
    if cell is None or cell.value is None:
        return ""
    if cell.kind in ("s", "str", "inlineStr", "d", "e"):
        return cell.value
    if cell.kind == "b":
        return "TRUE" if cell.value == "1" else "FALSE"
    d = exact(cell.value)
    if d is None:
        return cell.value
    if cell.style in date_styles:
        return excel_date(d)
    return fmt_number(d)


# ---------------------------------------------------------------------------------------------
# Input figures

Bad = Callable[..., None]  # bad(code, message tail, raw, severity=ERROR, **values): records a finding


def input_values(wb: Workbook, spec: FormatSpec,
                 locate: Mapping[str, tuple[str, int, int] | None]) -> dict[str, Number | None]:
    """Every input field's figure (None where it cannot be read; the findings say why)."""
    at_once = _at_once(wb, layout(spec), locate)
    if at_once is not None:
        return at_once
    values: dict[str, Number | None] = {}
    found = []
    cells_of: dict[str, Mapping | None] = {}  # sheet -> its cells (None: no such sheet)
    unreliable = wb.unreliable
    for f, fid, name, known in _inputs(layout(spec)):
        loc = locate.get(name)
        if loc is None or loc[0] in unreliable:
            values[fid] = None  # already reported: sheet missing, cell deleted, rows shifted
            continue
        sheet_name, r, c = loc
        if sheet_name in cells_of:
            cells = cells_of[sheet_name]
        else:
            sheet = wb.sheet(sheet_name)
            cells = cells_of[sheet_name] = sheet.cells if sheet is not None else None
        found.append((f, fid, known, cells.get((r, c)) if cells is not None else None, sheet_name, r, c))
    # a number shown as a date (typed "2021/3/5") is told by its cell format: styles are read
    # only when some input cell holds a number
    numeric = any(cell is not None and cell.kind == "n" and cell.value is not None for *_, cell, _, _, _ in found)
    date_styles = wb.date_styles if numeric else set()
    for f, fid, known, cell, sheet_name, r, c in found:
        if cell is not None and cell.kind == "n" and cell.formula is None and cell.value is not None \
                and cell.style not in date_styles:  # the usual case: a number typed in (cell_value's first step)
            v = _typed(f, cell.value, known)
            if v is not None:
                values[fid] = v
                continue
        values[fid] = cell_value(f, cell, sheet_name, r, c, date_styles, wb.findings, wb.blank_as_zero)
    return values


def _at_once(wb: Workbook, idx: Layout, locate: Mapping[str, tuple[str, int, int] | None]) -> dict | None:
    """input_values where every input cell is where the template put it, on a sheet read whole,
    and holds a number typed in that its field takes as it is (without a word): the figures,
    found sheet by sheet without making the cells; None otherwise (then cell by cell)."""
    plan = _plan(idx)
    if plan is None or wb.unreliable or list(map(locate.get, plan[0])) != plan[1]:
        return None
    figures: list = []
    styles: set[int] = set()
    for sheet_name, keys, fields, known in plan[3]:
        sheet = wb.sheet(sheet_name)
        found = cell_numbers(sheet.cells, keys) if sheet is not None else None
        if found is None:
            return None
        texts, used = found
        figs = list(map(dict.get, known, texts))  # _typed's table: the figure, or None (unknown or not taken)
        if None in figs:
            for i, fig in enumerate(figs):
                if fig is None:
                    if texts[i] is NOT_TEXT or (fig := _typed(fields[i], texts[i], known[i])) is None:
                        return None
                    figs[i] = fig
        figures += figs
        styles |= used
    date_styles = wb.date_styles if figures else set()  # (as input_values: read when a cell holds a number)
    if not date_styles.isdisjoint(styles):
        return None
    return dict(zip(plan[2], figures, strict=True))


_AT_ONCE = object()  # the key of _plan's entry in a layout's memo


def _plan(idx: Layout) -> tuple | None:
    """For _at_once: (the inputs' defined names, where the template puts them, their ids, and per
    run of inputs on one sheet (sheet, cells, fields, _TYPED's tables)); None for a layout whose
    names do not each name one cell. Kept in the layout's memo."""
    return idx.kept(_AT_ONCE, _build_plan)


def _build_plan(idx: Layout) -> tuple | None:
    if idx.where is None:
        return None
    inputs = _inputs(idx)
    names = [name for _, _, name, _ in inputs]
    cells = [idx.where[name] for name in names]
    runs = sheet_runs((sheet, (r, c), f, known) for (sheet, r, c), (f, _, _, known) in zip(cells, inputs, strict=True))
    return names, cells, tuple(fid for _, fid, _, _ in inputs), runs


_INPUTS = object()  # the key of _inputs' entry in a layout's memo


def _inputs(idx: Layout) -> tuple:
    """(Field, its id, its defined name, _TYPED's table for its type) of every input field, kept
    in the layout's memo."""
    return idx.kept(_INPUTS, lambda idx: tuple((f, f.id, name, table_for(_TYPED, f.type)) for f, name in idx.inputs))


# id of a ValueType -> (the type, {a numeric cell's XML text: the figure it gives a field of that
# type without a word, or None}): the same few texts in every file
_TYPED: dict[int, tuple[object, dict[str, Number | None]]] = {}


def _typed(f: Field, raw: str, known: dict[str, Number | None]) -> Number | None:
    """The figure a plain numeric cell holding `raw` gives field `f` when it fits the field's
    type (_in_domain of _plain_number), else None; `known` is _TYPED's table for f's type."""
    if raw in known:
        return known[raw]
    if len(known) > 1 << 16:
        known.clear()
    d = _plain_number(raw)
    v = known[raw] = _in_domain(f, d) if d is not None else None
    return v


def cell_value(f: Field, cell: Cell | None, sheet: str, r: int, c: int, date_styles: set[int],
               findings: list[Finding], blank_as_zero: bool = False) -> Number | None:
    """The figure of input field `f` from its cell, or None with a finding in `findings`."""
    kind = cell.kind if cell is not None else "n"
    raw = cell.value if cell is not None else None
    if kind == "n" and raw is not None and cell.formula is None:  # the usual case: a number typed in
        d = _plain_number(raw)
        if d is not None and cell.style not in date_styles:
            v = _in_domain(f, d)
            if v is not None:
                return v

    def bad(code: str, tail: str, raw, severity: str = ERROR, **extra) -> None:
        findings.append(value_finding(code, severity, f, tail, raw, sheet=sheet, cell=a1(r, c), row=r, col=c, **extra))

    if cell is not None and cell.formula:
        return _formula_value(f, cell, bad)
    if raw is None or (kind in _TEXT_KINDS and not raw.strip()):
        if blank_as_zero:
            bad("BLANK", "没有填写，已按 0 处理（--blank-as-zero）。请确认该项确实为 0，并在表中填 0。", None, severity=WARNING)
            return Decimal(0) if f.type.kind == "decimal" else 0
        bad("BLANK", BLANK_TAIL, None)
        return None
    if kind in _TEXT_KINDS:
        return _text_value(f, raw, bad)
    if kind == "b":
        shown = "TRUE" if raw == "1" else "FALSE"
        bad("NOT_A_NUMBER", f"填写了逻辑值“{shown}”，请改为数字（没有的填 0）。", shown)
        return None
    if kind == "e":
        bad("NOT_A_NUMBER", f"显示错误值“{raw}”，请改为数字（没有的填 0）。", raw)
        return None
    if kind == "d":
        bad("NOT_A_NUMBER", f"填写的是日期（{raw}），请改为数字（没有的填 0）。", raw)
        return None
    d = _number(f, raw, bad, lambda e: (f"的内容“{e.shown}”不是数字，请改为数字（没有的填 0）。", e.shown))
    if d is None:
        return None
    if cell is not None and cell.style in date_styles:
        bad("NOT_A_NUMBER", f"填写的是日期（{excel_date(d)}），请改为数字（没有的填 0）。", raw)
        return None
    return _checked(f, d, bad, raw)


@functools.lru_cache(maxsize=1 << 16)
def _plain_number(raw: str) -> Decimal | None:
    """cell_number of a cell's XML text, None where it raises (then cell_value says why)."""
    try:
        return cell_number(raw)
    except NumberError:
        return None


def _in_domain(f: Field, d: Decimal) -> Number | None:
    """The figure `d` gives field `f` when it fits the field's type without a word, else None."""
    if domain_problem(f, d) is not None:
        return None
    return int(d) if f.type.kind == "integer" else d


def _number(f: Field, raw: str, bad: Bad, syntax: Callable[[NumberError], tuple[str, str]]) -> Decimal | None:
    """The number a numeric cell's XML holds, or None with a finding: `syntax` gives the
    message tail and the value shown when it is not a number at all."""
    try:
        return cell_number(raw)
    except NumberError as e:
        if e.kind == "syntax":
            bad("NOT_A_NUMBER", *syntax(e))
        else:
            bad(*number_problem(f, e), e.shown)
        return None


def _formula_value(f: Field, cell: Cell, bad: Bad) -> Number | None:
    """An input cell holding a formula: its cached result, with a warning, when it is a number."""
    raw = cell.value
    if raw is None or cell.kind != "n":
        shown = raw if raw is not None else ""
        bad("NOT_A_NUMBER", f"填写的是公式“={cell.formula}”{('，结果为“' + shown + '”') if shown else '，文件中没有计算结果'}，"
            "请直接填写数字（没有的填 0）。", cell.formula)
        return None
    d = _number(f, raw, bad, lambda e: (f"填写的公式“={cell.formula}”没有得到数字，请直接填写数字。", cell.formula))
    if d is None:
        return None
    bad("INPUT_FORMULA", f"填写的是公式“={cell.formula}”，已按其结果 {fmt_number(d)} 读取；请直接填写数字。",
        cell.formula, severity=WARNING, parsed=d)
    return _checked(f, d, bad)


def _text_value(f: Field, raw: str, bad: Bad) -> Number | None:
    """An input cell holding text: the number it spells, with a warning, when it spells one."""
    try:
        d = text_number(raw)
    except NumberError as e:
        bad(*number_problem(f, e), e.shown)
        return None
    if d is None:
        bad("NOT_A_NUMBER", f"填写了“{raw.strip()}”，请改为数字（没有的填 0）。", raw)
        return None
    bad("TEXT_NUMBER", f"填写的“{raw}”是文本格式的数字，已按 {fmt_number(d)} 读取。请删除空格、全角字符或千位分隔符，直接输入数字。",
        raw, severity=WARNING, parsed=d)
    return _checked(f, d, bad, raw)


def _checked(f: Field, d: Decimal, bad: Bad, raw: str | None = None) -> Number | None:
    problem = domain_problem(f, d)
    if problem and problem[0] == "NUMBER_TOO_LARGE" and raw:
        problem = too_large(f, clipped(raw))  # as written ("1E+30", 17 digits), not as read
    if problem:
        bad(problem[0], problem[1], d)
        return None
    if f.type.kind == "integer":
        return int(d)
    return d


# ---------------------------------------------------------------------------------------------
# Text cells


def texts_of(cells: Mapping, keys: list[tuple[int, int]]) -> list[str]:
    """cell_text(cells.get(key), set()) of each key: a plain sheet's text cells at once
    (parts.cell_texts), any other cell one by one."""
    quick = cell_texts(cells, keys)
    if quick is None:
        return [cell_text(cells.get(key), set()) for key in keys]
    return [cell_text(cells.get(key), set()) if text is NOT_TEXT else text or ""
            for key, text in zip(keys, quick, strict=True)]


def _texts_at(wb: Workbook, items: list[tuple[str, str, int, int]]) -> list[str]:
    """The text of each (defined name, spec sheet, row, col): the cell the name points to when it
    points into the sheet that holds the spec sheet, else the cell at (row, col); a number as
    shown (a date as a date); stripped. "" where the sheet is missing."""
    out = [""] * len(items)
    where: dict[str, tuple[list[int], list[tuple[int, int]]]] = {}  # the workbook's sheet -> (items, cells)
    for i, (name, locate_sheet, row, col) in enumerate(items):
        actual = wb.sheet_map.get(locate_sheet)
        if actual is None:
            continue
        tgt = wb.targets.get(name)
        if tgt and tgt[0] == actual:
            row, col = tgt[1], tgt[2]
        if actual not in where:
            where[actual] = ([], [])
            wb.sheet(actual)  # (read in the order the items first name them)
        where[actual][0].append(i)
        where[actual][1].append((row, col))
    for actual, (indexes, keys) in where.items():
        sheet = wb.sheet(actual)
        if sheet is None:
            continue
        cells = sheet.cells
        for i, key, text in zip(indexes, keys, cell_texts(cells, keys) or [NOT_TEXT] * len(keys), strict=True):
            if text is NOT_TEXT:  # (not a text cell of the usual shape: made and looked at)
                cell = cells.get(key)
                numeric = cell is not None and cell.kind == "n" and cell.value is not None
                text = cell_text(cell, wb.date_styles if numeric else set())
            out[i] = (text or "").strip()
    return out


def contact(wb: Workbook, spec: FormatSpec) -> dict[str, str]:
    """The 基本信息 inputs (contact details); the locked identity cells come from the meta data."""
    fields = [f for f in spec.info_fields if not f.locked]
    texts = _texts_at(wb, [(f.name, f.sheet, f.row, f.col) for f in fields])
    return {f.key: text for f, text in zip(fields, texts, strict=True)}


def narrative(wb: Workbook, spec: FormatSpec) -> dict[str, str]:
    """The 文字部分 sections."""
    texts = _texts_at(wb, [(p.name, p.sheet, p.row, p.col) for p in spec.narrative_parts])
    parts = {f"{p.section}.{p.key}": text for p, text in zip(spec.narrative_parts, texts, strict=True)}
    return narrative_from_parts(spec, parts)
