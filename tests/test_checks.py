"""The checks of a Report (rules, domains, cross-year, narrative, text against tables) and the
`check` command."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests import reader_fixtures as fx
from xlsx_tools.checks import check_report, check_text, domain_problem, sentences, valid_values
from xlsx_tools.cli.app import app
from xlsx_tools.model.report import Report

S = fx.spec()
COLUMNS = [k for k, _ in S.table("t3").column_keys]


def codes(findings):
    return [f.code for f in findings]


def test_valid_report_has_no_findings():
    for seed in range(10):
        assert check_report(fx.report(seed)) == []


def test_rule_finding_names_every_cell_of_both_sides():
    rep = fx.report(2)
    rep.figures["t3.received.natural_person"] += 1
    [f] = [f for f in check_report(rep) if f.code == "T3_BALANCE"]
    assert f.severity == "error"
    assert f.cells == ("表三!D4", "表三!D5", "表三!D27", "表三!D28")
    assert f.fields == ("t3.received.natural_person", "t3.carried_over.natural_person",
                        "t3.results_total.natural_person", "t3.carry_forward.natural_person")
    left = rep.figures["t3.received.natural_person"] + rep.figures["t3.carried_over.natural_person"]
    right = rep.figures["t3.results_total.natural_person"] + rep.figures["t3.carry_forward.natural_person"]
    assert f.values == {"left": left, "right": right, "diff": 1}
    assert f.message == (
        f"表三「自然人」列不符合勾稽关系：本年新收 + 上年结转 = {left}，本年度办理结果（七）总计 + 结转下年度继续办理 = {right}"
        "（相差 1）。每件申请要么在本年办结，要么结转下年，请核对这一列。"
    )
    assert f.title == "勾稽关系：第一项 + 第二项 = 第三项 + 第四项"
    assert f.labels[0] == "表三 第4行「一、本年新收政府信息公开申请数量」自然人（D4）"
    assert f.to_dict()["values"] == {"left": left, "right": right, "diff": 1}


def test_row_total_results_total_and_table_four_totals():
    rep = fx.report(3)
    rep.figures["t3.withheld.third_party.legal"] += 2  # its row total and its column's （七） now disagree
    rep.figures["t4.suit_direct.upheld"] += 1
    found = check_report(rep)
    assert {"T3_ROW_TOTAL", "T3_RESULTS_TOTAL", "T4_TOTAL"} <= set(codes(found))
    row = next(f for f in found if f.code == "T3_ROW_TOTAL")
    assert row.cells == ("表三!J11", "表三!D11", "表三!E11", "表三!F11", "表三!G11", "表三!H11", "表三!I11")
    col = next(f for f in found if f.code == "T3_RESULTS_TOTAL")
    assert col.cells[0] == "表三!H27" and len(col.cells) == 22
    t4 = next(f for f in found if f.code == "T4_TOTAL")
    assert t4.cells == ("表四!J4", "表四!F4", "表四!G4", "表四!H4", "表四!I4")
    assert t4.message.startswith("表四「未经复议直接起诉」：总计为")


def test_plausibility_warnings():
    rep = fx.report(4)
    f = rep.figures
    f["t2.item1.rules.issued"], f["t2.item1.rules.repealed"], f["t2.item1.rules.in_force"] = 5, 0, 1
    found = check_report(rep.with_computed())
    assert [(x.code, x.severity) for x in found] == [("T2_STOCK_PLAUSIBLE", "warning")]


def test_more_carried_forward_than_received_is_one_balance_error_only():
    """（七）总计 ≤ 一 + 二 and 四 ≤ 一 + 二 follow from the balance (counts ≥ 0): there are no
    separate rules for them, the balance error of the column says it."""
    assert not {r.code for r in S.rules} & {"T3_RESULTS_LE_INTAKE", "T3_CARRY_LE_INTAKE"}
    rep = fx.report(4)
    f = rep.figures
    f["t3.carry_forward.commercial"] = f["t3.received.commercial"] + f["t3.carried_over.commercial"] + 3
    found = check_report(rep.with_computed())
    assert [(x.code, x.severity) for x in found] == [("T3_BALANCE", "error")]
    assert found[0].message.startswith("表三「商业企业」列不符合勾稽关系")


def _balances(found):
    return [x for x in found if x.code == "T3_BALANCE"]


def test_one_wrong_cell_gives_one_balance_error_not_a_second_for_the_total_column():
    rep = fx.report(6)
    rep.figures["t3.received.natural_person"] += 1
    found = check_report(rep.with_computed())
    assert [(x.code, x.values["diff"]) for x in found] == [("T3_BALANCE", 1)]
    assert "「自然人」列" in found[0].message and "「总计」列" not in found[0].message
    assert "表三!J4" not in found[0].cells  # the 总计 column is not named


def test_the_total_column_balance_is_reported_when_every_other_column_balances():
    """A hand-edited 总计 (the template computes it; the reader says so too)."""
    rep = fx.report(6).with_computed()
    rep.figures["t3.received.total"] += 2
    found = check_report(rep)
    assert sorted(codes(found)) == ["T3_BALANCE", "T3_ROW_TOTAL"]
    bal = _balances(found)[0]
    assert bal.message.startswith("表三「总计」列不符合勾稽关系") and bal.values["diff"] == 2
    rep.figures["t3.received.commercial"] += 1  # now another column is wrong too: only that one
    found = check_report(rep)
    assert ["「商业企业」列" in x.message for x in _balances(found)] == [True]


def test_rule_instances_marked_implied_in_the_format_file():
    assert [(r.code, r.label) for r in S.rules if r.implied] == [("T3_BALANCE", "总计"), ("PREV_CARRY_OVER", "总计")]


T3_INPUTS = [f.id for f in S.input_fields if f.id.startswith("t3.")]


@given(seed=st.integers(0, 10_000), field=st.sampled_from(T3_INPUTS), delta=st.integers(1, 50))
@settings(max_examples=60, deadline=None)
def test_property_any_one_wrong_table3_cell_is_one_balance_error(seed, field, delta):
    rep = fx.report(seed)
    rep.figures[field] += delta
    balances = _balances(check_report(rep.with_computed()))
    assert len(balances) == 1
    assert balances[0].values["diff"] in (delta, -delta) and "「总计」列" not in balances[0].message


def test_blank_or_invalid_inputs_skip_their_rules_and_are_reported_once():
    rep = fx.report(5)
    rep.figures["t3.received.natural_person"] = None
    rep.figures["t3.received.commercial"] = -1
    rep.figures["t3.received.research"] = Decimal("1.5")
    rep.figures["t2.item8.fees.amount"] = Decimal("0.0000001")  # finer than a 分
    found = check_report(rep)
    assert codes(found) == ["TOO_MANY_DECIMALS", "BLANK", "NEGATIVE", "NOT_INTEGER"]  # in table order
    assert found[0].message.endswith(
        "填写了 0.0000001，单位为万元，最多保留 6 位小数（精确到分：1 分 = 0.000001 万元），请核对后改正（不要四舍五入成别的数）。")
    assert found[1].message == "表三 第4行「一、本年新收政府信息公开申请数量」自然人（D4）没有填写。官方表格中没有发生的情况填 0，请补填数字。"
    assert found[2].message.endswith("填写了负数 -1，件数不能为负数，请改正（没有的填 0）。")
    assert check_report(rep, values=False) == []  # the reader has said it already


def _consistent_previous(rep: Report) -> Report:
    """Last year's report whose carry-forward and stock agree with this year's figures."""
    prev = fx.report(99, year=rep.year - 1)
    f = dict(prev.figures)
    for c in COLUMNS[:-1]:
        f[f"t3.carry_forward.{c}"] = rep.figures[f"t3.carried_over.{c}"]
        results = S.compute(S.input_values(f))[f"t3.results_total.{c}"]
        need = results + f[f"t3.carry_forward.{c}"] - f[f"t3.carried_over.{c}"]
        if need < 0:
            f[f"t3.carried_over.{c}"] += -need
            need = 0
        f[f"t3.received.{c}"] = need
    for r in ("rules", "normative"):
        cur = {k: rep.figures[f"t2.item1.{r}.{k}"] for k in ("issued", "repealed", "in_force")}
        f[f"t2.item1.{r}.in_force"] = cur["in_force"] - cur["issued"] + cur["repealed"]
    prev.figures = S.compute(S.input_values(f))
    return prev


def test_cross_year_rules_only_with_previous():
    rep = fx.report(6)
    prev = _consistent_previous(rep)
    assert check_report(prev) == [] or all(f.severity == "warning" for f in check_report(prev))
    assert check_report(rep, previous=prev) == []
    prev.figures["t3.carry_forward.nonprofit"] += 2
    prev.figures["t2.item1.normative.in_force"] += 1
    prev.figures = S.compute(S.input_values(prev.figures))
    found = check_report(rep, previous=prev)
    assert codes(found) == ["PREV_CARRY_OVER", "PREV_STOCK"]  # the column, not 总计 a second time
    carry = found[0]
    assert carry.severity == "warning" and carry.cells == ("表三!G5",)
    assert carry.fields == ("t3.carried_over.nonprofit", "prev.t3.carry_forward.nonprofit")
    assert carry.values["diff"] == -2
    assert "PREV_CARRY_OVER" not in codes(check_report(rep))


@pytest.mark.parametrize(("change", "code"), [
    ({"year": 2019}, "PREV_OTHER_YEAR"),
    ({"agency": "另一个局", "code": "X-9"}, "PREV_OTHER_AGENCY"),
])
def test_previous_that_does_not_fit_is_said_and_skipped(change, code):
    rep = fx.report(6)
    prev = fx.report(6, year=change.get("year", rep.year - 1), agency=change.get("agency", fx.AGENCY),
                     code=change.get("code", fx.CODE))
    found = check_report(rep, previous=prev)
    assert codes(found) == [code] and found[0].severity == "warning"


def test_required_narrative_sections():
    rep = fx.report(1, narrative={"other": "无。"})
    found = check_report(rep)
    assert codes(found) == ["NARRATIVE_EMPTY", "NARRATIVE_EMPTY"]
    assert found[0].message == ("报告第一部分「一、总体情况」没有填写内容。这一部分必须填写，缺少它报告不能发布："
                                "请在「文字部分」工作表中补充。")
    assert {f.severity for f in found} == {"error"}  # a report without 一 or 五 cannot be published
    assert found[0].cells[0] == "文字部分!B3" and len(found[0].cells) == 6
    assert found[1].values == {"section": "problems"}
    assert check_report(fx.report(1, narrative={"overview": "x", "problems": "y"})) == []  # 六 is optional


def test_sentences():
    assert sentences("一。二；三！四？\n五") == ["一。", "二；", "三！", "四？", "五"]


def test_text_against_tables():
    rep = fx.report(8)
    total = rep.figures["t3.received.total"]
    closed = rep.figures["t3.results_total.total"]
    rep.narrative["overview"] = (
        f"本年度共收到政府信息公开申请 {total} 件，办结 {closed + 1} 件；结转下年度 {rep.figures['t3.carry_forward.total']} 件。"
        "全年未发生行政复议。涉及行政诉讼 99 起。"
    )
    found = check_text(S, rep.figures, rep.narrative)
    by_code = {f.code: f for f in found}
    assert "TEXT_RECEIVED" not in by_code and "TEXT_CARRY_FORWARD" not in by_code
    closed_f = by_code["TEXT_CLOSED"]
    assert closed_f.severity == "warning" and closed_f.cells == ("表三!J27",)
    assert closed_f.values["stated"] == closed + 1 and closed_f.values["table"] == closed
    assert closed_f.message == (
        f"第一部分写道“本年度共收到政府信息公开申请 {total} 件，办结 {closed + 1} 件”，其中办结（答复）数为 {closed + 1} 件，"
        f"但表三“（七）总计”为 {closed} 件，请统一。"
    )
    review = rep.figures["t4.review.total"]
    if review:
        assert by_code["TEXT_REVIEW"].values["stated"] == 0  # "未发生行政复议" states zero
    suits = rep.figures["t4.suit_direct.total"] + rep.figures["t4.suit_after_review.total"]
    assert by_code["TEXT_LITIGATION"].values == {
        "stated": 99, "table": suits, "diff": 99 - suits, "sentence": "涉及行政诉讼 99 起。"}
    assert by_code["TEXT_LITIGATION"].cells == ("表四!J4", "表四!O4")


# -- the check command

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rep = fx.report(1)
    good = fx.write_filled(d / "good.xlsx", rep)
    bad = fx.set_cells(good, d / "bad.xlsx", {"表三!D12": "无"})
    zero = next(f for f in S.input_fields if f.table == "t3" and rep.figures[f.id] == 0)
    blank = fx.set_cells(good, d / "blank.xlsx", {f"表三!{zero.cell}": None})
    return {"good": good, "bad": bad, "blank": blank, "dir": d}


def test_check_clean_file_exits_0(files):
    res = runner.invoke(app, ["check", str(files["good"])])
    assert res.exit_code == 0, res.output
    assert "机关：测试市测试局" in res.output and "年度：2021" in res.output
    assert "✓ 未发现问题" in res.output
    assert "共检查 1 个文件：0 个有错误，0 个仅有警告，1 个未发现问题" in res.output


def test_check_errors_exit_1_and_show_level_place_message(files):
    res = runner.invoke(app, ["check", str(files["good"]), str(files["bad"])], env={"COLUMNS": "250"})
    assert res.exit_code == 1
    for text in ("级别", "位置", "说明", "错误", "表三!D12", "填写了“无”，请改为数字（没有的填 0）。"):
        assert text in res.output
    assert "共检查 2 个文件：1 个有错误" in res.output


def test_check_json_one_object_or_array(files):
    res = runner.invoke(app, ["check", "--json", str(files["bad"])])
    assert res.exit_code == 1
    obj = json.loads(res.stdout)
    assert {"file", "sha256", "agency", "year", "findings"} <= set(obj)
    assert obj["agency"] == fx.AGENCY and obj["year"] == 2021 and obj["sha256"] == fx.sha256(files["bad"])
    f = obj["findings"][0]
    assert {"code", "severity", "message", "cells", "fields", "values"} <= set(f)
    assert f["code"] == "NOT_A_NUMBER" and f["severity"] == "error" and f["cells"] == ["表三!D12"]
    res = runner.invoke(app, ["check", "--json", str(files["good"]), str(files["bad"])])
    arr = json.loads(res.stdout)
    assert isinstance(arr, list) and [len(x["findings"]) for x in arr] == [0, len(obj["findings"])]


def test_check_blank_as_zero(files):
    assert runner.invoke(app, ["check", str(files["blank"])]).exit_code == 1
    res = runner.invoke(app, ["check", "--blank-as-zero", "--json", str(files["blank"])])
    assert res.exit_code == 0
    assert [(f["code"], f["severity"]) for f in json.loads(res.stdout)["findings"]][0] == ("BLANK", "warning")


def test_check_previous_and_year(files, tmp_path):
    rep = fx.report(1)
    prev = _consistent_previous(rep)
    prev_json = tmp_path / "2020.json"
    prev_json.write_text(prev.to_json(), encoding="utf-8")
    res = runner.invoke(app, ["check", "--previous", str(prev_json), str(files["good"])])
    assert res.exit_code == 0, res.output
    prev.figures["t3.carry_forward.other"] += 1
    prev_json.write_text(prev.with_computed().to_json(), encoding="utf-8")
    res = runner.invoke(app, ["check", "--json", "--previous", str(prev_json), str(files["good"])])
    assert "PREV_CARRY_OVER" in {f["code"] for f in json.loads(res.stdout)["findings"]}
    res = runner.invoke(app, ["check", "--year", "2022", "--json", str(files["good"])])
    assert res.exit_code == 1 and json.loads(res.stdout)["findings"][0]["code"] == "OTHER_YEAR"


def test_check_usage_errors_exit_2(files, tmp_path):
    res = runner.invoke(app, ["check"])
    assert res.exit_code == 2 and "请指定要校验的文件" in res.output
    res = runner.invoke(app, ["check", str(tmp_path / "没有.xlsx")])
    assert res.exit_code == 2 and "找不到文件「" in res.output
    res = runner.invoke(app, ["check", str(files["dir"])])
    assert res.exit_code == 2 and "是文件夹" in res.output
    res = runner.invoke(app, ["check", "--previous", str(tmp_path / "none.json"), str(files["good"])])
    assert res.exit_code == 2 and "找不到上一年度报告文件" in res.output


def test_demo_check_stage(tmp_path):
    """The demo's stage: a clean copy without findings, a copy with the three typical mistakes."""
    import io

    from rich.console import Console

    from xlsx_tools.cli.demo.check import stage_check
    from xlsx_tools.cli.demo.run import DemoContext

    out = io.StringIO()
    ctx = DemoContext(outdir=tmp_path, console=Console(file=out, width=160), spec=S, year=2021,
                      password="demo-pw")
    stage_check(ctx)
    clean, mistakes = ctx.results["check"]["clean"], ctx.results["check"]["mistakes"]
    assert clean.findings == [] and ctx.results["sample_report"] is clean.report
    assert [f.code for f in mistakes.findings if f.is_error] == ["NOT_A_NUMBER", "FORMULA_OVERWRITTEN", "T3_BALANCE"]
    text = out.getvalue()
    assert "✓ 未发现问题" in text and "填写了“无”，请改为数字（没有的填 0）。" in text
    assert "共检查 2 个文件：1 个有错误，0 个仅有警告，1 个未发现问题" in text


def _valid_one_by_one(figures):
    """valid_values as its definition says: a figure outside its field's domain becomes None."""
    return {fid: None if v is not None and S.has_field(fid) and domain_problem(S.field(fid), v) is not None else v
            for fid, v in figures.items()}


def test_figures_checked_at_once_are_those_checked_one_by_one():
    base = fx.report(4).figures
    assert set(map(type, base.values())) == {int, Decimal}
    fid = "t3.received.natural_person"
    unseen = -987_654_321  # a value no table has met yet: checked, then known
    cases = [dict(base), {**base, fid: unseen}, {**base, fid: unseen}, {**base, fid: 10**15}, {**base, fid: None},
             {**base, fid: Decimal("1.5")}, {**base, fid: 1.5}, {**base, fid: True}, {**base, "not.a.field": -1},
             {**base, fid: Decimal("Infinity")}, {**base, fid: Decimal("-0")}, {}]
    for figures in cases:
        assert valid_values(S, figures) == _valid_one_by_one(figures), figures.get(fid)
    assert valid_values(S, cases[1])[fid] is None and valid_values(S, cases[6])[fid] == 1.5
    out = valid_values(S, base)
    assert out == base and out is not base  # (a copy: the caller's figures are never changed)
    with pytest.raises(InvalidOperation):  # as domain_problem says of it
        valid_values(S, {**base, fid: Decimal("sNaN")})
