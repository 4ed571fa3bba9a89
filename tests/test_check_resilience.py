"""check goes on when one file (or last year's report) fails in a way nobody foresaw, and no
command opens a FIFO given as --roster, --previous or an input (issue 8 §3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import reader_fixtures as fx
from xlsx_tools.cli.app import app
from xlsx_tools.read import reader
from xlsx_tools.read.resilience import check_file

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")


def cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xlsx_tools", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def test_an_exception_while_checking_one_file_does_not_stop_the_others(tmp_path, monkeypatch):
    good = fx.write_filled(tmp_path / "good.xlsx")
    bad = fx.write_filled(tmp_path / "bad.xlsx")
    real = reader.read_and_check

    def flaky(path, **kw):
        if Path(path).name == "bad.xlsx":
            raise ZeroDivisionError("a bug of ours")
        return real(path, **kw)

    monkeypatch.setattr(reader, "read_and_check", flaky)
    result = CliRunner().invoke(app, ["check", "--json", str(bad), str(good)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 4  # an internal error: the documented exit status
    data = json.loads(result.stdout)
    assert [f["code"] for f in data[0]["findings"]] == ["INTERNAL_ERROR"]
    message = data[0]["findings"][0]["message"]
    assert message.startswith(f"「{bad}」读取或检查时本工具内部出错")
    assert "请把此文件发给维护人员" in message and "ZeroDivisionError" not in message
    assert data[1]["findings"] == []


def test_cross_year_rules_failing_on_last_years_report_leave_this_years_checks(tmp_path, monkeypatch):
    this = fx.write_filled(tmp_path / "this.xlsx")
    last = fx.report(seed=3, year=fx.YEAR - 1)
    last.provenance.source = "last.json"
    from xlsx_tools import checks

    real = checks.check_report

    def broken(report, previous=None, **kw):
        if previous is not None:
            raise ArithmeticError("NaN")
        return real(report, **kw)

    monkeypatch.setattr(reader, "check_report", broken)
    result = check_file(this, previous=last)
    assert result.report is not None
    assert [f.code for f in result.findings] == ["PREV_CHECK_FAILED"]
    assert f"与「{fx.AGENCY}」上一年度报告（last.json）的跨年度核对未能完成" in result.findings[0].message


def test_check_previous_json_with_nan_ends_without_a_traceback(tmp_path):
    this = fx.write_filled(tmp_path / "this.xlsx")
    text = fx.report(seed=3, year=fx.YEAR - 1).to_json()
    key = '"t3.received.natural_person"'
    colon = text.index(":", text.index(key))
    end = min(i for i in (text.find(",", colon), text.find("}", colon)) if i > 0)
    prev = tmp_path / "last.json"
    prev.write_text(text[:colon + 1] + " NaN" + text[end:], encoding="utf-8")
    done = cli("check", str(this), "--previous", str(prev))
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode in (0, 1, 2)
    if done.returncode == 2:  # refused as last year's report: said in Chinese, naming the file
        assert "last.json" in done.stdout + done.stderr


@needs_fifo
def test_fifo_as_previous_roster_or_aggregate_input_never_hangs(tmp_path):
    this = fx.write_filled(tmp_path / "this.xlsx")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    done = cli("check", str(this), "--previous", str(fifo))
    assert done.returncode == 2 and "不是普通文件（是命名管道 FIFO）" in " ".join((done.stdout + done.stderr).split())
    roster = tmp_path / "roster.csv"
    os.mkfifo(roster)
    (tmp_path / "in").mkdir()
    done = cli("collect", str(tmp_path / "in"), "--roster", str(roster), "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and "不是普通文件（是命名管道 FIFO）" in " ".join((done.stdout + done.stderr).split())
    done = cli("aggregate", str(this), str(fifo), "-o", str(tmp_path / "sum.json"), "--agency", "全市", "--year",
               str(fx.YEAR))
    assert "Traceback" not in done.stderr
    assert "不是普通文件（是命名管道 FIFO）" in " ".join((done.stdout + done.stderr).split())
    done = cli("docx", str(fifo))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = cli("template", "--roster", str(roster), "--year", str(fx.YEAR), "-o", str(tmp_path / "tpl"))
    assert done.returncode == 2 and "无法读取名单文件" in done.stdout + done.stderr
    assert "不是普通文件（是命名管道 FIFO）" in " ".join((done.stdout + done.stderr).split())
