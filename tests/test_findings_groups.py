"""findings.condensed: the one grouping of many single-cell findings of one kind on one sheet,
shared by the console, the 问题通知 and 收集情况.xlsx「问题清单」."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from xlsx_tools.model.findings import ERROR, WARNING, Finding, condensed, group_cells, named_cells


def blank(cell: str, code: str = "BLANK", severity: str = ERROR) -> Finding:
    return Finding(code, severity, f"{cell} 没有填写。", cells=(cell,))


def test_many_of_one_kind_on_one_sheet_make_one_group_at_the_place_of_the_first():
    rule = Finding("T3_BALANCE", ERROR, "不平衡", cells=("表三!D4", "表三!D5"))
    items = [blank("表二!B3"), blank("表三!D4"), rule, blank("表三!E4"), blank("表二!C3"), blank("表三!F4"),
             blank("表三!G4", severity=WARNING), blank("表三!H4", code="NOT_A_NUMBER"), blank("表三!I4")]
    groups = condensed(items, 4)
    assert groups == [[items[0]], [items[1], items[3], items[5], items[8]], [rule], [items[4]], [items[6]], [items[7]]]
    assert group_cells(groups[1]) == ("表三", ["D4", "E4", "F4", "I4"])
    # fewer than `at` of a kind: each alone, in the order given
    assert condensed(items, 5) == [[f] for f in items]


def test_a_finding_of_several_cells_or_of_no_sheet_is_never_grouped():
    items = [Finding(code, ERROR, f"{code} {i}", cells=cells) for i in range(5)
             for code, cells in (("NARRATIVE_EMPTY", ("文字部分!B3", "文字部分!B4")), ("NOT_XLSX", ()), ("X", ("A1",)))]
    assert condensed(items, 2) == [[f] for f in items]


def test_named_cells_names_the_first_ones_and_the_count():
    assert named_cells(["D4", "E4", "F4"], 3) == "D4、E4、F4"
    assert named_cells(["D4", "E4", "F4"], 2, "，") == "D4，E4 等 3 处"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["BLANK", "NOT_A_NUMBER"]), st.sampled_from([ERROR, WARNING]),
                          st.sampled_from(["表二!B3", "表三!D4", "表四!A4", "表三!D4、表三!D5", ""])), max_size=40),
       st.integers(min_value=2, max_value=6))
def test_groups_partition_the_findings(raw, at):
    items = [Finding(code, sev, "m", cells=tuple(cells.split("、")) if cells else ()) for code, sev, cells in raw]
    groups = condensed(items, at)
    flat = [f for g in groups for f in g]
    assert sorted(map(id, flat)) == sorted(map(id, items))  # every finding exactly once
    assert [g[0] for g in groups] == [f for f in items if any(f is g[0] for g in groups)]  # first-seen order
    for g in groups:
        if len(g) > 1:
            assert len(g) >= at and len({(f.code, f.severity, f.cells[0].split("!")[0]) for f in g}) == 1
            assert all(len(f.cells) == 1 for f in g)
