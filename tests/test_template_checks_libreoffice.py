"""The live check area in real LibreOffice: a template partly filled by typing (dispatcher, so
sheet protection applies) with values that break rules, recalculated (OOXMLRecalcMode=0 profile
and calculateAll) and saved. The marks LibreOffice computed sit where the rule checks, read
"未填写" where nothing was typed, ✗ where a rule breaks; the conditional formats it kept on the
input cells, evaluated by LibreOffice itself in probe cells, are true exactly for the inputs of
the failing rules."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from openpyxl.formula.translate import Translator

from xlsx_tools.format.cells import a1
from xlsx_tools.format.spec import load_format
from xlsx_tools.write import office
from xlsx_tools.write.layout import check_cells
from xlsx_tools.write.template import write_template
from xlsx_tools.write.template_checks import MARK_BAD, MARK_BLANK, MARK_OK

UNO_SCRIPTS = Path(__file__).resolve().parent / "uno_scripts"  # run_uno's scripts and _bridge

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
]

PROBE_COL = 25  # column Z: outside every table and check area

# What an agency types (sheet, cell, value). 表三 自然人: 一 5, （一） 3, 四 1 → 5 ≠ 3 + 1, so the
# 勾稽关系 of 自然人 (D30) and of 总计 (J30) fail; 表二 规章: 制发 5, 废止 0, 现行有效 1 → 1 < 5 fails
# (F3); 表四 行政复议 结果维持 1 → E5 ✓. Everything else stays blank.
TYPED = [("表三", "D4", 5), ("表三", "D6", 3), ("表三", "D28", 1),
         ("表二", "B3", 5), ("表二", "C3", 0), ("表二", "D3", 1), ("表四", "A4", 1)]
EXPECTED_MARKS = {
    ("表三", "L4"): MARK_OK, ("表三", "L5"): MARK_BLANK, ("表三", "L6"): MARK_OK, ("表三", "L7"): MARK_BLANK,
    ("表三", "L28"): MARK_OK, ("表三", "D29"): MARK_OK, ("表三", "E29"): MARK_BLANK,
    ("表三", "D30"): MARK_BAD, ("表三", "E30"): MARK_BLANK, ("表三", "J30"): MARK_BAD,
    ("表二", "F3"): MARK_BAD, ("表二", "F4"): MARK_BLANK,
    ("表四", "E5"): MARK_OK, ("表四", "J5"): MARK_BLANK, ("表四", "O5"): MARK_BLANK,
}
HIGHLIGHTED = {("表三", c) for c in ("D4", "D5", "D6", "D17", "D26", "D28")} | {("表二", c) for c in ("B3", "C3", "D3")}
NOT_HIGHLIGHTED = {("表三", c) for c in ("E4", "I4", "E6", "I26", "E28")} | {("表二", c) for c in ("B4", "D4")} \
    | {("表四", c) for c in ("A4", "D4", "F4", "K4")}


def _cf_formula(ws, cell: str) -> str | None:
    """The highlight formula that applies to `cell`, moved from its range's top-left to `cell`."""
    for rng, rules in ws.conditional_formatting._cf_rules.items():
        for r in rules:
            if r.type != "expression":
                continue
            for bounds in rng.sqref.ranges:
                if cell in bounds:
                    origin = a1(bounds.min_row - 1, bounds.min_col - 1)
                    return Translator("=" + r.formula[0], origin=origin).translate_formula(cell)
    return None


def _as_sum(formula: str) -> str:
    """=OR(a,b) as =(a)+(b): the same truth, and no argument separator (whose character the
    UNO formula API and Excel spell differently)."""
    body = formula[1:]
    if body.startswith("OR(") and body.endswith(")"):
        return "=" + "+".join(f"({part})" for part in body[3:-1].split(","))
    return f"=({body})+0"


@pytest.fixture(scope="module")
def lo(tmp_path_factory):
    spec = load_format()
    d = tmp_path_factory.mktemp("lo-checks")
    src = write_template(d / "in.xlsx", agency="沙坡头区测试局", year=2025, password="pw-check").path
    generated = openpyxl.load_workbook(src)
    actions = [{"sheet": s, "cell": c, "value": str(v), "mode": "dispatch"} for s, c, v in TYPED]
    probes = {}
    for i, (sheet, cell) in enumerate(sorted(HIGHLIGHTED | NOT_HIGHLIGHTED)):
        formula = _cf_formula(generated[sheet], cell)
        assert formula is not None, (sheet, cell)
        probe = a1(i, PROBE_COL)
        probes[(sheet, cell)] = (sheet, probe)
        actions.append({"sheet": sheet, "cell": probe, "value": _as_sum(formula), "mode": "setformula"})
    marks = [(s, c) for s, cells in check_cells(spec).items() for c, _ in cells]
    actions += [{"sheet": s, "cell": c, "value": None, "mode": "read"} for s, c in marks]
    (d / "actions.json").write_text(json.dumps(actions, ensure_ascii=False), encoding="utf-8")
    out, rep = d / "out.xlsx", d / "report.json"
    office.run_uno("fill_xlsx", src, out, d / "actions.json", "--report", rep, timeout=300, check=True, scripts_dir=UNO_SCRIPTS)
    report = json.loads(rep.read_text(encoding="utf-8"))
    cells = {(c["sheet"], c["cell"]): c for c in report["cells"]}
    return {"spec": spec, "cells": cells, "probes": probes, "saved": openpyxl.load_workbook(out),
            "generated": generated}


def test_typed_values_arrive(lo):
    for sheet, cell, value in TYPED:
        assert lo["cells"][(sheet, cell)]["value"] == value


def test_marks_sit_where_they_check_and_say_what_libreoffice_computed(lo):
    cells = lo["cells"]
    for (sheet, cell), want in EXPECTED_MARKS.items():
        state = cells[(sheet, cell)]
        assert state["type"] == "FORMULA" and state["string"] == want, (sheet, cell, state["string"])
    # every mark LibreOffice computed is one of the three words; 未填写 wherever nothing was typed
    for (sheet, cell), state in cells.items():
        if state["mode"] == "read":
            assert state["string"] in (MARK_OK, MARK_BAD, MARK_BLANK), (sheet, cell)


def test_conditional_formats_survive_libreoffice(lo):
    for sheet, cell in HIGHLIGHTED | NOT_HIGHLIGHTED:
        assert _cf_formula(lo["saved"][sheet], cell) == _cf_formula(lo["generated"][sheet], cell), (sheet, cell)


def test_inputs_of_failing_rules_are_highlighted(lo):
    for key in HIGHLIGHTED:
        sheet, probe = lo["probes"][key]
        assert lo["cells"][(sheet, probe)]["value"] > 0, key
    for key in NOT_HIGHLIGHTED:
        sheet, probe = lo["probes"][key]
        state = lo["cells"][(sheet, probe)]
        assert state["error"] == 0 and state["value"] == 0, (key, state)
