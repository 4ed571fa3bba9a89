"""The 填报截止日期 a sent template shows: read by the template batch (re-runs keep the deadline)
and by the 问题通知 writer (a notice repeats the deadline of the template the agency filled)."""

from __future__ import annotations

from pathlib import Path

from ..model import meta
from .book import parse_rels, parse_workbook
from .intake import IntakeError, open_source, parse_part
from .parts import parse_sheet, parse_strings


def template_deadline(path: Path) -> str | None:
    """The 填报截止日期 a template (or a return filled in it) shows in 填报说明: "" for none, None
    when the file does not open as one of ours (edited or broken). Read with the reader's own
    intake and part parsers (zip and XML safety), only the parts 填报说明 needs."""
    intake = open_source(path)
    if not intake.ok:
        return None
    try:
        rels = parse_part(intake, "xl/_rels/workbook.xml.rels", parse_rels)
        book = parse_part(intake, "xl/workbook.xml", lambda data: parse_workbook(data, rels))
        part = next((part for name, part, _ in book.sheets if name == meta.INSTRUCTIONS_SHEET), None)
        if part is None or not intake.has(part):
            return None
        strings = parse_part(intake, "xl/sharedStrings.xml", parse_strings) if intake.has("xl/sharedStrings.xml") else []
        sheet = parse_part(intake, part, lambda data: parse_sheet(data, strings, meta.INSTRUCTIONS_SHEET))
    except IntakeError:  # a template someone edited or broke
        return None
    finally:
        if intake.zip is not None:
            intake.zip.close()
    for row in range(_DEADLINE_ROWS):
        label = sheet.cells.get((row, 0))
        if label is not None and label.value == meta.DEADLINE_LABEL:
            cell = sheet.cells.get((row, 1))
            value = (cell.value or "") if cell is not None else ""
            return "" if value == meta.NO_DEADLINE else value
    return ""


_DEADLINE_ROWS = 12  # 填报说明 gives the deadline in its first rows
