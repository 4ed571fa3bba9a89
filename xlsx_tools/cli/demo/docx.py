"""The demo's Word stage: the sample agency's report as a 公文-format .docx, and as a PDF where
LibreOffice is installed. Kept apart from demo.py so that the Word report owns its stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...model.report import Report
from ...write import office
from ...write.docx_report import default_filename, write_docx
from . import samples


def stage_docx(ctx: Any) -> None:
    """Write the sample report's .docx (and PDF) into ctx.outdir.

    Uses ctx.results["sample_report"] when an earlier stage left a Report there (e.g. read back
    from the filled workbook), else the bundled sample. Records ctx.results["docx"] and, when a
    PDF was made, ctx.results["pdf"].
    """
    report = ctx.results.get("sample_report")
    if not isinstance(report, Report):
        report = samples.sample_report(ctx.spec)
    path = write_docx(report, Path(ctx.outdir) / default_filename(report, ctx.spec), spec=ctx.spec)
    ctx.results["docx"] = path
    ctx.wrote(path, f"{report.agency.name} {report.year} 年度报告（公文格式 Word）")
    if office.find_soffice() is None:
        ctx.console.print("[yellow]未安装 LibreOffice，跳过 PDF。[/]")
        return
    try:
        pdf = office.convert(path, "pdf", path.parent)
    except office.OfficeError as e:
        ctx.console.print(f"[yellow]未生成 PDF：[/]{e}")
        return
    ctx.results["pdf"] = pdf
    ctx.wrote(pdf, "同一报告的 PDF（LibreOffice 转换）")

