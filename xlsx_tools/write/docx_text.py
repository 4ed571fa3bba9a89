"""Text measures and line breaking of the report: widths in character cells, balanced title lines
broken where words allow (GB/T 9704-2012 7.3.1), the signature block (7.3.5), narrative paragraphs
and sub-headings, dates as 公文 write them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

from .docx_styles import CHARS_PER_LINE, TITLE_CHARS_PER_LINE

# 7.3.1 回行时要做到词意完整: an agency name breaks best after the level or kind of body it names
# (…市|…区|…局, …人民政府|办公室) or before a bracketed second name; not inside 市场, 区域, 县级 ...
_NAME_BREAK = re.compile(
    r"(?:人民政府|委员会|办公室|自治区|自治州|自治县|中心|省|市(?![场政辖容民级])|区(?![域级])|县(?!级)|局|厅)(?=.)"
    r"|(?<=.)(?=（)"
)
# A line may not start with closing punctuation, nor end with opening punctuation.
_NO_LINE_START = frozenset("）》」』、，。；：！？”’")
_NO_LINE_END = frozenset("（《「『“‘")
# A break at a natural boundary is preferred to one up to this many characters closer to the
# balanced point (the cost of two lines that far off balance).
_UNNATURAL_BREAK_COST = 2 * 2.5 ** 2
_ORDINAL2 = re.compile(r"^（[一二三四五六七八九十]+）")
_CJK_WIDE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f“”‘’—…·]")


CORE_PROPERTY_CHARS = 255  # python-docx (and Word) refuse longer title/author properties


def core_text(text: str) -> str:
    """A file property value clipped to what Word accepts (a damaged or hostile workbook may name
    an agency in thousands of characters; python-docx would raise in English)."""
    return text if len(text) <= CORE_PROPERTY_CHARS else text[: CORE_PROPERTY_CHARS - 1] + "…"


def text_width(text: str) -> float:
    """Width in character cells: Chinese and full-width characters 1, others (digits) 1/2."""
    return sum(1 if _CJK_WIDE.match(c) else 0.5 for c in text)


def title_lines(text: str, per_line: float = TITLE_CHARS_PER_LINE) -> list[str]:
    """GB/T 9704-2012 7.3.1 分一行或多行居中排布；回行时要做到词意完整，排列对称: `text` in the
    fewest lines of at most `per_line` character cells, as equal in length as possible, broken
    at a natural boundary (_NAME_BREAK) where one lies near the balanced point. Never leaves
    a line starting with "）" or the like, as the office suite's own wrapping would ("心）")."""
    width = text_width(text)
    if width <= per_line or len(text) < 2:
        return [text]
    if math.ceil(width / per_line) > MAX_BALANCED_TITLE_LINES:
        return _filled_lines(text, per_line)  # not a real name; balancing would be combinatorial
    natural = {m.end() for m in _NAME_BREAK.finditer(text)}
    allowed = [i for i in range(1, len(text)) if text[i] not in _NO_LINE_START and text[i - 1] not in _NO_LINE_END]
    for count in range(math.ceil(width / per_line), len(text) + 1):
        target = width / count
        best: tuple[float, tuple[int, ...]] | None = None
        for cuts in itertools.combinations(allowed, count - 1):
            bounds = (0, *cuts, len(text))
            widths = [text_width(text[a:b]) for a, b in itertools.pairwise(bounds)]
            if max(widths) > per_line:
                continue
            cost = sum((w - target) ** 2 for w in widths)
            cost += _UNNATURAL_BREAK_COST * sum(1 for c in cuts if c not in natural)
            # ties: the upper line the longer
            key = (cost, tuple(-c for c in cuts))
            if best is None or key < (best[0], tuple(-c for c in best[1])):
                best = (cost, cuts)
        if best is not None:
            bounds = (0, *best[1], len(text))
            return [text[a:b] for a, b in itertools.pairwise(bounds)]
    return [text]


MAX_BALANCED_TITLE_LINES = 3  # a name needing more lines is set line by line, not balanced


def _filled_lines(text: str, per_line: float) -> list[str]:
    """Lines filled one after the other, never starting with a character that may not begin a
    line (a text too long for balancing: the search over breaks grows combinatorially)."""
    lines: list[str] = []
    start, width = 0, 0.0
    for i, ch in enumerate(text):
        w = text_width(ch)
        if width + w > per_line and i > start:
            cut = i
            while cut > start + 1 and (text[cut] in _NO_LINE_START or text[cut - 1] in _NO_LINE_END):
                cut -= 1
            lines.append(text[start:cut])
            start, width = cut, text_width(text[cut:i])
        width += w
    lines.append(text[start:])
    return lines


SIGNATURE_DATE_RIGHT = 4  # 成文日期右空四字
AUTOSPACE = 0.25  # office suites put a quarter character between Chinese and digits ("2025 年")


def printed_width(text: str) -> float:
    """text_width plus the space Word and LibreOffice add where Chinese meets digits or Latin."""
    changes = sum(1 for a, b in itertools.pairwise(text) if bool(_CJK_WIDE.match(a)) != bool(_CJK_WIDE.match(b)))
    return text_width(text) + AUTOSPACE * changes


def signature_layout(name: str, date_text: str) -> tuple[list[str], float]:
    """The 署名 lines and the width (in characters) of the block they are centred in.

    GB/T 9704-2012 7.3.5.1: 成文日期右空四字; 发文机关署名以成文日期为准居中. The block is
    centred on the date and reaches the right edge of the text, so it is 4 + date + 4 characters
    wide: a name that is longer is broken into balanced lines at natural boundaries (as titles
    are), each centred over the date."""
    block = min(float(CHARS_PER_LINE), printed_width(date_text) + 2 * SIGNATURE_DATE_RIGHT)
    return title_lines(name, per_line=block), block


def paragraphs(text: str) -> list[str]:
    """A narrative's paragraphs: one per line, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def split_subheading(text: str) -> tuple[str, str]:
    """("（一）依法主动公开。", "贯彻落实…") for a paragraph that opens with a （一） sub-heading;
    ("", text) otherwise. The sub-heading runs to the first 。 (the whole text if there is none)."""
    if not _ORDINAL2.match(text):
        return "", text
    end = text.find("。")
    if end < 0:
        return text, ""
    return text[:end + 1], text[end + 1:]


def parse_date(text: str) -> dt.date:
    """"2022年1月20日", "2022-01-20", "2022/1/20" or "2022.1.20" -> date; ValueError (Chinese)."""
    m = re.fullmatch(r"\s*(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?\s*", text or "")
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    raise ValueError(f"日期「{text}」无法识别：请写成 2022年1月20日、2022-01-20 或 2022/1/20（须是实际存在的日期）。")


def format_date(d: dt.date) -> str:
    """GB/T 9704-2012 7.3.5: 年份标全称，月、日不编虚位 -> 2022年1月20日."""
    return f"{d.year}年{d.month}月{d.day}日"
