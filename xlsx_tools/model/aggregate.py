"""The sum of several agencies' Reports as one Report (a district's combined figures): inputs are
summed field by field (fees as exact Decimals), computed fields are recomputed from the sums with
the format's own rules, so the combined figures satisfy every rule again. A blank input is counted
as 0 and reported (Aggregator.blanks), never silently.

Pure: no file, no folder, no office library. Choosing which files take part and writing the
combined report are collect/aggregate.py's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from ..format.numbers import Number
from ..format.spec import FormatSpec, load_format
from .report import Agency, Report


class AggregateError(ValueError):
    """A usage problem; the message is Chinese."""


class Aggregator:
    """Running field-wise sums of the input fields: memory does not grow with the reports added."""

    def __init__(self, spec: FormatSpec | None = None):
        self.spec = spec or load_format()
        self._sums: dict[str, Number] = {
            f.id: (Decimal(0) if f.type.kind == "decimal" else 0) for f in self.spec.input_fields
        }
        self.count = 0
        self.blanks: dict[str, int] = {}  # field id -> reports that left it blank (counted as 0)

    def add(self, figures: Mapping[str, Number | None]) -> int:
        """Add one report's inputs; returns how many of them were blank (counted as 0)."""
        blank = 0
        for fid in self._sums:
            v = figures.get(fid)
            if v is None:
                self.blanks[fid] = self.blanks.get(fid, 0) + 1
                blank += 1
                continue
            self._sums[fid] += v
        self.count += 1
        return blank

    def figures(self) -> dict[str, Number | None]:
        """Every field: the summed inputs and the computed fields recomputed from them."""
        return self.spec.compute(dict(self._sums))

    def report(self, agency: str, year: int, code: str = "") -> Report:
        return Report(format=self.spec.id, agency=Agency(agency, code), year=year, figures=self.figures())


def aggregate_reports(reports: Iterable[Report], *, agency: str, year: int, code: str = "",
                      spec: FormatSpec | None = None) -> Report:
    """The field-wise sum of `reports` (all of the same format) as one Report."""
    agg: Aggregator | None = Aggregator(spec) if spec is not None else None
    for r in reports:
        if agg is None:
            agg = Aggregator(r.spec)
        if r.format != agg.spec.id:
            raise AggregateError(f"「{r.agency.name}」的报告格式为 {r.format}，与其他报告（{agg.spec.id}）不同，不能汇总。")
        agg.add(r.figures)
    if agg is None:
        agg = Aggregator()
    return agg.report(agency, year, code)
