"""What every input kind of a published report shares: the limits on size and work, the
`Document` a file becomes, `SourceError` (a file that cannot be imported, with a Chinese message
that says what the file is and what to do), and the `Converter` hook for .doc/.wps files (the
LibreOffice runner lives in write/office.py, a layer above read/: the caller hands it in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .document import Line

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_text_bytes: int = 2 * MiB  # a published report's text is 30-100 KB
    max_html_bytes: int = 10 * MiB  # a report page with its site's markup is well under 2 MB
    max_docx_bytes: int = 30 * MiB
    max_pdf_bytes: int = 50 * MiB
    max_pdf_pages: int = 60  # a report has 4-12 pages
    max_zip_entries: int = 2000
    max_zip_total: int = 200 * MiB  # uncompressed
    max_part_bytes: int = 64 * MiB
    max_ratio: float = 200.0
    max_lines: int = 200_000
    max_cells: int = 100_000  # table cells of a Word file or web page
    pdf_seconds: float = 60.0  # parse time of one PDF


DEFAULT_LIMITS = Limits()


class SourceError(Exception):
    """A file that cannot be imported. `reason` is a stable word for programs."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass
class Document:
    lines: list[Line]
    kind: str  # "text" | "docx" | "html" | "pdf" | "doc"
    style: str  # text style: "plain" | "pipes" | "pipe-cells" | "layout" | "tables" (structured)
    wrapped: bool | None = False  # paragraphs broken into lines (PDF text); None = decide from the text
    pages: int | None = None
    notes: dict[str, object] = field(default_factory=dict)


def mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n >= MiB else f"{n / 1024:.0f} KB"



# (source .doc/.wps file, output folder) -> the .docx written there, or None when the program it
# needs (LibreOffice) is not installed; raises OSError/RuntimeError when the conversion fails
Converter = Callable[[Path, Path], Path | None]


def cap(data: bytes, limit: int, name: str, what: str) -> None:
    if len(data) > limit:
        raise SourceError(
            f"「{name}」过大（{mb(len(data))}），{what}的上限为 {mb(limit)}，未导入。一份年度报告远小于此；请确认文件是否正确。",
            "too_large",
        )
