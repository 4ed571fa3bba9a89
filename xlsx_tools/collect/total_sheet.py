"""汇总 and 图表 of 收集情况.xlsx: the combined figures in the official table layout (from the
spec's header cells and field positions, each table with its own column widths) and native
Excel charts of the combined 办理结果 and of the collection status."""

from __future__ import annotations

import math
from decimal import Decimal

from xlsxwriter.workbook import Workbook

from ..checks import decimal_places
from ..format.grid import Field, Table
from ..format.numbers import Number
from ..format.spec import FormatSpec
from ..model.status import Status
from ..write.sheet_print import scale_to, setup_page, shared_columns, text_units
from .collection import Collection
from .sheets import CHART_SHEET, FONT, TOTAL_SHEET, Formats, cell_value, clean

CHART_COLOURS = {Status.OK: "#70AD47", Status.WARN: "#FFC000", Status.ERR: "#C00000", Status.MISSING: "#A5A5A5"}



# -- 汇总: the official tables, stacked, each with its own column widths

TOTAL_WIDTH = 140.0  # column-width units of every table on 汇总 (landscape A4 at full size)


def _natural_widths(table: Table) -> list[float]:
    """Column widths a table's labels and figures need (before stretching to TOTAL_WIDTH)."""
    widths = [0.0] * table.grid_columns
    for cell in table.cells:
        if cell.colspan == 1 and cell.role in ("row", "corner") and cell.rowspan < 4:
            widths[cell.col] = max(widths[cell.col], min(30.0, text_units(cell.text, table.font_size) + 2))
    for f in table.fields:
        if f.colspan == 1:
            widths[f.col] = max(widths[f.col], 9.0)
    return [max(w, 6.0) for w in widths]


def total_layout(spec: FormatSpec) -> tuple[list[float], list[list[tuple[int, int]]], list[list[float]]]:
    """汇总's columns: (sheet column widths, per table per column (first sheet column, span),
    per table its own column widths)."""
    own = [scale_to(_natural_widths(t), TOTAL_WIDTH) for t in spec.tables]
    sheet, spans = shared_columns(own)
    return sheet, spans, own


def total_sheet(wb: Workbook, fmt: Formats, c: Collection) -> None:
    spec = c.spec
    ws = wb.add_worksheet(TOTAL_SHEET)
    counts = c.counts()
    ws.write_string(0, 0, f"{c.year or ''} 年度汇总".lstrip(), fmt.title)
    ws.write_string(1, 0, (f"计入汇总：{c.total_count} 家（{Status.OK.label}、{Status.WARN.label}）；未计入："
                           f"{Status.ERR.label} {counts[Status.ERR]} 家，{Status.MISSING.label} {counts[Status.MISSING]} 家。"), fmt.note)
    sheet_widths, spans, own = total_layout(spec)
    for col, w in enumerate(sheet_widths):
        ws.set_column(col, col, w)
    setup_page(ws)
    row = 3
    breaks = []
    for table, span, widths in zip(spec.tables, spans, own, strict=True):
        if row > 3:
            breaks.append(row)  # each table starts a page
        last = span[-1][0] + span[-1][1] - 1
        ws.merge_range(row, 0, row, last, table.heading or table.sheet, fmt.heading)
        ws.set_row(row, 22)
        row += 1
        row = _write_grid(ws, fmt, table, row, c.totals, span, widths) + 1
    ws.set_h_pagebreaks(breaks)
    ws.print_area(0, 0, row - 1, len(sheet_widths) - 1)


def _write_grid(ws, fmt: Formats, table: Table, top: int, figures: dict[str, Number | None],
                span: list[tuple[int, int]], widths: list[float]) -> int:
    """The table at sheet row `top`, its column j over the sheet columns span[j]; returns the row
    after it."""
    shift = top - table.origin_row
    size = table.font_size
    label, value = fmt.label(size), fmt.value(size)
    lines: dict[int, float] = {}

    def place(col: int, colspan: int) -> tuple[int, int]:
        first = span[col][0]
        last = span[col + colspan - 1][0] + span[col + colspan - 1][1] - 1
        return first, last

    for cell in table.cells:
        r = cell.row + shift
        width = sum(widths[cell.col:cell.col + cell.colspan])
        need = math.ceil(text_units(cell.text, size) / max(1.0, width - 1)) / cell.rowspan
        lines[r] = max(lines.get(r, 1), need)
        first, last = place(cell.col, cell.colspan)
        if cell.rowspan > 1 or last > first:
            ws.merge_range(r, first, r + cell.rowspan - 1, last, clean(cell.text), label)
        else:
            ws.write_string(r, first, clean(cell.text), label)
    for f in table.fields:
        r = f.row + shift
        exact = figures.get(f.id)
        v = cell_value(exact)
        style = value
        if isinstance(exact, Decimal) and exact.is_finite():
            style = fmt.amount_value(size, decimal_places(exact))
        first, last = place(f.col, f.colspan)
        if last > first:
            ws.merge_range(r, first, r, last, "" if v is None else v, style)
        elif v is None:
            ws.write_blank(r, first, None, style)
        else:
            ws.write_number(r, first, v, style)
    for r, n in lines.items():
        ws.set_row(r, max(18.0, math.ceil(n) * (size * 1.35 + 1) + 4))
    return top + table.grid_rows


# -- 图表


def result_groups(spec: FormatSpec) -> tuple[str, Field, list[tuple[str, list[str]]]] | None:
    """For the 办理结果 chart: (title label, the total field, [(group label, field ids)]): the rows
    under the same top row label as the format's [figure_sets] results_chart total (table 三's
    （七）总计), in the same column, grouped by their second-level label (（一）予以公开 …
    （六）其他处理). None for a format without that field."""
    fid = next(iter(spec.figure_set("results_chart")), "")
    if not spec.has_field(fid):
        return None
    total = spec.field(fid)
    table = spec.table(total.table)
    groups: dict[str, list[str]] = {}
    for f in table.fields:
        if (f.id == fid or len(f.row_labels) < 2 or f.row_labels[0] != total.row_labels[0]
                or f.column_labels != total.column_labels):
            continue
        groups.setdefault(f.row_labels[1], []).append(f.id)
    if not groups:
        return None
    return total.row_labels[0], total, list(groups.items())


def chart_sheet(wb: Workbook, fmt: Formats, c: Collection) -> None:
    ws = wb.add_worksheet(CHART_SHEET)
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 10)
    ws.set_column(3, 3, 10)
    ws.set_column(4, 4, 10)
    groups = result_groups(c.spec)
    if groups is not None:
        title, total, items = groups
        ws.write_string(0, 0, title, fmt.header)
        ws.write_string(0, 1, total.column_short, fmt.header)
        for i, (label, ids) in enumerate(items, start=1):
            ws.write_string(i, 0, clean(label), fmt.text)
            ws.write_number(i, 1, sum(cell_value(c.totals.get(fid)) or 0 for fid in ids), fmt.number)
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({
            "name": title, "categories": [CHART_SHEET, 1, 0, len(items), 0],
            "values": [CHART_SHEET, 1, 1, len(items), 1], "data_labels": {"value": True},
            "fill": {"color": "#4472C4"},
        })
        chart.set_title({"name": f"{title}（汇总，{c.total_count} 家）", "name_font": {"name": FONT, "size": 12}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, "num_font": {"name": FONT}})
        chart.set_x_axis({"num_font": {"name": FONT}})
        chart.set_size({"width": 720, "height": 360})
        ws.insert_chart(len(items) + 2, 0, chart)
    counts = c.counts()
    ws.write_string(0, 3, "状态", fmt.header)
    ws.write_string(0, 4, "机关数", fmt.header)
    for i, status in enumerate(counts, start=1):
        ws.write_string(i, 3, status.label, fmt.text)
        ws.write_number(i, 4, counts[status], fmt.number)
    pie = wb.add_chart({"type": "pie"})
    pie.add_series({
        "name": "收集情况", "categories": [CHART_SHEET, 1, 3, len(counts), 3],
        "values": [CHART_SHEET, 1, 4, len(counts), 4],
        "points": [{"fill": {"color": CHART_COLOURS[s]}} for s in counts],
        "data_labels": {"value": True, "category": True},
    })
    pie.set_title({"name": f"收集情况（应交 {len(c.agencies)} 家）", "name_font": {"name": FONT, "size": 12}})
    pie.set_size({"width": 480, "height": 360})
    pie_row = len(groups[2]) + 22 if groups else 6
    ws.insert_chart(pie_row, 0, pie)
    # print both charts on A4: the print area must reach past the wider bar chart (720 px)
    setup_page(ws, landscape=False)
    ws.print_area(0, 0, pie_row + 19, 7)

