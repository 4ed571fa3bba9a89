"""`xlsx-tools check`: read returned workbooks and check them against the format's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ...read.reader import KIND_INTERNAL, PreviousError, load_previous
from ...read.resilience import check_file
from ...util.fsutil import os_error_text, output_clash
from ...util.lazy import lazy_import
from ..console import EXIT_INTERNAL, console, fail
from ..options import parse_deadline
from ..render import render_result, results_json, summary_line

# python-docx only when --notice asks for the notices
notice_writer = lazy_import("xlsx_tools.write.notice")


def existing_files(files: list[Path] | None) -> list[Path]:
    """The FILE arguments, or a usage error (exit 2) in Chinese."""
    if not files:
        fail("请指定要校验的文件，例如：xlsx-tools check 某某局.xlsx")
    for path in files:
        if path.is_dir():
            fail(f"「{path}」是文件夹。请列出要校验的文件（如 {path}/*.xlsx），或用 xlsx-tools collect 收集整个文件夹。")
        if not path.exists():
            fail(f"找不到文件「{path}」，请检查文件名和路径。")
    return files


def register(app: typer.Typer) -> None:
    @app.command("check")
    def check(
        files: Annotated[list[Path] | None, typer.Argument(metavar="文件", help="回收的年报工作簿（.xlsx），可以多个。", show_default=False)] = None,
        previous: Annotated[
            Path | None,
            typer.Option("--previous", "-p", metavar="文件", help="上一年度的报告（.xlsx 工作簿或 export 导出的 .json），用于核对上年结转等跨年度关系。"),
        ] = None,
        blank_as_zero: Annotated[
            bool, typer.Option("--blank-as-zero", help="空白的填写单元格按 0 处理（警告），不作为错误。")
        ] = False,
        year: Annotated[int | None, typer.Option("--year", "-y", metavar="年度", help="只接受该年度的报表（其他年度报错）。")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON：一个文件为一个对象，多个文件为对象数组。")] = False,
        notice: Annotated[Path | None, typer.Option(
            "--notice", metavar="文件夹", help="为有错误或警告的文件生成问题通知（Word，可直接发给机关），写入此文件夹。")] = None,
        office: Annotated[str, typer.Option("--office", metavar="单位名称", help="问题通知的落款单位。")] = "",
        contact: Annotated[str, typer.Option("--contact", metavar="联系方式", help="问题通知中写明的联系人和电话。")] = "",
        deadline: Annotated[str | None, typer.Option(
            "--deadline", metavar="日期", help="问题通知中的报送截止日期，如 2026-01-31。")] = None,
    ) -> None:
        """校验回收的年报工作簿：文件格式与安全、模板标识、表格结构与公式、每个数字和全部勾稽规则。

        有错误时退出码为 1，只有警告或没有问题时为 0，用法错误为 2，本工具内部出错（请把文件发给维护人员）为 4。"""
        paths = existing_files(files)
        if notice is not None and notice.exists() and not notice.is_dir():
            fail(f"--notice 应为文件夹，「{notice}」是文件。")
        if notice is not None and (clash := output_clash([notice], [*paths, previous], option="--notice")):
            fail(clash)
        deadline = parse_deadline(deadline)
        last_year = None
        if previous is not None:
            try:
                last_year = load_previous(previous)
            except PreviousError as e:
                fail(str(e))
            except Exception:  # broken in a way nobody foresaw: still a message, never a traceback
                fail(f"无法使用上一年度报告「{previous}」：其内容无法识别（文件可能已损坏或被改动）。"
                     "请指定该机关上一年度填好交回的 .xlsx 文件或本工具导出的 .json 文件。")
        results = [
            check_file(path, previous=last_year, blank_as_zero=blank_as_zero, expected_year=year)
            for path in paths
        ]
        if as_json:
            typer.echo(results_json(results))
        else:
            for result in results:
                render_result(console, result)
            console.print(summary_line(results))
        if notice is not None:
            try:
                written = notice_writer.check_notices(results, notice, office=office, contact=contact,
                                                      deadline=deadline, paths=paths)
            except OSError as e:
                fail(f"写入问题通知失败（{notice}）：{os_error_text(e)}。", code=1)
            if not as_json:
                for path in written:
                    console.print(f"已写入问题通知：{path}", markup=False)
                if not written:
                    console.print("没有发现问题，未生成问题通知。")
        if any(r.kind == KIND_INTERNAL for r in results):
            raise typer.Exit(EXIT_INTERNAL)
        raise typer.Exit(1 if any(r.has_errors for r in results) else 0)
