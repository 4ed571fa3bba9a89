"""`xlsx-tools import DIR` (or several files): a region's published reports reviewed in one run,
with a progress bar, a summary and 审核结果.xlsx."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from ...collect.review import write_review
from ...model.findings import count
from ...model.report import dumps, loads
from ...read.published import import_file
from ...util.fsutil import (
    atomic_write_text,
    filename_key,
    os_error_text,
    safe_filename,
    unique_name,
)
from ...write import office
from ..console import console, fail, progress_bar
from ..render import render_result, result_dict

REVIEW_WORKBOOK = "审核结果.xlsx"


def _json_name(path: Path, used: set[str]) -> str:
    stem = safe_filename(path.stem)
    return unique_name(f"{stem}.json", lambda n: f"{stem}（{n}）.json", used)


def doc_to_docx(src: Path, outdir: Path) -> Path | None:
    """.doc/.wps -> .docx through LibreOffice for `import` (read/ cannot import write/office); None
    when LibreOffice is not installed (see read/published/limits.Converter)."""
    if office.find_soffice() is None:
        return None
    return office.convert(src, "docx:MS Word 2007 XML", outdir, timeout=120)


def run_batch(paths: list[Path], *, output: Path | None, as_json: bool, year: int | None,
              agency: str | None) -> int:
    results = []
    with progress_bar(TextColumn("正在导入年度报告"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), disable=as_json) as progress:
        task = progress.add_task("", total=len(paths))
        for p in paths:
            progress.update(task, description=escape(p.name[:40]))
            results.append(import_file(p, agency=agency, year=year, converter=doc_to_docx))
            progress.advance(task)

    if output is not None:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            fail(f"无法创建输出文件夹「{output}」：{os_error_text(e)}", code=1)
        used: set[str] = {filename_key(REVIEW_WORKBOOK)}
        for p, r in zip(paths, results, strict=True):
            if r.report is None:
                continue
            try:
                atomic_write_text(output / _json_name(p, used), r.to_json() + "\n")
            except OSError as e:
                fail(f"无法写入「{output}」：{os_error_text(e)}", code=1)
        try:
            write_review(results, output / REVIEW_WORKBOOK)
        except OSError as e:
            fail(f"无法写入「{output / REVIEW_WORKBOOK}」：{os_error_text(e)}", code=1)

    if as_json:
        items = []
        for r in results:
            items.append(loads(r.to_json()) if r.report is not None else result_dict(r))
        typer.echo(dumps(items))
    else:
        for r in results:
            render_result(console, r)
        console.print(summary(results))
        if output is not None:
            console.print(f"已写入 {output}（每个报告一个 .json，审核结果见 {REVIEW_WORKBOOK}）。")
    return 1 if any(r.has_errors for r in results) else 0


def summary(results) -> str:
    unreadable = sum(1 for r in results if r.report is None)
    with_errors = sum(1 for r in results if r.report is not None and r.has_errors)
    warnings_only = sum(1 for r in results if r.report is not None and not r.has_errors and r.findings)
    clean = sum(1 for r in results if r.report is not None and not r.findings)
    e = sum(count(r.findings)[0] for r in results)
    w = sum(count(r.findings)[1] for r in results)
    found = sum(r.source_block.get("figures_found", 0) for r in results)
    expected = sum(r.source_block.get("figures_expected", 0) for r in results if r.report is not None)
    return (f"共导入 {len(results)} 份报告：{with_errors} 份有错误，{warnings_only} 份仅有警告，{clean} 份未发现问题，"
            f"{unreadable} 份无法读取；找到数字 {found}/{expected} 个（错误共 {e} 个，警告共 {w} 个）")
