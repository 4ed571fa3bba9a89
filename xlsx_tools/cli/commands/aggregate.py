"""`xlsx-tools aggregate`: the combined figures of several agencies as one report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ...collect.aggregate import OUTPUT_SUFFIXES, AggregateResult
from ...collect.aggregate import aggregate as run_aggregate
from ...format.errors import FormatError
from ...format.spec import DEFAULT_FORMAT, load_format
from ...model.aggregate import AggregateError
from ...util.fsutil import output_clash
from ..console import EXIT_INTERNAL, console, fail
from .paths import require_file, require_not_folder


def _exit_if_internal(result: AggregateResult) -> None:
    internal = result.internal
    if internal:
        console.print(f"[bold red]内部错误：[/]{len(internal)} 个文件因本工具内部出错未能读取（不是文件的问题），未计入汇总；"
                      "请把这些文件发给维护人员：" + "、".join(escape(i.name) for i in internal) + "。", soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL)


def _info_sheet() -> str:
    """The default format's 基本信息 sheet, named in the help."""
    return load_format().info_sheet


def _report_title() -> str:
    """The default format's report title, as an example in the help."""
    return load_format().report_title.format(year=2025)


def register(app: typer.Typer) -> None:
    @app.command("aggregate")
    def aggregate(
        inputs: Annotated[list[Path] | None, typer.Argument(
            metavar="文件或文件夹", help="退回的模板（.xlsx）、导出的报告（.json），或它们所在的文件夹（含 .zip 压缩包），可以多个。",
            show_default=False)] = None,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", metavar="文件", help="输出文件：.xlsx（官方表格格式的工作簿）、.json（报告 JSON）或 .docx（公文格式 Word 报告）。",
            show_default=False)] = None,
        agency: Annotated[str, typer.Option("--agency", "-a", metavar="机关名称", help=f"汇总报告的机关名称，如“XX区人民政府办公室”（写入{_info_sheet()}和开头一段）。",
                                            show_default=False)] = "",
        title: Annotated[str, typer.Option("--title", "-t", metavar="标题", help=(
            f"汇总报告的标题，如“XX区{_report_title()}（汇总）”；不指定时为“机关名称 + {_report_title()}”。"),
            show_default=False)] = "",
        roster: Annotated[Path | None, typer.Option(
            "--roster", "-r", metavar="名单文件", help=(
                "机关名单（CSV）或生成模板时的 manifest.csv：只汇总名单中的机关，并列出计入和未计入的机关（未计入的说明原因）。"),
            show_default=False)] = None,
        year: Annotated[int | None, typer.Option("--year", "-y", metavar="年度", help="报告年度；其他年度的报告不计入。",
                                                 show_default=False)] = None,
        code: Annotated[str, typer.Option("--code", metavar="代码", help="汇总报告的机关代码（可不填）。")] = "",
        include_errors: Annotated[bool, typer.Option(
            "--include-errors", help="有错误的报告也计入汇总（默认不计入）。")] = False,
        password: Annotated[str | None, typer.Option(
            "--password", metavar="密码", help="输出 .xlsx 时的工作表保护密码（默认自动生成并显示）。")] = None,
        jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, metavar="进程数", help="同时读取文件的进程数（默认：CPU 核数）。")] = None,
        format_id: Annotated[str, typer.Option("--format", metavar="格式", help="报告格式（templates/ 中的格式文件名）。")] = DEFAULT_FORMAT,
    ) -> None:
        """把多个机关的报告汇总成一份：各项数字逐项相加（收费金额按小数精确相加），合计项按格式规则重新计算。
        每个机关只计入最新的一份；有错误的报告默认不计入。

        退出码：0 = 已写出汇总；1 = 没有可汇总的报告；2 = 用法错误；4 = 有文件因本工具内部出错未能读取（其余照常汇总，请把这些文件发给维护人员）。"""
        _check_options(inputs, output, agency, year, roster)
        try:
            spec = load_format(format_id)
        except FormatError as e:
            fail(str(e))
        try:
            result = run_aggregate(inputs, output, agency=agency.strip(), year=year, spec=spec, code=code.strip(),
                                   title=title.strip() or None, roster=roster, include_errors=include_errors,
                                   password=password, jobs=jobs or os.cpu_count() or 1)
        except AggregateError as e:
            fail(str(e))
        raise typer.Exit(_render(result))


def _check_options(inputs: list[Path] | None, output: Path | None, agency: str, year: int | None,
                   roster: Path | None) -> None:
    """The usage errors (exit 2) that name the command's options."""
    if not inputs:
        fail("请指定要汇总的文件或文件夹，例如：xlsx-tools aggregate 回收/ -o 汇总.xlsx --agency XX区 --year 2025")
    if output is None:
        fail("请用 -o 指定输出文件（.xlsx、.json 或 .docx）。")
    require_not_folder(output, "输出文件（.xlsx、.json 或 .docx）", "汇总.xlsx")
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        fail(f"输出文件「{output.name}」的扩展名应为 .xlsx、.json 或 .docx。")
    if not agency.strip():
        fail("请用 --agency 指定汇总报告的机关名称，如 --agency XX区人民政府办公室；报告标题另用 --title 指定。")
    if year is None:
        fail("请用 --year 指定报告年度，如 --year 2025。")
    if roster is not None:
        require_file(roster, "名单文件", "manifest.csv 或 机关名单.csv")
    if clash := output_clash([output], [*inputs, *([roster] if roster else [])]):
        fail(clash)


def _render(result: AggregateResult) -> int:
    """Print what aggregate did; returns the exit status."""
    for line in result.lines():
        console.print(line)
    if result.report is None:
        _exit_if_internal(result)
        console.print("[bold red]没有可汇总的报告[/]：请检查年度（--year）和文件；有错误的报告需加 --include-errors 才计入。")
        return 1
    for line in result.blank_lines():
        console.print(escape(line), soft_wrap=True)
    for f in result.rule_findings:
        console.print(f"[yellow]注意：[/]汇总数据不符合规则：{f.message}")
    if result.write_error:
        fail(result.write_error, code=result.write_status)
    output = result.output
    console.print(f"已写入 {output}（{len(result.selection.used)} 份报告的合计）。")
    if output.suffix.lower() == ".xlsx":
        console.print(f"工作表保护密码：{result.password}")
    if output.suffix.lower() == ".docx":
        console.print(result.narrative_note())
    _exit_if_internal(result)
    return 0
