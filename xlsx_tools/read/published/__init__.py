"""Reading published reports (PDF, Word, web page, pasted text) back into data: issue 12.

`import_file(path)` returns an ImportResult: the Report (as `export` writes it), a source block
(where every figure came from) and the findings of every check. No typer/rich here."""

from .importer import LAYOUT, NOT_FOUND, ImportResult, import_file

__all__ = ["LAYOUT", "NOT_FOUND", "ImportResult", "import_file"]
