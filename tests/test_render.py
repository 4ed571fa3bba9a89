"""How findings read on screen: an untouched template sent back as is gives one row per sheet for
its blank cells (with how many and which), while the JSON keeps every finding."""

from __future__ import annotations

import io
import json

from rich.console import Console

from xlsx_tools.cli.render import render_result, results_json
from xlsx_tools.read.reader import read_and_check
from xlsx_tools.write.template import write_template


def test_blank_template_condenses_per_sheet(tmp_path):
    path = write_template(tmp_path / "空白.xlsx", agency="某局", year=2025, password="pw-123").path
    result = read_and_check(path)
    blanks = [f for f in result.findings if f.code == "BLANK"]
    assert len(blanks) == 10 + 144 + 12  # every input cell of 表二, 表三, 表四

    out = io.StringIO()
    render_result(Console(file=out, width=200), result)
    text = out.getvalue()
    assert text.count("没有填写。") == 3  # one row per table sheet
    assert "同类问题在「表三」共 144 处：D4、E4、F4、G4、H4、I4、D5、E5、F5、G5、H5、I5……" in text
    assert "同类问题在「表二」共 10 处：B3、C3、D3、B4、C4、D4、B7、B10、B11、B14（完整清单见 --json）" in text
    assert "错误 168 个" in text  # 166 blank cells and the two required sections 一 and 五

    data = json.loads(results_json([result]))
    assert sum(1 for f in data["findings"] if f["code"] == "BLANK") == 166


def test_few_findings_are_listed_one_by_one(tmp_path):
    from tests.reader_fixtures import report, set_cells, write_filled

    good = write_filled(tmp_path / "good.xlsx", report())
    bad = set_cells(good, tmp_path / "bad.xlsx", {"表三!D6": "无", "表三!E6": "—"})
    out = io.StringIO()
    render_result(Console(file=out, width=200), read_and_check(bad))
    text = out.getvalue()
    assert "填写了“无”" in text and "填写了“—”" in text and "同类问题" not in text
