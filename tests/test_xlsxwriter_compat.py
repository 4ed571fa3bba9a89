"""write/xlsxwriter_compat.py is the one module using xlsxwriter's private API: this test fails
with a clear message when a new xlsxwriter changes what it relies on."""

from __future__ import annotations

import zipfile

import xlsxwriter

from xlsx_tools.write import xlsxwriter_compat as compat


def test_installed_xlsxwriter_has_the_private_api_the_template_relies_on():
    problems = compat.check_xlsxwriter()
    assert not problems, (
        f"xlsxwriter {xlsxwriter.__version__} changed what xlsx_tools/write/xlsxwriter_compat.py relies on: "
        + "; ".join(problems) + ". Adapt that module (or pin xlsxwriter below this version).")


def test_check_names_a_member_that_is_gone(monkeypatch):
    monkeypatch.delattr(xlsxwriter.workbook.Workbook, "_write_workbook_pr")
    (problem,) = compat.check_xlsxwriter()
    assert "Workbook._write_workbook_pr no longer exists" in problem and xlsxwriter.__version__ in problem


def test_structure_protection_memoised_formulas_and_names_reach_the_file(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = compat.TemplateWorkbook(str(path))
    wb.structure_password_hash = "CBEB"
    ws = wb.add_sheet("表三")
    ws.write_formula(0, 0, "=SUM(B1:C1)", None, 0)
    ws.write_formula(1, 0, "=SUM(B1:C1)", None, 0)  # the second time from the memo
    wb.name_cells([("xt_a", "='表三'!$A$1")])
    wb.name_cells([("xt_a", "='表三'!$A$1")])  # replayed from the per-process cache
    wb.close()
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<workbookProtection workbookPassword="CBEB" lockStructure="1"/>' in book
    assert book.index("<workbookPr") < book.index("<workbookProtection")
    assert book.count('<definedName name="xt_a">') == 2  # both calls appended an entry
    assert sheet.count("<f>SUM(B1:C1)</f>") == 2
