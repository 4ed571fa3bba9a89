"""Property tests: random valid figures pass every check; changing any one input cell without
adjusting its totals is caught by an error rule that names that cell or one of its totals."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import reader_fixtures as fx
from xlsx_tools.checks import check_report
from xlsx_tools.cli.demo import samples
from xlsx_tools.read.reader import read_and_check

S = fx.spec()

# Inputs that some error rule involves. Table 二 has no totals, so no error rule can notice a
# changed figure there (only the plausibility warnings can).
ERROR_RULE_INPUTS = sorted({fid for r in S.rules if r.severity == "error" for fid in r.fields if S.field(fid).input})


def totals_of(fid: str) -> set[str]:
    """The computed fields that depend on a field, directly or through other totals."""
    out: set[str] = set()
    frontier = {fid}
    while frontier:
        nxt = set()
        for f in S.computed_fields:
            rule = S.computing_rule(f.id)
            if f.id not in out and any(t.field in frontier for t in rule.right):
                out.add(f.id)
                nxt.add(f.id)
        frontier = nxt
    return out


def valid_report(seed: int, busy: float):
    rep = fx.report()
    rep.figures = samples.random_figures(S, random.Random(seed), busy)
    return rep


def test_every_input_of_tables_three_and_four_is_in_an_error_rule():
    assert set(ERROR_RULE_INPUTS) == {f.id for f in S.input_fields if f.table in ("t3", "t4")}


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), busy=st.floats(0, 1))
def test_random_valid_figures_pass(seed, busy):
    assert check_report(valid_report(seed, busy)) == []


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), busy=st.floats(0, 1), fid=st.sampled_from(ERROR_RULE_INPUTS),
       delta=st.integers(-50, 50).filter(bool))
def test_one_changed_input_is_caught(seed, busy, fid, delta):
    rep = valid_report(seed, busy)
    if rep.figures[fid] + delta < 0:
        delta = -delta
    rep.figures[fid] += delta  # the totals are left as they were
    named = {fid} | totals_of(fid)
    errors = [f for f in check_report(rep) if f.is_error]
    assert any(named & set(f.fields) for f in errors), (fid, delta, [f.code for f in errors])
    cell = f"{S.field(fid).sheet}!{S.field(fid).cell}"
    assert any(cell in f.cells for f in errors)


T3_INPUTS = [fid for fid in ERROR_RULE_INPUTS if fid.startswith("t3.")]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), fid=st.sampled_from(T3_INPUTS), delta=st.integers(1, 30))
def test_one_changed_input_in_a_workbook_is_caught(seed, fid, delta):
    """In the workbook the totals are formulas and follow the change, so what catches it is the
    table-三 balance of its column (一 + 二 = 三（七）+ 四), which names the cell or its total."""
    rep = valid_report(seed, 0.5)
    rep.figures[fid] += delta
    rep.figures = S.compute(S.input_values(rep.figures))  # as Excel recalculates the totals
    with tempfile.TemporaryDirectory() as tmp:
        path = fx.write_filled(Path(tmp) / "changed.xlsx", rep)
        result = read_and_check(path)
    assert result.report.figures[fid] == rep.figures[fid]
    named = {fid} | totals_of(fid)
    errors = [f for f in result.findings if f.is_error]
    assert errors and all(f.code == "T3_BALANCE" for f in errors)
    assert any(named & set(f.fields) for f in errors)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), busy=st.floats(0, 1))
def test_random_valid_workbook_passes(seed, busy):
    with tempfile.TemporaryDirectory() as tmp:
        path = fx.write_filled(Path(tmp) / "valid.xlsx", valid_report(seed, busy))
        result = read_and_check(path)
    assert result.findings == []
