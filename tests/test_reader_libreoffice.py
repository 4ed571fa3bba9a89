"""The reader on workbooks filled and saved by a real LibreOffice. One soffice start fills five
copies of a template through UNO (fill_xlsx's dispatch mode types like a person, so protection
applies; setValue ignores it) and saves each as .xlsx:

- clean:    every input typed in → read back exactly, no findings;
- tampered: plus a locked total overwritten with setValue → FORMULA_OVERWRITTEN;
- inserted: plus a row inserted in 表三 after unprotecting → ROWS_SHIFTED, values still found
            through the names LibreOffice moved along;
- deleted:  plus a row of 表三 deleted → ROWS_SHIFTED and its cells reported as gone, the other
            values still found;
- renamed:  plus 表三 renamed → SHEET_RENAMED, values found through the renamed names.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from tests import reader_fixtures as fx
from xlsx_tools.cli.demo import samples
from xlsx_tools.read.reader import read_and_check
from xlsx_tools.write import office
from xlsx_tools.write.template import write_template

UNO_SCRIPTS = Path(__file__).resolve().parent / "uno_scripts"  # run_uno's scripts and _bridge

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
]

S = fx.spec()
TOTAL = S.field("t3.withheld.internal_affairs.total")  # 表三 J12, a locked formula

# Runs under the UNO Python (stdlib, uno, _bridge, the bundled fill_xlsx): fills copies through
# fill_xlsx's own entry point, then applies structural edits to a filled copy, all in one session.
JOBS_SCRIPT = '''
import json, sys
import _bridge
import fill_xlsx

spec = json.load(open(sys.argv[1], encoding="utf-8"))
for fill in spec["fills"]:
    status = fill_xlsx.main([fill["input"], fill["output"], fill["actions"]])
    if status:
        sys.exit(status)
ctx, smgr, desktop = _bridge.connect()
for edit in spec["edits"]:
    doc = _bridge.load(desktop, edit["input"])
    try:
        sheet = doc.Sheets.getByName(edit["sheet"])
        if edit["op"] == "insert_row":
            sheet.unprotect(spec["password"])
            sheet.getRows().insertByIndex(edit["row"], 1)
        elif edit["op"] == "delete_row":
            sheet.unprotect(spec["password"])
            sheet.getRows().removeByIndex(edit["row"], 1)
        elif edit["op"] == "rename":
            sheet.setName(edit["name"])
        doc.calculateAll()
        _bridge.store_xlsx(doc, edit["output"])
    finally:
        _bridge.close(doc)
'''


@pytest.fixture(scope="module")
def typed():
    values = S.input_values(samples.random_figures(S, random.Random(21), busy=0.7))
    values["t2.item8.fees.amount"] = Decimal("26.55")
    return values


@pytest.fixture(scope="module")
def saved(tmp_path_factory, typed):
    d = tmp_path_factory.mktemp("lo-reader")
    src = write_template(d / "template.xlsx", agency=fx.AGENCY, year=fx.YEAR, code=fx.CODE,
                         password=fx.PASSWORD).path
    person = next(f for f in S.info_fields if f.key == "contact_person")
    parts = {p.section: p for p in reversed(S.narrative_parts)}  # the first part of each section
    fill = [{"sheet": S.field(fid).sheet, "cell": S.field(fid).cell, "value": str(v), "mode": "dispatch"}
            for fid, v in typed.items()]
    fill.append({"sheet": person.sheet, "cell": person.cell, "value": "张三", "mode": "dispatch"})
    for section in ("overview", "problems"):
        p = parts[section]
        fill.append({"sheet": p.sheet, "cell": p.cell, "value": fx.NARRATIVE[section], "mode": "dispatch"})
    tamper = [{"sheet": TOTAL.sheet, "cell": TOTAL.cell, "value": 999, "mode": "setvalue"}]
    for name, actions in (("fill", fill), ("tamper", fill + tamper)):
        (d / f"{name}.json").write_text(json.dumps(actions, ensure_ascii=False), encoding="utf-8")
    out = {name: d / f"{name}.xlsx" for name in ("clean", "tampered", "inserted", "deleted", "renamed")}
    jobs = {
        "password": fx.PASSWORD,
        "fills": [
            {"input": str(src), "output": str(out["clean"]), "actions": str(d / "fill.json")},
            {"input": str(src), "output": str(out["tampered"]), "actions": str(d / "tamper.json")},
        ],
        "edits": [
            {"input": str(out["clean"]), "output": str(out["inserted"]), "sheet": "表三", "op": "insert_row", "row": 11},
            {"input": str(out["clean"]), "output": str(out["deleted"]), "sheet": "表三", "op": "delete_row", "row": 11},
            {"input": str(out["clean"]), "output": str(out["renamed"]), "sheet": "表三", "op": "rename", "name": "Sheet3"},
        ],
    }
    (d / "jobs.json").write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    office.run_uno(JOBS_SCRIPT, d / "jobs.json", timeout=600, check=True, scripts_dir=UNO_SCRIPTS)
    return out


def _inputs(result):
    return {fid: result.report.figures[fid] for fid in S.input_values(result.report.figures)}


def test_filled_by_libreoffice_reads_back_exactly(saved, typed):
    before = fx.sha256(saved["clean"])
    result = read_and_check(saved["clean"])
    assert fx.sha256(saved["clean"]) == before
    assert result.application.startswith("LibreOffice")
    assert result.findings == [], [(f.code, f.message) for f in result.findings]
    assert _inputs(result) == typed
    fee = result.report.figures["t2.item8.fees.amount"]
    assert isinstance(fee, Decimal) and str(fee) == "26.55"
    assert result.report.contact["contact_person"] == "张三"
    assert result.report.narrative["overview"] == fx.NARRATIVE["overview"]
    assert result.report.figures == S.compute(typed)


def test_total_overwritten_through_setvalue_is_caught(saved):
    result = read_and_check(saved["tampered"])
    [f] = [f for f in result.findings if f.code == "FORMULA_OVERWRITTEN"]
    assert f.is_error and f.cells == (f"{TOTAL.sheet}!{TOTAL.cell}",) and f.values["value"] == "999"
    assert f.message.startswith(f"{TOTAL.where}是自动计算的单元格，公式被改成了固定内容“999”")
    assert [x.code for x in result.findings if x.is_error] == ["FORMULA_OVERWRITTEN"]


def test_row_inserted_in_libreoffice_moves_names_and_values_along(saved, typed):
    result = read_and_check(saved["inserted"])
    errors = [f for f in result.findings if f.is_error]
    assert [f.code for f in errors] == ["ROWS_SHIFTED"], [(f.code, f.message) for f in result.findings]
    assert errors[0].values["names_moved"] is True
    assert errors[0].values["expected"] == "C12" and errors[0].values["actual"] == "C13"
    assert _inputs(result) == typed


def test_sheet_renamed_in_libreoffice_is_read_through_its_names(saved, typed):
    result = read_and_check(saved["renamed"])
    assert [f.code for f in result.findings] == ["SHEET_RENAMED"]
    assert result.findings[0].values == {"sheet": "表三", "renamed_to": "Sheet3"}
    assert _inputs(result) == typed


def test_row_deleted_in_libreoffice(saved, typed):
    result = read_and_check(saved["deleted"])
    errors = {f.code: f for f in result.findings if f.is_error}
    assert set(errors) == {"ROWS_SHIFTED", "NAME_MISSING"}, [(f.code, f.message) for f in result.findings]
    gone = [f.id for f in S.fields if f.sheet == "表三" and f.row == 11]  # the 12th row of 表三
    assert errors["NAME_MISSING"].cells == tuple(f"表三!{S.field(fid).cell}" for fid in gone)
    assert errors["NAME_MISSING"].message.startswith("「表三」中有 7 个需要填写或计算的单元格所在的行或列已被删除（如 D12）")
    figures = result.report.figures
    assert all(figures[fid] is None for fid in gone)
    assert all(figures[fid] == v for fid, v in typed.items() if fid not in gone)
