"""The layout of a template derived from the format spec, computed once per spec and replayed for
every agency (which keeps a batch of 1,000 templates fast): column widths and row heights from the
labels, formulas, the live check area, data validations, defined names, the 填报说明 texts, and the
cell formats.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.workbook import Workbook

from ..format.cells import a1, col_letter, parse_a1
from ..format.grid import Table
from ..format.numbers import Number
from ..format.spec import FormatSpec, load_format
from ..model.meta import template_fingerprint
from ..util.memo import derived
from .label_wrap import widen_for_orphans, wrap
from .template_checks import CheckArea, compact_ranges, plan_checks, side_formula

# Workbook text that is not part of the official format (UI text, like a CLI message).
CHECK_ROW_NOTE = "结果见本行左侧，各在所查列之下"
RULE_KINDS = {"error": "必须符合", "warning": "请核实"}
CROSS_YEAR_NOTE = "（回收时与上一年度报告比对）"

# Fonts: tables in 宋体 (FORMAT-2021.md §5 recommendation); charset 134 = GB2312 so that Excel
# treats the name as an East Asian font.
LABEL_FONT = "宋体"
GB2312_CHARSET = 134
INPUT_FILL = "#FFF2CC"  # light yellow: "fill me in"
COMPUTED_FILL = "#EDEDED"
HINT_COLOR = "#595959"

# Excel limits for data validation prompts
TITLE_MAX = 32
MESSAGE_MAX = 255

# 填报说明 columns: labels and marks, then text. Widths in Excel units; heights from the width a
# text needs at 11 pt, with a margin because Excel's 宋体 is a little wider than text_units says.
INSTR_LABEL_WIDTH = 14
INSTR_TEXT_WIDTH = 96
INSTR_MARGIN = 1.08


@dataclass
class TablePlan:
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
class Plan:
    spec: FormatSpec
    fingerprint: str
    tables: list[TablePlan]
    rule_lines: list[tuple[str, str, bool]]  # (severity, title, cross-year) for the instructions
    check_cells: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    blank_values: Mapping[str, Number | None] | None = None  # cached results of an empty template
    steps: list[tuple[str, float]] = field(default_factory=list)  # 填报说明 steps: (text, row height)
    rule_rows: list[tuple[str, str, float]] = field(default_factory=list)  # (mark, text, row height)
    info_names: list[tuple[str, str]] = field(default_factory=list)  # (defined name, reference)
    narrative_names: list[tuple[str, str]] = field(default_factory=list)


_PLANS: dict[int, tuple[FormatSpec, Plan]] = {}


def plan_for(spec: FormatSpec) -> Plan:
    return derived(_PLANS, spec, _build_plan)


def _char_units(ch: str) -> float:
    """Width of a character in Excel column units at 11 pt (CJK ≈ 2, Latin ≈ 1)."""
    return 2.1 if unicodedata.east_asian_width(ch) in "WF" else 1.1


def text_units(text: str, size: float) -> float:
    return sum(_char_units(ch) for ch in text) * size / 11


def wrapped_lines(text: str, size: float, width: float) -> int:
    avail = max(1.0, width - 1.0)
    return sum(max(1, math.ceil(text_units(part, size) / avail)) for part in text.split("\n"))


def line_height(size: float) -> float:
    return size * 1.35 + 1


def instr_height(text: str, size: float, width: float, pad: float = 4) -> float:
    return wrapped_lines(text, size * INSTR_MARGIN, width) * line_height(size) + pad


def _build_plan(spec: FormatSpec) -> Plan:
    tables = [_plan_table(spec, t) for t in spec.tables]
    seen: set[str] = set()
    rule_lines: list[tuple[str, str]] = []
    for r in spec.rules:
        if r.code in seen:
            continue
        seen.add(r.code)
        rule_lines.append((r.severity, r.title, r.cross_year))
    plan = Plan(spec=spec, fingerprint=template_fingerprint(spec), tables=tables, rule_lines=rule_lines)
    for tp in tables:
        plan.check_cells[tp.table.sheet] = [(c.cell, c.rule.expr) for c in tp.checks.checks]
    plan.steps = [(text, instr_height(text, 11, INSTR_TEXT_WIDTH, 6)) for text in instruction_steps(spec)]
    for severity, text, cross_year in rule_lines:
        if cross_year:
            text += CROSS_YEAR_NOTE
        plan.rule_rows.append((RULE_KINDS.get(severity, severity), text,
                               max(18, instr_height(text, 11, INSTR_TEXT_WIDTH))))
    plan.info_names = [_name_ref(f) for f in spec.info_fields]
    plan.narrative_names = [_name_ref(p) for p in spec.narrative_parts]
    return plan


def _name_ref(f) -> tuple[str, str]:
    """A cell's workbook-level defined name and what it refers to ('表三'!$D$4)."""
    return f.name, f"='{f.sheet}'!${col_letter(f.col)}${f.row + 1}"


def _column_widths(t: Table, first_data_col: int) -> dict[int, float]:
    """Sheet column -> width: data columns fit their leaf labels, label columns their row labels."""
    size = t.font_size
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
    return widths


def _row_heights(t: Table, widths: Mapping[int, float]) -> dict[int, float]:
    """Sheet row -> height: enough lines for every wrapped label; a merged label shares its rows."""
    size = t.font_size
    min_h = max(18.0, line_height(size) + 5)
    heights = {r: min_h for r in range(t.origin_row, t.origin_row + t.grid_rows)}
    spans = sorted(t.cells, key=lambda c: c.rowspan)
    for c in spans:
        width = sum(widths[k] for k in range(c.col, c.col + c.colspan))
        need = max(wrapped_lines(c.text, size, width), len(wrap(c.text, size, width))) * line_height(size) + 5
        rows = range(c.row, c.row + c.rowspan)
        have = sum(heights[r] for r in rows)
        if need > have:
            extra = (need - have) / c.rowspan
            for r in rows:
                heights[r] = math.ceil((heights[r] + extra) * 4) / 4
    return heights


def _plan_table(spec: FormatSpec, t: Table) -> TablePlan:
    first_data_col = min(f.col for f in t.fields)
    widths = _column_widths(t, first_data_col)
    col_widths = [widths[c] for c in range(t.origin_col, t.origin_col + t.grid_columns)]
    heights = _row_heights(t, widths)

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
    fields_out = [(f, num_format(f.type), *_name_ref(f)) for f in t.fields]
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
    return TablePlan(
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
        "input_title": clip(vt.prompt_title, TITLE_MAX), "input_message": clip(vt.prompt, MESSAGE_MAX),
        "error_title": clip(vt.error_title, TITLE_MAX), "error_message": clip(vt.error, MESSAGE_MAX),
        "error_type": "stop",
    }
    if len(ranges) > 1:
        options["multi_range"] = " ".join(ranges)
    return r0, c0, r1, c1, options


def check_cells(spec: FormatSpec | None = None) -> dict[str, list[tuple[str, str]]]:
    """Where the live check area is: per sheet, (cell of the ✓/✗ mark, expanded rule expression),
    in the order of spec.rules."""
    return {k: list(v) for k, v in plan_for(spec or load_format()).check_cells.items()}


def instruction_steps(spec: FormatSpec) -> list[str]:
    """The numbered steps of 填报说明 (the same for every agency of a format)."""
    table_sheets = "、".join(f"「{t.sheet}」" for t in spec.tables)
    units = "；".join(t.instruction for t in spec.types.values() if t.instruction)
    locked = [f.label for f in spec.info_fields if f.locked]
    given = "、".join(locked[:-1]) + "和" + locked[-1] if len(locked) > 1 else "".join(locked)
    # the locked identity fields are filled in by the office; the contact details are asked for
    asked = "、".join(f.label for f in spec.info_fields if f.key in ("contact_person", "phone"))
    return [
        f"黄色单元格是填写区域，其余单元格已锁定。请按顺序填写「{spec.info_sheet}」、{table_sheets}和「{spec.narrative_sheet}」。",
        f"「{spec.info_sheet}」：{given}已由政务公开办填好，请填写{asked}等信息。",
        f"{table_sheets}与官方格式（{spec.document}）完全一致，行号即官方表格的行号。{units}。",
        "灰色的总计单元格由公式自动计算，无需填写。“检查”实时显示各项规则是否满足：逐行检查的结果在表格右侧该行，逐列检查的结果在表格下方该列；✓ 符合，✗ 不符合（涉及的填写单元格同时变红），“未填写”表示相关单元格都还没有填。请核对至全部为 ✓。",
        f"「{spec.narrative_sheet}」：填写报告第{spec.narrative_numbers}部分的文字。单元格内换行：Excel、WPS 按 Alt+Enter，LibreOffice 按 Ctrl+Enter。",
        "请勿修改工作表名称、增删行列或从其他文件复制粘贴整张表格；填好后保存为 .xlsx 格式，在截止日期前报送。",
    ]


def formats(wb: Workbook) -> Callable[..., Any]:
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


def num_format(vtype) -> str:
    """A fee shows exactly the digits entered, never padded (26.5, not 26.50; 24252.311082 in full):
    "0.######", and a conditional format turns whole amounts to "0" so that 12 is not "12."
    (see _whole_amounts). Excel's "General" is no option: it rounds to 11 characters."""
    return "0" if vtype.kind == "integer" or vtype.decimals == 0 else "0." + "#" * vtype.decimals


def _whole_criteria(fl) -> str:
    """The condition of a decimal cell's whole-amount format (see _whole_amounts)."""
    ref = a1(fl.row, fl.col)
    return f"=AND(ISNUMBER({ref}),INT({ref})={ref})"


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
