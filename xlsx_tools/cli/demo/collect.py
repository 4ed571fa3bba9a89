"""The demo's collection season: the sample roster's templates filled in as agencies would (varied
figures, a few typical mistakes, one agency silent, one re-sending, one file corrupt, one inside a
mailbox export .zip), then collect, aggregate and the Word reports, all under the demo's output
folder, finishing with the collect summary. Kept apart from demo.py so that collect owns its stage.
"""

from __future__ import annotations

import io
import random
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...collect.aggregate import write_aggregate
from ...collect.aggregate_inputs import read_inputs, select
from ...collect.collection import Collection
from ...collect.run import collect
from ...collect.walk import NOTICE_DIR, OUTPUT_JSON, OUTPUT_XLSX
from ...model.aggregate import Aggregator
from ...model.report import Report
from ...read.roster import RosterRow
from ...write.template import MANIFEST_NAME, parts_from_narrative, write_batch, write_template
from ..charts import collection_charts
from . import samples
from .fill import fill_workbook

FOLDER = "收集"  # under the demo's output folder
RETURNS, RESULTS = "回收的文件", "收集结果"

# What each agency of samples.SAMPLE_ROSTER does this season (by position in the roster).
CLEAN, BALANCE_ERROR, TEXT_MISMATCH, RESENT, IN_ZIP, BLANK_CELL, STOCK_WARNING, CORRUPT, SILENT = (
    "clean", "balance", "text", "resent", "zip", "blank", "stock", "corrupt", "silent")
SEASON = (CLEAN, CLEAN, CLEAN, BALANCE_ERROR, TEXT_MISMATCH, RESENT, IN_ZIP, BLANK_CELL, CLEAN, STOCK_WARNING,
          CORRUPT, SILENT)


def narrative(figures: dict[str, Any], year: int, *, misstate: int = 0) -> dict[str, str]:
    """A short report text that states the table's counts (the text checks compare them)."""
    received = figures["t3.received.total"] + misstate
    return {
        "overview": (f"{year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，共收到政府信息公开申请{received}件，"
                     f"办结{figures['t3.results_total.total']}件，结转下年度继续办理{figures['t3.carry_forward.total']}件。"),
        "problems": "政府信息公开工作仍存在信息更新不够及时等问题，下一步将加强培训，完善发布审核机制。",
        "other": "本年度未收取信息处理费。",
    }


def season_report(ctx: Any, index: int, row: RosterRow, what: str) -> Report:
    rng = random.Random(1000 + index)
    report = samples.random_report(ctx.spec, rng, row.agency, row.code, ctx.year, busy=rng.uniform(0.2, 1.0))
    figures = report.figures
    if what == BALANCE_ERROR:
        figures["t3.received.natural_person"] += 1  # one application counted twice: 勾稽关系 fails
        figures.update(ctx.spec.compute(ctx.spec.input_values(figures)))
    elif what == BLANK_CELL:
        figures["t3.granted.commercial"] = None  # a cell left empty instead of 0
    elif what == STOCK_WARNING:
        figures.update({"t2.item1.normative.issued": 9, "t2.item1.normative.repealed": 0,
                        "t2.item1.normative.in_force": 4})
    report.narrative = narrative({k: v or 0 for k, v in figures.items()}, ctx.year,
                                 misstate=2 if what == TEXT_MISMATCH else 0)
    return report


def _fill(ctx: Any, template: Path, target: Path, report: Report) -> Path:
    """What an agency does: open its template, type the figures and the text, save."""
    target.parent.mkdir(parents=True, exist_ok=True)
    contact = {**samples.sample_agency()["contact"], "contact_org": report.agency.name, "contact_person": "张三"}
    return fill_workbook(template, target, ctx.spec.input_values(report.figures), contact=contact,
                         narrative_parts=parts_from_narrative(ctx.spec, report.narrative))


def write_season(ctx: Any, folder: Path, templates: dict[str, Path]) -> None:
    """The returns folder of the season (see SEASON)."""
    for index, ((agency, code), what) in enumerate(zip(samples.SAMPLE_ROSTER, SEASON, strict=True)):
        row = RosterRow(agency, code)
        if what == SILENT:
            continue
        report = season_report(ctx, index, row, what)
        if what == RESENT:
            # first sent with a mistake on 1 February, corrected and sent again on 5 February
            first = season_report(ctx, index, row, BALANCE_ERROR)
            for rep, day, name in ((first, 1, f"{agency}.xlsx"), (report, 5, f"{agency}（修改后）.xlsx")):
                write_template(folder / name, agency=agency, code=code, year=ctx.year, password=ctx.password,
                               report=rep, created=datetime(ctx.year + 1, 2, day, 9, 30, tzinfo=UTC), spec=ctx.spec)
            continue
        if what == IN_ZIP:  # sent as an attachment, saved from the mailbox as an archive
            with tempfile.TemporaryDirectory() as tmp:
                filled = _fill(ctx, templates[agency], Path(tmp) / f"{agency}.xlsx", report)
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                    z.write(filled, f"附件/{filled.name}")
                    z.writestr("附件/说明.txt", "请查收本单位政府信息公开工作年度报告。".encode())
            (folder / "邮箱导出.zip").write_bytes(buf.getvalue())
            continue
        filled = _fill(ctx, templates[agency], folder / f"{agency}.xlsx", report)
        if what == CORRUPT:  # cut off in transfer
            filled.write_bytes(filled.read_bytes()[:4000])


def stage_collect(ctx: Any) -> None:
    """Templates → filled returns → collect → aggregate → documents, under ctx.outdir/收集/."""
    base = Path(ctx.outdir) / FOLDER
    batch = ctx.results.get("batch")
    if batch:
        templates = {info.agency: Path(info.path) for info in batch}
        manifest = Path(batch[0].path).parent / MANIFEST_NAME
    else:
        rows = [RosterRow(a, c) for a, c in samples.SAMPLE_ROSTER]
        infos = write_batch(rows, ctx.year, base / "模板", password=ctx.password, spec=ctx.spec)
        templates = {info.agency: info.path for info in infos}
        manifest = base / "模板" / MANIFEST_NAME
    returns = base / RETURNS
    write_season(ctx, returns, templates)
    ctx.wrote(returns, "各机关退回的文件（含一份重复提交、一个损坏文件、一个压缩包；一个机关未提交）")

    result: Collection = collect(returns, manifest, base / RESULTS, year=ctx.year, docx=True, spec=ctx.spec)
    ctx.results["collect"] = result
    ctx.wrote(base / RESULTS / OUTPUT_XLSX, "收集情况表：状态、问题清单、文件清单、汇总、图表、全部数据")
    ctx.wrote(base / RESULTS / OUTPUT_JSON, "收集情况（JSON）")
    if result.docx:
        ctx.wrote(base / RESULTS / "年度报告", f"{len(result.docx)} 个机关（合格、有警告）的 Word 年度报告")
    if result.notices:
        ctx.wrote(base / RESULTS / NOTICE_DIR, f"{len(result.notices)} 个机关（有错误、有警告）的问题通知，可直接发给各机关")

    selection = select(read_inputs([returns], jobs=1), year=ctx.year, format_id=ctx.spec.id)
    totals = Aggregator(ctx.spec)
    for inp in selection.used:
        totals.add(inp.figures or {})
    district = samples.SAMPLE_ROSTER[0][0].removesuffix("政务服务中心")
    title = f"{district}{ctx.spec.report_title.format(year=ctx.year)}（汇总）"
    combined = totals.report(district, ctx.year)
    combined.narrative = narrative(combined.figures, ctx.year)
    ctx.results["aggregate"] = combined
    for suffix, what in ((".xlsx", "官方表格格式的工作簿"), (".json", "报告 JSON"), (".docx", "公文格式 Word")):
        path = write_aggregate(combined, base / f"汇总{suffix}", password=ctx.password, sources=selection.used,
                               spec=ctx.spec, title=title)
        ctx.wrote(path, f"{len(selection.used)} 个机关的汇总（{what}）")

    for line in result.summary_lines():
        ctx.console.print(line)
    ctx.console.print(collection_charts(result))

