"""Issue 12, Word and web pages: our own docx output, Word files built the way other offices build
them (title table, merged cells, other widths), web pages with colspan/rowspan, and bad input."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_fixtures import make_report, published_docx, published_html
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.format.spec import load_format
from xlsx_tools.read.published import import_file
from xlsx_tools.read.published.sources import Limits
from xlsx_tools.write.docx_report import write_docx

SPEC = load_format()


def wrong(expected, got) -> list:
    assert got.report is not None, got.findings
    return [(f.id, expected.figures[f.id], got.report.figures[f.id]) for f in SPEC.fields
            if got.report.figures[f.id] != expected.figures[f.id]]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6))
def test_our_docx_output_imports_every_figure_back(tmp_path, seed):
    rep = make_report(seed=seed, agency="某某县市场监督管理局", year=2023)
    rep.contact = {"website_name": "某某县人民政府网站", "website": "http://www.example.gov.cn/",
                   "contact_org": "某某县市场监督管理局办公室", "address": "某某县人民路1号", "postcode": "755000",
                   "phone": "0955-1234567", "email": "gk@example.gov.cn"}
    path = write_docx(rep, tmp_path / f"r{seed}.docx", signature=True, date="2024年1月20日")
    r = import_file(path)
    assert wrong(rep, r) == []
    assert (r.agency, r.year) == ("某某县市场监督管理局", 2023)
    assert r.report.narrative == rep.narrative  # the signature is not part of section 六
    assert r.report.contact == rep.contact  # from the opening paragraph
    assert r.source_block["kind"] == "docx" and r.source_block["figures_found"] == 200
    origin = r.source_block["figures"]["t3.granted.natural_person"]
    assert origin["table"] >= 1 and origin["row"] >= 1 and origin["column"] == 4  # grid column D
    assert not r.has_errors


@pytest.mark.parametrize("title_table", [True, False])
def test_a_word_file_built_differently(tmp_path, title_table):
    rep = make_report(seed=31, agency="某某市司法局", year=2021)
    published_docx(rep, tmp_path / "p.docx", seed=4, title_table=title_table)
    r = import_file(tmp_path / "p.docx")
    assert wrong(rep, r) == []
    assert (r.agency, r.year) == ("某某市司法局", 2021)
    assert r.report.narrative == rep.narrative


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_web_page_with_colspan_and_rowspan(tmp_path, encoding):
    rep = make_report(seed=32, agency="某某区教育局", year=2022)
    p = tmp_path / "report.htm"
    p.write_bytes(published_html(rep, encoding=encoding))
    r = import_file(p)
    assert wrong(rep, r) == []
    assert (r.agency, r.year) == ("某某区教育局", 2022)
    assert r.report.narrative == rep.narrative  # site navigation, script and footer left out
    # the grid column of a cell after a rowspan'd label (三、本年度办理结果) is the official one
    assert r.source_block["figures"]["t3.withheld.state_secret.natural_person"]["column"] == 4


def test_a_web_page_with_blank_and_slash_cells(tmp_path):
    rep = make_report(seed=33)
    page = published_html(rep).decode()
    # the first figure of 表二 printed as "/" (not applicable)
    page = page.replace("<td><p><span>" + str(rep.figures["t2.item1.rules.issued"]) + "</span></p></td>",
                        "<td><p><span>/</span></p></td>", 1)
    p = tmp_path / "r.html"
    p.write_text(page, encoding="utf-8")
    r = import_file(p)
    assert r.source_block["figures"]["t2.item1.rules.issued"]["state"] == "not_applicable"
    assert r.report.figures["t2.item1.rules.issued"] is None


def test_a_50_mb_web_page_is_refused_quickly(tmp_path):
    p = tmp_path / "big.html"
    with open(p, "wb") as fh:
        fh.write(b"<html><body><table>")
        chunk = b"<tr><td>0</td></tr>" * 10000
        while fh.tell() < 50 * (1 << 20):
            fh.write(chunk)
    res = CliRunner().invoke(app, ["import", str(p)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    r = import_file(p)
    assert r.report is None and "过大" in r.findings[0].message and "50 MB" in r.findings[0].message


def test_too_many_table_cells_are_refused(tmp_path):
    p = tmp_path / "cells.html"
    p.write_bytes(b"<html><body><table>" + b"<tr><td>1</td><td>2</td></tr>" * 2000 + b"</table></body></html>")
    r = import_file(p, limits=Limits(max_cells=1000))
    assert r.report is None and "单元格" in r.findings[0].message


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("name, data, expected", [
    ("bomb.docx", _zip({"word/document.xml": b"\0" * (80 << 20)}), "压缩炸弹"),
    ("book.docx", _zip({"xl/workbook.xml": b"<x/>", "[Content_Types].xml": b"<x/>"}), "Excel 工作簿"),
    ("cut.docx", _zip({"word/document.xml": b"<w:document/>" * 100})[:-30], "损坏"),
    ("bad.docx", _zip({"word/document.xml": b"<w:document><unclosed>"}), "正文部分已损坏"),
    ("entity.docx", _zip({"word/document.xml": b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                                               b'<x>&b;&b;&b;</x>'}), "机关名称"),
    ("picture.pdf.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "OCR"),
])
def test_bad_word_files_say_what_is_wrong(tmp_path, name, data, expected):
    p = tmp_path / name
    p.write_bytes(data)
    r = import_file(p)
    text = " ".join(f.message for f in r.findings)
    assert expected in text
    assert r.report is None or r.has_errors
    res = CliRunner().invoke(app, ["import", str(p)])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_doc_without_libreoffice_says_so(tmp_path, monkeypatch):
    from xlsx_tools.cli.commands.import_batch import doc_to_docx
    from xlsx_tools.write import office

    monkeypatch.setattr(office, "find_soffice", lambda: None)
    p = tmp_path / "old.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    r = import_file(p, converter=doc_to_docx)
    assert r.report is None and "本机没有安装 LibreOffice" in r.findings[0].message
    assert r.source_block["error"] == "needs_office"
    res = CliRunner().invoke(app, ["import", "--json", str(p)])
    assert res.exit_code == 1 and "本机没有安装 LibreOffice" in res.output  # the CLI hands in LibreOffice
    # the library without a converter (read/ does not reach up to write/office) says how to convert
    r = import_file(p)
    assert r.report is None and "需要 LibreOffice 转换" in r.findings[0].message and "另存为" in r.findings[0].message


def test_a_folder_of_reports_gives_the_review_workbook(tmp_path):
    import openpyxl

    src = tmp_path / "reports"
    src.mkdir()
    reps = [make_report(seed=40 + i, agency=f"某某县第{i}局", year=2022) for i in range(3)]
    write_docx(reps[0], src / "a.docx")
    (src / "b.html").write_bytes(published_html(reps[1]))
    bad = reps[2]
    bad.figures["t4.review.total"] += 1
    from import_fixtures import report_text

    (src / "c.txt").write_text(report_text(bad, "pipes"), encoding="utf-8")
    (src / "d.txt").write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(out)])
    assert res.exit_code == 1, res.output
    assert "共导入 4 份报告：1 份有错误，0 份仅有警告，2 份未发现问题，1 份无法读取" in res.output.replace("\n", "")
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json", "c.json", "审核结果.xlsx"]
    wb = openpyxl.load_workbook(out / "审核结果.xlsx")
    ws = wb["审核结果"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert [r[1] for r in rows] == ["某某县第0局", "某某县第1局", "某某县第2局", ""]
    assert [r[3] for r in rows] == ["合格", "合格", "有错误", "无法读取"]
    assert [r[4] for r in rows[:3]] == ["Word 文档", "网页", "文本"]
    assert rows[0][5] == rows[0][6] == 200
    problems = [[c.value for c in r] for r in wb["问题清单"].iter_rows(min_row=2)]
    assert any(p[5] == "T4_TOTAL" and p[1] == "某某县第2局" for p in problems)
    assert any(p[5] == "UNREADABLE" and p[3].endswith("d.txt") for p in problems)


def test_json_of_several_files_is_an_array(tmp_path):
    import json

    reps = [make_report(seed=50 + i) for i in range(2)]
    paths = []
    for i, rep in enumerate(reps):
        p = tmp_path / f"{i}.html"
        p.write_bytes(published_html(rep))
        paths.append(str(p))
    res = CliRunner().invoke(app, ["import", *paths, "--json"])
    data = json.loads(res.stdout)
    assert isinstance(data, list) and [d["source"]["kind"] for d in data] == ["html", "html"]
    assert res.exit_code == 0


def test_usage_errors(tmp_path):
    res = CliRunner().invoke(app, ["import"])
    assert res.exit_code == 2 and "请指定要导入" in res.output
    res = CliRunner().invoke(app, ["import", str(tmp_path / "nope.pdf")])
    assert res.exit_code == 2 and "找不到文件" in res.output
    res = CliRunner().invoke(app, ["import", str(tmp_path)])
    assert res.exit_code == 2 and "没有可导入的年度报告" in res.output.replace("\n", "")


def test_source_file_is_never_changed(tmp_path):
    import hashlib

    rep = make_report(seed=60)
    p = write_docx(rep, tmp_path / "r.docx")
    before = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    r = import_file(p)
    assert r.sha256 == before == hashlib.sha256(Path(p).read_bytes()).hexdigest()


def test_columns_in_another_order_are_not_read_by_position(tmp_path):
    rep = make_report(seed=61)
    page = published_html(rep).decode().replace("<br>", "")
    # swap the printed labels 商业企业 and 科研机构 in 表三's header
    t3 = SPEC.table("t3")
    a, b = (t3.node_labels[k] for k in ("commercial", "research"))
    page = page.replace(f"<span>{a}</span>", "<span>@@</span>").replace(f"<span>{b}</span>", f"<span>{a}</span>").replace("<span>@@</span>", f"<span>{b}</span>")
    p = tmp_path / "r.html"
    p.write_text(page, encoding="utf-8")
    r = import_file(p)
    layout = [f for f in r.findings if f.code == "IMPORT_LAYOUT"]
    assert len(layout) == 1 and "顺序不同" in layout[0].message and f"{b}、{a}" in layout[0].message
    assert all(r.report.figures[f.id] is None for f in t3.fields)
    assert wrong(rep, r) == [(f.id, rep.figures[f.id], None) for f in t3.fields]


def test_a_page_laid_out_with_tables(tmp_path):
    """Many agency sites wrap the whole article in layout tables; the report's tables inside are
    still read as tables."""
    rep = make_report(seed=62, agency="某某镇人民政府", year=2023)
    page = published_html(rep).decode()
    body_start = page.index("<body>") + len("<body>")
    page = (page[:body_start] + '<table width="100%"><tr><td class="left">栏目导航</td><td><table><tr><td>'
            + page[body_start:].replace("</body>", "</td></tr></table></td></tr></table></body>"))
    p = tmp_path / "wrapped.html"
    p.write_text(page, encoding="utf-8")
    r = import_file(p)
    assert wrong(rep, r) == []
    assert (r.agency, r.year) == ("某某镇人民政府", 2023)


def test_a_word_file_laid_out_in_a_table(tmp_path):
    """A Word file whose whole body sits in a one-cell layout table, the report's tables nested."""
    import copy

    from docx import Document

    rep = make_report(seed=63, agency="某某乡人民政府", year=2022)
    inner = tmp_path / "inner.docx"
    published_docx(rep, inner, seed=5, title_table=False)
    src = Document(str(inner))
    outer = Document()
    cell = outer.add_table(rows=1, cols=1).cell(0, 0)
    for el in list(src.element.body):
        if el.tag.endswith("}sectPr"):
            continue
        cell._tc.append(copy.deepcopy(el))
    cell._tc.append(copy.deepcopy(src.element.body[0]))  # a cell must end with a paragraph
    outer.save(str(tmp_path / "wrapped.docx"))
    r = import_file(tmp_path / "wrapped.docx")
    assert wrong(rep, r) == []
    assert (r.agency, r.year) == ("某某乡人民政府", 2022)


def test_table_four_with_its_suit_groups_swapped(tmp_path):
    rep = make_report(seed=64)
    page = published_html(rep).decode().replace("<br>", "")
    t4 = SPEC.table("t4")
    a, b = (t4.node_labels[k] for k in ("suit_direct", "suit_after_review"))
    page = page.replace(f"<span>{a}</span>", "<span>@@</span>").replace(f"<span>{b}</span>", f"<span>{a}</span>").replace("<span>@@</span>", f"<span>{b}</span>")
    p = tmp_path / "r.html"
    p.write_text(page, encoding="utf-8")
    r = import_file(p)
    layout = [f for f in r.findings if f.code == "IMPORT_LAYOUT"]
    assert len(layout) == 1 and "表四" in layout[0].message and "顺序不同" in layout[0].message
    assert all(r.report.figures[f.id] is None for f in t4.fields)
    assert all(r.report.figures[f.id] == rep.figures[f.id] for f in SPEC.table("t3").fields)


def test_a_folder_with_a_symlink_loop_and_a_fifo(tmp_path):
    import os

    src = tmp_path / "reports"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "loop").symlink_to(src, target_is_directory=True)
    os.mkfifo(src / "pipe.txt")
    (src / "a.html").write_bytes(published_html(make_report(seed=65)))
    res = CliRunner().invoke(app, ["import", str(src)])
    assert res.exit_code == 0, res.output
    assert "共导入 1 份报告" in res.output.replace("\n", "")
    res = CliRunner().invoke(app, ["import", str(src / "pipe.txt")])
    assert res.exit_code == 1 and "不是普通文件" in res.output.replace("\n", "")


def test_a_long_agency_name_whose_title_wraps_over_three_lines_is_read_whole(tmp_path):
    """Our own docx breaks a long title into three lines; the agency is the whole name, with its
    full-width brackets as printed (it was read as "办公室(青山区国有资本投资运营服务中心)")."""
    name = "青山区人民政府国有资产监督管理委员会办公室（青山区国有资本投资运营服务中心）"
    rep = make_report(seed=3, agency=name, year=2025)
    path = write_docx(rep, tmp_path / "r.docx", signature=True, date="2026年1月20日")
    r = import_file(path)
    assert (r.agency, r.year) == (name, 2025)
    assert wrong(rep, r) == []
