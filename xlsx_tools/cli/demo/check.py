"""The demo's check stage: the sample agency's template filled twice — once as published (clean),
once with the mistakes agencies typically make — then both read back and checked, with the
findings shown. Kept apart from demo.py so that the reader owns its stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...read.reader import read_and_check
from ...write.template import write_template
from ..render import render_result, summary_line
from . import samples
from .fill import fill_workbook

# Typical mistakes (field id -> what gets typed): a "无" instead of 0, a count that breaks the
# 勾稽关系 of its column, and a total overwritten by hand (the formula is gone).
MISTAKE_TEXT = ("t3.granted.natural_person", "无")
MISTAKE_BALANCE = ("t3.received.commercial", 3)
MISTAKE_TOTAL = ("t4.review.total", 2)


def stage_check(ctx: Any) -> None:
    """Fill the sample template (clean, and with typical mistakes), check both, show the findings.

    Uses ctx.results["sample_template"] (a TemplateInfo) when the template stage left one, else
    writes the template itself. Leaves ctx.results["check"] = {"clean": ReadResult, "mistakes":
    ReadResult} and ctx.results["sample_report"] = the Report read back from the clean workbook
    (the Word stage turns it into the .docx)."""
    spec = ctx.spec
    sample = samples.sample_report(spec)
    data = samples.sample_agency()
    agency = sample.agency.name
    template = ctx.results.get("sample_template")
    if template is not None:
        src = Path(template.path)
    else:
        src = write_template(Path(ctx.outdir) / f"{agency}.xlsx", agency=agency, year=ctx.year,
                             code=sample.agency.code, password=ctx.password, spec=spec).path
    outdir = Path(ctx.outdir) / "回收示例"
    outdir.mkdir(parents=True, exist_ok=True)
    inputs = spec.input_values(sample.figures)
    contact = {k: v for k, v in sample.contact.items() if v}
    parts = data["narrative_parts"]

    clean = fill_workbook(src, outdir / f"{agency}（已填写）.xlsx", inputs, contact=contact, narrative_parts=parts)
    wrong = dict(inputs)
    for fid, value in (MISTAKE_TEXT, MISTAKE_BALANCE, MISTAKE_TOTAL):
        wrong[fid] = value
    mistakes = fill_workbook(src, outdir / f"{agency}（含典型错误）.xlsx", wrong, contact=contact,
                             narrative_parts=parts, allow_computed=True)

    results = {"clean": read_and_check(clean), "mistakes": read_and_check(mistakes)}
    ctx.console.print("[bold]回收校验示例[/]：同一模板填写两份，一份正确，一份含典型错误（填“无”、勾稽关系不符、改写总计公式）。")
    ctx.console.print()
    for result in results.values():
        render_result(ctx.console, result)
    ctx.console.print(summary_line(list(results.values())))
    ctx.console.print()
    ctx.results["check"] = results
    if results["clean"].report is not None:
        ctx.results["sample_report"] = results["clean"].report
    ctx.wrote(clean, "示例机关填好的年报（校验通过）")
    ctx.wrote(mistakes, "含典型错误的年报（用于演示校验结果）")

