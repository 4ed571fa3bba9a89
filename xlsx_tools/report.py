"""The Report: the in-memory model passed between every step, with a lossless JSON round trip.

The JSON form is a public interface (documented in README): top-level keys `format`, `agency`,
`year`, `contact`, `narrative`, `figures`, plus `provenance` (and `findings` when a reader adds them).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .spec import FormatSpec, Number, load_format

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
    def from_dict(cls, data: dict[str, Any]) -> Report:
        missing = [k for k in JSON_KEYS if k not in data]
        if missing:
            raise ValueError(f"JSON 缺少键：{', '.join(missing)}")
        spec = load_format(data["format"])
        figures: dict[str, Number | None] = {f.id: None for f in spec.fields}
        for item in data["figures"]:
            fid = item["id"]
            if not spec.has_field(fid):
                raise ValueError(f"JSON 中的数据项 {fid} 不属于格式 {spec.id}")
            figures[fid] = _number(item.get("value"))
        prov = data.get("provenance") or {}
        known = Provenance.__dataclass_fields__
        return cls(
            format=spec.id,
            agency=Agency(data["agency"].get("name", ""), data["agency"].get("code", "") or ""),
            year=int(data["year"]),
            contact={k: str(v) for k, v in (data.get("contact") or {}).items()},
            figures=figures,
            narrative={k: str(v) for k, v in (data.get("narrative") or {}).items()},
            provenance=Provenance(**{k: v for k, v in prov.items() if k in known}),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(loads(text))

    @classmethod
    def load(cls, path: str | Path) -> Report:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


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


def _number(v: Any) -> Number | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError(f"数值不正确：{v!r}")
    if isinstance(v, int | Decimal):
        return v
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        return Decimal(v) if "." in v else int(v)
    raise ValueError(f"数值不正确：{v!r}")


# -- JSON with exact decimals: a Decimal is written as a JSON number with its own digits and read
# back as a Decimal (parse_float=Decimal), so 26.55 万元 never becomes 26.550000000000001.

_DEC_RE = re.compile(r'"@dec-([0-9a-f]{32}):(-?[0-9.]+)"')


def _encode_decimals(obj: Any, mark: str) -> Any:
    if isinstance(obj, Decimal):
        return mark + format(obj, "f")
    if isinstance(obj, dict):
        return {k: _encode_decimals(v, mark) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode_decimals(v, mark) for v in obj]
    return obj


def dumps(data: Any, indent: int | None = 2) -> str:
    # a fresh random marker per call, so no user text can be mistaken for a number
    token = uuid.uuid4().hex
    text = json.dumps(_encode_decimals(data, f"@dec-{token}:"), ensure_ascii=False, indent=indent)
    return _DEC_RE.sub(lambda m: m.group(2) if m.group(1) == token else m.group(0), text)


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)
