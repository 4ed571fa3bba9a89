"""Input kinds of a published report (.txt/.md here; .docx in word.py, .html/.htm in webpage.py,
.pdf in pdf.py; .doc/.wps through
LibreOffice) reduced to `Line`s, with size and work limits. A file that cannot be read raises
`SourceError` with a Chinese message that says what the file is and what to do; nothing here lets
a traceback or a hang through."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from .document import text_lines
from .limits import (
    DEFAULT_LIMITS,
    Converter,
    Document,
    Limits,
    SourceError,
    cap,
    mb,
)
from .pdf import read_pdf
from .webpage import read_html
from .word import read_docx


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


def read_document(path: Path, limits: Limits = DEFAULT_LIMITS,
                  converter: Converter | None = None) -> tuple[Document, bytes]:
    """The lines of a published report file, and its bytes (for the checksum). `converter`
    turns a .doc/.wps file into .docx (LibreOffice, handed in by the caller); without one such a
    file is refused with a message saying how to convert it."""
    name = path.name
    try:
        if not path.is_file():
            raise SourceError(f"「{name}」不是普通文件，无法导入。", "not_a_file")
        size = path.stat().st_size
        limit = max(limits.max_pdf_bytes, limits.max_docx_bytes, limits.max_html_bytes, limits.max_text_bytes)
        if size > limit:
            raise SourceError(
                f"「{name}」过大（{mb(size)}），超出年度报告文件的上限 {mb(limit)}，未导入。请确认这是年度报告本身。",
                "too_large",
            )
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as e:
        raise SourceError(f"无法打开「{name}」（{e.strerror or e}），请检查文件是否存在、是否有读取权限。", "io") from None
    return read_bytes(data, name, limits, converter), data


def read_bytes(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS,
               converter: Converter | None = None) -> Document:
    kind = sniff(data)
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise SourceError(f"「{name}」是空文件，没有可导入的内容。", "empty")
    if kind == "pdf":
        cap(data, limits.max_pdf_bytes, name, "PDF")
        return read_pdf(data, name, limits)
    if kind == "zip":
        cap(data, limits.max_docx_bytes, name, "Word 文档")
        return read_docx(data, name, limits)
    if kind == "ole":
        return read_via_office(data, name, suffix, limits, converter)
    if kind == "image":
        raise SourceError(f"「{name}」是图片，其中的文字需要 OCR 识别，本工具不做 OCR。请找到报告的文字版（网页、Word 或可复制文字的 PDF）。", "image")
    if kind == "html" or suffix in (".html", ".htm") and b"<" in data[:4096]:
        cap(data, limits.max_html_bytes, name, "网页")
        return read_html(data, name, limits)
    cap(data, limits.max_text_bytes, name, "文本")
    text = decode_text(data, name)
    lines, style = text_lines(text)
    if len(lines) > limits.max_lines:
        raise SourceError(f"「{name}」有 {len(lines)} 行，超出上限 {limits.max_lines} 行，不像一份年度报告，未导入。", "too_many_lines")
    return Document(lines, "text", style, wrapped=None)


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


# -- .doc / .wps through LibreOffice


def read_via_office(data: bytes, name: str, suffix: str, limits: Limits,
                    converter: Converter | None) -> Document:
    what = f"「{name}」是旧版 Word/WPS 文档（{suffix or '.doc'}），需要 LibreOffice 转换后才能导入，"
    fix = "请用 Word 或 WPS 打开后“另存为” .docx 再导入，或安装 LibreOffice（apt-get install libreoffice-writer）。"
    if converter is None:
        raise SourceError(f"{what}但本次导入没有使用 LibreOffice。{fix}", "needs_office")
    cap(data, limits.max_docx_bytes, name, "Word 文档")
    with tempfile.TemporaryDirectory(prefix="xlsx-tools-import-") as tmp:
        src = Path(tmp) / f"report{suffix if suffix in ('.doc', '.wps') else '.doc'}"
        src.write_bytes(data)
        try:
            out = converter(src, Path(tmp) / "out")
        except (RuntimeError, OSError) as e:
            raise SourceError(f"「{name}」无法用 LibreOffice 转换为 .docx：{e}", "office") from None
        if out is None:
            raise SourceError(f"{what}但本机没有安装 LibreOffice。{fix}", "needs_office")
        doc = read_docx(out.read_bytes(), name, limits)
    doc.kind = "doc"
    return doc
