"""A bug of ours is never blamed on the agency's file: the reader turns only format errors into
"文件内容不符合 Excel 格式"; anything else is INTERNAL_ERROR ("请把此文件发给维护人员"), exit
status 4 for every command, and collect lists the file as 内部错误 while finishing the rest."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from typer.testing import CliRunner

from tests import reader_fixtures as fx
from tests.test_collect import ROSTER, YEAR, clean_report, write_return
from xlsx_tools.cli.app import app
from xlsx_tools.cli.console import EXIT_INTERNAL
from xlsx_tools.read import reader
from xlsx_tools.read.reader import KIND_INTERNAL, KIND_UNREADABLE, read_and_check
from xlsx_tools.read.roster import write_roster

runner = CliRunner()


def squash(text: str) -> str:
    return re.sub(r"[\s│]+", "", text)


def _bug_in_reading(monkeypatch, exc: BaseException, only: str = ""):
    original = reader._read

    def read(wb, *a, **kw):
        if wb.intake.name.endswith(only):
            raise exc
        return original(wb, *a, **kw)

    monkeypatch.setattr(reader, "_read", read)


@pytest.fixture
def good(tmp_path):
    return fx.write_filled(tmp_path / "好.xlsx", fx.report(1))


@pytest.mark.parametrize("exc", [KeyError("t3.x"), TypeError("unsupported operand"), AttributeError("x"),
                                 IndexError("list index"), ValueError("bug")])
def test_a_bug_is_an_internal_error_not_a_bad_file(monkeypatch, good, exc):
    _bug_in_reading(monkeypatch, exc)
    result = read_and_check(good)
    assert result.kind == KIND_INTERNAL and result.report is None
    [f] = result.findings
    assert f.code == "INTERNAL_ERROR" and f.is_error
    assert f.message == f"「{good}」读取或检查时本工具内部出错（这不是文件的问题，此文件未能检查。请把此文件发给维护人员）。"
    assert "Excel 格式" not in f.message and type(exc).__name__ not in f.message
    assert f.values["exception"] == type(exc).__name__ and f.values["where"].startswith("test_internal_error.py:")


@pytest.mark.parametrize("exc", [zipfile.BadZipFile("bad"), EOFError(), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x")])
def test_format_errors_are_still_the_files(monkeypatch, good, exc):
    _bug_in_reading(monkeypatch, exc)
    result = read_and_check(good)
    assert result.kind == KIND_UNREADABLE
    assert [f.code for f in result.findings] == ["UNREADABLE"]
    assert "文件内容不符合 Excel 格式" in result.findings[0].message
    assert type(exc).__name__ not in result.findings[0].message


def test_a_bug_in_the_checks_is_internal_too(monkeypatch, good):
    def broken(*a, **kw):
        raise TypeError("bug")

    monkeypatch.setattr(reader, "check_report", broken)
    result = read_and_check(good)
    assert result.kind == KIND_INTERNAL and result.findings[0].code == "INTERNAL_ERROR"


def test_check_exit_4_and_the_other_files_still_checked(monkeypatch, good, tmp_path):
    other = fx.write_filled(tmp_path / "坏.xlsx", fx.report(2))
    _bug_in_reading(monkeypatch, KeyError("x"), only="坏.xlsx")
    res = runner.invoke(app, ["check", str(good), str(other)])
    assert res.exit_code == EXIT_INTERNAL == 4, res.output
    out = squash(res.output)
    assert "读取或检查时本工具内部出错" in out and "请把此文件发给维护人员" in out
    assert "未发现问题" in out  # the good file's own result
    assert "Traceback" not in res.output and "KeyError" not in res.output
    res = runner.invoke(app, ["check", str(good), str(other), "--json"])
    assert res.exit_code == 4
    data = json.loads(res.stdout)
    assert [d["kind"] for d in data] == ["ok", "internal"]
    assert data[1]["findings"][0]["values"]["exception"] == "KeyError"


def test_export_and_docx_exit_4(monkeypatch, good, tmp_path):
    _bug_in_reading(monkeypatch, AttributeError("x"))
    res = runner.invoke(app, ["export", str(good), "-o", str(tmp_path / "a.json")])
    assert res.exit_code == 4 and "请把此文件发给维护人员" in squash(res.output)
    assert not (tmp_path / "a.json").exists()
    res = runner.invoke(app, ["docx", str(good), "-o", str(tmp_path / "a.docx")])
    assert res.exit_code == 4 and "请把此文件发给维护人员" in squash(res.output)


def test_collect_lists_the_file_as_internal_and_goes_on(monkeypatch, tmp_path):
    root = tmp_path / "回收"
    for i in range(3):
        write_return(root / f"{ROSTER[i].agency}.xlsx", clean_report(i + 1, i))
    write_roster(tmp_path / "r.csv", ROSTER[:3])
    _bug_in_reading(monkeypatch, KeyError("x"), only=f"{ROSTER[1].agency}.xlsx")
    res = runner.invoke(app, ["collect", str(root), "--roster", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o"),
                              "-j", "1"])
    assert res.exit_code == 4, res.output
    out = squash(res.output)
    assert "内部错误1" in out  # the file count in the summary
    assert squash(f"内部错误：1 个文件因本工具内部出错未能检查（不是文件的问题），请把这些文件发给维护人员：{ROSTER[1].agency}.xlsx。") in out
    data = json.loads((tmp_path / "o" / "collect.json").read_text(encoding="utf-8"))
    statuses = {f["path"]: f["status"] for f in data["files"]}
    assert statuses[f"{ROSTER[1].agency}.xlsx"] == "内部错误"
    assert sorted(statuses.values()) == ["内部错误", "合格", "合格"]
    agencies = {a["agency"]: a["status"] for a in data["agencies"]}
    assert agencies[ROSTER[0].agency] == agencies[ROSTER[2].agency] == "合格"
    assert agencies[ROSTER[1].agency] == "有错误"  # not accepted; the note says the fault is ours
    note = next(a["note"] for a in data["agencies"] if a["agency"] == ROSTER[1].agency)
    assert note.startswith("提交的文件未能检查（按文件名对应到本机关）（本工具内部出错，不是文件的问题）：")
    assert "请把此文件发给维护人员" in note
    assert (tmp_path / "o" / "收集情况.xlsx").exists()


def test_aggregate_sums_the_rest_and_exits_4(monkeypatch, tmp_path):
    root = tmp_path / "回收"
    for i in range(3):
        write_return(root / f"{i}.xlsx", clean_report(i + 1, i))
    _bug_in_reading(monkeypatch, TypeError("x"), only="1.xlsx")
    out = tmp_path / "汇总.json"
    res = runner.invoke(app, ["aggregate", str(root), "-o", str(out), "--agency", "汇总", "--year", str(YEAR), "-j", "1"])
    assert res.exit_code == 4, res.output
    assert "计入汇总2份报告" in squash(res.output) and "请把这些文件发给维护人员" in squash(res.output)
    assert json.loads(out.read_text(encoding="utf-8"))["aggregate"]["count"] == 2
