"""Findings rendered for people and for programs: a Chinese rich table per checked file, a summary
line, and the JSON of `check --json` (one object per file; exact decimals)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..format.errors import FormatError
from ..format.spec import FormatSpec, load_format
from ..model.findings import SEVERITY_LABELS, Finding, condensed, count, group_cells, ordered
from ..model.report import dumps
from ..read.reader import KIND_FOREIGN, KIND_UNREADABLE, ReadResult

WHOLE_FILE = "整个文件"


def _spec_for(result: ReadResult) -> FormatSpec | None:
    try:
        return result.report.spec if result.report is not None else load_format()
    except (FormatError, OSError, ValueError):  # a label lookup must never break rendering
        return None


def finding_location(f: Finding, spec: FormatSpec | None = None) -> str:
    """"表三!D12「5.属于三类内部事务信息」自然人", with "等 N 处" when a rule involves more cells."""
    if not f.cells:
        sheets = f.values.get("sheets") if isinstance(f.values, dict) else None
        if sheets:
            return "、".join(f"「{s}」" for s in sheets)
        sheet = f.values.get("sheet") if isinstance(f.values, dict) else None
        return f"「{sheet}」" if sheet else WHOLE_FILE
    text = f.cells[0]
    if f.fields and spec is not None and spec.has_field(f.fields[0]):
        text += "\n" + spec.field(f.fields[0]).label
    if len(f.cells) > 1:
        text += f" 等 {len(f.cells)} 处"
    return text


GROUP_AT = 6  # this many single-cell findings of one kind on one sheet are shown as one row
GROUP_LIST = 12  # cells named in such a row


def _group_note(group: list[Finding]) -> str:
    sheet, cells = group_cells(group)
    named = "、".join(cells[:GROUP_LIST]) + ("……" if len(cells) > GROUP_LIST else "")
    return f"\n同类问题在「{sheet}」共 {len(cells)} 处：{named}（完整清单见 --json）。"


def render_result(console: Console, result: ReadResult) -> None:
    """One file: a heading (file, 机关, 年度, program that saved it), then a table of findings."""
    errors, warnings = count(result.findings)
    head = f"[bold]{escape(result.source)}[/]"
    facts = []
    if result.agency:
        facts.append(f"机关：{escape(result.agency)}")
    if result.year:
        facts.append(f"年度：{result.year}")
    if result.application:
        facts.append(f"保存程序：{escape(result.application)}")
    if result.kind == KIND_UNREADABLE:
        facts.append("[red]无法读取[/]")
    elif result.kind == KIND_FOREIGN:
        facts.append("[red]非本次模板[/]")
    console.print(head)
    if facts:
        console.print("  " + "　".join(facts))
    if not result.findings:
        console.print("  [green]✓ 未发现问题[/]")
        console.print()
        return
    spec = _spec_for(result)
    table = Table(show_header=True, header_style="bold", show_lines=True, expand=True)
    table.add_column("级别", no_wrap=True, min_width=4)
    table.add_column("位置", overflow="fold", ratio=1, min_width=12)
    table.add_column("说明", overflow="fold", ratio=3)
    for group in condensed(ordered(result.findings), GROUP_AT):
        f = group[0]
        level = SEVERITY_LABELS.get(f.severity, f.severity)
        style = "red" if f.is_error else "yellow"
        location = finding_location(f, spec) + (f" 等 {len(group)} 处" if len(group) > 1 else "")
        message = f.message + (_group_note(group) if len(group) > 1 else "")
        table.add_row(f"[{style}]{level}[/]", escape(location), escape(message))
    console.print(table)
    console.print(f"  错误 {errors} 个，警告 {warnings} 个")
    console.print()


def summary_line(results: Sequence[ReadResult]) -> str:
    """"共检查 3 个文件：2 个有错误，1 个仅有警告，0 个未发现问题（错误 5 个，警告 2 个）"."""
    with_errors = sum(1 for r in results if r.has_errors)
    warnings_only = sum(1 for r in results if not r.has_errors and r.findings)
    clean = sum(1 for r in results if not r.findings)
    e = sum(count(r.findings)[0] for r in results)
    w = sum(count(r.findings)[1] for r in results)
    return (f"共检查 {len(results)} 个文件：{with_errors} 个有错误，{warnings_only} 个仅有警告，"
            f"{clean} 个未发现问题（错误共 {e} 个，警告共 {w} 个）")


def result_dict(result: ReadResult) -> dict[str, Any]:
    """One checked file in JSON (`check --json`)."""
    return {
        "file": result.source,
        "sha256": result.sha256,
        "agency": result.agency or None,
        "year": result.year,
        "kind": result.kind,
        "application": result.application,
        "saved_at": result.saved_at,
        "errors": count(result.findings)[0],
        "warnings": count(result.findings)[1],
        "findings": [f.to_dict() for f in ordered(result.findings)],
    }


def results_json(results: Sequence[ReadResult]) -> str:
    """One object for one file, an array of objects for several (exact decimals kept)."""
    items = [result_dict(r) for r in results]
    return dumps(items[0] if len(items) == 1 else items)
