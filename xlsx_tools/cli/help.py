"""`--help` in Chinese for the app and every command.

Typer's rich help prints English headings ("Usage", "Options"), type hints such as `<bool>` and
`<list[Path]>`, "[required]", "[default: …]" and Click's "Show this message and exit.", and cuts
long descriptions to the terminal width. Our users read Chinese, so the help is laid out here from
the public attributes of Click's parameters (opts, help, metavar, required, default, type) and
handed to Click through the public `format_help(ctx, formatter)` hook.

Everything that depends on how typer/click build their commands lives in this module:
ChineseCommand / ChineseGroup (subclasses of typer.core's public classes) and `use_chinese_help`.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable

import typer
from rich.cells import cell_len
from typer.core import TyperCommand, TyperGroup

HELP_OPTION_TEXT = "显示本帮助并退出。"
USAGE = "用法："
ARGUMENTS = "参数："
OPTIONS = "选项："
COMMANDS = "命令："
REQUIRED = "（必填）"
DEFAULT = "（默认：{}）"
MINIMUM = "（不小于 {}）"
OPTIONS_PLACEHOLDER = "[选项]"
COMMAND_PLACEHOLDER = "命令 [参数]…"
MORE = "…"

VALUE = "值"  # a parameter without a metavar

NAME_COLUMN_MAX = 30  # display cells; a longer name puts its description on the next line
INDENT = 2
GAP = 2
UNLIMITED = 10_000  # help written to a pipe or file is never wrapped


def help_width() -> int:
    """The width to wrap help to: the terminal's (at least 60) when stdout is a terminal;
    unlimited otherwise, so that a help saved to a file or read by a program has every
    description on one line."""
    stream = sys.stdout
    try:
        if stream is not None and stream.isatty():
            return max(60, shutil.get_terminal_size((100, 24)).columns)
    except (ValueError, OSError):
        pass
    if os.environ.get("XLSX_TOOLS_HELP_WIDTH", "").isdigit():
        return max(40, int(os.environ["XLSX_TOOLS_HELP_WIDTH"]))
    return UNLIMITED


def wrap(text: str, width: int) -> list[str]:
    """Greedy wrap measured in display cells (a CJK character is 2): breaks at spaces where it
    can, anywhere inside a run of CJK text, never drops a character."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if line and cell_len(line + token) > width:
                out.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
            while cell_len(line) > width:  # one token longer than the width
                cut = _fit(line, width)
                out.append(line[:cut])
                line = line[cut:]
        out.append(line.rstrip())
    return out


def _tokens(text: str) -> Iterable[str]:
    """Words with their leading space; each CJK character is a token of its own."""
    word = ""
    for ch in text:
        if ch == " " or cell_len(ch) == 2:
            if word:
                yield word
            word = ch
            if cell_len(ch) == 2:
                yield word
                word = ""
        else:
            word += ch
    if word:
        yield word


def _fit(text: str, width: int) -> int:
    n = 0
    for i, ch in enumerate(text):
        n += cell_len(ch)
        if n > width:
            return max(1, i)
    return len(text)


_LIST_ITEM = re.compile(r"[0-9]{1,2}\. ")


def _join_help(text: str | None) -> str:
    """A docstring as paragraphs: lines of a paragraph joined (Chinese needs no space between
    them), blank lines kept as paragraph breaks."""
    if not text:
        return ""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines()]
        joined = ""
        for line in lines:
            if joined and _LIST_ITEM.match(line):
                joined += "\n"  # a numbered step ("2. 填写与校验：…") starts its own line
            elif joined and (cell_len(joined[-1]) == 1 and cell_len(line[:1]) == 1):
                joined += " "
            joined += line
        paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def _value_label(param) -> str:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    # every value-taking parameter of ours has a Chinese metavar (tests/test_cli_help.py)
    return param.metavar or VALUE


def _names(param) -> str:
    if param.param_type_name == "argument":
        label = param.metavar or param.name
        return label + (MORE if param.nargs != 1 else "")
    opts = sorted(param.opts, key=lambda o: (o.startswith("--"), o))  # -o, --output
    names = ", ".join(opts)
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    label = _value_label(param)
    return f"{names} {label}" if label else names


def _extras(param) -> str:
    out = ""
    if param.required:
        out += REQUIRED
    # typer >= 0.29 keeps `min` on the parameter, earlier ones on its Click IntRange type
    minimum = getattr(param, "min", None)
    if minimum is None:
        minimum = getattr(param.type, "min", None)
    if minimum is not None:
        out += MINIMUM.format(minimum)
    default = param.default
    show = getattr(param, "show_default", None)
    if (show is not False and not param.required and default not in (None, False, "", (), [])
            and not getattr(param, "is_flag", False) and not callable(default)):
        out += DEFAULT.format(show if isinstance(show, str) else os.fspath(default)
                              if isinstance(default, os.PathLike) else default)
    return out


def _rows(rows: list[tuple[str, str]], width: int) -> list[str]:
    name_width = min(NAME_COLUMN_MAX, max((cell_len(n) for n, _ in rows), default=0))
    text_col = INDENT + name_width + GAP
    out = []
    for name, text in rows:
        room = max(20, width - text_col)
        lines = wrap(text, room) if text else [""]
        if cell_len(name) > name_width:
            out.append(" " * INDENT + name)
            out += [" " * text_col + line for line in lines]
            continue
        pad = " " * (name_width - cell_len(name) + GAP)
        out.append((" " * INDENT + name + pad + lines[0]).rstrip())
        out += [" " * text_col + line for line in lines[1:]]
    return out


def _usage(ctx, params, group: bool) -> str:
    parts = [ctx.command_path]
    if any(p.param_type_name == "option" for p in params):
        parts.append(OPTIONS_PLACEHOLDER)
    for p in params:
        if p.param_type_name == "argument":
            label = (p.metavar or p.name) + (MORE if p.nargs != 1 else "")
            parts.append(label if p.required else f"[{label}]")
    if group:
        parts.append(COMMAND_PLACEHOLDER)
    return USAGE + " ".join(parts)


def render_help(ctx, command, width: int | None = None) -> str:
    """The whole --help text of `command` (a command or the group) in Chinese."""
    width = width or help_width()
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    lines = [_usage(ctx, params, isinstance(command, TyperGroup)), ""]
    description = _join_help(command.help)
    if description:
        for paragraph in description.split("\n\n"):
            lines += wrap(paragraph, width)
            lines.append("")
    arguments = [(_names(p), (p.help or "") + _extras(p)) for p in params if p.param_type_name == "argument"]
    if arguments:
        lines += [ARGUMENTS, *_rows(arguments, width), ""]
    options = [(_names(p), (p.help or "") + _extras(p)) for p in params if p.param_type_name == "option"]
    if options:
        lines += [OPTIONS, *_rows(options, width), ""]
    if isinstance(command, TyperGroup):
        rows = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            first = _join_help(sub.help).split("\n\n")[0]
            rows.append((name, first))
        if rows:
            lines += [COMMANDS, *_rows(rows, width), ""]
        lines.append(f"每个命令的用法：{ctx.command_path} 命令 --help")
    return "\n".join(lines).rstrip() + "\n"


class _ChineseHelp:
    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    def format_help(self, ctx, formatter) -> None:
        formatter.write(render_help(ctx, self))


class ChineseCommand(_ChineseHelp, TyperCommand):
    """A typer command whose --help is in Chinese."""


class ChineseGroup(_ChineseHelp, TyperGroup):
    """The app's group: Chinese --help, and its commands' --help too."""


def use_chinese_help(app: typer.Typer) -> None:
    """Make every command registered on `app` (so far) use ChineseCommand."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = ChineseCommand
