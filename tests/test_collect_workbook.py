"""收集情况.xlsx read back, sheet by sheet, against collect.json and the format file."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from tests.test_collect import ROSTER, SPEC, YEAR, A, clean_report, season, with_error, write_return  # noqa: F401
from xlsx_tools.collect import classify, run, walk
from xlsx_tools.collect import sheets as sh
from xlsx_tools.collect import total_sheet as ts
from xlsx_tools.collect import workbook as cw
from xlsx_tools.format.cells import a1_range
from xlsx_tools.model.status import ACCEPTED, AGENCY_STATUSES, Status
from xlsx_tools.read.roster import RosterRow
from xlsx_tools.util.timefmt import display_time


@pytest.fixture(scope="module")
def book(season):  # noqa: F811
    base, result, data, _ = season
    path = base / "out" / walk.OUTPUT_XLSX
    return openpyxl.load_workbook(path), data, path


def rows(ws, first: int = 1) -> list[tuple]:
    return [r for r in ws.iter_rows(min_row=first, values_only=True)]


def test_sheets_in_order(book):
    wb, _, _ = book
    assert wb.sheetnames == ["收集情况", "问题清单", "文件清单", "无法对应到机关的文件", "汇总", "图表", "全部数据"]


def test_status_sheet_one_row_per_roster_agency(book):
    wb, data, _ = book
    ws = wb["收集情况"]
    assert ws["A1"].value == f"{YEAR} 年度政府信息公开工作年度报告收集情况"
    assert [ws.cell(r, 1).value for r in (2, 3, 4)] == data["summary"]["text"]
    header = [ws.cell(6, col).value for col in range(1, ws.max_column + 1)]
    # the printed block first (11 columns without --docx), then the details
    assert header[:8] == ["序号", "机关名称", "状态", "错误数", "警告数", "说明", "采用的文件", "保存时间"]
    assert header[8:11] == [cw.key_header(SPEC.field(f)) for f in SPEC.figure_set("printed_figures")]
    assert header[8] == "表三「一、本年新收政府信息公开申请数量」总计"
    assert header[11:14] == ["机关代码", "对应方式", "保存软件"]
    assert header[-2:] == ["Word 报告", "问题通知"]  # details, outside the print area
    notices = [ws.cell(7 + i, len(header)).value for i in range(len(data["agencies"]))]
    assert notices == [a["notice"] or None for a in data["agencies"]]
    assert ws.print_area == "'收集情况'!$A$1:$K$15"
    assert ws.print_title_rows == "$1:$6"
    assert ws.auto_filter.ref == f"A6:{ws.cell(6, len(header)).column_letter}15"
    body = rows(ws, 7)
    assert [(r[1], r[2]) for r in body] == [(a["agency"], a["status"]) for a in data["agencies"]]
    a0 = data["agencies"][0]
    assert body[0][:8] == (1, A[0], Status.OK.label, 0, 0, None, a0["file"], display_time(a0["saved_at"]))
    assert body[0][8] == a0["figures"]["t3.received.total"]
    assert body[0][11:14] == (ROSTER[0].code, classify.BY_IDENTITY, a0["application"])
    assert body[5][2:7] == (Status.MISSING.label, None, None, "未收到该机关的文件", None)  # nothing from A5
    assert ws.freeze_panes == "C7"


def test_status_colours_are_conditional_formats(book):
    _, _, path = book
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    for status in AGENCY_STATUSES:
        assert f"<formula>\"{status.label}\"</formula>" in sheet
    assert 'sqref="C7:C15"' in sheet


def test_problem_list_has_every_finding_and_every_unusable_file(book):
    wb, data, _ = book
    ws = wb["问题清单"]
    header, *body = rows(ws)
    assert header == ("序号", "机关名称", "文件", "文件状态", "严重程度", "代码", "单元格", "位置", "问题说明")
    # the adopted file of each agency only; an agency without one: the files it sent
    adopted = {a["file"] for a in data["agencies"] if a["file"]}
    sent = {f["path"] for a in data["agencies"] if not a["file"] for f in data["files"] if f["path"] in a["files"]}
    findings = [(f["path"], x["code"], x["message"]) for f in data["files"] for x in f["findings"]
                if f["path"] in adopted | sent]
    assert sorted((r[2], r[5], r[8]) for r in body if r[5] not in (Status.FOREIGN.label, Status.UNREADABLE.label)) == sorted(findings)
    own = {(r[2], r[8]) for r in body if r[5] in (Status.FOREIGN.label, Status.UNREADABLE.label)}
    assert own == {
        (f"{A[6]}.xlsx", f"是 {YEAR - 1} 年度的模板，本次收集的是 {YEAR} 年度。请用本年度下发的模板填写。"),
    }
    assert f"{A[3]}.xlsx" not in {r[2] for r in body}  # A3's superseded draft: in 文件清单 only
    assert {r[2] for r in body} == adopted - {a["file"] for a in data["agencies"] if a["status"] == Status.OK.label} | sent
    assert [r[0] for r in body] == list(range(1, len(body) + 1))
    balance = next(r for r in body if r[5] == "T3_BALANCE")
    cells = [SPEC.field(f"t3.{row}.natural_person").cell for row in ("received", "carried_over", "results_total",
                                                                      "carry_forward")]
    assert balance[1] == A[2] and balance[4] == "错误" and balance[6] == "、".join(f"表三!{x}" for x in cells)
    assert balance[7].startswith("表三 第4行「一、本年新收政府信息公开申请数量」自然人（D4）；")
    # roster order
    agencies = [r[1] for r in body]
    assert agencies == sorted(agencies, key=A.index)


def test_unattributed_sheet(book):
    wb, data, _ = book
    header, *body = rows(wb["无法对应到机关的文件"])
    assert header == ("序号", "文件", "状态", "原因", "可能的机关", "sha256")
    assert [(r[1], r[3]) for r in body] == [(u["path"], u["reason"]) for u in data["unattributed"]]


def test_file_list_has_every_file_with_sha256(book):
    wb, data, _ = book
    header, *body = rows(wb["文件清单"])
    assert header[:6] == ("序号", "文件", "大小（字节）", "sha256", "状态", "对应机关")
    assert [(r[1], r[3], r[4]) for r in body] == [(f["path"], f["sha256"], f["status"]) for f in data["files"]]
    last_year = next(r for r in body if r[1] == f"{A[6]}.xlsx")
    assert (last_year[7], last_year[8]) == (A[6], YEAR - 1)


def test_long_form_data_pivots_back_to_the_totals(book):
    wb, data, _ = book
    header, *body = rows(wb["全部数据"])
    assert header == ("机关名称", "机关代码", "状态", "表", "行", "列", "数值", "单位", "类型", "数据项编号")
    used = [a for a in data["agencies"] if a["figures"] is not None]
    assert len(body) == len(used) * len(SPEC.fields)
    sums: dict[str, Decimal] = {}
    for r in body:
        if r[2] in {s.label for s in ACCEPTED}:
            sums[r[9]] = sums.get(r[9], 0) + Decimal(str(r[6]))
    assert sums == {k: Decimal(str(v)) for k, v in data["total"]["figures"].items()}
    first = body[0]
    f = SPEC.fields[0]
    assert first == (A[0], ROSTER[0].code, Status.OK.label, f.sheet, " / ".join(f.row_labels), " / ".join(f.column_labels),
                     data["agencies"][0]["figures"][f.id], f.type.unit, "填报", f.id)
    t4 = next(r for r in body if r[9] == "t4.review.total")
    assert (t4[4], t4[5], t4[8]) == (None, "行政复议 / 总计", "计算")


def test_read_only_openpyxl_sees_every_row(book):
    # read-only openpyxl trusts the <dimension> element: it must cover the streamed rows
    _, data, path = book
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb["全部数据"]
    used = sum(1 for a in data["agencies"] if a["figures"] is not None)
    assert ws.max_row == 1 + used * len(SPEC.fields)
    assert sum(1 for _ in ws.iter_rows(min_row=2)) == used * len(SPEC.fields)


def test_total_sheet_has_the_official_tables(book):
    wb, data, _ = book
    ws = wb["汇总"]
    assert ws["A1"].value == f"{YEAR} 年度汇总"
    assert ws["A2"].value == "计入汇总：5 家（合格、有警告）；未计入：有错误 3 家，未提交 1 家。"
    merged = {str(r) for r in ws.merged_cells.ranges}
    widths, spans, own = ts.total_layout(SPEC)
    top = 4

    def place(span, col, colspan):  # a table's columns -> the sheet's (first, count)
        first = span[col][0]
        return first, span[col + colspan - 1][0] + span[col + colspan - 1][1] - first

    for table, span in zip(SPEC.tables, spans, strict=True):
        assert ws.cell(top, 1).value == table.heading
        shift = top - table.origin_row  # 0-based sheet row of the table's first grid row
        for cell in table.cells:
            first, count = place(span, cell.col, cell.colspan)
            assert ws.cell(cell.row + shift + 1, first + 1).value == cell.text
            if cell.rowspan > 1 or count > 1:
                assert a1_range(cell.row + shift, first, cell.rowspan, count) in merged
        for f in table.fields:
            first, count = place(span, f.col, f.colspan)
            value = ws.cell(f.row + shift + 1, first + 1).value
            assert Decimal(str(value)) == data["total"]["figures"][f.id], f.id
            if count > 1:
                assert a1_range(f.row + shift, first, 1, count) in merged
        top += table.grid_rows + 2  # the heading row, the grid, a blank row
    assert ws.row_breaks.count == len(SPEC.tables) - 1  # each table on its own page


def test_each_table_on_the_total_sheet_has_its_own_column_widths():
    widths, spans, own = ts.total_layout(SPEC)
    for span, mine in zip(spans, own, strict=True):
        got = [sum(widths[first:first + n]) for first, n in span]
        assert got == pytest.approx(mine, abs=1.01)  # edges snap to another table's within 1 unit
    t2, t3 = SPEC.tables[0], SPEC.tables[1]
    repealed, in_force = own[0][2], own[0][3]
    assert t2.cells[3].text == "本年废止件数" and abs(repealed - in_force) < 0.5  # no longer wide vs cramped
    assert max(own[1][3:]) - min(own[1][3:]) < 0.5  # 表三's seven figure columns alike
    assert len(own[1]) == t3.grid_columns


def test_charts_are_native_excel_charts_of_the_data(book):
    wb, data, path = book
    ws = wb["图表"]
    header, *body = rows(ws)
    groups = ts.result_groups(SPEC)
    assert header[:2] == (groups[0], "总计") == ("三、本年度办理结果", "总计")
    labels = [label for label, _ in groups[2]]
    assert labels == ["（一）予以公开", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "（三）不予公开",
                      "（四）无法提供", "（五）不予处理", "（六）其他处理"]
    totals = data["total"]["figures"]
    assert [(r[0], r[1]) for r in body[:6]] == [(label, sum(totals[i] for i in ids)) for label, ids in groups[2]]
    assert sum(r[1] for r in body[:6]) == totals["t3.results_total.total"]
    assert [(r[3], r[4]) for r in body[:4]] == [(s.label, data["summary"][s.code]) for s in AGENCY_STATUSES]
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n))
        xml = [z.read(n).decode() for n in charts]
    assert len(xml) == 2
    assert "<c:barChart>" in xml[0] and "<c:f>图表!$B$2:$B$7</c:f>" in xml[0]
    assert "<c:pieChart>" in xml[1] and "<c:f>图表!$E$2:$E$5</c:f>" in xml[1]


def test_long_sheets_continue_on_further_sheets(tmp_path, monkeypatch):
    for i in range(3):
        write_return(tmp_path / "in" / f"{i}.xlsx", clean_report(i, i))
    monkeypatch.setattr(cw, "MAX_SHEET_ROWS", 250)
    run.collect(tmp_path / "in", ROSTER[:3], tmp_path / "out", jobs=1)
    wb = openpyxl.load_workbook(tmp_path / "out" / walk.OUTPUT_XLSX, read_only=True)
    n = 3 * len(SPEC.fields)
    names = [f"全部数据{k}" if k > 1 else "全部数据" for k in range(1, -(-n // 250) + 1)]
    assert wb.sheetnames[6:] == names
    got = [r for name in names for r in wb[name].iter_rows(min_row=2, values_only=True)]
    assert len(got) == n
    assert [r[9] for r in got[:len(SPEC.fields)]] == [f.id for f in SPEC.fields]
    assert [r[0] for r in got] == [A[0]] * len(SPEC.fields) + [A[1]] * len(SPEC.fields) + [A[2]] * len(SPEC.fields)


def test_empty_season_still_writes_a_workbook(tmp_path):
    (tmp_path / "in").mkdir()
    res = run.collect(tmp_path / "in", ROSTER[:2], tmp_path / "out", jobs=1)
    assert [a.status for a in res.agencies] == [Status.MISSING, Status.MISSING]
    wb = openpyxl.load_workbook(tmp_path / "out" / walk.OUTPUT_XLSX)
    assert wb["全部数据"].max_row == 1 and wb["问题清单"].max_row == 1
    assert wb["汇总"]["A2"].value == "计入汇总：0 家（合格、有警告）；未计入：有错误 0 家，未提交 2 家。"


def test_cell_xml_escapes_and_drops_forbidden_characters():
    assert sh._cell_xml("A2", "a<b>&c\x07", "") == \
        '<c r="A2" t="inlineStr"><is><t xml:space="preserve">a&lt;b&gt;&amp;c?</t></is></c>'
    assert sh._cell_xml("B2", Decimal("26.5500"), ' s="3"') == '<c r="B2" s="3"><v>26.55</v></c>'  # its own digits
    assert sh._cell_xml("C2", None, "") == "" and sh._cell_xml("C2", "", "") == ""
    assert sh._cell_xml("D2", 7, "") == '<c r="D2"><v>7</v></c>'


def test_errors_are_red_in_the_file_list(tmp_path):
    write_return(tmp_path / "in" / "a.xlsx", with_error(clean_report(0, 0)))
    run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", jobs=1)
    with zipfile.ZipFile(tmp_path / "out" / walk.OUTPUT_XLSX) as z:
        files = z.read("xl/worksheets/sheet3.xml").decode()
    assert 'sqref="E2"' in files and f"<formula>\"{Status.ERR.label}\"</formula>" in files


def test_fast_row_templates_render_what_the_generic_rows_would(tmp_path, monkeypatch):
    r = clean_report(0, 0)
    r.figures["t2.item8.fees.amount"] = Decimal("12.3450")
    r.figures["t2.item1.rules.issued"] = None  # a blank: no value cell, the row goes on
    write_return(tmp_path / "in" / "a.xlsx", r)
    write_return(tmp_path / "in" / "b.xlsx", with_error(clean_report(1, 1)))
    roster = [ROSTER[0], RosterRow(A[1])]  # the second agency without a code: a gap in its rows
    monkeypatch.setattr(cw, "MAX_SHEET_ROWS", 150)  # the templates continue on 全部数据2 …
    run.collect(tmp_path / "in", roster, tmp_path / "fast", jobs=1)
    original = cw._data_sheet
    used = []

    def generic(collection):
        sheet = original(collection)
        sheet.templates = None
        used.append(sheet)
        return sheet

    monkeypatch.setattr(cw, "_data_sheet", generic)
    run.collect(tmp_path / "in", roster, tmp_path / "generic", jobs=1)
    assert used  # the generic rows were written
    cells, xml = [], []
    for out in ("fast", "generic"):
        path = tmp_path / out / walk.OUTPUT_XLSX
        wb = openpyxl.load_workbook(path)
        names = [n for n in wb.sheetnames if n.startswith("全部数据")]
        assert len(names) == -(-2 * len(SPEC.fields) // 150)
        cells.append([[(c.coordinate, c.value, c.style_id, c.number_format) for c in row]
                      for n in names for row in wb[n].iter_rows()])
        with zipfile.ZipFile(path) as z:
            xml.append(b"".join(z.read(sh._sheet_parts(path)[n]) for n in names))
    assert cells[0] == cells[1]
    assert len(cells[0]) == 2 * len(SPEC.fields) + len(names)  # each sheet's header, then the rows
    assert b't="s"' in xml[0] and b"inlineStr" not in xml[0]  # the fast rows share their texts
    assert b"inlineStr" in xml[1]
    assert b"<v>12.345</v>" in xml[0]  # the fee exactly, no float noise
    by_id = {row[9][1]: row for row in cells[0] if row[0][1] == A[0]}
    assert by_id["t2.item1.rules.issued"][6][1] is None and by_id["t2.item8.fees.amount"][6][1] == 12.345
    assert {row[1][1] for row in cells[0] if row[0][1] == A[1]} == {None}  # no code
    # a fast row's cells go without their reference where they follow the cell before (r is
    # optional): only after a gap (a blank code, label or value) does a cell have one
    data = [row for row in re.findall(rb"<row [^>]*>.*?</row>", xml[0]) if b'r="1"' not in row[:12]]
    assert len(data) == 2 * len(SPEC.fields)
    refs = []
    for row in data:
        col = -1
        for ref in re.findall(rb"<c( r=\"[A-Z]+\d+\")?[ >]", row):
            letter = re.sub(rb"[^A-Z]", b"", ref)
            here = ord(letter) - ord("A") if letter else col + 1
            assert (here != col + 1) == bool(letter), row
            refs.append(letter)
            col = here
    assert refs.count(b"") > 9 * len(refs) // 10
    assert refs.count(b"C") == len(SPEC.fields) and refs.count(b"H") == 1  # after the blank code, the blank value


def test_shared_strings_reuse_xlsxwriter_strings_and_count_references():
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/'
           'spreadsheetml/2006/main" count="5" uniqueCount="3"><si><t>合格</t></si><si><t>a &amp; b</t></si>'
           '<si><t xml:space="preserve"> x </t></si></sst>')
    strings = sh.SharedStrings(xml.encode())
    assert strings.index("a & b") == 1 and strings.index("合格") == 0
    assert strings.index("x<y\x07") == 3 and strings.index("x<y\x07") == 3  # added once, made safe
    strings.count += 4
    out = strings.xml().decode()
    assert 'count="9" uniqueCount="4"' in out
    assert out.endswith('<si><t xml:space="preserve"> x </t></si><si><t xml:space="preserve">x&lt;y?</t></si></sst>')
    assert sh.SharedStrings(out.encode()).index("x<y?") == 3
    with pytest.raises(ValueError):
        sh.SharedStrings(None).xml()


def test_cell_text_holds_only_what_xml_can():
    """Control characters and lone surrogates (a file name read with surrogateescape) become "?",
    as in the 问题通知: the same util.xmltext.xml_safe."""
    assert sh.clean("a\x00b\x1f\ufffe\udc80c\t\n中") == "a?b???c\t\n中"
    assert sh.clean(None) == "" and sh.clean(12) == "12"
    assert sh.escape_text("<a&b>\x01") == "&lt;a&amp;b&gt;?"


def test_value_texts_are_each_value_as_the_data_sheet_writes_it():
    import random

    rng = random.Random(8)
    kinds = [lambda: rng.randrange(-10**6, 10**6), lambda: None, lambda: Decimal(rng.randrange(10**6)) / 10**rng.randrange(6),
             lambda: rng.random() * 100, lambda: rng.choice([True, False]), lambda: Decimal("1E+3"), lambda: 10**40]
    for _ in range(300):
        values = tuple(rng.choice(kinds)() for _ in range(rng.randrange(0, 40)))
        want = [v if v is None else str(v) if type(v) is int else sh.number_text(v) for v in values]
        assert cw._value_texts(values) == want
