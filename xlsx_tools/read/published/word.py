"""Word (.docx): paragraphs and table rows in document order from word/document.xml (lxml, no
entities, no network), each cell with its grid column (gridSpan, vMerge continuations skipped);
the zip is checked before anything is inflated."""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from ..safezip import MemberTooLarge, duplicate_name, read_member
from .document import Line
from .limits import Document, Limits, MiB, SourceError


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
    zf = _check_zip(data, name, limits)
    names = set(zf.namelist())
    if "word/document.xml" not in names:
        what = "Excel 工作簿" if "xl/workbook.xml" in names else "压缩包"
        raise SourceError(f"「{name}」是{what}，不是 Word 文档（.docx）。年报工作簿请用 xlsx-tools check 校验。", "not_docx")
    twice = duplicate_name((i.filename for i in zf.infolist()), casefold=True)
    if twice is not None:
        raise SourceError(f"「{name}」中有两个同名的部件“{twice[:60]}”，可能被篡改过，已拒绝读取。", "unsafe")
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        # the bytes actually decompressed are capped, whatever the header declares
        xml = read_member(zf, zf.getinfo("word/document.xml"), limits.max_part_bytes)
        root = etree.fromstring(bytes(xml), parser)
    except MemberTooLarge:
        raise SourceError(f"「{name}」解压后过大（部件 word/document.xml 实际超过 {limits.max_part_bytes // MiB} MB），"
                          "疑似“压缩炸弹”，已拒绝读取。", "zip_bomb") from None
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


