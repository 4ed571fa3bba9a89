"""The structure of a returned workbook against the template of its format: which sheet holds
each of the template's sheets (renamed, missing, added), where every named cell is now (names
moved, rows or columns inserted or deleted), the printed labels, and the sheets' protection.

Finding codes: SHEET_MISSING (error for a data sheet, warning otherwise), SHEET_RENAMED,
SHEET_ADDED, NAME_MISSING, NAME_MOVED, PROTECTION_REMOVED (warnings), LABEL_CHANGED, ROWS_SHIFTED
(errors; NAME_MISSING is an error where rows or columns were deleted).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType

from ..format.cells import a1
from ..model import meta
from ..model.findings import ERROR, WARNING
from ..util.memo import derived
from .layout import Layout, norm_label
from .parts import cell_texts
from .values import cell_text
from .workbook import Workbook

Location = tuple[str, int, int]  # (the workbook's sheet, row, col)
_TEXT_KINDS = ("s", "str", "inlineStr")


def map_sheets(wb: Workbook, idx: Layout) -> dict[str, str | None]:
    """Spec sheet name -> the workbook's sheet that holds it (renamed or not), or None."""
    spec = idx.spec
    actual = [name for name, _, _ in wb.book.sheets]
    present = set(actual)
    expected = idx.expected_sheets
    expected_names = {n for n, _ in expected}
    sheet_map: dict[str, str | None] = {}
    targets: dict[str, Counter] | None = None
    used: set[str] = set()
    for name, _ in expected:
        if name in present:
            sheet_map[name] = name
            used.add(name)
    for index, (name, data) in enumerate(expected):
        if name in present:
            continue
        new = None
        if targets is None:
            targets = _name_votes(wb, idx)
        votes = targets.get(name)
        if votes:
            cand = votes.most_common(1)[0][0]
            if cand in present and cand not in expected_names and cand not in used:
                new = cand
        if new is None and index < len(actual) and actual[index] not in expected_names and actual[index] not in used \
                and len(actual) == len(expected):
            new = actual[index]
        if new is not None:
            used.add(new)
            sheet_map[name] = new
            wb.add("SHEET_RENAMED", WARNING,
                   f"工作表「{name}」被改名为「{new}」，已按原表读取。请改回原名称「{name}」。",
                   values={"sheet": name, "renamed_to": new})
            continue
        sheet_map[name] = None
        if data:
            wb.add("SHEET_MISSING", ERROR,
                   f"缺少工作表「{name}」（可能被删除），其中的内容无法读取。请使用原模板重新填写。",
                   values={"sheet": name})
        else:
            wb.add("SHEET_MISSING", WARNING,
                   f"缺少工作表「{name}」（可能被删除或改名）。数据不受影响，但请尽量使用原模板。",
                   values={"sheet": name})
    for name in actual:
        if name not in used:
            wb.add("SHEET_ADDED", WARNING,
                   f"工作簿中多了工作表「{name}」，其内容不会被读取。需要报告的文字请填写在「{spec.narrative_sheet}」中。",
                   values={"sheet": name})
    wb.sheet_map = sheet_map
    return sheet_map


def _name_votes(wb: Workbook, idx: Layout) -> dict[str, Counter]:
    """Where the defined names of each spec sheet point now (Excel renames them along)."""
    targets: dict[str, Counter] = {}
    for name, sheet, _, _ in idx.named:
        tgt = wb.targets.get(name)
        if tgt:
            targets.setdefault(sheet, Counter())[tgt[0]] += 1
    return targets


def locations(wb: Workbook, idx: Layout, sheet_map: Mapping[str, str | None]) -> dict[str, Location | None]:
    """Where every named cell (fields, info, narrative) is: (actual sheet, row, col), or None
    where its sheet or its row/column was deleted. Detects moved names, edited labels and
    inserted or deleted rows and columns.

    Excel, WPS and LibreOffice move defined names (and formulas) along when rows are inserted,
    so the values are still found through the names; a tool that does not (openpyxl) leaves
    the names behind, and then the sheet's values cannot be trusted at all."""
    spec = idx.spec
    labels = {t.sheet: _labels(wb, idx, t, sheet_map.get(t.sheet)) for t in spec.tables}
    shifts = {sheet: moved for sheet, (moved, _) in labels.items()}
    names_moved: set[str] = set()
    missing: dict[str, list[str]] = {}
    deleted: dict[str, list[str]] = {}
    gone: dict[str, set[tuple[int, int]]] = {}  # spec sheet -> spec cells whose row/column was deleted
    if idx.where is not None and all(sheet_map.get(s) == s for s in idx.named_sheets) and _all_in_place(wb, idx):
        out = dict(idx.where)  # every sheet kept its name and every name points where the template put it
    else:
        out = _named_cells(wb, idx, sheet_map, shifts, names_moved, missing, deleted, gone)
    for t in spec.tables:
        _changed_labels(wb, t, sheet_map.get(t.sheet), labels[t.sheet][1], gone.get(t.sheet, set()))
    for sheet, moved in shifts.items():
        if moved is None:
            continue
        actual = sheet_map[sheet]
        hc, r, c = moved
        if sheet in names_moved:
            consequence = "已按单元格名称找到各项数字，但表格必须与官方格式一致"
        else:
            consequence = "该表的数字已错位，无法可靠读取"
            wb.unreliable.add(actual)
        wb.add("ROWS_SHIFTED", ERROR,
               f"「{actual}」的行或列被插入或删除：“{hc.text}”原在 {a1(hc.row, hc.col)}，现在位于 {a1(r, c)}。"
               f"{consequence}。请使用原模板重新填写，不要插入或删除行、列。",
               cells=(f"{actual}!{a1(hc.row, hc.col)}", f"{actual}!{a1(r, c)}"),
               values={"label": hc.text, "expected": a1(hc.row, hc.col), "actual": a1(r, c),
                       "names_moved": sheet in names_moved})
    for sheet, cells in deleted.items():
        wb.add("NAME_MISSING", ERROR,
               f"「{sheet}」中有 {len(cells)} 个需要填写或计算的单元格所在的行或列已被删除（如 {cells[0].split('!')[1]}），"
               "这些数字无法读取。请使用原模板重新填写。",
               cells=tuple(cells), values={"count": len(cells), "deleted": True})
    for sheet, cells in missing.items():
        wb.add("NAME_MISSING", WARNING,
               f"工作表「{sheet}」中有 {len(cells)} 个单元格的定义名称丢失，已按官方表格位置读取。"
               "如该表的行列有改动，读取结果可能不准确，建议使用原模板重新填写。",
               cells=tuple(cells), values={"count": len(cells)})
    return out


def _all_in_place(wb: Workbook, idx: Layout) -> bool:
    """Whether every defined name of the layout points where the template put it: its reference
    written as a writer writes it (compared as text), or else found to point there. Kept per
    layout for the read-only names shared by workbooks that wrote them alike (book._book_names)."""
    names = wb.book.names
    if names.__class__ is not MappingProxyType:
        return _in_place(names, wb.targets, idx)
    return derived(idx.kept(_IN_PLACE, lambda _: {}), names, lambda names: _in_place(names, wb.targets, idx))


_IN_PLACE = object()  # the key of _all_in_place's store in a layout's memo


def _in_place(names: Mapping[str, str], targets: Mapping, idx: Layout) -> bool:
    items = names.items()
    return any(items >= texts.items() for texts in idx.where_texts) or targets.items() >= idx.where.items()


def _named_cells(wb: Workbook, idx: Layout, sheet_map: Mapping[str, str | None], shifts: dict, names_moved: set[str],
                 missing: dict[str, list[str]], deleted: dict[str, list[str]],
                 gone: dict[str, set[tuple[int, int]]]) -> dict[str, Location | None]:
    """locations, name by name: NAME_MOVED here; the sheets whose names moved along with their
    rows, the names lost and the cells deleted are noted for the caller."""
    for name, sheet, row, col in idx.named:
        tgt = wb.targets.get(name)
        if tgt and tgt[0] == sheet_map.get(sheet) and (tgt[1], tgt[2]) != (row, col):
            names_moved.add(sheet)
    out: dict[str, Location | None] = {}
    for name, sheet, row, col in idx.named:
        actual = sheet_map.get(sheet)
        if actual is None:
            out[name] = None
            continue
        tgt = wb.targets.get(name)
        if tgt is None or tgt[0] != actual:
            if name in wb.book.names and shifts.get(sheet) and sheet in names_moved:
                deleted.setdefault(actual, []).append(f"{actual}!{a1(row, col)}")
                gone.setdefault(sheet, set()).add((row, col))
                out[name] = None  # "#REF!": its row or column was deleted
                continue
            missing.setdefault(actual, []).append(f"{actual}!{a1(row, col)}")
            out[name] = (actual, row, col)
            continue
        if (tgt[1], tgt[2]) == (row, col) or shifts.get(sheet):
            out[name] = tgt
            continue
        wb.add("NAME_MOVED", WARNING,
               f"单元格名称 {name} 原指向「{actual}」{a1(row, col)}，现在指向 {a1(tgt[1], tgt[2])}；"
               f"表格本身没有移动，已按官方位置 {a1(row, col)} 读取。",
               cells=(f"{actual}!{a1(row, col)}",), values={"name": name, "now": a1(tgt[1], tgt[2])})
        out[name] = (actual, row, col)
    return out


def _labels(wb: Workbook, idx: Layout, table, actual: str | None) -> tuple[tuple | None, list[tuple]]:
    """Compare every printed label of a table with the sheet. Returns (HeaderCell, row, col)
    of the first label found displaced — rows or columns were inserted or deleted — or None,
    and the labels not found at all as (HeaderCell, what the cell says)."""
    if actual is None:
        return None, []
    sheet = wb.sheet(actual)
    if sheet is None:
        return None, []
    cells = sheet.cells
    keys, want_texts = idx.label_cells[table.sheet]
    if cell_texts(cells, keys) == want_texts:
        return None, []  # every label as written (the usual case, found without making the cells)
    texts: dict[str, list[tuple[int, int]]] | None = None  # every text of the sheet, once a label differs
    moved = None
    missing = []
    for hc, want in idx.labels[table.sheet]:
        cell = cells.get((hc.row, hc.col))
        have = cell.value if cell is not None and cell.kind in _TEXT_KINDS else cell_text(cell, set())
        if have == hc.text or norm_label(have or "") == want:
            continue
        if texts is None:
            texts = {}
            for (r, c), other in cells.items():
                if other.kind in _TEXT_KINDS and other.value:
                    texts.setdefault(norm_label(other.value), []).append((r, c))
        elsewhere = texts.get(want)
        if elsewhere:
            if moved is None:
                r, c = min(elsewhere, key=lambda p: abs(p[0] - hc.row) + abs(p[1] - hc.col))
                moved = (hc, r, c)
            continue
        missing.append((hc, have or ""))
    return moved, missing


def _changed_labels(wb: Workbook, table, actual: str | None, missing: list[tuple], gone: set[tuple[int, int]]) -> None:
    """LABEL_CHANGED for every label not found, except those of rows or columns deleted
    whole (their cells' names became #REF!; ROWS_SHIFTED and NAME_MISSING say so)."""
    rows = {r for r, _ in gone if all((r, f.col) in gone for f in table.fields if f.row == r)}
    cols = {c for _, c in gone if all((f.row, c) in gone for f in table.fields if f.col == c)}
    for hc, have in missing:
        if rows.intersection(range(hc.row, hc.row + hc.rowspan)) or cols.intersection(range(hc.col, hc.col + hc.colspan)):
            continue
        ref = a1(hc.row, hc.col)
        shown = f"“{have}”" if have else "空白"
        wb.add("LABEL_CHANGED", ERROR,
               f"「{actual}」{ref} 的表头文字被改成了{shown}，官方格式为“{hc.text}”。请恢复原文字（建议使用原模板重新填写）。",
               cells=(f"{actual}!{ref}",), values={"expected": hc.text, "actual": have})


def protection(wb: Workbook, idx: Layout, sheet_map: Mapping[str, str | None]) -> None:
    """PROTECTION_REMOVED for the data sheets (and the identity sheet) that are no longer protected."""
    unprotected = []
    for name, data in idx.expected_sheets:
        if not data and name != meta.META_SHEET:
            continue  # the instructions sheet holds nothing to tamper with
        actual = sheet_map.get(name)
        sheet = wb.sheet(actual) if actual else None
        if sheet is not None and not sheet.protected:
            unprotected.append(actual)
    if unprotected:
        listed = "、".join(f"「{s}」" for s in unprotected)
        wb.add("PROTECTION_REMOVED", WARNING,
               f"工作表{listed}的保护已被撤销。数据已照常读取，但请确认没有改动表头和公式；建议使用原模板重新填写。",
               values={"sheets": unprotected})
