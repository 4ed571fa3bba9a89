"""`docx` as one library call: a returned workbook (or a Report JSON) read and checked, its
narrative replaced from a text file if one is given, the findings said the docx way, and the
published Word report written (and converted to PDF) unless the report has errors.

The command (cli/commands/docx.py) checks its options, calls `docx_from_file` and prints the
result; nothing here prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import check_report
from ..format.errors import FormatError
from ..format.spec import FormatSpec
from ..model.findings import Finding, count, sort_key
from ..model.report import Report
from ..read.narrative import NarrativeError, read_narrative, strip_report_controls
from ..read.reader import KIND_INTERNAL, ReadResult, read_and_check
from ..util.fsutil import os_error_text, output_clash
from . import office
from .docx_report import default_filename, parse_date, write_docx

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

# exit statuses (README): 1 the report has errors or cannot be read; 2 bad input or options;
# 3 the .docx was written but not the PDF; 4 a bug of ours kept the workbook from being read
USAGE, FINDINGS, PDF_FAILED, INTERNAL = 2, 1, 3, 4


class DocxError(ValueError):
    """Bad input or options, found before any finding is shown (Chinese; exit status 2)."""


@dataclass
class DocxResult:
    """What `docx_from_file` did. `error` (with `status`) is a problem found after the findings:
    the output cannot be chosen or written; `pdf_error` leaves the .docx written."""

    source: Path
    report: Report | None = None
    read: ReadResult | None = None  # for a workbook: what the reader said
    findings: list[Finding] = field(default_factory=list)  # sorted, said the docx way
    written: Path | None = None
    pdf: Path | None = None
    pdf_error: str = ""
    error: str = ""
    status: int = 0

    @property
    def unreadable(self) -> bool:
        """A workbook the reader could not make a report of (its findings say why)."""
        return self.report is None

    @property
    def counts(self) -> tuple[int, int]:
        """(errors, warnings)."""
        return count(self.findings)

    @property
    def exit_status(self) -> int:
        if self.unreadable:
            return INTERNAL if self.read is not None and self.read.kind == KIND_INTERNAL else FINDINGS
        if self.error:
            return self.status
        if self.written is None:
            return FINDINGS
        return PDF_FAILED if self.pdf_error else 0


def check_date(date: str | None) -> None:
    """DocxError for a 成文日期 that is not a date (said before anything is read)."""
    if date is None:
        return
    try:
        parse_date(date)
    except ValueError as e:
        raise DocxError(str(e)) from None


def docx_from_file(source: str | Path, *, output: str | Path | None = None, narrative: str | Path | None = None,
                   signature: bool = False, date: str | None = None, pdf: bool = False, force: bool = False,
                   note: Callable[[str], None] = lambda _: None) -> DocxResult:
    """Read and check `source` (.xlsx/.xlsm or Report .json), replace its narrative sections from
    `narrative` (.docx/.md/.txt) and write the Word report to `output` (a .docx, or a folder; by
    default beside `source`) unless it has errors (`force` writes it anyway); `pdf` converts it with
    LibreOffice. `note` receives each remark (Chinese) on the input as it is made (controls
    removed from a hand-edited JSON, parts of the narrative file not used).

    DocxError for what stops it before any finding is shown: a JSON that is not a report, a
    file type that is not supported, a narrative file that cannot be used."""
    source = Path(source)
    check_date(date)
    result = DocxResult(source=source)
    report, findings, result.read = _load(source)
    if report is None:
        result.findings = findings
        return result
    spec = report.spec
    for text in strip_report_controls(report, source.name):  # a hand-edited JSON
        note(text)
    if narrative is not None:
        try:
            text = read_narrative(narrative, spec=spec)
        except NarrativeError as e:
            raise DocxError(str(e)) from None
        report.narrative.update(text.sections)
        for remark in text.notes:
            note(remark)
        findings = _recheck_narrative(report, spec, findings)
    findings = _narrative_advice(findings, from_json=result.read is None, spec=spec)
    findings.sort(key=sort_key)
    result.report, result.findings = report, findings
    if result.counts[0] and not force:
        return result
    _write(result, output, narrative, signature=signature, date=date, pdf=pdf)
    return result


def _load(source: Path) -> tuple[Report | None, list[Finding], ReadResult | None]:
    """The report and its findings; the ReadResult too for a workbook."""
    suffix = source.suffix.lower()
    if suffix == ".json":
        try:
            report = Report.load(source)
        except (ValueError, KeyError, TypeError, FormatError) as e:
            raise DocxError(f"无法读取报告 JSON「{source.name}」：{e}。请使用本工具导出的 JSON 文件。") from None
        except OSError as e:
            raise DocxError(f"无法读取「{source}」：{os_error_text(e)}") from None
        return report, check_report(report), None
    if suffix in WORKBOOK_SUFFIXES:
        read = read_and_check(source)
        return read.report, list(read.findings), read
    raise DocxError(f"不支持的文件类型「{source.suffix or source.name}」：请提供回收的填报表（.xlsx）或报告 JSON（.json）。")


def _recheck_narrative(report: Report, spec: FormatSpec, findings: Iterable[Finding]) -> list[Finding]:
    """Replace the findings about the narrative with those about the new text."""
    codes = {"NARRATIVE_EMPTY"} | {tc.code for tc in spec.text_checks}
    kept = [f for f in findings if f.code not in codes]
    return kept + [f for f in check_report(report, spec=spec, values=False) if f.code in codes]


def _narrative_advice(findings: list[Finding], *, from_json: bool, spec: FormatSpec) -> list[Finding]:
    """An empty required section, said the docx way: --narrative is a way out here, and a report
    JSON (an aggregate's, say) has no narrative sheet to fill in."""
    sheet_advice = f"请在「{spec.narrative_sheet}」工作表中补充。"
    out = []
    for f in findings:
        if f.code == "NARRATIVE_EMPTY" and f.message.endswith(sheet_advice):
            head = f.message[: -len(sheet_advice)]
            if from_json:
                f = dataclasses.replace(f, message=head + "请用 --narrative 提供这一部分的文字（Word、Markdown 或纯文本文件）。",
                                        cells=(), labels=())
            else:
                f = dataclasses.replace(f, message=head + sheet_advice.rstrip("。") + "，或用 --narrative 提供文字。")
        out.append(f)
    return out


def _write(result: DocxResult, output: str | Path | None, narrative: str | Path | None, *, signature: bool,
           date: str | None, pdf: bool) -> None:
    """Write the .docx (and the PDF) of result.report; problems go to result.error / pdf_error."""
    report = result.report
    assert report is not None
    target = _target(result.source, Path(output) if output is not None else None, report, report.spec)
    if isinstance(target, str):
        result.error, result.status = target, USAGE
        return
    if clash := output_clash([target], [result.source, Path(narrative) if narrative is not None else None]):
        result.error, result.status = clash, USAGE
        return
    try:
        result.written = write_docx(report, target, spec=report.spec, signature=signature, date=date, strict=False)
    except OSError as e:
        result.error, result.status = f"无法写入「{target}」：{os_error_text(e)}", FINDINGS  # as template, export, aggregate
        return
    except ValueError as e:  # a 成文日期 in 基本信息 that is not a date
        result.error, result.status = str(e), USAGE
        return
    if pdf:
        try:
            result.pdf = office.convert(target, "pdf", target.parent)
        except office.OfficeError as e:  # OfficeUnavailable included
            result.pdf_error = str(e)


def _target(source: Path, output: Path | None, report: Report, spec: FormatSpec) -> Path | str:
    """Where the .docx goes, or why `output` cannot be it (Chinese)."""
    name = default_filename(report, spec)
    if output is None:
        return source.parent / name
    if output.is_dir() or not output.suffix:
        return output / name
    if output.suffix.lower() != ".docx":
        hint = "；要同时生成 PDF，请把 -o 改为 .docx 文件并加 --pdf" if output.suffix.lower() == ".pdf" else ""
        return f"输出文件应以 .docx 结尾：{output}{hint}。"
    return output
