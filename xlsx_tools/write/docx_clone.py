"""Many small Word documents of one layout, made by cloning: python-docx builds one shell (styles,
page, one specimen of each paragraph, table row and cell) and saves it once; each document is a
copy of the shell's word/document.xml with texts set and specimen rows repeated, packed with the
shell's other parts as they were compressed once (about 800 KB of python-docx's styles). A
Stencil is that document serialized once with holes, so that a copy is a few joins of text (the
tests hold it byte for byte to the filled tree), and package() appends the two parts made anew
to the kept parts' zip as zipfile's append mode would, without reading the zip back each time.

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
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from lxml import etree

from ..util.xmltext import xml_safe

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DC = "http://purl.org/dc/elements/1.1/"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
BODY, TBL, TR, R, RPR, T, TAB, BR = (f"{{{W}}}{tag}" for tag in ("body", "tbl", "tr", "r", "rPr", "t", "tab", "br"))

DOCUMENT_PART = "word/document.xml"
CORE_PART = "docProps/core.xml"

_BREAKS = re.compile("([\t\r\n])")
# the zip records package() writes (APPNOTE.TXT 4.3.7, 4.3.12, 4.3.16), as zipfile packs them
_LOCAL, _LOCAL_SIG = struct.Struct("<4s2B4HL2L2H"), b"PK\x03\x04"
_CENTRAL, _CENTRAL_SIG = struct.Struct("<4s4B4HL2L5H2L"), b"PK\x01\x02"
_END, _END_SIG = struct.Struct("<4s4H2LH"), b"PK\x05\x06"
_UTF8_NAME = 0x800
_SYSTEM = 0 if sys.platform == "win32" else 3  # zipfile.ZipInfo.create_system
_ZIP64_LIMIT = 0x7FFFFFFF  # beyond, zipfile writes it (zip64 records)
# the parts made for each document (word/document.xml and docProps/core.xml, about 11 KB of XML)
# at zlib level 2 rather than python-docx's 6: half the CPU for about 12 % more bytes
LEVEL = 2
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
        # the kept parts as python-docx's save compressed them (ZIP_DEFLATED, zlib's default
        # level): their records copied, or, in a layout kept() does not know, compressed again
        kept = _kept(package, (DOCUMENT_PART, CORE_PART))
        if kept is None:
            rest = io.BytesIO()
            with zipfile.ZipFile(rest, "w", zipfile.ZIP_DEFLATED) as z:
                for name in names:
                    if name not in (DOCUMENT_PART, CORE_PART):
                        z.writestr(name, parts[name])
            kept = rest.getvalue()
        self._rest = kept
        # the kept parts' entries and their central directory, for package() to append to
        sig, _, _, count, _, size, start, comment = _END.unpack_from(self._rest, len(self._rest) - _END.size)
        if sig != _END_SIG or comment or start + size + _END.size != len(self._rest):
            raise ValueError("unexpected zip layout of the shell's kept parts")
        self._entries, self._central, self._count = self._rest[:start], self._rest[start:start + size], count

    @classmethod
    def of(cls, document: Any) -> Shell:
        """The shell of a python-docx Document (saved here; keep no reference to it)."""
        saved = io.BytesIO()
        document.save(saved)
        return cls(saved.getvalue())

    def document(self) -> etree._Element:
        """A copy of the shell's w:document, to fill and pass to package()."""
        return copy.deepcopy(self._document)

    def package(self, document: etree._Element | bytes, *, title: str, author: str) -> bytes:
        """The .docx: the shell's parts with `document` (or its XML, e.g. Stencil.render's) as
        word/document.xml and the file properties' title and author (dc:title, dc:creator) set."""
        core = copy.deepcopy(self._core)
        core.find(f"{{{DC}}}title").text = title
        core.find(f"{{{DC}}}creator").text = author
        return self._append(((CORE_PART, _xml(core)),
                             (DOCUMENT_PART, document if isinstance(document, bytes) else _xml(document))))

    def _append(self, parts: Sequence[tuple[str, bytes]]) -> bytes:
        """The kept parts' zip with `parts` appended, as zipfile's append mode and writestr write
        them (deflated at LEVEL, dated now), without reading back the central directory for
        every document."""
        if sum(len(data) for _, data in parts) + len(self._rest) >= _ZIP64_LIMIT:
            out = io.BytesIO(self._rest)
            with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as z:
                for name, data in parts:
                    z.writestr(name, data)
            return out.getvalue()
        now = time.localtime()
        date = (now.tm_year - 1980) << 9 | now.tm_mon << 5 | now.tm_mday
        clock = now.tm_hour << 11 | now.tm_min << 5 | now.tm_sec // 2
        entries, central, offset = [self._entries], [self._central], len(self._entries)
        for name, data in parts:
            packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
            packed = packer.compress(data) + packer.flush()
            crc, raw = zlib.crc32(data), name.encode("utf-8")
            flags = 0 if raw.isascii() else _UTF8_NAME
            header = _LOCAL.pack(_LOCAL_SIG, 20, 0, flags, zipfile.ZIP_DEFLATED, clock, date, crc, len(packed), len(data),
                                 len(raw), 0)
            entries += (header, raw, packed)
            central += (_CENTRAL.pack(_CENTRAL_SIG, 20, _SYSTEM, 20, 0, flags, zipfile.ZIP_DEFLATED, clock, date, crc,
                                      len(packed), len(data), len(raw), 0, 0, 0, 0, 0o600 << 16, offset), raw)
            offset += len(header) + len(raw) + len(packed)
        directory = b"".join(central)
        count = self._count + len(parts)
        return b"".join(entries) + directory + _END.pack(_END_SIG, 0, 0, count, count, len(directory), offset, 0)


def _kept(package: bytes, without: Sequence[str]) -> bytes | None:
    """The zip `package` without the members named in `without`: the others' local records
    (header, name, compressed data) and central records copied as they are, the offsets set
    anew. None unless the zip is the plain layout zipfile writes to a file it can seek: one
    disk, no comment, no zip64, no data descriptors, records in order and touching."""
    try:
        return _copied(package, without)
    except (struct.error, UnicodeDecodeError):  # a record cut short, a name that is not its code
        return None


def _copied(package: bytes, without: Sequence[str]) -> bytes | None:
    if len(package) < _END.size:
        return None
    sig, disk, cd_disk, on_disk, count, size, start, comment = _END.unpack_from(package, len(package) - _END.size)
    if sig != _END_SIG or disk or cd_disk or comment or on_disk != count or start + size + _END.size != len(package):
        return None
    entries: list[bytes] = []
    central: list[bytes] = []
    at, offset, expected = start, 0, 0
    for _ in range(count):
        if at + _CENTRAL.size > start + size:
            return None
        record = list(_CENTRAL.unpack_from(package, at))
        flags, packed, name_len, extra_len, comment_len, local = record[5], record[10], record[12], record[13], record[14], record[-1]
        end = at + _CENTRAL.size + name_len + extra_len + comment_len
        name = package[at + _CENTRAL.size:at + _CENTRAL.size + name_len]
        if record[0] != _CENTRAL_SIG or flags & 0x08 or local != expected or packed == 0xFFFFFFFF or end > start + size:
            return None
        head = _LOCAL.unpack_from(package, local)
        if head[0] != _LOCAL_SIG or package[local + _LOCAL.size:local + _LOCAL.size + head[-2]] != name or head[-4] != packed:
            return None
        length = _LOCAL.size + head[-2] + head[-1] + packed
        expected = local + length
        if name.decode("utf-8" if flags & _UTF8_NAME else "cp437") not in without:
            record[-1] = offset
            entries.append(package[local:local + length])
            central.append(_CENTRAL.pack(*record) + package[at + _CENTRAL.size:end])
            offset += length
        at = end
    if at != start + size or expected != start:
        return None
    directory = b"".join(central)
    return b"".join(entries) + directory + _END.pack(_END_SIG, 0, 0, len(central), len(central), len(directory), offset, 0)


def document_xml(document: etree._Element) -> bytes:
    """word/document.xml as package() writes it."""
    return _xml(document)


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


# -- the document as text with holes

HOLE_NS = "urn:x-xlsx-tools:hole"  # elements marking the holes while the shell's document is serialized
_HOLE = re.compile(f'<h:hole xmlns:h="{HOLE_NS}" n="([0-9]+)"/>')


class Stencil:
    """The shell's word/document.xml as text with holes, filled by render(): the runs of some
    paragraphs, and the rows of some tables, copies of their specimen rows with holes for their
    runs. render() gives the bytes _xml gives for a copy of the shell's document filled with
    set_texts and fill_table, without copying and serializing a tree per document (the tests
    hold the two to each other)."""

    def __init__(self, shell: Shell, paragraphs: Sequence[int], tables: Sequence[tuple[int, int]]) -> None:
        """`paragraphs`: the blocks whose runs get texts; `tables`: (block, rows kept) of the
        tables whose rows after the kept ones are specimens (fill_table)."""
        document = shell.document()
        self._w = next((p for p, ns in document.nsmap.items() if ns == W), None)
        if self._w is None:
            raise ValueError("the shell's document has no prefix for WordprocessingML")
        body = blocks(document)
        roles: list[tuple] = []  # per hole: ("run", block, i) | ("start"/"end", block, specimen) | ("rows", block)

        def hole(role: tuple) -> etree._Element:
            roles.append(role)
            element = etree.Element(f"{{{HOLE_NS}}}hole", nsmap={"h": HOLE_NS})
            element.set("n", str(len(roles) - 1))
            return element

        def run_holes(element: etree._Element, at: int) -> None:
            for i, r in enumerate(runs(element)):
                if r.find(RPR) is not None:  # the hole after the properties
                    for child in list(r):
                        if child.tag != RPR:
                            r.remove(child)
                    r.append(hole(("run", at, i)))
                elif not r.attrib and r.getparent() is not None:  # the whole run: empty, it is <w:r/>
                    r.addprevious(hole(("bare", at, i)))
                    r.getparent().remove(r)
                else:
                    raise ValueError("a run with attributes but no properties")

        for at in paragraphs:
            run_holes(body[at], at)
        for at, keep in tables:
            tbl = body[at]
            for k, tr in enumerate(tbl.findall(TR)[keep:]):
                tr.addprevious(hole(("start", at, k)))
                run_holes(tr, at)
                tr.addnext(hole(("end", at, k)))
            tbl.append(hole(("rows", at)))
        pieces = _HOLE.split(_xml(document).decode("utf-8"))
        found = [int(n) for n in pieces[1::2]]
        if found != sorted(found) or len(found) != len(roles):
            raise ValueError("the holes of the stencil are not where they were put")
        # the document: texts, ("run", block, i) and ("rows", block); the specimen rows apart
        self._main: list[str | tuple] = [pieces[0]]
        self._rows: dict[int, list[list[str | tuple]]] = {at: [] for at, _ in tables}
        self._runs: dict[int, int] = {}  # runs per paragraph block
        into = self._main
        for n, text in zip(found, pieces[2::2], strict=True):
            role = roles[n]
            if role[0] == "start":
                into = []
                self._rows[role[1]].append(into)
            elif role[0] == "end":
                into = self._main
            else:
                into.append(role)
                if role[0] in ("run", "bare") and into is self._main:
                    self._runs[role[1]] = self._runs.get(role[1], 0) + 1
            into.append(text)

    def render(self, texts: dict[int, Sequence[str]], rows: dict[int, Iterable[tuple[int, Sequence[str]]]]) -> bytes:
        """The document with texts[block] as the texts of a paragraph's runs (set_texts) and
        rows[block] as a table's rows: (specimen number, texts) each (fill_table)."""
        out: list[str] = []
        add = out.append
        for item in self._main:
            if type(item) is str:
                add(item)
            elif item[0] == "rows":
                specimens = self._rows[item[1]]
                for which, row in rows[item[1]]:
                    specimen = specimens[which]
                    if len(row) != len(specimen) // 2:
                        raise ValueError(f"{len(row)} texts for {len(specimen) // 2} runs")
                    for piece in specimen:
                        add(piece if type(piece) is str else self._run(piece, row[piece[2]]))
            else:
                found = texts[item[1]]
                if len(found) != self._runs[item[1]]:
                    raise ValueError(f"{len(found)} texts for {self._runs[item[1]]} runs")
                add(self._run(item, found[item[2]]))
        return "".join(out).encode("utf-8")

    def _run(self, hole: tuple, text: str) -> str:
        if hole[0] == "run":
            return self._content(text)
        w = self._w  # a run without properties: all of it
        return f"<{w}:r>{self._content(text)}</{w}:r>" if text else f"<{w}:r/>"

    def _content(self, text: str) -> str:
        """A run's content after its properties as set_run_text makes it, serialized."""
        if not text:
            return ""
        if xml_safe(text) != text:
            raise ValueError("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters")
        w = self._w
        out = []
        for piece in _BREAKS.split(text) if ("\t" in text or "\r" in text or "\n" in text) else (text,):
            if piece == "\t":
                out.append(f"<{w}:tab/>")
            elif piece == "\r" or piece == "\n":
                out.append(f"<{w}:br/>")
            elif piece:
                escaped = piece.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                space = ' xml:space="preserve"' if len(piece.strip()) < len(piece) else ""
                out.append(f"<{w}:t{space}>{escaped}</{w}:t>")
        return "".join(out)
