"""Input kinds of a published report (.txt/.md, .docx, .html/.htm, .pdf, .doc/.wps through
LibreOffice) reduced to `Line`s, with size and work limits. A file that cannot be read raises
`SourceError` with a Chinese message that says what the file is and what to do; nothing here lets
a traceback or a hang through."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .document import Line, is_page_furniture, text_lines

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


def _mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n >= MiB else f"{n / 1024:.0f} KB"


def sniff(data: bytes) -> str:
    """What a file is, from its first bytes."""
    head = data[:2048]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    low = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if low.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<table", b"<div", b"<p")):
        return "html"
    if low.startswith(b"<?xml") and b"<html" in head.lower():
        return "html"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "image"
    return "text"


def read_document(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[Document, bytes]:
    """The lines of a published report file, and its bytes (for the checksum)."""
    name = path.name
    try:
        if not path.is_file():
            raise SourceError(f"「{name}」不是普通文件，无法导入。", "not_a_file")
        size = path.stat().st_size
        cap = max(limits.max_pdf_bytes, limits.max_docx_bytes, limits.max_html_bytes, limits.max_text_bytes)
        if size > cap:
            raise SourceError(
                f"「{name}」过大（{_mb(size)}），超出年度报告文件的上限 {_mb(cap)}，未导入。请确认这是年度报告本身。",
                "too_large",
            )
        with open(path, "rb") as fh:
            data = fh.read(cap + 1)
    except OSError as e:
        raise SourceError(f"无法打开「{name}」（{e.strerror or e}），请检查文件是否存在、是否有读取权限。", "io") from None
    return read_bytes(data, name, limits), data


def read_bytes(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> Document:
    kind = sniff(data)
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise SourceError(f"「{name}」是空文件，没有可导入的内容。", "empty")
    if kind == "pdf":
        _cap(data, limits.max_pdf_bytes, name, "PDF")
        from .pdf import read_pdf

        return read_pdf(data, name, limits)
    if kind == "zip":
        _cap(data, limits.max_docx_bytes, name, "Word 文档")
        return read_docx(data, name, limits)
    if kind == "ole":
        return read_via_office(data, name, suffix, limits)
    if kind == "image":
        raise SourceError(f"「{name}」是图片，其中的文字需要 OCR 识别，本工具不做 OCR。请找到报告的文字版（网页、Word 或可复制文字的 PDF）。", "image")
    if kind == "html" or suffix in (".html", ".htm") and b"<" in data[:4096]:
        _cap(data, limits.max_html_bytes, name, "网页")
        return read_html(data, name, limits)
    _cap(data, limits.max_text_bytes, name, "文本")
    text = decode_text(data, name)
    lines, style = text_lines(text)
    if len(lines) > limits.max_lines:
        raise SourceError(f"「{name}」有 {len(lines)} 行，超出上限 {limits.max_lines} 行，不像一份年度报告，未导入。", "too_many_lines")
    return Document(lines, "text", style, wrapped=None)


def _cap(data: bytes, cap: int, name: str, what: str) -> None:
    if len(data) > cap:
        raise SourceError(
            f"「{name}」过大（{_mb(len(data))}），{what}的上限为 {_mb(cap)}，未导入。一份年度报告远小于此；请确认文件是否正确。",
            "too_large",
        )


# -- text

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030; a binary file is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    else:
        text = None
        if b"\x00" not in data[:65536]:
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    text = data.decode(enc)
                    break
                except UnicodeDecodeError:
                    continue
    if text is None or len(_CONTROL.findall(text[:65536])) > max(8, len(text[:65536]) // 100):
        raise SourceError(
            f"「{name}」不是文本文件（内容是二进制数据），无法按文本导入。请确认文件类型：年度报告应为 .pdf、.docx、.html 或 .txt。",
            "binary",
        )
    return text


# -- Word


def _check_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise SourceError(f"「{name}」是损坏或不完整的压缩文件（可能下载中断），无法读取。请重新下载或另存后再导入。", "truncated") from None
    if len(infos) > limits.max_zip_entries:
        raise SourceError(f"「{name}」包含 {len(infos)} 个部件，远超正常的 Word 文档（疑似“压缩炸弹”），已拒绝读取。", "zip_bomb")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > limits.max_part_bytes or total > limits.max_zip_total or (
            info.file_size > MiB and ratio > limits.max_ratio
        ):
            raise SourceError(f"「{name}」解压后过大（部件 {info.filename[:60]}），疑似“压缩炸弹”，已拒绝读取。", "zip_bomb")
        if info.flag_bits & 0x1:
            raise SourceError(f"「{name}」已加密，无法读取。请去掉密码后再导入。", "encrypted")
    return zf


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(data: bytes, name: str, limits: Limits) -> Document:
    from lxml import etree

    zf = _check_zip(data, name, limits)
    names = set(zf.namelist())
    if "word/document.xml" not in names:
        what = "Excel 工作簿" if "xl/workbook.xml" in names else "压缩包"
        raise SourceError(f"「{name}」是{what}，不是 Word 文档（.docx）。年报工作簿请用 xlsx-tools check 校验。", "not_docx")
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        root = etree.fromstring(zf.read("word/document.xml"), parser)
    except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, ValueError):
        raise SourceError(f"「{name}」的正文部分已损坏，无法读取。请用 Word 或 WPS 打开后另存为 .docx 再导入。", "xml") from None
    body = root.find(f"{W}body")
    lines: list[Line] = []
    counter = {"tables": 0, "cells": 0}
    if body is not None:
        _docx_block(body, lines, counter, limits, name)
    return Document(lines, "docx", "tables", notes={"tables": counter["tables"]})


def _docx_text(el) -> str:
    parts = []
    for node in el.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr", f"{W}p"):
        tag = node.tag
        if tag == f"{W}t":
            parts.append(node.text or "")
        elif tag == f"{W}tab":
            parts.append(" ")
        elif tag in (f"{W}br", f"{W}cr"):
            parts.append("\n")
        elif tag == f"{W}p" and parts:
            parts.append("\n")
    return "".join(parts).strip()


def _docx_block(parent, lines: list[Line], counter: dict[str, int], limits: Limits, name: str) -> None:
    for child in parent:
        tag = child.tag
        if tag == f"{W}p":
            text = _docx_text(child)
            for piece in text.split("\n"):
                if piece.strip():
                    lines.append(Line(piece.strip(), origin={"paragraph": len(lines) + 1}))
        elif tag == f"{W}tbl" and child.find(f".//{W}tbl") is not None:
            # a table holding tables is page layout: its cells are read as blocks
            for tc in child.iter(f"{W}tc"):
                if tc.getparent() is not None and tc.getparent().getparent() is child:
                    _docx_block(tc, lines, counter, limits, name)
        elif tag == f"{W}tbl":
            counter["tables"] += 1
            _docx_table(child, lines, counter, limits, name)
        elif tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}ins", f"{W}smartTag"):
            _docx_block(child, lines, counter, limits, name)


def _docx_table(tbl, lines: list[Line], counter: dict[str, int], limits: Limits, name: str) -> None:
    t = counter["tables"]
    for r, tr in enumerate(tbl.iterfind(f"{W}tr"), start=1):
        cells: list[str] = []
        cols: list[int] = []
        col = 0
        for tc in tr.iter(f"{W}tc"):
            if tc.getparent() is not tr and tc.getparent().tag != f"{W}sdtContent":
                continue  # a nested table's cell
            pr = tc.find(f"{W}tcPr")
            span = 1
            continuation = False
            if pr is not None:
                gs = pr.find(f"{W}gridSpan")
                if gs is not None:
                    try:
                        span = max(1, min(64, int(gs.get(f"{W}val", "1"))))
                    except ValueError:
                        span = 1
                vm = pr.find(f"{W}vMerge")
                if vm is not None and vm.get(f"{W}val", "continue") != "restart":
                    continuation = True
            if not continuation:
                cells.append(_docx_text(tc))
                cols.append(col)
            col += span
            counter["cells"] += 1
            if counter["cells"] > limits.max_cells:
                raise SourceError(f"「{name}」的表格超过 {limits.max_cells} 个单元格，不像一份年度报告，未导入。", "too_many_cells")
        if cells:
            lines.append(Line(" ".join(c for c in cells if c), cells=cells, columns=cols,
                              origin={"table": t, "row": r}, in_table=True))


# -- web page

_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "section", "article", "header",
          "footer", "blockquote", "pre", "ul", "ol", "dd", "dt", "center", "title", "form"}
_SKIP = {"script", "style", "noscript", "template", "head", "iframe", "object", "svg", "select", "button"}
BREAK = "\u2028"
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)


def html_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    m = _CHARSET_RE.search(data[:8192])
    if m:
        enc = m.group(1).decode("ascii", "replace").lower()
        if enc in ("gb2312", "gbk", "gb_2312-80"):
            return "gb18030"
        return enc
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def read_html(data: bytes, name: str, limits: Limits) -> Document:
    import lxml.html
    from lxml import etree

    enc = html_encoding(data)
    try:
        text = data.decode(enc, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    if "\x00" in text[:65536]:
        raise SourceError(f"「{name}」不是网页（内容是二进制数据），无法导入。", "binary")
    try:
        parser = lxml.html.HTMLParser(remove_comments=True, no_network=True, huge_tree=False)
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        raise SourceError(f"「{name}」无法按网页解析，请在浏览器中打开后“另存为”网页再导入。", "html") from None
    body = root.find("body")
    walker = _HtmlWalker(limits, name)
    walker.walk(body if body is not None else root)
    walker.flush()
    return Document(walker.lines, "html", "tables", notes={"tables": walker.tables})


class _HtmlWalker:
    def __init__(self, limits: Limits, name: str):
        self.lines: list[Line] = []
        self.buf: list[str] = []
        self.tables = 0
        self.cells = 0
        self.limits = limits
        self.name = name

    def flush(self) -> None:
        # newlines in the page source are spaces; <br> was recorded as BREAK
        text = re.sub(r"[ \t\r\n\f\v\u00a0\u3000]+", " ", "".join(self.buf)).strip()
        self.buf = []
        for piece in text.split(BREAK):
            piece = piece.strip()
            if piece and not is_page_furniture(piece):
                self.lines.append(Line(piece, origin={"block": len(self.lines) + 1}))

    def walk(self, el) -> None:
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None:
            return
        tag = tag.lower()
        if tag in _SKIP:
            return
        if tag == "table" and not _has_nested_table(el):
            self.flush()
            self.table(el)
            return
        if tag in ("table", "tr", "td", "th"):  # a page laid out with tables: its cells are blocks
            self.flush()
        if tag == "br":
            self.buf.append(BREAK)
            return
        if (el.get("title") or "").lower() in ("header", "footer") or "footer" in (el.get("class") or "").lower():
            return  # LibreOffice's page header/footer (page numbers), a site's footer
        if tag in _BLOCK:
            self.flush()
        if el.text:
            self.buf.append(el.text)
        for child in el:
            self.walk(child)
            if child.tail:
                self.buf.append(child.tail)
        if tag in _BLOCK:
            self.flush()

    def table(self, tbl) -> None:
        """Rows of a table, colspan/rowspan expanded into a grid to know each cell's column."""
        self.tables += 1
        t = self.tables
        taken: dict[tuple[int, int], bool] = {}
        rows = [tr for tr in tbl.iter("tr") if _owner_table(tr) is tbl]
        for r, tr in enumerate(rows):
            cells: list[str] = []
            cols: list[int] = []
            col = 0
            for td in tr:
                if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                    continue
                while taken.get((r, col)):
                    col += 1
                colspan = _span(td.get("colspan"))
                rowspan = _span(td.get("rowspan"))
                for dr in range(rowspan):
                    for dc in range(colspan):
                        taken[(r + dr, col + dc)] = True
                cells.append(_cell_text(td))
                cols.append(col)
                col += colspan
                self.cells += 1
                if self.cells > self.limits.max_cells:
                    raise SourceError(f"「{self.name}」的表格超过 {self.limits.max_cells} 个单元格，不像一份年度报告，未导入。", "too_many_cells")
            if cells:
                self.lines.append(Line(" ".join(c for c in cells if c), cells=cells, columns=cols,
                                       origin={"table": t, "row": r + 1}, in_table=True))


def _has_nested_table(tbl) -> bool:
    """A table holding another table is page layout (many agency sites wrap the article in one)."""
    return any(isinstance(t.tag, str) and t.tag.lower() == "table" for t in tbl.iterdescendants())


def _owner_table(tr):
    p = tr.getparent()
    while p is not None and (not isinstance(p.tag, str) or p.tag.lower() != "table"):
        p = p.getparent()
    return p


def _span(v: str | None) -> int:
    try:
        return max(1, min(100, int(str(v).strip())))
    except (TypeError, ValueError):
        return 1


def _cell_text(td) -> str:
    parts: list[str] = []

    def go(el):
        if isinstance(el.tag, str) and el.tag.lower() in _SKIP:
            return
        if isinstance(el.tag, str) and el.tag.lower() in ("br", "p", "div") and parts:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        for c in el:
            go(c)
            if c.tail:
                parts.append(c.tail)

    go(td)
    return re.sub(r"[ \t\u00a0\u3000]+", " ", "".join(parts)).strip()


# -- .doc / .wps through LibreOffice


def read_via_office(data: bytes, name: str, suffix: str, limits: Limits) -> Document:
    from .. import office

    if office.find_soffice() is None:
        raise SourceError(
            f"「{name}」是旧版 Word/WPS 文档（{suffix or '.doc'}），需要 LibreOffice 转换后才能导入，但本机没有安装 LibreOffice。"
            "请用 Word 或 WPS 打开后“另存为” .docx 再导入，或安装 LibreOffice（apt-get install libreoffice-writer）。",
            "needs_office",
        )
    _cap(data, limits.max_docx_bytes, name, "Word 文档")
    with tempfile.TemporaryDirectory(prefix="xlsx-tools-import-") as tmp:
        src = Path(tmp) / f"report{suffix if suffix in ('.doc', '.wps') else '.doc'}"
        src.write_bytes(data)
        try:
            out = office.convert(src, "docx:MS Word 2007 XML", Path(tmp) / "out", timeout=120)
        except (office.OfficeError, OSError) as e:
            raise SourceError(f"「{name}」无法用 LibreOffice 转换为 .docx：{e}", "office") from None
        doc = read_docx(out.read_bytes(), name, limits)
    doc.kind = "doc"
    return doc
