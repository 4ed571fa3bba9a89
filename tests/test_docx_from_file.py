"""write.docx_from_file: the `docx` command's workflow as one library call (no console): what it
read, the findings said the docx way, what it wrote, and each stop with its exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlsx_tools.cli.demo import samples
from xlsx_tools.write import docx_from_file as dff
from xlsx_tools.write import office

DEFAULT_NAME = "沙坡头区政务服务中心2021年政府信息公开工作年度报告.docx"


def write_json(path: Path, report) -> Path:
    path.write_text(report.to_json(), encoding="utf-8")
    return path


def test_a_clean_report_is_written_beside_its_input(tmp_path):
    src = write_json(tmp_path / "sample.json", samples.sample_report())
    result = dff.docx_from_file(src)
    assert result.written == tmp_path / DEFAULT_NAME and result.written.exists()
    assert result.exit_status == 0 and result.counts == (0, 0) and result.read is None


def test_errors_stop_it_unless_forced(tmp_path):
    report = samples.sample_report()
    report.narrative.pop("problems")
    src = write_json(tmp_path / "broken.json", report)
    result = dff.docx_from_file(src, output=tmp_path / "out.docx")
    assert result.written is None and result.exit_status == dff.FINDINGS and not (tmp_path / "out.docx").exists()
    [finding] = result.findings
    # a report JSON has no narrative sheet: the advice is --narrative, and no cell is named
    assert finding.message.endswith("请用 --narrative 提供这一部分的文字（Word、Markdown 或纯文本文件）。")
    assert finding.cells == ()
    forced = dff.docx_from_file(src, output=tmp_path / "out.docx", force=True)
    assert forced.written == tmp_path / "out.docx" and forced.exit_status == 0


def test_a_narrative_file_replaces_the_sections_and_its_findings(tmp_path):
    report = samples.sample_report()
    report.narrative.pop("problems")
    src = write_json(tmp_path / "broken.json", report)
    text = tmp_path / "文字.txt"
    text.write_text("五、存在的主要问题及改进情况\n培训不足，将加强。\n", encoding="utf-8")
    notes: list[str] = []
    result = dff.docx_from_file(src, narrative=text, output=tmp_path / "o.docx", note=notes.append)
    assert result.exit_status == 0 and result.report.narrative["problems"] == "培训不足，将加强。"
    assert not [f for f in result.findings if f.code == "NARRATIVE_EMPTY"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.csv", "x", "不支持的文件类型「.csv」"),
    ("a.json", "{", "无法读取报告 JSON「a.json」"),
])
def test_inputs_it_cannot_use_raise_docx_error(tmp_path, name, content, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(dff.DocxError, match=message):
        dff.docx_from_file(tmp_path / name)


def test_a_date_that_does_not_exist_is_refused_before_reading(tmp_path):
    with pytest.raises(dff.DocxError):
        dff.docx_from_file(tmp_path / "never-read.json", date="2026-02-30")


def test_an_output_that_is_not_docx_is_a_usage_error_after_the_findings(tmp_path):
    src = write_json(tmp_path / "sample.json", samples.sample_report())
    result = dff.docx_from_file(src, output=tmp_path / "报告.pdf")
    assert result.written is None and result.exit_status == dff.USAGE
    assert result.error == f"输出文件应以 .docx 结尾：{tmp_path / '报告.pdf'}；要同时生成 PDF，请把 -o 改为 .docx 文件并加 --pdf。"


def test_no_office_leaves_the_docx_and_says_so(tmp_path, monkeypatch):
    def unavailable(*args, **kwargs):
        raise office.OfficeUnavailable("未找到 LibreOffice")

    monkeypatch.setattr(office, "convert", unavailable)
    src = write_json(tmp_path / "sample.json", samples.sample_report())
    result = dff.docx_from_file(src, pdf=True)
    assert result.written.exists() and result.pdf is None
    assert result.pdf_error == "未找到 LibreOffice" and result.exit_status == dff.PDF_FAILED


def test_an_unreadable_workbook_is_a_result_with_the_readers_findings(tmp_path):
    src = tmp_path / "cut.xlsx"
    src.write_bytes(b"PK\x03\x04 not really")
    result = dff.docx_from_file(src)
    assert result.unreadable and result.exit_status == dff.FINDINGS and result.written is None
    assert result.findings and all(f.is_error for f in result.findings)
