"""The spec loader: rules expand as written, computed cells are derived from the rules, and a
second format (a province's variant) is a second file, not new code."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from xlsx_tools.cli.demo.samples import random_figures
from xlsx_tools.format.cells import a1, col_letter, parse_a1
from xlsx_tools.format.errors import FormatError
from xlsx_tools.format.numbers import fmt_number
from xlsx_tools.format.spec import available_formats, load_format, load_format_file, templates_dir


@pytest.fixture(scope="module")
def spec():
    return load_format()


def test_addresses_round_trip():
    for row, col in [(0, 0), (27, 9), (3, 14), (0, 25), (0, 26), (99, 701), (0, 702)]:
        assert parse_a1(a1(row, col)) == (row, col)
    assert col_letter(25) == "Z" and col_letter(26) == "AA" and parse_a1("$J$28") == (27, 9)


def test_format_is_found_and_listed():
    assert "gov-info-2021" in available_formats()
    assert (templates_dir() / "gov-info-2021.toml").is_file()
    with pytest.raises(FormatError, match="未找到报告格式文件"):
        load_format("no-such-format")


def test_rule_instances(spec):
    codes = [r.code for r in spec.rules]
    assert codes.count("T3_ROW_TOTAL") == 25  # one per row of table 三
    assert codes.count("T3_RESULTS_TOTAL") == 7  # one per column
    assert codes.count("T3_BALANCE") == 7
    assert codes.count("T4_TOTAL") == 3
    balance = next(r for r in spec.rules if r.code == "T3_BALANCE" and r.label == "自然人")
    assert balance.fields == (
        "t3.received.natural_person", "t3.carried_over.natural_person",
        "t3.results_total.natural_person", "t3.carry_forward.natural_person",
    )
    results = next(r for r in spec.rules if r.code == "T3_RESULTS_TOTAL" and r.label == "总计")
    # （七）总计 sums the 21 result rows (（一）（二） + 8 + 3 + 5 + 3)
    assert len(results.right) == 21
    assert results.target == "t3.results_total.total"


def test_every_rule_message_formats(spec):
    from xlsx_tools.format.rules import RuleResult

    for r in spec.rules:
        msg = r.message(RuleResult(5, 3, 2, False))
        assert "{" not in msg and r.label in msg


def test_evaluate_and_compute(spec):
    values = {f.id: 0 for f in spec.input_fields}
    values["t3.received.natural_person"] = 3
    values["t3.granted.natural_person"] = 2
    values["t3.carry_forward.natural_person"] = 1
    full = spec.compute(values)
    assert full["t3.received.total"] == 3
    assert full["t3.results_total.natural_person"] == 2
    assert full["t3.results_total.total"] == 2
    assert all(r.evaluate(full).ok for r in spec.rules if not r.cross_year)
    full["t3.carry_forward.natural_person"] = 0
    broken = [r.code for r in spec.rules if not r.cross_year and not r.evaluate(full).ok]
    assert "T3_BALANCE" in broken and "T3_ROW_TOTAL" in broken
    # a blank input leaves its totals unknown, and rules that need it are not evaluated
    values["t3.granted.natural_person"] = None
    assert spec.compute(values)["t3.results_total.natural_person"] is None


def test_cross_year_rules_need_previous(spec):
    r = next(r for r in spec.rules if r.code == "PREV_CARRY_OVER")
    assert r.cross_year and r.evaluate({"t3.carried_over.natural_person": 1}) is None
    res = r.evaluate({"t3.carried_over.natural_person": 1}, {"t3.carry_forward.natural_person": 2})
    assert (res.left, res.right, res.diff, res.ok) == (1, 2, -1, False)


def test_random_figures_satisfy_every_rule(spec):
    rng = random.Random(7)
    for _ in range(50):
        v = random_figures(spec, rng, busy=rng.random())
        assert all(r.evaluate(v).ok for r in spec.rules if not r.cross_year)


def test_fmt_number():
    assert fmt_number(Decimal("26.5500")) == "26.55"
    assert fmt_number(Decimal("0.0001")) == "0.0001"
    assert fmt_number(Decimal("3.000")) == "3"
    assert fmt_number(12) == "12" and fmt_number(None) == "（空）"


def _variant(tmp_path: Path) -> Path:
    """A province's variant: an extra row 其他对外管理服务事项 under 第二十条第（五）项."""
    text = (templates_dir() / "gov-info-2021.toml").read_text(encoding="utf-8")
    text = text.replace('id = "gov-info-2021"', 'id = "gov-info-2021-variant"', 1)
    text = text.replace(
        '  { key = "licensing", label = "行政许可" },',
        '  { key = "licensing", label = "行政许可" },\n  { key = "other_services", label = "其他对外管理服务事项" },',
    )
    path = tmp_path / "gov-info-2021-variant.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_second_format_is_a_second_file(tmp_path, spec):
    variant = load_format_file(_variant(tmp_path))
    assert variant.id == "gov-info-2021-variant"
    assert variant.fingerprint != spec.fingerprint
    t2 = variant.table("t2")
    assert t2.grid_rows == 15
    extra = variant.field("t2.item5.other_services.decisions")
    assert (extra.cell, extra.row_labels[-1]) == ("B8", "其他对外管理服务事项")
    # everything below moves down one row; table 三 is untouched
    assert variant.field("t2.item8.fees.amount").cell == "B15"
    assert variant.field("t3.received.natural_person").cell == spec.field("t3.received.natural_person").cell


@pytest.mark.parametrize(
    "change, message",
    [
        (('expr = "t3.{r}.total = ', 'expr = "t3.{r}.totl = '), "unknown field"),
        (('grid_columns = 10', 'grid_columns = 11'), "columns wide"),
        (('[format]', '[format'), "gov-info"),
    ],
)
def test_inconsistent_format_files_are_refused(tmp_path, change, message):
    text = (templates_dir() / "gov-info-2021.toml").read_text(encoding="utf-8").replace(*change, 1)
    path = tmp_path / "gov-info-bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError, match=message):
        load_format_file(path)
