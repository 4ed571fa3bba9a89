"""The Report: the in-memory model passed between every step, with a lossless JSON round trip.

The JSON form is a public interface (documented in README): top-level keys `format`, `agency`,
`year`, `contact`, `narrative`, `figures`, plus `provenance` (and `findings` when a reader adds them).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..format.grid import Field
from ..format.numbers import Number, NumberError, parse_number, plain, shown
from ..format.spec import FormatSpec, load_format
from .jsonio import (
    JSON_MAX_DIGITS,
    JSON_MAX_EXPONENT,
    BadNumber,
    JsonError,
    dumps,
    loads,
    read_json,
)

JSON_KEYS = ("format", "agency", "year", "contact", "narrative", "figures")


@dataclass
class Agency:
    name: str
    code: str = ""


@dataclass
class Provenance:
    """Where a Report came from."""

    source: str | None = None  # file name as handed to the tool
    sha256: str | None = None
    application: str | None = None  # program that last saved the workbook (docProps/app.xml)
    app_version: str | None = None
    saved_at: str | None = None  # the workbook's own modification time (ISO 8601)
    template_fingerprint: str | None = None
    template_version: str | None = None


@dataclass
class Report:
    format: str
    agency: Agency
    year: int
    contact: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Number | None] = field(default_factory=dict)
    narrative: dict[str, str] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def spec(self) -> FormatSpec:
        return load_format(self.format)

    @classmethod
    def blank(cls, agency: str, year: int, code: str = "", format_id: str | None = None) -> Report:
        spec = load_format(format_id) if format_id else load_format()
        return cls(
            format=spec.id, agency=Agency(agency, code), year=year,
            figures={f.id: None for f in spec.fields},
        )

    def with_computed(self) -> Report:
        """A copy whose computed fields are recomputed from the inputs."""
        spec = self.spec
        figures = spec.compute(spec.input_values(self.figures))
        return Report(
            format=self.format, agency=Agency(self.agency.name, self.agency.code), year=self.year,
            contact=dict(self.contact), figures=figures, narrative=dict(self.narrative),
            provenance=Provenance(**asdict(self.provenance)),
        )

    # -- JSON

    def to_dict(self) -> dict[str, Any]:
        spec = self.spec
        figures = []
        for f in spec.fields:
            figures.append({
                "id": f.id,
                "table": f.table_name,
                "row": list(f.row_labels),
                "column": list(f.column_labels),
                "sheet": f.sheet,
                "cell": f.cell,
                "input": f.input,
                "value": self.figures.get(f.id),
            })
        return {
            "format": self.format,
            "agency": {"name": self.agency.name, "code": self.agency.code},
            "year": self.year,
            "contact": dict(self.contact),
            "narrative": dict(self.narrative),
            "figures": figures,
            "provenance": asdict(self.provenance),
        }

    def to_json(self, extra: dict[str, Any] | None = None, indent: int | None = 2) -> str:
        data = self.to_dict()
        if extra:
            data.update(extra)
        return dumps(data, indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """A Report from its JSON form; raises JsonError (a ValueError, in Chinese) naming the key
        or the field that cannot be used."""
        if not isinstance(data, dict):
            raise JsonError("内容不是一个报告（应为 JSON 对象 {…}）")
        missing = [k for k in JSON_KEYS if k not in data]
        if missing:
            raise JsonError(f"JSON 缺少键：{', '.join(missing)}")
        fmt = data["format"]
        if not isinstance(fmt, str) or not _FORMAT_ID_RE.fullmatch(fmt):
            raise JsonError(f"“format”的值 {_show(fmt)} 不是报告格式名称")
        spec = load_format(fmt)
        agency = data["agency"]
        if not isinstance(agency, dict) or not all(isinstance(agency.get(k) or "", str) for k in ("name", "code")):
            raise JsonError("“agency”应为 {\"name\": 机关名称, \"code\": 代码}")
        year = data["year"]
        if isinstance(year, str) and year.isascii() and year.isdigit() and len(year) == 4:
            year = int(year)
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
            raise JsonError(f"“year”的值 {_show(year)} 不是年份")
        items = data["figures"]
        if not isinstance(items, list):
            raise JsonError("“figures”应为数组")
        figures: dict[str, Number | None] = {f.id: None for f in spec.fields}
        for i, item in enumerate(items, 1):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise JsonError(f"“figures”第 {i} 项没有数据项 id")
            fid = item["id"]
            if not spec.has_field(fid):
                raise JsonError(f"JSON 中的数据项 {_show(fid)} 不属于格式 {spec.id}")
            figures[fid] = field_value(spec.field(fid), item.get("value"))
        texts = {}
        for key in ("contact", "narrative"):
            value = data.get(key)
            value = {} if value is None else value
            if not isinstance(value, dict):
                raise JsonError(f"“{key}”应为 JSON 对象")
            texts[key] = {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
        prov = data.get("provenance")
        prov = {} if prov is None else prov
        if not isinstance(prov, dict):
            raise JsonError("“provenance”应为 JSON 对象")
        known = Provenance.__dataclass_fields__
        return cls(
            format=spec.id,
            agency=Agency(agency.get("name") or "", agency.get("code") or ""),
            year=year,
            contact=texts["contact"],
            figures=figures,
            narrative=texts["narrative"],
            provenance=Provenance(**{k: v if v is None or isinstance(v, str) else str(v)
                                     for k, v in prov.items() if k in known}),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(loads(text))

    @classmethod
    def load(cls, path: str | Path) -> Report:
        """A Report from a JSON file (size, nesting and numbers bounded: see jsonio)."""
        return cls.from_dict(read_json(path))


_FORMAT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _show(v: Any) -> str:
    """A JSON value as a message quotes it (clipped)."""
    if isinstance(v, BadNumber | str):
        return shown(str(v), 40)
    return shown(dumps(v, indent=None), 40)


def field_value(f: Field, v: Any) -> Number | None:
    """A figure from JSON: a plain number or an exact decimal string ("24252.311082"), bounded
    before anything is computed with it; a count is an int, a fee a Decimal with its own digits.
    NaN, Infinity, a number beyond the bounds or a count with a fraction raise JsonError naming
    the field. (A negative value, or a fee finer than its decimals, is a check finding instead.)"""
    if v is None:
        return None
    where = f"数据项 {f.id}（{f.where}）"
    if isinstance(v, BadNumber):
        err = v.error
    elif isinstance(v, bool) or not isinstance(v, int | float | Decimal | str):
        raise JsonError(f"{where}的数值不正确：{_show(v)} 不是数字")
    else:
        if isinstance(v, int):
            text = str(v) if v.bit_length() < 200 else "1E+999"
        elif isinstance(v, float):
            text = repr(v) if math.isfinite(v) else str(v)
        else:
            text = str(v)
        try:
            d = parse_number(text, max_digits=JSON_MAX_DIGITS, max_exponent=JSON_MAX_EXPONENT)
            err = None
        except NumberError as e:
            err = e
    if err is not None:
        if err.kind == "large":
            raise JsonError(f"{where}的数值不正确：{err.shown} 数字过大，请核对")
        if err.kind in ("long", "precise"):
            raise JsonError(f"{where}的数值不正确：{err.shown} 位数过多，请核对")
        raise JsonError(f"{where}的数值不正确：“{err.shown}”不是数字"
                        "（只能是普通数字或精确的小数字符串，如 24252.311082；NaN、Infinity 不能使用）")
    if f.type.kind == "integer":
        if d != d.to_integral_value():
            raise JsonError(f"{where}的数值不正确：{plain(d)} 不是整数（{f.type.unit}数只能是整数）")
        return int(d)
    return d


_ORDINAL_RE = re.compile(r"^（[一二三四五六七八九十]+）")


def narrative_from_parts(spec: FormatSpec, parts: dict[str, str]) -> dict[str, str]:
    """Section texts from the 文字部分 cells ("overview.active" -> text). A sub-head part whose text
    does not start with its own ordinal gets the customary sub-head ("（一）主动公开。") in front;
    paragraphs are separated by newlines."""
    out: dict[str, list[str]] = {}
    for part in spec.narrative_parts:
        text = (parts.get(f"{part.section}.{part.key}") or "").strip()
        if not text:
            continue
        ordinal = _ORDINAL_RE.match(part.label)
        if ordinal and not text.startswith(ordinal.group(0)):
            text = f"{part.label}。{text}"
        out.setdefault(part.section, []).append(text)
    return {k: "\n".join(v) for k, v in out.items()}


__all__ = ["JSON_KEYS", "Agency", "JsonError", "Provenance", "Report", "dumps", "field_value", "loads",
           "narrative_from_parts"]
