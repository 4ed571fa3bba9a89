"""Small pieces of the spreadsheet format the reader needs: the one XML parser every part goes
through, Excel's `_xHHHH_` escapes in strings and the bounds on the work one workbook may cause
(cells, rows, strings, elements).

The parser is lxml with every door closed (no entity substitution, no network, no DTD loading,
libxml2's limits on depth and text size kept), and a part that declares a document type is
refused before a byte of it is parsed: that is where entity definitions (billion laughs) and
external references (XXE) live, which defusedxml refused before. A part that is certainly small
(fewer "<" than the bounds allow) is parsed whole in C and walked with C-level tag filtering; any
other is streamed element by element, counting every element, so that the bounds hold whatever
the file says.

A filled template has about 300 cells per sheet and a few hundred strings; the bounds leave
hundreds of times that, and stop a file padded with millions of cells early (a clean TOO_LARGE
finding instead of gigabytes of memory and minutes of parsing).
"""

from __future__ import annotations

import io
import re
from itertools import repeat
from operator import attrgetter

from lxml import etree

MAX_SHEET_CELLS = 200_000  # cells in one worksheet
MAX_SHEET_ROWS = 100_000  # <row> elements in one worksheet
MAX_BOOK_CELLS = 500_000  # cells of all worksheets read from one workbook together
MAX_STRINGS = 200_000  # entries of the shared string table
MAX_CELL_CHARS = 32_767  # characters in one cell: Excel's own limit
MAX_STYLES = 65_536  # numFmt or xf entries of styles.xml (Excel allows 64,000 cell formats)
MAX_PART_ELEMENTS = 2_000_000  # XML elements in one part (a filled template has a few thousand)


class TooMuchWork(Exception):
    """Parsing a part would go past a bound on the work per part (elements, cells, rows, strings);
    `why` is Chinese and names what and where, e.g. "工作表「表三」中的单元格超过 200000 个"."""

    def __init__(self, why: str, reason: str, limit: int):
        super().__init__(why)
        self.why = why
        self.reason = reason
        self.limit = limit


class UnsafeXml(Exception):
    """A part declares a document type (a DTD, where entity definitions and external references
    live): refused before it is parsed. No part of a workbook has one."""


# lxml (libxml2) with every door closed: no entity substitution, no network, no external DTD,
# libxml2's own bounds on depth and text size kept (huge_tree=False); comments and processing
# instructions dropped, as xml.etree does, so that only elements are seen.
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
                   "remove_comments": True, "remove_pis": True}
_PARSER = etree.XMLParser(**_PARSER_OPTIONS)
_DOCTYPE = b"<!DOCTYPE"
_WIDE_DOCTYPES = tuple("<!DOCTYPE".encode(e) for e in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
# a part whose every element fits a small tree is parsed whole, at C speed, and walked; a bigger
# one is streamed, counting every element (a filled template's biggest part has ~2,000)
TREE_ELEMENTS = 100_000


def refuse_doctype(data: bytes) -> None:
    """UnsafeXml when the part declares a document type, in any encoding libxml2 would read it
    in (UTF-8 and other ASCII-compatible ones; UTF-16 and UTF-32, which put a NUL or a byte
    order mark in the first four bytes)."""
    if b"Y" in data and _DOCTYPE in data:  # (a search for one byte is many times cheaper)
        raise UnsafeXml(_DOCTYPE.decode())
    head = bytes(data[:4])
    if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        if any(d in data for d in _WIDE_DOCTYPES):
            raise UnsafeXml(_DOCTYPE.decode())


def _small(data: bytes, per_element: int, limit: int) -> bool:
    """Whether the part certainly holds few enough elements to be parsed whole: every element
    starts with a "<", so their count bounds the elements (in UTF-8, UTF-16 and UTF-32 alike:
    a part that starts otherwise is streamed)."""
    if not (data[:1] == b"<" or data[:3] == b"\xef\xbb\xbf" or data[:2] in (b"\xff\xfe", b"\xfe\xff")):
        return False
    n = len(data)  # no more "<" than bytes: counting them is needed only in a longer part
    if n > TREE_ELEMENTS or n * per_element > limit:
        n = data.count(b"<")
    return n <= TREE_ELEMENTS and n * per_element <= limit


def small_tree(data: bytes, per_element: int = 1, limit: int | None = None):
    """The root element of a part that is certainly small (see events), parsed whole; None for
    a part that must be streamed. UnsafeXml and XMLSyntaxError as for events."""
    refuse_doctype(data)
    if not _small(data, per_element, MAX_PART_ELEMENTS if limit is None else limit):
        return None
    return etree.fromstring(bytes(data), _PARSER)


def events(data: bytes, tags: tuple[str, ...] | None, kinds: tuple[str, ...] = ("end",), *,
           keep: frozenset[str] | None = None, max_elements: int | None = None, stream: bool = False):
    """(walk, streaming): walk gives (event, element) for the elements of a part whose local
    name is in `tags` (None: every element), in document order, as iterparse would.

    A small part is parsed whole and walked in C (streaming is False). A bigger one is streamed
    (streaming is True): it stops (TooMuchWork) after `max_elements` events of any element
    (MAX_PART_ELEMENTS by default), and with `keep` every element not given to the caller whose
    local name is not in `keep` is emptied as soon as it ends, so that the tree never holds more
    than the reader keeps (the caller empties what it was given); `stream`: streamed whatever
    its size. UnsafeXml for a part that declares a document type; lxml's XMLSyntaxError for one
    that is not well-formed (streamed: once the walk reaches the fault)."""
    limit = MAX_PART_ELEMENTS if max_elements is None else max_elements
    if stream:
        refuse_doctype(data)
        return _stream(data, None if tags is None else frozenset(tags), kinds, keep, limit), True
    root = small_tree(data, len(kinds), limit)
    if root is not None:
        wanted = None if tags is None else tuple("{*}" + t for t in tags)
        if kinds == ("end",) and wanted is not None:
            return zip(repeat("end"), ends(root, wanted)), False
        return etree.iterwalk(root, events=kinds, tag=wanted), False
    return _stream(data, None if tags is None else frozenset(tags), kinds, keep, limit), True


def ends(root, wanted: tuple[str, ...]) -> list:
    """The elements of a parsed part whose tags are `wanted` ("{*}name"), in the order their ends
    come (the order of iterwalk's end events), found in C: where none of them holds another (as
    where all are children of one element), in document order; otherwise as iterwalk gives them
    (which makes every element on the way)."""
    els = list(root.iter(*wanted))
    if any(map(len, els)) and len(set(map(PARENT, els))) > 1 and any(_holds(el, wanted) for el in els if len(el)):
        return [el for _, el in etree.iterwalk(root, events=("end",), tag=wanted)]
    return els


# an element's attribute, parent and text, for map() over many elements (the calls made in C)
GET = etree._Element.get
PARENT = etree._Element.getparent
TEXT = attrgetter("text")


def _holds(el, wanted: tuple[str, ...]) -> bool:
    """Whether a `wanted` element holds another (el.iter gives el itself first)."""
    found = el.iter(*wanted)
    next(found)
    return next(found, None) is not None


def _stream(data: bytes, tags: frozenset[str] | None, kinds: tuple[str, ...], keep: frozenset[str] | None,
            limit: int):
    n = 0
    for event, el in etree.iterparse(io.BytesIO(data), events=kinds, **_PARSER_OPTIONS):
        n += 1
        if n > limit:
            raise TooMuchWork(f"XML 元素超过 {limit} 个", "elements", limit)
        name = local(el.tag)
        if tags is None or name in tags:
            yield event, el
        elif keep is not None and event == "end" and name not in keep:
            el.clear()


_LOCAL: dict[str, str] = {}


def local(tag: str) -> str:
    """The local name of a namespaced tag (transitional and strict OOXML alike)."""
    try:
        return _LOCAL[tag]
    except KeyError:
        name = _LOCAL[tag] = tag.rpartition("}")[2]
        return name

_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# C0 controls other than tab, line feed and carriage return cannot be written to XML again
# (our Word and Excel outputs): Excel shows them as nothing, so they are dropped.
_DROP = {i: None for i in range(32) if i not in (9, 10, 13)}


def _char(m: re.Match) -> str:
    return chr(int(m.group(1), 16))


def unescape(text: str) -> str:
    """A string as Excel shows it: `_xHHHH_` is the character U+HHHH (`_x000D_` a carriage
    return, `_x005F_` an underscore, so `_x005F_x000D_` is the literal text "_x000D_"). Line
    ends become "\\n"; escaped surrogate pairs are joined, a lone surrogate becomes U+FFFD."""
    if "_x" not in text:
        return text
    out = _ESCAPE_RE.sub(_char, text)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in out):
        out = out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return out.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP)
