"""Shared rich console and small rendering helpers for the commands."""

from __future__ import annotations

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> None:
    """Print a Chinese error and exit with `code` (2 = usage/input error)."""
    import typer

    err_console.print(f"[bold red]错误：[/]{message}")
    raise typer.Exit(code)
