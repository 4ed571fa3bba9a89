"""Report JSON read with limits (issue 8 §1, §5): NaN, Infinity, huge numbers and deep nesting are
refused with a Chinese message naming the field (or the place); counts come back as ints; fees as
exact Decimals; no internal marker ever reaches the output."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo.samples import sample_report
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.jsonio import JsonError, dumps, loads, read_json
from xlsx_tools.model.report import Report

SPEC = load_format()
COUNT = SPEC.field("t2.item1.rules.issued")
FEE = SPEC.field("t2.item8.fees.amount")
ENV = {"COLUMNS": "300"}


def _json_with(field_id: str, value_text: str) -> str:
    """The sample report's JSON with one value replaced by raw JSON text."""
    data = json.loads(sample_report().to_json())
    marker = "@@value@@"
    for item in data["figures"]:
        if item["id"] == field_id:
            item["value"] = marker
    return json.dumps(data, ensure_ascii=False, indent=2).replace(f'"{marker}"', value_text)


@pytest.mark.parametrize(("field", "text", "says"), [
    (COUNT, "NaN", "“NaN”不是数字"), (COUNT, "Infinity", "“Infinity”不是数字"), (FEE, "-Infinity", "不是数字"),
    (FEE, "1e5000", "1e5000 数字过大"), (COUNT, "1" * 5000, "数字过大"), (FEE, '"1E+999999999"', "数字过大"),
    (FEE, "1e-400", "位数过多"), (COUNT, "5.5", "5.5 不是整数"), (COUNT, "true", "true 不是数字"),
    (COUNT, '"五"', "“五”不是数字"), (FEE, "[1]", "[1] 不是数字"),
])
def test_unusable_values_are_refused_naming_the_field(field, text, says):
    start = time.perf_counter()
    with pytest.raises(JsonError) as err:
        Report.from_json(_json_with(field.id, text))
    assert time.perf_counter() - start < 1
    message = str(err.value)
    assert message.startswith(f"数据项 {field.id}（{field.where}）的数值不正确：")
    assert says in message and len(message) < 200


def test_counts_are_ints_and_fees_exact_decimals():
    report = Report.from_json(_json_with(COUNT.id, "5.0").replace('"value": 0', '"value": 3.000', 1))
    assert report.figures[COUNT.id] == 5 and type(report.figures[COUNT.id]) is int
    assert all(type(report.figures[f.id]) is int for f in SPEC.fields if f.type.kind == "integer"
               and report.figures[f.id] is not None)
    for text in ("24252.311082", '"24252.311082"', "5949.088667", "26.50"):
        fee = Report.from_json(_json_with(FEE.id, text)).figures[FEE.id]
        assert isinstance(fee, Decimal) and fee == Decimal(text.strip('"'))
        back = Report.from_json(Report.from_json(_json_with(FEE.id, text)).to_json()).figures[FEE.id]
        assert str(back) == str(fee)  # same digits after a round trip
    assert '"value": 24252.311082' in Report.from_json(_json_with(FEE.id, '"24252.311082"')).to_json()


def test_deep_nesting_is_refused_without_recursion_error():
    text = "[" * 100_000 + "]" * 100_000
    start = time.perf_counter()
    with pytest.raises(JsonError, match="嵌套层数超过 64 层"):
        Report.from_json(text)
    with pytest.raises(JsonError, match="嵌套层数"):
        loads('{"a": ' * 100_000 + "1" + "}" * 100_000)
    assert time.perf_counter() - start < 2
    inside = "[" * 100 + '\\"{'
    assert loads(json.dumps({"x": inside})) == {"x": inside}  # brackets inside strings are not nesting


def test_size_encoding_and_syntax_are_reported_in_chinese(tmp_path: Path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": "a" * 2000}), encoding="utf-8")
    with pytest.raises(JsonError, match="文件过大"):
        read_json(big, max_bytes=1000)
    gbk = tmp_path / "gbk.json"
    gbk.write_bytes('{"agency": "某局"}'.encode("gbk"))
    with pytest.raises(JsonError, match="不是 UTF-8 编码"):
        read_json(gbk)
    with pytest.raises(JsonError, match="不是有效的 JSON（第 1 行第 7 列）"):
        loads('{"a": }')


@pytest.mark.parametrize(("data", "says"), [
    ([], "不是一个报告"), ({"format": "../x"}, "缺少键"), ("x", "不是一个报告"),
])
def test_structure_errors_are_chinese(data, says):
    with pytest.raises(JsonError, match=says):
        Report.from_dict(data)


@pytest.mark.parametrize(("key", "value", "says"), [
    ("format", "../../etc/passwd", "不是报告格式名称"), ("year", "NaN", "不是年份"), ("year", 1e30, "不是年份"),
    ("agency", "某局", "“agency”应为"), ("figures", {"a": 1}, "“figures”应为数组"), ("narrative", [], "“narrative”应为"),
])
def test_every_key_is_checked(key, value, says):
    data = json.loads(sample_report().to_json())
    data[key] = value
    with pytest.raises(JsonError, match=says):
        Report.from_dict(data)


def test_output_never_holds_an_internal_marker():
    text = dumps({"a": Decimal("Infinity"), "b": Decimal("NaN"), "c": Decimal("1E+5000"), "d": float("nan"),
                  "e": Decimal("26.50"), "f": Decimal("1E+2"), "g": [Decimal("0.000001")]})
    assert "@dec" not in text
    data = json.loads(text)  # strict JSON: no bare NaN/Infinity
    assert data == {"a": "Infinity", "b": "NaN", "c": "1E+5000", "d": "nan", "e": 26.5, "f": 100, "g": [0.000001]}
    assert '"e": 26.5,' in text and '"g": [\n    0.000001\n  ]' in text


# ---------------------------------------------------------------------------------------------
# Commands: exit 2, the file and the field named


def test_docx_of_a_json_with_nan_is_exit_2_naming_file_and_field(tmp_path: Path):
    bad = tmp_path / "上年.json"
    bad.write_text(_json_with(FEE.id, "NaN"), encoding="utf-8")
    res = CliRunner().invoke(app, ["docx", str(bad), "-o", str(tmp_path / "x.docx")], env=ENV)
    assert res.exit_code == 2, res.output
    text = "".join(res.output.split())
    assert "上年.json" in text and FEE.id in text and "Traceback" not in res.output
    assert not (tmp_path / "x.docx").exists()


def test_check_previous_json_nested_deep_is_exit_2(tmp_path: Path):
    from xlsx_tools.write.template import write_template

    book = write_template(tmp_path / "t.xlsx", agency="某局", year=2021, password="pw").path
    prev = tmp_path / "prev.json"
    prev.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(book), "--previous", str(prev)], env=ENV)
    assert res.exit_code == 2, res.output
    assert "prev.json" in "".join(res.output.split()) and "嵌套层数" in res.output


def test_aggregate_lists_a_json_with_infinity_naming_the_field(tmp_path: Path):
    good = tmp_path / "good.json"
    good.write_text(sample_report().to_json(), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(_json_with(COUNT.id, "Infinity"), encoding="utf-8")
    res = CliRunner().invoke(app, ["aggregate", str(good), str(bad), "-o", str(tmp_path / "sum.json"),
                                   "--agency", "汇总", "--year", "2021"], env=ENV)
    assert "Traceback" not in res.output and "@dec" not in res.output
    text = "".join(res.output.split())
    assert "bad.json" in text and COUNT.id in text, res.output
