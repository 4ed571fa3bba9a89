"""`xlsx-tools export`: a returned workbook as Report JSON, with the findings of the full check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ...model.findings import count, ordered
from ...read.reader import KIND_INTERNAL, read_and_check
from ...util.fsutil import atomic_write_text, os_error_text, output_clash
from ..console import EXIT_INTERNAL, console, err_console, fail
from ..render import render_result


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        file: Annotated[Path | None, typer.Argument(metavar="文件", help="年报工作簿（.xlsx）。", show_default=False)] = None,
        output_arg: Annotated[str | None, typer.Option(
            "--output", "-o", metavar="文件或文件夹",
            help="输出的 JSON 文件，或文件夹（已有的，或以 / 结尾时自动创建），文件名为“工作簿名.json”；不指定则输出到屏幕。")] = None,
        blank_as_zero: Annotated[
            bool, typer.Option("--blank-as-zero", help="空白的填写单元格按 0 处理（警告）。")
        ] = False,
    ) -> None:
        """把年报工作簿导出为 JSON（机关、年度、联系方式、文字部分、全部数字及其表头），附校验发现的问题（findings）。

        文件无法读取或不是本模板时退出码为 1；用法错误为 2；本工具内部出错（请把文件发给维护人员）为 4。"""
        if file is None:
            fail("请指定要导出的工作簿，例如：xlsx-tools export 某某局.xlsx -o 某某局.json")
        if file.is_dir():
            fail(f"「{file}」是文件夹。请指定要导出的工作簿，例如：xlsx-tools export 某某局.xlsx -o 某某局.json")
        if not file.exists():
            fail(f"找不到文件「{file}」，请检查文件名和路径。")
        output = None if output_arg is None else Path(output_arg)
        if output is not None and (output.is_dir() or output_arg.endswith(("/", "\\"))):
            output = output / f"{file.stem}.json"  # a folder: "-o 导出/" need not exist yet
        if output is not None and (clash := output_clash([output], [file])):
            fail(clash)
        result = read_and_check(file, blank_as_zero=blank_as_zero)
        if result.report is None:
            render_result(err_console, result)
            raise typer.Exit(EXIT_INTERNAL if result.kind == KIND_INTERNAL else 1)
        text = result.report.to_json(extra={"findings": [f.to_dict() for f in ordered(result.findings)]})
        if output is None:
            typer.echo(text)
            return
        try:
            atomic_write_text(output, text + "\n")
        except OSError as e:
            fail(f"无法写入「{output}」：{os_error_text(e)}", code=1)
        errors, warnings = count(result.findings)
        console.print(f"已导出「{result.agency}」{result.year} 年度报告到 {output}（错误 {errors} 个，警告 {warnings} 个）。")
