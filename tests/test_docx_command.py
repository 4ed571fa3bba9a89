"""`xlsx-tools docx`: inputs, refusals, --force, --narrative, --signature, --pdf without an office,
and the messages a user reads."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo import samples
from xlsx_tools.format.spec import load_format
from xlsx_tools.write.template import write_template

DEFAULT_NAME = "沙坡头区政务服务中心2021年政府信息公开工作年度报告.docx"
ENV = {"COLUMNS": "300"}  # rich tables one line per row, so messages can be asserted whole


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str | Path, env: dict[str, str] | None = None):
    return runner.invoke(app, ["docx", *map(str, args)], env={**ENV, **(env or {})})


def flat(text: str) -> str:
    """Output without table borders and line breaks."""
    return re.sub(r"[\s│┃┏┓┗┛┣┫┳┻╋━─┡┩╇└┘├┤┬┴┼]+", "", text)


def write_json(path: Path, report) -> Path:
    path.write_text(report.to_json(), encoding="utf-8")
    return path


@pytest.fixture
def sample_json(tmp_path) -> Path:
    return write_json(tmp_path / "sample.json", samples.sample_report())


@pytest.fixture
def broken_json(tmp_path) -> Path:
    report = samples.sample_report()
    report.figures["t3.received.natural_person"] = 5  # breaks the row total and the balance
    report.narrative.pop("problems")
    return write_json(tmp_path / "broken.json", report)


def test_json_to_docx_beside_the_input(runner, sample_json):
    res = run(runner, sample_json)
    assert res.exit_code == 0, res.output
    target = sample_json.parent / DEFAULT_NAME
    assert f"已生成 Word 报告：{target}" in res.output
    document = docx.Document(str(target))
    assert document.paragraphs[0].text.startswith("沙坡头区政务服务中心")


def test_workbook_to_docx(runner, tmp_path):
    report = samples.sample_report()
    workbook = write_template(tmp_path / "回收.xlsx", agency=report.agency.name, year=report.year,
                              password="pw-123456", report=report).path
    res = run(runner, workbook, "-o", tmp_path / "out" / "报告.docx")
    assert res.exit_code == 0, res.output
    document = docx.Document(str(tmp_path / "out" / "报告.docx"))
    assert [p.text for p in document.paragraphs if p.style.name == "一级标题"][0] == "一、总体情况"


def test_output_folder_gets_the_default_name(runner, sample_json, tmp_path):
    res = run(runner, sample_json, "-o", tmp_path / "新文件夹")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "新文件夹" / DEFAULT_NAME).is_file()


def test_errors_refuse_the_document(runner, broken_json):
    res = run(runner, broken_json)
    assert res.exit_code == 1
    out = flat(res.output)
    assert "broken.json：3个错误，0个警告" in out
    assert "级别位置说明" in out
    assert flat("错误 整个文件 报告第五部分「五、存在的主要问题及改进情况」没有填写内容。这一部分必须填写") in out  # a JSON has no sheet
    assert flat("表三「自然人」列不符合勾稽关系：本年新收 + 上年结转 = 5") in out
    assert "「一、本年新收政府信息公开申请数量」总计等7处" in out  # cells counted, not all printed
    assert flat("未生成 Word 文件：报告有 3 个错误，请改正后重试；确需先生成文档的，可加 --force（错误不会标在文档中）。") in out
    assert not (broken_json.parent / DEFAULT_NAME).exists()


def test_force_writes_the_document_unmarked_and_lists_the_errors(runner, broken_json):
    res = run(runner, broken_json, "--force")
    assert res.exit_code == 0, res.output
    assert "勾稽关系" in flat(res.output)
    assert "（报告有错误，已按 --force 生成）" in res.output
    document = docx.Document(str(broken_json.parent / DEFAULT_NAME))
    texts = [p.text for p in document.paragraphs]
    heading = texts.index("五、存在的主要问题及改进情况")
    assert texts[heading + 1] == "六、其他需要报告的事项"  # nothing invented, nothing marked
    assert not any("错误" in t for t in texts)


def test_warnings_are_listed_but_do_not_stop(runner, tmp_path):
    report = samples.sample_report()
    report.narrative["overview"] += "\n全年共收到政府信息公开申请 5 件。"
    res = run(runner, write_json(tmp_path / "w.json", report))
    assert res.exit_code == 0, res.output
    assert "0个错误，1个警告" in flat(res.output)
    assert (tmp_path / DEFAULT_NAME).is_file()


def test_an_empty_section_of_a_json_report_points_to_narrative_not_to_a_sheet(runner, tmp_path):
    """A report JSON (an aggregate's, say) has no 「文字部分」 sheet: the advice is --narrative; a
    workbook's keeps the sheet and adds --narrative as the other way."""
    report = samples.sample_report()
    report.narrative.pop("problems")
    res = run(runner, write_json(tmp_path / "r.json", report))
    assert res.exit_code == 1
    text = flat(res.output)
    assert flat("报告第五部分「五、存在的主要问题及改进情况」没有填写内容。这一部分必须填写，缺少它报告不能发布："
                "请用 --narrative 提供这一部分的文字（Word、Markdown 或纯文本文件）。") in text
    assert "工作表中补充" not in text and "文字部分!B9" not in text
    workbook = write_template(tmp_path / "回收.xlsx", agency=report.agency.name, year=report.year,
                              password="pw-123456", report=report).path
    res = run(runner, workbook)
    assert res.exit_code == 1
    assert flat("请在「文字部分」工作表中补充，或用 --narrative 提供文字。") in flat(res.output)


def test_narrative_file_fills_the_missing_section(runner, broken_json, tmp_path):
    report = samples.sample_report()
    report.narrative.pop("problems")
    source = write_json(tmp_path / "r.json", report)
    text = tmp_path / "文字.md"
    text.write_text("# 标题\n\n## 五、存在的主要问题及改进情况\n\n公开深度不够。\n", encoding="utf-8")
    res = run(runner, source, "--narrative", text)
    assert res.exit_code == 0, res.output
    assert "说明：第一个部分标题之前的 1 段文字" in res.output
    texts = [p.text for p in docx.Document(str(tmp_path / DEFAULT_NAME)).paragraphs]
    assert texts[texts.index("五、存在的主要问题及改进情况") + 1] == "公开深度不够。"
    # sections the file does not have keep the report's text
    assert "本年度，沙坡头区政务服务中心坚持“以公开为常态，不公开为例外”原则" in "".join(texts)


def test_narrative_rechecks_numbers_in_the_new_text(runner, sample_json, tmp_path):
    text = tmp_path / "文字.txt"
    text.write_text("一、总体情况\n全年共收到政府信息公开申请 5 件。\n", encoding="utf-8")
    res = run(runner, sample_json, "--narrative", text)
    assert res.exit_code == 0
    assert "其中申请数为5件，但表三“本年新收政府信息公开申请数量”总计为0件" in flat(res.output)


def test_signature_and_date(runner, sample_json):
    res = run(runner, sample_json, "--signature", "--date", "2022-1-20")
    assert res.exit_code == 0, res.output
    texts = [p.text for p in docx.Document(str(sample_json.parent / DEFAULT_NAME)).paragraphs]
    assert texts[-2:] == ["沙坡头区政务服务中心", "2022年1月20日"]


def test_pdf_without_libreoffice_keeps_the_docx(runner, sample_json):
    res = run(runner, sample_json, "--pdf", env={"XLSX_TOOLS_SOFFICE": ""})
    assert res.exit_code == 3
    assert (sample_json.parent / DEFAULT_NAME).is_file()
    out = flat(res.output)
    assert flat("未生成 PDF：未找到 LibreOffice（soffice）") in out
    assert "（Word文件已生成。）" in out


# -- bad input: a Chinese message and exit 2, never a traceback


@pytest.mark.parametrize("args, message", [
    (["无此文件.json"], "错误：找不到文件「无此文件.json」。"),
    (["{json}", "--date", "2026-02-30"], "错误：日期「2026-02-30」无法识别：请写成 2022年1月20日、2022-01-20 或 2022/1/20（须是实际存在的日期）。"),
    (["{json}", "--date", "明天"], "错误：日期「明天」无法识别：请写成 2022年1月20日、2022-01-20 或 2022/1/20（须是实际存在的日期）。"),
    (["{json}", "-o", "报告.pdf"], "错误：输出文件应以 .docx 结尾：报告.pdf；要同时生成 PDF，请把 -o 改为 .docx 文件并加 --pdf。"),
    (["{json}", "-o", "报告.doc"], "错误：输出文件应以 .docx 结尾：报告.doc。"),
    (["{json}", "--narrative", "无.txt"], "错误：找不到文字材料文件「无.txt」。"),
    (["{json}", "--narrative", "{csv}"], "错误：文字材料「表.csv」的格式不支持"),
    (["{csv}"], "错误：不支持的文件类型「.csv」：请提供回收的填报表（.xlsx）或报告 JSON（.json）。"),
    (["{bad}"], "错误：无法读取报告 JSON「bad.json」："),
])
def test_bad_input(runner, sample_json, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "表.csv").write_text("a,b", encoding="utf-8")
    (tmp_path / "bad.json").write_text('{"format": "gov-info-2021"}', encoding="utf-8")
    fill = {"{json}": str(sample_json), "{csv}": "表.csv", "{bad}": "bad.json"}
    res = run(runner, *[fill.get(a, a) for a in args])
    assert res.exit_code == 2, res.output
    assert flat(message) in flat(res.output)
    assert "Traceback" not in res.output


def test_unreadable_workbook_is_listed_and_refused(runner, tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_text("这不是表格", encoding="utf-8")
    res = run(runner, path)
    assert res.exit_code == 1
    out = flat(res.output)
    assert "坏.xlsx」是纯文本文件，不是Excel工作簿。" in out
    assert "未生成Word文件：无法读取「坏.xlsx」，原因见上表。" in out


def test_help_is_chinese(runner):
    res = runner.invoke(app, ["docx", "--help"], env=ENV)
    assert res.exit_code == 0
    assert "生成公文格式（GB/T 9704）的 Word 年度报告" in res.output


def test_workbook_with_errors_is_refused_with_its_findings(runner, tmp_path):
    from xlsx_tools.cli.demo.fill import fill_workbook

    report = samples.sample_report()
    template = write_template(tmp_path / "模板.xlsx", agency=report.agency.name, year=report.year,
                              password="pw-123456", report=report).path
    returned = fill_workbook(template, tmp_path / "回收.xlsx", {"t3.received.natural_person": 3})
    res = run(runner, returned)
    assert res.exit_code == 1
    out = flat(res.output)
    assert "机关：沙坡头区政务服务中心" in out and "年度：2021" in out
    assert "表三「自然人」列不符合勾稽关系" in out
    assert not list(tmp_path.glob("*.docx"))


def test_bad_report_date_in_contact_is_a_message(runner, tmp_path):
    report = samples.sample_report()
    report.contact["report_date"] = "元月二十日"
    res = run(runner, write_json(tmp_path / "d.json", report), "--signature")
    assert res.exit_code == 2
    assert flat("错误：基本信息中的成文日期：日期「元月二十日」无法识别：请写成 2022年1月20日、2022-01-20 或 2022/1/20（须是实际存在的日期）。"
                "也可以用 --date 指定成文日期。") in flat(res.output)
    assert not (tmp_path / DEFAULT_NAME).exists()
    assert run(runner, tmp_path / "d.json", "--signature", "--date", "2022年1月20日").exit_code == 0


def test_an_output_that_cannot_be_written_is_exit_1_naming_it(runner, sample_json, tmp_path):
    """As template, export and aggregate: cannot write → 1 (it was 2, the usage-error code)."""
    blocker = tmp_path / "是文件"
    blocker.write_text("x", encoding="utf-8")
    target = blocker / "报告.docx"
    res = run(runner, sample_json, "-o", target)
    assert res.exit_code == 1, res.output
    assert flat(f"错误：无法写入「{target}」：") in flat(res.output)


def test_help_names_a_narrative_heading_of_the_format_file(runner):
    res = run(runner, "--help")
    assert res.exit_code == 0
    assert f"--narrative 文字材料中“{load_format().narrative_sections[0].heading}”等标题下的文字" in res.output
