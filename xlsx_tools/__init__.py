"""xlsx-tools: the yearly cycle of the 政府信息公开工作年度报告 — locked Excel templates, reading and
checking the returns, collecting a roster, and the report in official 公文 format.

The Python interface (the README's "Python 接口" shows it at work):

- ``load_format(format_id="gov-info-2021")`` — the format file: tables, fields, rules (FormatSpec).
- ``Report`` — one agency's report for one year: figures by field id, narrative, contact.
- ``write_template(path, agency=, year=, password=, ...)`` — one locked .xlsx template.
- ``write_batch(rows, year, outdir, password=None, ...)`` — one template per agency (names or
  roster rows) plus manifest.csv.
- ``read_workbook(path, ...)`` — read a returned workbook and run every check: a ReadResult with
  ``.report`` (None when the file is unreadable or not one of ours) and ``.findings``.
- ``check_report(report, previous=None)`` — every check of a Report: a list of Finding.
- ``write_docx(report, path, ...)`` — the report as a Word document in 公文 format.
- ``collect_returns(root, roster, outdir, ...)`` — what ``xlsx-tools collect`` does: every return
  under a folder matched to a roster, checked, and 收集情况.xlsx / collect.json written.
- ``aggregate_reports(reports, agency=, year=)`` — the field-wise sum of Reports as one Report.

Names are loaded on first use (PEP 562 ``__getattr__``): ``import xlsx_tools`` imports neither
python-docx nor xlsxwriter, and ``xlsx_tools.collect`` stays the subpackage.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Report",
    "__version__",
    "aggregate_reports",
    "check_report",
    "collect_returns",
    "load_format",
    "read_workbook",
    "write_batch",
    "write_docx",
    "write_template",
]

# public name -> (module, attribute); tests/test_layers.py holds these modules to the layers
_LAZY = {
    "load_format": ("xlsx_tools.format.spec", "load_format"),
    "Report": ("xlsx_tools.model.report", "Report"),
    "check_report": ("xlsx_tools.checks", "check_report"),
    "write_template": ("xlsx_tools.write.template", "write_template"),
    "write_batch": ("xlsx_tools.write.template", "write_batch"),
    "write_docx": ("xlsx_tools.write.docx_report", "write_docx"),
    "collect_returns": ("xlsx_tools.collect.run", "collect"),
    "aggregate_reports": ("xlsx_tools.model.aggregate", "aggregate_reports"),
}
_READ_AND_CHECK = ("xlsx_tools.read.reader", "read_and_check")


def _load(module: str, attribute: str) -> Any:
    return getattr(importlib.import_module(module), attribute)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'xlsx_tools' has no attribute {name!r}")
    value = _load(*_LAZY[name])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def read_workbook(
    path: str | os.PathLike[str] | bytes,
    *,
    previous: Any = None,
    blank_as_zero: bool = False,
    expected_year: int | None = None,
) -> Any:
    """Read one returned workbook (a path, or the file's bytes) and run every check of its format.

    Returns a ReadResult: ``.report`` is the Report (None when the file cannot be read or is not
    one of our templates), ``.findings`` every Finding (file, identity, structure, values, rules,
    narrative), ``.has_errors`` whether any is an error. ``previous`` (last year's Report) adds
    the cross-year rules; ``blank_as_zero`` reads blank input cells as 0 (a warning each);
    ``expected_year`` makes a return of another year an error. Never raises on bad content."""
    read_and_check = _load(*_READ_AND_CHECK)
    return read_and_check(path, previous=previous, blank_as_zero=blank_as_zero,
                          expected_year=expected_year)
