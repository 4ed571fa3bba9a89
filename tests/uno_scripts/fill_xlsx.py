"""Fill cells of a workbook the way a person (or a careless program) would, then save it as .xlsx.

    fill_xlsx.py input.xlsx output.xlsx actions.json [--report report.json]

actions.json is a list of ``{"sheet": "表三", "cell": "B3", "value": 5, "mode": "dispatch"}``.
Modes: ``dispatch`` types the value into the selected cell through the dispatch framework
(.uno:EnterString), so sheet protection applies exactly as for a user; ``setvalue``,
``setstring`` and ``setformula`` call the cell API, which ignores protection; ``read`` changes
nothing and only reports the cell. A ``dispatch`` with
value null presses Delete on the cell (.uno:ClearContents). The workbook is recalculated before it
is saved.

Like the API modes, .uno:EnterString bypasses data validation (only the input line checks it), so
``dispatch`` accepts -1 or "abc" into a cell that allows only non-negative integers.

The report lists, per action, the cell's content after everything ran (or the exception the
action raised), and per sheet whether it is protected. Exit status 2 means some action raised.
Runs under the UNO Python via xlsx_tools.write.office.run_uno: stdlib + uno only.
"""

import argparse
import json
import sys

import _bridge


def cell_state(cell):
    kind = cell.getType()
    return {
        "type": kind.value,  # EMPTY, VALUE, TEXT or FORMULA
        "value": cell.getValue(),
        "string": cell.getString(),
        "formula": cell.getFormula(),
        "error": cell.getError(),
    }


def replace_view(doc, dispatcher):
    """Give the document a new view and close the old one.

    After a refused edit on a protected sheet, ScTabView::ErrorMessage leaves behind an async
    message box that headless mode cancelled without running its completion handler; the next
    refusal in the same view crashes soffice (LibreOffice 7.4). A fresh view has no such box.
    """
    old = doc.getCurrentController()
    frame = old.getFrame()
    dispatcher.executeDispatch(frame, ".uno:NewWindow", "", 0, ())
    controllers = doc.getControllers()
    while controllers.hasMoreElements():
        controller = controllers.nextElement()
        if controller != old:
            break
    else:
        raise RuntimeError("could not open a new view of the document")
    frame.close(True)
    doc.setCurrentController(controller)


def apply(action, doc, dispatcher):
    sheet = doc.Sheets.getByName(action["sheet"])
    cell = sheet.getCellRangeByName(action["cell"])
    mode = action.get("mode", "dispatch")
    value = action.get("value")
    if mode == "dispatch":
        controller = doc.getCurrentController()
        controller.setActiveSheet(sheet)
        controller.select(cell)
        frame = controller.getFrame()
        if value is None:
            dispatcher.executeDispatch(frame, ".uno:ClearContents", "", 0, ())
        else:
            dispatcher.executeDispatch(
                frame, ".uno:EnterString", "", 0, _bridge.props(StringName=str(value))
            )
        if sheet.isProtected() and cell.CellProtection.IsLocked:
            replace_view(doc, dispatcher)
    elif mode == "setvalue":
        cell.setValue(float(value))
    elif mode == "setstring":
        cell.setString("" if value is None else str(value))
    elif mode == "setformula":
        cell.setFormula(str(value))
    elif mode == "read":
        pass  # only reported: the cell as LibreOffice computed it
    else:
        raise ValueError(f"unknown mode {mode!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("actions")
    parser.add_argument("--report")
    args = parser.parse_args(argv)
    with open(args.actions, encoding="utf-8") as fh:
        actions = json.load(fh)

    ctx, smgr, desktop = _bridge.connect()
    dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
    doc = _bridge.load(desktop, args.input)
    failures = {}
    try:
        for index, action in enumerate(actions):
            try:
                apply(action, doc, dispatcher)
            except Exception as exc:
                failures[index] = f"{type(exc).__name__}: {exc}"
                print(f"action {index} {action!r} failed: {exc}", file=sys.stderr)
        doc.calculateAll()
        _bridge.store_xlsx(doc, args.output)
        if args.report:
            cells = []
            for index, action in enumerate(actions):
                entry = {
                    "sheet": action.get("sheet"),
                    "cell": action.get("cell"),
                    "mode": action.get("mode", "dispatch"),
                    "requested": action.get("value"),
                }
                if index in failures:
                    entry["exception"] = failures[index]
                else:
                    sheet = doc.Sheets.getByName(action["sheet"])
                    entry.update(cell_state(sheet.getCellRangeByName(action["cell"])))
                cells.append(entry)
            sheets = [
                {"name": sheet.getName(), "protected": bool(sheet.isProtected())}
                for sheet in (doc.Sheets.getByIndex(i) for i in range(doc.Sheets.getCount()))
            ]
            with open(args.report, "w", encoding="utf-8") as fh:
                json.dump({"cells": cells, "sheets": sheets}, fh, ensure_ascii=False, indent=1)
    finally:
        _bridge.close(doc)
    # A refused edit is a result, not a failure; an action that raised (no such sheet, bad
    # mode) is one, and shows in the exit status after everything else has been written.
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
