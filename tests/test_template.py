"""The generated template, read back with openpyxl (and zipfile for XML details), against the spec
and against the official layout of FORMAT-2021.md (labels in tests/data, merges listed below)."""

from __future__ import annotations

import math
import os
import random
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.protection import hash_password

from xlsx_tools.cli.demo import samples
from xlsx_tools.cli.demo.fill import FillError, fill_workbook
from xlsx_tools.format.cells import a1
from xlsx_tools.format.spec import load_format
from xlsx_tools.model import meta
from xlsx_tools.model.meta import INSTRUCTIONS_SHEET, LAYOUT_VERSION, template_fingerprint
from xlsx_tools.model.report import narrative_from_parts
from xlsx_tools.util.fsutil import sha256_file
from xlsx_tools.write import layout, sheets
from xlsx_tools.write import template as tpl
from xlsx_tools.write.layout import check_cells
from xlsx_tools.write.protection import TemplateError, generate_password
from xlsx_tools.write.template import parts_from_narrative, write_template
from xlsx_tools.write.template_checks import MARK_BAD, MARK_OK

PASSWORD = "Test-pw_2025"
LABELS = Path(__file__).parent / "data" / "format-2021-labels.md"

# FORMAT-2021.md §2: every merged range of the three tables, as the document draws them.
OFFICIAL_MERGES = {
    "t2": {"A1:D1", "A5:D5", "A8:D8", "A12:D12", "B6:D6", "B7:D7", "B9:D9", "B10:D10", "B11:D11",
           "B13:D13", "B14:D14"},
    "t3": {"A1:C3", "D1:J1", "D2:D3", "E2:I2", "J2:J3", "A4:C4", "A5:C5", "A6:A27", "B6:C6", "B7:C7",
           "B8:B15", "B16:B18", "B19:B23", "B24:B26", "B27:C27", "A28:C28"},
    "t4": {"A1:E1", "F1:O1", "F2:J2", "K2:O2", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3"},
}


@pytest.fixture(scope="module")
def spec():
    return load_format()


@pytest.fixture(scope="module")
def report(spec):
    r = samples.random_report(spec, random.Random(7), "沙坡头区测试局", "640502-099", year=2024)
    r.figures["t2.item8.fees.amount"] = Decimal("26.55")
    return r.with_computed()


@pytest.fixture(scope="module")
def files(tmp_path_factory, spec, report):
    d = tmp_path_factory.mktemp("tpl")
    blank = write_template(d / "blank.xlsx", agency="沙坡头区测试局", year=2024, code="640502-099",
                           password=PASSWORD, deadline="2025年1月31日")
    filled = write_template(d / "filled.xlsx", agency=report.agency.name, year=report.year,
                            code=report.agency.code, password=PASSWORD, report=report)
    return {"blank": blank, "filled": filled, "dir": d}


@pytest.fixture(scope="module")
def wb(files):
    return openpyxl.load_workbook(files["blank"].path)


@pytest.fixture(scope="module")
def wb_values(files):
    return openpyxl.load_workbook(files["filled"].path, data_only=True)


@pytest.fixture(scope="module")
def wb_filled(files):
    return openpyxl.load_workbook(files["filled"].path)


def _merges(ws) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def _in_sqref(sqref, ref: str) -> bool:
    return any(ref in rng for rng in sqref.ranges)


def _validation(ws, ref: str):
    found = [dv for dv in ws.data_validations.dataValidation if _in_sqref(dv.sqref, ref)]
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------- identity


def test_fingerprint_is_per_layout_not_per_agency(spec, files, monkeypatch):
    fp = template_fingerprint(spec)
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    assert files["blank"].fingerprint == files["filled"].fingerprint == fp
    monkeypatch.setattr(meta, "LAYOUT_VERSION", str(int(LAYOUT_VERSION) + 1))
    assert template_fingerprint(spec) != fp


def test_generated_passwords_are_random_and_readable():
    pws = {generate_password() for _ in range(50)}
    assert len(pws) == 50
    for pw in pws:
        assert len(pw) >= 10 and not set(pw) & set("0o1li")
    assert len(generate_password(16)) > len(generate_password())


def test_template_info(files):
    info = files["blank"]
    assert info.path.name == "blank.xlsx" and info.agency == "沙坡头区测试局" and info.code == "640502-099"
    assert info.year == 2024 and info.password == PASSWORD
    assert info.sha256 == sha256_file(info.path)


def test_output_is_written_atomically_with_a_normal_mode(files):
    assert sorted(p.name for p in files["dir"].iterdir()) == ["blank.xlsx", "filled.xlsx"]
    umask = os.umask(0)
    os.umask(umask)
    assert files["blank"].path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("password, message", [
    ("", "保护密码不能为空"),
    ("密码123", "只能由英文字母、数字和英文标点组成"),
    ("with space", "只能由英文字母、数字和英文标点组成"),
    ("x" * 256, "保护密码过长（256 个字符）"),
])
def test_bad_passwords_are_refused(tmp_path, password, message):
    with pytest.raises(TemplateError, match=re.escape(message)):
        write_template(tmp_path / "x.xlsx", agency="某局", year=2024, password=password)
    assert not list(tmp_path.iterdir())


def test_empty_agency_is_refused(tmp_path):
    with pytest.raises(TemplateError, match="机关名称不能为空"):
        write_template(tmp_path / "x.xlsx", agency="  ", year=2024, password="pw")


# --------------------------------------------------------------------------- structure


def test_sheets_in_order_and_identity_sheet_hidden(spec, wb):
    expected = [INSTRUCTIONS_SHEET, spec.info_sheet, *(t.sheet for t in spec.tables), spec.narrative_sheet,
                meta.META_SHEET]
    assert wb.sheetnames == expected
    assert [ws.sheet_state for ws in wb] == ["visible"] * (len(expected) - 1) + ["hidden"]
    assert wb.active.title == INSTRUCTIONS_SHEET


def test_identity_sheet_and_custom_properties(spec, wb, files):
    ws = wb[meta.META_SHEET]
    keys = [ws.cell(row=i + 1, column=1).value for i in range(len(meta.KEYS))]
    assert tuple(keys) == meta.KEYS
    values = {k: ws[meta.meta_cell(k)].value for k in meta.KEYS}
    assert values["generator"] == meta.GENERATOR
    assert values["format"] == spec.id and values["format_version"] == spec.version
    assert values["fingerprint"] == files["blank"].fingerprint
    assert (values["agency"], values["code"], values["year"]) == ("沙坡头区测试局", "640502-099", "2024")
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props == {meta.property_name(k): values[k] for k in meta.KEYS}


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_header_cells_and_merges_equal_the_spec(spec, wb, key):
    table = spec.table(key)
    ws = wb[table.sheet]
    for c in table.cells:
        assert ws.cell(row=c.row + 1, column=c.col + 1).value == c.text, c.ref
    assert _merges(ws) == set(table.merges)


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_merges_equal_the_format_document(spec, wb, key):
    assert _merges(wb[spec.table(key).sheet]) == OFFICIAL_MERGES[key]


def test_labels_equal_the_format_document(spec, wb):
    blocks = [b.splitlines() for b in re.findall(r"```\n(.*?)```", LABELS.read_text(encoding="utf-8"), re.S)]
    t2, t3_header, t3_rows, t4 = blocks

    def texts(ws, ncols):  # the table's cells (the check rows below it are not the official table)
        nrows = next(t.grid_rows for t in spec.tables if t.sheet == ws.title)
        return [ws.cell(row=r, column=c).value for r in range(1, nrows + 1) for c in range(1, ncols + 1)
                if isinstance(ws.cell(row=r, column=c).value, str) and not ws.cell(row=r, column=c).value.startswith("=")]

    assert list(dict.fromkeys(texts(wb["表二"], 4))) == t2
    t3 = texts(wb["表三"], 10)
    assert set(t3_header) <= set(t3)
    assert [x for x in t3 if x not in t3_header] == [line.strip() for line in t3_rows]
    assert set(texts(wb["表四"], 15)) == set(t4)
    # the rows are where the official table has them: Excel row = official row
    assert wb["表三"]["A27"].value is None and wb["表三"]["B27"].value == "（七）总计"
    assert wb["表三"]["A28"].value == "四、结转下年度继续办理"
    assert wb["表二"]["A14"].value == "行政事业性收费"


def test_every_input_cell_unlocked_with_validation(spec, wb):
    for f in spec.input_fields:
        ws = wb[f.sheet]
        cell = ws[f.cell]
        assert cell.protection.locked is False, f.where
        assert cell.fill.fgColor.rgb.endswith(layout.INPUT_FILL.lstrip("#")), f.where
        dv = _validation(ws, f.cell)
        assert dv is not None, f.where
        assert dv.type == ("whole" if f.type.kind == "integer" else "decimal")
        assert dv.operator in (None, "between")  # OOXML's default operator is between
        assert (dv.formula1, dv.formula2, dv.allow_blank) == ("0", str(f.type.maximum), True)  # the format file's bounds
        assert (dv.promptTitle, dv.prompt) == (f.type.prompt_title, f.type.prompt)
        assert (dv.errorTitle, dv.error) == (f.type.error_title, f.type.error)
        assert dv.errorStyle in (None, "stop")  # absent means stop
        assert dv.showInputMessage and dv.showErrorMessage
        for col in range(f.col, f.col + f.colspan):  # a merged input is covered entirely
            assert _in_sqref(dv.sqref, a1(f.row, col))
    # no validation strays onto a label or a total
    for f in spec.computed_fields:
        assert _validation(wb[f.sheet], f.cell) is None


def test_labels_totals_and_checks_are_locked(spec, wb):
    for t in spec.tables:
        ws = wb[t.sheet]
        for c in t.cells:
            assert ws.cell(row=c.row + 1, column=c.col + 1).protection.locked is True, c.ref
        for cell, _ in check_cells(spec)[t.sheet]:
            assert ws[cell].protection.locked is True
    for f in spec.computed_fields:
        assert wb[f.sheet][f.cell].protection.locked is True, f.where
    unlocked = {(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row
                if c.has_style and c.protection.locked is False}
    inputs = {(f.sheet, f.cell) for f in spec.input_fields}
    inputs |= {(f.sheet, f.cell) for f in spec.info_fields if not f.locked}
    inputs |= {(p.sheet, p.cell) for p in spec.narrative_parts}
    merged_tails = {(f.sheet, a1(f.row, c)) for f in spec.input_fields for c in range(f.col + 1, f.col + f.colspan)}
    assert unlocked - merged_tails == inputs


def test_every_sheet_and_the_structure_are_protected_with_the_password(wb):
    for ws in wb:
        assert ws.protection.sheet is True, ws.title
        assert ws.protection.password == hash_password(PASSWORD), ws.title
        assert ws.protection.selectLockedCells is False and ws.protection.selectUnlockedCells is False
        assert ws.protection.formatCells is True  # i.e. formatting cells stays forbidden
    assert wb.security.lockStructure is True
    assert wb.security.workbookPassword == hash_password(PASSWORD)


def test_structure_protection_element_in_schema_order(files):
    with zipfile.ZipFile(files["blank"].path) as z:
        xml = z.read("xl/workbook.xml").decode()
    assert re.search(r"<workbookPr [^>]*/><workbookProtection [^>]*lockStructure=\"1\"[^>]*/><bookViews>", xml)


# --------------------------------------------------------------------------- formulas and checks


def test_totals_are_formulas(spec, wb):
    t3 = wb["表三"]
    for r in range(4, 29):
        assert t3[f"J{r}"].value == f"=SUM(D{r}:I{r})"
    for col in "DEFGHI":
        assert t3[f"{col}27"].value == f"=SUM({col}6:{col}26)"
    t4 = wb["表四"]
    assert [t4[c].value for c in ("E4", "J4", "O4")] == ["=SUM(A4:D4)", "=SUM(F4:I4)", "=SUM(K4:N4)"]
    for f in spec.computed_fields:
        assert str(wb[f.sheet][f.cell].value).startswith("="), f.where


def test_cached_results_equal_python_totals(spec, report, wb_values):
    expected = spec.compute(spec.input_values(report.figures))
    for f in spec.fields:
        got = wb_values[f.sheet][f.cell].value
        want = expected[f.id]
        assert Decimal(str(got)) == want, f.where


def test_defined_names_resolve_to_their_cells(spec, wb):
    targets = [(f.name, f.sheet, f.cell) for f in spec.fields]
    targets += [(f.name, f.sheet, f.cell) for f in spec.info_fields]
    targets += [(p.name, p.sheet, p.cell) for p in spec.narrative_parts]
    assert len(wb.defined_names) == len(targets)
    for name, sheet, cell in targets:
        dn = wb.defined_names[name]
        assert dn.attr_text == f"'{sheet}'!${re.match('[A-Z]+', cell)[0]}${cell.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
        assert list(dn.destinations) == [(sheet, dn.attr_text.split("!")[1])]


def test_check_area_cached_marks_follow_the_rules(tmp_path, spec, report):
    broken = report.with_computed()
    broken.figures["t3.received.natural_person"] += 1  # breaks the 勾稽关系 of 自然人 and 总计
    info = write_template(tmp_path / "b.xlsx", agency="某局", year=2024, password="pw", report=broken)
    values = spec.compute(spec.input_values(broken.figures))
    ws = openpyxl.load_workbook(info.path, data_only=True)["表三"]
    marks = {expr: ws[cell].value for cell, expr in check_cells(spec)["表三"]}
    bad = set()
    for r in spec.rules:
        if r.expr in marks:
            assert marks[r.expr] == (MARK_OK if r.evaluate(values).ok else MARK_BAD), r.expr
            if marks[r.expr] == MARK_BAD:
                bad.add((r.code, r.label))
    assert ("T3_BALANCE", "自然人") in bad and ("T3_BALANCE", "总计") in bad


# --------------------------------------------------------------------------- print and look


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_print_ready(spec, wb, key):
    t = spec.table(key)
    ws = wb[t.sheet]
    assert ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # absent means 1
    assert ws.print_area == f"'{t.sheet}'!$A$1:${t.ref.split(':')[1][0]}${t.grid_rows}"
    assert ws.print_options.horizontalCentered
    if t.header_rows:
        assert ws.print_title_rows == f"${min(t.header_rows) + 1}:${max(t.header_rows) + 1}"
    assert ws.oddHeader.center.text == t.heading
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    first_data = min(f.col for f in t.fields)
    header_end = max(t.header_rows) + 1 if t.header_rows else 0
    expected = a1(header_end, first_data) if (header_end or first_data) else None
    assert ws.freeze_panes == expected
    assert ws.page_setup.orientation == ("landscape" if layout.plan_for(spec).tables[spec.tables.index(t)].landscape else "portrait")


def test_rows_tall_enough_for_wrapped_labels(spec, wb):
    ws = wb["表三"]
    # every row of the table has an explicit height; the two longest labels need three lines at 9 pt
    for r in range(1, 29):
        assert ws.row_dimensions[r].height >= 18
    for r in (24, 25):
        assert ws.row_dimensions[r].height >= 3 * 9 * 1.2
    # the 3x3 勾稽关系 note fits its merged area
    assert sum(ws.row_dimensions[r].height for r in (1, 2, 3)) >= 2 * 9 * 1.2
    # column widths: the long row labels are wider than the figure columns
    assert ws.column_dimensions["C"].width > 3 * ws.column_dimensions["D"].width


def test_fonts_and_alignment(spec, wb):
    ws = wb["表三"]
    assert ws["A1"].font.name == layout.LABEL_FONT and ws["A1"].font.sz == 9
    assert ws["D4"].alignment.horizontal == "center" and ws["J4"].alignment.horizontal == "center"
    assert ws["C8"].alignment.wrap_text
    assert wb["表二"]["A3"].font.sz == 10.5
    # a fee shows the digits entered, unpadded; a whole amount without a decimal point
    assert ws["D4"].number_format == "0" and wb["表二"]["B14"].number_format == "0.######"
    rules = [r for cf in wb["表二"].conditional_formatting for r in cf.rules if "B14" in str(cf.sqref)]
    assert [r.formula for r in rules] == [["AND(ISNUMBER(B14),INT(B14)=B14)"]]
    assert rules[0].dxf.numFmt.formatCode == "0"


# --------------------------------------------------------------------------- other sheets


def test_info_sheet(spec, wb, wb_filled, report):
    ws = wb[spec.info_sheet]
    for f in spec.info_fields:
        assert ws.cell(row=f.row + 1, column=f.col).value == f.label
        cell = ws[f.cell]
        if f.locked:
            assert cell.protection.locked is True
        else:
            assert cell.protection.locked is False
            dv = _validation(ws, f.cell)
            assert dv is not None and dv.showInputMessage and dv.promptTitle == f.label
            assert dv.prompt == (f.prompt or None)
    values = {f.key: ws[f.cell].value for f in spec.info_fields}
    assert (values["agency"], values["code"], values["year"]) == ("沙坡头区测试局", "640502-099", 2024)
    filled = {f.key: wb_filled[spec.info_sheet][f.cell].value for f in spec.info_fields}
    for key, value in report.contact.items():
        assert filled[key] == (value or None)


def test_narrative_sheet_round_trips_the_report(spec, wb, wb_filled, report):
    ws = wb[spec.narrative_sheet]
    for p in spec.narrative_parts:
        assert ws.cell(row=p.row + 1, column=p.col).value == p.label
        assert ws.cell(row=p.row + 1, column=p.col + 2).value == p.hint
        assert ws[p.cell].protection.locked is False and ws[p.cell].alignment.wrap_text
        assert ws[p.cell].value is None
    parts = {f"{p.section}.{p.key}": wb_filled[spec.narrative_sheet][p.cell].value or "" for p in spec.narrative_parts}
    assert narrative_from_parts(spec, parts) == report.narrative
    assert parts["overview.active"].startswith("（一）")


def test_parts_from_narrative(spec):
    narrative = {"overview": "综述。\n（一）主动公开情况。\n第二段。\n（三）管理。", "other": "无。"}
    parts = parts_from_narrative(spec, narrative)
    assert parts == {"overview.intro": "综述。", "overview.active": "（一）主动公开情况。\n第二段。",
                     "overview.management": "（三）管理。", "other.text": "无。"}
    assert narrative_from_parts(spec, parts) == narrative


def test_instructions_sheet(spec, wb):
    ws = wb[INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "沙坡头区测试局" in text and "2024" in text and "2025年1月31日" in text
    codes = list(dict.fromkeys(r.code for r in spec.rules))
    titles = [next(r.title for r in spec.rules if r.code == code) for code in codes]
    for title in titles:
        assert title in text
    assert text.count(titles[0]) == 1  # one line per rule code, not per instance
    for sheet in (spec.info_sheet, spec.narrative_sheet, *(t.sheet for t in spec.tables)):
        assert f"「{sheet}」" in text


LONG_AGENCY = "宁夏回族自治区中卫市沙坡头区教育体育局（沙坡头区教育局）"


def _instructions_rows(ws):
    """(row, A value, B value) of the 填报说明 sheet, the merged headings read from their first cell."""
    return [(r, ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(1, ws.max_row + 1)]


def test_instructions_headings_are_not_fields(spec, wb):
    """The sheet name once, as the heading of the numbered steps (not a bordered, empty field under
    the title); both headings span the two columns without borders."""
    ws = wb[INSTRUCTIONS_SHEET]
    rows = _instructions_rows(ws)
    assert [r for r, a, _ in rows if a == INSTRUCTIONS_SHEET] == [next(r for r, a, _ in rows if a == "1.") - 1]
    for heading in (INSTRUCTIONS_SHEET, sheets.RULES_HEADING):
        r = next(r for r, a, _ in rows if a == heading)
        assert f"A{r}:B{r}" in _merges(ws)
        assert ws.cell(r, 1).border.left.style is None and ws.cell(r, 1).font.b
    # under the title: the agency, the year and the deadline, each a bordered label and value
    labels = {f.key: f.label for f in spec.info_fields}
    assert [a for _, a, _ in rows[2:5]] == [labels["agency"], labels["year"], meta.DEADLINE_LABEL]
    assert rows[1][1:] == (None, None)


def test_instructions_rules_are_a_bordered_two_column_table(spec, wb):
    ws = wb[INSTRUCTIONS_SHEET]
    start = next(r for r, a, _ in _instructions_rows(ws) if a == sheets.RULES_HEADING) + 1
    marks = [ws.cell(r, 1).value for r in range(start, ws.max_row + 1)]
    assert set(marks) == set(layout.RULE_KINDS.values()) and len(marks) == len({r.code for r in spec.rules})
    for r in range(start, ws.max_row + 1):
        for c in (1, 2):
            assert ws.cell(r, c).border.left.style == "thin" and ws.cell(r, c).border.bottom.style == "thin"
        assert ws.cell(r, 1).alignment.horizontal == "center" and ws.cell(r, 2).alignment.wrap_text


def test_instructions_rows_tall_enough_and_a_long_title_wraps(tmp_path, spec):
    path = tpl.write_template(tmp_path / "t.xlsx", agency=LONG_AGENCY, year=2025, password=PASSWORD)
    ws = openpyxl.load_workbook(path.path)[INSTRUCTIONS_SHEET]
    title = ws["A1"]
    assert LONG_AGENCY in title.value and title.alignment.wrap_text and "A1:B1" in _merges(ws)
    # Excel's 宋体: a Chinese character is about 2.1 column units wide at 11 pt; a line is 1.2 × size
    width = ws.column_dimensions["A"].width + ws.column_dimensions["B"].width
    assert ws.row_dimensions[1].height >= math.ceil(layout.text_units(title.value, 16) / width) * 16 * 1.2
    text_width = ws.column_dimensions["B"].width
    for r, _, text in _instructions_rows(ws)[1:]:
        if text:
            need = math.ceil(layout.text_units(text, 11) / (text_width - 1)) * 11 * 1.2
            assert (ws.row_dimensions[r].height or 15) >= need, (r, text)
    assert ws.column_dimensions["A"].width >= layout.text_units(meta.DEADLINE_LABEL, 11) + 1


def test_check_cells_is_a_copy(spec):
    a = check_cells(spec)
    a["表三"].clear()
    assert check_cells(spec)["表三"]


# --------------------------------------------------------------------------- fill_workbook


def test_fill_workbook_fills_a_copy(tmp_path, spec, files, report):
    src = files["blank"].path
    before = sha256_file(src)
    values = spec.input_values(report.figures)
    out = fill_workbook(src, tmp_path / "out.xlsx", values, contact={"contact_person": "李四"},
                        narrative_parts={"other.text": "无。"})
    assert sha256_file(src) == before
    wb = openpyxl.load_workbook(out)
    for fid, v in values.items():
        f = spec.field(fid)
        assert Decimal(str(wb[f.sheet][f.cell].value)) == v
    person = next(f for f in spec.info_fields if f.key == "contact_person")
    assert wb[spec.info_sheet][person.cell].value == "李四"
    assert wb[spec.narrative_sheet][spec.narrative_parts[-1].cell].value == "无。"
    # what an agency's program keeps: protection, names, validations, merges
    assert wb["表三"].protection.sheet and len(wb.defined_names) == len(openpyxl.load_workbook(src).defined_names)
    assert _merges(wb["表三"]) == OFFICIAL_MERGES["t3"]
    assert _validation(wb["表三"], "D4") is not None


def test_fill_workbook_refuses_what_an_agency_cannot_type(tmp_path, spec, files):
    src = files["blank"].path
    total = spec.field("t3.received.total")
    with pytest.raises(FillError, match=re.escape(f"{total.where} 是自动计算的总计单元格，不能填写")):
        fill_workbook(src, tmp_path / "o.xlsx", {total.id: 5})
    with pytest.raises(FillError, match="中没有数据项 t9.nothing"):
        fill_workbook(src, tmp_path / "o.xlsx", {"t9.nothing": 5})
    with pytest.raises(FillError, match="「基本信息」中没有“nickname”这一项"):
        fill_workbook(src, tmp_path / "o.xlsx", contact={"nickname": "x"})
    with pytest.raises(FillError, match="输出文件不能与模板相同"):
        fill_workbook(src, src, {})
    assert not (tmp_path / "o.xlsx").exists()
    out = fill_workbook(src, tmp_path / "o.xlsx", {total.id: 5}, allow_computed=True)
    assert openpyxl.load_workbook(out)["表三"]["J4"].value == 5


_LINE = st.text(alphabet="本年度公开申请处理件（一二三四五六）。，0123456789ab", min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=150, deadline=None)
@given(overview=st.lists(st.one_of(_LINE, st.sampled_from(["（一）", "（二）", "（三）", "（五）"]).flatmap(
    lambda o: _LINE.map(lambda t: o + t))), max_size=8), other=st.lists(_LINE, max_size=3))
def test_parts_from_narrative_round_trips(spec, overview, other):
    """Any section text of non-blank lines survives the trip through the 文字部分 cells."""
    narrative = {k: "\n".join(v) for k, v in (("overview", overview), ("other", other)) if v}
    assert narrative_from_parts(spec, parts_from_narrative(spec, narrative)) == narrative
