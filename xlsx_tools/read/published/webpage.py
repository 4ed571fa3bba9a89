"""Web pages (.html/.htm): lxml.html, the page's charset, paragraphs as lines, tables as rows
whose cells get their grid column (colspan/rowspan expanded); a table holding tables is layout."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from .document import Line, is_page_furniture
from .limits import Document, Limits, SourceError

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


