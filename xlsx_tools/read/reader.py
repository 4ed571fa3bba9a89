"""Read a returned workbook back into a Report, with findings about everything that is wrong with
it: what the file is, whose and which year's it is, what was done to the template (sheets, names,
labels, rows, protection, formulas), and every input value that is blank or not a number.

The reader parses only the parts it needs (workbook.xml, its rels, sharedStrings, styles, the sheets
of the format, docProps) with lxml (read/ooxml.py: no document type, bounded work) after `intake` has vetted the
container; it never loads the workbook through openpyxl and never writes to its input. Cells are
found by their defined names, with the spec's coordinates and the printed labels as cross-checks.
Cached formula results are never trusted: computed cells are recomputed from the inputs.

This module is the orchestration and the public API; the steps live beside it:
  intake (the container), ooxml + parts (the XML parts as plain data), workbook (one workbook's
  parts and findings), identity, layout + structure (sheets, names, labels, protection), values
  (input figures and text cells), formulas + computed (the computed cells).

Finding codes (see also intake and checks):
  identity   NOT_OUR_TEMPLATE, OTHER_FORMAT, OTHER_YEAR, OTHER_AGENCY (errors), TEMPLATE_CHANGED (warning)
  structure  SHEET_MISSING (error for a data sheet, warning otherwise), SHEET_RENAMED, SHEET_ADDED,
             NAME_MISSING, NAME_MOVED, PROTECTION_REMOVED (warnings), LABEL_CHANGED, ROWS_SHIFTED (errors)
  formulas   FORMULA_OVERWRITTEN, FORMULA_CHANGED (errors), CACHED_MISMATCH (warning)
  values     BLANK (error; warning with blank_as_zero), NOT_A_NUMBER, NEGATIVE, NUMBER_TOO_LARGE, NOT_INTEGER,
             TOO_MANY_DECIMALS, TOO_MANY_DIGITS (errors), TEXT_NUMBER, INPUT_FORMULA (warnings)

ReadResult.kind: "ok" (a Report was read; it may still have findings), "unreadable" (not a
workbook we can parse: intake refused it or its XML is broken; report is None), "foreign" (a
workbook, but not this office's template: not ours or another format — report is None — or ours
for another year or agency — report is filled in so that it can still be inspected), "internal"
(a bug of ours stopped the reading: one INTERNAL_ERROR finding, never blamed on the file).
"""

from __future__ import annotations

import traceback
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from ..checks import check_report
from ..model.findings import ERROR, Finding
from ..model.report import Agency, Provenance, Report
from ..util import fsutil
from ..util.fsutil import os_error_text, regular_file_problem
from .computed import check_formulas
from .formulas import formula_terms
from .identity import expected_identity, read_identity, spec_for
from .intake import DEFAULT_LIMITS, IntakeError, Limits, open_source, unreadable
from .layout import layout
from .ooxml import TooMuchWork, UnsafeXml
from .safezip import MemberTooLarge
from .structure import locations, map_sheets, protection
from .values import contact, input_values, narrative, parse_text_number
from .workbook import Workbook

KIND_OK = "ok"
KIND_UNREADABLE = "unreadable"
KIND_FOREIGN = "foreign"
KIND_INTERNAL = "internal"
INTERNAL_NOTE = "这不是文件的问题，此文件未能检查。请把此文件发给维护人员"


@dataclass
class ReadResult:
    source: str  # display name (path, or "archive.zip!inner/file.xlsx")
    sha256: str
    report: Report | None  # None when unreadable / not ours
    findings: list[Finding]
    identity: dict[str, str]  # what the workbook says it is (meta.KEYS)
    kind: str  # KIND_OK | KIND_UNREADABLE | KIND_FOREIGN
    saved_at: str | None = None  # docProps/core.xml dcterms:modified
    application: str | None = None  # docProps/app.xml Application

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)

    @property
    def agency(self) -> str:
        return self.report.agency.name if self.report else self.identity.get("agency", "")

    @property
    def year(self) -> int | None:
        if self.report:
            return self.report.year
        try:
            return int(self.identity.get("year", ""))
        except ValueError:
            return None


def _read(wb: Workbook, expected_year: int | None, expected_agency: str | None) -> ReadResult:
    """The steps of reading one accepted workbook, in order."""
    intake = wb.intake
    wb.open()
    custom = wb.props("docProps/custom.xml", ("property",))
    app = wb.props("docProps/app.xml", ("Application", "AppVersion"))
    core = wb.props("docProps/core.xml", ("modified", "created"))
    application = app.get("Application") or None
    saved_at = core.get("modified") or core.get("created") or None

    identity = read_identity(wb, custom)
    result = ReadResult(
        source=intake.name, sha256=intake.sha256, report=None, findings=wb.findings, identity=identity,
        kind=KIND_FOREIGN, saved_at=saved_at, application=application,
    )
    spec = spec_for(wb, identity)
    if spec is None:
        return result
    idx = layout(spec)
    checked = expected_identity(wb, spec, identity, idx.fingerprint, expected_year, expected_agency)
    if checked is None:
        return result
    year, expected = checked

    sheet_map = wb.sheet_map = map_sheets(wb, idx)
    locate = locations(wb, idx, sheet_map)
    inputs = input_values(wb, spec, locate)
    figures = spec.compute(inputs)
    check_formulas(wb, idx, locate, figures)
    protection(wb, idx, sheet_map)
    result.report = Report(
        format=spec.id, agency=Agency(identity.get("agency", ""), identity.get("code", "")), year=year,
        contact=contact(wb, spec), figures=figures, narrative=narrative(wb, spec),
        provenance=Provenance(
            source=fsutil.printable(intake.name), sha256=intake.sha256, application=application,
            app_version=app.get("AppVersion") or None, saved_at=saved_at,
            template_fingerprint=identity.get("fingerprint") or None,
            template_version=identity.get("generator_version") or None,
        ),
    )
    result.kind = KIND_OK if expected else KIND_FOREIGN
    return result


# ---------------------------------------------------------------------------------------------
# Public API


def read_workbook(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    blank_as_zero: bool = False,
    expected_year: int | None = None,
    expected_agency: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ReadResult:
    """Read a returned workbook: the Report it holds and findings about the file, its identity,
    its structure and its values (not the rules between values: see read_and_check).

    `source` is a path or the file's bytes (`name` is then the display name, e.g.
    "archive.zip!inner/file.xlsx"). Never raises on bad content and never modifies the input."""
    intake = open_source(source, name, limits=limits)
    if not intake.ok:
        return ReadResult(
            source=intake.name, sha256=intake.sha256, report=None,
            findings=[intake.finding] if intake.finding else [], identity={}, kind=KIND_UNREADABLE,
        )
    wb = Workbook(intake, blank_as_zero)
    try:
        return _read(wb, expected_year, expected_agency)
    except IntakeError as e:
        return ReadResult(source=intake.name, sha256=intake.sha256, report=None, findings=[e.finding],
                          identity={}, kind=KIND_UNREADABLE)
    except RecursionError:
        why, reason = "文件结构嵌套过深", "xml"
    except FORMAT_ERRORS:
        # The file is malformed in a way no check above anticipated (parts are vetted by
        # intake.parse_part, so the tests' mutated parts never reach this line).
        why, reason = "文件内容不符合 Excel 格式", "format"
    except OSError as e:
        why, reason = f"读取文件时出错（{os_error_text(e)}）", "io"
    except Exception as e:  # a bug of ours: never blamed on the agency's file
        return internal_result(intake.name, intake.sha256, e)
    finally:
        if intake.zip is not None:
            intake.zip.close()
    return ReadResult(source=intake.name, sha256=intake.sha256, report=None,
                      findings=[unreadable(intake.name, why, reason)], identity={}, kind=KIND_UNREADABLE)


# What a malformed file can make the parsing raise, besides the IntakeError of intake.parse_part:
# anything else is a bug of ours.
FORMAT_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, etree.LxmlError, UnsafeXml, TooMuchWork,
                 MemberTooLarge, UnicodeDecodeError, NotImplementedError)


def internal_error(name: str, e: BaseException) -> Finding:
    """INTERNAL_ERROR: the tool failed on this file. The message says so in Chinese and asks for
    the file; `values` keep what a maintainer needs (exception type, text and where it was raised)."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return Finding(
        code="INTERNAL_ERROR", severity=ERROR,
        message=f"「{name}」读取或检查时本工具内部出错（{INTERNAL_NOTE}）。",
        values={"exception": type(e).__name__, "detail": str(e)[:500], "where": where},
    )


def internal_result(name: str, sha256: str, e: BaseException) -> ReadResult:
    return ReadResult(source=name, sha256=sha256, report=None, findings=[internal_error(name, e)], identity={},
                      kind=KIND_INTERNAL)


def read_and_check(source: str | Path | bytes, *, previous: Report | None = None, **kw: Any) -> ReadResult:
    """read_workbook plus every check of the format (rules, narrative, text against tables);
    `previous` (last year's Report) adds the cross-year rules."""
    result = read_workbook(source, **kw)
    if result.report is not None:
        try:
            result.findings.extend(check_report(result.report, previous=previous, values=False))
        except Exception as e:  # a bug of ours in the checks: this file's result, not a traceback
            return internal_result(result.source, result.sha256, e)
    return result


class PreviousError(ValueError):
    """Last year's report cannot be used (the message is Chinese)."""


def load_previous(path: str | Path) -> Report:
    """Last year's Report, from its returned workbook (.xlsx, through the reader) or a JSON export."""
    path = Path(path)
    if path.is_dir():
        raise PreviousError(f"上一年度报告「{path}」是文件夹，请指定其中一个机关的文件（.xlsx 或 .json）。")
    problem = regular_file_problem(path)
    if problem is not None:  # a FIFO: reading it would wait forever
        raise PreviousError(f"上一年度报告「{path}」{problem}，无法读取。请指定保存在磁盘上的 .xlsx 或 .json 文件。")
    if not path.is_file():
        raise PreviousError(f"找不到上一年度报告文件：{path}")
    if path.suffix.lower() == ".json":
        try:
            report = Report.load(path)
        except (OSError, UnicodeDecodeError) as e:
            raise PreviousError(f"无法读取上一年度报告 {path}：{e}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise PreviousError(f"上一年度报告 {path} 不是本工具导出的 JSON：{e}") from None
    else:
        result = read_workbook(path)
        if result.report is None:
            why = "；".join(f.message for f in result.findings if f.is_error) or "无法读取"
            raise PreviousError(f"无法使用上一年度报告 {path}：{why}")
        report = result.report
    if all(report.figures.get(f.id) is None for f in report.spec.input_fields):
        # every cross-year rule would be skipped without a word: say so instead
        raise PreviousError(f"上一年度报告 {path}（「{report.agency.name}」{report.year} 年度）中没有填写任何数字，"
                            "可能是空白模板。请使用该机关上一年度填好交回的文件或导出的 JSON。")
    return report


__all__ = [
    "KIND_FOREIGN", "KIND_OK", "KIND_UNREADABLE", "PreviousError", "ReadResult", "formula_terms",
    "load_previous", "parse_text_number", "read_and_check", "read_workbook",
]
