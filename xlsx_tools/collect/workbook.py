"""收集情况.xlsx: what the office looks at during collection season, written with xlsxwriter.

Sheets: 收集情况 (one row per roster agency: status, file, errors, warnings, key figures, with a
filter and colours), 问题清单 (every finding, ready to forward), 文件清单 (every file found, with
its sha256 and status), 汇总 (the combined figures in the official table layout, from the spec's
header cells and field positions), 图表 (native Excel charts of the combined 办理结果 and of the
collection status) and 全部数据 (long form: agency × field × row/column labels × value, for pivot
tables).

The long sheets are streamed (collect.sheets); 汇总 and 图表 are collect.total_sheet.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook

from ..model.findings import (
    GROUP_AT,
    GROUP_LIST,
    SEVERITY_LABELS,
    Finding,
    condensed,
    group_cells,
    named_cells,
)
from ..model.record import FileRecord
from ..model.status import Status
from ..util.timefmt import display_time
from ..write.sheet_print import lines_needed
from .collection import Collection
from .rowblock import ROW, RowBlock, RowPieces, split_pieces
from .sheets import (
    DATA_SHEET,
    FILES_SHEET,
    MAX_SHEET_ROWS,
    PROBLEMS_SHEET,
    STATUS_SHEET,
    UNATTRIBUTED_SHEET,
    Column,
    Formats,
    LongSheet,
    SharedStrings,
    clean,
    figure_kind,
    info_label,
    key_fields,
    key_header,
    long_sheet_frame,
    number_text,
    splice,
)
from .total_sheet import chart_sheet, total_sheet


def write_collect_workbook(collection: Collection, path: str | Path, *, behind: bool = True) -> Path:
    """Write 收集情况.xlsx to `path` (the caller moves it into place); `behind`: as splice."""
    path = Path(path)
    raw = path.with_name(path.name + ".raw")
    # in_memory: xlsxwriter builds each part in memory, not in a temporary file of its own
    wb = Workbook(str(raw), {"in_memory": True,
                             "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
                             # column widths are in digits of the default font: Arial (Liberation Sans
                             # in LibreOffice, same metrics) prints at the same scale in every office
                             # suite, where Calibri falls back to a wider font without Office
                             "default_format_properties": {"font_name": "Arial", "font_size": 10}})
    wb.set_properties({"title": f"收集情况 {collection.year or ''}".strip(), "author": "xlsx-tools",
                       "comments": "xlsx-tools collect"})
    fmt = Formats(wb)
    longs = [_status_sheet(collection), _problems_sheet(collection), _files_sheet(collection),
             _unattributed_sheet(collection)]
    for ls in longs:
        long_sheet_frame(wb, fmt, ls, ls.name, ls.count)
    total_sheet(wb, fmt, collection)
    chart_sheet(wb, fmt, collection)
    data = _data_sheet(collection)
    parts: list[tuple[LongSheet, int, int]] = [(ls, 0, ls.count) for ls in longs]
    chunks = max(1, math.ceil(data.count / MAX_SHEET_ROWS))
    for k in range(chunks):
        name = DATA_SHEET if k == 0 else f"{DATA_SHEET}{k + 1}"
        count = min(MAX_SHEET_ROWS, data.count - k * MAX_SHEET_ROWS)
        long_sheet_frame(wb, fmt, data, name, count)
        parts.append((LongSheet(name, data.columns, count, data.rows, data.status_col, templates=data.templates,
                                print_rows=False, note=data.note), k * MAX_SHEET_ROWS, count))
    wb.get_worksheet_by_name(STATUS_SHEET).activate()
    wb.close()
    try:
        splice(raw, path, parts, behind=behind)
    finally:
        raw.unlink(missing_ok=True)
    return path



def _status_sheet(c: Collection) -> LongSheet:
    """One row per roster agency. The printed block (landscape A4, one page wide, at most 12
    columns so that it prints at 9 pt or more) comes first; the details an office filters on
    but does not print for its leaders (code, how the file was matched, the saving software, the
    other key figures, contacts) follow outside the print area."""
    spec = c.spec
    contact_keys = [f.key for f in spec.info_fields
                    if not f.locked and any(f.key in a.row.contact for a in c.agencies)]
    keys = key_fields(spec)
    printed_ids = spec.figure_set("printed_figures")  # the others follow, outside the print area
    printed_keys = [f for f in keys if f.id in printed_ids]
    other_keys = [f for f in keys if f.id not in printed_ids]
    with_docx = c.docx_requested or bool(c.docx)
    # widths (about 136 units) print at 94 % or more of 10 pt on landscape A4
    columns = [
        Column("序号", 4, "number"), Column(info_label(spec, "agency"), 19, wrap=True), Column("状态", 6.5),
        Column("错误数", 4.5, "number"), Column("警告数", 4.5, "number"), Column("说明", 28.5 if with_docx else 35.5, wrap=True),
        Column("采用的文件", 19, wrap=True), Column("保存时间", 17),
    ] + [Column(key_header(f), 8.5, figure_kind(f)) for f in printed_keys]
    if with_docx:  # printed: 已生成 or 未生成; the file's path follows outside the print area
        columns.append(Column("Word 报告", 7, wrap=True))
    print_cols = len(columns)
    columns += [Column(info_label(spec, "code"), 14), Column("对应方式", 10), Column("保存软件", 16)] \
        + [Column(key_header(f), 14, figure_kind(f)) for f in other_keys] \
        + [Column(info_label(spec, k), 14) for k in contact_keys]
    columns.append(Column("Word 报告文件" if with_docx else "Word 报告", 30 if with_docx else 14))
    # details of the season's feedback: each agency's 问题通知, and the last-year report compared with
    with_notice = bool(c.notices)
    with_previous = any(a.file is not None and (a.file.previous_file or a.file.previous_note) for a in c.agencies)
    if with_notice:
        columns.append(Column("问题通知", 30))
    if with_previous:
        columns.append(Column("上一年度报告（跨年度核对）", 40, wrap=True))
    lines = c.summary_lines()
    top = len(lines) + 2

    def before(ws, fmt: Formats) -> None:
        ws.write_string(0, 0, f"{c.year or ''} 年度政府信息公开工作年度报告收集情况".lstrip(), fmt.title)
        ws.set_row(0, 24)
        width = sum(col.width for col in columns[:print_cols])
        for i, line in enumerate(lines, start=1):
            # across the printed columns, wrapped: a long list of missing agencies stays on the page
            ws.merge_range(i, 0, i, print_cols - 1, clean(line), fmt.note_wrap)
            ws.set_row(i, lines_needed(line, width, 10) * 13.5 + 2)

    key_ids = tuple(f.id for f in printed_keys + other_keys)
    no_values = (None,) * len(key_ids)

    def rows() -> Iterator[Sequence[Any]]:
        spill = c.spill
        for agency in c.agencies:
            rec = agency.file
            values = spill.values(rec, key_ids) if (spill and rec and rec.has_report and key_ids) else no_values
            printed = ([agency.index + 1, agency.row.agency, agency.status.label,
                        rec.errors if rec else None, rec.warnings if rec else None, agency.note,
                        rec.name if rec else (agency.files[0].name if agency.files else ""),
                        display_time(rec.saved_at) if rec else ""]
                       + list(values[:len(printed_keys)]))
            details = ([agency.row.code, rec.match if rec else "", rec.application if rec else ""]
                       + list(values[len(printed_keys):])
                       + [agency.row.contact.get(k, "") for k in contact_keys])
            if with_docx:
                printed.append("已生成" if agency.docx else "未生成")
            yield (printed + details + [agency.docx] + ([agency.notice] if with_notice else [])
                   + ([previous_text(rec) if rec else ""] if with_previous else []))

    return LongSheet(STATUS_SHEET, columns, len(c.agencies), rows, status_col=2, top=top, before=before,
                     freeze_cols=2, print_cols=print_cols)


# -- 问题清单, 文件清单, 全部数据


def _file_agency(c: Collection, rec: FileRecord) -> str:
    return c.agencies[rec.roster].row.agency if rec.roster is not None else ""


def _own_reason(rec: FileRecord) -> bool:
    """Whether a file's status needs its own line in 问题清单 (no finding says it already)."""
    return rec.status in (Status.UNREADABLE, Status.INTERNAL, Status.FOREIGN) and bool(rec.reason) and not rec.reason_in_findings


def _problem_rows(findings: Sequence[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """(严重程度, 代码, 单元格, 位置, 问题说明) per printed row of one file's findings: many blanks
    (or other single-cell findings of one kind) on one sheet make one row, grouped as in the
    问题通知, naming the count and the first cells; its 单元格 lists every cell for filtering."""
    out = []
    for group in condensed([Finding.from_dict(f) for f in findings], GROUP_AT):
        f = group[0]
        level = SEVERITY_LABELS.get(f.severity, f.severity)
        cells = "、".join(c for g in group for c in g.cells)
        if len(group) == 1:
            out.append((level, f.code, cells, "；".join(f.labels), f.message))
            continue
        sheet, names = group_cells(group)
        out.append((level, f.code, cells, f"{sheet}：{named_cells(names, GROUP_LIST)}",
                    f"同类问题共 {len(group)} 处（「单元格」一列列出全部），例如：{f.message}"))
    return out


def _problems_sheet(c: Collection) -> LongSheet:
    columns = [
        Column("序号", 5, "number"), Column(info_label(c.spec, "agency"), 16, wrap=True), Column("文件", 18, wrap=True),
        Column("文件状态", 7, wrap=True), Column("严重程度", 6), Column("代码", 14, wrap=True),
        Column("单元格", 11, wrap=True, clip=True), Column("位置", 28, wrap=True), Column("问题说明", 46, wrap=True),
    ]
    files = c.problem_files()  # the adopted file of each agency: superseded drafts are in 文件清单
    spill = c.spill

    def problems(rec: FileRecord) -> list[tuple[str, str, str, str, str]]:
        return _problem_rows(spill.findings(rec)) if spill is not None and (rec.errors or rec.warnings) else []

    # the rows are counted before they are written (a second read of the spill file, findings only)
    count = sum(1 for r in files if _own_reason(r)) + sum(len(problems(r)) for r in files)

    def rows() -> Iterator[Sequence[Any]]:
        n = 0
        for rec in files:
            agency = _file_agency(c, rec)
            if _own_reason(rec):
                n += 1
                yield [n, agency, rec.name, rec.status.label, SEVERITY_LABELS["error"], rec.status.label, "", "",
                       rec.reason]
            for row in problems(rec):
                n += 1
                yield [n, agency, rec.name, rec.status.label, *row]

    return LongSheet(PROBLEMS_SHEET, columns, count, rows, status_col=3)


def _files_sheet(c: Collection) -> LongSheet:
    spec = c.spec
    columns = [
        Column("序号", 5, "number"), Column("文件", 22, wrap=True), Column("大小（字节）", 8, "number"),
        Column("sha256", 24, wrap=True), Column("状态", 7, wrap=True), Column("对应机关", 15, wrap=True),
        Column("对应方式", 7, wrap=True), Column(f"模板中的{info_label(spec, 'agency')}", 15, wrap=True),
        Column(f"模板中的{info_label(spec, 'year')}", 7), Column("保存时间", 17),
        Column("保存软件", 10, wrap=True), Column("错误数", 5, "number"), Column("警告数", 5, "number"),
        Column("说明", 26, wrap=True),
    ]
    previous = any(r.previous_file or r.previous_note for r in c.files)  # collect --previous
    if previous:
        columns.append(Column("上一年度报告（跨年度核对）", 30, wrap=True))

    def rows() -> Iterator[Sequence[Any]]:
        for rec in c.files:
            year = rec.identity.get("year", "")
            yield [rec.seq + 1, rec.name, rec.size, rec.sha256, rec.status.label, _file_agency(c, rec), rec.match,
                   rec.identity.get("agency", ""), int(year) if year.isdigit() else year, display_time(rec.saved_at),
                   rec.application, rec.errors if rec.has_report or rec.errors else None,
                   rec.warnings if rec.has_report or rec.warnings else None, rec.note] + (
                [previous_text(rec)] if previous else [])

    return LongSheet(FILES_SHEET, columns, len(c.files), rows, status_col=4)


def previous_text(rec: FileRecord) -> str:
    """Which last-year report a file was compared with, and why not where it was not."""
    if rec.previous_file and not rec.previous_note:
        return rec.previous_file
    return "；".join(x for x in (rec.previous_file, rec.previous_note) if x)


def _unattributed_sheet(c: Collection) -> LongSheet:
    """Files nobody on the roster can be said to have sent, each with the reason."""
    columns = [Column("序号", 5, "number"), Column("文件", 26, wrap=True), Column("状态", 8, wrap=True),
               Column("原因", 62, wrap=True), Column("可能的机关", 22, wrap=True), Column("sha256", 24, wrap=True)]
    files = c.unattributed()

    def rows() -> Iterator[Sequence[Any]]:
        for n, rec in enumerate(files, start=1):
            yield [n, rec.name, rec.status.label, c.unattributed_reason(rec),
                   "、".join(c.agencies[i].row.agency for i in rec.candidates), rec.sha256]

    return LongSheet(UNATTRIBUTED_SHEET, columns, len(files), rows, status_col=2)


def _data_sheet(c: Collection) -> LongSheet:
    spec = c.spec
    fields = spec.fields
    columns = [
        Column(info_label(spec, "agency"), 24), Column(info_label(spec, "code"), 12), Column("状态", 8), Column("表", 6),
        Column("行", 48), Column("列", 30), Column("数值", 14, "amount"), Column("单位", 6), Column("类型", 6),
        Column("数据项编号", 40),
    ]
    middle = [[f.sheet, " / ".join(f.row_labels), " / ".join(f.column_labels)] for f in fields]
    tails = [[f.type.unit, "填报" if f.input else "计算", f.id] for f in fields]
    count = c.used_count() * len(fields)

    def rows() -> Iterator[Sequence[Any]]:
        for agency, figures in c.iter_used_figures():
            head = [agency.row.agency, agency.row.code, agency.status.label]
            for f, mid, tail in zip(fields, middle, tails, strict=True):
                yield head + mid + [figures.get(f.id)] + tail

    def templates(styles: list[str], strings: SharedStrings) -> Iterator[RowBlock]:
        # about 200 rows per agency: the constant parts of a row are built once, and its texts are
        # shared strings (the labels of a field repeat on every agency's row). A cell that follows
        # the one before it in its row goes without its reference (r is optional: the cell is in
        # the next column), so that the rows differ only in their number, their agency and value:
        # 30 % less XML, compressed in half the time to less than half the size
        letters = [xl_col_to_name(i) for i in range(len(columns))]

        def texts(col: int, values: Sequence[str], last: int) -> tuple[str, int, int]:
            """The cells of the values that are not blank, from column `col` on, after a cell in
            column `last` (-1: none): their XML, count, and the column of the last one."""
            cells = []
            for c, v in enumerate(values, start=col):
                if v:
                    ref = "" if c == last + 1 else f' r="{letters[c]}{ROW}"'
                    cells.append(f'<c{ref}{styles[c]} t="s"><v>{strings.index(v)}</v></c>')
                    last = c
            return "".join(cells), len(cells), last

        def field_pieces(last: int) -> tuple[RowPieces, int]:
            """Per field, after the agency's cells ending in column `last`: the row without a
            value, the same up to the value, the rest after it (RowBlock); and the references."""
            pieces, refs = [], 0
            for mid, tail in zip(middle, tails, strict=True):
                mid_xml, k1, mid_last = texts(3, mid, last)
                ref = "" if mid_last == 5 else f' r="{letters[6]}{ROW}"'
                value_cell = f"<c{ref}{styles[6]}><v>"
                blank_xml, k2, _ = texts(7, tail, mid_last)
                end_xml, _, _ = texts(7, tail, 6)
                pieces.append(split_pieces(mid_xml + blank_xml + "</row>", mid_xml + value_cell,
                                           "</v></c>" + end_xml + "</row>"))
                refs += k1 + k2
            return RowPieces(pieces), refs

        # the agency's cells end with its status (column C, never blank): one set of pieces
        by_last = {2: field_pieces(2)}
        ids = tuple(f.id for f in fields)
        for agency, values in c.iter_used_values(ids):
            head, k0, last = texts(0, [agency.row.agency, agency.row.code, agency.status.label], -1)
            if last not in by_last:
                by_last[last] = field_pieces(last)
            pieces, refs = by_last[last]
            strings.count += refs + k0 * len(ids)
            yield RowBlock(f'<row r="{ROW}">' + head, _value_texts(values), pieces)

    note = (f"{DATA_SHEET}：每个机关每个数据项一行（共 {count} 行），供筛选和数据透视使用；"
            "默认只打印表头，如需打印全部，请先取消打印区域。")
    return LongSheet(DATA_SHEET, columns, count, rows, status_col=2, templates=templates, print_rows=False,
                     note=note)


def _value_texts(values: Sequence[Any]) -> list[str | None]:
    """Each value as 全部数据 writes it (None where blank): str() of the ints, all at once, then
    the few others (a Decimal with its own digits, a blank) one by one."""
    texts: list[str | None] = list(map(str, values))
    for i in itertools.compress(range(len(values)), map(operator.is_not, map(type, values), itertools.repeat(int))):
        v = values[i]
        texts[i] = None if v is None else number_text(v)
    return texts
