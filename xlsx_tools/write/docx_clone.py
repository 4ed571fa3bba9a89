"""Many small Word documents of one layout, made by cloning: python-docx builds one shell (styles,
page, one specimen of each paragraph, table row and cell) and saves it once; each document is a
copy of the shell's word/document.xml with texts set and specimen rows repeated, packed with the
shell's other parts as they were compressed once (about 800 KB of python-docx's styles).

Like docx_oxml, a module that knows WordprocessingML (w:body, w:tbl, w:tr, w:r, w:t) and the
package's part names; callers address blocks, rows and runs by position. It touches no python-docx
internals: the shell comes from Document.save. set_run_text writes what python-docx's Run.text
writes (tabs, line breaks, xml:space), and tests/test_docx_clone.py compares the two on many
strings, so a python-docx release that writes text differently fails there.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DC = "http://purl.org/dc/elements/1.1/"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
BODY, TBL, TR, R, RPR, T, TAB, BR = (f"{{{W}}}{tag}" for tag in ("body", "tbl", "tr", "r", "rPr", "t", "tab", "br"))

DOCUMENT_PART = "word/document.xml"
CORE_PART = "docProps/core.xml"

_BREAKS = re.compile("([\t\r\n])")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _xml(element: etree._Element) -> bytes:
    """A part as python-docx serializes it (docx.opc.oxml.serialize_part_xml)."""
    return etree.tostring(element, encoding="UTF-8", standalone=True)


class Shell:
    """A saved python-docx document whose word/document.xml and docProps/core.xml are made anew
    for each copy; its other parts are kept compressed."""

    def __init__(self, package: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            names = z.namelist()
            parts = {name: z.read(name) for name in names}
        self._document = etree.fromstring(parts[DOCUMENT_PART], _PARSER)
        self._core = etree.fromstring(parts[CORE_PART], _PARSER)
        for tag in ("title", "creator"):
            if self._core.find(f"{{{DC}}}{tag}") is None:
                raise ValueError(f"the shell's core properties have no dc:{tag}: set it before saving")
        rest = io.BytesIO()
        # python-docx's compression (ZIP_DEFLATED, zlib's default level), done once per shell
        with zipfile.ZipFile(rest, "w", zipfile.ZIP_DEFLATED) as z:
            for name in names:
                if name not in (DOCUMENT_PART, CORE_PART):
                    z.writestr(name, parts[name])
        self._rest = rest.getvalue()

    @classmethod
    def of(cls, document: Any) -> Shell:
        """The shell of a python-docx Document (saved here; keep no reference to it)."""
        saved = io.BytesIO()
        document.save(saved)
        return cls(saved.getvalue())

    def document(self) -> etree._Element:
        """A copy of the shell's w:document, to fill and pass to package()."""
        return copy.deepcopy(self._document)

    def package(self, document: etree._Element, *, title: str, author: str) -> bytes:
        """The .docx: the shell's parts with `document` as word/document.xml and the file
        properties' title and author (dc:title, dc:creator) set."""
        core = copy.deepcopy(self._core)
        core.find(f"{{{DC}}}title").text = title
        core.find(f"{{{DC}}}creator").text = author
        out = io.BytesIO(self._rest)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z:  # appends after the kept parts
            z.writestr(CORE_PART, _xml(core))
            z.writestr(DOCUMENT_PART, _xml(document))
        return out.getvalue()


def blocks(document: etree._Element) -> list[etree._Element]:
    """The body's children in order: w:p and w:tbl, then the section's w:sectPr."""
    return list(document.find(BODY))


def runs(element: etree._Element) -> list[etree._Element]:
    """Every w:r below `element`, in document order."""
    return list(element.iter(R))


def set_run_text(r: etree._Element, text: str) -> None:
    """The run's content as python-docx's Run.text = `text` writes it: its properties kept, "\\t"
    as w:tab, "\\r" and "\\n" as w:br, the rest in w:t (xml:space="preserve" where it starts or
    ends with white space); an empty text leaves the run empty. Raises ValueError for
    characters XML forbids (see util.xmltext.xml_safe)."""
    for child in list(r):
        if child.tag != RPR:
            r.remove(child)
    if not text:
        return
    for piece in _BREAKS.split(text) if ("\t" in text or "\r" in text or "\n" in text) else (text,):
        if piece == "\t":
            etree.SubElement(r, TAB)
        elif piece == "\r" or piece == "\n":
            etree.SubElement(r, BR)
        elif piece:
            t = etree.SubElement(r, T)
            t.text = piece
            if len(piece.strip()) < len(piece):
                t.set(XML_SPACE, "preserve")


def set_texts(element: etree._Element, texts: Sequence[str]) -> None:
    """Set the text of each run below `element` (a paragraph: one; a row: one a cell), in order."""
    found = runs(element)
    if len(found) != len(texts):
        raise ValueError(f"{len(texts)} texts for {len(found)} runs")
    for r, text in zip(found, texts, strict=True):
        set_run_text(r, text)


def fill_table(tbl: etree._Element, keep: int, rows: Iterable[tuple[int, Sequence[str]]]) -> None:
    """Replace the specimen rows of `tbl` (all after the first `keep`) by copies: for each
    (specimen number, texts) a copy of that specimen row with its runs' texts set."""
    specimens = tbl.findall(TR)[keep:]
    for tr in specimens:
        tbl.remove(tr)
    for which, texts in rows:
        tr = copy.deepcopy(specimens[which])
        set_texts(tr, texts)
        tbl.append(tr)
