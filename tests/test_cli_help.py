"""`--help` is Chinese from top to bottom: headings, value names, defaults, the help option
itself; descriptions are whole (never cut at 80 columns); `--version`; `--deadline` formats;
a folder given where a file is expected says so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import typer.main
from rich.cells import cell_len
from typer.testing import CliRunner

from xlsx_tools import __version__
from xlsx_tools.cli import app as cli
from xlsx_tools.cli.app import app
from xlsx_tools.cli.help import render_help, wrap

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = typer.main.get_command(app).list_commands(None)  # every command, by its name

# English words that may appear in Chinese help: product and format names, and file names.
ALLOWED_WORDS = {
    "xlsx", "tools", "python", "Excel", "Word", "PDF", "JSON", "CSV", "UTF", "GBK", "LibreOffice", "GB", "T", "XX", "CPU",
    "manifest", "csv", "json", "collect", "templates", "findings", "gov", "info", "docx", "md", "txt", "zip",
}
ENGLISH_FRAGMENTS = ("Usage", "Options", "Arguments", "Commands", "Show this message", "[default", "[required",
                     "<bool>", "<str>", "<int>", "<path>", "list[", "Path]", "TEXT", "INTEGER", "FILE", "source")


def help_text(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def english_words(text: str) -> set[str]:
    """ASCII words left once option names (--year, -y), file suffixes (.xlsx), command names and
    the allowed names are taken out."""
    text = text.replace(Path(sys.argv[0]).name, " ").replace("pytest", " ")  # the program name in 用法：
    text = re.sub(r"(?<![\w])--?[A-Za-z][\w-]*", " ", text)
    text = re.sub(r"\.[A-Za-z]+", " ", text)
    words = set(re.findall(r"[A-Za-z]+", text))
    return words - ALLOWED_WORDS - set(COMMANDS)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], *[[c, "--help"] for c in COMMANDS]])
def test_help_is_chinese(argv, capsys):
    out = help_text(argv, capsys)
    for fragment in ENGLISH_FRAGMENTS:
        assert fragment not in out, (argv, fragment)
    assert english_words(out) == set(), argv
    assert out.startswith("用法：")
    assert "选项：" in out and "-h, --help" in out and "显示本帮助并退出。" in out
    assert not re.search(r"<\w", out), out  # no <type> hints


def test_no_args_prints_the_chinese_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
    out = capsys.readouterr().out
    assert out.startswith("用法：") and "命令：" in out
    assert english_words(out) == set()


def test_help_lists_every_command_with_its_whole_first_paragraph(capsys):
    out = help_text(["--help"], capsys)
    from typer.main import get_command

    group = get_command(app)
    for name in COMMANDS:
        first = group.get_command(None, name).help.strip().split("\n\n")[0]
        assert "".join(first.split()) in "".join(out.split()), name
    assert "--version" in out and "显示版本号并退出。" in out


def test_arguments_are_named_as_in_the_help(capsys):
    out = help_text(["docx", "--help"], capsys)
    assert "用法：" in out and " 文件" in out.splitlines()[0]
    with pytest.raises(SystemExit):
        cli.main(["docx"])
    assert "缺少必需的参数「文件」。" in capsys.readouterr().err


def test_required_and_default_are_chinese(capsys):
    out = help_text(["template", "--help"], capsys)
    assert re.search(r"-y, --year 年度 +报告年度，如 2025。（必填）", out)
    assert "（默认：gov-info-2021）" in out
    out = help_text(["collect", "--help"], capsys)
    assert "同时读取文件的进程数（默认：CPU 核数）。（不小于 1）" in out


def test_descriptions_are_not_cut_in_a_pipe():
    """A 80-column setting does not cut or wrap the help written to a pipe."""
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "xlsx_tools", "collect", "--help"], capture_output=True,
                         text=True, env=env, cwd=ROOT, check=True).stdout
    from typer.main import get_command

    command = get_command(app).get_command(None, "collect")
    for param in command.params:
        if param.help:
            assert any(param.help in line for line in out.splitlines()), param.name
    assert max(cell_len(line) for line in out.splitlines()) > 80


def test_help_wraps_at_a_narrow_terminal_without_losing_text():
    from typer.main import get_command

    group = get_command(app)
    command = group.get_command(None, "template")
    ctx = command.make_context("template", ["--year", "2025"], resilient_parsing=True)
    text = render_help(ctx, command, width=60)
    assert max(cell_len(line) for line in text.splitlines()) <= 60
    flat = "".join(text.split())
    for param in command.params:
        assert "".join((param.help or "").split()) in flat, param.name


@pytest.mark.parametrize("width", [10, 21, 40])
def test_wrap_keeps_every_character(width):
    text = "单个模板（--agency）：.xlsx 文件名，缺少的上级文件夹自动创建； 或文件夹 templates-年度。"
    lines = wrap(text, width)
    assert all(cell_len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"xlsx-tools {__version__}"


def test_demo_help_describes_the_whole_cycle(capsys):
    out = help_text(["demo", "--help"], capsys)
    for stage in ("生成模板", "填写与校验", "Word 报告", "PDF", "收集与汇总", "收集情况.xlsx", "manifest.csv",
                  "（template）", "（check）", "（docx）", "（collect）", "（aggregate）", "xlsx-tools-demo"):
        assert stage in out, stage


def test_gitignore_covers_the_demo_output(capsys):
    out = help_text(["demo", "--help"], capsys)
    default = re.search(r"（默认：([^）]+)）", out)[1]
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert f"/{default}/" in lines


@pytest.mark.parametrize("text", ["2026-01-31", "2026/1/31", "2026年1月31日", "2026 年 1 月 31 日", "2026.1.31"])
def test_deadline_formats(text, tmp_path):
    runner = CliRunner()
    out = tmp_path / "甲局.xlsx"
    res = runner.invoke(app, ["template", "-y", "2025", "-a", "甲局", "-o", str(out), "--deadline", text])
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(out)["填报说明"]
    assert "2026年1月31日" in [c.value for row in ws.iter_rows() for c in row]


@pytest.mark.parametrize("text", ["2026-02-30", "31/1/2026", "2026-1/31", "明年一月", "2026年1月"])
def test_bad_deadline_is_a_chinese_usage_error(text, tmp_path):
    res = CliRunner().invoke(app, ["template", "-y", "2025", "-a", "甲局", "-o", str(tmp_path / "a.xlsx"),
                                   "--deadline", text])
    assert res.exit_code == 2
    message = "".join(res.stderr.split())
    assert f"截止日期「{''.join(text.split())}」无法识别：请写成2026-01-31、2026/1/31或2026年1月31日" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["docx", "{d}"], "「{d}」是文件夹，不是文件。请指定文件，例如 某某局.xlsx 或 某某局.json。"),
    (["docx", "{f}", "--narrative", "{d}"], "「{d}」是文件夹，不是文字材料文件。"),
    (["collect", "{d}", "-r", "{d}", "-o", "{d}/o"], "「{d}」是文件夹，不是名单文件。"),
    (["check", "{d}"], "「{d}」是文件夹。请列出要校验的文件"),
    (["export", "{d}"], "「{d}」是文件夹。请指定要导出的工作簿"),
])
def test_a_folder_where_a_file_is_expected_says_so(argv, message, tmp_path):
    d = tmp_path / "回收"
    d.mkdir()
    f = tmp_path / "报告.json"
    f.write_text("{}", encoding="utf-8")
    fill = {"{d}": str(d), "{f}": str(f)}
    args = [fill.get(a, a.replace("{d}", str(d))) for a in argv]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "".join(message.replace("{d}", str(d)).split()) in "".join(res.stderr.split())


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_help_in_an_80_column_terminal_wraps_without_cutting():
    """In a real terminal 80 columns wide the help is wrapped to 80 columns, every description
    whole (its characters all there, in order), nothing cut off with an ellipsis."""
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: run the command on the pseudo-terminal
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.environ["PYTHONPATH"] = str(ROOT)
        os.environ.pop("COLUMNS", None)
        os.execv(sys.executable, [sys.executable, "-m", "xlsx_tools", "collect", "--help"])
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    out = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    from typer.main import get_command

    flat = "".join(out.split())
    for param in get_command(app).get_command(None, "collect").params:
        assert "".join((param.help or "").split()) in flat, param.name
    assert "…" not in out.replace("[文件夹]", "")


def test_demo_help_lists_the_four_steps_one_per_line():
    """The numbered steps of `demo --help` were run together into one paragraph."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "xlsx_tools", "demo", "--help"], capture_output=True,
                         text=True, env=env, cwd=ROOT, check=True).stdout
    lines = out.splitlines()
    for step in ("1. 生成模板：", "2. 填写与校验：", "3. Word 报告：", "4. 收集与汇总："):
        assert any(line.startswith(step) for line in lines), step
    assert "问题通知" in out
