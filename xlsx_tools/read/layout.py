"""What the reader needs to know of a format's workbook layout, derived from the format file once
per format (the reader runs on thousands of files per process): every named cell, the sheets in
template order, the printed labels of each table and the template's fingerprint.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field

from ..format.spec import FormatSpec
from ..model import meta


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
    computed: tuple  # (Field, Rule) of every computed field that a rule computes, in spec order
    memo: dict = field(default_factory=dict)  # what other modules derive per layout (computed._wanted)


_LAYOUTS: dict[int, Layout] = {}


def layout(spec: FormatSpec) -> Layout:
    """The Layout of `spec`, computed once per spec object."""
    hit = _LAYOUTS.get(id(spec))
    if hit is not None and hit.spec is spec:
        return hit
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
    idx = Layout(
        spec=spec, named=named, field_names={f.id: f.name for f in spec.fields},
        expected_sheets=expected, labels=labels, fingerprint=meta.template_fingerprint(spec),
        computed=tuple((f, rule) for f in spec.computed_fields if (rule := spec.computing_rule(f.id)) is not None),
    )
    if len(_LAYOUTS) > 16:
        _LAYOUTS.clear()
    _LAYOUTS[id(spec)] = idx
    return idx
