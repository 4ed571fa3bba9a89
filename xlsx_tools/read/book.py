"""The workbook part, its relationships and the document properties as plain data: the sheets in
order and the defined names of xl/workbook.xml, the targets of xl/_rels/workbook.xml.rels and the
values of docProps/*.xml. Each is read through `ooxml` (no document type, bounded work), once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat
from types import MappingProxyType

from lxml import etree

from . import ooxml
from .ooxml import GET, PARENT, TEXT, local


@dataclass
class Book:
    sheets: list[tuple[str, str, str]]  # (name, part, state) in workbook order
    names: Mapping[str, str]  # workbook-level defined names -> formula text (read-only)


def parse_workbook(data: bytes, rels: dict[str, str]) -> Book:
    root = ooxml.small_tree(data)
    if root is not None:  # walked once for each kind in C: no dispatch on the tag per element
        sheets = [_book_sheet(el, rels) for el in ooxml.ends(root, ("{*}sheet",))]
        return Book(sheets, _book_names(root))
    sheets = []
    names = {}
    walk, streaming = ooxml.events(data, ("sheet", "definedName"))  # streamed: a big part
    for _, el in walk:
        tag = local(el.tag)
        if tag == "sheet":
            sheets.append(_book_sheet(el, rels))
        elif tag == "definedName":
            _book_name(el, names)
            if streaming:
                el.clear()
    return Book(sheets, names)


# a workbook's <definedNames> as serialized -> the names it gives (a template's few hundred names
# are the same in nearly every workbook of a collection)
_NAMES: dict[bytes, Mapping[str, str]] = {}


def _book_names(root) -> Mapping[str, str]:
    """The workbook-wide defined names of a parsed workbook part (_book_name of each, in the
    order their ends come). Where all are children of one element (as in <definedNames>: none
    inside another, so in document order), they are what that element's serialization gave
    last time, if it was seen: a read-only mapping, shared."""
    els = list(root.iter("{*}definedName"))
    holder = els[0].getparent() if els else None
    key = etree.tostring(holder, with_tail=False) if holder is not None and set(map(PARENT, els)) == {holder} else None
    names = _NAMES.get(key) if key is not None else None
    if names is not None:
        return names
    if key is None:
        els = ooxml.ends(root, ("{*}definedName",))
    # _book_name of each, with the attributes and texts taken in C
    names = MappingProxyType({name: (text or "").strip() for name, sheet, text in zip(
        map(GET, els, repeat("name")), map(GET, els, repeat("localSheetId")), map(TEXT, els), strict=True)
        if name and sheet is None})
    if key is not None:
        if len(_NAMES) >= 8:
            _NAMES.clear()
        _NAMES[key] = names
    return names


def _book_name(el, names: dict[str, str]) -> None:
    """A workbook-wide <definedName> into `names` (name -> its reference, as written)."""
    name = el.get("name")
    if name and el.get("localSheetId") is None:
        names[name] = (el.text or "").strip()


def _book_sheet(el, rels: dict[str, str]) -> tuple[str, str, str]:
    """(name, part, state) of a <sheet>; its r:id is the attribute whose local name is id."""
    rid = next((v for k, v in el.attrib.items() if local(k) == "id"), "")
    return el.get("name", ""), rels.get(rid, ""), el.get("state", "visible")


# A relationship whose target is outside the package (external, a URL, "../" past the root):
# kept as OUTSIDE + the target as written, so that a sheet pointing there is reported, not read.
OUTSIDE = "\x00outside:"

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def parse_rels(data: bytes, base: str = "xl/") -> dict[str, str]:
    out = {}
    for _, el in ooxml.events(data, ("Relationship",))[0]:
        written = target = el.get("Target", "")
        if el.get("TargetMode") == "External" or _SCHEME_RE.match(target) or "\\" in target:
            out[el.get("Id", "")] = OUTSIDE + written
            continue
        key = (target, base)
        part = _PARTS.get(key)
        if part is None:
            if len(_PARTS) > 4096:
                _PARTS.clear()
            part = _PARTS[key] = _part(target, base)
        out[el.get("Id", "")] = part
    return out


_PARTS: dict[tuple[str, str], str] = {}  # (target, base) -> _part (the same few targets in every workbook)


def _part(target: str, base: str) -> str:
    """The part a relationship's target names (relative to `base`, or to the root with a "/"),
    or OUTSIDE + the target where "../" goes past the root."""
    parts = (target[1:] if target.startswith("/") else base + target).split("/")
    norm: list[str] = []
    for p in parts:
        if p == "..":
            if not norm:
                return OUTSIDE + target
            norm.pop()
        elif p and p != ".":
            norm.append(p)
    return "/".join(norm)


_STRING = etree.XPath("string()", smart_strings=False)


def parse_props(data: bytes, keys: tuple[str, ...] | None = None) -> dict[str, str]:
    """docProps/custom.xml -> {name: value}; app.xml and core.xml -> {local tag: text} (the first
    element of that name with text and no children). With `keys` (local tags, or "property" for
    the custom properties), only those elements are looked at."""
    out: dict[str, str] = {}
    for _, el in ooxml.events(data, keys)[0]:
        tag = local(el.tag)
        if tag == "property" and el.get("name"):
            out[el.get("name")] = _STRING(el).strip()  # (all its text, as "".join(el.itertext()))
        elif len(el) == 0 and el.text and tag not in out:
            out[tag] = el.text.strip()
    return out
