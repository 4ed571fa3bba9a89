"""`xlsx-tools demo`: the yearly cycle on the bundled example, as a list of stages run in the order
of STAGES (templates, fill and check, Word report, collect and aggregate). Each stage is a function
of a DemoContext and reads what earlier stages left in ctx.results; tests may pass their own list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from ...format.spec import FormatSpec, load_format
from ...read.roster import RosterRow, write_roster
from ...util.fsutil import os_error_text
from ...write.protection import generate_password
from ...write.template import MANIFEST_NAME, write_batch, write_template
from . import samples
from .check import stage_check
from .collect import stage_collect
from .docx import stage_docx


@dataclass
class DemoContext:
    outdir: Path
    console: Console
    spec: FormatSpec
    year: int
    password: str
    results: dict[str, Any] = field(default_factory=dict)
    written: list[tuple[Path, str]] = field(default_factory=list)  # (file, what it is), for the summary

    def wrote(self, path: Path, what: str) -> None:
        self.written.append((Path(path), what))


def stage_templates(ctx: DemoContext) -> None:
    """The sample agency's template (contact details prefilled) and the sample roster's batch."""
    data = samples.sample_agency()
    agency = data["agency"]["name"]
    contact = {k: v for k, v in data["contact"].items() if v}
    info = write_template(
        ctx.outdir / f"{agency}.xlsx", agency=agency, year=ctx.year, code=data["agency"].get("code", ""),
        password=ctx.password, contact=contact, spec=ctx.spec,
    )
    ctx.results["sample_template"] = info
    ctx.wrote(info.path, f"{agency} {ctx.year} 年度填报模板（联系方式已预填）")

    roster = write_roster(ctx.outdir / "roster.csv", [RosterRow(a, c) for a, c in samples.SAMPLE_ROSTER], ctx.spec)
    ctx.results["roster"] = roster
    ctx.wrote(roster, f"示例机关名单（{len(samples.SAMPLE_ROSTER)} 个机关）")
    batch_dir = ctx.outdir / "templates"
    infos = write_batch(
        [RosterRow(a, c) for a, c in samples.SAMPLE_ROSTER], ctx.year, batch_dir,
        password=ctx.password, spec=ctx.spec,
    )
    ctx.results["batch"] = infos
    ctx.wrote(batch_dir, f"按名单批量生成的 {len(infos)} 个模板")
    ctx.wrote(batch_dir / MANIFEST_NAME, "模板清单（文件名、sha256、模板指纹、保护密码）")


# the steps of the cycle in the order the demo runs them; each but the first lives beside its code
STAGES: list[Callable[[DemoContext], None]] = [stage_templates, stage_check, stage_docx, stage_collect]


def run_demo(outdir: str | Path, console: Console, *, stages: list[Callable[[DemoContext], None]] | None = None) -> int:
    """Run every stage into `outdir`; print what was written. Returns the exit status."""
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        console.print(f"[bold red]错误：[/]无法创建输出文件夹 {outdir}：{os_error_text(e)}")
        return 1
    spec = load_format()
    ctx = DemoContext(outdir=outdir, console=console, spec=spec, year=samples.sample_agency()["year"],
                      password=generate_password())
    for stage in stages if stages is not None else STAGES:
        try:
            stage(ctx)
        except OSError as e:
            console.print(f"[bold red]错误：[/]写入 {outdir} 失败：{os_error_text(e)}")
            return 1
    table = RichTable(title=f"示例输出（{outdir}）", show_lines=False)
    table.add_column("文件")
    table.add_column("内容")
    for path, what in ctx.written:
        shown = path.relative_to(outdir) if path.is_relative_to(outdir) else path
        table.add_row(str(shown) + ("/" if path.is_dir() else ""), what)
    console.print(table)
    console.print(f"模板保护密码：{ctx.password}（本次演示自动生成）")
    return 0
