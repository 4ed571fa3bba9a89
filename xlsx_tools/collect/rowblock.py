"""The rows of a template sheet (LongSheet.templates, e.g. 全部数据) made from pieces of XML that
are the same for every block of rows (an agency's), so that a block is its row numbers, its head
(the agency's cells) and its values laid between those pieces."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

ROW = "\0"  # the row number's placeholder in a row template (a character no XML text holds)
ROW_START = '<row r="'
_SLOTS = 5  # a row in RowPieces.flat: number, head, before, value, after (+ the next row's start)

Piece = tuple[list[str], list[str], list[str]]


def split_pieces(blank: str, before: str, after: str) -> Piece:
    """A row's pieces for RowBlock, each split at ROW."""
    return blank.split(ROW), before.split(ROW), after.split(ROW)


class RowPieces:
    """The pieces of the rows of a block (split_pieces, one per row), shared by every block that
    has them; and `flat`, the rows laid out _SLOTS to a row (number, head, before, value, after +
    the next row's start) with the constant slots filled, for RowBlock.xml to fill the others in
    a few list operations instead of a few joins per row. `numbered`: the rows whose value pieces
    hold ROW (a cell after a blank label has its reference), filled row by row."""

    __slots__ = ("flat", "numbered", "rows")

    def __init__(self, rows: Iterable[Piece]):
        self.rows: list[Piece] = list(rows)
        self.numbered = [i for i, (_, before, after) in enumerate(self.rows) if len(before) > 1 or len(after) > 1]
        flat: list[str | None] = []
        for _, before, after in self.rows:
            if len(before) == 1 and len(after) == 1:
                flat += (None, None, before[0], None, after[0] + ROW_START)
            else:
                flat += (None, None, None, None, None)
        self.flat: list[str | None] | None = flat  # None: row by row (the tests compare the two)

    def __len__(self) -> int:
        return len(self.rows)


class RowBlock:
    """Rows of a template sheet, e.g. an agency's: row i is `head` and then, where values[i] is
    None, pieces.rows[i][0], else pieces.rows[i][1] + values[i] + pieces.rows[i][2]. `head` and
    the pieces are XML with ROW where the row's number goes."""

    __slots__ = ("_head", "_pieces", "_values")

    def __init__(self, head: str, values: Sequence[str | None], pieces: RowPieces):
        if len(values) != len(pieces):
            raise ValueError(f"{len(values)} values for {len(pieces)} rows")
        self._head = head.split(ROW)
        self._values = values
        self._pieces = pieces

    def __len__(self) -> int:
        return len(self._values)

    def xml(self, first: int, lo: int = 0, hi: int | None = None) -> str:
        """Rows [lo, hi) as XML, numbered from `first`."""
        hi = len(self._values) if hi is None else hi
        if hi <= lo:
            return ""
        head = self._head
        if self._pieces.flat is not None and len(head) == 2 and head[0] == ROW_START:
            return self._flat(first, lo, hi, head[1])
        out: list[str] = []
        add = out.extend
        for n, v, (blank, before, after) in zip(map(str, range(first, first + hi - lo)), self._values[lo:hi],
                                                self._pieces.rows[lo:hi], strict=True):
            if v is None:
                add((n.join(head), n.join(blank)))
            else:
                add((n.join(head), n.join(before), v, n.join(after)))
        return "".join(out)

    def _flat(self, first: int, lo: int, hi: int, head: str) -> str:
        """xml() where the row's number is the only thing before `head`: the block's slice of
        pieces.flat with its numbers, head and values assigned slot by slot (each one C-level
        operation for the whole block), then the numbered rows' pieces and the blank rows."""
        k = hi - lo
        out = self._pieces.flat[_SLOTS * lo:_SLOTS * hi]  # type: ignore[index]
        numbers = list(map(str, range(first, first + k)))
        out[0::_SLOTS] = numbers
        out[1::_SLOTS] = [head] * k
        values = self._values[lo:hi]
        out[3::_SLOTS] = values
        rows = self._pieces.rows
        for i in self._pieces.numbered[bisect_left(self._pieces.numbered, lo):bisect_left(self._pieces.numbered, hi)]:
            _, before, after = rows[i]
            n = numbers[i - lo]
            out[_SLOTS * (i - lo) + 2] = n.join(before)
            out[_SLOTS * (i - lo) + 4] = n.join(after) + ROW_START
        out[-1] = out[-1][:-len(ROW_START)]  # the last row's end, without a next row's start
        if None in values:  # a blank value: that row is its blank piece
            for j in [j for j, v in enumerate(values) if v is None]:
                out[_SLOTS * j + 2] = numbers[j].join(rows[lo + j][0])
                out[_SLOTS * j + 3] = ""
                out[_SLOTS * j + 4] = ROW_START if j < k - 1 else ""
        out[0] = ROW_START + numbers[0]
        return "".join(out)  # type: ignore[arg-type]


class Blocks:
    """The row blocks of a template sheet, taken a sheet's count at a time: a block (an agency's
    rows) can continue on the next sheet. Yields (block, lo, hi): its rows [lo, hi)."""

    def __init__(self, blocks: Iterator[RowBlock]):
        self._blocks = blocks
        self._rest: tuple[RowBlock, int] | None = None

    def take(self, count: int) -> Iterator[tuple[RowBlock, int, int]]:
        while count > 0:
            if self._rest is not None:
                block, lo = self._rest
            else:
                block, lo = next(self._blocks), 0
            hi = min(len(block), lo + count)
            self._rest = (block, hi) if hi < len(block) else None
            count -= hi - lo
            if hi > lo:
                yield block, lo, hi
