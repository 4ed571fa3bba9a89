"""Fill a copy of a template with openpyxl, the way an agency's spreadsheet program would: values go
into the input cells found by their defined names. openpyxl keeps protection, validations and
names, but drops the cached formula results: the reader must (and does) recompute them.

Used by the tests, the demo and the benchmarks to make "returned" workbooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import openpyxl
from openpyxl.workbook.workbook import Workbook as OpenpyxlWorkbook

from ...format.cells import parse_a1
from ...format.numbers import Number
from ...format.spec import FormatSpec, load_format
from ...model import meta
from ...util import fsutil


class FillError(ValueError):
    """The values do not fit the template (the message is Chinese)."""


def _spec_of(wb: OpenpyxlWorkbook) -> FormatSpec:
    if meta.META_SHEET in wb.sheetnames:
        value = wb[meta.META_SHEET][meta.meta_cell("format")].value
        if value:
            return load_format(str(value))
    return load_format()


def _cell(wb: OpenpyxlWorkbook, name: str, sheet: str, ref: str):
    """The cell a defined name points to, or (sheet, ref) from the spec when the name is gone."""
    dn = wb.defined_names.get(name)
    if dn is not None:
        for title, coord in dn.destinations:
            if title in wb.sheetnames:
                return wb[title][coord.replace("$", "").split(":")[0]]
    row, col = parse_a1(ref)
    return wb[sheet].cell(row=row + 1, column=col + 1)


def fill_workbook(
    src: str | Path,
    dst: str | Path,
    values: Mapping[str, Number | None] | None = None,
    *,
    contact: Mapping[str, str] | None = None,
    narrative_parts: Mapping[str, str] | None = None,
    allow_computed: bool = False,
) -> Path:
    """Copy `src` to `dst` with the given figures (field id -> number; None empties the cell),
    基本信息 values (info key -> text) and 文字部分 texts ("overview.active" -> text).

    `src` is never modified. Figures of computed cells are refused unless `allow_computed`
    (which overwrites the formula, as a careless user with the password would)."""
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise FillError(f"输出文件不能与模板相同：{src}")
    wb = openpyxl.load_workbook(src)
    spec = _spec_of(wb)
    for fid, value in (values or {}).items():
        if not spec.has_field(fid):
            raise FillError(f"格式 {spec.id} 中没有数据项 {fid}。")
        f = spec.field(fid)
        if not f.input and not allow_computed:
            raise FillError(f"{f.where} 是自动计算的总计单元格，不能填写。")
        _cell(wb, f.name, f.sheet, f.cell).value = value
    info = {f.key: f for f in spec.info_fields}
    for key, text in (contact or {}).items():
        if key not in info:
            raise FillError(f"「{spec.info_sheet}」中没有“{key}”这一项（可用：{'、'.join(info)}）。")
        f = info[key]
        _cell(wb, f.name, f.sheet, f.cell).value = text
    parts = {f"{p.section}.{p.key}": p for p in spec.narrative_parts}
    for key, text in (narrative_parts or {}).items():
        if key not in parts:
            raise FillError(f"「{spec.narrative_sheet}」中没有“{key}”这一部分（可用：{'、'.join(parts)}）。")
        p = parts[key]
        _cell(wb, p.name, p.sheet, p.cell).value = text
    with fsutil.atomic_path(dst) as tmp:
        wb.save(tmp)
    return dst
