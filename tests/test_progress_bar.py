"""The progress bars of long commands are drawn only where somebody sees them."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import BarColumn, TextColumn

from xlsx_tools.cli.console import progress_bar


def test_progress_bar_is_off_when_nobody_sees_it():
    """Sent to a file or a pipe the bar is disabled (rich would lay it out ten times a second
    for nobody) and leaves nothing in the output."""
    buf = io.StringIO()
    bar = progress_bar(TextColumn("正在读取和校验"), BarColumn(), out=Console(file=buf, force_terminal=False))
    assert bar.disable
    with bar:
        task = bar.add_task("", total=3)
        bar.update(task, completed=3)
    assert buf.getvalue() == ""


def test_progress_bar_is_drawn_to_a_terminal_four_times_a_second():
    buf = io.StringIO()
    bar = progress_bar(TextColumn("正在读取和校验"), BarColumn(), out=Console(file=buf, force_terminal=True, width=60))
    assert not bar.disable and bar.live.auto_refresh and bar.live.refresh_per_second == 4
    with bar:
        task = bar.add_task("", total=3)
        bar.update(task, completed=1)
        bar.refresh()
    assert "正在读取和校验" in buf.getvalue()
    assert progress_bar(TextColumn("x"), out=Console(file=io.StringIO(), force_terminal=True), disable=True).disable
