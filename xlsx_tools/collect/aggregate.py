"""`aggregate` as one library call: read the files handed in, choose which take part (newest per
agency, errors excluded unless asked, limited to a roster if given), sum them with the pure
Aggregator (model/aggregate.py), check the sum against the format's rules and write it as the
official workbook (.xlsx), the Report JSON (.json) or the official document (.docx).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks import check_rules
from ..format.spec import FormatSpec
from ..model.aggregate import AggregateError, Aggregator
from ..model.findings import Finding
from ..model.record import FileRecord
from ..model.report import Report
from ..read.roster import RosterError, read_roster
from ..util.fsutil import atomic_write_text, os_error_text
from ..util.timefmt import now_local
from ..write.docx_report import write_docx
from ..write.protection import TemplateError, generate_password
from ..write.template import write_template
from .aggregate_inputs import Selection, describe, describe_blanks, read_inputs, select
from .aggregate_scope import RosterScope, limit_to_roster

OUTPUT_SUFFIXES = (".xlsx", ".json", ".docx")

# exit status of an output that could not be written: a bad request (2) or the disk (1)
WRITE_USAGE, WRITE_FAILED = 2, 1


@dataclass
class AggregateResult:
    """What `aggregate` did: every file read, the choice, the sum and what was written."""

    spec: FormatSpec
    inputs: list[FileRecord]  # every file read, in reading order
    selection: Selection
    scope: RosterScope | None = None  # with a roster: its agencies included and left out
    report: Report | None = None  # the sum; None when nothing could be summed
    rule_findings: list[Finding] = field(default_factory=list)  # rules the sum does not satisfy
    output: Path | None = None  # written
    password: str | None = None  # the .xlsx's sheet protection
    write_error: str = ""  # why the output could not be written (Chinese)
    write_status: int = 0  # WRITE_USAGE or WRITE_FAILED with write_error

    @property
    def internal(self) -> list[FileRecord]:
        """Files a bug of ours kept from being read (exit status 4)."""
        return [i for i in self.inputs if i.internal]

    def lines(self) -> list[str]:
        """What was summed and what was left out, then the roster's agencies (Chinese)."""
        return describe(self.selection) + (self.scope.lines() if self.scope is not None else [])

    def blank_lines(self) -> list[str]:
        return describe_blanks(self.selection.used)

    def narrative_note(self) -> str:
        """For a .docx: the narrative parts an aggregate leaves empty."""
        numbers = "、".join(s.number for s in self.spec.narrative_sections)
        return f"汇总报告的文字部分（第{numbers}部分）为空，请在 Word 中补写。"


def aggregate(inputs: Sequence[str | Path], output: str | Path, *, agency: str, year: int, spec: FormatSpec,
              code: str = "", title: str | None = None, roster: str | Path | None = None,
              include_errors: bool = False, password: str | None = None, jobs: int = 1) -> AggregateResult:
    """Read `inputs` (files, folders, zip archives), sum the chosen ones and write `output`.

    AggregateError (Chinese) for what stops it before anything is read: inputs not found, an
    unusable roster, an output that is not .xlsx/.json/.docx. Nothing to sum is not an error
    (result.report is None); an output that cannot be written is result.write_error."""
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        raise AggregateError(f"输出文件「{output.name}」的扩展名应为 .xlsx、.json 或 .docx。")
    rows = None
    if roster is not None:
        try:
            rows = read_roster(roster, spec)
        except RosterError as e:
            raise AggregateError(str(e)) from None
    read = list(read_inputs(inputs, jobs=jobs))
    selection = select(read, year=year, format_id=spec.id, include_errors=include_errors)
    result = AggregateResult(spec=spec, inputs=read, selection=selection)
    if rows is not None:
        result.scope = limit_to_roster(selection, rows, Path(roster).name)
    if not selection.used:
        return result
    totals = Aggregator(spec)
    for inp in selection.used:
        inp.blanks = totals.add(inp.figures or {})
    result.report = totals.report(agency, year, code)
    result.rule_findings = check_rules(spec, result.report.figures)
    if output.suffix.lower() == ".xlsx" and password is None:
        password = generate_password()
    result.password = password
    try:
        result.output = write_aggregate(result.report, output, password=password, sources=selection.used, spec=spec,
                                        title=title, extra_fields=result.scope.as_json() if result.scope else None)
    except (AggregateError, TemplateError) as e:
        result.write_error, result.write_status = str(e), WRITE_USAGE
    except OSError as e:
        result.write_error, result.write_status = f"写入「{output}」失败：{os_error_text(e)}。", WRITE_FAILED
    return result


def write_aggregate(report: Report, out: str | Path, *, password: str | None = None,
                    sources: Sequence[FileRecord] = (), spec: FormatSpec | None = None,
                    title: str | None = None, extra_fields: Mapping[str, Any] | None = None) -> Path:
    """Write the combined Report as .xlsx (the official workbook, pre-filled), .json (the Report
    JSON, as `export` writes it) or .docx (the official document). `title` replaces the report's
    title (agency name + the format's report title); `extra_fields` go into the JSON's
    "aggregate" object (e.g. the roster's included and left-out agencies)."""
    out = Path(out)
    suffix = out.suffix.lower()
    spec = spec or report.spec
    if suffix == ".json":
        extra = {"aggregate": {
            "count": len(sources),
            "generated_at": now_local().isoformat(),  # ISO 8601, UTC+8
            "sources": [{"file": s.name, "sha256": s.sha256, "agency": s.agency, "code": s.code, "blanks": s.blanks}
                        for s in sources],
            "blanks": sum(s.blanks for s in sources),
        }}
        if title:
            extra["aggregate"]["title"] = title
        extra["aggregate"].update(extra_fields or {})
        atomic_write_text(out, report.to_json(extra=extra) + "\n")
        return out
    if suffix == ".xlsx":
        write_template(out, agency=report.agency.name, code=report.agency.code, year=report.year,
                       password=password or generate_password(), report=report, spec=spec, title=title or "")
        return out
    if suffix == ".docx":
        return write_docx(report, out, spec=spec, strict=False, title=title)
    raise AggregateError(f"输出文件 {out.name} 的扩展名应为 .xlsx、.json 或 .docx。")
