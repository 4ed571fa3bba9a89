"""The one thing the reader needs from styles.xml: which cell formats (cellXfs) show a number as a
date or time, so that a date typed into a figure's cell is told from a number.
"""

from __future__ import annotations

import functools
import re
from itertools import takewhile
from operator import is_not

from lxml import etree

from . import ooxml
from .ooxml import local

# built-in number formats that show a date or time (ECMA-376 18.8.30, plus the CJK ones)
_DATE_FORMAT_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_DATE_CODE_RE = re.compile(r"[ymdhsYMDHS年月日]")


@functools.lru_cache(maxsize=1 << 12)
def _is_date_code(code: str) -> bool:
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", code)
    return bool(_DATE_CODE_RE.search(code)) and code.lower() not in ("general", "@")


def parse_styles(data: bytes) -> set[int]:
    """Indices of the cell formats (cellXfs) that display a number as a date or time."""
    try:
        root = ooxml.small_tree(data, 2)
    except etree.XMLSyntaxError:
        # streamed as a big part is: the walk stops at the end of cellXfs, so a fault after it
        # (the part is not well-formed) does not make the file unreadable, whatever its size
        codes, xfs = _styles_walk(data, None, stream=True)
    else:
        whole = _styles_whole(root) if root is not None else None
        codes, xfs = whole if whole is not None else _styles_walk(data, root)
    if len(codes) > ooxml.MAX_STYLES or len(xfs) > ooxml.MAX_STYLES:
        raise ooxml.TooMuchWork(f"样式表中的数字格式或单元格格式超过 {ooxml.MAX_STYLES} 个", "styles", ooxml.MAX_STYLES)
    out = set()
    for i, fid in enumerate(xfs):
        if fid in codes:
            if _is_date_code(codes[fid]):
                out.add(i)
        elif fid in _DATE_FORMAT_IDS:
            out.add(i)
    return out


def _styles_whole(root) -> tuple[dict[int, str], list[int]] | None:
    """What _styles_walk gives, found in C in a parsed part with at most one cellXfs and no
    numFmt holding an element or inside cellXfs (so that the numFmts the walk meets before
    the end of cellXfs are those before it); None for any other."""
    cell_xfs = list(root.iter("{*}cellXfs"))
    formats = list(root.iter("{*}numFmt"))
    if len(cell_xfs) > 1 or any(map(len, formats)):
        return None
    if cell_xfs:
        if next(cell_xfs[0].iter("{*}numFmt"), None) is not None:
            return None
        formats = list(takewhile(functools.partial(is_not, cell_xfs[0]), root.iter("{*}numFmt", "{*}cellXfs")))
    codes: dict[int, str] = {}
    for el in formats:
        try:
            codes[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
        except ValueError:
            pass
    xfs = [_format_id(el.get("numFmtId", "0")) for el in ooxml.ends(cell_xfs[0], ("{*}xf",))] if cell_xfs else []
    return codes, xfs


def _format_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


_STYLE_TAGS = ("numFmts", "numFmt", "cellXfs", "xf")


def _styles_walk(data: bytes, root, stream: bool = False) -> tuple[dict[int, str], list[int]]:
    """The number formats (numFmtId -> format code) met before the end of the first cellXfs,
    and the numFmtId of each cell format in it; TooMuchWork past MAX_STYLES of either."""
    codes: dict[int, str] = {}
    xfs: list[int] = []
    in_cell_xfs = False
    container = None  # numFmts / cellXfs: emptied as we go, so the tree never holds the entries
    if root is not None:
        walk, streaming = etree.iterwalk(root, events=("start", "end"), tag=tuple("{*}" + t for t in _STYLE_TAGS)), False
    else:
        walk, streaming = ooxml.events(data, _STYLE_TAGS, ("start", "end"), stream=stream)
    for event, el in walk:
        tag = local(el.tag)
        if tag == "cellXfs":
            in_cell_xfs = event == "start"
            if not in_cell_xfs:
                break  # numFmts and cellXfs come first (ECMA-376 CT_Stylesheet order)
            container = el
        elif tag == "numFmts" and event == "start":
            container = el
        elif event == "end" and tag == "numFmt":
            try:
                codes[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
            except ValueError:
                pass
        elif event == "end" and tag == "xf" and in_cell_xfs:
            xfs.append(_format_id(el.get("numFmtId", "0")))
        else:
            continue
        if len(codes) > ooxml.MAX_STYLES or len(xfs) > ooxml.MAX_STYLES:
            raise ooxml.TooMuchWork(f"样式表中的数字格式或单元格格式超过 {ooxml.MAX_STYLES} 个", "styles", ooxml.MAX_STYLES)
        if streaming and event == "end" and container is not None:
            del container[:]
    return codes, xfs
