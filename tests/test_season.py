"""A whole season end to end (tests/season.py): every agency's status, the files of nobody, the
problem list (adopted files only), the notices, and the manifest as the roster."""

from __future__ import annotations

import docx
import openpyxl
import pytest

from tests.season import DEADLINE, DRAFT, NAMES, STATUSES, UNATTRIBUTED, YEAR, build_season
from xlsx_tools.collect import classify, run, walk
from xlsx_tools.model.report import loads
from xlsx_tools.model.status import Status

OFFICE = "青山区人民政府办公室（政务公开办）"
CONTACT = "王五，电话 0955-7012345"


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    s = build_season(tmp_path_factory.mktemp("season"))
    out = s.base / "收集结果"
    result = run.collect(s.returns, s.manifest, out, jobs=2, office=OFFICE, contact=CONTACT)
    data = loads((out / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    return s, result, data, out


def test_every_agency_has_its_status(season):
    _, result, data, _ = season
    assert len(NAMES) >= 25
    assert [(a["agency"], a["status"]) for a in data["agencies"]] == list(zip(NAMES, [s.label for s in STATUSES], strict=True))
    assert result.summary_lines()[0] == (f"应交 27 家，已交 25 家：合格 12，有警告 2，有错误 11；"
                                         f"未提交 2 家：{NAMES[10]}、{NAMES[19]}。")


def test_files_named_as_offices_name_them_are_attributed(season):
    _, _, data, _ = season
    files = {f["path"]: f for f in data["files"]}
    by_name = {  # no template identity inside: the file name (short form, alias, GBK zip name, case)
        "教育局年报.xls": "教育局", "邮箱导出.zip!附件/司法局.xls": "司法局", "住建局.csv": "住房和城乡建设局",
        "商务局年报.xls": "商务局", "卫健局.csv": "卫生健康局", "医保局年报.docx": "医疗保障局", "融媒年报.xls": "融媒体中心",
        "abc中心.xls": "abc中心",
    }
    for path, agency in by_name.items():
        assert (files[path]["agency"], files[path]["match"]) == ("青山区" + agency, classify.BY_NAME), path
    assert files["邮箱导出.zip!附件/民政局年报.xlsx"]["agency"] == "青山区民政局"
    assert files["ABC中心.xlsx"]["agency"] == "青山区ABC中心"


def test_unusable_files_give_errors_with_the_reason_never_missing(season):
    _, _, data, _ = season
    notes = {a["agency"]: a["note"] for a in data["agencies"]}
    assert notes["青山区商务局"].startswith("提交的文件无法使用（按文件名对应到本机关）：“商务局年报.xls”")
    assert "另存为" in notes["青山区商务局"] and "按文件名对应到本机关" in notes["青山区商务局"]
    assert notes["青山区卫生健康局"].startswith("提交的文件无法使用（按文件名对应到本机关）：“卫健局.csv”")
    assert notes["青山区农业农村局"].startswith(f"提交的文件无法使用：“农业局2024.xlsx”是 {YEAR - 1} 年度的模板")
    assert notes["青山区退役军人事务局"].startswith("错误 168 处，请修改后重新报送（见问题清单）")
    # every agency that is not 合格 has a 说明
    for a in data["agencies"]:
        assert bool(a["note"]) or a["status"] == Status.OK.label, a["agency"]
    assert notes[NAMES[10]] == "未收到该机关的文件"


def test_files_of_nobody_are_listed_with_the_reason(season):
    _, result, data, out = season
    unplaced = {u["path"]: u for u in data["unattributed"]}
    assert set(unplaced) == set(UNATTRIBUTED)
    for path, said in UNATTRIBUTED.items():
        assert said in unplaced[path]["reason"], path
    assert unplaced["Abc中心.docx"]["candidates"] == ["青山区ABC中心", "青山区abc中心"]
    header, *body = openpyxl.load_workbook(out / walk.OUTPUT_XLSX, read_only=True)["无法对应到机关的文件"].iter_rows(
        values_only=True)
    assert sorted(r[1] for r in body) == sorted(UNATTRIBUTED)
    assert "无法对应到机关 4" in result.summary_lines()[1]


def test_problem_list_holds_adopted_files_only(season):
    _, _, data, out = season
    wb = openpyxl.load_workbook(out / walk.OUTPUT_XLSX, read_only=True)
    _, *body = wb["问题清单"].iter_rows(values_only=True)
    listed = {r[2] for r in body}
    adopted = {a["file"] for a in data["agencies"] if a["status"] in (Status.ERR.label, Status.WARN.label) and a["file"]}
    unusable_only = {p for a in data["agencies"] if a["status"] == Status.ERR.label and not a["file"] for p in a["files"]}
    assert listed == adopted | unusable_only
    assert DRAFT not in listed and "应急局2024.xlsx" not in listed
    files = {f["path"]: f for f in data["files"]}
    assert files[DRAFT]["status"] == Status.DUPLICATE.label and files[DRAFT]["errors"] > 0  # kept in 文件清单
    assert {r[1] for r in body} <= set(NAMES)


def test_a_blank_template_is_one_problem_row_per_sheet_and_kind(season):
    """The template sent back blank: collect.json lists its 166 blanks one by one; 问题清单 prints
    one row per sheet and code with the count and the first cells, and its 单元格 has every cell
    (for filtering) without making the row tall."""
    _, _, data, out = season
    agency = "青山区退役军人事务局"
    file = next(a["file"] for a in data["agencies"] if a["agency"] == agency)
    findings = next(f["findings"] for f in data["files"] if f["path"] == file)
    blanks: dict[str, list[str]] = {}
    for f in findings:
        if f["code"] == "BLANK":
            assert len(f["cells"]) == 1
            blanks.setdefault(f["cells"][0].split("!")[0], []).append(f["cells"][0])
    assert {s: len(cells) for s, cells in blanks.items()} == {"表二": 10, "表三": 144, "表四": 12}
    ws = openpyxl.load_workbook(out / walk.OUTPUT_XLSX)["问题清单"]
    mine = [(n, r) for n, r in enumerate(ws.iter_rows(values_only=True), start=1) if r[1] == agency]
    rows = [(n, r) for n, r in mine if r[5] == "BLANK"]
    assert [r[6].split("、") for _, r in rows] == list(blanks.values())
    for (n, r), (sheet, cells) in zip(rows, blanks.items(), strict=True):
        assert r[4] == "错误" and r[8].startswith(f"同类问题共 {len(cells)} 处（「单元格」一列列出全部），例如：")
        named = "、".join(x.split("!")[1] for x in cells[:12])
        assert r[7] == f"{sheet}：{named}" + (f" 等 {len(cells)} 处" if len(cells) > 12 else "")
        assert ws.row_dimensions[n].height <= 5 * 14 + 2, (sheet, ws.row_dimensions[n].height)  # ≤ 5 lines
    assert len(mine) == len(findings) - 166 + 3  # the other findings (一 and 五 empty): one row each


def test_a_notice_for_each_agency_with_errors_or_warnings(season):
    _, _, data, out = season
    want = [a for a in data["agencies"] if a["status"] in (Status.ERR.label, Status.WARN.label)]
    assert sorted(p.name for p in (out / walk.NOTICE_DIR).iterdir()) == sorted(f"{a['agency']}_问题通知.docx" for a in want)
    assert [a["notice"] for a in want] == data["notices"]
    for a in want:
        d = docx.Document(str(out / a["notice"]))
        text = "\n".join(p.text for p in d.paragraphs)
        cells = [cell.text for t in d.tables for r in t.rows for cell in r.cells]
        assert text.startswith("政府信息公开工作年度报告填报问题通知\n" + a["agency"] + "：")
        assert f"报送截止日期为{DEADLINE}" in text and f"请联系{CONTACT}" in text and OFFICE in text
        shown = a["file"] or a["files"][0]
        assert shown in cells
    rs = docx.Document(str(out / walk.NOTICE_DIR / "青山区人力资源和社会保障局_问题通知.docx"))
    rows = [[cell.text for cell in r.cells] for r in rs.tables[1].rows[1:]]
    assert rows and all(r[1] == "错误" for r in rows) and any("T3" in r[2] or "表三" in r[2] for r in rows)


def test_manifest_as_roster_keeps_the_contacts(season):
    s, _, _, out = season
    manifest = s.manifest.read_text(encoding="utf-8-sig").splitlines()
    assert manifest[0].startswith("机关名称,机关代码,序号,简称/别名,联系人,联系电话,")
    ws = openpyxl.load_workbook(out / walk.OUTPUT_XLSX, read_only=True)["收集情况"]
    values = [v for row in ws.iter_rows(values_only=True) for v in row]
    assert "联系人1" in values and "0955-7000001" in values


@pytest.mark.libreoffice
@pytest.mark.parametrize("agency", ["青山区退役军人事务局", "青山区商务局", "青山区人力资源和社会保障局"])
def test_notices_print_on_one_a4_page(season, tmp_path, agency):
    """A template sent back blank (166 blanks, grouped by sheet), a file of the wrong kind, and a
    balance error: each notice is one A4 page in LibreOffice, with the agency and the date."""
    import subprocess

    from xlsx_tools.write import office

    if office.find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    _, _, _, out = season
    pdf = office.convert(out / walk.NOTICE_DIR / f"{agency}_问题通知.docx", "pdf", tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "(A4)" in info
    text = "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert f"{agency}：" in text and OFFICE in text
