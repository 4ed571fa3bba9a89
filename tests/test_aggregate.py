"""aggregate: the combined Report is the field-wise sum, satisfies every rule again, and is written
as the official workbook, the Report JSON or the official document."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.test_collect import (
    ROSTER,
    SPEC,
    YEAR,
    clean_report,
    squash,
    with_error,
    with_warning,
    write_return,
)
from xlsx_tools.checks import check_rules
from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo.samples import random_figures
from xlsx_tools.collect import aggregate as ag
from xlsx_tools.collect import aggregate_inputs as ai
from xlsx_tools.model import aggregate as mag
from xlsx_tools.model.record import FileRecord
from xlsx_tools.model.report import Agency, Report
from xlsx_tools.read.reader import read_and_check

runner = CliRunner()


def field_sum(reports: list[Report]) -> dict:
    return {f.id: sum((r.figures[f.id] for r in reports), Decimal(0) if f.type.kind == "decimal" else 0)
            for f in SPEC.fields}


# ---------------------------------------------------------------------------------------------
# The sum


def test_aggregate_equals_the_field_wise_sum():
    reports = [clean_report(i, i) for i in range(6)]
    total = mag.aggregate_reports(reports, agency="沙坡头区（汇总）", year=YEAR)
    assert total.figures == field_sum(reports)
    assert (total.agency.name, total.year, total.format) == ("沙坡头区（汇总）", YEAR, SPEC.id)
    assert check_rules(SPEC, total.figures) == []


def test_fees_are_summed_exactly():
    fee = "t2.item8.fees.amount"
    reports = [clean_report(i, 0) for i in range(3)]
    for r, v in zip(reports, ("0.1", "0.2", "26.5501"), strict=True):
        r.figures[fee] = Decimal(v)
    total = mag.aggregate_reports(reports, agency="汇总", year=YEAR)
    assert total.figures[fee] == Decimal("26.8501") and str(total.figures[fee]) == "26.8501"
    assert isinstance(total.figures["t3.received.total"], int)


def test_computed_fields_are_recomputed_not_summed_blindly():
    r = clean_report(0, 0)
    r.figures["t3.received.total"] = 999_999  # a wrong cached total is not carried into the sum
    total = mag.aggregate_reports([r, clean_report(1, 1)], agency="汇总", year=YEAR)
    expected = sum(total.figures[f"t3.received.{c}"] for c in
                   ("natural_person", "commercial", "research", "nonprofit", "legal", "other"))
    assert total.figures["t3.received.total"] == expected


def test_blank_inputs_count_as_zero_and_are_counted():
    r = clean_report(0, 0)
    r.figures["t3.granted.natural_person"] = None
    agg = mag.Aggregator(SPEC)
    agg.add(r.figures)
    agg.add(clean_report(1, 1).figures)
    assert agg.blanks == {"t3.granted.natural_person": 1} and agg.count == 2
    assert agg.figures()["t3.granted.natural_person"] == clean_report(1, 1).figures["t3.granted.natural_person"]


def test_no_reports_give_zeros():
    total = mag.aggregate_reports([], agency="汇总", year=YEAR, spec=SPEC)
    assert set(total.figures.values()) == {0}


def test_reports_of_another_format_are_refused():
    r = clean_report(0, 0)
    other = clean_report(1, 1)
    other.format = "gov-info-2099"
    with pytest.raises(mag.AggregateError, match="的报告格式为 gov-info-2099，与其他报告（gov-info-2021）不同，不能汇总。"):
        mag.aggregate_reports([r, other], agency="汇总", year=YEAR, spec=SPEC)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=8),
       busy=st.floats(0, 1, allow_nan=False))
def test_property_sum_of_valid_reports_satisfies_every_rule(seeds, busy):
    figures = [random_figures(SPEC, random.Random(s), busy) for s in seeds]
    assert all(check_rules(SPEC, f) == [] for f in figures)  # the premise: each is valid
    agg = mag.Aggregator(SPEC)
    for f in figures:
        agg.add(f)
    total = agg.figures()
    # every non-cross-year rule, errors and warnings alike (cross-year ones need last year's sum)
    assert check_rules(SPEC, total) == []
    for fid in total:
        assert total[fid] == sum(f[fid] for f in figures), fid


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=5))
def test_property_aggregation_is_associative(seeds):
    reports = [Report(format=SPEC.id, agency=Agency(str(s)), year=YEAR, figures=random_figures(SPEC, random.Random(s)))
               for s in seeds]
    whole = mag.aggregate_reports(reports, agency="全部", year=YEAR)
    first = mag.aggregate_reports(reports[:1], agency="甲", year=YEAR)
    rest = mag.aggregate_reports(reports[1:], agency="乙", year=YEAR)
    assert mag.aggregate_reports([first, rest], agency="全部", year=YEAR).figures == whole.figures


# ---------------------------------------------------------------------------------------------
# Choosing the inputs


def inp(name: str, agency: str, *, year: int = YEAR, errors: int = 0, saved_at: str = "", fmt: str = SPEC.id,
        figures: dict | None = None) -> FileRecord:
    return FileRecord(seq=0, name=name, identity={"agency": agency, "year": str(year), "format": fmt}, errors=errors,
                      saved_at=saved_at, figures={} if figures is None else figures, has_report=True)


def test_select_newest_per_agency_right_year_and_format_no_errors():
    inputs = [
        inp("a-old.xlsx", "甲", saved_at="2026-01-01T00:00:00Z"),
        inp("a-new.xlsx", "甲", saved_at="2026-01-05T00:00:00Z"),
        inp("b.xlsx", "乙", errors=2),
        inp("c.xlsx", "丙", year=YEAR - 1),
        inp("d.xlsx", "丁", fmt="other"),
        FileRecord(seq=0, name="e.txt", reason="是纯文本文件，不是 Excel 工作簿。"),
    ]
    sel = ai.select(inputs, year=YEAR, format_id=SPEC.id)
    assert [i.name for i in sel.used] == ["a-new.xlsx"]
    assert {i.name: i.reason for i in sel.skipped} == {
        "a-old.xlsx": "与“a-new.xlsx”是同一机关的报告，后者较新，已采用后者。",
        "b.xlsx": "表格中有 2 处错误（如需计入，请加 --include-errors）。",
        "c.xlsx": f"是 {YEAR - 1} 年度的报告，不是 {YEAR} 年度。",
        "d.xlsx": "的格式为 other，不是 gov-info-2021。",
        "e.txt": "是纯文本文件，不是 Excel 工作簿。",
    }
    assert ai.describe(sel)[:2] == ["计入汇总 1 份报告。", "未计入：“a-old.xlsx”与“a-new.xlsx”是同一机关的报告，后者较新，已采用后者。"]
    with_errors = ai.select([inp("b.xlsx", "乙", errors=2)], year=YEAR, format_id=SPEC.id, include_errors=True)
    assert [i.name for i in with_errors.used] == ["b.xlsx"]


# ---------------------------------------------------------------------------------------------
# Files in, files out


@pytest.fixture(scope="module")
def returns(tmp_path_factory):
    base = tmp_path_factory.mktemp("agg")
    reports = [clean_report(i, i) for i in range(4)]
    for i, r in enumerate(reports[:3]):
        write_return(base / "in" / f"{i}.xlsx", r)
    (base / "json").mkdir()
    (base / "json" / "3.json").write_text(reports[3].to_json(), encoding="utf-8")
    write_return(base / "in" / "sub" / "bad.xlsx", with_error(clean_report(9, 5)))
    write_return(base / "in" / "warn.xlsx", with_warning(clean_report(8, 6)))
    return base, reports + [with_warning(clean_report(8, 6))]


def test_read_inputs_from_folders_files_and_json(returns):
    base, _ = returns
    got = sorted(ai.read_inputs([base / "in", base / "json" / "3.json"]), key=lambda i: i.name)
    assert [(i.name, i.agency, i.errors) for i in got] == [
        (f"{base}/in/0.xlsx", ROSTER[0].agency, 0), (f"{base}/in/1.xlsx", ROSTER[1].agency, 0),
        (f"{base}/in/2.xlsx", ROSTER[2].agency, 0), (f"{base}/in/sub/bad.xlsx", ROSTER[5].agency, 1),
        (f"{base}/in/warn.xlsx", ROSTER[6].agency, 0), (str(base / "json" / "3.json"), ROSTER[3].agency, 0),
    ]
    # one record type per file, as collect keeps it: numbered in reading order, identity as text
    assert all(isinstance(i, FileRecord) and i.year == YEAR and i.format == SPEC.id and i.has_report for i in got)
    assert sorted(i.seq for i in got) == list(range(1, 7))


@pytest.mark.parametrize("suffix", [".json", ".xlsx", ".docx"])
def test_cli_aggregate_writes_each_output(returns, tmp_path, suffix):
    base, reports = returns
    out = tmp_path / f"汇总{suffix}"
    res = runner.invoke(app, ["aggregate", str(base / "in"), str(base / "json"), "-o", str(out),
                              "--agency", "沙坡头区（汇总）", "--year", str(YEAR), "-j", "1"])
    assert res.exit_code == 0, res.output
    assert squash("计入汇总 5 份报告。") in squash(res.output)
    assert squash(f"未计入：“{base}/in/sub/bad.xlsx”：表格中有 1 处错误（如需计入，请加 --include-errors）。") in squash(res.output)
    assert squash(f"已写入 {out}（5 份报告的合计）。") in squash(res.output)
    expected = field_sum(reports)
    if suffix == ".json":
        back = Report.load(out)
        assert back.figures == expected and back.agency.name == "沙坡头区（汇总）"
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["aggregate"]["count"] == 5 and len(data["aggregate"]["sources"]) == 5
    elif suffix == ".xlsx":
        assert "工作表保护密码：" in res.output
        result = read_and_check(out)
        assert result.report.figures == expected
        # the figures are right; only the narrative (一 and 五) is left for the district to write
        assert [f.code for f in result.findings if f.is_error] == ["NARRATIVE_EMPTY", "NARRATIVE_EMPTY"]
        assert (result.identity["agency"], result.identity["year"]) == ("沙坡头区（汇总）", str(YEAR))
    else:
        import docx

        text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
        assert "沙坡头区（汇总）" in text
        assert squash("汇总报告的文字部分（第一、五、六部分）为空，请在 Word 中补写。") in squash(res.output)


def test_cli_aggregate_include_errors(returns, tmp_path):
    base, reports = returns
    out = tmp_path / "a.json"
    res = runner.invoke(app, ["aggregate", str(base / "in"), "-o", str(out), "--agency", "汇总", "--year",
                              str(YEAR), "--include-errors", "-j", "2"])
    assert res.exit_code == 0, res.output
    assert squash("计入汇总 5 份报告。") in squash(res.output)
    assert "汇总数据不符合规则" in res.output  # the sum of a report with errors breaks the balance again


def test_cli_aggregate_of_its_own_json_output(returns, tmp_path):
    base, reports = returns
    first = tmp_path / "first.json"
    runner.invoke(app, ["aggregate", str(base / "in"), "-o", str(first), "--agency", "甲（汇总）", "--year", str(YEAR)])
    again = tmp_path / "again.json"
    res = runner.invoke(app, ["aggregate", str(first), str(base / "json"), "-o", str(again), "--agency", "乙（汇总）",
                              "--year", str(YEAR)])
    assert res.exit_code == 0, res.output
    assert Report.load(again).figures == field_sum(reports)


def test_cli_aggregate_nothing_to_sum_is_exit_1(returns, tmp_path):
    base, _ = returns
    res = runner.invoke(app, ["aggregate", str(base / "in"), "-o", str(tmp_path / "x.json"), "--agency", "汇总",
                              "--year", "1999"])
    assert res.exit_code == 1
    assert "没有可汇总的报告" in res.output and not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["aggregate"], "请指定要汇总的文件或文件夹"),
    (["aggregate", "{t}"], "请用 -o 指定输出文件（.xlsx、.json 或 .docx）。"),
    (["aggregate", "{t}", "-o", "{t}/x.pdf", "--agency", "甲", "--year", "2025"], "输出文件「x.pdf」的扩展名应为 .xlsx、.json 或 .docx。"),
    (["aggregate", "{t}", "-o", "{t}/x.json", "--year", "2025"], "请用 --agency 指定汇总报告的机关名称"),
    (["aggregate", "{t}", "-o", "{t}/x.json", "--agency", "甲"], "请用 --year 指定报告年度，如 --year 2025。"),
    (["aggregate", "{t}/nope", "-o", "{t}/x.json", "--agency", "甲", "--year", "2025"], "找不到：{t}/nope。"),
])
def test_cli_aggregate_usage_errors(tmp_path, argv, message):
    res = runner.invoke(app, [a.format(t=tmp_path) for a in argv])
    assert res.exit_code == 2, res.output
    assert squash("错误：" + message.format(t=tmp_path)) in squash(res.output)


def test_collect_json_is_refused_as_an_input(tmp_path):
    (tmp_path / "collect.json").write_text(json.dumps({"agencies": [], "files": []}), encoding="utf-8")
    [got] = list(ai.read_inputs([tmp_path / "collect.json"]))
    assert got.reason == "是 collect 生成的收集结果，不是一个机关的报告；请汇总退回的文件或各机关导出的 JSON。"


def test_cli_aggregate_does_not_count_an_agency_twice_through_an_aggregate(returns, tmp_path):
    """An earlier aggregate JSON handed in with (some of) the files it summed: each agency once."""
    base, reports = returns
    first = tmp_path / "区汇总.json"
    runner.invoke(app, ["aggregate", str(base / "in"), "-o", str(first), "--agency", "甲（汇总）", "--year", str(YEAR)])
    again = tmp_path / "again.json"
    res = runner.invoke(app, ["aggregate", str(first), str(base / "in"), str(base / "json"), "-o", str(again),
                              "--agency", "乙（汇总）", "--year", str(YEAR), "-j", "1"])
    assert res.exit_code == 0, res.output
    assert Report.load(again).figures == field_sum(reports)
    assert squash("计入汇总 2 份报告。") in squash(res.output)
    assert squash(f"未计入：“{base}/in/0.xlsx”的数字已计入汇总报告“{first}”，未重复计入。") in squash(res.output)


def test_select_two_aggregates_of_the_same_agency_count_once():
    a = inp("a.json", "甲区（汇总）", figures={})
    a.sources = (("丙", ""),)
    b = inp("b.json", "乙区（汇总）", figures={})
    b.sources = (("丙", ""), ("丁", "D-1"))
    sel = ai.select([a, b, inp("c.xlsx", "丙"), inp("d.xlsx", "戊")], year=YEAR, format_id=SPEC.id)
    assert [i.name for i in sel.used] == ["a.json", "d.xlsx"]
    assert {i.name: i.reason for i in sel.skipped} == {
        "b.json": "与汇总报告“a.json”含有相同的机关（丙），未计入，以免重复。",
        "c.xlsx": "的数字已计入汇总报告“a.json”，未重复计入。",
    }


def test_include_errors_says_which_blanks_were_summed_as_zero(tmp_path):
    """--include-errors sums a report's blank cells as 0: the console and the JSON say how many,
    per agency."""
    blank_json = clean_report(21, 0)
    for fid in ("t3.granted.natural_person", "t3.received.commercial", "t2.item1.rules.issued"):
        blank_json.figures[fid] = None
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.json").write_text(blank_json.to_json(), encoding="utf-8")
    blank_book = clean_report(22, 1)
    blank_book.figures["t4.review.upheld"] = None
    write_return(tmp_path / "in" / "b.xlsx", blank_book)
    write_return(tmp_path / "in" / "c.xlsx", clean_report(23, 2))
    out = tmp_path / "汇总.json"
    argv = ["aggregate", str(tmp_path / "in"), "-o", str(out), "--agency", "汇总", "--year", str(YEAR), "-j", "1"]
    res = runner.invoke(app, argv)
    assert res.exit_code == 0 and "空白" not in res.output  # without --include-errors they are left out
    res = runner.invoke(app, [*argv, "--include-errors"])
    assert res.exit_code == 0, res.output
    text = squash(res.output)
    assert squash("注意：2 份报告有空白（未填写）或不是有效数字（如填了“无”）的单元格，共 4 处，已按 0 计入汇总：") in text
    assert squash(f"「{ROSTER[0].agency}」3 处（{tmp_path / 'in' / 'a.json'}）") in text
    assert squash(f"「{ROSTER[1].agency}」1 处（{tmp_path / 'in' / 'b.xlsx'}）") in text
    data = json.loads(out.read_text(encoding="utf-8"))["aggregate"]
    assert data["blanks"] == 4
    assert sorted((s["agency"], s["blanks"]) for s in data["sources"]) == sorted(
        [(ROSTER[0].agency, 3), (ROSTER[1].agency, 1), (ROSTER[2].agency, 0)])


def test_include_errors_counts_a_cell_filled_with_wu_among_those_summed_as_zero(tmp_path):
    """A cell holding “无” is not blank, but it is summed as 0 all the same: the note says so
    (it said "空白（未填写）" of a cell the agency had filled)."""
    from tests.reader_fixtures import set_cells

    (tmp_path / "in").mkdir()
    book = write_return(tmp_path / "b0.xlsx", clean_report(22, 1))
    set_cells(book, tmp_path / "in" / "b.xlsx", {"表三!D6": "无"})
    argv = ["aggregate", str(tmp_path / "in"), "-o", str(tmp_path / "汇总.json"), "--agency", "汇总",
            "--year", str(YEAR), "-j", "1", "--include-errors"]
    res = runner.invoke(app, argv)
    assert res.exit_code == 0, res.output
    assert squash("注意：1 份报告有空白（未填写）或不是有效数字（如填了“无”）的单元格，共 1 处，已按 0 计入汇总：") in squash(res.output)


# ---------------------------------------------------------------------------------------------
# The library call the command renders


def test_aggregate_library_call_sums_writes_and_reports(returns, tmp_path):
    base, reports = returns
    out = tmp_path / "汇总.xlsx"
    result = ag.aggregate([base / "in", base / "json"], out, agency="汇总", year=YEAR, spec=SPEC, jobs=1)
    assert result.output == out and out.exists() and result.password  # a password is generated for .xlsx
    assert result.report.figures == field_sum(reports) and not result.rule_findings
    assert [i.name for i in result.selection.skipped] == [f"{base}/in/sub/bad.xlsx"]
    assert result.lines()[0] == "计入汇总 5 份报告。" and not result.write_error and not result.internal
    assert result.narrative_note() == "汇总报告的文字部分（第一、五、六部分）为空，请在 Word 中补写。"


def test_aggregate_library_call_nothing_to_sum_writes_nothing(returns, tmp_path):
    base, _ = returns
    out = tmp_path / "x.json"
    result = ag.aggregate([base / "in"], out, agency="汇总", year=1999, spec=SPEC, jobs=1)
    assert result.report is None and result.output is None and not out.exists()
    assert [i.reason for i in result.selection.skipped] == [f"是 {YEAR} 年度的报告，不是 1999 年度。"] * 5


def test_aggregate_library_call_an_unwritable_output_is_a_result_not_an_exception(returns, tmp_path):
    base, _ = returns
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    out = tmp_path / "a-file" / "x.json"  # its folder is a file
    result = ag.aggregate([base / "json"], out, agency="汇总", year=YEAR, spec=SPEC, jobs=1)
    assert result.report is not None and result.output is None
    assert result.write_status == ag.WRITE_FAILED and result.write_error.startswith(f"写入「{out}」失败：")


@pytest.mark.parametrize(("output", "roster", "message"), [
    ("x.pdf", None, "输出文件「x.pdf」的扩展名应为 .xlsx、.json 或 .docx。"),
    ("x.json", "empty.csv", "名单"),
])
def test_aggregate_library_call_usage_errors(returns, tmp_path, output, roster, message):
    base, _ = returns
    if roster:
        (tmp_path / roster).write_text("", encoding="utf-8")
    with pytest.raises(mag.AggregateError, match=message):
        ag.aggregate([base / "json"], tmp_path / output, agency="汇总", year=YEAR, spec=SPEC,
                     roster=tmp_path / roster if roster else None)
    assert not (tmp_path / output).exists()


def test_cli_aggregate_takes_format(returns, tmp_path):
    base, _ = returns
    out = tmp_path / "x.json"
    res = runner.invoke(app, ["aggregate", str(base / "json"), "-o", str(out), "--agency", "汇总", "--year", str(YEAR),
                              "--format", SPEC.id])
    assert res.exit_code == 0, res.output
    assert Report.load(out).format == SPEC.id
    res = runner.invoke(app, ["aggregate", str(base / "json"), "-o", str(out), "--agency", "汇总", "--year", str(YEAR),
                              "--format", "gov-info-2099"])
    assert res.exit_code == 2 and "gov-info-2099" in res.output


def test_cli_aggregate_help_takes_its_examples_from_the_format_file():
    res = runner.invoke(app, ["aggregate", "--help"], env={"COLUMNS": "300"})
    assert res.exit_code == 0
    title = SPEC.report_title.format(year=2025)
    assert f"（写入{SPEC.info_sheet}和开头一段）" in res.output
    assert f"不指定时为“机关名称 + {title}”" in res.output
