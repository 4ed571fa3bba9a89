"""Bundled example data: the sample agency of the published 2021 report, a sample roster, and
random figures that satisfy every rule (for the demo, the tests and the benchmarks)."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from ...format.numbers import Number
from ...format.spec import FormatSpec, load_format
from ...model.report import Agency, Report, narrative_from_parts

# A sample roster of a county-level disclosure office (fictional codes).
SAMPLE_ROSTER: tuple[tuple[str, str], ...] = (
    ("沙坡头区政务服务中心", "640502-001"),
    ("沙坡头区人民政府办公室", "640502-002"),
    ("沙坡头区发展和改革局", "640502-003"),
    ("沙坡头区教育局", "640502-004"),
    ("沙坡头区公安分局", "640502-005"),
    ("沙坡头区民政局", "640502-006"),
    ("沙坡头区司法局", "640502-007"),
    ("沙坡头区财政局", "640502-008"),
    ("沙坡头区人力资源和社会保障局", "640502-009"),
    ("沙坡头区自然资源局", "640502-010"),
    ("沙坡头区住房和城乡建设局", "640502-011"),
    ("沙坡头区卫生健康局", "640502-012"),
)


@cache
def sample_agency() -> dict[str, Any]:
    """The sample agency's 基本信息 and narrative, taken from shared/sample-report-2021.txt."""
    text = resources.files("xlsx_tools").joinpath("data/sample_agency.json").read_text(encoding="utf-8")
    return json.loads(text)


def sample_report(spec: FormatSpec | None = None) -> Report:
    """The sample report as published: 沙坡头区政务服务中心 2021, every figure 0."""
    spec = spec or load_format()
    data = sample_agency()
    figures: dict[str, Number | None] = {
        f.id: (Decimal(0) if f.type.kind == "decimal" else 0) for f in spec.fields
    }
    return Report(
        format=spec.id, agency=Agency(data["agency"]["name"], data["agency"]["code"]), year=data["year"],
        contact=dict(data["contact"]), figures=figures,
        narrative=narrative_from_parts(spec, data["narrative_parts"]),
    )


def random_figures(spec: FormatSpec, rng: random.Random, busy: float = 0.5) -> dict[str, Number]:
    """Figures that satisfy every rule of the format (errors and warnings alike).

    `busy` (0..1) scales how many applications and cases an agency has."""

    def small(scale: int = 6) -> int:
        return rng.randint(0, max(0, int(scale * busy))) if rng.random() < 0.6 else 0

    values: dict[str, Number] = {}
    for f in spec.input_fields:
        if f.type.kind == "decimal":
            cents = rng.randint(0, 5000) if rng.random() < 0.3 else 0
            values[f.id] = (Decimal(cents) / 100).quantize(Decimal("0.01"))
        else:
            values[f.id] = small()
    # 现行有效件数 >= 本年制发 - 本年废止 (T2_STOCK_PLAUSIBLE)
    for r in spec.rules:
        if r.code == "T2_STOCK_PLAUSIBLE":
            need = sum(t.sign * values[t.field] for t in r.right if t.field)
            target = r.left[0].field
            values[target] = max(values[target], need) + rng.randint(0, 20)
    # the balance of table 三, column by column: received = results + carry_forward - carried_over
    for r in spec.rules:
        if r.code != "T3_BALANCE" or r.label == _total_label(spec):
            continue
        received, carried = (t.field for t in r.left)
        results_terms = _results_terms(spec, r)
        carry_forward = r.right[-1].field
        results = sum(values[f] for f in results_terms)
        need = results + values[carry_forward] - values[carried]
        if need < 0:
            values[carried] = results + values[carry_forward]
            need = 0
        values[received] = need
    return spec.compute(values)


def _total_label(spec: FormatSpec) -> str:
    t3 = next(t for t in spec.tables if t.key == "t3")
    return t3.column_keys[-1][1]


def _results_terms(spec: FormatSpec, balance_rule) -> list[str]:
    """The input fields that (七)总计 of this column sums."""
    results_total = balance_rule.right[0].field
    rule = spec.computing_rule(results_total)
    return [t.field for t in rule.right if t.field]


def random_report(spec: FormatSpec, rng: random.Random, agency: str, code: str = "", year: int = 2025,
                  busy: float = 0.5) -> Report:
    base = sample_agency()
    return Report(
        format=spec.id, agency=Agency(agency, code), year=year,
        contact={**base["contact"], "contact_org": agency, "contact_person": "张三"},
        figures=random_figures(spec, rng, busy),
        narrative=narrative_from_parts(spec, base["narrative_parts"]),
    )
