"""The locked Excel template an agency fills in, written with xlsxwriter from the format spec:
instructions, 基本信息, one sheet per official table (same labels, order and merged cells), the
文字部分 sheet, and a hidden identity sheet. Everything laid out here is derived from the spec.

The spec-derived part of the layout (formulas, check rows, widths, heights, validation ranges) is
computed once per spec and replayed for every agency, which keeps a batch of 1,000 templates fast.
"""

from __future__ import annotations

import math
import os
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import __version__
from ..format.spec import FormatSpec, Number, Table, a1, col_letter, load_format, parse_a1
from ..model import meta
from ..model.meta import (  # noqa: F401  (re-exported: the template's identity lives in the model)
    INSTRUCTIONS_SHEET,
    LAYOUT_VERSION,
    template_fingerprint,
)
from ..model.report import Report
from ..read.roster import RosterRow, csv_bytes
from ..util import fsutil
from .label_wrap import widen_for_orphans, wrap
from .template_checks import (
    HIGHLIGHT,
    MARK_BAD,
    MARK_BLANK,  # noqa: F401  (re-exported: the marks are part of the template)
    MARK_OK,
    CheckArea,
    compact_ranges,
    plan_checks,
    side_formula,
)

# Workbook text that is not part of the official format (UI text, like a CLI message).
DEADLINE_LABEL = "填报截止日期"
NO_DEADLINE = "（按通知要求）"
CHECK_ROW_NOTE = "结果见本行左侧，各在所查列之下"
CHECK_HEADER = ("检查", "规则（实时检查：✓ 符合，✗ 不符合，未填写 = 相关单元格都还没有填；不符合规则时，涉及的填写单元格变红）")
RULES_HEADING = "填报规则"
RULE_KINDS = {"error": "必须符合", "warning": "请核实"}
CROSS_YEAR_NOTE = "（回收时与上一年度报告比对）"
PAGE_FOOTER = "&C第 &P 页 共 &N 页"
MANIFEST_NAME = "manifest.csv"
MANIFEST_EXTRA_COLUMNS = ("文件名", "sha256", "模板指纹", "保护密码")

# Fonts: tables in 宋体 (FORMAT-2021.md §5 recommendation); charset 134 = GB2312 so that Excel
# treats the name as an East Asian font.
LABEL_FONT = "宋体"
GB2312_CHARSET = 134
INPUT_FILL = "#FFF2CC"  # light yellow: "fill me in"
COMPUTED_FILL = "#EDEDED"
HINT_COLOR = "#595959"

# Excel limits for data validation prompts
_TITLE_MAX = 32
_MESSAGE_MAX = 255
# Excel's legacy sheet password is at most 255 characters
_PASSWORD_MAX = 255

_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a manifest

# Files are written through mkstemp (mode 0600); give outputs the mode a plain open() would.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


class TemplateError(ValueError):
    """Bad arguments for a template (the message is Chinese and user-facing)."""


# ---------------------------------------------------------------------------------------------
# Identity


def generate_password(nbytes: int = 6) -> str:
    """A random protection password with at least `nbytes` bytes of entropy, without look-alike
    characters (it is read off a manifest and typed by hand)."""
    length = max(4, math.ceil(nbytes * 8 / math.log2(len(_PASSWORD_ALPHABET))))
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class TemplateInfo:
    path: Path
    agency: str
    code: str
    year: int
    sha256: str
    fingerprint: str
    password: str


# ---------------------------------------------------------------------------------------------
# The spec-derived plan


@dataclass
class _TablePlan:
    table: Table
    col_widths: list[float]
    row_heights: dict[int, float]
    formulas: dict[str, str]  # computed field id -> formula
    checks: CheckArea
    validation_ranges: dict[str, list[str]]  # value type key -> A1 ranges of its input cells
    freeze: tuple[int, int]
    landscape: bool
    scale: float
    # written per workbook as they are: the fields with their number format, defined name and
    # reference, the decimal cells' whole-amount rules, the data validations
    fields: list[tuple[Any, str, str, str]] = field(default_factory=list)  # (field, num_format, name, ref)
    whole_amounts: list[tuple[int, int, str]] = field(default_factory=list)  # (row, col, criteria)
    validations: list[tuple[int, int, int, int, dict[str, Any]]] = field(default_factory=list)
    check_row_texts: list[tuple[int, str]] = field(default_factory=list)  # (row, text right of the table)
    check_texts: list[str | None] = field(default_factory=list)  # per check: its text in the check column
    check_row_labels: set[int] = field(default_factory=set)  # check rows with "检查" in the first column
    blank_marks: list[str] | None = None  # the cached marks of an empty template


@dataclass
class _Plan:
    spec: FormatSpec
    fingerprint: str
    tables: list[_TablePlan]
    rule_lines: list[tuple[str, str, bool]]  # (severity, title, cross-year) for the instructions
    check_cells: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    blank_values: Mapping[str, Number | None] | None = None  # cached results of an empty template
    steps: list[tuple[str, float]] = field(default_factory=list)  # 填报说明 steps: (text, row height)
    rule_rows: list[tuple[str, str, float]] = field(default_factory=list)  # (mark, text, row height)
    info_names: list[tuple[str, str]] = field(default_factory=list)  # (defined name, reference)
    narrative_names: list[tuple[str, str]] = field(default_factory=list)


_PLANS: dict[int, tuple[FormatSpec, _Plan]] = {}


def _plan(spec: FormatSpec) -> _Plan:
    hit = _PLANS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    plan = _build_plan(spec)
    if len(_PLANS) > 16:
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, plan)
    return plan


def _char_units(ch: str) -> float:
    """Width of a character in Excel column units at 11 pt (CJK ≈ 2, Latin ≈ 1)."""
    return 2.1 if unicodedata.east_asian_width(ch) in "WF" else 1.1


def text_units(text: str, size: float) -> float:
    return sum(_char_units(ch) for ch in text) * size / 11


def _lines(text: str, size: float, width: float) -> int:
    avail = max(1.0, width - 1.0)
    return sum(max(1, math.ceil(text_units(part, size) / avail)) for part in text.split("\n"))


def _line_height(size: float) -> float:
    return size * 1.35 + 1


def _build_plan(spec: FormatSpec) -> _Plan:
    tables = [_plan_table(spec, t) for t in spec.tables]
    seen: set[str] = set()
    rule_lines: list[tuple[str, str]] = []
    for r in spec.rules:
        if r.code in seen:
            continue
        seen.add(r.code)
        rule_lines.append((r.severity, r.title, r.cross_year))
    plan = _Plan(spec=spec, fingerprint=template_fingerprint(spec), tables=tables, rule_lines=rule_lines)
    for tp in tables:
        plan.check_cells[tp.table.sheet] = [(c.cell, c.rule.expr) for c in tp.checks.checks]
    plan.steps = [(text, _instr_height(text, 11, _INSTR_TEXT_WIDTH, 6)) for text in _instruction_steps(spec)]
    for severity, text, cross_year in rule_lines:
        if cross_year:
            text += CROSS_YEAR_NOTE
        plan.rule_rows.append((RULE_KINDS.get(severity, severity), text,
                               max(18, _instr_height(text, 11, _INSTR_TEXT_WIDTH))))
    plan.info_names = [_name_ref(f) for f in spec.info_fields]
    plan.narrative_names = [_name_ref(p) for p in spec.narrative_parts]
    return plan


def _name_ref(f) -> tuple[str, str]:
    """A cell's workbook-level defined name and what it refers to ('表三'!$D$4)."""
    return f.name, f"='{f.sheet}'!${col_letter(f.col)}${f.row + 1}"


def _plan_table(spec: FormatSpec, t: Table) -> _TablePlan:
    size = t.font_size
    first_data_col = min(f.col for f in t.fields)
    label_cols = range(t.origin_col, first_data_col)
    data_cols = range(first_data_col, t.origin_col + t.grid_columns)
    widths: dict[int, float] = {}
    # data columns: the leaf column labels on one line (few columns) or two (many columns)
    leaf = [c for c in t.cells if c.role == "column" and c.colspan == 1]
    nlines = 1 if len(data_cols) <= 4 else 2
    for col in data_cols:
        units = max((text_units(c.text, size) for c in leaf if c.col == col), default=0.0)
        widths[col] = min(16.0, max(6.5, math.ceil(units / nlines * 2) / 2 + 1.5))
    # row label columns: a tall cell wraps into a narrow column, a one-row label may be long
    for col in label_cols:
        best = 6.0
        for c in t.cells:
            if c.role in ("row", "corner") and c.col == col and c.colspan == 1:
                units = text_units(c.text, size)
                best = max(best, units / min(c.rowspan, 4) + 1.5 if c.rowspan > 1 else min(units + 1.5, 28.0))
        widths[col] = math.ceil(best * 2) / 2
    widen_for_orphans(t.cells, widths, size)
    col_widths = [widths[c] for c in range(t.origin_col, t.origin_col + t.grid_columns)]

    # row heights: enough lines for every wrapped label; a merged label shares its rows
    min_h = max(18.0, _line_height(size) + 5)
    heights = {r: min_h for r in range(t.origin_row, t.origin_row + t.grid_rows)}
    spans = sorted(t.cells, key=lambda c: c.rowspan)
    for c in spans:
        width = sum(widths[k] for k in range(c.col, c.col + c.colspan))
        need = max(_lines(c.text, size, width), len(wrap(c.text, size, width))) * _line_height(size) + 5
        rows = range(c.row, c.row + c.rowspan)
        have = sum(heights[r] for r in rows)
        if need > have:
            extra = (need - have) / c.rowspan
            for r in rows:
                heights[r] = math.ceil((heights[r] + extra) * 4) / 4

    formulas = {}
    for f in t.fields:
        if not f.input:
            rule = spec.computing_rule(f.id)
            if rule is not None:
                formulas[f.id] = "=" + side_formula(spec, rule.right, t.sheet)

    ranges: dict[str, list[str]] = {}
    by_type: dict[str, list] = {}
    for f in t.fields:
        if f.input:
            by_type.setdefault(f.type.key, []).append(f)
    for key, fields in by_type.items():
        ranges[key] = compact_ranges([(f.row, f.col, f.colspan) for f in fields])
    validations = [_validation(spec.types[key], rs) for key, rs in ranges.items()]
    fields_out = [(f, _num_format(f.type), *_name_ref(f)) for f in t.fields]
    whole = [(f.row, f.col, _whole_criteria(f)) for f in t.fields if f.type.kind == "decimal"]

    header_bottom = max(t.header_rows) + 1 if t.header_rows else t.origin_row
    freeze = (header_bottom, first_data_col)
    # A4 portrait printable width ≈ 7.27 in with 0.5 in margins; a column unit ≈ 7 px at 96 dpi
    table_px = sum(w * 7 + 5 for w in col_widths)
    portrait_scale = min(1.0, 7.27 * 96 / table_px)
    landscape = portrait_scale < 0.85
    scale = min(1.0, (10.69 if landscape else 7.27) * 96 / table_px)
    checks = plan_checks(spec, t)
    below = {row for row, _ in checks.check_rows}
    return _TablePlan(
        table=t, col_widths=col_widths, row_heights=heights, formulas=formulas, checks=checks,
        validation_ranges=ranges, freeze=freeze, landscape=landscape, scale=scale,
        fields=fields_out, whole_amounts=whole, validations=validations,
        check_row_texts=[(row, f"{title}（{CHECK_ROW_NOTE}）") for row, title in checks.check_rows],
        check_texts=[ch.text if ch.row not in below and ch.col == checks.check_col else None
                     for ch in checks.checks],
        check_row_labels={row for row, _ in checks.check_rows
                          if (row, t.origin_col) not in {(ch.row, ch.col) for ch in checks.checks}},
    )


def _validation(vt, ranges: list[str]) -> tuple[int, int, int, int, dict[str, Any]]:
    """The data validation of one value type's input cells: the first range's corners and the
    options (the other ranges in multi_range)."""
    r0, c0 = parse_a1(ranges[0].split(":")[0])
    r1, c1 = parse_a1(ranges[0].split(":")[-1])
    options = {
        "validate": "integer" if vt.kind == "integer" else "decimal",
        "criteria": "between", "minimum": vt.minimum, "maximum": vt.maximum, "ignore_blank": True,
        "input_title": _clip(vt.prompt_title, _TITLE_MAX), "input_message": _clip(vt.prompt, _MESSAGE_MAX),
        "error_title": _clip(vt.error_title, _TITLE_MAX), "error_message": _clip(vt.error, _MESSAGE_MAX),
        "error_type": "stop",
    }
    if len(ranges) > 1:
        options["multi_range"] = " ".join(ranges)
    return r0, c0, r1, c1, options


def check_cells(spec: FormatSpec | None = None) -> dict[str, list[tuple[str, str]]]:
    """Where the live check area is: per sheet, (cell of the ✓/✗ mark, expanded rule expression),
    in the order of spec.rules."""
    return {k: list(v) for k, v in _plan(spec or load_format()).check_cells.items()}


# ---------------------------------------------------------------------------------------------
# Writing


class _Worksheet(Worksheet):
    """xlsxwriter's Worksheet with its formula preparation (about 60 regex substitutions per
    formula) memoised: every template of a batch has the same formulas."""

    _prepared: dict[tuple[str, bool, bool], str] = {}

    def _prepare_formula(self, formula, expand_future_functions=False):
        key = (formula, bool(self.use_future_functions), bool(expand_future_functions))
        hit = self._prepared.get(key)
        if hit is None:
            hit = super()._prepare_formula(formula, expand_future_functions)
            if len(self._prepared) < 10_000:
                self._prepared[key] = hit
        return hit


class _Workbook(Workbook):
    """xlsxwriter's Workbook plus workbook structure protection, which xlsxwriter has no API for:
    <workbookProtection> goes right after <workbookPr> (ECMA-376 CT_Workbook order)."""

    structure_password_hash: str | None = None

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        if self.structure_password_hash is not None:
            attrs = [("workbookPassword", self.structure_password_hash), ("lockStructure", 1)]
            self._xml_empty_tag("workbookProtection", attrs)

    def add_sheet(self, name: str) -> _Worksheet:
        return self.add_worksheet(name, worksheet_class=_Worksheet)

    _named: dict[tuple[str, str], tuple] = {}

    def name_cells(self, names: Iterable[tuple[str, str]]) -> None:
        """Workbook-level defined names, each for one cell: (name, "='表三'!$D$4"). xlsxwriter
        checks a name with five regular expressions; a global name's entry depends on the name
        and reference only, so it is checked once per process and then appended as it was."""
        for name, ref in names:
            entry = self._named.get((name, ref))
            if entry is None:
                if self.define_name(name, ref) != 0:
                    raise ValueError(f"invalid defined name {name!r}")  # a format file bug, not user input
                entry = tuple(self.defined_names[-1])
                if len(self._named) < 10_000:
                    self._named[(name, ref)] = entry
            else:
                self.defined_names.append(list(entry))


def _password_hash(password: str) -> str:
    """Excel's legacy 16-bit password hash (the same xlsxwriter uses for sheets)."""
    h = 0
    for i, ch in enumerate(password):
        value = ord(ch) << (i + 1)
        h ^= ((value >> 15) | value) & 0x7FFF
    h ^= len(password)
    h ^= 0xCE4B
    return f"{h:X}"


_PROTECT_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_columns": True,  # widening a column or row to read a long text is harmless
    "format_rows": True,
}


def _formats(wb: Workbook) -> Callable[..., Any]:
    cache: dict[tuple, Any] = {}

    def fmt(kind: str, size: float = 11, **extra: Any) -> Any:
        key = (kind, size, tuple(sorted(extra.items())) if extra else ())
        hit = cache.get(key)
        if hit is not None:
            return hit
        props: dict[str, Any] = {"font_name": LABEL_FONT, "font_charset": GB2312_CHARSET, "font_size": size,
                                 "valign": "vcenter"}
        if kind == "title":
            props.update(bold=True, font_size=size + 3)
        elif kind in ("header", "block"):
            props.update(border=1, text_wrap=True, align="center", bold=kind == "block")
        elif kind == "row":
            props.update(border=1, text_wrap=True, align="left")
        elif kind == "row_tall":
            props.update(border=1, text_wrap=True, align="center")
        elif kind == "input":
            props.update(border=1, align="center", locked=False, bg_color=INPUT_FILL)
        elif kind == "computed":
            props.update(border=1, align="center", bg_color=COMPUTED_FILL, bold=True)
        elif kind == "text_input":
            props.update(border=1, text_wrap=True, align="left", valign="top", locked=False, bg_color=INPUT_FILL)
        elif kind == "locked_value":
            props.update(border=1, text_wrap=True, align="left")
        elif kind == "label":
            props.update(border=1, text_wrap=True, align="left", bold=True)
        elif kind == "hint":
            props.update(font_color=HINT_COLOR, text_wrap=True, valign="top")
        elif kind == "mark":
            props.update(border=1, align="center", bold=True)
        elif kind == "plain":
            props.update(text_wrap=True, valign="top")
        elif kind == "check_text":
            props.update(border=1)
        props.update(extra)
        f = wb.add_format(props)
        cache[key] = f
        return f

    return fmt


def _num(v: Number) -> int | float:
    return float(v) if isinstance(v, Decimal) else v


def _num_format(vtype) -> str:
    """A fee shows exactly the digits entered, never padded (26.5, not 26.50; 24252.311082 in full):
    "0.######", and a conditional format turns whole amounts to "0" so that 12 is not "12."
    (see _whole_amounts). Excel's "General" is no option: it rounds to 11 characters."""
    return "0" if vtype.kind == "integer" or vtype.decimals == 0 else "0." + "#" * vtype.decimals


def _whole_criteria(fl) -> str:
    """The condition of a decimal cell's whole-amount format (see _whole_amounts)."""
    ref = a1(fl.row, fl.col)
    return f"=AND(ISNUMBER({ref}),INT({ref})={ref})"


def _whole_amounts(wb, ws, tp: _TablePlan) -> None:
    """A decimal cell holding a whole number is shown without a decimal point (Excel, WPS and
    LibreOffice all apply a conditional format's number format)."""
    for row, col, criteria in tp.whole_amounts:
        ws.conditional_format(row, col, row, col, {
            "type": "formula", "criteria": criteria, "format": wb.add_format({"num_format": "0"}),
        })


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def parts_from_narrative(spec: FormatSpec, narrative: Mapping[str, str]) -> dict[str, str]:
    """The 文字部分 cells ("overview.active" -> text) for a Report's section texts: the inverse of
    report.narrative_from_parts. A line that starts with a later part's ordinal ("（二）") starts that
    part; everything else stays with the part before it. Blank lines at a part boundary are
    dropped (narrative_from_parts strips each part)."""
    out: dict[str, str] = {}
    for section in dict.fromkeys(p.section for p in spec.narrative_parts):
        text = (narrative.get(section) or "").strip()
        if not text:
            continue
        parts = [p for p in spec.narrative_parts if p.section == section]
        ordinals = [p.label[: p.label.index("）") + 1] if p.label.startswith("（") and "）" in p.label else None
                    for p in parts]
        current = 0
        chunks: dict[int, list[str]] = {}
        for line in text.split("\n"):
            for i in range(current + 1, len(parts)):
                if ordinals[i] and line.startswith(ordinals[i]):
                    current = i
                    break
            chunks.setdefault(current, []).append(line)
        for i, lines in chunks.items():
            out[f"{parts[i].section}.{parts[i].key}"] = "\n".join(lines)
    return out


def check_password(password: str | None) -> str:
    """The password, or TemplateError: not empty, printable ASCII (Excel's legacy sheet-password
    hash of other characters depends on the code page, so the office could not unlock the sheet
    in every program), at most 255 characters."""
    if not password:
        raise TemplateError("保护密码不能为空：请用 --password 指定，或不指定以自动生成。")
    if any(not (32 < ord(c) < 127) for c in password):
        raise TemplateError("保护密码只能由英文字母、数字和英文标点组成（不含空格和中文），以便在 Excel、WPS 和 LibreOffice 中都能解除保护。")
    if len(password) > _PASSWORD_MAX:
        raise TemplateError(f"保护密码过长（{len(password)} 个字符），Excel 最多允许 {_PASSWORD_MAX} 个字符。")
    return password


def write_template(
    path: str | Path,
    *,
    agency: str,
    year: int,
    code: str = "",
    password: str,
    contact: Mapping[str, str] | None = None,
    report: Report | None = None,
    deadline: str = "",
    spec: FormatSpec | None = None,
    narrative_parts: Mapping[str, str] | None = None,
    created: datetime | None = None,
    title: str = "",
) -> TemplateInfo:
    """Write the locked template of one agency to `path` (atomically) and describe it.

    `report` pre-fills the inputs (figures, contact, narrative) and the cached formula results;
    `contact` overrides the report's contact details; `title` replaces the workbook's title
    (agency name + report title)."""
    agency = (agency or "").strip()
    if not agency:
        raise TemplateError("机关名称不能为空。")
    check_password(password)
    if spec is None:
        spec = report.spec if report is not None else load_format()
    plan = _plan(spec)
    figures: Mapping[str, Number | None] = report.figures if report is not None else {}
    info_values: dict[str, Any] = dict(report.contact) if report is not None else {}
    info_values.update(contact or {})
    if narrative_parts is None and report is not None:
        narrative_parts = parts_from_narrative(spec, report.narrative)
    info_values.update(agency=agency, code=code or "", year=year)
    created = created or datetime.now().astimezone().replace(microsecond=0)

    path = Path(path)
    with fsutil.atomic_path(path) as tmp:
        _write(tmp, plan, info_values, figures, narrative_parts or {}, password, deadline, created, title)
        os.chmod(tmp, FILE_MODE)
    return TemplateInfo(
        path=path, agency=agency, code=code or "", year=year, sha256=fsutil.sha256_file(path),
        fingerprint=plan.fingerprint, password=password,
    )


def _write(target: Path, plan: _Plan, info: Mapping[str, Any], figures: Mapping[str, Number | None],
           parts: Mapping[str, str], password: str, deadline: str, created: datetime, title: str = "") -> None:
    spec = plan.spec
    wb = _Workbook(str(target), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.structure_password_hash = _password_hash(password)
    fmt = _formats(wb)
    agency, year = info["agency"], info["year"]
    title = title or f"{agency} {spec.report_title.format(year=year)}"
    wb.set_properties({"title": title, "subject": spec.title, "author": meta.GENERATOR,
                       "company": agency, "comments": spec.document, "created": created.replace(tzinfo=None)})

    meta_values = {
        "generator": meta.GENERATOR, "generator_version": __version__, "format": spec.id,
        "format_version": spec.version, "fingerprint": plan.fingerprint, "agency": agency,
        "code": info.get("code", ""), "year": str(year), "created": created.isoformat(),
    }
    for key in meta.KEYS:
        wb.set_custom_property(meta.property_name(key), str(meta_values[key]))

    _write_instructions(wb, fmt, plan, info, deadline, title, password)
    _write_info(wb, fmt, spec, info, password, plan.info_names)
    values = dict(figures)
    computed = _excel_values(plan, values)
    blank = not any(v is not None for v in values.values())
    for tp in plan.tables:
        _write_table(wb, fmt, spec, tp, values, computed, password, blank)
    _write_narrative(wb, fmt, spec, parts, password, plan.narrative_names)

    ws = wb.add_sheet(meta.META_SHEET)
    for i, key in enumerate(meta.KEYS):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, str(meta_values[key]))
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 40)
    ws.hide()
    ws.protect(password, _PROTECT_OPTIONS)
    wb.close()


def _sheet_setup(ws, password: str, landscape: bool = False, header: str = "") -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    ws.fit_to_pages(1, 0)
    if header:
        ws.set_header(f"&C{header.replace('&', '&&')}")
    ws.set_footer(PAGE_FOOTER)
    ws.protect(password, _PROTECT_OPTIONS)


def _excel_values(plan: _Plan, values: Mapping[str, Number | None]) -> Mapping[str, Number | None]:
    """Every field's value as Excel shows it (a blank input counts as 0): the cached results."""
    if not any(v is not None for v in values.values()):
        if plan.blank_values is None:
            plan.blank_values = plan.spec.compute({f.id: 0 for f in plan.spec.input_fields})
        return plan.blank_values
    return plan.spec.compute({f.id: (0 if values.get(f.id) is None else values[f.id]) for f in plan.spec.input_fields})


# 填报说明 columns: labels and marks, then text. Widths in Excel units; heights from the width a
# text needs at 11 pt, with a margin because Excel's 宋体 is a little wider than text_units says.
_INSTR_LABEL_WIDTH = 14
_INSTR_TEXT_WIDTH = 96
_INSTR_MARGIN = 1.08


def _instr_height(text: str, size: float, width: float, pad: float = 4) -> float:
    return _lines(text, size * _INSTR_MARGIN, width) * _line_height(size) + pad


def _write_instructions(wb, fmt, plan: _Plan, info: Mapping[str, Any], deadline: str, title: str,
                        password: str) -> None:
    spec = plan.spec
    ws = wb.add_sheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, _INSTR_LABEL_WIDTH)
    ws.set_column(1, 1, _INSTR_TEXT_WIDTH)
    width = _INSTR_LABEL_WIDTH + _INSTR_TEXT_WIDTH
    # a long agency name makes the title wrap rather than run off the page
    ws.merge_range(0, 0, 0, 1, title, fmt("title", 13, text_wrap=True))
    ws.set_row(0, max(28, _instr_height(title, 16, width, 8)))
    labels = {f.key: f.label for f in spec.info_fields}
    row = 2
    for label, value in ((labels.get("agency", ""), info["agency"]), (labels.get("year", ""), str(info["year"])),
                         (DEADLINE_LABEL, deadline or NO_DEADLINE)):
        ws.write_string(row, 0, label, fmt("label", 11))
        ws.write_string(row, 1, value, fmt("locked_value", 11))
        ws.set_row(row, max(18, _instr_height(value, 11, _INSTR_TEXT_WIDTH)))
        row += 1
    row += 1
    row = _instructions_heading(ws, fmt, row, INSTRUCTIONS_SHEET)
    for i, (text, height) in enumerate(plan.steps, 1):
        ws.write_string(row, 0, f"{i}.", fmt("plain", 11, align="right"))
        ws.write_string(row, 1, text, fmt("plain", 11))
        ws.set_row(row, height)
        row += 1
    row += 1
    row = _instructions_heading(ws, fmt, row, RULES_HEADING)
    for mark, text, height in plan.rule_rows:
        ws.write_string(row, 0, mark, fmt("label", 11, align="center", bold=False))
        ws.write_string(row, 1, text, fmt("locked_value", 11))
        ws.set_row(row, height)
        row += 1
    _sheet_setup(ws, password)
    ws.print_area(0, 0, row - 1, 1)
    ws.activate()


def _instruction_steps(spec: FormatSpec) -> list[str]:
    """The numbered steps of 填报说明 (the same for every agency of a format)."""
    table_sheets = "、".join(f"「{t.sheet}」" for t in spec.tables)
    units = "；".join(t.instruction for t in spec.types.values() if t.instruction)
    return [
        f"黄色单元格是填写区域，其余单元格已锁定。请按顺序填写「{spec.info_sheet}」、{table_sheets}和「{spec.narrative_sheet}」。",
        f"「{spec.info_sheet}」：机关名称、机关代码和报告年度已由政务公开办填好，请填写联系人、联系电话等信息。",
        f"{table_sheets}与官方格式（{spec.document}）完全一致，行号即官方表格的行号。{units}。",
        "灰色的总计单元格由公式自动计算，无需填写。“检查”实时显示各项规则是否满足：逐行检查的结果在表格右侧该行，逐列检查的结果在表格下方该列；✓ 符合，✗ 不符合（涉及的填写单元格同时变红），“未填写”表示相关单元格都还没有填。请核对至全部为 ✓。",
        f"「{spec.narrative_sheet}」：填写报告第{spec.narrative_numbers}部分的文字。单元格内换行：Excel、WPS 按 Alt+Enter，LibreOffice 按 Ctrl+Enter。",
        "请勿修改工作表名称、增删行列或从其他文件复制粘贴整张表格；填好后保存为 .xlsx 格式，在截止日期前报送。",
    ]


def _instructions_heading(ws, fmt, row: int, text: str) -> int:
    """A section heading across both columns, without borders (not a field to fill)."""
    ws.merge_range(row, 0, row, 1, text, fmt("plain", 12, bold=True, valign="bottom"))
    ws.set_row(row, 22)
    return row + 1


def _write_text(ws, row: int, col: int, text: str, cell_format) -> None:
    """A text cell; an empty one stays blank (an empty string would read back as "")."""
    if text:
        ws.write_string(row, col, text, cell_format)
    else:
        ws.write_blank(row, col, None, cell_format)


def _form_sheet(wb, fmt, name: str, title: str, value_col: int, widths: tuple[int, int, int]):
    """A sheet of label | value | hint rows (基本信息, 文字部分) under a title row."""
    ws = wb.add_sheet(name)
    label_col = value_col - 1
    for offset, width in enumerate(widths):
        ws.set_column(label_col + offset, label_col + offset, width)
    ws.merge_range(0, label_col, 0, value_col + 1, title, fmt("title", 13))
    ws.set_row(0, 26)
    return ws, label_col


_INFO_BLANK_HEIGHT = max(22, _lines("", 11, 50) * _line_height(11) + 6)


def _write_info(wb, fmt, spec: FormatSpec, info: Mapping[str, Any], password: str,
                names: Sequence[tuple[str, str]]) -> None:
    fields = spec.info_fields
    ws, label_col = _form_sheet(wb, fmt, spec.info_sheet, spec.info_title, fields[0].col, (14, 50, 62))
    for f in fields:
        ws.write_string(f.row, label_col, f.label, fmt("label", 11))
        value = info.get(f.key)
        if f.locked:
            cell_fmt = fmt("locked_value", 11)
            if isinstance(value, int):
                ws.write_number(f.row, f.col, value, cell_fmt)
            else:
                _write_text(ws, f.row, f.col, str(value or ""), cell_fmt)
        else:
            cell_fmt = fmt("text_input", 11, valign="vcenter")
            _write_text(ws, f.row, f.col, str(value or ""), cell_fmt)
            options = {"validate": "any", "input_title": _clip(f.label, _TITLE_MAX)}
            if f.prompt:
                options["input_message"] = _clip(f.prompt, _MESSAGE_MAX)
            ws.data_validation(f.row, f.col, f.row, f.col, options)
        if f.prompt:
            ws.write_string(f.row, f.col + 1, f.prompt, fmt("hint", 9, valign="vcenter"))
        text = str(value or "")
        ws.set_row(f.row, max(22, _lines(text, 11, 50) * _line_height(11) + 6) if text else _INFO_BLANK_HEIGHT)
    wb.name_cells(names)
    _sheet_setup(ws, password)
    ws.print_area(0, label_col, fields[-1].row, label_col + 1)
    ws.freeze_panes(fields[0].row, 0)


def _write_table(wb, fmt, spec: FormatSpec, tp: _TablePlan, values: Mapping[str, Number | None],
                 computed: Mapping[str, Number | None], password: str, blank: bool = False) -> None:
    t = tp.table
    size = t.font_size
    ws = wb.add_sheet(t.sheet)
    for i, w in enumerate(tp.col_widths):
        ws.set_column(t.origin_col + i, t.origin_col + i, w)
    for r, h in tp.row_heights.items():
        ws.set_row(r, h)
    for c in t.cells:
        if c.role == "title":
            f = fmt("block", size)
        elif c.role == "row":
            f = fmt("row_tall" if c.rowspan > 2 and c.colspan == 1 else "row", size)
        else:
            f = fmt("header", size)
        if c.merged:
            ws.merge_range(c.row, c.col, c.row + c.rowspan - 1, c.col + c.colspan - 1, c.text, f)
        else:
            ws.write_string(c.row, c.col, c.text, f)
    field_fmts: dict[tuple[bool, str], Any] = {}  # (input, number format) -> format, made on first use
    for fl, nf, _, _ in tp.fields:
        f = field_fmts.get((fl.input, nf))
        if f is None:
            f = field_fmts[(fl.input, nf)] = fmt("input" if fl.input else "computed", size, num_format=nf)
        if fl.input:
            v = values.get(fl.id)
            if fl.colspan > 1:
                ws.merge_range(fl.row, fl.col, fl.row, fl.col + fl.colspan - 1, "" if v is None else _num(v), f)
            elif v is None:
                ws.write_blank(fl.row, fl.col, None, f)
            else:
                ws.write_number(fl.row, fl.col, _num(v), f)
        else:
            cached = computed.get(fl.id)
            formula = tp.formulas.get(fl.id, "=0")
            if fl.colspan > 1:
                ws.merge_range(fl.row, fl.col, fl.row, fl.col + fl.colspan - 1, "", f)
            ws.write_formula(fl.row, fl.col, formula, f, _num(cached) if cached is not None else 0)
    wb.name_cells((name, ref) for _, _, name, ref in tp.fields)
    _whole_amounts(wb, ws, tp)
    for r0, c0, r1, c1, options in tp.validations:
        ws.data_validation(r0, c0, r1, c1, options)

    _write_checks(wb, ws, fmt, tp, values, computed, blank)
    _sheet_setup(ws, password, landscape=tp.landscape, header=t.heading)
    ws.print_black_and_white()  # the printed table looks like the official one: no input fill
    ws.print_area(t.origin_row, t.origin_col, t.origin_row + t.grid_rows - 1, t.origin_col + t.grid_columns - 1)
    if t.header_rows:
        ws.repeat_rows(min(t.header_rows), max(t.header_rows))
    if any(tp.freeze):
        ws.freeze_panes(*tp.freeze)


def _write_checks(wb, ws, fmt, tp: _TablePlan, values: Mapping[str, Number | None],
                  computed: Mapping[str, Number | None], blank: bool = False) -> None:
    """The live check area (template_checks): the check column right of the table after one
    empty column, the check rows below it, the marks' colours and the highlighted inputs."""
    t, area = tp.table, tp.checks
    cc = area.check_col
    ws.set_column(cc - 1, cc - 1, 2)
    ws.set_column(cc, cc, 8)
    ws.set_column(cc + 1, cc + 1, 60)
    if not area.checks:
        return
    ws.write_string(t.origin_row, cc, CHECK_HEADER[0], fmt("header", 9, bold=True))
    ws.write_string(t.origin_row, cc + 1, CHECK_HEADER[1], fmt("header", 9, bold=True, align="left", text_wrap=False))
    for row, text in tp.check_row_texts:
        ws.set_row(row, 18.0)
        if row in tp.check_row_labels:  # no merged cells: the table's merges stay the official ones
            ws.write_string(row, t.origin_col, CHECK_HEADER[0], fmt("header", 9, bold=True))
        ws.write_string(row, cc + 1, text, fmt("check_text", 9))
    if blank:  # an empty template: the same marks every time
        if tp.blank_marks is None:
            tp.blank_marks = [ch.cached(values, computed) for ch in area.checks]
        marks = tp.blank_marks
    else:
        marks = [ch.cached(values, computed) for ch in area.checks]
    for ch, mark, text in zip(area.checks, marks, tp.check_texts, strict=True):
        ws.write_formula(ch.row, ch.col, ch.formula, fmt("mark", 9), mark)
        if text is not None:
            ws.write_string(ch.row, cc + 1, text, fmt("check_text", 9))
    ok = wb.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})
    bad = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
    for rect in area.mark_rects:
        for mark, f in ((MARK_OK, ok), (MARK_BAD, bad)):
            ws.conditional_format(*rect, {"type": "cell", "criteria": "==", "value": f'"{mark}"', "format": f})
    highlight = wb.add_format(HIGHLIGHT)
    for rect, formula in area.highlights:
        ws.conditional_format(*rect, {"type": "formula", "criteria": formula, "format": highlight})


_NARRATIVE_BLANK_NEED = _lines("", 11, 90) * _line_height(11) + 8


def _write_narrative(wb, fmt, spec: FormatSpec, parts: Mapping[str, str], password: str,
                     names: Sequence[tuple[str, str]]) -> None:
    items = spec.narrative_parts
    text_col = items[0].col
    ws, label_col = _form_sheet(wb, fmt, spec.narrative_sheet, spec.narrative_title, text_col, (16, 90, 34))
    for p in items:
        text = parts.get(f"{p.section}.{p.key}", "") or ""
        ws.write_string(p.row, label_col, p.label, fmt("label", 11, valign="top"))
        _write_text(ws, p.row, text_col, text, fmt("text_input", 11))
        options = {"validate": "any", "input_title": _clip(p.label, _TITLE_MAX)}
        ws.data_validation(p.row, text_col, p.row, text_col, options)
        if p.hint:
            ws.write_string(p.row, text_col + 1, p.hint, fmt("hint", 9))
        need = _lines(text, 11, 90) * _line_height(11) + 8 if text else _NARRATIVE_BLANK_NEED
        ws.set_row(p.row, min(409, max(120, need)))
    wb.name_cells(names)
    _sheet_setup(ws, password)
    ws.print_area(0, label_col, items[-1].row, text_col)


# ---------------------------------------------------------------------------------------------
# Batches


def _as_row(item: Any) -> RosterRow:
    if isinstance(item, RosterRow):
        return item
    if isinstance(item, Mapping):
        return RosterRow(agency=str(item.get("agency", "")), code=str(item.get("code", "") or ""),
                         contact={k: str(v) for k, v in item.items() if k not in ("agency", "code")})
    name, *rest = item
    return RosterRow(agency=str(name), code=str(rest[0]) if rest else "")


def template_stem(agency: str) -> str:
    """The file name (without .xlsx) of an agency's template: its cleaned name, shortened to a
    length every file system accepts (60 Chinese characters)."""
    return fsutil.safe_filename(agency)


def single_target(output: str | os.PathLike | None, agency: str) -> Path:
    """Where `template --agency` writes: `output` if it names an .xlsx file, or
    `<safe agency name>.xlsx` inside it if it is an existing folder or ends with a path separator
    (a folder to create); the current folder without `output`. Missing folders are created when
    the file is written."""
    name = f"{template_stem(agency)}.xlsx"
    if output is None:
        return Path(name)
    text = os.fspath(output)
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep, "/") if sep)) or Path(text).is_dir():
        return Path(text) / name
    target = Path(text)
    if target.suffix.lower() == ".xlsx":
        return target
    if not target.suffix:
        raise TemplateError(f"-o 应为 .xlsx 文件或文件夹：{text} 既不以 .xlsx 结尾，也不是已有的文件夹。"
                            f"要保存到新文件夹，请在末尾加“/”（如 {text}/）；要保存为文件，请写成 {text}.xlsx。")
    raise TemplateError(f"模板只能保存为 .xlsx 格式（Excel 工作簿），不能保存为 {target.suffix}：请把 -o 改为 "
                        f"{target.with_suffix('.xlsx')}。")


def batch_filenames(rows: Sequence[RosterRow]) -> list[str]:
    """`<safe agency name>.xlsx` per row; names that clean to the same file on a Windows share
    (case or width only, as `fsutil.filename_key` tells) get -2, -3, ..., as `--add` does."""
    used: set[str] = set()
    out = []
    for row in rows:
        stem = template_stem(row.agency)
        out.append(fsutil.unique_name(f"{stem}.xlsx", lambda n, stem=stem: f"{stem}-{n}.xlsx", used))
    return out


def write_batch(
    roster_rows: Iterable[Any],
    year: int,
    outdir: str | Path,
    *,
    password: str | None = None,
    deadline: str = "",
    progress: Callable[[TemplateInfo], None] | None = None,
    spec: FormatSpec | None = None,
) -> list[TemplateInfo]:
    """One template per roster row into `outdir`, plus manifest.csv (UTF-8 with BOM, for Excel).
    Without `password` one is generated for the whole batch."""
    spec = spec or load_format()
    rows = [_as_row(r) for r in roster_rows]
    password = check_password(generate_password() if password is None else password)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    infos = []
    for row, name in zip(rows, batch_filenames(rows), strict=True):
        info = write_template(
            outdir / name, agency=row.agency, year=year, code=row.code, password=password,
            contact=row.contact, deadline=deadline, spec=spec,
        )
        infos.append(info)
        if progress is not None:
            progress(info)
    write_manifest(outdir / MANIFEST_NAME, infos, spec, rows=rows, deadline=deadline,
                   columns=getattr(roster_rows, "columns", None))
    return infos


def write_manifest(path: str | Path, infos: Sequence[TemplateInfo], spec: FormatSpec | None = None, *,
                   rows: Sequence[RosterRow] = (), deadline: str = "", columns: Sequence[str] | None = None) -> Path:
    """manifest.csv: 机关名称, 机关代码, every other column of the roster (联系人, 联系电话, 简称, ...
    in the roster's order, so that the manifest can be the roster of `collect`), 文件名, sha256,
    模板指纹, 保护密码, and 填报截止日期 when there is one."""
    spec = spec or load_format()
    labels = {f.key: f.label for f in spec.info_fields}
    own = [labels["agency"], labels["code"], *MANIFEST_EXTRA_COLUMNS, DEADLINE_LABEL]
    values = [{**{labels[k]: v for k, v in r.contact.items() if k in labels}, **dict(r.extra)} for r in rows]
    middle = [c for c in (columns or []) if c not in own]
    for v in values:
        middle += [c for c in v if c not in own and c not in middle]
    header = [labels["agency"], labels["code"], *middle, *MANIFEST_EXTRA_COLUMNS] + ([DEADLINE_LABEL] if deadline else [])
    body = []
    for n, i in enumerate(infos):
        extra = values[n] if n < len(values) else {}
        body.append([i.agency, i.code, *(extra.get(c, "") for c in middle), i.path.name, i.sha256, i.fingerprint,
                     i.password] + ([deadline] if deadline else []))
    data = csv_bytes([header] + body)
    with fsutil.atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, FILE_MODE)
    return Path(path)


__all__ = [
    "LAYOUT_VERSION", "TemplateError", "TemplateInfo", "RosterRow", "check_cells", "generate_password",
    "parts_from_narrative", "single_target", "template_fingerprint", "template_stem", "write_batch", "write_manifest", "write_template",
]
