"""The `xlsx-tools` command line: a thin skin over the library. Each command lives in its own
module under xlsx_tools/cli/commands/ and registers itself on a Typer app of its own; the app's
group loads a command's module only when that command runs or the app's --help lists them
(Click's "lazy loading of subcommands"), so `xlsx-tools check FILE` imports the read path and
nothing of the template, Word or import code (issue 11: a check in ≤ 250 ms)."""

from __future__ import annotations

import difflib
import importlib
import re
import sys
from typing import Annotated

import typer
import typer.main
from rich.markup import escape

from .. import __version__
from .clickapi import clickx
from .console import err_console
from .help import ChineseGroup, use_chinese_help

# command name -> its module under xlsx_tools.cli.commands, in the order `--help` lists them (the
# yearly cycle). tests/test_layers.py checks that these modules exist and sit in cli/.
COMMANDS = {
    "demo": "xlsx_tools.cli.commands.demo",
    "template": "xlsx_tools.cli.commands.template",
    "check": "xlsx_tools.cli.commands.check",
    "export": "xlsx_tools.cli.commands.export",
    "collect": "xlsx_tools.cli.commands.collect",
    "aggregate": "xlsx_tools.cli.commands.aggregate",
    "docx": "xlsx_tools.cli.commands.docx",
    "import": "xlsx_tools.cli.commands.import_",
}
_loaded: dict[str, object] = {}  # command name -> its Click command, built once per process


def load_command(name: str):
    """The Click command `name`, built from its module's register(app) on an app of its own."""
    if name not in _loaded:
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        importlib.import_module(COMMANDS[name]).register(single)
        use_chinese_help(single)
        _loaded[name] = typer.main.get_command(single)
    return _loaded[name]


class LazyGroup(ChineseGroup):
    """The app's group: lists COMMANDS without importing them; imports one when it is asked for."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)

    def resolve_command(self, ctx, args):
        # typer suggests a command from the group's loaded commands; ours are loaded on demand
        try:
            return super().resolve_command(ctx, args)
        except clickx.UsageError as e:
            matches = difflib.get_close_matches(args[0], list(COMMANDS)) if args else []
            if matches and "Did you mean" not in e.message:
                e.message = e.message.rstrip(".") + ". Did you mean " + ", ".join(map(repr, matches)) + "?"
            raise


app = typer.Typer(
    name="xlsx-tools",
    help="政府信息公开工作年度报告工具：生成锁定的 Excel 模板、回收校验、汇总统计、生成公文格式 Word 报告。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        print(f"xlsx-tools {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option(
        "--version", "-V", is_eager=True, callback=_show_version, help="显示版本号并退出。")] = False,
) -> None:
    """政府信息公开工作年度报告工具：生成锁定的 Excel 模板、回收校验、汇总统计、生成公文格式 Word 报告。"""


# Click's usage errors are English; our users read Chinese. (pattern, Chinese) for the common ones.
_USAGE_MESSAGES = (
    (re.compile(r"No such command '(.+?)'\.(?: Did you mean '(.+?)'\?)?"),
     lambda m: f"没有命令「{m[1]}」。" + (f"您要用的是不是「{m[2]}」？" if m[2] else "")),
    (re.compile(r"No such option: (\S+?)(?: (?:Did you mean (.+?)\?|\(Possible options: (.+?)\)))?$"),
     lambda m: f"没有选项 {m[1]}。" + (f"您要用的是不是 {m[2] or m[3]}？" if m[2] or m[3] else "")),
    (re.compile(r"Option '(.+?)' requires an argument\."), lambda m: f"选项 {m[1]} 后面需要一个值。"),
    (re.compile(r"Got unexpected extra arguments? \((.+)\)"), lambda m: f"多余的参数：{m[1]}。"),
    (re.compile(r"Missing (?:option|argument|parameter) '?(.+?)'?\.$"), lambda m: f"缺少 {m[1]}。"),
)
_VALUE_MESSAGES = (
    (re.compile(r"valid integer|is not a valid int\b"), "应为整数"),
    (re.compile(r"(?:File|Path|Directory) '(.+?)' does not exist"), lambda m: f"「{m[1]}」不存在"),
    (re.compile(r"is not in the range x>=(\S+?)\."), lambda m: f"不能小于 {m[1]}"),
    (re.compile(r"is not in the range x<=(\S+?)\."), lambda m: f"不能大于 {m[1]}"),
    (re.compile(r"is not in the range (.+)\."), lambda m: f"超出允许的范围（{m[1]}）"),
    (re.compile(r"greater than or equal to (\S+)"), lambda m: f"不能小于 {m[1]}"),
    (re.compile(r"less than or equal to (\S+)"), lambda m: f"不能大于 {m[1]}"),
    (re.compile(r"is (?:not )?(?:a )?(?:directory|file)"), "文件或文件夹类型不对"),
)


def usage_message(e: clickx.UsageError) -> str:
    """A Click usage error in Chinese."""
    text = e.format_message() if not isinstance(e, clickx.BadParameter) else e.message
    if isinstance(e, clickx.MissingParameter) and e.param is not None:
        if e.param.param_type_name == "option":
            return f"缺少必需的选项 {' / '.join(e.param.opts)}。"
        # an argument is named as --help shows it (its metavar), not by its Python name
        return f"缺少必需的参数「{e.param.metavar or e.param.name}」。"
    if isinstance(e, clickx.BadParameter):
        hint = " / ".join(e.param.opts) if e.param is not None and getattr(e.param, "opts", None) else "参数"
        for rx, zh in _VALUE_MESSAGES:
            m = rx.search(text)
            if m:
                return f"{hint} 的值无效：{zh(m) if callable(zh) else zh}。"
        return f"{hint} 的值无效（{text}）。"
    for rx, zh in _USAGE_MESSAGES:
        m = rx.search(text)
        if m:
            return zh(m)
    return text


def main(argv: list[str] | None = None) -> None:
    # Windows consoles and pipes: make sure Chinese output never raises UnicodeEncodeError
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
    try:
        status = app(args=argv, standalone_mode=False)
    except clickx.NoArgsIsHelpError as e:
        print(e.ctx.get_help())
        sys.exit(e.exit_code)
    except clickx.UsageError as e:
        command = e.ctx.command_path if e.ctx is not None else "xlsx-tools"
        err_console.print(f"[bold red]错误：[/]{escape(usage_message(e))}")
        err_console.print(f"运行 {escape(command)} --help 查看用法。")
        sys.exit(2)
    except typer.Abort:
        err_console.print("已取消。")
        sys.exit(130)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
