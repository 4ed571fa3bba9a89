"""Column widths for printing: text measured in column units, tables with their own widths."""

from __future__ import annotations

import pytest

from xlsx_tools.write import sheet_print
from xlsx_tools.write.sheet_print import lines_needed, scale_to, shared_columns, text_units


def test_text_units_count_chinese_double():
    assert text_units("青山区") == 6.0
    assert text_units("2026") == pytest.approx(4.2)
    assert text_units("青山区", 10) == pytest.approx(6 * 10 / 11)


def test_text_units_is_the_sum_over_the_characters_in_order():
    """Each character adds 2.0 (wide, full-width) or 1.05, summed by sum() in the text's order:
    the float is exactly what the per-character definition gives (another order or a product can
    differ in the last bit, and so a line count at a boundary)."""
    import random
    import unicodedata

    def definition(text: str, size: float = 11) -> float:
        return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.05 for ch in text) * size / 11

    pool = "abc 123中文字符，。ｱｲ①½€\u3000ＡＢ\t\n😀\u0301"
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 50)))
        assert text_units(text) == definition(text)
        assert text_units(text, 10) == definition(text, 10)
    assert text_units("a" * 20) == definition("a" * 20) != 1.05 * 20
    ascii_pool = "abc XYZ 0123.-_/\\\t\n\x7f~"
    for k in [*range(60), 999, 1000, 1001, 5000]:  # ASCII: the sums kept per length, and beyond
        text = "".join(rng.choice(ascii_pool) for _ in range(k))
        assert text_units(text) == definition(text) and text_units(text, 9) == definition(text, 9)
        assert text_units(text) == definition(text)  # kept


def test_lines_needed():
    assert lines_needed("", 10) == 1
    assert lines_needed("青山区教育局", 13) == 1  # 12 units in 12 usable
    assert lines_needed("青山区教育局", 12) == 2
    assert lines_needed("一\n二", 30) == 2  # explicit line breaks


def test_lines_needed_is_the_definition_for_any_text_asked_again_or_not():
    """The line counts kept for texts asked again are the ones the definition gives, whatever
    was asked before; and only so many are kept."""
    import math
    import random

    from xlsx_tools.write import sheet_print

    def definition(text: str, width: float, size: float) -> int:
        room = max(1.0, width - 1)
        return max(1, sum(math.ceil(text_units(part, size) / room) or 1 for part in text.split("\n"))) if text else 1

    pool = "ab 12中文字，。ｱ①\u3000\n"
    rng = random.Random(7)
    texts = ["".join(rng.choice(pool) for _ in range(rng.randrange(0, 30))) for _ in range(300)]
    for _ in range(6000):
        text, width, size = rng.choice(texts), rng.choice([1, 2, 5.5, 7, 12, 30]), rng.choice([9, 10, 11])
        assert lines_needed(text, width, size) == definition(text, width, size)
        assert len(sheet_print._LINES) <= sheet_print._LINES_KEPT
    assert lines_needed("青山区教育局", 13.0) == 1 and lines_needed("青山区教育局", 13.0 - 1e-9) == 2  # not the kept 13


def test_shared_columns_give_each_table_its_widths():
    widths, spans = shared_columns([[10, 20, 30], [30, 30], [20, 40]])
    assert widths == [10, 10, 10, 30]  # the union of the edges 10, 20, 30
    assert spans == [[(0, 1), (1, 2), (3, 1)], [(0, 3), (3, 1)], [(0, 2), (2, 2)]]
    for span, own in zip(spans, [[10, 20, 30], [30, 30], [20, 40]], strict=True):
        assert [sum(widths[a:a + n]) for a, n in span] == own


def test_near_edges_snap_instead_of_making_slivers():
    widths, spans = shared_columns([[10, 20], [10.6, 19.4], [15, 15]])
    assert widths == [10, 5, 15]  # 10.6 snapped to 10
    assert spans[1] == [(0, 1), (1, 2)]
    assert [sum(widths[a:a + n]) for a, n in spans[2]] == [15, 15]


def test_scale_to():
    assert scale_to([1, 3], 8) == [2, 6]
    assert scale_to([0, 0], 8) == [0, 0]


def test_the_units_kept_per_character_stay_bounded(monkeypatch):
    """A file may bring any characters: the table of each character's units is cleared at its
    bound, and the units stay what the East Asian width gives."""
    monkeypatch.setattr(sheet_print, "_CHARS_KEPT", 100)
    sheet_print._CHAR_UNITS.clear()
    text = "".join(map(chr, range(0x4E00, 0x4E00 + 250))) + "".join(map(chr, range(0x3B1, 0x3B1 + 20)))
    assert sheet_print.text_units(text) == pytest.approx(250 * 2.0 + 20 * 1.05)
    assert len(sheet_print._CHAR_UNITS) <= 100
