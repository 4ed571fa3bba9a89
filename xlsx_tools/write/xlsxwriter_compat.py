"""Everything of xlsxwriter that is not its public API, in one place.

- `TemplateWorksheet` memoises `Worksheet._prepare_formula` (about 60 regular-expression
  substitutions per formula; every template of a batch has the same formulas).
- `TemplateWorkbook` writes <workbookProtection> (workbook structure protection, for which
  xlsxwriter has no API) by extending `Workbook._write_workbook_pr` and `_xml_empty_tag`, and
  appends checked defined names to `Workbook.defined_names` in xlsxwriter's own entry format.

`check_xlsxwriter()` verifies that the installed xlsxwriter still has what these rely on;
tests/test_xlsxwriter_compat.py runs it and fails with its message on a new version that changed it.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Iterable

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

# The private members used below, with the parameters each is called with.
PRIVATE_API = {
    (Worksheet, "_prepare_formula"): ("formula", "expand_future_functions"),
    (Workbook, "_write_workbook_pr"): (),
    (Workbook, "_xml_empty_tag"): ("tag", "attributes"),
}


def check_xlsxwriter() -> list[str]:
    """What the installed xlsxwriter lacks of the private API this module relies on (empty when
    everything is there), in sentences naming the member and the version."""
    problems = []
    for (cls, name), params in PRIVATE_API.items():
        member = getattr(cls, name, None)
        if not callable(member):
            problems.append(f"xlsxwriter {xlsxwriter.__version__}: {cls.__name__}.{name} no longer exists")
            continue
        have = [p for p in inspect.signature(member).parameters if p != "self"]
        if have[:len(params)] != list(params):
            problems.append(f"xlsxwriter {xlsxwriter.__version__}: {cls.__name__}.{name}{tuple(have)} "
                            f"no longer takes {params}")
    wb = Workbook(io.BytesIO(), {"in_memory": True})
    wb.define_name("xt_check", "=Sheet1!$A$1")
    entry = wb.defined_names[-1] if isinstance(getattr(wb, "defined_names", None), list) and wb.defined_names else None
    if not (isinstance(entry, list) and "xt_check" in entry):
        problems.append(f"xlsxwriter {xlsxwriter.__version__}: Workbook.defined_names no longer holds a list "
                        f"per name ({entry!r})")
    return problems  # wb is never closed: nothing is written


class TemplateWorksheet(Worksheet):
    """xlsxwriter's Worksheet with its formula preparation (about 60 regex substitutions per
    formula) memoised: every template of a batch has the same formulas."""

    _prepared: dict[tuple[str, bool, bool], str] = {}

    def _prepare_formula(self, formula, expand_future_functions=False):
        key = (formula, bool(self.use_future_functions), bool(expand_future_functions))
        hit = self._prepared.get(key)
        if hit is None:
            hit = super()._prepare_formula(formula, expand_future_functions)
            if len(self._prepared) < 10_000:
                self._prepared[key] = hit
        return hit


class TemplateWorkbook(Workbook):
    """xlsxwriter's Workbook plus workbook structure protection, which xlsxwriter has no API for:
    <workbookProtection> goes right after <workbookPr> (ECMA-376 CT_Workbook order)."""

    structure_password_hash: str | None = None

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        if self.structure_password_hash is not None:
            attrs = [("workbookPassword", self.structure_password_hash), ("lockStructure", 1)]
            self._xml_empty_tag("workbookProtection", attrs)

    def add_sheet(self, name: str) -> TemplateWorksheet:
        return self.add_worksheet(name, worksheet_class=TemplateWorksheet)

    _named: dict[tuple[str, str], tuple] = {}

    def name_cells(self, names: Iterable[tuple[str, str]]) -> None:
        """Workbook-level defined names, each for one cell: (name, "='表三'!$D$4"). xlsxwriter
        checks a name with five regular expressions; a global name's entry depends on the name
        and reference only, so it is checked once per process and then appended as it was."""
        for name, ref in names:
            entry = self._named.get((name, ref))
            if entry is None:
                if self.define_name(name, ref) != 0:
                    raise ValueError(f"invalid defined name {name!r}")  # a format file bug, not user input
                entry = tuple(self.defined_names[-1])
                if len(self._named) < 10_000:
                    self._named[(name, ref)] = entry
            else:
                self.defined_names.append(list(entry))
