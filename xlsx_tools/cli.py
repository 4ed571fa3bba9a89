"""The `xlsx-tools` command line: a thin skin over the library. Each command lives in its own
module under xlsx_tools/commands/ and registers itself on the app."""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="xlsx-tools",
    help="政府信息公开工作年度报告工具：生成锁定的 Excel 模板、回收校验、汇总统计、生成公文格式 Word 报告。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# In the order `--help` lists them: the yearly cycle.
COMMAND_MODULES = ("demo", "template", "check", "export", "collect", "aggregate", "docx")

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"xlsx_tools.commands.{_name}")
    except ModuleNotFoundError as _e:  # a command not written yet
        if _e.name != f"xlsx_tools.commands.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    # Windows consoles and pipes: make sure Chinese output never raises UnicodeEncodeError
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
    app()


if __name__ == "__main__":
    main()
