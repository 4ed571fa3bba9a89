"""Terminal charts for results people would rather look at than read: the collection status and
the combined 办理结果, drawn as horizontal bars with rich (the Excel output has native charts)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..collect.collection import Collection
from ..collect.total_sheet import CHART_COLOURS, result_groups

WIDTH = 30  # characters of the longest bar

_NOTE = re.compile(r"(?<=.)（[^（）]*）$")


def short_label(label: str) -> str:
    """A row label without its trailing note: "（二）部分公开（区分处理的，…）" -> "（二）部分公开"."""
    return _NOTE.sub("", label)


def bar_chart(title: str, rows: Sequence[tuple[str, float, str]], width: int = WIDTH) -> Table:
    """rows: (label, value, colour). Bars scale to the largest value; values printed after them."""
    table = Table(title=title, show_header=False, box=None, padding=(0, 1), title_justify="left")
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    largest = max((v for _, v, _ in rows), default=0) or 1
    for label, value, colour in rows:
        cells = round(width * value / largest)
        bar = Text("█" * cells, style=colour)
        bar.append(f" {value:g}")
        table.add_row(label, bar)
    return table


def collection_charts(c: Collection) -> Group:
    """The status of the roster, then the combined 办理结果 of the accepted agencies."""
    counts = c.counts()
    parts = [bar_chart(f"收集情况（应交 {len(c.agencies)} 家）",
                       [(status.label, n, CHART_COLOURS.get(status, "white")) for status, n in counts.items()])]
    groups = result_groups(c.spec)
    if groups is not None and c.total_count:
        title, _total, items = groups
        rows = [(short_label(label), float(sum(c.totals.get(fid) or 0 for fid in ids)), "#4472C4") for label, ids in items]
        parts.append(bar_chart(f"{title}（汇总，{c.total_count} 家）", rows))
    return Group(*parts)
