"""The narrative of a report (sections 一、五、六) from a Word file, Markdown or plain text.

Section headings "一、总体情况" … "六、其他需要报告的事项" split the text; the sections that are
tables (二、三、四) and anything before the first heading are left out, with a note saying so.
A stand-alone sub-heading "（一）依法主动公开" is joined to the paragraph below it as
"（一）依法主动公开。贯彻落实……", the form the Report keeps (paragraphs separated by newlines).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from ..format.spec import FormatSpec, load_format
from ..util.fsutil import FileTooLarge, os_error_text, read_regular, regular_file_problem
from .safezip import MemberTooLarge, duplicate_name, read_member

MAX_FILE_BYTES = 20 << 20  # a narrative file (the .docx as stored, or the text)
MAX_PART_BYTES = 64 << 20  # the .docx's word/document.xml, decompressed

SUFFIXES = (".docx", ".md", ".markdown", ".txt")

_NUMERALS = "一二三四五六七八九十"
_SECTION_RE = re.compile(rf"^([{_NUMERALS}]+)\s*[、.．]\s*(.*)$")
_SUBHEAD_RE = re.compile(rf"^[（(]\s*([{_NUMERALS}]+)\s*[）)]\s*(.*)$")
_MD_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")
_END_PUNCT = "。：:；;！!？?"
# A heading is a short line; a longer one that starts with "一、" is a numbered paragraph.
_HEADING_MAX = 40
_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]")


class NarrativeError(ValueError):
    """The narrative file cannot be used; the message is Chinese and says what to do."""


@dataclass
class NarrativeText:
    sections: dict[str, str] = field(default_factory=dict)  # section key -> text
    notes: list[str] = field(default_factory=list)  # Chinese: what was left out, and why


def read_narrative(path: str | Path, *, spec: FormatSpec | None = None) -> NarrativeText:
    """Sections found in a .docx, .md or .txt file (each .txt line is a paragraph)."""
    path = Path(path)
    spec = spec or load_format()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise NarrativeError(
            f"文字材料「{path.name}」的格式不支持：请另存为 Word 文档（.docx）、Markdown（.md）"
            "或纯文本（.txt）后重试。"
        )
    problem = regular_file_problem(path)
    if problem is not None:  # a FIFO: reading it would wait forever
        raise NarrativeError(f"文字材料「{path.name}」{problem}，无法读取。请指定保存在磁盘上的 .docx、.md 或 .txt 文件。")
    if not path.is_file():
        raise NarrativeError(f"找不到文字材料文件：{path}")
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except FileTooLarge as e:
        raise NarrativeError(f"文字材料「{path.name}」{e.strerror}，不像是年报的文字部分。请只保留报告正文后重试。") from None
    except OSError as e:
        raise NarrativeError(f"无法读取文字材料「{path.name}」：{os_error_text(e)}。") from None
    if suffix == ".docx":
        paras = docx_paragraphs(data, path.name)
        where = "段"
    else:
        text = _decode_text(data, path.name)
        where = "行"
        if suffix in (".md", ".markdown"):
            text, removed = _strip_controls_by_line(text)
            paras = markdown_paragraphs(text)
        else:
            text, removed = _strip_controls_by_line(text)
            paras = text_paragraphs(text)
    if suffix == ".docx":
        paras, removed = _strip_controls(paras)
    result = parse_paragraphs(paras, spec=spec)
    if removed:
        result.notes.insert(0, _controls_note(path.name, where, removed))
    if not result.sections:
        headings = "、".join(f"“{s.heading}”" for s in spec.narrative_sections)
        raise NarrativeError(
            f"文字材料「{path.name}」中没有找到部分标题：请用 {headings} 这样单独成段的标题"
            "分隔各部分文字。"
        )
    return result


def parse_paragraphs(paragraphs: Iterable[str], *, spec: FormatSpec | None = None) -> NarrativeText:
    """Split paragraphs at the section headings of `spec` (in increasing order)."""
    spec = spec or load_format()
    numbers = [s.number for s in spec.sections]
    # a heading numbered by Word's automatic list numbering has no "一、" in its text
    titles = {_bare(m.group(2)): i for i, s in enumerate(spec.sections) if (m := _SECTION_RE.match(s.heading))}
    result = NarrativeText()
    collected: dict[str, list[str]] = {}
    current = None  # the Section being read
    before_first = 0
    skipped: dict[str, int] = {}
    for raw in paragraphs:
        text = raw.strip()
        if not text:
            continue
        m = _SECTION_RE.match(text)
        index = None
        if m and m.group(1) in numbers and _is_heading(text):
            index = numbers.index(m.group(1))
        elif _bare(text) in titles:
            index = titles[_bare(text)]
        if index is not None:
            if current is None or index > numbers.index(current.number):
                current = spec.sections[index]
                if current.kind == "narrative":
                    collected.setdefault(current.key, [])
                continue
        if current is None:
            before_first += 1
        elif current.kind != "narrative":
            skipped[current.heading] = skipped.get(current.heading, 0) + 1
        else:
            collected[current.key].append(_normalise_subheading(text))
    for key, paras in collected.items():
        result.sections[key] = "\n".join(_join_subheadings(paras))
    if before_first:
        result.notes.append(f"第一个部分标题之前的 {before_first} 段文字（标题、开头段落等）未使用：开头段落由基本信息生成。")
    for heading, n in skipped.items():
        result.notes.append(f"「{heading}」是表格，由数据生成；其下的 {n} 段文字未使用。")
    return result


# ------------------------------------------------------------------------------------ file formats


def docx_paragraphs(source: str | Path | bytes, name: str | None = None) -> list[str]:
    """The text of a Word document's body paragraphs (tables are left out); a manual line
    break inside a paragraph starts a new one. Read with the same safe member reader as
    workbooks (a cap on the bytes actually decompressed, duplicate names refused) and parsed
    as a stream, in time linear in the document's size."""
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = name or "文字材料.docx"
    else:
        name = name or Path(source).name
        data = read_regular(source, MAX_FILE_BYTES)

    def damaged(why: str = "") -> NarrativeError:
        return NarrativeError(
            f"无法读取 Word 文件「{name}」：文件已损坏或不是 .docx 格式{why}"
            "（旧版 .doc 请用 Word 或 WPS 另存为 .docx）。"
        )

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        twice = duplicate_name((i.filename for i in infos), casefold=True)
        if twice is not None:
            raise NarrativeError(f"Word 文件「{name}」中有两个同名的部件“{twice[:80]}”，可能被篡改过，已拒绝读取。"
                                 "请用 Word 或 WPS 打开后另存为新的 .docx 文件再试。")
        main = next((i for i in infos if i.filename == "word/document.xml"), None)
        if main is None:
            raise damaged("（缺少正文部件 word/document.xml）")
        xml = read_member(zf, main, MAX_PART_BYTES)
    except NarrativeError:
        raise
    except MemberTooLarge:
        raise NarrativeError(
            f"Word 文件「{name}」的正文解压后超过 {MAX_PART_BYTES >> 20} MB（疑似“压缩炸弹”），已拒绝读取。"
            "请只保留报告正文，另存为新的 .docx 文件后重试。") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error):
        raise damaged() from None
    try:
        return _body_paragraphs(xml)
    except DefusedXmlException:
        raise NarrativeError(f"Word 文件「{name}」含有 XML 实体定义或外部引用（不安全），已拒绝读取。") from None
    except ParseError:
        raise damaged("（正文 XML 已损坏）") from None


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RUN_TEXT = {_W + "t": None, _W + "tab": "\t", _W + "ptab": "\t", _W + "br": "\n", _W + "cr": "\n",
             _W + "noBreakHyphen": "-"}


def _body_paragraphs(xml: bytes) -> list[str]:
    """Paragraphs that are children of w:body (not of tables, text boxes or headers)."""
    out: list[str] = []
    depth = 0
    body_depth = -1
    parts: list[str] = []
    for event, el in DET.iterparse(io.BytesIO(xml), events=("start", "end")):
        if event == "start":
            depth += 1
            if el.tag == _W + "body":
                body_depth = depth
            continue
        tag = el.tag
        if tag in _RUN_TEXT:
            text = _RUN_TEXT[tag]
            parts.append((el.text or "") if text is None else text)
        elif tag == _W + "p":
            if depth == body_depth + 1:
                out.extend("".join(parts).split("\n"))
            parts.clear()
            el.clear()
        elif tag == _W + "tbl" or depth == body_depth + 1:
            parts.clear()
            el.clear()
        depth -= 1
    return out


def text_paragraphs(text: str) -> list[str]:
    """Plain text: every non-empty line is a paragraph."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def markdown_paragraphs(text: str) -> list[str]:
    """Markdown: blank lines separate paragraphs and wrapped lines are joined, except that a
    heading (# …, 一、…, （一）… on a short line) is always a paragraph of its own."""
    out: list[str] = []
    open_para = False
    for raw in text.splitlines():
        is_md_heading = bool(_MD_HEADING_RE.match(raw)) and raw.lstrip().startswith("#")
        line = _MD_EMPHASIS_RE.sub(r"\2", _MD_HEADING_RE.sub("", raw) if is_md_heading else raw).strip()
        if not line:
            open_para = False
            continue
        heading = is_md_heading or (
            (_SECTION_RE.match(line) or _SUBHEAD_RE.match(line)) and _is_heading(line)
        )
        if heading:
            out.append(line)
            open_para = False
        elif open_para:
            sep = "" if _CJK.match(out[-1][-1]) or _CJK.match(line[0]) else " "
            out[-1] += sep + line
        else:
            out.append(line)
            open_para = True
    return out


def _decode_text(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NarrativeError(f"无法识别「{name}」的文字编码：请另存为 UTF-8 编码的文本文件后重试。")


# ------------------------------------------------------------------------------------ control characters
# Invisible control characters (pasted from other systems) mean nothing in a published report and
# cannot be stored in a Word file: they are removed, and the notes say where, rather than refusing
# a file whose fault nobody can see.

_CONTROLS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _strip_controls_by_line(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The text without control characters; (line number, how many, the first) per line that had some."""
    if not _CONTROLS_RE.search(text):
        return text, []
    removed: list[tuple[int, int, str]] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        found = _CONTROLS_RE.findall(line)
        if found:
            removed.append((i + 1, len(found), found[0]))
            lines[i] = _CONTROLS_RE.sub("", line)
    return "\n".join(lines), removed


def _strip_controls(paras: list[str]) -> tuple[list[str], list[tuple[int, int, str]]]:
    removed: list[tuple[int, int, str]] = []
    out = []
    for i, para in enumerate(paras):
        found = _CONTROLS_RE.findall(para)
        if found:
            removed.append((i + 1, len(found), found[0]))
            para = _CONTROLS_RE.sub("", para)
        out.append(para)
    return out, removed


def _controls_note(name: str, where: str, removed: list[tuple[int, int, str]]) -> str:
    shown = "、".join(f"第 {n} {where}" for n, _, _ in removed[:5])
    more = f"等 {len(removed)} {where}" if len(removed) > 5 else ""
    total = sum(k for _, k, _ in removed)
    first = removed[0][2]
    return (f"文字材料「{name}」{shown}{more}含有 {total} 个不可见的控制字符（如 U+{ord(first):04X}），"
            "Word 文件中无法保存，已删除；请核对这些位置的文字是否完整。")


# ------------------------------------------------------------------------------------ sub-headings


def _is_heading(text: str) -> bool:
    """A heading is short and has no sentence end before its last character."""
    return len(text) <= _HEADING_MAX and "。" not in text[:-1]


def _bare(title: str) -> str:
    """A section title without spaces or end punctuation, for comparing headings."""
    return "".join(title.split()).rstrip(_END_PUNCT + "。.")


def _normalise_subheading(text: str) -> str:
    """"(一) 依法主动公开" -> "（一）依法主动公开": full-width brackets, no space."""
    m = _SUBHEAD_RE.match(text)
    return f"（{m.group(1)}）{m.group(2)}" if m else text


def _join_subheadings(paras: list[str]) -> list[str]:
    """A stand-alone "（一）标题" paragraph becomes the inline head of the paragraph below it."""
    out: list[str] = []
    i = 0
    while i < len(paras):
        text = paras[i]
        # a sub-heading with its own full stop is already a paragraph of the inline form
        if _SUBHEAD_RE.match(text) and len(text) <= _HEADING_MAX and "。" not in text:
            head = text.rstrip(_END_PUNCT) + "。"
            following = paras[i + 1] if i + 1 < len(paras) else None
            if following is not None and not _SUBHEAD_RE.match(following):
                out.append(head + following)
                i += 2
                continue
            out.append(head)
        else:
            out.append(text)
        i += 1
    return out


def strip_report_controls(report, source: str) -> list[str]:
    """Remove control characters (which no Word file can store) from a Report's narrative and
    contact texts, e.g. a report JSON edited by hand; one Chinese note per text that had some,
    naming the file and the part."""
    spec = report.spec
    headings = {s.key: s.heading for s in spec.sections}
    labels = {f.key: f.label for f in spec.info_fields}
    notes = []
    for texts, names in ((report.narrative, headings), (report.contact, labels)):
        for key, text in list(texts.items()):
            if not isinstance(text, str):
                continue
            found = _CONTROLS_RE.findall(text)
            if found:
                texts[key] = _CONTROLS_RE.sub("", text)
                notes.append(f"报告「{source}」中「{names.get(key, key)}」的文字含有 {len(found)} 个不可见的控制字符"
                             f"（如 U+{ord(found[0]):04X}），Word 文件中无法保存，已删除；请核对这部分文字是否完整。")
    return notes
