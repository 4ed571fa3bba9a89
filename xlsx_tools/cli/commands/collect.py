"""`xlsx-tools collect`: collect a roster's returns from a folder, check them, say who is done."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ...collect.classify import CollectError
from ...collect.collection import Collection
from ...collect.run import collect as run
from ...collect.walk import NOTICE_DIR, OUTPUT_JSON, OUTPUT_XLSX
from ...format.errors import FormatError
from ...format.spec import DEFAULT_FORMAT, load_format
from ...model.status import Status
from ...util.fsutil import os_error_text
from ..charts import collection_charts
from ..console import EXIT_INTERNAL, console, fail, progress_bar
from ..options import parse_deadline
from .paths import require_file

MAX_LISTED = 20  # agencies with errors listed after the summary


def register(app: typer.Typer) -> None:
    @app.command("collect")
    def collect(
        folder: Annotated[Path | None, typer.Argument(
            metavar="文件夹", help="存放退回文件的文件夹（含子文件夹和 .zip 压缩包）。", show_default=False)] = None,
        roster: Annotated[Path | None, typer.Option(
            "--roster", "-r", metavar="名单文件", help="机关名单（CSV，含“机关名称”列，可有“机关代码”），或批量生成模板时的 manifest.csv。",
            show_default=False)] = None,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", metavar="文件夹", help="输出文件夹：收集情况.xlsx、collect.json，以及 --docx 时的 Word 报告。",
            show_default=False)] = None,
        previous: Annotated[Path | None, typer.Option(
            "--previous", "-p", metavar="文件夹", help="上一年度退回文件（.xlsx）或导出的 .json 所在的文件夹，用于核对上年结转等跨年度关系。")] = None,
        jobs: Annotated[int | None, typer.Option(
            "--jobs", "-j", min=1, metavar="进程数", help="同时读取文件的进程数（默认：CPU 核数）。")] = None,
        docx: Annotated[bool, typer.Option(
            "--docx", help="为每个合格（含有警告）的机关生成公文格式的 Word 年度报告，放在输出文件夹的“年度报告”中。")] = False,
        year: Annotated[int | None, typer.Option(
            "--year", "-y", metavar="年度", help="本次收集的报告年度（默认：按收到的文件推断）；其他年度的模板记为“非本次模板”。")] = None,
        blank_as_zero: Annotated[bool, typer.Option(
            "--blank-as-zero", help="空白的填写单元格按 0 处理（警告），不作为错误。")] = False,
        notice: Annotated[bool, typer.Option(
            "--notice/--no-notice", help="为每个有错误或有警告的机关生成一份问题通知（Word），放在输出文件夹的“问题通知”中（默认生成）。")] = True,
        office: Annotated[str, typer.Option(
            "--office", metavar="单位名称", help="问题通知的落款单位，如“青山区人民政府办公室（政务公开办）”。")] = "",
        contact: Annotated[str, typer.Option(
            "--contact", metavar="联系方式", help="问题通知中写明的联系人和电话，如“王五，电话 0955-7012345”。")] = "",
        deadline: Annotated[str | None, typer.Option(
            "--deadline", metavar="日期", help="问题通知中的报送截止日期，如 2026-01-31（默认取名单或 manifest.csv 的“填报截止日期”列）。")] = None,
        format_id: Annotated[str, typer.Option(
            "--format", metavar="格式", help="报告格式（templates/ 中的格式文件名）；其他格式的模板记为“非本次模板”。")] = DEFAULT_FORMAT,
    ) -> None:
        """按名单收集退回的年报：逐个读取、校验文件夹中的全部文件（含 .zip 压缩包），统计合格、有警告、有错误、未提交的机关，
        生成收集情况表（收集情况.xlsx：状态、问题清单、文件清单、汇总、图表、全部数据）和 collect.json。

        退出码：0 = 名单中的机关全部提交且都没有错误；1 = 有机关未提交或有错误；2 = 用法错误；4 = 有文件因本工具内部出错未能检查（其余照常写出，请把这些文件发给维护人员）。"""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        deadline = parse_deadline(deadline)
        try:
            spec = load_format(format_id)
        except FormatError as e:
            fail(str(e))

        _check_paths(folder, roster, output, previous)

        with progress_bar(TextColumn("正在读取和校验"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("collect", total=None)

            def progress(done: int, found: int) -> None:
                bar.update(task, completed=done, total=found)

            try:
                result = run(folder, roster, output, year=year, previous=previous, jobs=jobs, docx=docx,
                             blank_as_zero=blank_as_zero, progress=progress, notices=notice, office=office,
                             contact=contact, deadline=deadline, spec=spec)
            except CollectError as e:
                bar.stop()
                fail(str(e))
            except OSError as e:
                bar.stop()
                fail(f"写入输出文件夹「{output}」失败：{os_error_text(e)}。", code=1)

        _report(result, output, docx)


def _report(result: Collection, output: Path, docx: bool) -> None:
    """The summary, the charts, what needs attention, what was written; exits with the status."""
    for line in result.summary_lines():
        console.print(line)
    console.print(collection_charts(result))
    errors = [a for a in result.agencies if a.status == Status.ERR]
    if errors:
        console.print("[bold]有错误的机关：[/]")
        for a in errors[:MAX_LISTED]:
            console.print(f"  {a.row.agency}：{a.note}", markup=False)
        if len(errors) > MAX_LISTED:
            console.print(f"  ……共 {len(errors)} 家，详见 {OUTPUT_XLSX}「收集情况」和「问题清单」。")
    unplaced = result.unattributed()
    if unplaced:
        console.print(f"[bold]无法对应到机关的文件（{len(unplaced)} 个）：[/]")
        for rec in unplaced[:MAX_LISTED]:
            console.print(f"  {rec.name}：{result.unattributed_reason(rec)}", markup=False)
        if len(unplaced) > MAX_LISTED:
            console.print(f"  ……共 {len(unplaced)} 个，详见 {OUTPUT_XLSX}「无法对应到机关的文件」。")
    if result.docx_missing:
        console.print(f"[bold]未生成 Word 报告的机关（{len(result.docx_missing)} 家）：[/]")
        for agency, why in result.docx_missing[:MAX_LISTED]:
            console.print(f"  {agency}：{why}", markup=False)
        if len(result.docx_missing) > MAX_LISTED:
            console.print(f"  ……共 {len(result.docx_missing)} 家，详见 {OUTPUT_JSON}（docx_not_written）。")
    written = [output / OUTPUT_XLSX, output / OUTPUT_JSON]
    console.print("已写入：" + "、".join(str(p) for p in written)
                  + (f"，以及 {len(result.docx)} 份 Word 报告" if docx else "")
                  + (f"，{len(result.notices)} 份问题通知（{output / NOTICE_DIR}）" if result.notices else "") + "。")
    if result.internal:
        console.print(f"[bold red]内部错误：[/]{len(result.internal)} 个文件因本工具内部出错未能检查（不是文件的问题），"
                      "请把这些文件发给维护人员：" + "、".join(escape(r.name) for r in result.internal) + "。", soft_wrap=True)
        raise typer.Exit(EXIT_INTERNAL)
    raise typer.Exit(0 if result.ok else 1)


def _check_paths(folder: Path | None, roster: Path | None, output: Path | None, previous: Path | None) -> None:
    """Usage errors (exit 2) for the paths given, before anything is read."""
    if folder is None:
        fail("请指定存放退回文件的文件夹，例如：xlsx-tools collect 回收/ --roster manifest.csv -o 收集结果/")
    if roster is None:
        fail("请用 --roster 指定机关名单（CSV）或生成模板时的 manifest.csv。")
    if output is None:
        fail("请用 -o 指定输出文件夹，例如 -o 收集结果/。")
    if not folder.exists():
        fail(f"找不到文件夹「{folder}」，请检查路径。")
    if not folder.is_dir():
        fail(f"「{folder}」不是文件夹。请指定存放退回文件的文件夹。")
    require_file(roster, "名单文件", "manifest.csv 或 机关名单.csv")
    if previous is not None and not previous.is_dir():
        fail(f"找不到上一年度的文件夹「{previous}」。")
