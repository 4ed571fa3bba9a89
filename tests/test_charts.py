"""Terminal charts: bars scale to the largest value and carry their numbers."""

from __future__ import annotations

import io

from rich.console import Console

from xlsx_tools.cli.charts import bar_chart, short_label


def render(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(renderable)
    return out.getvalue()


def test_bars_scale_to_the_largest_value():
    text = render(bar_chart("收集情况（应交 4 家）", [("合格", 6, "green"), ("有错误", 3, "red"), ("未提交", 0, "grey50")],
                            width=20))
    lines = text.splitlines()
    assert lines[0].strip() == "收集情况（应交 4 家）"
    assert "█" * 20 + " 6" in lines[1] and "█" * 10 + " 3" in lines[2] and "█" not in lines[3]
    assert lines[3].rstrip().endswith(" 0")


def test_short_label_drops_a_trailing_note_only():
    assert short_label("（二）部分公开（区分处理的，只计这一情形，不计其他情形）") == "（二）部分公开"
    assert short_label("（一）予以公开") == "（一）予以公开"
    assert short_label("（三）") == "（三）"
