"""Shared rich console and small rendering helpers for the commands."""

from __future__ import annotations

import typer
from rich.console import Console

# emoji=False: a file or agency name such as "a:smile:b" is printed as written (and rich's emoji
# table is not loaded for every command)
console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


# Exit status of every command when a bug of ours kept a file from being read or checked (the
# file is named with "请把此文件发给维护人员"; the other files' results are still given).
EXIT_INTERNAL = 4


def fail(message: str, code: int = 2) -> None:
    """Print a Chinese error and exit with `code` (2 = usage/input error)."""
    err_console.print(f"[bold red]错误：[/]{message}")
    raise typer.Exit(code)
