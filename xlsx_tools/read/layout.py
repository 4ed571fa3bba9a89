"""What the reader needs to know of a format's workbook layout, derived from the format file once
per format (the reader runs on thousands of files per process): every named cell, the sheets in
template order, the printed labels of each table and the template's fingerprint.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..format.cells import col_letter
from ..format.spec import FormatSpec
from ..model import meta
from ..util.memo import derived
from .formulas import name_target


@functools.lru_cache(maxsize=1 << 14)
def norm_label(text: str) -> str:
    """A label as compared: NFKC, without any space."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class Layout:
    """What the reader needs from a spec, computed once per spec (the reader runs on thousands
    of files per process)."""

    spec: FormatSpec
    named: list[tuple[str, str, int, int]]  # (defined name, spec sheet, row, col) of every named cell
    field_names: dict[str, str]  # field id -> defined name
    expected_sheets: list[tuple[str, bool]]  # (sheet, holds data) in template order
    labels: dict[str, list[tuple[object, str]]]  # table sheet -> (HeaderCell, normalised text)
    fingerprint: str
    computed: tuple  # (Field, Rule, the defined names of the rule's terms, the field's defined name) of every
    #                  computed field that a rule computes, in spec order (a term's name is None for a constant)
    inputs: tuple[tuple[object, str], ...] = ()  # (Field, its defined name) of every input field, in spec order
    # defined name -> (spec sheet, row, col) of every named cell, where no name is used twice: a
    # workbook whose names all point there and whose sheets all keep their names needs no
    # name-by-name look (structure.locations)
    where: dict[str, tuple[str, int, int]] | None = None
    named_sheets: frozenset[str] = frozenset()  # the spec sheets of the named cells
    # `where` as the names' references are written ('表三'!$D$4 by our writer and Excel, 表三!$D$4
    # by LibreOffice): a workbook whose names are all written so points every name there
    where_texts: tuple[dict[str, str], ...] = ()
    # table sheet -> ((row, col) of each of its labels, the label's text), in the order of `labels`
    label_cells: dict[str, tuple[list[tuple[int, int]], list[str]]] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # what other modules derive per layout (computed._wanted)

    def kept(self, key: object, build: Callable[[Layout], Any]) -> Any:
        """build(self), made once and kept in `memo` under `key` (an object of the caller's own)."""
        memo = self.memo
        if key in memo:
            return memo[key]
        value = memo[key] = build(self)
        return value


def sheet_runs(items: Iterable[tuple[str, tuple[int, int], Any, Any]]) -> tuple[tuple[str, list, list, list], ...]:
    """(sheet, cell, a, b) items grouped where they follow one another on one sheet, in order:
    per run, (the sheet, the items' cells, their a's, their b's), for the cells of a run to be
    taken from their sheet at once."""
    runs: list[tuple[str, list, list, list]] = []
    for sheet, cell, a, b in items:
        if not runs or runs[-1][0] != sheet:
            runs.append((sheet, [], [], []))
        _, cells, firsts, seconds = runs[-1]
        cells.append(cell)
        firsts.append(a)
        seconds.append(b)
    return tuple(runs)


_LAYOUTS: dict[int, tuple[FormatSpec, Layout]] = {}


def layout(spec: FormatSpec) -> Layout:
    """The Layout of `spec`, computed once per spec object."""
    return derived(_LAYOUTS, spec, _build)


def _build(spec: FormatSpec) -> Layout:
    named = [(f.name, f.sheet, f.row, f.col) for f in spec.fields]
    named += [(f.name, f.sheet, f.row, f.col) for f in spec.info_fields]
    named += [(p.name, p.sheet, p.row, p.col) for p in spec.narrative_parts]
    expected: list[tuple[str, bool]] = []
    expected.append((meta.INSTRUCTIONS_SHEET, False))
    expected.append((spec.info_sheet, True))
    expected += [(t.sheet, True) for t in spec.tables]
    expected.append((spec.narrative_sheet, True))
    expected.append((meta.META_SHEET, False))
    labels = {t.sheet: [(hc, norm_label(hc.text)) for hc in t.cells if hc.text] for t in spec.tables}
    field_names = {f.id: f.name for f in spec.fields}
    where = {name: (sheet, row, col) for name, sheet, row, col in named}
    idx = Layout(
        spec=spec, named=named, field_names=field_names,
        expected_sheets=expected, labels=labels, fingerprint=meta.template_fingerprint(spec),
        computed=tuple((f, rule, tuple(field_names[t.field] if t.field is not None else None for t in rule.right), f.name)
                       for f in spec.computed_fields if (rule := spec.computing_rule(f.id)) is not None),
        inputs=tuple((f, f.name) for f in spec.input_fields),
        where=where if len(where) == len(named) else None, named_sheets=frozenset(s for _, s, _, _ in named),
        label_cells={sheet: ([(hc.row, hc.col) for hc, _ in pairs], [hc.text for hc, _ in pairs])
                     for sheet, pairs in labels.items()},
    )
    if idx.where is not None:
        idx.where_texts = tuple(texts for texts in (
            {name: f"{quote}{sheet}{quote}!${col_letter(col)}${row + 1}" for name, (sheet, row, col) in where.items()}
            for quote in ("'", "")) if all(name_target(texts[name]) == loc for name, loc in where.items()))
    return idx
