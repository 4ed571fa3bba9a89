"""The reader on good workbooks: exactly the values put in, from files written by our template
(cached results), by openpyxl (none), and shaped like Excel/WPS files (inline strings, shared
formulas, a wrong <dimension>, cells without addresses); identity, contact, narrative, provenance;
the export command."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from tests import reader_fixtures as fx
from xlsx_tools.cli.app import app
from xlsx_tools.model.meta import template_fingerprint
from xlsx_tools.model.report import Report
from xlsx_tools.read.reader import (
    PreviousError,
    formula_terms,
    load_previous,
    parse_text_number,
    read_and_check,
    read_workbook,
)
from xlsx_tools.write.template import write_template

S = fx.spec()
T3 = "表三"


@pytest.fixture(scope="module")
def rep() -> Report:
    return fx.report(seed=7)


@pytest.fixture(scope="module")
def filled(tmp_path_factory, rep):
    return fx.write_filled(tmp_path_factory.mktemp("reader") / "filled.xlsx", rep)


def _input_values(report: Report) -> dict:
    return {f.id: report.figures[f.id] for f in S.input_fields}


def test_reads_exactly_the_values_put_in(filled, rep):
    before = fx.sha256(filled)
    result = read_and_check(filled)
    assert fx.sha256(filled) == before
    assert result.kind == "ok" and result.findings == []
    got = result.report
    assert _input_values(got) == _input_values(rep)
    assert got.figures == S.compute(S.input_values(rep.figures))
    assert got.agency.name == fx.AGENCY and got.agency.code == fx.CODE and got.year == fx.YEAR
    assert got.contact["contact_person"] == "张三" and got.contact["phone"] == "0955-8597620"
    assert got.narrative == fx.NARRATIVE
    assert result.identity["format"] == S.id and result.identity["fingerprint"] == template_fingerprint(S)
    assert result.identity["agency"] == fx.AGENCY and result.identity["year"] == str(fx.YEAR)
    assert got.provenance.sha256 == before and got.provenance.source == str(filled)
    assert got.provenance.template_fingerprint == template_fingerprint(S)
    assert result.application and result.saved_at


def test_counts_are_ints_and_fees_exact_decimals(tmp_path):
    values = fx.figures(3)
    values["t2.item8.fees.amount"] = Decimal("26.55")
    path = fx.write_filled(tmp_path / "fees.xlsx", fx.report(values=values))
    report = read_workbook(path).report
    fee = report.figures["t2.item8.fees.amount"]
    assert isinstance(fee, Decimal) and fee == Decimal("26.55") and str(fee) == "26.55"
    assert all(type(report.figures[f.id]) is int for f in S.fields if f.type.kind == "integer")
    assert '"value": 26.55' in report.to_json()


def test_binary_noise_in_a_stored_number_is_dropped(filled, tmp_path):
    fee = S.field("t2.item8.fees.amount")
    path = fx.sheet_edit(filled, tmp_path / "noise.xlsx", "表二",
                         lambda d: fx.replace_cell(d, fee.cell, f'<c r="{fee.cell}" s="1"><v>26.550000000000001</v></c>'))
    assert read_workbook(path).report.figures[fee.id] == Decimal("26.55")


def test_openpyxl_saved_file_has_no_cached_results_and_reads_the_same(filled, rep, tmp_path):
    path = fx.set_cells(filled, tmp_path / "openpyxl.xlsx", {})
    result = read_and_check(path)
    assert result.findings == []
    assert "openpyxl" in result.application.lower()
    assert result.report.figures == read_workbook(filled).report.figures


def _shared_strings(path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/sharedStrings.xml").decode("utf-8")
    return [re.sub(r"<[^>]+>", "", si) for si in re.findall(r"<si>(.*?)</si>", xml, re.S)]


def _excel_like(path, dst):
    """表三 as Excel/WPS may write it: labels as inline strings, the 总计 column as one shared
    formula, and a <dimension> that does not match the data."""
    strings = _shared_strings(path)

    def edit(xml: bytes) -> bytes:
        text = xml.decode("utf-8")
        text = re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1"/>', text)
        text = re.sub(
            r'<c r="([A-Z]+\d+)" s="(\d+)" t="s"><v>(\d+)</v></c>',
            lambda m: f'<c r="{m.group(1)}" s="{m.group(2)}" t="inlineStr"><is><t>{strings[int(m.group(3))]}</t></is></c>',
            text,
        )

        def shared(m):
            row = int(m.group(1))
            f = '<f t="shared" ref="J4:J26" si="0">SUM(D4:I4)</f>' if row == 4 else '<f t="shared" si="0"/>'
            return f'<c r="J{row}" s="{m.group(2)}">{f}<v>{m.group(3)}</v></c>'

        text = re.sub(r'<c r="J(\d+)" s="(\d+)"><f>SUM\(D\1:I\1\)</f><v>(\d+)</v></c>',
                      lambda m: shared(m) if int(m.group(1)) <= 26 else m.group(0), text)
        assert 't="shared"' in text and "inlineStr" in text
        return text.encode("utf-8")

    return fx.sheet_edit(path, dst, T3, edit)


def test_excel_like_file_inline_strings_shared_formulas_wrong_dimension(filled, tmp_path):
    result = read_and_check(_excel_like(filled, tmp_path / "excel.xlsx"))
    assert result.findings == []
    assert result.report.figures == read_workbook(filled).report.figures


def test_a_changed_shared_formula_is_caught(filled, tmp_path):
    path = _excel_like(filled, tmp_path / "excel.xlsx")
    broken = fx.sheet_edit(path, tmp_path / "broken.xlsx", T3,
                           fx.bytes_replace(b'si="0">SUM(D4:I4)', b'si="0">SUM(D4:H4)'))
    changed = [f for f in read_and_check(broken).findings if f.code == "FORMULA_CHANGED"]
    assert len(changed) == 23  # every row sharing the formula J4:J26
    assert changed[1].message.startswith("表三 第5行「二、上年结转政府信息公开申请数量」总计（J5）的公式被改成了“=SUM(D5:H5)”")


def test_cells_without_addresses(filled, tmp_path):
    """Some generators leave out the r attribute; cells then follow each other in their row."""
    def edit(xml: bytes) -> bytes:
        text = xml.decode("utf-8")
        return re.sub(r'<c r="[A-Z]+4" ', "<c ", text).encode("utf-8")

    result = read_and_check(fx.sheet_edit(filled, tmp_path / "no-r.xlsx", "表四", edit))
    assert result.findings == []
    assert result.report.figures == read_workbook(filled).report.figures


def test_text_numbers_are_taken_with_a_warning(filled, tmp_path):
    cells = {"t3.granted.natural_person": "１２", "t3.granted.commercial": " 7 ", "t3.granted.research": "1,234"}
    path = fx.set_cells(filled, tmp_path / "text.xlsx", {f"{T3}!{S.field(k).cell}": v for k, v in cells.items()})
    result = read_workbook(path)
    assert [f.code for f in result.findings] == ["TEXT_NUMBER"] * 3
    assert [result.report.figures[k] for k in cells] == [12, 7, 1234]
    assert result.findings[0].values == {"value": "１２", "parsed": Decimal(12)}
    assert result.findings[0].message == (
        "表三 第6行「（一）予以公开」自然人（D6）填写的“１２”是文本格式的数字，已按 12 读取。"
        "请删除空格、全角字符或千位分隔符，直接输入数字。"
    )


def test_blank_as_zero(filled, tmp_path):
    d6 = S.field("t3.granted.natural_person")
    path = fx.set_cells(filled, tmp_path / "blank.xlsx", {f"{T3}!{d6.cell}": None})
    strict = read_workbook(path)
    assert [(f.code, f.severity) for f in strict.findings] == [("BLANK", "error")]
    assert strict.report.figures[d6.id] is None and strict.report.figures["t3.granted.total"] is None
    lenient = read_workbook(path, blank_as_zero=True)
    assert [(f.code, f.severity) for f in lenient.findings] == [("BLANK", "warning")]
    assert lenient.report.figures[d6.id] == 0
    assert "已按 0 处理" in lenient.findings[0].message


def test_formula_typed_into_an_input_with_its_result(filled, tmp_path):
    d6 = S.field("t3.granted.natural_person")
    path = fx.sheet_edit(filled, tmp_path / "f.xlsx", T3,
                         lambda d: fx.replace_cell(d, d6.cell, f'<c r="{d6.cell}" s="19"><f>2+3</f><v>5</v></c>'))
    result = read_workbook(path)
    assert [f.code for f in result.findings if f.cells == (f"{T3}!{d6.cell}",)] == ["INPUT_FORMULA"]
    assert result.report.figures[d6.id] == 5


def test_reads_bytes_with_a_display_name(filled):
    result = read_workbook(filled.read_bytes(), name="收件箱.zip!测试局/年报.xlsx")
    assert result.source == "收件箱.zip!测试局/年报.xlsx"
    assert result.report.provenance.source == "收件箱.zip!测试局/年报.xlsx"
    assert result.sha256 == fx.sha256(filled)


@pytest.mark.parametrize(("text", "value"), [
    ("12", 12), (" 12 ", 12), ("１２", 12), ("1,234", 1234), ("1,234.5", Decimal("1234.5")),
    ("\u3000３\u3000", 3), ("-2", -2), ("０.５", Decimal("0.5")), (".5", Decimal("0.5")),
    ("无", None), ("—", None), ("/", None), ("5件", None), ("1,23", None), ("1.2.3", None),
    ("2021-03-05", None), ("", None), ("1 2", None), ("12,", None),
    ("2.5E+3", 2500), ("1e2", 100), ("1,234E+2", None), ("E5", None), ("1E", None),
])
def test_parse_text_number(text, value):
    assert parse_text_number(text) == value


@pytest.mark.parametrize(("formula", "expected"), [
    ("SUM(D4:I4)", {("表三", 3, c): 1 for c in range(3, 9)}),
    ("=SUM($D$4:$I$4)", {("表三", 3, c): 1 for c in range(3, 9)}),
    (" = sum( d4 : i4 ) ", {("表三", 3, c): 1 for c in range(3, 9)}),
    ("D4+E4-F4", {("表三", 3, 3): 1, ("表三", 3, 4): 1, ("表三", 3, 5): -1}),
    ("SUM(D4,E4)+0", {("表三", 3, 3): 1, ("表三", 3, 4): 1}),
    ("'表 二'!B3+表四!A4", {("表 二", 2, 1): 1, ("表四", 3, 0): 1}),
    ("'Sheet3'!D4+sheet3!E4", {("sheet3", 3, 3): 1, ("sheet3", 3, 4): 1}),
    ("-(D4-E4)", {("表三", 3, 3): -1, ("表三", 3, 4): 1}),
    ("SUM(D4:D5)-D5", {("表三", 3, 3): 1}),
    ("D4*2", None), ("AVERAGE(D4:I4)", None), ("SUM(D:D)", None), ("D4+", None), ("SUM(D4", None),
])
def test_formula_terms(formula, expected):
    got = formula_terms(formula, "表三")
    assert (dict(got) if got is not None else None) == expected


def test_load_previous_from_xlsx_and_json(filled, tmp_path, rep):
    from_xlsx = load_previous(filled)
    assert _input_values(from_xlsx) == _input_values(rep)
    json_path = tmp_path / "prev.json"
    json_path.write_text(from_xlsx.to_json(), encoding="utf-8")
    assert load_previous(json_path).figures == from_xlsx.figures
    for bad, text in ((tmp_path / "none.xlsx", "找不到"), (tmp_path / "bad.json", "不是本工具导出的 JSON")):
        if bad.suffix == ".json":
            bad.write_text('{"format": "gov-info-2021"}', encoding="utf-8")
        with pytest.raises(PreviousError, match=text):
            load_previous(bad)
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(PreviousError, match="空文件"):
        load_previous(tmp_path / "x.xlsx")
    with pytest.raises(PreviousError, match="是文件夹"):
        load_previous(tmp_path)


def test_load_previous_refuses_a_blank_template(tmp_path):
    """Last year's template as sent out, not as returned: every cross-year rule would be skipped."""
    blank = write_template(tmp_path / "去年 模板.xlsx", agency=fx.AGENCY, year=fx.YEAR - 1, password=fx.PASSWORD).path
    with pytest.raises(PreviousError) as e:
        load_previous(blank)
    assert str(e.value) == (f"上一年度报告 {blank}（「{fx.AGENCY}」{fx.YEAR - 1} 年度）中没有填写任何数字，"
                            "可能是空白模板。请使用该机关上一年度填好交回的文件或导出的 JSON。")
    as_json = tmp_path / "blank.json"
    as_json.write_text(read_workbook(blank).report.to_json(), encoding="utf-8")
    with pytest.raises(PreviousError, match="没有填写任何数字"):
        load_previous(as_json)


# -- the export command


runner = CliRunner()


def test_export_writes_report_json_with_findings(filled, tmp_path, rep):
    out = tmp_path / "out.json"
    res = runner.invoke(app, ["export", str(filled), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "已导出「测试市测试局」2021 年度报告" in res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) >= {"format", "agency", "year", "contact", "narrative", "figures", "provenance", "findings"}
    assert data["findings"] == []
    assert Report.from_json(out.read_text(encoding="utf-8")).figures == read_workbook(filled).report.figures


def test_export_to_stdout_keeps_findings(filled, tmp_path):
    path = fx.set_cells(filled, tmp_path / "wu.xlsx", {f"{T3}!D12": "无"})
    res = runner.invoke(app, ["export", str(path)])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["findings"][0]["code"] == "NOT_A_NUMBER" and data["findings"][0]["cells"] == ["表三!D12"]


def test_export_into_an_existing_folder_writes_a_json_named_after_the_workbook(filled, tmp_path):
    folder = tmp_path / "导出 结果"
    folder.mkdir()
    res = runner.invoke(app, ["export", str(filled), "-o", str(folder)])
    assert res.exit_code == 0, res.output
    assert [p.name for p in folder.iterdir()] == [f"{filled.stem}.json"]
    assert Report.from_json((folder / f"{filled.stem}.json").read_text(encoding="utf-8")).year == 2021


def test_export_into_a_new_folder_ending_in_a_slash_creates_it(filled, tmp_path):
    """`-o 导出/` names a folder even before it exists (it wrote a file called "导出")."""
    folder = tmp_path / "导出"
    res = runner.invoke(app, ["export", str(filled), "-o", f"{folder}/"])
    assert res.exit_code == 0, res.output
    assert folder.is_dir() and [p.name for p in folder.iterdir()] == [f"{filled.stem}.json"]
    assert f"{filled.stem}.json" in res.output.replace("\n", "")


def test_export_never_overwrites_the_workbook_itself(filled, tmp_path):
    before = fx.sha256(filled)
    res = runner.invoke(app, ["export", str(filled), "-o", str(filled)])
    assert res.exit_code == 2 and f"输出「{filled}」就是输入文件「{filled}」，写入会覆盖它。" in res.output.replace("\n", "")
    assert fx.sha256(filled) == before


def test_export_unreadable_and_usage(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"%PDF-1.4")
    res = runner.invoke(app, ["export", str(bad)])
    assert res.exit_code == 1 and "PDF" in res.output
    res = runner.invoke(app, ["export", str(tmp_path / "none.xlsx")])
    assert res.exit_code == 2 and "找不到文件" in res.output
    res = runner.invoke(app, ["export"])
    assert res.exit_code == 2 and "请指定要导出的工作簿" in res.output
    res = runner.invoke(app, ["export", str(tmp_path)])
    assert res.exit_code == 2 and f"「{tmp_path}」是文件夹" in res.output.replace("\n", "")


def test_a_date_in_the_only_amount_cell_is_not_a_number(filled, tmp_path):
    import datetime as dt

    fee = S.field("t2.item8.fees.amount")
    path = fx.set_cells(filled, tmp_path / "date.xlsx", {f"表二!{fee.cell}": dt.date(2021, 12, 31)})
    [f] = [f for f in read_workbook(path).findings if f.fields == (fee.id,)]
    assert f.code == "NOT_A_NUMBER" and "填写的是日期（2021年12月31日）" in f.message


def test_a_blank_cell_is_worded_the_same_from_a_workbook_and_from_a_report_json(filled, tmp_path, rep):
    """BLANK says the same thing (once, not "填 0 … 没有的填 0") whichever way the report came in."""
    from xlsx_tools.checks import check_values

    path = fx.set_cells(filled, tmp_path / "blank.xlsx", {f"{T3}!D4": None})
    from_book = [f.message for f in read_workbook(path).findings if f.code == "BLANK"]
    figures = dict(rep.figures, **{"t3.received.natural_person": None})
    from_json = [f.message for f in check_values(fx.spec(), figures) if f.code == "BLANK"]
    assert from_book == from_json == ["表三 第4行「一、本年新收政府信息公开申请数量」自然人（D4）没有填写。"
                                      "官方表格中没有发生的情况填 0，请补填数字。"]
