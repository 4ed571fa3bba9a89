"""The template's formulas and its live check area, derived from the format's rules.

Where a mark sits: a rule checked once per row of a table (表三 总计 = 各类申请人之和, 表二's
现行有效件数 rule) has its ✓/✗ in the check column right of the table, on the row it checks; a
rule checked once per column (表三 （七）总计, 勾稽关系) or once per group of columns on one row
(表四 总计) has its own check row below the table, with each mark under the column it checks
(the group's total). What a mark shows: "未填写" while none of the input cells the rule involves
is filled (a blank template is not "✓"), else ✓ or ✗. While a rule fails, the input cells it
involves on the checked row or column are highlighted by conditional formatting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..format.cells import a1, col_letter
from ..format.grid import Table
from ..format.numbers import Number
from ..format.rules import Rule, Term
from ..format.spec import FormatSpec

MARK_OK, MARK_BAD, MARK_BLANK = "✓", "✗", "未填写"
HIGHLIGHT = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}  # Excel's "light red fill"


@dataclass(frozen=True)
class Check:
    rule: Rule
    row: int  # the mark cell
    col: int
    formula: str
    text: str  # the rule's title (and what the placeholder is bound to)
    inputs: tuple[str, ...]  # every input field the rule depends on (for "未填写")
    highlight: tuple[str, ...]  # input fields marked while the rule fails

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)

    def cached(self, inputs: Mapping[str, Number | None], values: Mapping[str, Number | None]) -> str:
        """What Excel shows before recalculating: `inputs` as entered (None = blank), `values`
        every field with blanks as 0."""
        if self.inputs and all(inputs.get(f) is None for f in self.inputs):
            return MARK_BLANK
        res = self.rule.evaluate(values)
        return MARK_OK if res is None or res.ok else MARK_BAD


@dataclass
class CheckArea:
    check_col: int  # the column of the row marks; its right neighbour holds their text
    checks: list[Check] = field(default_factory=list)
    check_rows: list[tuple[int, str]] = field(default_factory=list)  # (row below the table, title)
    highlights: list[tuple[tuple[int, int, int, int], str]] = field(default_factory=list)  # (range, formula)
    mark_rects: list[tuple[int, int, int, int]] = field(default_factory=list)  # the marks, as ranges


# --------------------------------------------------------------------------------------- formulas


def compact_ranges(cells: Iterable[tuple[int, int, int]]) -> list[str]:
    """A1 ranges covering the given (row, col, colspan) cells: runs along a row, then identical
    runs on consecutive rows merged into rectangles."""
    return [_range_text(r) for r in compact_rects(cells)]


def compact_rects(cells: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int, int]]:
    by_row: dict[int, list[tuple[int, int]]] = {}
    for row, col, span in sorted(set(cells)):
        runs = by_row.setdefault(row, [])
        if runs and runs[-1][1] + 1 == col:
            runs[-1] = (runs[-1][0], col + span - 1)
        else:
            runs.append((col, col + span - 1))
    rects: list[list[int]] = []  # [r1, c1, r2, c2]
    open_rects: dict[tuple[int, int], list[int]] = {}
    for row in sorted(by_row):
        nxt = {}
        for c1, c2 in by_row[row]:
            rect = open_rects.get((c1, c2))
            if rect is not None and rect[2] == row - 1:
                rect[2] = row
            else:
                rect = [row, c1, row, c2]
                rects.append(rect)
            nxt[(c1, c2)] = rect
        open_rects = nxt
    return [(r1, c1, r2, c2) for r1, c1, r2, c2 in rects]


def _range_text(rect: tuple[int, int, int, int]) -> str:
    r1, c1, r2, c2 = rect
    return a1(r1, c1) if (r1, c1) == (r2, c2) else f"{a1(r1, c1)}:{a1(r2, c2)}"


def _ref(spec: FormatSpec, field_id: str, sheet: str) -> str:
    f = spec.field(field_id)
    return a1(f.row, f.col) if f.sheet == sheet else f"'{f.sheet}'!{a1(f.row, f.col)}"


def side_formula(spec: FormatSpec, terms: Sequence[Term], sheet: str) -> str:
    """Excel text of one side of a rule: runs of adjacent cells become SUM(D6:D26)."""
    items: list[tuple[int, str]] = []  # (sign, text)
    run: list[tuple[str, int, int, int]] = []  # cells of the current run: (sheet, row, col, span)

    def flush() -> None:
        if not run:
            return
        s, r0, c0, _ = run[0]
        _, r1, c1, _ = run[-1]
        prefix = "" if s == sheet else f"'{s}'!"
        text = prefix + a1(r0, c0) if len(run) == 1 else f"{prefix}{a1(r0, c0)}:{a1(r1, c1)}"
        items.append((1, text if len(run) == 1 else f"SUM({text})"))
        run.clear()

    for t in terms:
        if t.field is None:
            flush()
            items.append((t.sign, str(t.constant)))
            continue
        f = spec.field(t.field)
        if t.sign < 0:
            flush()
            items.append((-1, _ref(spec, t.field, sheet)))
            continue
        if run:
            s, r, c, span = run[-1]
            direction = (run[-1][1] - run[0][1], run[-1][2] - run[0][2])
            along_row = f.sheet == s and f.row == r and f.col == c + span and direction[0] == 0
            along_col = f.sheet == s and f.col == c and f.row == r + 1 and direction[1] == 0
            if not (along_row or along_col):
                flush()
        run.append((f.sheet, f.row, f.col, f.colspan))
    flush()
    if all(sign > 0 for sign, _ in items) and len(items) > 1:
        parts = [text[4:-1] if text.startswith("SUM(") else text for _, text in items]
        return f"SUM({','.join(parts)})"
    out = ""
    for i, (sign, text) in enumerate(items):
        if sign < 0:
            out += f"-{text}"
        else:
            out += text if i == 0 else f"+{text}"
    return out or "0"


def _test(spec: FormatSpec, rule: Rule, sheet: str) -> str:
    left = side_formula(spec, rule.left, sheet)
    right = side_formula(spec, rule.right, sheet)
    decimals = [spec.field(f).type.decimals for f in rule.fields if spec.field(f).type.kind == "decimal"]
    if decimals:
        return f"ROUND({left}-({right}),{max(decimals) + 2}){rule.op}0"
    return f"{left}{rule.op}{right}"


def check_formula(spec: FormatSpec, rule: Rule, sheet: str, inputs: Sequence[str]) -> str:
    """未填写 while none of `inputs` holds anything; else ✓/✗ (text in a number cell: ✗)."""
    verdict = f'IFERROR(IF({_test(spec, rule, sheet)},"{MARK_OK}","{MARK_BAD}"),"{MARK_BAD}")'
    if not inputs:
        return "=" + verdict
    by_sheet: dict[str, list[tuple[int, int, int]]] = {}
    for fid in inputs:
        f = spec.field(fid)
        by_sheet.setdefault(f.sheet, []).append((f.row, f.col, f.colspan))
    ranges = []
    for s, cells in by_sheet.items():
        prefix = "" if s == sheet else f"'{s}'!"
        ranges += [prefix + r for r in compact_ranges(cells)]
    return f'=IF(COUNTA({",".join(ranges)})=0,"{MARK_BLANK}",{verdict})'


# ----------------------------------------------------------------------------------- placement


def _inputs(spec: FormatSpec, field_id: str, seen: set[str] | None = None) -> list[str]:
    """The input fields a field stands for: itself, or those its computing rule sums."""
    seen = set() if seen is None else seen
    if field_id in seen:
        return []
    seen.add(field_id)
    f = spec.field(field_id)
    if f.input:
        return [field_id]
    rule = spec.computing_rule(field_id)
    out: list[str] = []
    for t in rule.right if rule is not None else ():
        if t.field and not t.previous:
            out += _inputs(spec, t.field, seen)
    return out


def _involved(spec: FormatSpec, rule: Rule) -> tuple[list[str], list[str]]:
    """(direct input fields, input fields behind its computed fields)."""
    direct = [fid for fid in rule.fields if spec.field(fid).input]
    behind = [i for fid in rule.fields if not spec.field(fid).input for i in _inputs(spec, fid)]
    return direct, [i for i in dict.fromkeys(behind) if i not in direct]


def _group(rules: Iterable[Rule]) -> list[list[Rule]]:
    groups: dict[str, list[Rule]] = {}
    for r in rules:
        groups.setdefault(r.code, []).append(r)
    return list(groups.values())


def plan_checks(spec: FormatSpec, t: Table) -> CheckArea:
    check_col = t.origin_col + t.grid_columns + 1
    area = CheckArea(check_col=check_col)
    rules = [r for r in spec.rules
             if not r.cross_year and r.fields and spec.field(r.fields[0]).sheet == t.sheet
             and all(spec.has_field(fid) for fid in r.fields)]
    next_row = t.origin_row + t.grid_rows  # the first row below the table
    row_used: set[int] = set()
    for group in _group(rules):
        rows = [{spec.field(f).row for f in r.fields if spec.field(f).sheet == t.sheet} for r in group]
        by_row = all(len(rs) == 1 for rs in rows) and len({min(rs) for rs in rows}) == len(group) \
            and not row_used & {min(rs) for rs in rows}
        if by_row:
            for r, rs in zip(group, rows, strict=True):
                row = min(rs)
                row_used.add(row)
                area.checks.append(_check(spec, t, r, row, check_col, line=("row", row)))
            continue
        cols = [_column(spec, r) for r in group]
        if len(set(cols)) == len(group):
            area.check_rows.append((next_row, group[0].title))
            for r, col in zip(group, cols, strict=True):
                area.checks.append(_check(spec, t, r, next_row, col, line=("col", col)))
            next_row += 1
            continue
        for r in group:  # no line of its own: one row below the table each, mark in the check column
            area.check_rows.append((next_row, _text(r)))
            area.checks.append(_check(spec, t, r, next_row, check_col, line=None))
            next_row += 1
    area.checks.sort(key=lambda c: spec.rules.index(c.rule))
    area.highlights = _highlights(spec, t, area.checks)
    area.mark_rects = compact_rects((c.row, c.col, 1) for c in area.checks)
    return area


def _column(spec: FormatSpec, rule: Rule) -> int:
    """The column a rule checks: the one all its fields share, else its left-hand field's (a
    group's 总计)."""
    cols = {spec.field(f).col for f in rule.fields}
    return cols.pop() if len(cols) == 1 else spec.field(rule.left[0].field or rule.fields[0]).col


def _text(rule: Rule) -> str:
    return f"{rule.title}（{rule.label}）" if rule.label else rule.title


def _check(spec: FormatSpec, t: Table, rule: Rule, row: int, col: int, line) -> Check:
    direct, behind = _involved(spec, rule)
    if line is None:
        marked = direct + behind
    else:
        kind, where = line
        on_line = [i for i in behind if (spec.field(i).row if kind == "row" else spec.field(i).col) == where]
        marked = direct + on_line
    marked = [i for i in marked if spec.field(i).sheet == t.sheet]
    return Check(rule=rule, row=row, col=col, formula=check_formula(spec, rule, t.sheet, direct + behind),
                 text=_text(rule), inputs=tuple(direct + behind), highlight=tuple(marked))


def _highlights(spec: FormatSpec, t: Table, checks: Sequence[Check]) -> list[tuple[tuple[int, int, int, int], str]]:
    """Conditional formats for the input cells: one formula per rectangle of cells that depend
    on the same marks in the same way (the mark on their own row, the mark under their own
    column, or a fixed mark), written relative to the rectangle's top-left cell."""
    marks: dict[str, set[tuple]] = {}
    for c in checks:
        for fid in c.highlight:
            f = spec.field(fid)
            if c.row == f.row and c.col > f.col + f.colspan - 1 and c.row < t.origin_row + t.grid_rows:
                marks.setdefault(fid, set()).add(("row", c.col))
            elif c.col == f.col and c.row >= t.origin_row + t.grid_rows:
                marks.setdefault(fid, set()).add(("col", c.row))
            else:
                marks.setdefault(fid, set()).add(("abs", c.row, c.col))
    groups: dict[frozenset, list[tuple[int, int, int]]] = {}
    for fid, descr in marks.items():
        f = spec.field(fid)
        groups.setdefault(frozenset(descr), []).append((f.row, f.col, f.colspan))
    out = []
    for descr, cells in groups.items():
        for rect in compact_rects(cells):
            r0, c0 = rect[0], rect[1]
            refs = []
            for d in sorted(descr, key=str):
                if d[0] == "row":
                    refs.append(f"${col_letter(d[1])}{r0 + 1}")
                elif d[0] == "col":
                    refs.append(f"{col_letter(c0)}${d[1] + 1}")
                else:
                    refs.append(f"${col_letter(d[2])}${d[1] + 1}")
            tests = [f'{ref}="{MARK_BAD}"' for ref in refs]
            out.append((rect, "=" + (tests[0] if len(tests) == 1 else f"OR({','.join(tests)})")))
    return sorted(out)
