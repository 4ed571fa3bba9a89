"""JSON in and out with exact, bounded numbers (the report JSON is a public interface).

Out: a Decimal is written as a plain JSON number with exactly its own digits (26.55, never
26.550000000000001, never 1E+2); nothing else is ever written in its place.

In: a file is refused before parsing when it is larger than MAX_BYTES or nested deeper than
MAX_DEPTH (json's parser recurses, so a 100,000-deep nesting would raise RecursionError). Numbers
are judged from their digits (numbers.parse_number) before Python builds them: a number beyond
the bounds, and NaN/Infinity (which json accepts by default), become a BadNumber that the reader of
the value (Report.from_dict) names with its field. Every error is a JsonError in Chinese.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..format.numbers import NumberError, parse_number, plain
from ..util.fsutil import read_regular

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
# a report's values: below 10^16 and at most 24 significant digits, so that sums over any number
# of agencies stay exact in Decimal's 28 digits (each type's own maximum is a check finding)
JSON_MAX_EXPONENT = 15
JSON_MAX_DIGITS = 24


class JsonError(ValueError):
    """A JSON text that cannot be used (the message is Chinese and names the place)."""


class BadNumber:
    """A JSON number that is not a usable value ("NaN", "1e5000", 5,000 digits)."""

    __slots__ = ("error",)

    def __init__(self, error: NumberError):
        self.error = error

    def __repr__(self) -> str:
        return f"BadNumber({self.error.shown!r})"

    def __str__(self) -> str:
        return self.error.shown


def _parse(text: str) -> Decimal | BadNumber:
    try:
        return parse_number(text, max_digits=JSON_MAX_DIGITS, max_exponent=JSON_MAX_EXPONENT)
    except NumberError as e:
        return BadNumber(e)


def _json_int(text: str) -> int | BadNumber:
    d = _parse(text)
    return d if isinstance(d, BadNumber) else int(d)


def _constant(text: str) -> BadNumber:
    return BadNumber(NumberError("syntax", text))


# a JSON string (with escapes), or a bracket outside strings
_STRUCTURE_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    depth = 0
    for m in _STRUCTURE_RE.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > max_depth:
                line = text.count("\n", 0, m.start()) + 1
                raise JsonError(f"嵌套层数超过 {max_depth} 层（第 {line} 行）")
        elif c in "]}":
            depth -= 1


def loads(text: str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """JSON with int/Decimal numbers (BadNumber where out of bounds); raises JsonError."""
    if len(text) > max_bytes:
        raise JsonError(f"内容过大（{len(text) // 1048576} MB，上限 {max_bytes // 1048576} MB）")
    check_depth(text, max_depth)
    try:
        return json.loads(text, parse_float=_parse, parse_int=_json_int,
                          parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise JsonError(f"不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列）") from None
    except RecursionError:  # a depth check above makes this unreachable; kept as a last guard
        raise JsonError("嵌套层数过多") from None


def read_json(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """A JSON file (UTF-8, with or without BOM), read with the limits of loads."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise JsonError(f"文件过大（{size // 1048576} MB，上限 {max_bytes // 1048576} MB）")
    data = read_regular(path, max_bytes)  # never blocks on a FIFO
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise JsonError(f"不是 UTF-8 编码的文本（第 {e.start + 1} 个字节起）") from None
    return loads(text, max_bytes=max_bytes)


# -- out

_DEC_RE = re.compile(r'"@dec-([0-9a-f]{32}):(-?[0-9]+(?:\.[0-9]+)?)"')


def _encode_decimals(obj: Any, mark: str) -> Any:
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            return str(obj)  # never a Report's value (the readers refuse it); a string, not a marker
        text = plain(obj)
        return mark + text if "E" not in text else text
    if isinstance(obj, BadNumber):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _encode_decimals(v, mark) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode_decimals(v, mark) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text; a Decimal becomes a plain number with exactly its own digits. A fresh random
    marker per call carries it through json.dumps, so no user text can be mistaken for a number;
    every marker is replaced (the pattern matches every text plain() writes for a finite value)."""
    token = uuid.uuid4().hex
    text = json.dumps(_encode_decimals(data, f"@dec-{token}:"), ensure_ascii=False, indent=indent,
                      allow_nan=False)
    return _DEC_RE.sub(lambda m: m.group(2) if m.group(1) == token else m.group(0), text)
