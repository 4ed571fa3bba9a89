"""One workbook being read: its parts, parsed on first use and kept, and the findings collected
about it. The steps of the reader (identity, structure, values, formulas) all work on this one
object; nothing here judges the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model.findings import Finding
from . import ooxml
from .book import OUTSIDE, Book, parse_props, parse_rels, parse_workbook
from .formulas import name_target
from .intake import Intake, IntakeError, parse_part, unreadable
from .parts import Sheet, parse_sheet, parse_strings
from .styles import parse_styles

RELS_PART = "xl/_rels/workbook.xml.rels"
BOOK_PART = "xl/workbook.xml"


class Targets(Mapping):
    """Defined name -> (sheet, row, col) of the cell it points to, or None: worked out for a name
    when it is asked for (a clean file has its names compared as written: structure.locations)."""

    __slots__ = ("_names",)

    def __init__(self, names: dict[str, str]):
        self._names = names  # name -> its reference, as written

    def get(self, name, default=None):
        text = self._names.get(name)
        return default if text is None else name_target(text)

    def __getitem__(self, name):
        return name_target(self._names[name])

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class Workbook:
    """The parts of one accepted container (intake), read lazily, and what the reader found."""

    def __init__(self, intake: Intake, blank_as_zero: bool = False):
        self.intake = intake
        self.blank_as_zero = blank_as_zero
        self.findings: list[Finding] = []
        self._sheet_cache: dict[str, Sheet | None] = {}
        self.cells_left = ooxml.MAX_BOOK_CELLS  # cells all worksheets may still hold together
        self._strings: list[str] | None = None
        self._date_styles: set[int] | None = None
        self.unreliable: set[str] = set()  # sheets whose values are displaced (rows shifted, names not)
        self.conflicts: dict[str, tuple[str, str]] = {}  # identity key -> (hidden sheet, properties)
        self.sheet_map: dict[str, str | None] = {}  # spec sheet -> the workbook's sheet (structure.map_sheets)

    def open(self) -> None:
        """Read the workbook part and its relationships: the sheets, their parts, the defined names."""
        rels = self.part(RELS_PART, parse_rels) if self.intake.has(RELS_PART) else {}
        self.book: Book = self.part(BOOK_PART, lambda d: parse_workbook(d, rels))
        self.targets = Targets(self.book.names)
        self.sheet_parts = {name: part for name, part, _ in self.book.sheets}
        self.shared_strings_part = next((t for t in rels.values() if t.endswith("sharedStrings.xml")), "xl/sharedStrings.xml")
        self.styles_part = next((t for t in rels.values() if t.endswith("styles.xml")), "xl/styles.xml")

    def props(self, part: str, keys: tuple[str, ...]) -> dict[str, str]:
        """A docProps part as {name: value} ({} when the file has none); see book.parse_props."""
        return self.part(part, lambda data: parse_props(data, keys)) if self.intake.has(part) else {}

    def part(self, name: str, handler):
        return parse_part(self.intake, name, handler)

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            part = self.shared_strings_part
            self._strings = self.part(part, parse_strings) if part and self.intake.has(part) else []
        return self._strings

    @property
    def date_styles(self) -> set[int]:
        if self._date_styles is None:
            part = self.styles_part
            self._date_styles = self.part(part, parse_styles) if part and self.intake.has(part) else set()
        return self._date_styles

    def sheet(self, name: str | None) -> Sheet | None:
        if name is None:
            return None
        if name not in self._sheet_cache:
            part = self.sheet_parts.get(name)
            if name in self.sheet_parts and (not part or not self.intake.has(part)):
                self._missing_part(name, part or "")
            if not part:
                self._sheet_cache[name] = None
            else:
                strings = self.strings
                cap = min(ooxml.MAX_SHEET_CELLS, self.cells_left)
                sheet = self.part(part, lambda data: parse_sheet(data, strings, name, cap))
                self.cells_left -= len(sheet.cells)
                self._sheet_cache[name] = sheet
        return self._sheet_cache[name]

    def _missing_part(self, name: str, part: str) -> None:
        """A sheet the workbook lists whose content is not in the file (its relationship points
        outside the package, or to a part that is not there): the file is damaged."""
        if part.startswith(OUTSIDE):
            where = f"指向文件之外的“{part[len(OUTSIDE):][:80]}”"
        elif part:
            where = f"应在部件 {part[:80]}，但文件中没有"
        else:
            where = "找不到它的部件"
        raise IntakeError(unreadable(
            self.intake.name, f"工作表「{name}」的内容不在文件中（{where}），文件已损坏", "sheet_missing"))

    def add(self, code: str, severity: str, message: str, **kw: Any) -> None:
        self.findings.append(Finding(code=code, severity=severity, message=message, **kw))
