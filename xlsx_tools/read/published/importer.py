"""A published report file -> Report (the `export` JSON), a `source` block saying where every figure
came from, and the findings of every check plus two of its own:

IMPORT_NOT_FOUND (error): a figure that could not be found (names the label looked for);
IMPORT_LAYOUT (error): a table not in the official layout (e.g. the 2019 format), not read.
Blank cells and "/" are kept apart from 0: the figure is null and the source block says
"blank" or "not_applicable"; each is a BLANK warning.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...checks import check_report, domain_problem, number_problem
from ...format.grid import Field
from ...format.spec import FormatSpec, load_format
from ...model.findings import ERROR, WARNING, Finding
from ...model.report import Agency, Provenance, Report
from ..reader import KIND_OK, KIND_UNREADABLE, ReadResult
from .cells import BLANK, INVALID, MISSING, NOT_APPLICABLE, Cell, TableResult
from .document import tokens_of
from .limits import DEFAULT_LIMITS, Converter, Document, Limits, SourceError
from .locate import (
    agency_and_year,
    contact_details,
    find_headings,
    is_wrapped,
    paragraphs,
    section_ranges,
    strip_tail,
)
from .sources import read_document
from .tables import find_table

NOT_FOUND = "IMPORT_NOT_FOUND"
LAYOUT = "IMPORT_LAYOUT"


@dataclass
class ImportResult(ReadResult):
    """A ReadResult (so `check`'s rendering applies) with the import's source block."""

    source_block: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        assert self.report is not None
        return self.report.to_json(extra={
            "findings": [f.to_dict() for f in errors_first(self.findings)],
            "source": self.source_block,
        })


def errors_first(findings: list[Finding]) -> list[Finding]:
    """Errors, then warnings, each in the order found (as `check` lists them)."""
    return sorted(findings, key=lambda f: 0 if f.is_error else 1)


def import_file(path: str | Path, *, agency: str | None = None, year: int | None = None,
                spec: FormatSpec | None = None, limits: Limits = DEFAULT_LIMITS,
                display: str | None = None, converter: Converter | None = None) -> ImportResult:
    """Import one published report. Never raises on bad content: an unreadable file is a result
    with one error finding and no report. Without `spec` the format is detected: the 2021 format,
    or the 2019 trial format when the report prints its tables (see import_detected). `converter`:
    how .doc/.wps files become .docx (the CLI hands in LibreOffice's, see limits.Converter)."""
    path = Path(path)
    shown = display or str(path)
    try:
        doc, data = read_document(path, limits, converter)
    except SourceError as e:
        return _unreadable(shown, "", e)
    except (MemoryError, RecursionError):
        return _unreadable(shown, "", SourceError(f"「{path.name}」结构过于复杂，超出处理能力，未导入。", "too_complex"))
    sha = hashlib.sha256(data).hexdigest()
    kw = {"source": shown, "sha256": sha, "file_stem": path.stem, "agency": agency, "year": year}
    if spec is not None:
        return import_document(doc, spec=spec, **kw)
    return import_detected(doc, **kw)


def import_detected(doc: Document, **kw: Any) -> ImportResult:
    """The report read in the 2021 format; when a table shows the 2019 trial format (a label only
    that format has, or （六）其他处理 printed with figures of its own), read again in the 2019
    format and kept in whichever format more of the report's figures are read (the 2021 one on a
    tie), so a report in the 2019 format becomes a Report of that format and a 2021 report is
    never read as 2019. The source block names the formats tried."""
    result = import_document(doc, spec=load_format(), **kw)
    tables = result.source_block.get("tables", {})
    if not any(t["layout"] in ("2019", "heading_row") for t in tables.values()):
        return result
    other = import_document(doc, spec=load_format(FORMAT_2019), **kw)
    tried = [result.report.format, other.report.format]
    if _share_read(other) > _share_read(result):
        result = other
    result.source_block["formats_tried"] = tried
    return result


FORMAT_2019 = "gov-info-2019"


def _share_read(r: ImportResult) -> float:
    b = r.source_block
    return b["figures_found"] / b["figures_expected"] if b.get("figures_expected") else 0.0


def _unreadable(shown: str, sha: str, e: SourceError) -> ImportResult:
    f = Finding("UNREADABLE", ERROR, e.message, values={"reason": e.reason})
    return ImportResult(source=shown, sha256=sha, report=None, findings=[f], identity={},
                        kind=KIND_UNREADABLE, source_block={"file": shown, "error": e.reason})


def import_document(doc: Document, *, spec: FormatSpec, source: str, sha256: str, file_stem: str = "",
                    agency: str | None = None, year: int | None = None) -> ImportResult:
    """One report read in one format: identity, narrative, tables, then every check."""
    lines = doc.lines
    headings = find_headings(spec, lines)
    ranges = section_ranges(spec, headings, len(lines))
    first = min((h.line for h in headings.values()), default=None)
    meta = agency_and_year(lines, first, file_stem)
    findings: list[Finding] = []

    agency_name, agency_from = (agency, "option") if agency else meta.get("agency", ("", None))
    year_value, year_from = (year, "option") if year else meta.get("year", (0, None))
    findings += _identity_findings(agency_name, year_value)
    narrative, wrapped = _narrative(spec, doc, ranges, agency_name or "")
    figures, origins, tables_block = _tables(spec, doc, headings, ranges, findings)

    contact = contact_details(lines, first, {f.key for f in spec.info_fields if not f.locked})
    report = Report(
        format=spec.id, agency=Agency(agency_name or ""), year=int(year_value or 0), contact=contact,
        figures=figures, narrative=narrative,
        provenance=Provenance(source=source, sha256=sha256, application=f"published:{doc.kind}"),
    )
    findings += check_report(report, spec=spec, values=False)
    found = sum(1 for o in origins.values() if o["state"] != MISSING)
    block = {
        "file": source,
        "sha256": sha256,
        "kind": doc.kind,
        "text_style": doc.style,
        "wrapped_text": wrapped,
        "pages": doc.pages,
        "format": spec.id,
        "agency_from": agency_from,
        "year_from": year_from,
        "sections": {s.number: (headings[s.number].line + 1 if s.number in headings else None) for s in spec.sections},
        "tables": tables_block,
        "figures_found": found,
        "figures_expected": len(spec.fields),
        "figures": origins,
        **({"notes": doc.notes} if doc.notes else {}),
    }
    return ImportResult(
        source=source, sha256=sha256, report=report, findings=findings,
        identity={"agency": agency_name or "", "year": str(year_value or "")}, kind=KIND_OK,
        source_block=block,
    )


def _identity_findings(agency_name: str | None, year_value: int | None) -> list[Finding]:
    out = []
    if not agency_name:
        out.append(Finding(NOT_FOUND, ERROR, "报告中没有找到机关名称（查找的位置：标题、开头一段、文件名）。请用 --agency 指定。",
                           values={"what": "agency"}))
    if not year_value:
        out.append(Finding(NOT_FOUND, ERROR, "报告中没有找到报告年度（查找的位置：标题“XXXX年政府信息公开工作年度报告”、统计期限、文件名）。请用 --year 指定。",
                           values={"what": "year"}))
    return out


def _narrative(spec: FormatSpec, doc: Document, ranges: dict[str, tuple[int, int]],
               agency_name: str) -> tuple[dict[str, str], bool]:
    """The text of each narrative section, in paragraphs, and whether the text was wrapped."""
    lines = doc.lines
    texts = {s.key: [ln.text for ln in lines[slice(*ranges[s.number])]]
             for s in spec.narrative_sections if s.number in ranges}
    last = max((s for s in spec.narrative_sections if s.key in texts), key=lambda s: ranges[s.number][0], default=None)
    if last is not None:
        texts[last.key] = strip_tail(texts[last.key], agency_name)
    wrapped = doc.wrapped if doc.wrapped is not None else is_wrapped([t for v in texts.values() for t in v])
    layout = {s.key: [(bool(ln.origin.get("indent")), bool(ln.origin.get("short")))
                      for ln in lines[slice(*ranges[s.number])]]
              for s in spec.narrative_sections if s.number in ranges}
    narrative = {k: paragraphs(v, wrapped, layout[k][:len(v)] if doc.kind == "pdf" else None)
                 for k, v in texts.items()}
    return {k: v for k, v in narrative.items() if v}, wrapped


def _tables(spec: FormatSpec, doc: Document, headings: dict, ranges: dict[str, tuple[int, int]],
            findings: list[Finding]) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, Any]]:
    """Every figure of the three tables (figures, their origins, the tables' block); the findings
    of each table and cell are appended to `findings`."""
    lines = doc.lines
    figures: dict[str, Any] = {f.id: None for f in spec.fields}
    origins: dict[str, dict[str, Any]] = {}
    tables_block: dict[str, Any] = {}
    all_tokens = tokens_of(lines)
    starts = [tok.line for tok in all_tokens]
    spill: list = []
    for t in spec.tables:
        sec = next((s for s in spec.sections if s.kind == "table" and s.key == t.key), None)
        lo, hi = _table_lines(spec, t.key, sec.number if sec else None, ranges, len(lines))
        tokens = all_tokens[bisect.bisect_left(starts, lo):bisect.bisect_left(starts, hi)]
        res = find_table(t, tokens, lines, spec.compute, before=spill)
        spill = res.spill
        tables_block[t.name] = {
            "heading_found": bool(sec and sec.number in headings),
            "layout": res.layout or "official",
            **({"layout_detail": res.layout_detail} if res.layout else {}),
        }
        if res.layout:
            findings.append(_layout_finding(spec, t, res))
        if res.layout in ("2019", "columns"):
            for f in t.fields:
                origins[f.id] = {"state": MISSING, "why": f"layout_{res.layout}"}
            continue
        for f in t.fields:
            cell = res.cells.get(f.id) or Cell(MISSING, why="label")
            origins[f.id] = _origin_dict(cell)
            figures[f.id] = cell.value
            findings.extend(_cell_findings(f, cell))
    return figures, origins, tables_block


KIND_LABELS = {"text": "文本", "docx": "Word 文档", "html": "网页", "pdf": "PDF", "doc": "旧版 Word/WPS 文档"}
STYLE_LABELS = {"plain": "无分隔符的文字", "pipes": "竖线分隔的表格行", "pipe-cells": "每格一行（以 | 结尾）",
                "layout": "按列对齐的文字", "tables": "表格"}


def _table_lines(spec: FormatSpec, key: str, number: str | None, ranges: dict[str, tuple[int, int]],
                 n: int) -> tuple[int, int]:
    """The lines of a table's section; without its heading, from the end of the section before
    to the start of the next one found."""
    if number and number in ranges:
        return ranges[number]
    order = [s.number for s in spec.sections]
    i = order.index(number) if number in order else 0
    lo = max((ranges[x][0] for x in order[:i] if x in ranges), default=0)
    hi = min((ranges[x][0] - 1 for x in order[i + 1:] if x in ranges), default=n)
    return lo, max(lo, hi)


def _origin_dict(cell: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"state": cell.state}
    if cell.raw and cell.state != MISSING:
        out["printed"] = cell.raw
    out.update(cell.origin)
    if cell.state == MISSING:
        out["label"] = cell.label
        out["why"] = cell.why
    return out


def _short(f: Field) -> str:
    return f"表{f.table_name}{f.label}"


def _cell_findings(f: Field, cell: Cell) -> list[Finding]:
    base = {"cells": (f"{f.sheet}!{f.cell}",), "fields": (f.id,), "labels": (_short(f),)}
    if cell.state == MISSING:
        if cell.why == "count":
            msg = (f"{_short(f)}：找到了行标签「{cell.label}」，但这一行印有 {cell.raw or 0} 个数字，与官方格式的列数不符，"
                   "无法确定各数字属于哪一列，未读出。请核对原报告这一行。")
        else:
            msg = f"{_short(f)}：报告中没有找到这一数字（查找的行标签：「{cell.label}」）。请核对原报告是否缺少这一行或标签写法不同。"
        return [Finding(NOT_FOUND, ERROR, msg, values={"label": cell.label, "why": cell.why}, **base)]
    if cell.state == BLANK:
        return [Finding("BLANK", WARNING, f"{_short(f)}：报告中此格为空白（不是 0），按缺失处理，涉及此格的勾稽关系未核对。",
                        values={"value": None, "printed": ""}, **base)]
    if cell.state == NOT_APPLICABLE:
        return [Finding("BLANK", WARNING, f"{_short(f)}：报告中此格印的是“{cell.raw}”（不适用），不是 0，按缺失处理，涉及此格的勾稽关系未核对。",
                        values={"value": None, "printed": cell.raw}, **base)]
    if cell.state == INVALID and cell.error is not None:
        code, tail = number_problem(f, cell.error)
        return [Finding(code, ERROR, f"{_short(f)}{tail}", values={"value": cell.raw}, **base)]
    problem = domain_problem(f, cell.value) if cell.value is not None else None
    if problem:
        return [Finding(problem[0], ERROR, f"{_short(f)}{problem[1]}", values={"value": cell.value}, **base)]
    return []


def _layout_finding(spec: FormatSpec, t, res: TableResult) -> Finding:
    d = res.layout_detail
    name = f"表{t.name}（{next((s.heading for s in spec.sections if s.key == t.key), '')}）"
    if res.layout == "2019":
        labels = "、".join(f"「{x}」" for x in d.get("labels", [])[:4])
        msg = (f"{name}是 2019 年试行格式（{d.get('document')}）的表格：印有 {labels} 等 2021 年格式（{spec.document}）没有的表头。"
               "两种格式的列含义不同，此表的数字未读出，以免误读。")
    elif res.layout == "columns":
        order = "、".join(d.get("order", []))
        msg = (f"{name}的列与官方格式（{spec.document}）的顺序不同（报告中为：{order}）。按位置读取会把数字放错列，"
               "此表的数字未读出，请按原报告核对。")
    elif res.layout == "heading_row":
        msg = (f"{name}中「{d.get('label')}」一行印有自己的数字，而官方格式（{spec.document}）中这一行只是分项的标题："
               "这是旧格式（2019 年试行格式）的表格，其分项数字未读出。")
    else:
        msg = (f"{name}不是官方格式：只找到 {d.get('found')} 行（应有 {d.get('expected')} 行）的行标签，请核对原报告的表格。")
    return Finding(LAYOUT, ERROR, msg, values={"table": t.name, "sheet": t.sheet, "layout": res.layout, **d})
