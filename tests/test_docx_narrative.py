"""Reading the narrative of sections 一、五、六 from Word, Markdown and plain-text files."""

from __future__ import annotations

import docx
import pytest

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.spec import load_format
from xlsx_tools.read.narrative import (
    NarrativeError,
    markdown_paragraphs,
    parse_paragraphs,
    read_narrative,
    text_paragraphs,
)
from xlsx_tools.write import docx_report

SPEC = load_format()

PLAIN = """\
某某局2024年政府信息公开工作年度报告
根据《中华人民共和国政府信息公开条例》……（开头段落）
一、总体情况
本年度，我局坚持以公开为常态。
（一）主动公开
全年主动公开信息 90 条。
(二) 依申请公开。全年收到申请 2 件。
二、主动公开政府信息情况
这一段在表格部分，不使用。
五、存在的主要问题及改进情况
一是公开深度不够。
二是平台建设滞后。
六、其他需要报告的事项
无。
"""


def test_plain_text_sections_and_subheadings(tmp_path):
    path = tmp_path / "文字.txt"
    path.write_text(PLAIN, encoding="utf-8")
    result = read_narrative(path, spec=SPEC)
    assert result.sections == {
        "overview": "本年度，我局坚持以公开为常态。\n（一）主动公开。全年主动公开信息 90 条。\n（二）依申请公开。全年收到申请 2 件。",
        "problems": "一是公开深度不够。\n二是平台建设滞后。",
        "other": "无。",
    }
    assert result.notes == [
        "第一个部分标题之前的 2 段文字（标题、开头段落等）未使用：开头段落由基本信息生成。",
        "「二、主动公开政府信息情况」是表格，由数据生成；其下的 1 段文字未使用。",
    ]


def test_gbk_text_file_is_read(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("一、总体情况\n本年度工作正常开展。\n".encode("gb18030"))
    assert read_narrative(path).sections == {"overview": "本年度工作正常开展。"}


def test_markdown_headings_wrapped_lines_and_emphasis(tmp_path):
    path = tmp_path / "文字.md"
    path.write_text(
        "# 某某局年度报告\n\n## 一、总体情况\n本年度，我局**坚持**以公开\n为常态，not\nbreaking.\n\n"
        "### （一）主动公开\n全年主动公开信息\n90 条。\n\n## 五、存在的主要问题及改进情况\n\n一是……\n\n二是……\n",
        encoding="utf-8",
    )
    result = read_narrative(path)
    assert result.sections == {
        "overview": "本年度，我局坚持以公开为常态，not breaking.\n（一）主动公开。全年主动公开信息90 条。",
        "problems": "一是……\n二是……",
    }


def test_markdown_heading_without_blank_line_still_splits():
    assert markdown_paragraphs("一、总体情况\n正文第一行\n第二行\n（一）主动公开\n正文") == [
        "一、总体情况", "正文第一行第二行", "（一）主动公开", "正文",
    ]


def test_text_paragraphs_one_per_line():
    assert text_paragraphs("甲\n\n  乙  \r\n丙") == ["甲", "乙", "丙"]


def test_word_document_paragraphs_line_breaks_and_tables(tmp_path):
    document = docx.Document()
    document.add_paragraph("某某局\n2024年政府信息公开工作年度报告")
    document.add_paragraph("一、总体情况")
    document.add_paragraph("（一）主动公开")
    document.add_paragraph("全年主动公开信息 90 条。")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "表格中的文字不使用"
    document.add_paragraph("五、存在的主要问题及改进情况")
    p = document.add_paragraph("一是公开深度不够。")
    p.add_run().add_break()
    p.add_run("二是平台建设滞后。")
    path = tmp_path / "文字.docx"
    document.save(path)
    result = read_narrative(path)
    assert result.sections == {
        "overview": "（一）主动公开。全年主动公开信息 90 条。",
        "problems": "一是公开深度不够。\n二是平台建设滞后。",
    }


def test_generated_report_reads_back_to_its_narrative(tmp_path):
    report = samples.sample_report()
    path = docx_report.write_docx(report, tmp_path / "报告.docx")
    assert read_narrative(path).sections == report.narrative


def test_numbered_sentence_is_not_a_section_heading():
    paras = ["一、总体情况", "正文。", "五、存在的主要问题及改进情况",
             "一、加强学习，提高认识。进一步加强对条例的学习，全面提升公开水平，做好各项工作。",
             "三、这个编号倒退了", "六、其他需要报告的事项", "无。"]
    result = parse_paragraphs(paras, spec=SPEC)
    assert result.sections["problems"] == (
        "一、加强学习，提高认识。进一步加强对条例的学习，全面提升公开水平，做好各项工作。\n三、这个编号倒退了"
    )
    assert result.sections["other"] == "无。"


def test_subheading_followed_by_subheading_stays_alone():
    result = parse_paragraphs(["一、总体情况", "（一）主动公开", "（二）依申请公开：", "全年 0 件。"], spec=SPEC)
    assert result.sections["overview"] == "（一）主动公开。\n（二）依申请公开。全年 0 件。"


def test_empty_section_heading_gives_empty_text():
    result = parse_paragraphs(["一、总体情况", "正文", "六、其他需要报告的事项"], spec=SPEC)
    assert result.sections == {"overview": "正文", "other": ""}


# -- errors


def test_missing_file(tmp_path):
    with pytest.raises(NarrativeError, match="找不到文字材料文件"):
        read_narrative(tmp_path / "无.txt")


@pytest.mark.parametrize("name", ["报告.doc", "报告.pdf", "报告.wps", "报告"])
def test_unsupported_format(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(NarrativeError) as e:
        read_narrative(path)
    assert str(e.value) == (
        f"文字材料「{name}」的格式不支持：请另存为 Word 文档（.docx）、Markdown（.md）或纯文本（.txt）后重试。"
    )


def test_corrupt_word_file(tmp_path):
    path = tmp_path / "坏.docx"
    path.write_bytes(b"not a zip")
    with pytest.raises(NarrativeError, match="无法读取 Word 文件「坏.docx」：文件已损坏或不是 .docx 格式"):
        read_narrative(path)


def test_no_headings(tmp_path):
    path = tmp_path / "无标题.txt"
    path.write_text("只有一段文字。", encoding="utf-8")
    with pytest.raises(NarrativeError) as e:
        read_narrative(path)
    assert str(e.value) == (
        "文字材料「无标题.txt」中没有找到部分标题：请用 “一、总体情况”、“五、存在的主要问题及改进情况”、"
        "“六、其他需要报告的事项” 这样单独成段的标题分隔各部分文字。"
    )


def test_undecodable_text(tmp_path):
    path = tmp_path / "乱码.txt"
    path.write_bytes(b"\xff\xfe\x00\xd8" * 3)
    with pytest.raises(NarrativeError, match="无法识别「乱码.txt」的文字编码"):
        read_narrative(path)


def test_word_headings_numbered_by_automatic_list_numbering(tmp_path):
    """Word's automatic numbering keeps "一、" out of the text: the heading reads "总体情况"."""
    document = docx.Document()
    for text, style in [("总体情况", "List Number"), ("全年主动公开信息 90 条。", None),
                        ("主动公开政府信息情况", "List Number"), ("表格部分的说明。", None),
                        ("存在的主要问题及改进情况 ", "List Number"), ("一是公开深度不够。", None),
                        ("其他需要报告的事项。", "List Number"), ("无。", None)]:
        document.add_paragraph(text, style=style)
    path = tmp_path / "自动编号.docx"
    document.save(path)
    assert read_narrative(path).sections == {
        "overview": "全年主动公开信息 90 条。", "problems": "一是公开深度不够。", "other": "无。",
    }
