"""Shared rich console and small rendering helpers for the commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

# emoji=False: a file or agency name such as "a:smile:b" is printed as written (and rich's emoji
# table is not loaded for every command)
console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)


def progress_bar(*columns: Any, out: Console = err_console, disable: bool = False) -> Progress:
    """A transient rich progress bar drawn only where somebody sees it: to a terminal, four times
    a second. Sent to a file or a pipe it is off; rich would otherwise still lay the bar out ten
    times a second (about 2% of a core through a long collect, beside the workers)."""
    from rich.progress import Progress

    return Progress(*columns, console=out, transient=True, refresh_per_second=4,
                    disable=disable or not out.is_terminal)


# Exit status of every command when a bug of ours kept a file from being read or checked (the
# file is named with "请把此文件发给维护人员"; the other files' results are still given).
EXIT_INTERNAL = 4


def fail(message: str, code: int = 2) -> None:
    """Print a Chinese error and exit with `code` (2 = usage/input error)."""
    err_console.print(f"[bold red]错误：[/]{message}")
    raise typer.Exit(code)
