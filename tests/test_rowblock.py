"""collect.rowblock: a block of template rows laid out slot by slot (RowPieces.flat) is exactly
what the row-by-row joins make, for any values (blanks included) and any slice of the block."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from xlsx_tools.collect.rowblock import ROW, ROW_START, Blocks, RowBlock, RowPieces, split_pieces


def _pieces(n: int, ref_every: int = 0) -> list[tuple[list[str], list[str], list[str]]]:
    """n rows' pieces as the data sheet makes them; every `ref_every`-th row's value cell has a
    reference (ROW in its `before`), which rules the flat layout out."""
    out = []
    for i in range(n):
        ref = f' r="G{ROW}"' if ref_every and i % ref_every == 0 else ""
        mid = f'<c t="s"><v>{i}</v></c>'
        out.append(split_pieces(f'{mid}<c r="H{ROW}" t="s"><v>7</v></c></row>', f"{mid}<c{ref}><v>",
                                '</v></c><c t="s"><v>7</v></c></row>'))
    return out


def _generic(pieces) -> RowPieces:
    rp = RowPieces(pieces)
    rp.flat = None
    return rp


values_st = st.lists(st.one_of(st.none(), st.integers(-10**6, 10**6).map(str)), min_size=1, max_size=40)


@given(values_st, st.integers(1, 10**6), st.data(), st.booleans(), st.integers(0, 5))
def test_flat_rows_are_the_joined_rows(values, first, data, coded, ref_every):
    n = len(values)
    lo = data.draw(st.integers(0, n - 1))
    hi = data.draw(st.integers(lo, n))
    pieces = _pieces(n, ref_every)
    head = ROW_START + ROW + '"><c t="s"><v>1</v></c>' + ('<c t="s"><v>2</v></c>' if coded else
                                                           f'<c r="C{ROW}" t="s"><v>3</v></c>')
    flat = RowPieces(pieces)
    assert flat.numbered == ([i for i in range(n) if i % ref_every == 0] if ref_every else [])
    got = RowBlock(head, values, flat).xml(first, lo, hi)
    want = RowBlock(head, values, _generic(pieces)).xml(first, lo, hi)
    assert got == want
    rows = re.findall(r'<row r="(\d+)">.*?</row>', got)
    assert rows == [str(first + i) for i in range(hi - lo)]
    assert got.count("</row>") == hi - lo and ROW not in got
    assert got.count('<c r="H') == values[lo:hi].count(None)  # a blank value: the next cell has its reference
    assert got.count('<c r="G') == sum(1 for i in range(lo, hi) if ref_every and i % ref_every == 0
                                       and values[i] is not None)


def test_a_reference_in_a_value_piece_has_the_row_number():
    block = RowBlock(ROW_START + ROW + '">', ["1", None, "3", "4", None, "6"], RowPieces(_pieces(6, ref_every=3)))
    xml = block.xml(10)
    assert '<c r="G10"><v>1</v>' in xml and '<c r="G13"><v>4</v>' in xml and '<c r="H11" t="s">' in xml
    assert xml.count("<row ") == 6 and ROW not in xml
    assert xml == RowBlock(ROW_START + ROW + '">', ["1", None, "3", "4", None, "6"],
                           _generic(_pieces(6, ref_every=3))).xml(10)


def test_blocks_continue_across_sheets():
    blocks = Blocks(iter([RowBlock(ROW_START + ROW + '">', ["1"] * 5, RowPieces(_pieces(5))) for _ in range(3)]))
    first = list(blocks.take(7))
    second = list(blocks.take(8))
    assert [(lo, hi) for _, lo, hi in first] == [(0, 5), (0, 2)]
    assert [(lo, hi) for _, lo, hi in second] == [(2, 5), (0, 5)]
