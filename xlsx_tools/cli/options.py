"""Option values that several commands take, parsed with Chinese usage errors (exit 2)."""

from __future__ import annotations

import datetime as dt
import re

from .console import fail

MIN_YEAR, MAX_YEAR = 2008, 2100  # 条例 in force since 2008-05-01
# 2026-01-31, 2026/1/31, 2026年1月31日 (spaces around the parts allowed)
DEADLINE_RE = re.compile(r"(?P<y>\d{4})\s*(?:(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})"
                         r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日)")


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        fail(f"报告年度应为 {MIN_YEAR}—{MAX_YEAR} 之间的四位年份，收到：{year}。")


def parse_deadline(text: str | None) -> str:
    """"2026-01-31", "2026/1/31" or "2026年1月31日" -> "2026年1月31日" (GB/T 9704 date style);
    empty stays empty; anything else is a usage error in Chinese."""
    if not text or not text.strip():
        return ""
    m = DEADLINE_RE.fullmatch(text.strip())
    d = None
    if m:
        try:
            d = dt.date(int(m["y"]), int(m["m"] or m["m2"]), int(m["d"] or m["d2"]))
        except ValueError:
            d = None
    if d is None:
        fail(f"截止日期「{text}」无法识别：请写成 2026-01-31、2026/1/31 或 2026年1月31日（须是实际存在的日期）。")
    return f"{d.year}年{d.month}月{d.day}日"
