"""`xlsx-tools import`: published reports (PDF, Word, web page, text) back into Report JSON, with
every check run on them (年报审核)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ...format.spec import load_format
from ...model.findings import count
from ...read.published import import_file
from ...read.published.importer import KIND_LABELS, STYLE_LABELS
from ...util.fsutil import atomic_write_text, os_error_text, output_clash, safe_filename
from ..console import console, err_console, fail
from ..render import render_result, results_json
from .import_batch import REVIEW_WORKBOOK, doc_to_docx, run_batch

SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".txt", ".md", ".doc", ".wps")


def _walk(folder: Path) -> list[Path]:
    """Report files under a folder, sorted; symbolic links to folders are not followed (no loops),
    hidden files and Office lock files (~$) skipped, only regular files."""
    out = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in names:
            p = Path(root) / n
            if p.suffix.lower() in SUFFIXES and not n.startswith((".", "~$")) and p.is_file():
                out.append(p)
    return sorted(out)


def report_files(paths: list[Path]) -> tuple[list[Path], bool]:
    """The files to import, and whether a folder was given (a region's review)."""
    out: list[Path] = []
    folder = False
    for p in paths:
        if p.is_dir():
            folder = True
            found = _walk(p)
            if not found:
                fail(f"文件夹「{p}」中没有可导入的年度报告（{'、'.join(SUFFIXES)}）。")
            out.extend(found)
        elif not p.exists():
            fail(f"找不到文件「{p}」，请检查文件名和路径。")
        else:
            out.append(p)
    return out, folder


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_command(
        files: Annotated[
            list[Path] | None,
            typer.Argument(metavar="文件或文件夹", help="已发布的年度报告：.pdf、.docx、.html/.htm、.txt/.md（.doc/.wps 需 LibreOffice），或包含它们的文件夹。", show_default=False),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", metavar="文件或文件夹", help="输出：一个报告时为 .json 文件；多个报告或文件夹时为输出文件夹（每个报告一个 .json，外加 审核结果.xlsx）。"),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="在屏幕上输出 JSON（一个报告为一个对象，多个为数组）。")] = False,
        year: Annotated[int | None, typer.Option("--year", "-y", metavar="年度", help="报告年度（覆盖从标题、开头一段、文件名中识别的年度）。")] = None,
        agency: Annotated[str | None, typer.Option("--agency", metavar="机关名称", help="机关名称（覆盖从标题、开头一段、文件名中识别的名称）。")] = None,
    ) -> None:
        """导入已发布的年度报告（PDF、Word、网页或复制的文字），按格式文件的标签找出全部数字和各部分文字，
        输出与 export 相同的 JSON，并做全部校验（年报审核）。

        有错误（含未找到的数字、不符合官方格式的表格、无法读取的文件）时退出码为 1，只有警告或没有问题时为 0，用法错误为 2。"""
        if not files:
            fail("请指定要导入的年度报告文件或文件夹，例如：xlsx-tools import 某某局2021年报.pdf")
        if year is not None and not 1990 <= year <= 2100:
            fail(f"--year 的值无效：{year}。请填写四位年份，如 2021。")
        paths, folder = report_files(files)
        batch = folder or len(paths) > 1
        if batch and output is not None and output.exists() and not output.is_dir():
            fail(f"导入多个报告时 -o 应为文件夹，「{output}」是一个文件。")
        if not batch and output is not None and output.is_dir():
            output = output / f"{paths[0].stem}.json"
        if output is not None:
            targets = ([output / REVIEW_WORKBOOK] + [output / f"{safe_filename(p.stem)}.json" for p in paths]
                       if batch else [output])
            if clash := output_clash(targets, paths):
                fail(clash)

        if batch:
            raise typer.Exit(run_batch(paths, output=output, as_json=as_json, year=year, agency=agency))

        result = import_file(paths[0], agency=agency, year=year, converter=doc_to_docx)
        _finish_one(result, output, as_json)


def _finish_one(result, output: Path | None, as_json: bool) -> None:
    if result.report is None:
        if as_json:
            typer.echo(results_json([result]))
        else:
            render_result(err_console, result)
        raise typer.Exit(1)
    text = result.to_json()
    if as_json:
        typer.echo(text)
    else:
        render_result(console, result)
        b = result.source_block
        console.print(f"  找到数字 {b['figures_found']}/{b['figures_expected']} 个；输入类型：{KIND_LABELS.get(b['kind'], b['kind'])}；"
                      f"文字样式：{STYLE_LABELS.get(b['text_style'], b['text_style'])}")
        if "formats_tried" in b:  # a table printed in the 2019 trial format: say which format was kept
            spec = load_format(b["format"])
            console.print(f"  报告格式：{spec.title}（{spec.document}）")
    if output is not None:
        try:
            atomic_write_text(output, text + "\n")
        except OSError as e:
            fail(f"无法写入「{output}」：{os_error_text(e)}", code=1)
        errors, warnings = count(result.findings)
        (err_console if as_json else console).print(
            f"已导入「{result.agency}」{result.year} 年度报告到 {output}（错误 {errors} 个，警告 {warnings} 个）。")
    raise typer.Exit(1 if result.has_errors else 0)
