"""`xlsx-tools aggregate`: the combined figures of several agencies as one report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ...util.fsutil import os_error_text, output_clash
from ..console import EXIT_INTERNAL, console, fail
from .paths import require_file, require_not_folder


def _exit_if_internal(read) -> None:
    internal = [i for i in read if i.internal]
    if internal:
        console.print(f"[bold red]内部错误：[/]{len(internal)} 个文件因本工具内部出错未能读取（不是文件的问题），未计入汇总；"
                      "请把这些文件发给维护人员：" + "、".join(escape(i.name) for i in internal) + "。", soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL)


def register(app: typer.Typer) -> None:
    @app.command("aggregate")
    def aggregate(
        inputs: Annotated[list[Path] | None, typer.Argument(
            metavar="文件或文件夹", help="退回的模板（.xlsx）、导出的报告（.json），或它们所在的文件夹（含 .zip 压缩包），可以多个。",
            show_default=False)] = None,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", metavar="文件", help="输出文件：.xlsx（官方表格格式的工作簿）、.json（报告 JSON）或 .docx（公文格式 Word 报告）。",
            show_default=False)] = None,
        agency: Annotated[str, typer.Option("--agency", "-a", metavar="机关名称", help="汇总报告的机关名称，如“XX区人民政府办公室”（写入基本信息和开头一段）。",
                                            show_default=False)] = "",
        title: Annotated[str, typer.Option("--title", "-t", metavar="标题", help=(
            "汇总报告的标题，如“XX区2025年政府信息公开工作年度报告（汇总）”；不指定时为“机关名称 + 2025年政府信息公开工作年度报告”。"),
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
    ) -> None:
        """把多个机关的报告汇总成一份：各项数字逐项相加（收费金额按小数精确相加），合计项按格式规则重新计算。
        每个机关只计入最新的一份；有错误的报告默认不计入。

        退出码：0 = 已写出汇总；1 = 没有可汇总的报告；2 = 用法错误；4 = 有文件因本工具内部出错未能读取（其余照常汇总，请把这些文件发给维护人员）。"""
        import os

        from ...checks import check_rules
        from ...collect.aggregate import (
            OUTPUT_SUFFIXES,
            AggregateError,
            Aggregator,
            describe,
            describe_blanks,
            read_inputs,
            select,
            write_aggregate,
        )
        from ...format.spec import load_format
        from ...write.template import TemplateError, generate_password

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
        spec = load_format()
        rows = None
        if roster is not None:
            from ...read.roster import RosterError, read_roster

            try:
                rows = read_roster(roster, spec)
            except RosterError as e:
                fail(str(e))
        try:
            read = list(read_inputs(inputs, jobs=jobs or os.cpu_count() or 1))
        except AggregateError as e:
            fail(str(e))
        selection = select(read, year=year, format_id=spec.id, include_errors=include_errors)
        scope = None
        if rows is not None:
            from ...collect.aggregate_scope import limit_to_roster

            scope = limit_to_roster(selection, rows, roster.name)
        for line in describe(selection):
            console.print(line)
        for line in scope.lines() if scope is not None else ():
            console.print(line)
        if not selection.used:
            _exit_if_internal(read)
            console.print("[bold red]没有可汇总的报告[/]：请检查年度（--year）和文件；有错误的报告需加 --include-errors 才计入。")
            raise typer.Exit(1)
        totals = Aggregator(spec)
        for inp in selection.used:
            inp.blanks = totals.add(inp.figures or {})
        for line in describe_blanks(selection.used):
            console.print(escape(line), soft_wrap=True)
        report = totals.report(agency.strip(), year, code.strip())
        for f in check_rules(spec, report.figures):
            console.print(f"[yellow]注意：[/]汇总数据不符合规则：{f.message}")
        if output.suffix.lower() == ".xlsx" and password is None:
            password = generate_password()
        try:
            write_aggregate(report, output, password=password, sources=selection.used, spec=spec,
                            title=title.strip() or None, extra_fields=scope.as_json() if scope is not None else None)
        except (AggregateError, TemplateError) as e:
            fail(str(e))
        except OSError as e:
            fail(f"写入「{output}」失败：{os_error_text(e)}。", code=1)
        console.print(f"已写入 {output}（{len(selection.used)} 份报告的合计）。")
        if output.suffix.lower() == ".xlsx":
            console.print(f"工作表保护密码：{password}")
        if output.suffix.lower() == ".docx":
            console.print("汇总报告的文字部分（第一、五、六部分）为空，请在 Word 中补写。")
        _exit_if_internal(read)
        raise typer.Exit(0)
