"""Dump what LibreOffice sees in a workbook, after recalculating it, as JSON.

    inspect_xlsx.py input.xlsx out.json

Per sheet: name, visibility, protection, used area, merged ranges, unlocked ranges, data
validations, sheet-level names, and every non-empty cell of the used area (value, display
string, formula, error code). Per workbook: structure protection and the defined names with what
they refer to. Runs under the UNO Python via xlsx_tools.write.office.run_uno: stdlib + uno only.
"""

import argparse
import json
import sys

import _bridge

# Beyond this the per-row merge scan and per-cell dump get slow over the bridge; our templates
# are far smaller, and a larger sheet is reported as truncated rather than silently cut.
MAX_ROWS = 500
MAX_COLS = 100


def column_name(index):
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def a1(col, row):
    return f"{column_name(col)}{row + 1}"


def range_a1(address):
    start = a1(address.StartColumn, address.StartRow)
    end = a1(address.EndColumn, address.EndRow)
    return start if start == end else f"{start}:{end}"


def merged_ranges(sheet, rows, cols):
    """Merged areas, found from their top-left cells (the only ones getIsMerged() is true for)."""
    found = []
    for row in range(rows):
        row_range = sheet.getCellRangeByPosition(0, row, cols - 1, row)
        if not row_range.getIsMerged():
            continue
        for col in range(cols):
            cell = sheet.getCellRangeByPosition(col, row, col, row)
            if cell.getIsMerged():
                cursor = sheet.createCursorByRange(cell)
                cursor.collapseToMergedArea()
                found.append(range_a1(cursor.getRangeAddress()))
    return found


def attribute_ranges(sheet):
    """Unlocked ranges and data validations, from the ranges of identical cell attributes."""
    unlocked, validations = [], []
    ranges = sheet.getUniqueCellFormatRanges()
    for i in range(ranges.getCount()):
        group = ranges.getByIndex(i)
        addresses = [range_a1(a) for a in group.getRangeAddresses()]
        if not group.CellProtection.IsLocked:
            unlocked.extend(addresses)
        validation = group.Validation
        if validation.Type.value != "ANY":
            validations.append(
                {
                    "ranges": addresses,
                    "type": validation.Type.value,
                    "operator": validation.Operator.value,
                    "formula1": validation.getFormula1(),
                    "formula2": validation.getFormula2(),
                    "allow_blank": bool(validation.IgnoreBlankCells),
                    "show_input": bool(validation.ShowInputMessage),
                    "input_title": validation.InputTitle,
                    "input_message": validation.InputMessage,
                    "show_error": bool(validation.ShowErrorMessage),
                    "error_title": validation.ErrorTitle,
                    "error_message": validation.ErrorMessage,
                }
            )
    return unlocked, validations


def names(container):
    out = {}
    for name in container.getElementNames():
        out[name] = container.getByName(name).getContent()
    return out


def cells(sheet, rows, cols):
    out = {}
    area = sheet.getCellRangeByPosition(0, 0, cols - 1, rows - 1)
    formulas = area.getFormulaArray()
    for row in range(rows):
        for col in range(cols):
            if formulas[row][col] == "":
                continue
            cell = sheet.getCellByPosition(col, row)
            entry = {
                "type": cell.getType().value,
                "value": cell.getValue(),
                "string": cell.getString(),
            }
            if entry["type"] == "FORMULA":
                entry["formula"] = cell.getFormula()
                entry["error"] = cell.getError()
            out[a1(col, row)] = entry
    return out


def inspect_sheet(sheet):
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    end = cursor.getRangeAddress()
    used_rows, used_cols = end.EndRow + 1, end.EndColumn + 1
    rows, cols = min(used_rows, MAX_ROWS), min(used_cols, MAX_COLS)
    unlocked, validations = attribute_ranges(sheet)
    try:
        local_names = names(sheet.NamedRanges)
    except AttributeError:
        local_names = {}
    return {
        "name": sheet.getName(),
        "visible": bool(sheet.IsVisible),
        "protected": bool(sheet.isProtected()),
        "used_range": f"A1:{a1(used_cols - 1, used_rows - 1)}",
        "truncated": (rows, cols) != (used_rows, used_cols),
        "merged": merged_ranges(sheet, rows, cols),
        "unlocked": unlocked,
        "validations": validations,
        "names": local_names,
        "cells": cells(sheet, rows, cols),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args(argv)

    _ctx, _smgr, desktop = _bridge.connect()
    doc = _bridge.load(desktop, args.input)
    try:
        doc.calculateAll()
        sheets = doc.Sheets
        result = {
            "protected": bool(doc.isProtected()),
            "names": names(doc.NamedRanges),
            "sheets": [inspect_sheet(sheets.getByIndex(i)) for i in range(sheets.getCount())],
        }
    finally:
        _bridge.close(doc)
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
