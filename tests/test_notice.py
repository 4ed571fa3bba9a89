"""问题通知: what a notice says, its file names, `check --notice`, and one A4 page in LibreOffice."""

from __future__ import annotations

import datetime as dt
import io
import random
import subprocess
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo.samples import random_report
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.findings import Finding
from xlsx_tools.read.reader import read_and_check
from xlsx_tools.write import office
from xlsx_tools.write.notice import (
    Notice,
    location,
    notice_docx,
    rows,
    unique_filenames,
    write_notice,
)
from xlsx_tools.write.template import write_template

SPEC = load_format()
AGENCY = "青山区国有资产监督管理委员会办公室（青山区国有资本投资运营服务中心）"


def returned(tmp: Path, name: str = "国资办年报.xlsx", deadline: str = "") -> Path:
    """A return with two blanks (errors), a stock warning and a text mismatch (warnings)."""
    r = random_report(SPEC, random.Random(3), AGENCY, "640502-013", 2025)
    r.figures["t3.granted.commercial"] = None
    r.figures["t3.granted.natural_person"] = None
    r.figures.update({"t2.item1.rules.issued": 5, "t2.item1.rules.repealed": 0, "t2.item1.rules.in_force": 1})
    path = tmp / name
    write_template(path, agency=AGENCY, code="640502-013", year=2025, password="pw", report=r, deadline=deadline,
                   created=dt.datetime(2026, 1, 12, 3, 5, tzinfo=dt.UTC))
    return path


def notice_for(path: Path, **kw) -> Notice:
    res = read_and_check(path)
    return Notice(agency=AGENCY, file=path.name, sha256=res.sha256, saved_at=res.saved_at, year=2025,
                  findings=[f.to_dict() for f in res.findings], **kw)


def opened(notice: Notice):
    """The notice as python-docx reads it back."""
    return docx.Document(io.BytesIO(notice_docx(notice)))


def text_of(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_notice_names_the_agency_the_file_and_every_finding(tmp_path):
    path = returned(tmp_path)
    n = notice_for(path, deadline="2026年1月31日", office="青山区政务公开办", contact="王五，电话 0955-7012345",
                   date=dt.date(2026, 2, 3))
    text = text_of(opened(n))
    assert f"{AGENCY}：" in text
    assert "国资办年报.xlsx" in text and n.sha256[:12] in text and n.sha256[:13] not in text
    assert "2026-01-12 11:05" in text  # saved 03:05 UTC, shown in UTC+8
    assert "报送截止日期为2026年1月31日" in text and "请联系王五，电话 0955-7012345" in text
    assert "你单位报送的2025年度政府信息公开工作年度报告填报表经校验" in text  # no "2025 年度"
    assert "青山区政务公开办" in text and "2026年2月3日" in text
    assert f"发现错误 {n.errors} 处、警告 {n.warnings} 处" in text
    for f in n.findings:
        assert f["message"] in text and f["labels"][0] in text
    table = opened(n).tables[1]
    assert [c.text for c in table.rows[0].cells] == ["序号", "级别", "位置", "问题及修改方法"]
    assert [r.cells[1].text for r in table.rows[1:]] == ["错误"] * n.errors + ["警告"] * n.warnings


def test_without_deadline_or_contact_it_says_whom_to_ask(tmp_path):
    text = text_of(opened(notice_for(returned(tmp_path))))
    assert "截止日期" not in text and "请联系本级政务公开工作机构" in text


def test_many_blanks_of_one_sheet_are_one_row():
    findings = [Finding("BLANK", "error", f"表三 {c} 没有填写。", cells=(f"表三!{c}",), labels=(f"表三（{c}）",)).to_dict()
                for c in ("D4", "E4", "F4", "G4", "H4")]
    findings.append(Finding("T3_BALANCE", "error", "不符合勾稽关系。", cells=("表三!D4", "表三!D5"),
                            labels=("表三 第4行（D4）", "表三 第5行（D5）")).to_dict())
    out = rows(Notice(agency="a", file="a.xlsx", findings=findings))
    assert out[0] == ("错误", "表三：D4、\u200bE4、\u200bF4、\u200bG4、\u200bH4", "同类问题共 5 处，例如：表三 D4 没有填写。")
    assert out[1] == ("错误", "表三 第4行（D4） 等 2 处", "不符合勾稽关系。")


def test_an_unusable_file_is_one_row_for_the_whole_file():
    n = Notice(agency="a", file="a.xls", reason="“a.xls”是 Excel 97-2003 工作簿，请另存为 .xlsx。")
    assert rows(n) == [("错误", "整个文件", "“a.xls”是 Excel 97-2003 工作簿，请另存为 .xlsx。")]
    assert n.errors == 1


def test_location_without_labels():
    assert location(Finding("X", "error", "m", cells=("表二!C5",))) == "表二 C5"
    assert location(Finding("X", "error", "m")) == "整个文件"


def test_file_names_carry_the_agency_and_never_collide():
    names = unique_filenames(["ABC局", "abc局", "CON", "沙坡头区民政局"], ["001", "002", "", ""])
    assert names == ["ABC局_问题通知（001）.docx", "abc局_问题通知（002）.docx", "CON__问题通知.docx",
                     "沙坡头区民政局_问题通知.docx"]
    assert unique_filenames(["甲局", "甲局"]) == ["甲局_问题通知（2）.docx", "甲局_问题通知（3）.docx"]


def test_file_names_of_many_agencies_never_collide():
    """Thousands of agencies, many alike but for case, width or the characters made safe: every
    name is one file on a Windows share; an agency alone with its name keeps it, and the names
    that clash get the code or a number as when each name was counted against all the others."""
    import random

    from xlsx_tools.util.fsutil import filename_key
    from xlsx_tools.write.notice import notice_filename

    rng = random.Random(3)
    agencies = [rng.choice(["甲局", "ABC局", "abc局", "ＡＢＣ局", "乙/局", "乙:局", "丙局"]) + rng.choice(["", "一", "二", "三"])
                for _ in range(3000)]
    codes = [rng.choice(["", "", f"C{i}", "X"]) for i in range(len(agencies))]
    names = unique_filenames(agencies, codes)
    assert len({filename_key(n) for n in names}) == len(names)
    keys = [filename_key(notice_filename(a)) for a in agencies]
    for agency, key, name in zip(agencies, keys, names, strict=True):
        if keys.count(key) == 1:
            assert name == notice_filename(agency)
        else:
            assert name != notice_filename(agency) and name.startswith(notice_filename(agency).removesuffix(".docx"))


def test_check_notice_writes_one_per_file_with_findings(tmp_path):
    bad = returned(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["check", str(bad), "--notice", str(tmp_path / "通知"), "--deadline", "2026/1/31",
                              "--contact", "王五"])
    assert res.exit_code == 1, res.output
    written = sorted((tmp_path / "通知").iterdir())
    assert [p.name for p in written] == [f"{AGENCY}_问题通知.docx"]
    assert "报送截止日期为2026年1月31日" in text_of(docx.Document(str(written[0])))
    assert "已写入问题通知" in res.output
    res = runner.invoke(app, ["check", str(bad), "--notice", str(bad)])
    assert res.exit_code == 2 and "--notice 应为文件夹" in res.output.replace("\n", "")


def test_check_notice_takes_the_deadline_the_template_shows(tmp_path):
    bad = returned(tmp_path, deadline="2026年2月28日")
    res = CliRunner().invoke(app, ["check", str(bad), "--notice", str(tmp_path / "通知")])
    assert res.exit_code == 1, res.output
    [written] = (tmp_path / "通知").iterdir()
    assert "报送截止日期为2026年2月28日" in text_of(docx.Document(str(written)))


@pytest.mark.libreoffice
def test_notice_prints_on_one_a4_page(tmp_path):
    if office.find_soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    n = notice_for(returned(tmp_path), deadline="2026年1月31日", office="青山区人民政府办公室（政务公开办）",
                   contact="王五，电话 0955-7012345，电子邮箱 gkb@qingshan.gov.cn", date=dt.date(2026, 2, 3))
    pdf = office.convert(write_notice(n, tmp_path / "通知.docx"), "pdf", tmp_path / "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "(A4)" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = "".join(text.split())
    assert "政府信息公开工作年度报告填报问题通知" in text and "2026年2月3日" in text
