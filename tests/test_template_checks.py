"""The template's live check area, in the generated file: each ✓/✗ sits on the row or under the
column it checks, a blank template says 未填写, and the input cells of a failing rule are
highlighted by conditional formatting. (The same in real LibreOffice: test_template_libreoffice.)"""

from __future__ import annotations

import random

import openpyxl
import pytest

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.cells import a1, col_letter
from xlsx_tools.format.spec import load_format
from xlsx_tools.write.layout import check_cells
from xlsx_tools.write.template import write_template
from xlsx_tools.write.template_checks import HIGHLIGHT, MARK_BAD, MARK_BLANK, MARK_OK, plan_checks


@pytest.fixture(scope="module")
def spec():
    return load_format()


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    path = tmp_path_factory.mktemp("chk") / "blank.xlsx"
    write_template(path, agency="某局", year=2025, password="pw")
    return openpyxl.load_workbook(path)


def rules_on(spec, sheet):
    return [r for r in spec.rules if not r.cross_year and spec.field(r.fields[0]).sheet == sheet]


def test_every_rule_has_one_mark_in_rule_order(spec):
    areas = check_cells(spec)
    for t in spec.tables:
        assert [e for _, e in areas[t.sheet]] == [r.expr for r in rules_on(spec, t.sheet)]
        assert len({c for c, _ in areas[t.sheet]}) == len(areas[t.sheet])  # no two on one cell


def test_row_rules_sit_on_their_row(spec, blank):
    """表三 总计 = 各类申请人之和 on each row (the mark of 一、本年新收 on row 4, not 2 as before),
    表二's 现行有效件数 rule on rows 3 and 4."""
    for t in spec.tables:
        check_col = t.origin_col + t.grid_columns + 1
        ws = blank[t.sheet]
        for cell, expr in check_cells(spec)[t.sheet]:
            rule = next(r for r in spec.rules if r.expr == expr)
            if rule.code not in ("T3_ROW_TOTAL", "T2_STOCK_PLAUSIBLE"):
                continue
            rows = {spec.field(f).row for f in rule.fields}
            assert cell == a1(rows.pop(), check_col), (cell, expr)
            text = ws.cell(row=ws[cell].row, column=check_col + 2).value
            assert text.startswith(rule.title) and rule.label in text
    cells = dict((e, c) for c, e in check_cells(spec)["表三"])
    received = next(r for r in spec.rules if r.code == "T3_ROW_TOTAL" and r.label.startswith("一、"))
    assert cells[received.expr] == "L4"
    assert blank["表三"]["A4"].value == received.label


@pytest.mark.parametrize("code, sheet, row", [("T3_RESULTS_TOTAL", "表三", 29), ("T3_BALANCE", "表三", 30),
                                              ("T4_TOTAL", "表四", 5)])
def test_column_rules_sit_under_their_column(spec, blank, code, sheet, row):
    cells = dict((e, c) for c, e in check_cells(spec)[sheet])
    t = next(t for t in spec.tables if t.sheet == sheet)
    assert row == t.origin_row + t.grid_rows + 1 + (1 if code == "T3_BALANCE" else 0)  # just below the table
    for rule in (r for r in spec.rules if r.code == code):
        total = spec.field(rule.left[0].field)  # the column's (group's) 总计 or (七)总计 / 第一项
        assert cells[rule.expr] == f"{col_letter(total.col)}{row}", rule.expr
    ws = blank[sheet]
    check_col = t.origin_col + t.grid_columns + 1
    title = next(r.title for r in spec.rules if r.code == code)
    assert ws.cell(row=row, column=check_col + 2).value.startswith(title)
    assert ws.cell(row=row, column=1).value == "检查"


def test_natural_person_balance_mark_is_under_column_d(spec):
    cells = dict((e, c) for c, e in check_cells(spec)["表三"])
    rule = next(r for r in spec.rules if r.code == "T3_BALANCE" and r.label == "自然人")
    assert cells[rule.expr] == "D30"
    assert spec.field("t3.received.natural_person").cell == "D4"


def test_a_blank_template_says_not_filled(spec, blank):
    for t in spec.tables:
        ws = blank[t.sheet]
        for cell, _ in check_cells(spec)[t.sheet]:
            formula = ws[cell].value
            assert formula.startswith("=IF(COUNTA(") and f'"{MARK_BLANK}"' in formula, cell
            assert f'"{MARK_OK}","{MARK_BAD}"' in formula


def test_cached_marks(tmp_path, spec):
    """What Excel shows before recalculating: 未填写 for a blank template; ✓/✗ as spec.compute
    says for a filled one; 未填写 on a row nobody filled while the rest is filled."""
    path = write_template(tmp_path / "b.xlsx", agency="某局", year=2025, password="pw").path
    wb = openpyxl.load_workbook(path, data_only=True)
    for sheet, cells in check_cells(spec).items():
        assert {wb[sheet][c].value for c, _ in cells} == {MARK_BLANK}, sheet

    report = samples.random_report(spec, random.Random(3), "某局", "", 2025).with_computed()
    report.figures["t3.received.natural_person"] += 1
    path = write_template(tmp_path / "f.xlsx", agency="某局", year=2025, password="pw", report=report).path
    wb = openpyxl.load_workbook(path, data_only=True)
    values = spec.compute(spec.input_values(report.figures))
    for sheet, cells in check_cells(spec).items():
        for cell, expr in cells:
            rule = next(r for r in spec.rules if r.expr == expr)
            assert wb[sheet][cell].value == (MARK_OK if rule.evaluate(values).ok else MARK_BAD), (sheet, cell)
    cells = dict((e, c) for c, e in check_cells(spec)["表三"])
    bad = next(r for r in spec.rules if r.code == "T3_BALANCE" and r.label == "自然人")
    assert wb["表三"][cells[bad.expr]].value == MARK_BAD


def test_failing_rules_highlight_their_inputs(spec, blank):
    """One conditional format per block of input cells: a cell of 表三 row 6–26 turns red when
    the mark of its row, its column's （七）总计 or its column's 勾稽关系 is ✗."""
    def cf_rules(ws):
        return {str(rng.sqref): [(r.type, r.formula) for r in rules]
                for rng, rules in ws.conditional_formatting._cf_rules.items()}

    t3 = cf_rules(blank["表三"])
    assert t3["D4:I5"] == [("expression", ['OR(D$30="✗",$L4="✗")'])]
    assert t3["D6:I26"] == [("expression", ['OR(D$29="✗",D$30="✗",$L6="✗")'])]
    assert t3["D28:I28"] == [("expression", ['OR(D$30="✗",$L28="✗")'])]
    assert t3["L4:L28"] == [("cellIs", [f'"{MARK_OK}"']), ("cellIs", [f'"{MARK_BAD}"'])]
    assert t3["D29:J30"] == [("cellIs", [f'"{MARK_OK}"']), ("cellIs", [f'"{MARK_BAD}"'])]
    t4 = cf_rules(blank["表四"])
    assert t4["A4:D4"] == [("expression", ['$E$5="✗"'])]
    assert t4["K4:N4"] == [("expression", ['$O$5="✗"'])]
    assert cf_rules(blank["表二"])["B3:D4"] == [("expression", ['$F3="✗"'])]
    # every input of 表三 and 表四 is covered by exactly one highlight
    for t in spec.tables:
        if t.sheet == "表二":
            continue
        plan = plan_checks(spec, t)
        covered = [(r, c) for (r1, c1, r2, c2), _ in plan.highlights
                   for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        assert len(covered) == len(set(covered))
        assert {(f.row, f.col) for f in t.fields if f.input} <= set(covered)
    assert HIGHLIGHT["bg_color"] == "#FFC7CE"


def test_the_official_tables_are_untouched(spec, blank):
    """The check rows are outside the print area and add no merged cell."""
    for t in spec.tables:
        ws = blank[t.sheet]
        assert ws.print_area == f"'{t.sheet}'!$A$1:${col_letter(t.origin_col + t.grid_columns - 1)}${t.grid_rows}"
        assert {str(r) for r in ws.merged_cells.ranges} == set(t.merges)
