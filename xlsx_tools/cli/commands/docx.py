"""`xlsx-tools docx`: a returned workbook (or a Report JSON) as the published Word report.

Exit status: 0 written; 1 the report has errors (nothing written unless --force) or the workbook
cannot be read; 2 bad input or options; 3 the .docx was written but the PDF could not be made;
4 a bug of ours kept the workbook from being read (console.EXIT_INTERNAL).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from ...format.spec import FormatError, FormatSpec
from ...model.findings import SEVERITY_LABELS, Finding, count, sort_key
from ...model.report import Report
from ...read.reader import KIND_INTERNAL, ReadResult, read_and_check
from ...util.fsutil import os_error_text, output_clash
from ..console import EXIT_INTERNAL, console, err_console, fail
from ..render import finding_location, ordered, render_result
from .paths import require_file

EXIT_FINDINGS = 1
EXIT_PDF = 3
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def register(app: typer.Typer) -> None:
    @app.command("docx")
    def docx_command(
        source: Annotated[Path, typer.Argument(metavar="文件", help="回收的填报表（.xlsx）或报告 JSON（.json）。")],
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", metavar="文件或文件夹", help="输出的 .docx 文件或文件夹（默认：输入文件旁）。"),
        ] = None,
        narrative: Annotated[
            Path | None,
            typer.Option("--narrative", metavar="文件", help="文字材料 .docx/.md/.txt，替换同名部分的文字。"),
        ] = None,
        signature: Annotated[bool, typer.Option("--signature", help="正文后加署名和成文日期。")] = False,
        date: Annotated[
            str | None, typer.Option("--date", metavar="日期", help="成文日期，如 2022年1月20日。")
        ] = None,
        pdf: Annotated[bool, typer.Option("--pdf", help="同时用 LibreOffice 生成 PDF。")] = False,
        force: Annotated[bool, typer.Option("--force", help="有错误也生成（错误只列出）。")] = False,
    ) -> None:
        """生成公文格式（GB/T 9704）的 Word 年度报告，可选同时生成 PDF。

        报告有错误时不生成（退出码 1），除非加 --force；--narrative 文字材料中“一、总体情况”等标题下的文字替换报告相应部分。
        """
        raise typer.Exit(make_docx(
            source, output=output, narrative=narrative, signature=signature, date=date, pdf=pdf,
            force=force,
        ))


def make_docx(source: Path, *, output: Path | None = None, narrative: Path | None = None,
              signature: bool = False, date: str | None = None, pdf: bool = False,
              force: bool = False, out: Console = console) -> int:
    """The command without typer: returns the exit status (fail() raises typer.Exit(2))."""
    from ...write import docx_report

    if date is not None:
        try:
            docx_report.parse_date(date)
        except ValueError as e:
            fail(str(e))
    require_file(source, "文件", "某某局.xlsx 或 某某局.json")
    if narrative is not None:
        require_file(narrative, "文字材料文件", "文字材料.docx")
    report, findings, read = _load(source, out)
    if report is None:
        return EXIT_INTERNAL if read is not None and read.kind == KIND_INTERNAL else EXIT_FINDINGS
    spec = report.spec
    from ...read.narrative import strip_report_controls

    for note in strip_report_controls(report, source.name):  # a hand-edited JSON
        out.print(f"[dim]说明：{note}[/]", soft_wrap=True)

    if narrative is not None:
        from ...read.narrative import NarrativeError, read_narrative

        try:
            text = read_narrative(narrative, spec=spec)
        except NarrativeError as e:
            fail(str(e))
        report.narrative.update(text.sections)
        for note in text.notes:
            out.print(f"[dim]说明：{note}[/]", soft_wrap=True)
        findings = _recheck_narrative(report, spec, findings)

    findings = _narrative_advice(findings, from_json=read is None, spec=spec)
    findings.sort(key=sort_key)

    errors, warnings = count(findings)
    if read is not None:
        render_result(out, dataclasses.replace(read, findings=findings))
    elif findings:
        render_findings(findings, out, title=f"{source.name}：{errors} 个错误，{warnings} 个警告", spec=spec)
    if errors and not force:
        err_console.print(
            f"[bold red]未生成 Word 文件：[/]报告有 {errors} 个错误，请改正后重试；"
            "确需先生成文档的，可加 --force（错误不会标在文档中）。"
        )
        return EXIT_FINDINGS

    target = _target(source, output, report, spec)
    if clash := output_clash([target], [source, narrative]):
        fail(clash)
    try:
        docx_report.write_docx(report, target, spec=spec, signature=signature, date=date, strict=False)
    except OSError as e:
        fail(f"无法写入「{target}」：{os_error_text(e)}", code=1)  # as template, export, aggregate
    except ValueError as e:  # a 成文日期 in 基本信息 that is not a date
        fail(str(e))
    note = "（报告有错误，已按 --force 生成）" if errors else ""
    out.print(f"已生成 Word 报告：{target}{note}", soft_wrap=True)
    if pdf:
        return _pdf(target, out)
    return 0


def render_findings(findings: Sequence[Finding], out: Console, *, title: str | None = None,
                    spec: FormatSpec | None = None) -> None:
    """级别 / 位置 / 说明, one row per finding, as `check` shows a workbook's findings."""
    table = RichTable(title=escape(title) if title else None, show_lines=True, expand=True)
    table.add_column("级别", no_wrap=True, min_width=4)
    table.add_column("位置", overflow="fold", ratio=1, min_width=12)
    table.add_column("说明", overflow="fold", ratio=3)
    for f in ordered(findings):
        level = SEVERITY_LABELS.get(f.severity, f.severity)
        style = "red" if f.is_error else "yellow"
        table.add_row(f"[{style}]{level}[/]", escape(finding_location(f, spec)), escape(f.message))
    out.print(table)


def _load(source: Path, out: Console) -> tuple[Report | None, list[Finding], ReadResult | None]:
    """The report and its findings; the ReadResult too for a workbook."""
    suffix = source.suffix.lower()
    if suffix == ".json":
        try:
            report = Report.load(source)
        except (ValueError, KeyError, TypeError, FormatError) as e:
            fail(f"无法读取报告 JSON「{source.name}」：{e}。请使用本工具导出的 JSON 文件。")
        except OSError as e:
            fail(f"无法读取「{source}」：{os_error_text(e)}")
        return report, _check(report), None
    if suffix in WORKBOOK_SUFFIXES:
        result = read_and_check(source)
        if result.report is None:
            render_result(out, result)
            err_console.print(f"[bold red]未生成 Word 文件：[/]无法读取「{escape(source.name)}」，原因见上表。")
            return None, list(result.findings), result
        return result.report, list(result.findings), result
    fail(f"不支持的文件类型「{source.suffix or source.name}」：请提供回收的填报表（.xlsx）或报告 JSON（.json）。")
    raise AssertionError  # fail() never returns


def _check(report: Report) -> list[Finding]:
    from ...checks import check_report

    return check_report(report)


def _recheck_narrative(report: Report, spec: FormatSpec, findings: Iterable[Finding]) -> list[Finding]:
    """Replace the findings about the narrative with those about the new text."""
    from ...checks import check_report

    codes = {"NARRATIVE_EMPTY"} | {tc.code for tc in spec.text_checks}
    kept = [f for f in findings if f.code not in codes]
    return kept + [f for f in check_report(report, spec=spec, values=False) if f.code in codes]


def _narrative_advice(findings: list[Finding], *, from_json: bool, spec: FormatSpec) -> list[Finding]:
    """An empty required section, said the docx way: --narrative is a way out here, and a report
    JSON (an aggregate's, say) has no 「文字部分」 sheet to fill in."""
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


def _target(source: Path, output: Path | None, report: Report, spec: FormatSpec) -> Path:
    from ...write.docx_report import default_filename

    name = default_filename(report, spec)
    if output is None:
        return source.parent / name
    if output.is_dir() or not output.suffix:
        return output / name
    if output.suffix.lower() != ".docx":
        hint = "；要同时生成 PDF，请把 -o 改为 .docx 文件并加 --pdf" if output.suffix.lower() == ".pdf" else ""
        fail(f"输出文件应以 .docx 结尾：{output}{hint}。")
    return output


def _pdf(docx_path: Path, out: Console) -> int:
    from ...write import office

    try:
        pdf = office.convert(docx_path, "pdf", docx_path.parent)
    except office.OfficeUnavailable as e:
        err_console.print(f"[bold red]未生成 PDF：[/]{e}（Word 文件已生成。）")
        return EXIT_PDF
    except office.OfficeError as e:
        err_console.print(f"[bold red]未生成 PDF：[/]{e}（Word 文件已生成。）")
        return EXIT_PDF
    out.print(f"已生成 PDF：{pdf}", soft_wrap=True)
    return 0
