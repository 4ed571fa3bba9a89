"""问题通知 as a file: the notice made from the shell (write.notice.notice_docx) is, part for part,
the document python-docx builds for the same texts; read back with python-docx it shows every
finding with its level, colours, fonts and widths; hostile texts and 10,000 findings still make a
valid .docx (python-docx opens it; LibreOffice converts it)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import zipfile

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt

from xlsx_tools.model.findings import Finding
from xlsx_tools.write import docx_oxml as ox
from xlsx_tools.write import office
from xlsx_tools.write.notice import (
    TITLE,
    Notice,
    notice_document,
    notice_docx,
    python_docx_notice,
    rows,
    wording,
    write_notice,
)

SHA = "4d1bb87d7749b4516a3d92382332eeb707c821445da3884a5a45dd473c5938d3"
SPECIAL = "值<0 & >100 \"引号\" 'x' ]]> &amp; <w:t>"
CONTROL = "控制\x00字符\x01\x0b\x1f\ufffe结束"
LONG = "很长的说明，" * 900


def hostile_findings(n_blank: int = 6) -> list[dict]:
    """Errors and warnings with labels, cells only, XML specials, control characters, tabs and
    line breaks, edge white space, a very long message and a run of blanks that makes one row."""
    out = [
        Finding("T3_BALANCE", "error", f"不符合勾稽关系：{SPECIAL}", cells=("表三!D4", "表三!D5"),
                labels=("表三 第4行「（一）予以公开」自然人（D4）", "表三 第5行（D5）")),
        Finding("X", "warning", f"{CONTROL} 行尾", cells=("表二!C5",)),
        Finding("Y", "error", "第一行\n第二行\r\n第三行\t制表", labels=("表一\t（A1）",)),
        Finding("Z", "warning", "  前后空白\u3000", cells=("表二!C6", "表二!C7")),
        Finding("L", "error", LONG),
        Finding("Q", "error", "", cells=("表四!B2",), labels=("",)),
    ]
    out += [Finding("BLANK", "error", f"表三 D{r} 没有填写。", cells=(f"表三!D{r}",)) for r in range(10, 10 + n_blank)]
    return [f.to_dict() for f in out]


def notices() -> list[Notice]:
    day = dt.date(2026, 2, 3)
    return [
        Notice(agency=f"青山区<民政局>&{CONTROL}", file="报表\udc80\x07.xlsx", sha256=SHA, saved_at="2026-01-10T00:03:00Z",
               year=2025, findings=hostile_findings(), reason="“a.xls”是 Excel 97-2003 工作簿，请另存为 .xlsx。",
               deadline="2026年1月31日", office=f"青山区人民政府办公室（政务公开办）{SPECIAL}",
               contact="王五，电话 0955-7012345\t分机 8", date=day),
        Notice(agency="甲" * 400, file="", findings=[f for f in hostile_findings() if f["severity"] == "warning"], date=day),
        Notice(agency="乙局", file="乙.xlsx", sha256=SHA, findings=[], office="短", contact="", date=dt.date(2025, 12, 31)),
        Notice(agency="丙局", file="丙.xlsx", saved_at="2026-01-12T03:05:00Z", year=2025, date=day,
               findings=[Finding("R", "warning" if i % 3 else "error", f"第 {i} 处：{SPECIAL}", cells=(f"表三!D{i}", f"表三!E{i}"),
                                 labels=(f"表三 第{i}行（D{i}）",)).to_dict() for i in range(300)]),
    ]


def parts(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.mark.parametrize("n", range(len(notices())))
def test_every_part_is_what_python_docx_writes_for_the_same_texts(n):
    notice = notices()[n]
    built = io.BytesIO()
    python_docx_notice(wording(notice)).save(built)
    fast, reference = parts(notice_docx(notice)), parts(built.getvalue())
    assert sorted(fast) == sorted(reference)
    for name in reference:
        assert fast[name] == reference[name], name


@pytest.mark.parametrize("n", range(len(notices())))
def test_the_stencil_gives_the_document_the_filled_tree_gives(n):
    notice = notices()[n]
    assert parts(notice_docx(notice))["word/document.xml"] == notice_document(notice)


def shown(text: str) -> str:
    """A text as python-docx reads it back: control characters as "?", "\\r" as a line break."""
    return "".join("?" if (ord(c) < 32 and c not in "\t\r\n") or 0xD800 <= ord(c) <= 0xDFFF or c in "\ufffe\uffff"
                   else c for c in text).replace("\r", "\n")


def east_asia(run) -> str:
    return ox.r_element(run).find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_read_back_it_shows_every_finding_with_its_level_fonts_and_widths():
    notice = notices()[0]
    document = docx.Document(io.BytesIO(notice_docx(notice)))
    paragraphs = document.paragraphs
    assert [p.text for p in paragraphs] == [
        TITLE, shown(f"{notice.agency}："),
        "你单位报送的2025年度政府信息公开工作年度报告填报表经校验，发现错误 11 处、警告 2 处，详见下表。"
        "请逐项修改后重新报送，报送截止日期为2026年1月31日。",
        "", shown(f"如有疑问，请联系{notice.contact}。"), notice.office, "2026年2月3日"]
    assert [east_asia(p.runs[0]) for p in paragraphs if p.runs] == ["方正小标宋简体"] + ["仿宋_GB2312"] * 6
    assert paragraphs[0].runs[0].font.size == Pt(18) and paragraphs[2].runs[0].font.size == Pt(14)
    assert paragraphs[2].paragraph_format.first_line_indent == Pt(28)
    assert document.core_properties.title == shown(f"{notice.agency} {TITLE}")
    assert document.core_properties.author == notice.office

    facts, findings = document.tables
    assert [[c.text for c in r.cells] for r in facts.rows] == [
        ["收到的文件", "报表??.xlsx"], ["文件校验码", "sha256 4d1bb87d7749…（前 12 位）"],
        ["文件保存时间", "2026-01-10 08:03"]]
    assert [east_asia(r.cells[0].paragraphs[0].runs[0]) for r in facts.rows] == ["黑体"] * 3

    expected = [(str(i), level, shown(where), shown(what)) for i, (level, where, what) in enumerate(rows(notice), start=1)]
    assert [tuple(c.text for c in r.cells) for r in findings.rows[1:]] == expected
    assert len(expected) == 1 + 6 + 1  # the reason, the six findings, the blanks as one row
    [blanks] = [r for r in expected if r[2].startswith("表三：D10、\u200bD11")]
    assert blanks[1] == "错误" and blanks[3] == "同类问题共 6 处，例如：表三 D10 没有填写。"
    header = findings.rows[0]
    assert [c.text for c in header.cells] == ["序号", "级别", "位置", "问题及修改方法"]
    assert ox.tr_element(header).find(qn("w:trPr")).find(qn("w:tblHeader")) is not None
    for row, (_, level, _, _) in zip(findings.rows[1:], expected, strict=True):
        assert ox.tr_element(row).find(qn("w:trPr")).find(qn("w:cantSplit")) is not None
        number, lvl = row.cells[0].paragraphs[0], row.cells[1].paragraphs[0]
        assert str(lvl.runs[0].font.color.rgb) == ("C00000" if level == "错误" else "9C5700")
        assert number.alignment == lvl.alignment == 1  # centred
        assert [round(c.width.mm) for c in row.cells] == [12, 13, 50, 88]
        assert all(east_asia(c.paragraphs[0].runs[0]) == "宋体" for c in row.cells)
        assert all(c.paragraphs[0].runs[0].font.size == Pt(10.5) for c in row.cells)


def test_write_notice_writes_the_package(tmp_path):
    notice = notices()[2]
    path = write_notice(notice, tmp_path / "通知.docx")
    assert path.read_bytes()[:2] == b"PK" and parts(path.read_bytes()) == parts(notice_docx(notice))
    assert [p.name for p in tmp_path.iterdir()] == ["通知.docx"]  # no temporary file left


def test_ten_thousand_findings_make_a_valid_docx():
    findings = [Finding("R", "warning" if i % 2 else "error", f"第 {i} 处 <&>", cells=(f"表三!D{i}", f"表三!E{i}")).to_dict()
                for i in range(10_000)]
    document = docx.Document(io.BytesIO(notice_docx(Notice(agency="丁局", file="丁.xlsx", findings=findings))))
    table = document.tables[1]
    assert len(table.rows) == 10_001
    assert table.rows[-1].cells[0].text == "10000" and table.rows[-1].cells[3].text == "第 9999 处 <&>"


@pytest.mark.libreoffice
def test_libreoffice_converts_a_hostile_notice(tmp_path):
    if office.find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    pdf = office.convert(write_notice(notices()[0], tmp_path / "通知.docx"), "pdf", tmp_path / "pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = "".join(text.split())
    assert "青山区<民政局>&控制?字符??" in text and "]]>&amp;<w:t>" in text and "同类问题共6处" in text
