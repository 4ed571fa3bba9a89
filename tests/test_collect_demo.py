"""The demo's collection stage: the season it writes is reported as designed."""

from __future__ import annotations

from rich.console import Console

from xlsx_tools.cli.demo import collect as d
from xlsx_tools.cli.demo.run import STAGES, run_demo
from xlsx_tools.cli.demo.samples import SAMPLE_ROSTER
from xlsx_tools.collect import walk
from xlsx_tools.model.report import Report, loads
from xlsx_tools.model.status import Status

EXPECTED = {
    d.CLEAN: Status.OK, d.BALANCE_ERROR: Status.ERR, d.TEXT_MISMATCH: Status.WARN, d.RESENT: Status.OK, d.IN_ZIP: Status.OK,
    d.BLANK_CELL: Status.ERR, d.STOCK_WARNING: Status.WARN, d.CORRUPT: Status.ERR, d.SILENT: Status.MISSING,
}


def test_stage_collect_runs_the_whole_season(tmp_path):
    console = Console(record=True, width=200)
    stages = STAGES if d.stage_collect in STAGES else [*STAGES, d.stage_collect]
    assert run_demo(tmp_path, console, stages=stages) == 0
    base = tmp_path / d.FOLDER
    data = loads((base / d.RESULTS / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    assert [a["status"] for a in data["agencies"]] == [EXPECTED[w].label for w in d.SEASON]
    text = console.export_text()
    assert f"应交 12 家，已交 11 家：合格 6，有警告 2，有错误 3；未提交 1 家：{SAMPLE_ROSTER[11][0]}。" in text
    assert "收集/收集结果/收集情况.xlsx" in text
    docx = sorted(p.name for p in (base / d.RESULTS / "年度报告").iterdir())
    assert len(docx) == 8 == len(data["docx"])
    combined = Report.load(base / "汇总.json")
    assert combined.figures == data["total"]["figures"]
    assert (base / "汇总.xlsx").is_file() and (base / "汇总.docx").is_file()
