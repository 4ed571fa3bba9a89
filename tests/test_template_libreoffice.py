"""The template in a real office suite: LibreOffice fills it the way a person types (dispatcher
.uno:EnterString, so sheet protection applies), recalculates and saves it as .xlsx; openpyxl then
checks what LibreOffice kept and computed. One soffice start serves every test of this module.

LibreOffice does not import workbook structure protection from .xlsx (its oox filter has no case
for <workbookProtection>), so that one is checked on the generated file only (test_template.py).
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.protection import hash_password

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.cells import a1
from xlsx_tools.format.spec import load_format
from xlsx_tools.model import meta
from xlsx_tools.write import office
from xlsx_tools.write.layout import check_cells
from xlsx_tools.write.template import write_template
from xlsx_tools.write.template_checks import MARK_BAD, MARK_OK

UNO_SCRIPTS = Path(__file__).resolve().parent / "uno_scripts"  # run_uno's scripts and _bridge

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
]

PASSWORD = "LO-test-2025"
PERSON = "张三"
INTRO = "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。"


@pytest.fixture(scope="module")
def spec():
    return load_format()


@pytest.fixture(scope="module")
def figures(spec):
    values = spec.input_values(samples.random_figures(spec, random.Random(11), busy=0.8))
    values["t2.item8.fees.amount"] = Decimal("12.5")
    values["t3.received.natural_person"] += 2  # breaks 勾稽关系 for 自然人 and 总计: some ✗ to see
    return values


def _locked_targets(spec):
    """Cells a person might type into although they are locked: labels, totals, a check mark."""
    t2, t3, t4 = (spec.table(k) for k in ("t2", "t3", "t4"))
    info_agency = next(f for f in spec.info_fields if f.key == "agency")
    mark = check_cells(spec)[t3.sheet][0][0]
    return [
        (t3.sheet, t3.cells[0].ref.split(":")[0]),  # the 勾稽关系 note
        (t3.sheet, "C8"),  # 1.属于国家秘密
        (t3.sheet, spec.field("t3.received.total").cell),
        (t3.sheet, spec.field("t3.results_total.natural_person").cell),
        (t3.sheet, mark),
        (t2.sheet, "A1"),
        (t4.sheet, spec.field("t4.review.total").cell),
        (info_agency.sheet, info_agency.cell),
    ]


@pytest.fixture(scope="module")
def lo(tmp_path_factory, spec, figures):
    d = tmp_path_factory.mktemp("lo")
    src = write_template(d / "in.xlsx", agency="沙坡头区测试局", year=2025, code="T-1", password=PASSWORD).path
    before = openpyxl.load_workbook(src)
    person = next(f for f in spec.info_fields if f.key == "contact_person")
    intro = spec.narrative_parts[0]
    actions = [{"sheet": spec.field(fid).sheet, "cell": spec.field(fid).cell, "value": str(v), "mode": "dispatch"}
               for fid, v in figures.items()]
    actions.append({"sheet": person.sheet, "cell": person.cell, "value": PERSON, "mode": "dispatch"})
    actions.append({"sheet": intro.sheet, "cell": intro.cell, "value": INTRO, "mode": "dispatch"})
    locked = _locked_targets(spec)
    actions += [{"sheet": s, "cell": c, "value": "999", "mode": "dispatch"} for s, c in locked]
    (d / "actions.json").write_text(json.dumps(actions, ensure_ascii=False), encoding="utf-8")
    out, rep = d / "out.xlsx", d / "report.json"
    office.run_uno("fill_xlsx", src, out, d / "actions.json", "--report", rep, timeout=300, check=True, scripts_dir=UNO_SCRIPTS)
    report = json.loads(rep.read_text(encoding="utf-8"))
    return {
        "out": out, "report": report, "locked": locked, "before": before,
        "wb": openpyxl.load_workbook(out), "values": openpyxl.load_workbook(out, data_only=True),
    }


def test_typed_values_arrive(spec, lo, figures):
    ws = lo["values"]
    for fid, v in figures.items():
        f = spec.field(fid)
        assert Decimal(str(ws[f.sheet][f.cell].value)) == v, f.where
    person = next(f for f in spec.info_fields if f.key == "contact_person")
    assert ws[person.sheet][person.cell].value == PERSON
    assert ws[spec.narrative_sheet][spec.narrative_parts[0].cell].value == INTRO


def test_typing_into_locked_cells_changes_nothing(lo):
    by_cell = {(c["sheet"], c["cell"]): c for c in lo["report"]["cells"]}
    for sheet, cell in lo["locked"]:
        after = by_cell[(sheet, cell)]
        assert after["string"] != "999", (sheet, cell)
        original = lo["before"][sheet][cell].value
        if isinstance(original, str) and original.startswith("="):
            assert after["type"] == "FORMULA" and lo["wb"][sheet][cell].value == original, (sheet, cell)
        else:
            assert lo["wb"][sheet][cell].value == original, (sheet, cell)


def test_recalculated_totals_equal_python(spec, lo, figures):
    expected = spec.compute(figures)
    ws = lo["values"]
    for f in spec.computed_fields:
        assert Decimal(str(ws[f.sheet][f.cell].value)) == expected[f.id], f.where


def test_check_area_marks_equal_python(spec, lo, figures):
    values = spec.compute(figures)
    rules = {r.expr: r for r in spec.rules}
    bad = []
    for sheet, cells in check_cells(spec).items():
        for cell, expr in cells:
            want = MARK_OK if rules[expr].evaluate(values).ok else MARK_BAD
            assert lo["values"][sheet][cell].value == want, (sheet, cell, expr)
            if want == MARK_BAD:
                bad.append(rules[expr].code)
    assert "T3_BALANCE" in bad  # the broken 勾稽关系 shows as ✗


def test_protection_kept(spec, lo):
    assert all(s["protected"] for s in lo["report"]["sheets"])
    wb = lo["wb"]
    for ws in wb:
        assert ws.protection.sheet, ws.title
        assert ws.protection.password.upper() == hash_password(PASSWORD), ws.title
    for f in spec.input_fields:
        assert wb[f.sheet][f.cell].protection.locked is False, f.where
    for f in spec.computed_fields:
        assert wb[f.sheet][f.cell].protection.locked is not False, f.where
    for t in spec.tables:
        for c in t.cells:
            assert wb[t.sheet].cell(row=c.row + 1, column=c.col + 1).protection.locked is not False


def test_merges_kept(spec, lo):
    for t in spec.tables:
        assert {str(r) for r in lo["wb"][t.sheet].merged_cells.ranges} == set(t.merges), t.sheet


def test_defined_names_kept(spec, lo):
    wb = lo["wb"]
    targets = [(f.name, f.sheet, f.cell) for f in spec.fields]
    targets += [(f.name, f.sheet, f.cell) for f in spec.info_fields]
    targets += [(p.name, p.sheet, p.cell) for p in spec.narrative_parts]
    for name, sheet, cell in targets:
        dn = wb.defined_names.get(name)
        assert dn is not None, name
        [(title, coord)] = list(dn.destinations)
        assert (title, coord.replace("$", "")) == (sheet, cell), name


def test_validations_kept(spec, lo):
    wb = lo["wb"]
    for f in spec.input_fields:
        ws = wb[f.sheet]
        dvs = [dv for dv in ws.data_validations.dataValidation if any(f.cell in r for r in dv.sqref.ranges)]
        assert len(dvs) == 1, f.where
        dv = dvs[0]
        assert dv.type == ("whole" if f.type.kind == "integer" else "decimal"), f.where
        assert dv.operator in (None, "between") and (dv.formula1, dv.formula2) == ("0", str(f.type.maximum))
        assert (dv.promptTitle, dv.prompt, dv.error) == (f.type.prompt_title, f.type.prompt, f.type.error)
        for col in range(f.col, f.col + f.colspan):
            assert any(a1(f.row, col) in r for r in dv.sqref.ranges)


def test_identity_kept(spec, lo):
    wb = lo["wb"]
    ws = wb[meta.META_SHEET]
    assert ws.sheet_state == "hidden"
    before = lo["before"][meta.META_SHEET]
    for key in meta.KEYS:
        assert ws[meta.meta_cell(key)].value == before[meta.meta_cell(key)].value, key
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    for key in meta.KEYS:
        assert props.get(meta.property_name(key)) == before[meta.meta_cell(key)].value, key
