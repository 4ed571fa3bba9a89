"""`aggregate --roster` sums only the roster's agencies and names those included and left out
(console and JSON); `aggregate --title` is the report's title, the agency name stays a name."""

from __future__ import annotations

import json

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from tests.test_aggregate import field_sum, returns  # noqa: F401  (returns is a fixture)
from tests.test_collect import ROSTER, YEAR, squash
from xlsx_tools.cli.app import app
from xlsx_tools.model.report import Report
from xlsx_tools.read.roster import write_roster

runner = CliRunner()
TITLE = f"沙坡头区{YEAR}年政府信息公开工作年度报告（全区汇总）"


@pytest.fixture()
def roster(tmp_path):
    # 0 and 1 sent clean files; 5 sent a file with an error; 7 sent nothing. 2, 3 (json) and 6
    # sent files but are not on this roster.
    return write_roster(tmp_path / "名单.csv", [ROSTER[0], ROSTER[1], ROSTER[5], ROSTER[7]])


def run(returns_base, out, *args):
    return runner.invoke(app, ["aggregate", str(returns_base / "in"), str(returns_base / "json"), "-o", str(out),
                               "--agency", "沙坡头区", "--year", str(YEAR), "-j", "1", *args])


def test_roster_limits_the_sum_and_names_included_and_left_out(returns, roster, tmp_path):  # noqa: F811
    base, reports = returns
    out = tmp_path / "汇总.json"
    res = run(base, out, "--roster", str(roster))
    assert res.exit_code == 0, res.output
    text = squash(res.output)
    assert squash("计入汇总 2 份报告。") in text
    assert squash(f"未计入：“{base}/in/2.xlsx”的机关不在名单中，未计入。") in text
    assert squash(f"未计入：“{base}/json/3.json”的机关不在名单中，未计入。") in text
    assert squash(f"未计入：“{base}/in/warn.xlsx”的机关不在名单中，未计入。") in text
    assert squash("名单「名单.csv」共 4 个机关：计入 2 个，未计入 2 个。") in text
    assert squash(f"计入的机关：{ROSTER[0].agency}、{ROSTER[1].agency}。") in text
    assert squash(f"未计入的机关：{ROSTER[5].agency}（「{base}/in/sub/bad.xlsx」表格中有 1 处错误（如需计入，请加 --include-errors））；"
                  f"{ROSTER[7].agency}（没有收到该机关的报告）。") in text
    assert squash(f"已写入 {out}（2 份报告的合计）。") in text

    assert Report.load(out).figures == field_sum(reports[:2])
    data = json.loads(out.read_text(encoding="utf-8"))["aggregate"]
    assert data["count"] == 2 and data["roster"] == "名单.csv"
    assert [(a["agency"], a["file"]) for a in data["included"]] == [
        (ROSTER[0].agency, f"{base}/in/0.xlsx"), (ROSTER[1].agency, f"{base}/in/1.xlsx")]
    assert [(a["agency"], a["reason"]) for a in data["left_out"]] == [
        (ROSTER[5].agency, f"「{base}/in/sub/bad.xlsx」表格中有 1 处错误（如需计入，请加 --include-errors）"),
        (ROSTER[7].agency, "没有收到该机关的报告")]


def test_roster_with_include_errors_counts_the_erroneous_file(returns, roster, tmp_path):  # noqa: F811
    base, _ = returns
    out = tmp_path / "汇总.json"
    res = run(base, out, "--roster", str(roster), "--include-errors")
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))["aggregate"]
    assert [a["agency"] for a in data["included"]] == [ROSTER[0].agency, ROSTER[1].agency, ROSTER[5].agency]


def test_a_roster_nobody_on_it_sent_anything(returns, tmp_path):  # noqa: F811
    base, _ = returns
    roster = write_roster(tmp_path / "r.csv", [ROSTER[8]])
    res = run(base, tmp_path / "a.json", "--roster", str(roster))
    assert res.exit_code == 1
    assert squash(f"未计入的机关：{ROSTER[8].agency}（没有收到该机关的报告）。") in squash(res.output)
    assert squash("没有可汇总的报告") in squash(res.output)


@pytest.mark.parametrize("args, message", [
    (["--roster", "{d}"], "「{d}」是文件夹，不是名单文件。"),
    (["--roster", "{d}/无.csv"], "找不到名单文件「{d}/无.csv」。"),
])
def test_roster_usage_errors(returns, tmp_path, args, message):  # noqa: F811
    base, _ = returns
    res = run(base, tmp_path / "a.json", *[a.replace("{d}", str(tmp_path)) for a in args])
    assert res.exit_code == 2
    assert squash(message.replace("{d}", str(tmp_path))) in squash(res.stderr)


def test_output_folder_is_refused(returns, tmp_path):  # noqa: F811
    base, _ = returns
    res = run(base, tmp_path)
    assert res.exit_code == 2
    assert squash(f"「{tmp_path}」是文件夹，这里需要的是输出文件（.xlsx、.json 或 .docx），例如 {tmp_path}/汇总.xlsx。") in squash(res.stderr)


@pytest.mark.parametrize("suffix", [".docx", ".xlsx", ".json"])
def test_title_is_its_own_option(returns, tmp_path, suffix):  # noqa: F811
    base, _ = returns
    out = tmp_path / f"汇总{suffix}"
    res = run(base, out, "--title", TITLE)
    assert res.exit_code == 0, res.output
    if suffix == ".docx":
        d = docx.Document(str(out))
        lines = d.paragraphs[0].text.split("\n")
        assert "".join(lines) == TITLE
        assert lines[0] == "沙坡头区" and lines[1].startswith(f"{YEAR}年政府信息公开")  # breaks before the year
        assert d.core_properties.title == TITLE
        assert "（汇总）" not in d.paragraphs[1].text and "沙坡头区" in d.paragraphs[1].text  # the opening names the agency
    elif suffix == ".xlsx":
        wb = openpyxl.load_workbook(out)
        assert wb["填报说明"]["A1"].value == TITLE
        assert wb.properties.title == TITLE
        assert Report  # the agency stays a name
        from xlsx_tools.read.reader import read_and_check

        assert read_and_check(out).report.agency.name == "沙坡头区"
    else:
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["aggregate"]["title"] == TITLE and data["agency"]["name"] == "沙坡头区"


def test_without_title_the_report_is_titled_by_the_agency(returns, tmp_path):  # noqa: F811
    base, _ = returns
    out = tmp_path / "汇总.docx"
    res = run(base, out)
    assert res.exit_code == 0, res.output
    title = docx.Document(str(out)).paragraphs[0].text.replace("\n", "")
    assert title == f"沙坡头区{YEAR}年政府信息公开工作年度报告"
