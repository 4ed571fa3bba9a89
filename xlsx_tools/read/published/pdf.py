"""PDF: words with their positions and the ruling lines of the tables (pdfplumber), the table grid
rebuilt from the cells the ruling lines enclose (merged cells are one cell), the words outside
tables grouped into lines by position. Image-only (scanned) PDFs are recognised and refused with
"需要 OCR".

Parsing runs in a child process with a memory cap and a time limit, so a PDF bomb (a content
stream that inflates to gigabytes, a page tree that never ends) costs a message, not the machine.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import sys
from typing import Any

import pdfplumber

try:
    import resource
except ImportError:  # not on Windows: the child runs without a memory cap there
    resource = None

from .document import Line, is_page_furniture
from .limits import Document, Limits, SourceError

MEMORY_CAP = 1536 << 20  # bytes of address space for the parsing child
LINE_TOLERANCE = 3.0  # pt: words whose tops differ by less are on one line


def read_pdf(data: bytes, name: str, limits: Limits) -> Document:
    result = _run_isolated(data, limits)
    status = result.get("status")
    if status == "ok":
        lines = [Line(text=t, cells=c, origin=o, columns=cols, in_table=it, spans=sp)
                 for t, c, o, cols, it, sp in result["lines"]]
        if not lines and result["images"]:
            raise SourceError(
                f"「{name}」是扫描件（每页只有图片，没有文字层），需要 OCR 识别文字后才能导入，本工具不做 OCR。"
                "请找到报告的文字版（网页、Word 或可复制文字的 PDF）。", "needs_ocr")
        if not lines:
            raise SourceError(f"「{name}」中没有可读取的文字，无法导入。", "no_text")
        return Document(lines, "pdf", "tables" if result["tables"] else "layout", wrapped=True,
                        pages=result["pages"], notes={"tables": result["tables"]})
    if status == "pages":
        raise SourceError(
            f"「{name}」有 {result['pages']} 页，超出上限 {limits.max_pdf_pages} 页。一份年度报告通常只有 4–12 页，请确认文件是否正确。",
            "too_many_pages")
    if status == "encrypted":
        raise SourceError(f"「{name}」设置了密码（已加密），无法读取。请去掉密码后再导入。", "encrypted")
    if status == "timeout":
        raise SourceError(
            f"「{name}」在 {limits.pdf_seconds:.0f} 秒内没有解析完，疑似构造异常的 PDF（“PDF 炸弹”），已停止读取。", "pdf_bomb")
    if status == "memory":
        raise SourceError(f"「{name}」解析时占用内存过多，疑似构造异常的 PDF（“PDF 炸弹”），已停止读取。", "pdf_bomb")
    raise SourceError(f"「{name}」不是有效的 PDF 或已损坏，无法读取。请重新下载或另存后再导入。", "pdf")


def _run_isolated(data: bytes, limits: Limits) -> dict[str, Any]:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    ctx = mp.get_context(method)
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(data, limits.max_pdf_pages, child), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(limits.pdf_seconds):
            try:
                return parent.recv()
            except (EOFError, OSError):
                return {"status": "memory" if proc.exitcode not in (0, None) else "error"}
        return {"status": "timeout"}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()


def _child(data: bytes, max_pages: int, conn) -> None:
    try:
        if resource is not None:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    except (ValueError, OSError):
        pass
    try:
        out = parse(data, max_pages)
    except MemoryError:
        out = {"status": "memory"}
    except Exception as e:  # noqa: BLE001 - any parser failure is "not a valid PDF"
        out = {"status": _failure(e)}
    try:
        conn.send(out)
    finally:
        conn.close()
        os._exit(0)


def _failure(e: BaseException) -> str:
    """"memory", "encrypted" or "error" for an exception of the parser (pdfplumber wraps
    pdfminer's, which wraps zlib's "Unable to allocate output buffer")."""
    seen = 0
    while e is not None and seen < 10:
        name = type(e).__name__
        text = str(e).lower()
        if isinstance(e, MemoryError) or "allocate" in text or "memory" in text:
            return "memory"
        if "password" in name.lower() or "encrypt" in name.lower() or "password" in text:
            return "encrypted"
        e = e.__cause__ or e.__context__ or (e.args[0] if e.args and isinstance(e.args[0], BaseException) else None)
        seen += 1
    return "error"


def parse(data: bytes, max_pages: int) -> dict[str, Any]:
    """Lines of a PDF as plain tuples (text, cells, origin, columns, in_table)."""
    lines: list[tuple] = []
    ends: list[tuple[dict, float, float]] = []
    images = 0
    n_tables = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        n_pages = len(pdf.pages)
        if n_pages > max_pages:
            return {"status": "pages", "pages": n_pages}
        for pno, page in enumerate(pdf.pages, start=1):
            images += len(page.images)
            words = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            items: list[tuple[float, int, tuple]] = []
            for t in tables:
                n_tables += 1
                for r, row in enumerate(t.rows, start=1):
                    cells: list[str] = []
                    cols: list[int] = []
                    for c, box in enumerate(row.cells):
                        if box is None:
                            continue
                        cells.append(_text_in(words, box))
                        cols.append(c)
                    if any(cells):
                        top = row.bbox[1]
                        items.append((top, 0, (" ".join(x for x in cells if x), cells,
                                               {"page": pno, "table": n_tables, "row": r}, cols, True, None)))
            free = [w for w in words if not any(_inside(w, b) for b in boxes)]
            grouped = [g for g in _group_lines(free) if not is_page_furniture(g[1])]
            margin = min((g[2] for g in grouped), default=0.0)
            for top, text, x0, size, x1, spans in grouped:
                origin: dict[str, Any] = {"page": pno}
                if x0 - margin > 0.8 * size:
                    origin["indent"] = True  # a paragraph's first line (2 characters in)
                ends.append((origin, x1, size))
                items.append((top, 1, (text, None, origin, None, False, spans)))
            items.sort(key=lambda x: (x[0], x[1]))
            for n, (_, _, item) in enumerate(items, start=1):
                if not item[4]:
                    item[2]["line"] = n
                lines.append(item)
    right = max((x1 for _, x1, _ in ends), default=0.0)
    for origin, x1, size in ends:
        if x1 < right - 1.5 * size:
            origin["short"] = True  # ends before the right margin: a paragraph's last line
    return {"status": "ok", "lines": lines, "pages": n_pages, "images": images, "tables": n_tables}


def _inside(w: dict, box: tuple) -> bool:
    cx = (w["x0"] + w["x1"]) / 2
    cy = (w["top"] + w["bottom"]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _text_in(words: list[dict], box: tuple) -> str:
    inside = [w for w in words if _inside(w, box)]
    return "\n".join(g[1] for g in _group_lines(inside))


def _group_lines(words: list[dict]) -> list[tuple]:
    """Words grouped into lines by their tops, each line's words in x order; a space only where
    the words are apart or Latin/digits meet."""
    out: list[tuple[float, list[dict]]] = []
    for w in sorted(words, key=lambda w: (round(w["top"], 1), w["x0"])):
        if out and abs(out[-1][0] - w["top"]) <= LINE_TOLERANCE:
            out[-1][1].append(w)
        else:
            out.append((w["top"], [w]))
    result = []
    for top, ws in out:
        ws.sort(key=lambda w: w["x0"])
        x0 = ws[0]["x0"]
        size0 = max(1.0, ws[0]["bottom"] - ws[0]["top"])
        x1 = ws[-1]["x1"]
        text = ws[0]["text"]
        spans = [[ws[0]["x0"], ws[0]["x1"]]]
        for a, b in zip(ws, ws[1:], strict=False):
            gap = b["x0"] - a["x1"]
            size = max(1.0, (a["bottom"] - a["top"]))
            latin = a["text"][-1:].isascii() or b["text"][:1].isascii()
            sep = " " if gap > size * 0.6 or (latin and gap > size * 0.15) else ""
            text += sep + b["text"]
            if sep:
                spans.append([b["x0"], b["x1"]])
            else:
                spans[-1][1] = b["x1"]
        result.append((top, text, x0, size0, x1, [tuple(x) for x in spans]))
    return result
