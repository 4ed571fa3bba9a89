"""Wrapped headers never leave a single character on their last line ("商业企" / "业"): the
column widths of every table are adjusted from the label lengths. Measured independently here:
a CJK character is 2 column units at 11 pt (1 for any other), scaled by the table's font size;
an Excel cell keeps one unit free, LibreOffice uses the whole stored width (it broke
"三、本年/度办理结/果" before); the widths are the ones written into the workbook."""

from __future__ import annotations

import unicodedata

import openpyxl
import pytest

from xlsx_tools.format.spec import load_format
from xlsx_tools.write.label_wrap import orphaned, widen_for_orphans, wrap
from xlsx_tools.write.template import write_template

XLSXWRITER_PAD = 5 / 7  # xlsxwriter stores a width w as w + 5 px (of 7 px per unit)


def lines(text: str, size: float, width: float, room: float = -1.0) -> list[str]:
    """Excel keeps about a unit of padding (room -1); LibreOffice writes over the stored width
    (xlsxwriter's w + 5/7)."""
    avail, out, line, used = width + room, [], "", 0.0
    for ch in text:
        w = (2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0) * size / 11
        if line and used + w > avail:
            out.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    return [*out, line]


def column_widths(ws) -> dict[int, float]:
    """0-based column -> width in units as the plan set it (openpyxl groups equal columns)."""
    out = {}
    for dim in ws.column_dimensions.values():
        for col in range(dim.min, dim.max + 1):
            out[col - 1] = dim.width - XLSXWRITER_PAD
    return out


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("wrap") / "t.xlsx"
    write_template(path, agency="某局", year=2025, password="pw")
    return openpyxl.load_workbook(path)


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_no_header_leaves_one_character_alone(book, key):
    t = load_format().table(key)
    ws = book[t.sheet]
    widths = column_widths(ws)
    checked = 0
    for c in t.cells:
        width = sum(widths[k] for k in range(c.col, c.col + c.colspan))
        for room in (-1.0, XLSXWRITER_PAD):
            got = lines(c.text, t.font_size, width, room)
            assert len(got) == 1 or len(got[-1]) >= 2, (c.ref, c.text, room, got)
        checked += 1
    assert checked == len(t.cells) > 0


def test_the_cells_that_used_to_break_now_fit(book):
    ws = book["表四"]
    t4 = load_format().table("t4")
    cell = next(c for c in t4.cells if c.text == "结果维持")
    width = column_widths(ws)[cell.col]
    assert lines("结果维持", t4.font_size, width) == ["结果维持"]
    t3 = load_format().table("t3")
    ws = book["表三"]
    for text in ("商业企业", "科研机构"):
        cell = next(c for c in t3.cells if c.text == text)
        width = column_widths(ws)[cell.col]
        assert len(lines(text, t3.font_size, width)) == 1, text


def test_wrap_and_orphans():
    assert wrap("商业企业", 9, 6.5) == ["商业企", "业"]
    assert orphaned("商业企业", 9, 6.5) and not orphaned("商业企业", 9, 8.0)
    assert not orphaned("商业", 9, 3.0) or wrap("商业", 9, 3.0) == ["商", "业"]
    assert wrap("a\nbc", 11, 10) == ["a", "bc"]


class Cell:
    def __init__(self, text, col, colspan=1):
        self.text, self.col, self.colspan = text, col, colspan


@pytest.mark.parametrize("text", ["结果维持", "（三）不予公开", "三、本年度办理结果", "申请人无正当理由逾期不补正"])
def test_widen_for_orphans_only_widens_until_it_fits(text):
    widths = {0: 4.0, 1: 6.0}
    widen_for_orphans([Cell(text, 0, 2)], widths, 9)
    assert not orphaned(text, 9, widths[0] + widths[1])
    assert widths[0] == 4.0 and widths[1] >= 6.0
    # half a unit less would still orphan (or the label was fine to begin with)
    if widths[1] > 6.0:
        assert orphaned(text, 9, widths[0] + widths[1] - 0.5)
