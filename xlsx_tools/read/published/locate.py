"""Where things are in a published report: the section headings 一 to 六, the narrative of the
text sections, and the agency and year (title, opening paragraph, file name)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from ...format.spec import FormatSpec, Section
from .document import Line, is_number
from .normalize import key, label_keys, simplified

_HEADING_MARKS = re.compile(r"^[#*>\s]+|[*：:\s]+$")
_ORDINAL_SUBHEAD = re.compile(r"^(?:（[一二三四五六七八九十]+）|\([一二三四五六七八九十]+\))")
_SENTENCE_END = "。！？；：!?;:”"


@dataclass
class Heading:
    section: Section
    line: int


def _heading_key(text: str) -> str:
    return key(_HEADING_MARKS.sub("", text))


def is_heading(section: Section, text: str) -> bool:
    """Whether a line is this section's heading: its number and (nearly) its words."""
    if text.lstrip("#*> \t\u3000")[:1] != section.number:
        return False
    k = _heading_key(text)
    if not k.startswith(section.number + "、") or len(k) > 2 * len(key(section.heading)) + 4:
        return False
    for hk in label_keys(section.heading):
        if k.startswith(hk):
            return True
        if difflib.SequenceMatcher(None, hk, k[: len(hk) + 4]).ratio() >= 0.75:
            return True
    return False


def find_headings(spec: FormatSpec, lines: list[Line]) -> dict[str, Heading]:
    """The heading line of every section found, in order (section number -> Heading)."""
    out: dict[str, Heading] = {}
    pos = 0
    for s in spec.sections:
        for i in range(pos, len(lines)):
            if lines[i].cells is not None and len(lines[i].cells) > 1:
                continue
            if is_heading(s, lines[i].text):
                out[s.number] = Heading(s, i)
                pos = i + 1
                break
    return out


def section_ranges(spec: FormatSpec, headings: dict[str, Heading], n_lines: int) -> dict[str, tuple[int, int]]:
    """(first line after the heading, end) of every section found; a section ends where the next
    found heading starts."""
    found = sorted(headings.values(), key=lambda h: h.line)
    out = {}
    for i, h in enumerate(found):
        end = found[i + 1].line if i + 1 < len(found) else n_lines
        out[h.section.number] = (h.line + 1, end)
    return out


_FURNITURE_RE = re.compile(
    r"^(?:主办单位|承办单位|主办：|版权所有|网站标识码|技术支持|联系我们|网站地图|打印本页|关闭窗口|【打印】|【关闭】|分享到"
    r"|.{0,4}ICP备|.{0,6}公网安备|扫一扫在手机)"
)
_DATE_RE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")


def strip_tail(lines: list[str], agency: str) -> list[str]:
    """The last section's lines without what follows the report: a web page's footer (主办单位,
    ICP备 ...), the signature (agency name and date) and a bare figure after them (plain pdftotext
    may print a table's last figure at the very end of the document)."""
    for i, ln in enumerate(lines):
        if _FURNITURE_RE.match(ln.strip()):
            lines = lines[:i]
            break
    while lines and (_DATE_RE.match(lines[-1].strip()) or (agency and key(lines[-1]) == key(agency))
                     or is_number(lines[-1])):
        lines = lines[:-1]
    return lines


def paragraphs(lines: list[str], wrapped: bool, layout: list[tuple[bool, bool]] | None = None) -> str:
    """The text of a section: lines joined into paragraphs (one per line in the result). In a
    wrapped text (a PDF's) a paragraph starts at an indented line or after a line that ends
    short of the right margin where the layout (indent, short) is known, else after a short line
    ending a sentence or at a sub-heading （一）; otherwise every line is a paragraph."""
    if layout is not None:
        out: list[str] = []
        short_before = True
        for ln, (indent, short) in zip(lines, layout, strict=True):
            if not ln.strip():
                continue
            if indent or short_before or _ORDINAL_SUBHEAD.match(ln.strip()):
                out.append(ln.strip())
            else:
                out[-1] = _join(out[-1], ln.strip())
            short_before = short
        return "\n".join(out)
    lines = [ln.strip() for ln in lines if ln.strip()]
    if not wrapped:
        return "\n".join(lines)
    width = max((_width(ln) for ln in lines), default=0)
    out: list[str] = []
    prev = ""
    for ln in lines:
        starts_new = (
            not out
            or _ORDINAL_SUBHEAD.match(ln)
            or (out[-1][-1:] in _SENTENCE_END and _width(prev) < width * 0.85)
        )
        if starts_new:
            out.append(ln)
        else:
            out[-1] = _join(out[-1], ln)
        prev = ln
    return "\n".join(out)


def _width(text: str) -> float:
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


def _join(a: str, b: str) -> str:
    """Join two pieces of a wrapped line: no space between Chinese characters."""
    if a and b and a[-1].isascii() and b[0].isascii() and a[-1].isalnum() and b[0].isalnum():
        return a + " " + b
    return a + b


def is_wrapped(lines: list[str]) -> bool:
    """A text whose paragraphs are broken into lines (extracted from a PDF)."""
    body = [ln.strip() for ln in lines if len(ln.strip()) > 8]
    if len(body) < 4:
        return False
    open_ended = sum(1 for ln in body if ln[-1] not in _SENTENCE_END)
    return open_ended / len(body) >= 0.3


# -- agency and year

_TITLE_RE = re.compile(r"^(?:关于)?(.{2,60}?)[(（]?(\d{4})年度?[)）]?(?:度)?政府信息公开(?:工作)?(?:年度)?报告")
_QUOTED_RE = re.compile(r"《([^《》]{2,60}?)(\d{4})年度?政府信息公开(?:工作)?(?:年度)?报告》")
_PERIOD_RE = re.compile(r"(\d{4})年1月1日(?:起)?(?:至|到|-|—|~)")
_FILE_RE = re.compile(r"^(.*?)(20\d{2}|19\d{2})")


def _compact(text: str) -> str:
    """NFKC without whitespace, characters as printed (positions match simplified())."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _match(rx: re.Pattern[str], text: str) -> tuple[str, int] | None:
    printed = _compact(text)
    m = rx.search(simplified(printed))
    if not m:
        return None
    # The name as printed: full-width brackets stay full-width (NFKC would make them "(").
    raw = re.sub(r"\s+", "", text)
    source = raw if len(raw) == len(printed) else printed
    agency = source[m.start(1):m.end(1)].strip("《》 ,，、:：")
    return agency, int(m.group(2))


def agency_and_year(lines: list[Line], first_heading: int | None, file_stem: str) -> dict[str, tuple[str, str | int]]:
    """{"agency": (value, where), "year": (value, where)} for what could be found, where being
    "title", "opening", "period" or "file_name"."""
    out: dict[str, tuple[str, str | int]] = {}
    end = first_heading if first_heading is not None else min(len(lines), 12)
    head = [ln.text for ln in lines[:end]]
    hit = None
    for i, text in enumerate(head[:15]):
        if _compact(text).startswith("根据"):
            break
        for window in (head[i:i + 1], head[i:i + 2]):
            if any("。" in t or "《" in t for t in window):
                continue
            hit = _match(_TITLE_RE, "".join(window))
            if hit:
                break
        if hit:
            break
    if hit:
        if hit[0]:
            out["agency"] = (hit[0], "title")
        out["year"] = (hit[1], "title")
    opening = "".join(head)
    hit = _match(_QUOTED_RE, opening)
    if hit:
        # A long title wraps over three lines ("…委员会" / "办公室（…）" / "2025年…报告") and the
        # title match holds only its tail: the opening paragraph quotes the whole name.
        title_name = out.get("agency", ("", ""))[0]
        if title_name and hit[0] != title_name and hit[0].endswith(title_name):
            out["agency"] = (hit[0], "opening")
        out.setdefault("agency", (hit[0], "opening"))
        out.setdefault("year", (hit[1], "opening"))
    m = _PERIOD_RE.search(_compact(opening))
    if m:
        out.setdefault("year", (int(m.group(1)), "period"))
    m = _FILE_RE.search(_compact(file_stem))
    if m:
        if m.group(1).strip("_-— "):
            out.setdefault("agency", (m.group(1).strip("_-— "), "file_name"))
        out.setdefault("year", (int(m.group(2)), "file_name"))
    return out


# -- contact details from the opening paragraph (the customary wording, FORMAT-2021.md §1.4)

_CONTACT_RES = {
    "website_name": re.compile(r"电子版可(?:从|在)(.{2,40}?)[（(](?:https?://|www\.)"),
    "website": re.compile(r"电子版可(?:从|在).{0,40}?[（(]((?:https?://|www\.)[^）)\s]{3,200})[）)]"),
    "contact_org": re.compile(r"请与(.{2,60}?)联系"),
    "address": re.compile(r"(?:地址|通讯地址)[:：](.{2,80}?)[；;，,）)]"),
    "postcode": re.compile(r"(?:邮编|邮政编码)[:：]?(\d{6})"),
    "phone": re.compile(r"(?:联系电话|电话)[:：]([0-9][0-9\-－—()（） ]{5,30}[0-9])"),
    "email": re.compile(r"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"),
}


def contact_details(lines: list[Line], first_heading: int | None, keys: set[str]) -> dict[str, str]:
    """基本信息 contact fields stated in the opening paragraph (only keys the format has)."""
    end = first_heading if first_heading is not None else min(len(lines), 12)
    opening = _compact("".join(ln.text for ln in lines[:end] if not ln.text.lstrip().startswith("mailto:")))
    out = {}
    for k, rx in _CONTACT_RES.items():
        if k not in keys:
            continue
        m = rx.search(opening)
        if m:
            out[k] = m.group(1).strip()
    return out
