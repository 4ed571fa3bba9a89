"""An agency's identity is compared one way everywhere (xlsx_tools.model.identity): full-width and
half-width forms and spaces do not count, case does. "沙坡头区（体育局）" last year and
"沙坡头区(体育局)" this year are one agency for `check --previous`, collect --previous, the
reader's identity checks and aggregate."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests import reader_fixtures as fx
from tests.test_collect import ROSTER, YEAR, clean_report, write_return
from xlsx_tools.checks import check_report
from xlsx_tools.cli.app import app
from xlsx_tools.model.identity import agency_key, code_key, identity_keys, same_agency
from xlsx_tools.read.reader import KIND_OK, read_and_check
from xlsx_tools.read.roster import RosterRow, write_roster

runner = CliRunner()
FULL, HALF = "沙坡头区（体育局）", "沙坡头区(体育局)"


def test_one_comparison():
    assert agency_key(FULL) == agency_key(HALF) == agency_key(" 沙坡头区 （体育局）\u3000")
    assert agency_key("ＡＢＣ局") == agency_key("ABC局") != agency_key("abc局")  # case kept
    assert code_key("ｔ-００１") == code_key("T-001")
    assert same_agency(FULL, "", HALF, "") and same_agency("甲局", "T-1", "乙局", "t-1")
    assert not same_agency("甲局", "", "乙局", "") and not same_agency("", "", "", "")
    assert identity_keys(FULL, "") == identity_keys(HALF, " ")


def _pair(prev_name: str, name: str):
    rep = fx.report(6, agency=name, code="")
    prev = fx.report(6, year=rep.year - 1, agency=prev_name, code="")
    prev.figures["t3.carry_forward.nonprofit"] += 2
    prev.figures = fx.spec().compute(fx.spec().input_values(prev.figures))
    return rep, prev


def test_cross_year_rules_run_for_a_name_written_in_other_brackets():
    rep, prev = _pair(HALF, FULL)
    found = [f.code for f in check_report(rep, previous=prev)]
    assert "PREV_CARRY_OVER" in found and "PREV_OTHER_AGENCY" not in found  # the rules are not skipped
    rep, prev = _pair("沙坡头区（民政局）", FULL)
    assert [f.code for f in check_report(rep, previous=prev)] == ["PREV_OTHER_AGENCY"]


def test_check_previous_json_in_half_width_brackets(tmp_path):
    rep, prev = _pair(HALF, FULL)
    fx.write_filled(tmp_path / "今年.xlsx", rep)
    (tmp_path / "去年.json").write_text(prev.to_json(), encoding="utf-8")
    res = runner.invoke(app, ["check", str(tmp_path / "今年.xlsx"), "--previous", str(tmp_path / "去年.json"),
                              "--json"])
    data = json.loads(res.stdout)
    found = [f["code"] for f in data["findings"]]
    assert "PREV_CARRY_OVER" in found and "PREV_OTHER_AGENCY" not in found, res.output


def test_reader_expected_agency_and_identity_records_compare_the_same_way(tmp_path):
    path = fx.write_filled(tmp_path / "a.xlsx", fx.report(1, agency=FULL))
    assert read_and_check(path, expected_agency=HALF).kind == KIND_OK
    edited = fx.rewrite_zip(path, tmp_path / "b.xlsx", {
        "docProps/custom.xml": fx.bytes_replace(FULL.encode(), HALF.encode())})
    assert "IDENTITY_CONFLICT" not in [f.code for f in read_and_check(edited).findings]
    other = fx.rewrite_zip(path, tmp_path / "c.xlsx", {
        "docProps/custom.xml": fx.bytes_replace(FULL.encode(), "沙坡头区（民政局）".encode())})
    assert "IDENTITY_CONFLICT" in [f.code for f in read_and_check(other).findings]


def test_collect_previous_matches_and_runs_the_cross_year_rules(tmp_path):
    row = RosterRow(FULL, "")
    write_roster(tmp_path / "r.csv", [row])
    now = clean_report(1, 0, roster=[row])
    last = clean_report(1, 0, year=YEAR - 1, roster=[RosterRow(HALF, "")])
    last.figures["t3.carry_forward.natural_person"] = now.figures["t3.carried_over.natural_person"] + 4
    last.figures = fx.spec().compute(fx.spec().input_values(last.figures))
    write_return(tmp_path / "2025" / "a.xlsx", now)
    write_return(tmp_path / "2024" / "a.xlsx", last)
    res = runner.invoke(app, ["collect", str(tmp_path / "2025"), "--roster", str(tmp_path / "r.csv"),
                              "-o", str(tmp_path / "o"), "--previous", str(tmp_path / "2024"), "-j", "1"])
    assert res.exit_code in (0, 1), res.output
    data = json.loads((tmp_path / "o" / "collect.json").read_text(encoding="utf-8"))
    codes = [f["code"] for f in data["files"][0]["findings"]]
    assert "PREV_CARRY_OVER" in codes and "PREV_OTHER_AGENCY" not in codes


def test_roster_rows_are_not_one_agency_by_case():
    from xlsx_tools.read.roster import parse_roster

    assert [r.agency for r in parse_roster("机关名称\nABC局\nabc局\n")] == ["ABC局", "abc局"]
    assert ROSTER  # the shared roster fixture is importable
