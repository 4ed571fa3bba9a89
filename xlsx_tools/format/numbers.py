"""Numbers read from agencies' cells and from report JSON, judged from their digits.

A numeric text is split by one regular expression into sign, digits and exponent, and its size is
worked out from those strings before any Decimal is built. "1E+400", "1e-400", a 5,000-digit string
or "1E+999999999" is refused in microseconds: Decimal never sees an exponent or a digit count it
would have to do work for (a Decimal such as 1E+999999999 is cheap to build, but turning it into an
int or quantizing it takes minutes and gigabytes). What a value type allows (maximum, decimals) is
judged afterwards on the bounded Decimal (checks.domain_problem).

Display: `plain()` writes a value with exactly its own digits, as entered, never padded, never in
exponent form, never rounded ("24252.311082", "26.5", "0") — the one policy every output follows.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Context, Decimal

# Beyond these no value of any type is plausible, so the text is refused before Decimal sees it
# (each value type's own, smaller, maximum and decimals are checked afterwards).
MAX_DIGITS = 30  # significant digits
MAX_EXPONENT = 30  # |position of the leading digit|, i.e. values between 1E-30 and 1E+30
MAX_CHARS = 200  # characters of a numeric text; no plausible value is written longer
_SHOWN = 24  # characters of a refused text quoted in a message

# Excel keeps 15 significant digits; a file written by a program may carry binary noise beyond
# them ("26.550000000000001"), which is dropped the way Excel drops it.
EXCEL_DIGITS = 15

_NUMBER_RE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?", re.ASCII)
# Excel keeps what it cannot hold as a number as text: "1E+400" typed in a cell is a text, and is
# read (bounded, below) so that it is "数字过大", not "请改为数字".
_TEXT_NUMBER_RE = re.compile(
    r"[+-]?(([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?)", re.ASCII)


class NumberError(ValueError):
    """A text that is a number but out of bounds ("large", "long", "precise"), or no number at all
    ("syntax"). `shown` is the text as a message may quote it (clipped)."""

    def __init__(self, kind: str, text: str, digits: int = 0):
        self.kind = kind
        self.text = text
        self.digits = digits
        self.shown = shown(text)
        super().__init__(f"{kind}: {self.shown}")


def shown(text: str, limit: int = _SHOWN) -> str:
    """A text for a message: as it is when short, else its start and its length."""
    text = text.strip()
    return text if len(text) <= limit else f"{text[:limit]}…（共 {len(text)} 个字符）"


def parse_number(text: str, *, noise_digits: int | None = None, max_digits: int = MAX_DIGITS,
                 max_exponent: int = MAX_EXPONENT) -> Decimal:
    """The exact value of a plain numeric text ("-12", "0.5", "2.5E+3"), ASCII digits only; raises
    NumberError. With `noise_digits`, digits beyond that many significant ones are rounded away
    (binary noise in a cell value); the value is then canonical (see canonical())."""
    s = text.strip()
    m = _NUMBER_RE.fullmatch(s)
    if m is None or not (m.group(2) or m.group(3)):
        raise NumberError("syntax", text)
    whole, frac, exp_text = m.group(2), m.group(3) or "", m.group(4)
    lead = whole.lstrip("0")
    significant = (lead + frac).lstrip("0").rstrip("0") if lead else frac.lstrip("0").rstrip("0")
    if not significant:
        return Decimal(0)  # "0", "0.000", "0E+999999999"
    exp_digits = (exp_text or "0").lstrip("+-").lstrip("0")
    if len(exp_digits) > 9:
        raise NumberError("large" if not exp_text.startswith("-") else "precise", text)
    exp = int(exp_text) if exp_text else 0
    # position of the leading significant digit: 0 for 1.x, 2 for 1xx, -3 for 0.00x
    adjusted = (len(lead) - 1 if lead else -(len(frac) - len(frac.lstrip("0"))) - 1) + exp
    if adjusted > max_exponent:
        raise NumberError("large", text)
    if adjusted < -max_exponent:
        raise NumberError("precise", text)
    if len(s) > MAX_CHARS or (noise_digits is None and len(significant) > max_digits):
        raise NumberError("long", text, len(significant))
    if noise_digits is not None and len(significant) > max(noise_digits, max_digits) + 2:
        raise NumberError("long", text, len(significant))
    # bounded now: at most ~max_digits + 2 significant digits, |exponent| ≤ ~max_exponent + digits
    d = Decimal(f"{m.group(1)}{lead or '0'}.{frac or '0'}E{exp}")
    if noise_digits is not None and len(significant) > noise_digits:
        d = Context(prec=noise_digits).create_decimal(d)
    return canonical(d)


def canonical(d: Decimal) -> Decimal:
    """The value without trailing zeros and without exponent form: 26.50 → 26.5, 1E+2 → 100."""
    sign, digits, exp = d.as_tuple()
    if not isinstance(exp, int) or exp > 2 * MAX_EXPONENT:
        return d  # not finite, or beyond any bound (never a Report's value): left as it is
    digits = list(digits)
    while exp < 0 and len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exp += 1
    if exp > 0:
        digits += [0] * exp
        exp = 0
    if not any(digits):
        return Decimal(0)
    return Decimal((sign, tuple(digits), exp))


def cell_number(raw: str) -> Decimal:
    """A numeric cell's <v> text: exact, binary noise beyond Excel's 15 digits dropped."""
    return parse_number(raw, noise_digits=EXCEL_DIGITS)


def text_number(text: str) -> Decimal | None:
    """A number typed as text that reads unambiguously: surrounding spaces, full-width digits
    ("１２"), thousands separators ("1,234"), exponent form ("1E+400", which Excel stores as text).
    Anything else ("无", "5件", "1.2.3") is None; a number
    out of bounds raises NumberError."""
    s = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    if not s or not _TEXT_NUMBER_RE.fullmatch(s):
        return None
    return cell_number(s.replace(",", ""))


Number = int | Decimal


def fmt_number(v: Number | None) -> str:
    """A figure as people write it: integers plain, decimals without float noise or trailing zeros."""
    if v is None:
        return "（空）"
    return plain(v)


def plain(v: Decimal | int) -> str:
    """A value with exactly its own digits: no exponent, no padding, no trailing zeros."""
    if isinstance(v, int):
        return str(v)
    if not v.is_finite() or abs(v.adjusted()) > 2 * MAX_EXPONENT:
        return str(v)  # never a Report's value; shown without materialising its digits
    return format(canonical(v), "f")


__all__ = ["EXCEL_DIGITS", "MAX_DIGITS", "MAX_EXPONENT", "NumberError", "canonical", "cell_number",
           "parse_number", "plain", "shown", "text_number"]
