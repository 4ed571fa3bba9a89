"""What the template derives from the format file (column widths, formulas, check area,
validations, instruction heights, defined names) is computed once per format, not per workbook,
and a workbook written from the cached plan is the same as the first one."""

from __future__ import annotations

import random
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.spec import load_format, load_format_file, templates_dir
from xlsx_tools.write import layout, template
from xlsx_tools.write.template_checks import MARK_OK

CREATED = datetime(2026, 11, 30, 14, 47, tzinfo=timezone(timedelta(hours=8)))
DERIVED = ("widen_for_orphans", "plan_checks", "_validation", "_whole_criteria", "instruction_steps", "_name_ref")


def _counting(monkeypatch) -> dict[str, int]:
    counts = dict.fromkeys(DERIVED, 0)
    for name in DERIVED:
        original = getattr(layout, name)

        def wrapper(*args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(layout, name, wrapper)
    return counts


def test_format_derived_parts_are_computed_once_per_format(tmp_path, monkeypatch):
    counts = _counting(monkeypatch)
    spec = load_format_file(templates_dir() / "gov-info-2021.toml")  # a new spec object: no plan yet
    template.write_template(tmp_path / "1.xlsx", agency="甲局", year=2025, password="pw", spec=spec)
    first = dict(counts)
    assert all(first[name] > 0 for name in DERIVED), first
    report = samples.random_report(spec, random.Random(5), "乙局", "B", 2025)
    template.write_template(tmp_path / "2.xlsx", agency="乙局", year=2025, password="pw", report=report, spec=spec)
    template.write_batch([("丙局", "C"), ("丁局", "D")], 2025, tmp_path / "batch", password="pw", spec=spec)
    assert counts == first


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("filled", [False, True])
def test_a_workbook_from_the_cached_plan_equals_the_first(tmp_path, filled):
    """The first workbook of a format builds its plan (and validates every defined name with
    xlsxwriter); a later one replays it: every part byte for byte the same."""
    spec = load_format_file(templates_dir() / "gov-info-2021.toml")
    report = samples.random_report(spec, random.Random(7), "甲局", "A", 2025) if filled else None
    paths = [template.write_template(tmp_path / f"{i}.xlsx", agency="甲局", year=2025, code="A", password="pw",
                                     report=report, created=CREATED, spec=spec).path for i in range(2)]
    first, second = (_parts(p) for p in paths)
    assert first == second
    names = first["xl/workbook.xml"].count(b"<definedName ")
    fields = sum(len(t.fields) for t in spec.tables) + len(spec.info_fields) + len(spec.narrative_parts)
    assert names >= fields  # every field's name (print areas and titles come on top)


def test_blank_marks_are_not_reused_for_a_filled_template(tmp_path):
    spec = load_format()
    template.write_template(tmp_path / "blank.xlsx", agency="甲局", year=2025, password="pw", spec=spec)
    report = samples.random_report(spec, random.Random(3), "乙局", "", 2025)
    path = template.write_template(tmp_path / "f.xlsx", agency="乙局", year=2025, password="pw", report=report,
                                   spec=spec).path
    with zipfile.ZipFile(path) as z:
        sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert MARK_OK.encode() in sheets
