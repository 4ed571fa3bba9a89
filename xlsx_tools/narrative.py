"""The narrative of a report (sections 一、五、六) from a Word file, Markdown or plain text.

Section headings "一、总体情况" … "六、其他需要报告的事项" split the text; the sections that are
tables (二、三、四) and anything before the first heading are left out, with a note saying so.
A stand-alone sub-heading "（一）依法主动公开" is joined to the paragraph below it as
"（一）依法主动公开。贯彻落实……", the form the Report keeps (paragraphs separated by newlines).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .spec import FormatSpec, load_format

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
    if not path.is_file():
        raise NarrativeError(f"找不到文字材料文件：{path}")
    if suffix == ".docx":
        paras = docx_paragraphs(path)
    else:
        text = _read_text(path)
        paras = markdown_paragraphs(text) if suffix in (".md", ".markdown") else text_paragraphs(text)
    result = parse_paragraphs(paras, spec=spec)
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


def docx_paragraphs(path: str | Path) -> list[str]:
    """The text of a Word document's body paragraphs (tables are left out); a manual line
    break inside a paragraph starts a new one."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise NarrativeError(
            f"无法读取 Word 文件「{Path(path).name}」：文件已损坏或不是 .docx 格式"
            f"（旧版 .doc 请用 Word 或 WPS 另存为 .docx）。（{e}）"
        ) from None
    out: list[str] = []
    for p in document.paragraphs:
        out.extend(p.text.split("\n"))
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


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NarrativeError(f"无法识别「{path.name}」的文字编码：请另存为 UTF-8 编码的文本文件后重试。")


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
