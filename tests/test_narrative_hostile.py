"""`docx --narrative` against files that lie or never end (issue 8 §3): a .docx bomb stops at the
cap on bytes actually produced, duplicate parts are refused, control characters are removed with a
note naming the file and the line (never "All strings must be XML compatible"), a FIFO never
hangs, and the Word report is built in time linear in paragraphs."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import docx
import pytest

from tests import reader_fixtures as fx
from tests.test_hostile_files import lie_about_size, peak_rss_mb
from xlsx_tools.cli.demo import samples
from xlsx_tools.read import narrative
from xlsx_tools.read.narrative import NarrativeError, read_narrative
from xlsx_tools.write import docx_report

ROOT = Path(__file__).resolve().parents[1]
TEXT = "一、总体情况\n本年度工作有序开展。\n五、存在的主要问题及改进情况\n无。\n六、其他需要报告的事项\n无。\n"


def word_file(path: Path, paragraphs: list[str]) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


def test_docx_bomb_is_refused_at_the_cap_with_little_memory(tmp_path):
    """word/document.xml inflating to 512 MiB while its header declares 1 KB."""
    src = word_file(tmp_path / "src.docx", ["一、总体情况", "正文。"])
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "word/document.xml":
                zout.writestr(info.filename, zin.read(info))
        with zout.open("word/document.xml", "w") as fh:
            fh.write(zin.read("word/document.xml").replace(b"</w:body>", b""))
            block = b"<w:p/>" * (1 << 17)
            for _ in range(512 * (1 << 20) // len(block)):
                fh.write(block)
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(lie_about_size(out.getvalue(), "word/document.xml", 1000))
    peak, printed = peak_rss_mb(f"""
        from xlsx_tools.read.narrative import NarrativeError, read_narrative
        try:
            read_narrative({str(bomb)!r})
        except NarrativeError as e:
            print("MESSAGE", e)
    """)
    assert "MESSAGE Word 文件「bomb.docx」的正文解压后超过 64 MB（疑似“压缩炸弹”），已拒绝读取。" in printed
    assert peak < 300, peak


def test_docx_with_duplicate_parts_is_refused(tmp_path):
    src = word_file(tmp_path / "src.docx", ["一、总体情况", "正文。"])
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with pytest.warns(UserWarning):
            zout.writestr("word/document.xml", b"<x/>")
    dup = tmp_path / "dup.docx"
    dup.write_bytes(out.getvalue())
    with pytest.raises(NarrativeError, match="Word 文件「dup.docx」中有两个同名的部件“word/document.xml”，可能被篡改过"):
        read_narrative(dup)


def test_control_characters_in_a_text_file_are_removed_with_a_note(tmp_path):
    path = tmp_path / "文字.txt"
    path.write_text("一、总体情况\n本年度\x01工作\x07有序开展。\n五、存在的主要问题及改进情况\n无\x0b。\n", encoding="utf-8")
    result = read_narrative(path)
    assert result.sections["overview"] == "本年度工作有序开展。"
    assert result.sections["problems"] == "无。"
    assert result.notes[0] == ("文字材料「文字.txt」第 2 行、第 4 行含有 3 个不可见的控制字符（如 U+0001），"
                               "Word 文件中无法保存，已删除；请核对这些位置的文字是否完整。")


def test_control_characters_in_markdown_name_many_lines_briefly(tmp_path):
    path = tmp_path / "文字.md"
    lines = ["# 一、总体情况", *[f"第{i}句\x02。" for i in range(8)], "", "# 五、存在的主要问题及改进情况", "无。"]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_narrative(path)
    assert "\x02" not in result.sections["overview"]
    assert "第 2 行、第 3 行、第 4 行、第 5 行、第 6 行等 8 行含有 8 个不可见的控制字符（如 U+0002）" in result.notes[0]


def test_docx_command_with_control_characters_writes_the_report(tmp_path):
    """Never "All strings must be XML compatible": the .docx is written and the note is shown."""
    workbook = fx.write_filled(tmp_path / "r.xlsx")
    text = tmp_path / "文字.txt"
    text.write_text(TEXT.replace("有序开展", "有序\x1b开展"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "xlsx_tools", "docx", str(workbook), "--narrative", str(text),
                           "-o", str(tmp_path / "out.docx")], capture_output=True, text=True, timeout=120, env=env)
    assert "XML compatible" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert "文字材料「文字.txt」第 2 行含有 1 个不可见的控制字符（如 U+001B）" in " ".join(done.stdout.split())
    paragraphs = [p.text for p in docx.Document(tmp_path / "out.docx").paragraphs]
    assert "本年度工作有序开展。" in paragraphs


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifo_narrative_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "文字.txt"
    os.mkfifo(fifo)
    with pytest.raises(NarrativeError, match="文字材料「文字.txt」不是普通文件（是命名管道 FIFO），无法读取"):
        read_narrative(fifo)


def test_word_paragraphs_are_read_as_python_docx_reads_them(tmp_path):
    paragraphs = ["一、总体情况", "第一段\t有制表符", "", "五、存在的主要问题及改进情况", "无。"]
    path = word_file(tmp_path / "a.docx", paragraphs)
    assert narrative.docx_paragraphs(path) == [p.text for p in docx.Document(path).paragraphs]


def _build_seconds(n: int) -> float:
    report = samples.sample_report()
    report.narrative["overview"] = "\n".join(f"第{i}段：依法做好政府信息公开工作。" for i in range(n))
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        docx_report.build_document(report)
        best = min(best, time.perf_counter() - t)
    return best


def test_word_report_is_linear_in_paragraphs():
    """Was quadratic (python-docx searches the body for its section properties on every
    paragraph): 10k paragraphs 10.7 s, 40k 140 s. Four times the paragraphs must take well under
    the 16 times a quadratic build takes."""
    small, large = _build_seconds(2000), _build_seconds(8000)
    assert large < small * 8, (small, large)


def test_import_of_a_lying_docx_stops_at_the_cap(tmp_path):
    """`import` reads Word files with the same member reader: a document.xml whose header says
    1 KB but inflates past the part cap is a zip bomb, not a MemoryError."""
    from xlsx_tools.read.published.sources import Limits, SourceError, read_bytes

    src = word_file(tmp_path / "src.docx", ["一、总体情况", "正文。"])
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"</w:body>", b"<w:p/>" * 400_000 + b"</w:body>")
            zout.writestr(info.filename, data)
    lying = lie_about_size(out.getvalue(), "word/document.xml", 1000)
    with pytest.raises(SourceError) as e:
        read_bytes(lying, "报告.docx", Limits(max_part_bytes=1 << 20))
    assert e.value.reason == "zip_bomb" and "实际超过" in e.value.message


def test_report_json_with_control_characters_still_gives_a_word_file(tmp_path):
    """A hand-edited report JSON: the control characters are removed with a note naming the file
    and the part, never "All strings must be XML compatible"."""
    from typer.testing import CliRunner

    from xlsx_tools.cli.app import app

    report = fx.report()
    report.narrative["overview"] += "\x01\x07"
    source = tmp_path / "报告.json"
    source.write_text(report.to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["docx", str(source), "-o", str(tmp_path / "out.docx")], env={"COLUMNS": "300"})
    assert "XML compatible" not in result.output
    assert result.exit_code == 0, result.output
    assert "报告「报告.json」中「一、总体情况」的文字含有 2 个不可见的控制字符（如 U+0001）" in result.output
    assert (tmp_path / "out.docx").is_file()
