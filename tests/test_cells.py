"""format/cells.py: the package's one A1 code, both directions, and shared-formula shifting."""

from __future__ import annotations

import pytest

from xlsx_tools.format.cells import (
    a1,
    a1_range,
    cell_index,
    col_index,
    col_letter,
    defined_name,
    parse_a1,
    shift_formula,
)


@pytest.mark.parametrize("col, letters", [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA"), (16383, "XFD")])
def test_column_letters_both_ways(col, letters):
    assert col_letter(col) == letters
    assert col_index(letters) == col


def test_a1_and_ranges():
    assert a1(2, 1) == "B3"
    assert a1_range(2, 1) == "B3"
    assert a1_range(2, 1, 2, 3) == "B3:D4"


def test_parse_a1_is_lenient_and_raises_on_anything_else():
    assert parse_a1(" $b$3 ") == (2, 1)
    with pytest.raises(ValueError, match="not an A1 reference"):
        parse_a1("B")


def test_cell_index_takes_a_reference_exactly_as_a_part_writes_it():
    assert cell_index("XFD1048576") == (1048575, 16383)
    assert cell_index("$C$7") == (6, 2)
    assert cell_index("c7") is None
    assert cell_index(" C7") is None
    assert cell_index("R1C1") is None


def test_shift_formula_moves_relative_references_only():
    assert shift_formula("SUM(B3:C3)+$D$3", 2, 1) == "SUM(C5:D5)+$D$3"
    assert shift_formula("B$3+$B3", 1, 1) == "C$3+$B4"
    assert shift_formula("A1-1", -1, 0) == "#REF!-1"
    # names, sheet-qualified names and function names are left alone
    assert shift_formula("LOG10(A1)+xt_t1.a", 1, 0) == "LOG10(A2)+xt_t1.a"


def test_defined_names_use_only_letters_digits_and_underscore():
    assert defined_name("info", "agency") == "xt_info_agency"
    assert defined_name("", "t3.natural.b1") == "xt_t3_natural_b1"
