"""The sheets of a template written from its layout: 填报说明, 基本信息, one sheet per table with its
live check area, 文字部分; their page setup and protection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..format.numbers import Number
from ..format.spec import FormatSpec
from ..model.meta import DEADLINE_LABEL, INSTRUCTIONS_SHEET, NO_DEADLINE
from .layout import (
    INSTR_LABEL_WIDTH,
    INSTR_TEXT_WIDTH,
    MESSAGE_MAX,
    TITLE_MAX,
    Plan,
    TablePlan,
    clip,
    instr_height,
    line_height,
    wrapped_lines,
)
from .protection import PROTECT_OPTIONS
from .template_checks import HIGHLIGHT, MARK_BAD, MARK_OK

CHECK_HEADER = ("检查", "规则（实时检查：✓ 符合，✗ 不符合，未填写 = 相关单元格都还没有填；不符合规则时，涉及的填写单元格变红）")
RULES_HEADING = "填报规则"
PAGE_FOOTER = "&C第 &P 页 共 &N 页"


def sheet_setup(ws, password: str, landscape: bool = False, header: str = "") -> None:
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
    ws.protect(password, PROTECT_OPTIONS)


def excel_values(plan: Plan, values: Mapping[str, Number | None]) -> Mapping[str, Number | None]:
    """Every field's value as Excel shows it (a blank input counts as 0): the cached results."""
    if not any(v is not None for v in values.values()):
        if plan.blank_values is None:
            plan.blank_values = plan.spec.compute({f.id: 0 for f in plan.spec.input_fields})
        return plan.blank_values
    return plan.spec.compute({f.id: (0 if values.get(f.id) is None else values[f.id]) for f in plan.spec.input_fields})


def _num(v: Number) -> int | float:
    return float(v) if isinstance(v, Decimal) else v


def _whole_amounts(wb, ws, tp: TablePlan) -> None:
    """A decimal cell holding a whole number is shown without a decimal point (Excel, WPS and
    LibreOffice all apply a conditional format's number format)."""
    for row, col, criteria in tp.whole_amounts:
        ws.conditional_format(row, col, row, col, {
            "type": "formula", "criteria": criteria, "format": wb.add_format({"num_format": "0"}),
        })


def write_instructions(wb, fmt, plan: Plan, info: Mapping[str, Any], deadline: str, title: str,
                        password: str) -> None:
    spec = plan.spec
    ws = wb.add_sheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, INSTR_LABEL_WIDTH)
    ws.set_column(1, 1, INSTR_TEXT_WIDTH)
    width = INSTR_LABEL_WIDTH + INSTR_TEXT_WIDTH
    # a long agency name makes the title wrap rather than run off the page
    ws.merge_range(0, 0, 0, 1, title, fmt("title", 13, text_wrap=True))
    ws.set_row(0, max(28, instr_height(title, 16, width, 8)))
    labels = {f.key: f.label for f in spec.info_fields}
    row = 2
    for label, value in ((labels.get("agency", ""), info["agency"]), (labels.get("year", ""), str(info["year"])),
                         (DEADLINE_LABEL, deadline or NO_DEADLINE)):
        ws.write_string(row, 0, label, fmt("label", 11))
        ws.write_string(row, 1, value, fmt("locked_value", 11))
        ws.set_row(row, max(18, instr_height(value, 11, INSTR_TEXT_WIDTH)))
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
    sheet_setup(ws, password)
    ws.print_area(0, 0, row - 1, 1)
    ws.activate()


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


_INFO_BLANK_HEIGHT = max(22, wrapped_lines("", 11, 50) * line_height(11) + 6)


def write_info(wb, fmt, spec: FormatSpec, info: Mapping[str, Any], password: str,
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
            options = {"validate": "any", "input_title": clip(f.label, TITLE_MAX)}
            if f.prompt:
                options["input_message"] = clip(f.prompt, MESSAGE_MAX)
            ws.data_validation(f.row, f.col, f.row, f.col, options)
        if f.prompt:
            ws.write_string(f.row, f.col + 1, f.prompt, fmt("hint", 9, valign="vcenter"))
        text = str(value or "")
        ws.set_row(f.row, max(22, wrapped_lines(text, 11, 50) * line_height(11) + 6) if text else _INFO_BLANK_HEIGHT)
    wb.name_cells(names)
    sheet_setup(ws, password)
    ws.print_area(0, label_col, fields[-1].row, label_col + 1)
    ws.freeze_panes(fields[0].row, 0)


def write_table(wb, fmt, spec: FormatSpec, tp: TablePlan, values: Mapping[str, Number | None],
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
    sheet_setup(ws, password, landscape=tp.landscape, header=t.heading)
    ws.print_black_and_white()  # the printed table looks like the official one: no input fill
    ws.print_area(t.origin_row, t.origin_col, t.origin_row + t.grid_rows - 1, t.origin_col + t.grid_columns - 1)
    if t.header_rows:
        ws.repeat_rows(min(t.header_rows), max(t.header_rows))
    if any(tp.freeze):
        ws.freeze_panes(*tp.freeze)


def _write_checks(wb, ws, fmt, tp: TablePlan, values: Mapping[str, Number | None],
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


_NARRATIVE_BLANK_NEED = wrapped_lines("", 11, 90) * line_height(11) + 8


def write_narrative(wb, fmt, spec: FormatSpec, parts: Mapping[str, str], password: str,
                     names: Sequence[tuple[str, str]]) -> None:
    items = spec.narrative_parts
    text_col = items[0].col
    ws, label_col = _form_sheet(wb, fmt, spec.narrative_sheet, spec.narrative_title, text_col, (16, 90, 34))
    for p in items:
        text = parts.get(f"{p.section}.{p.key}", "") or ""
        ws.write_string(p.row, label_col, p.label, fmt("label", 11, valign="top"))
        _write_text(ws, p.row, text_col, text, fmt("text_input", 11))
        options = {"validate": "any", "input_title": clip(p.label, TITLE_MAX)}
        ws.data_validation(p.row, text_col, p.row, text_col, options)
        if p.hint:
            ws.write_string(p.row, text_col + 1, p.hint, fmt("hint", 9))
        need = wrapped_lines(text, 11, 90) * line_height(11) + 8 if text else _NARRATIVE_BLANK_NEED
        ws.set_row(p.row, min(409, max(120, need)))
    wb.name_cells(names)
    sheet_setup(ws, password)
    ws.print_area(0, label_col, items[-1].row, text_col)
