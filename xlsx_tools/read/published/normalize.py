"""Tolerant label comparison for published reports: full/half width, spaces and line breaks inside
labels, traditional characters, "1、" for "1.", quotes, word equivalences and small label drift.
All tolerances are data (data/tolerance.toml); nothing here names a label."""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

_SPACE_RE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff|]+")
_QUOTES = "\"'“”‘’「」『』《》<>〈〉"
_NO_QUOTES = {ord(c): None for c in _QUOTES}
_ORDINAL_COMMA = re.compile(r"(?<![0-9])([0-9]{1,2})[、,]")


@dataclass(frozen=True)
class Tolerance:
    traditional: dict[int, str]
    equivalent: tuple[tuple[str, str], ...]
    drift: dict[str, tuple[str, ...]]
    format2019_document: str
    format2019_labels: tuple[str, ...]


@functools.cache
def tolerance() -> Tolerance:
    data = tomllib.loads((DATA / "tolerance.toml").read_text(encoding="utf-8"))
    pairs = {}
    for item in data["traditional"].split():
        if len(item) != 2:
            raise ValueError(f"tolerance.toml: traditional pair {item!r} is not two characters")
        pairs[item[0]] = item[1]
    return Tolerance(
        traditional=str.maketrans(pairs),
        equivalent=tuple(_same_length(a, b) for a, b in data.get("equivalent", {}).items()),
        drift={k: tuple(v) for k, v in data.get("drift", {}).items()},
        format2019_document=data["format2019"]["document"],
        format2019_labels=tuple(data["format2019"]["table2"]),
    )


def _same_length(a: str, b: str) -> tuple[str, str]:
    if len(a) != len(b):
        raise ValueError(f"tolerance.toml: equivalent words {a!r} and {b!r} differ in length")
    return a, b


def simplified(text: str) -> str:
    """Traditional characters of the mapping table replaced by simplified ones."""
    return text.translate(tolerance().traditional)


@functools.lru_cache(maxsize=1 << 16)
def base_key(text: str) -> str:
    """key() without the word equivalences (for text that is joined before comparing)."""
    t = unicodedata.normalize("NFKC", text)
    t = simplified(t)
    t = _SPACE_RE.sub("", t)
    t = t.translate(_NO_QUOTES)
    return _ORDINAL_COMMA.sub(r"\1.", t)


def equivalent(text: str) -> str:
    """Word equivalences applied (each keeps the length, so positions stay valid)."""
    for a, b in tolerance().equivalent:
        text = text.replace(a, b)
    return text


def key(text: str) -> str:
    """The comparison form of a label or of a piece of text: NFKC, simplified, no whitespace or
    pipes, no quotes, "1、" as "1.", word equivalences applied."""
    return equivalent(base_key(text))


def label_keys(label: str) -> tuple[str, ...]:
    """The comparison forms of a label: the canonical one first, then its drift forms."""
    out = [key(label)]
    for alt in tolerance().drift.get(label, ()):
        k = key(alt)
        if k not in out:
            out.append(k)
    return tuple(out)
