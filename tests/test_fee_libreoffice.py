"""The fee as real reports print it (issue 8 §2, Evidence): 24252.311082 万元 round-trips exactly
through template → typed and saved by a real LibreOffice → check (no error) → export → Word table
→ aggregate (JSON, and the official workbook), and every workbook we write shows it with exactly
those digits in LibreOffice's own rendering (PDF) — as does 26.5 (not "26.50") and a whole 12
(not "12." or "12.00").
"""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest
from typer.testing import CliRunner

from tests import reader_fixtures as fx
from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo import samples
from xlsx_tools.read.reader import read_and_check, read_workbook
from xlsx_tools.write import office
from xlsx_tools.write.template import write_template

UNO_SCRIPTS = Path(__file__).resolve().parent / "uno_scripts"  # run_uno's scripts and _bridge

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
]

S = fx.spec()
FEE = S.field("t2.item8.fees.amount")
FEES = {"real": "24252.311082", "short": "26.5", "whole": "12"}

FILL_SCRIPT = '''
import json, sys
import fill_xlsx

for fill in json.load(open(sys.argv[1], encoding="utf-8")):
    status = fill_xlsx.main([fill["input"], fill["output"], fill["actions"], "--report", fill["report"]])
    if status:
        sys.exit(status)
'''


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """One template per fee, every input typed through LibreOffice's dispatcher and saved by it."""
    d = tmp_path_factory.mktemp("lo-fee")
    values = S.input_values(samples.random_figures(S, random.Random(8), busy=0.6))
    person = next(f for f in S.info_fields if f.key == "contact_person")
    parts = {p.section: p for p in reversed(S.narrative_parts)}
    jobs = []
    for name, fee in FEES.items():
        src = write_template(d / f"template-{name}.xlsx", agency=f"测试局{name}", year=fx.YEAR, code=f"C-{name}",
                             password=fx.PASSWORD).path
        typed = {**values, FEE.id: fee}
        actions = [{"sheet": S.field(fid).sheet, "cell": S.field(fid).cell, "value": str(v), "mode": "dispatch"}
                   for fid, v in typed.items()]
        actions.append({"sheet": person.sheet, "cell": person.cell, "value": "张三", "mode": "dispatch"})
        for section in ("overview", "problems"):
            actions.append({"sheet": parts[section].sheet, "cell": parts[section].cell,
                            "value": fx.NARRATIVE[section], "mode": "dispatch"})
        (d / f"{name}.json").write_text(json.dumps(actions, ensure_ascii=False), encoding="utf-8")
        jobs.append({"input": str(src), "output": str(d / f"{name}.xlsx"), "actions": str(d / f"{name}.json"),
                     "report": str(d / f"{name}-report.json")})
    (d / "jobs.json").write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    office.run_uno(FILL_SCRIPT, d / "jobs.json", timeout=600, check=True, scripts_dir=UNO_SCRIPTS)
    return {name: d / f"{name}.xlsx" for name in FEES}


def _pdf_text(path: Path, outdir: Path) -> str:
    pdf = office.convert(path, "pdf", outdir)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _fee_lines(text: str) -> list[str]:
    """The numbers printed on the lines of 行政事业性收费 (the fee's row label)."""
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if FEE.row_labels[-1] in line]


def test_libreoffice_shows_the_fee_as_typed(saved, tmp_path):
    for name, fee in FEES.items():
        report = json.loads((saved[name].parent / f"{name}-report.json").read_text(encoding="utf-8"))
        cell = next(c for c in report["cells"] if c["cell"] == FEE.cell and c["sheet"] == FEE.sheet)
        assert cell["value"] == float(fee)
        lines = _fee_lines(_pdf_text(saved[name], tmp_path / name))
        assert lines and all(line.endswith(f" {fee}") for line in lines), (name, lines)


def test_round_trip_through_check_export_word_and_aggregate(saved, tmp_path):
    runner = CliRunner()
    book = saved["real"]
    # check: no error, the exact value
    result = read_and_check(book)
    assert not [f for f in result.findings if f.is_error], [f.message for f in result.findings]
    assert str(result.report.figures[FEE.id]) == "24252.311082"
    res = runner.invoke(app, ["check", str(book)])
    assert res.exit_code == 0, res.output
    # export
    exported = tmp_path / "export.json"
    res = runner.invoke(app, ["export", str(book), "-o", str(exported)])
    assert res.exit_code == 0, res.output
    assert '"value": 24252.311082' in exported.read_text(encoding="utf-8")
    # Word table, from the export
    word = tmp_path / "report.docx"
    res = runner.invoke(app, ["docx", str(exported), "-o", str(word)])
    assert res.exit_code == 0, res.output
    cells = [c.text for t in docx.Document(str(word)).tables for row in t.rows for c in row.cells]
    assert "24252.311082" in cells
    # aggregate: alone (the same digits) and with 26.5 (the exact sum)
    alone = tmp_path / "alone.json"
    res = runner.invoke(app, ["aggregate", str(exported), "-o", str(alone), "--agency", "汇总", "--year", str(fx.YEAR)])
    assert res.exit_code == 0, res.output
    assert '"value": 24252.311082' in alone.read_text(encoding="utf-8")
    total = tmp_path / "total.xlsx"
    res = runner.invoke(app, ["aggregate", str(book), str(saved["short"]), "-o", str(total), "--agency", "汇总",
                              "--year", str(fx.YEAR), "--password", "pw"])
    assert res.exit_code == 0, res.output
    assert str(read_workbook(total).report.figures[FEE.id]) == "24278.811082"
    lines = _fee_lines(_pdf_text(total, tmp_path / "total"))
    assert lines and all(line.endswith(" 24278.811082") for line in lines), lines


def test_collect_summary_workbook_prints_the_same_digits(saved, tmp_path):
    returned = tmp_path / "returned"
    returned.mkdir()
    for name in ("real", "whole"):
        (returned / saved[name].name).write_bytes(saved[name].read_bytes())
    roster = tmp_path / "roster.csv"
    roster.write_text("机关名称,机关代码\n测试局real,C-real\n测试局whole,C-whole\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["collect", str(returned), "-r", str(roster), "-o", str(tmp_path / "out"), "-j", "1"])
    assert res.exit_code in (0, 1), res.output
    data = json.loads((tmp_path / "out" / "collect.json").read_text(encoding="utf-8"))
    assert '24264.311082' in json.dumps(data["total"])  # the exact sum 24252.311082 + 12
    book = tmp_path / "out" / "收集情况.xlsx"
    text = _pdf_text(book, tmp_path / "pdf")
    assert "24264.311082" in text and "24264.31108 " not in text  # the 汇总 sheet, as printed
    # the per-agency columns (not on the printed pages): each amount in 0.###### with a conditional
    # "0" for whole numbers, exactly as the template's fee cell
    wb = openpyxl.load_workbook(book)
    for sheet in ("收集情况", "全部数据"):
        ws = wb[sheet]
        cells = [c for row in ws.iter_rows() for c in row if c.value in (12, 24252.311082) and c.column > 3]
        fees = [c for c in cells if c.value == 24252.311082]
        assert fees and all(c.number_format == "0.######" for c in fees), sheet
        rules = [r for cf in ws.conditional_formatting for r in cf.rules
                 if fees[0].coordinate in cf.sqref and r.dxf is not None and r.dxf.numFmt is not None]
        assert [r.dxf.numFmt.formatCode for r in rules] == ["0"], sheet
