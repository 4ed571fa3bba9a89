"""`xlsx-tools template`: one locked template for an agency, or one per agency of a roster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from ...format.errors import FormatError
from ...format.spec import DEFAULT_FORMAT, load_format
from ...read.roster import RosterError, read_roster
from ...util.fsutil import os_error_text, output_clash
from ...write.batch import add_to_batch, existing_batch, read_manifest
from ...write.protection import TemplateError, check_password, generate_password
from ...write.template import (
    MANIFEST_NAME,
    batch_filenames,
    single_target,
    write_batch,
    write_template,
)
from ..console import console, fail, progress_bar
from ..options import check_year, parse_deadline


def register(app: typer.Typer) -> None:
    @app.command("template")
    def template(
        year: Annotated[int, typer.Option("--year", "-y", metavar="年度", help="报告年度，如 2025。")],
        agency: Annotated[str | None, typer.Option("--agency", "-a", metavar="机关名称", help="机关名称（生成单个模板）。")] = None,
        roster: Annotated[
            Path | None, typer.Option("--roster", "-r", metavar="名单文件", help="机关名单 CSV（批量生成； UTF-8 或 GBK； 须有“机关名称”列，列名上方可有标题）。")
        ] = None,
        code: Annotated[str, typer.Option("--code", metavar="代码", help="机关代码（单个模板）。")] = "",
        password: Annotated[
            str | None, typer.Option("--password", "-p", metavar="密码", help="工作表保护密码； 不指定则自动生成（批量时整批共用一个）。")
        ] = None,
        deadline: Annotated[
            str | None, typer.Option("--deadline", metavar="日期", help="填报截止日期，如 2026-01-31、2026/1/31 或 2026年1月31日，写入“填报说明”。")
        ] = None,
        output: Annotated[
            str | None,
            typer.Option("--output", "-o", metavar="文件或文件夹", help=(
                "单个模板（--agency）：.xlsx 文件名，缺少的上级文件夹自动创建； "
                "或文件夹（已有的，或以 / 结尾时自动创建），文件名为“机关名称.xlsx”； "
                "不指定时存到当前文件夹。 批量（--roster）：文件夹，默认 templates-年度。")),
        ] = None,
        format_id: Annotated[str, typer.Option("--format", metavar="格式", help="报告格式（templates/ 中的格式文件名）。")] = DEFAULT_FORMAT,
        add: Annotated[
            Path | None, typer.Option("--add", metavar="名单文件", help=(
                "向 -o 文件夹（默认 templates-年度）中已有的一批模板添加机关：为名单中的新机关生成模板，沿用清单 manifest.csv 中的保护密码"
                "（和已发模板的截止日期，除非另给 --deadline），并追加到清单末尾；已在清单中的机关会被指出并拒绝。"))
        ] = None,
        force: Annotated[bool, typer.Option("--force", help=(
            "-o 文件夹中已有一批模板（manifest.csv 或本工具生成的模板）时仍整批重新生成："
            "会换用新的保护密码并覆盖同名模板和清单，已发出的模板将与清单不符。"))] = False,
    ) -> None:
        """生成锁定的 Excel 填报模板：单个机关（--agency）、按名单批量生成（--roster），或向已有的一批模板添加机关（--add）。

        批量生成时，若输出文件夹中已有一批模板，程序会停下并提示（退出码 2），以免覆盖已发出的模板和密码；添加机关请用 --add，确需重新生成整批请加 --force。"""
        if sum(x is not None for x in (agency, roster, add)) != 1:
            fail("请指定 --agency（生成单个模板）、--roster（按名单批量生成）或 --add（向已有的一批模板添加机关），三者选一。")
        check_year(year)
        if password is not None:
            try:
                check_password(password)
            except TemplateError as e:
                fail(str(e))
        when = parse_deadline(deadline)
        try:
            spec = load_format(format_id)
        except FormatError as e:
            fail(str(e))
        if agency is not None:
            _single(agency, year, code, password, when, output, spec)
        elif roster is not None:
            _batch(roster, year, password, when, output, spec, force=force)
        else:
            _add(add, year, password, when if deadline else None, output, spec)


def _single(agency, year, code, password, deadline, output, spec) -> None:
    agency = agency.strip()
    if not agency:
        fail("机关名称不能为空。")
    generated = password is None
    password = password or generate_password()
    try:
        target = single_target(output or None, agency)
    except TemplateError as e:
        fail(str(e))
    try:
        info = write_template(target, agency=agency, year=year, code=code, password=password,
                              deadline=deadline, spec=spec)
    except TemplateError as e:
        fail(str(e))
    except OSError as e:
        fail(f"无法写入 {target}：{os_error_text(e)}", code=1)
    table = RichTable(show_header=False, box=None)
    table.add_row("模板文件", str(info.path))
    table.add_row("机关名称", info.agency)
    table.add_row("机关代码", info.code or "（无）")
    table.add_row("报告年度", str(info.year))
    table.add_row("模板指纹", info.fingerprint)
    table.add_row("sha256", info.sha256)
    table.add_row("保护密码", f"{info.password}（自动生成，请妥善保存）" if generated else "（由 --password 指定）")
    console.print("[bold green]已生成模板[/]")
    console.print(table)


def _roster_rows(roster: Path, spec):
    try:
        rows = read_roster(roster, spec)
    except RosterError as e:
        fail(str(e))
    for note in rows.notes:
        console.print(f"[dim]说明：{note}[/]", soft_wrap=True)
    return rows


def _batch_dir(output, year: int) -> Path:
    outdir = Path(output) if output else Path(f"templates-{year}")
    if outdir.exists() and not outdir.is_dir():
        fail(f"批量生成时 -o 应为文件夹，但 {outdir} 是文件。")
    return outdir


def _with_progress(outdir: Path, total: int, write):
    """`write(step)` under a progress bar of `total` templates; its errors said in Chinese."""
    progress = progress_bar(TextColumn("生成模板"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            TextColumn("{task.description}"), out=console)
    try:
        with progress:
            task = progress.add_task("", total=total)
            return write(lambda info: progress.update(task, advance=1, description=info.agency))
    except TemplateError as e:
        fail(str(e))
    except OSError as e:
        fail(f"无法写入 {outdir}：{os_error_text(e)}", code=1)


def _batch(roster, year, password, deadline, output, spec, *, force: bool = False) -> None:
    rows = _roster_rows(roster, spec)
    generated = password is None
    password = password or generate_password()
    outdir = _batch_dir(output, year)
    found = existing_batch(outdir)
    if found and not force:
        fail(f"输出文件夹「{outdir}」中已有一批模板（{found}）。重新生成会换用新的保护密码并覆盖已发出的模板和清单，"
             f"已发出的模板将无法用清单中的密码解锁。要为新增的机关生成模板，请用 --add 新增名单.csv -o {outdir}；"
             "确需整批重新生成，请加 --force；或用 -o 另选一个文件夹。")
    targets = [outdir / MANIFEST_NAME] + [outdir / name for name in batch_filenames(rows)]
    if clash := output_clash(targets, [roster]):
        fail(clash)
    infos = _with_progress(outdir, len(rows), lambda step: write_batch(
        rows, year, outdir, password=password, deadline=deadline, progress=step, spec=spec))
    console.print(f"[bold green]已生成 {len(infos)} 个模板[/]，保存在 {outdir}")
    console.print(f"清单：{outdir / MANIFEST_NAME}（机关名称、文件名、sha256、模板指纹、保护密码）")
    if generated:
        console.print(f"保护密码：{password}（本批次自动生成、各模板共用，已写入清单，请妥善保存）")
    else:
        console.print("保护密码：由 --password 指定（已写入清单）")


def _add(roster: Path, year, password, deadline, output, spec) -> None:
    outdir = _batch_dir(output, year)
    if not outdir.is_dir():
        fail(f"找不到文件夹「{outdir}」：--add 只能向已有的一批模板中添加机关，请用 -o 指定那一批模板所在的文件夹"
             f"（其中有 manifest.csv；不指定 -o 时为 templates-{year}）。")
    rows = _roster_rows(roster, spec)
    if clash := output_clash([outdir / MANIFEST_NAME], [roster]):
        fail(clash)
    try:
        before = len(read_manifest(outdir).rows)
    except TemplateError as e:
        fail(str(e))
    infos, _, used_deadline = _with_progress(outdir, len(rows), lambda step: add_to_batch(
        rows, year, outdir, password=password, deadline=deadline, progress=step, spec=spec))
    console.print(f"[bold green]已添加 {len(infos)} 个模板[/]，保存在 {outdir}：" + "、".join(i.path.name for i in infos))
    console.print(f"清单：{outdir / MANIFEST_NAME}（原有 {before} 个机关不变，新增 {len(infos)} 个追加在末尾）")
    console.print(f"保护密码：沿用本批次清单中的密码；截止日期：{used_deadline or '（按通知要求）'}")
