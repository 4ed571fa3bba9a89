"""The command line speaks Chinese even when the user mistypes: Click's usage errors are
translated, and every usage error exits 2 without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xlsx_tools.cli import app as cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["template"], "缺少必需的选项 --year / -y。"),
        (["template", "--year", "20x", "--agency", "某局"], "--year / -y 的值无效：应为整数。"),
        (["chek"], "没有命令「chek」。您要用的是不是「check」？"),
        (["check", "--jsn", "a.xlsx"], "没有选项 --jsn。您要用的是不是 --json？"),
        (["docx"], "缺少必需的参数「文件」。"),
        (["collect", ".", "--jobs", "0"], "--jobs / -j 的值无效：不能小于 1。"),
        (["template", "--year"], "选项 --year 后面需要一个值。"),
    ],
)
def test_usage_errors_in_chinese(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "--help 查看用法" in err
    assert "Traceback" not in err


def test_help_and_the_shim():
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--help"], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    for command in cli.COMMANDS:
        assert command in out
    assert "政府信息公开工作年度报告工具" in out
    run = subprocess.run([sys.executable, "-m", "xlsx_tools", "chek"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and "没有命令「chek」" in run.stderr


def test_the_click_that_typer_runs_on_has_the_exceptions_we_translate():
    """cli/clickapi.py reaches Click's exceptions through typer's public BadParameter; a typer that
    moves them must fail here, not in a user's terminal."""
    from xlsx_tools.cli import clickapi

    for name in clickapi.REQUIRED:
        assert isinstance(getattr(clickapi.clickx, name, None), type), name
    assert issubclass(clickapi.clickx.BadParameter, clickapi.clickx.UsageError)


def test_check_imports_only_the_read_path(tmp_path):
    """`xlsx-tools check FILE` loads its own command only: no template/Word/import code, no
    xlsxwriter, python-docx, pdfplumber or rich progress bars, and no pydantic (typer 0.29 brought it,
    ~120 ms a run: pyproject.toml keeps typer below 0.29) (issue 11)."""
    from xlsx_tools.write.template import write_template

    book = tmp_path / "某局.xlsx"
    write_template(book, agency="某局", year=2025, password="pw123456")
    code = (
        "import sys\n"
        "from xlsx_tools.cli import app\n"
        "try:\n"
        f"    app.main(['check', {str(book)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    loaded = set(run.stdout.split())
    assert "xlsx_tools.cli.commands.check" in loaded and "xlsx_tools.read.reader" in loaded, run.stderr
    for heavy in ("docx", "xlsxwriter", "pdfplumber", "openpyxl", "rich.progress", "pydantic",
                  "xlsx_tools.cli.commands.template", "xlsx_tools.write.template",
                  "xlsx_tools.write.docx_report", "xlsx_tools.read.published"):
        assert heavy not in loaded, heavy
