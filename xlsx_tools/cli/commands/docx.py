"""`xlsx-tools docx`: a returned workbook (or a Report JSON) as the published Word report.

Exit status: 0 written; 1 the report has errors (nothing written unless --force) or the workbook
cannot be read; 2 bad input or options; 3 the .docx was written but the PDF could not be made;
4 a bug of ours kept the workbook from being read (console.EXIT_INTERNAL).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from ...format.spec import FormatSpec, load_format
from ...model.findings import SEVERITY_LABELS, Finding
from ...write.docx_from_file import DocxError, DocxResult, check_date, docx_from_file
from ..console import console, err_console, fail
from ..render import finding_location, ordered, render_result
from .paths import require_file


def register(app: typer.Typer) -> None:
    first = load_format().narrative_sections[0].heading  # the default format's words, as an example

    @app.command("docx", help=(
        "生成公文格式（GB/T 9704）的 Word 年度报告，可选同时生成 PDF。\n\n"
        f"报告有错误时不生成（退出码 1），除非加 --force；--narrative 文字材料中“{first}”等标题下的文字替换报告相应部分。"))
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
        raise typer.Exit(make_docx(
            source, output=output, narrative=narrative, signature=signature, date=date, pdf=pdf,
            force=force,
        ))


def make_docx(source: Path, *, output: Path | None = None, narrative: Path | None = None,
              signature: bool = False, date: str | None = None, pdf: bool = False,
              force: bool = False, out: Console = console) -> int:
    """The command without typer: returns the exit status (fail() raises typer.Exit(2))."""
    try:
        check_date(date)
    except DocxError as e:
        fail(str(e))
    require_file(source, "文件", "某某局.xlsx 或 某某局.json")
    if narrative is not None:
        require_file(narrative, "文字材料文件", "文字材料.docx")

    def note(text: str) -> None:
        out.print(f"[dim]说明：{text}[/]", soft_wrap=True)

    try:
        result = docx_from_file(source, output=output, narrative=narrative, signature=signature, date=date,
                                pdf=pdf, force=force, note=note)
    except DocxError as e:
        fail(str(e))
    return _render(result, out)


def _render(result: DocxResult, out: Console) -> int:
    """Print the findings and what was written; returns the exit status."""
    source = result.source
    if result.unreadable:
        render_result(out, result.read)
        err_console.print(f"[bold red]未生成 Word 文件：[/]无法读取「{escape(source.name)}」，原因见上表。")
        return result.exit_status
    errors, warnings = result.counts
    if result.read is not None:
        render_result(out, dataclasses.replace(result.read, findings=result.findings))
    elif result.findings:
        render_findings(result.findings, out, title=f"{source.name}：{errors} 个错误，{warnings} 个警告",
                        spec=result.report.spec)
    if result.error:
        fail(result.error, code=result.status)
    if result.written is None:
        err_console.print(
            f"[bold red]未生成 Word 文件：[/]报告有 {errors} 个错误，请改正后重试；"
            "确需先生成文档的，可加 --force（错误不会标在文档中）。"
        )
        return result.exit_status
    note = "（报告有错误，已按 --force 生成）" if errors else ""
    out.print(f"已生成 Word 报告：{result.written}{note}", soft_wrap=True)
    if result.pdf_error:
        err_console.print(f"[bold red]未生成 PDF：[/]{result.pdf_error}（Word 文件已生成。）")
    elif result.pdf is not None:
        out.print(f"已生成 PDF：{result.pdf}", soft_wrap=True)
    return result.exit_status


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


