"""Load a format file from templates/ into frozen dataclasses: sections, tables with their header
grid and merged cells (grid.py), fields with stable ids and cell addresses (cells.py), rules and
text checks (rules.py).

This is the only module that reads a format file; everything else asks the spec. Callers import
the names of cells, grid, rules, numbers and errors from those modules themselves.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .cells import (
    a1,
    defined_name,
    parse_a1,
)
from .errors import FormatError
from .grid import Field, Table, ValueType, build_table
from .numbers import Number
from .rules import Rule, Term, TextCheck, expand_rule, parse_side

DEFAULT_FORMAT = "gov-info-2021"


@dataclass(frozen=True)
class Section:
    number: str
    heading: str
    kind: str  # "narrative" | "table"
    key: str  # narrative key, or table key
    required: bool


@dataclass(frozen=True)
class _SheetCell:
    """A single named input cell outside the tables (基本信息, 文字部分)."""

    key: str
    label: str
    sheet: str
    row: int
    col: int

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)


@dataclass(frozen=True)
class InfoField(_SheetCell):
    locked: bool = False
    prompt: str = ""

    @property
    def name(self) -> str:
        return defined_name("info", self.key)


@dataclass(frozen=True)
class NarrativePart(_SheetCell):
    section: str = ""
    hint: str = ""

    @property
    def name(self) -> str:
        return defined_name("text", f"{self.section}_{self.key}")


@dataclass(frozen=True)
class FormatSpec:
    id: str
    version: str
    title: str
    document: str
    report_title: str
    preamble: tuple[str, ...]  # opening paragraph clauses with {placeholders}
    fingerprint: str
    source: str  # path of the format file
    sections: tuple[Section, ...]
    types: Mapping[str, ValueType]
    info_sheet: str
    info_title: str
    info_fields: tuple[InfoField, ...]
    narrative_sheet: str
    narrative_title: str
    narrative_parts: tuple[NarrativePart, ...]
    tables: tuple[Table, ...]
    rules: tuple[Rule, ...]
    text_checks: tuple[TextCheck, ...]
    _by_id: Mapping[str, Field] = field(repr=False, compare=False, default_factory=dict)
    # what a narrative section without text says in the report ("无。")
    nothing_to_report: str = ""
    # named lists of field ids ([figure_sets] of the format file): the figures an output shows
    figure_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for t in self.tables for f in t.fields)

    @property
    def input_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.input)

    @property
    def computed_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.input)

    def field(self, field_id: str) -> Field:
        try:
            return self._by_id[field_id]
        except KeyError:
            raise KeyError(f"unknown field id {field_id!r} in format {self.id}") from None

    def has_field(self, field_id: str) -> bool:
        return field_id in self._by_id

    def table(self, key_or_name: str) -> Table:
        for t in self.tables:
            if key_or_name in (t.key, t.name, t.sheet):
                return t
        raise KeyError(f"unknown table {key_or_name!r}")

    def section(self, key_or_number: str) -> Section:
        for s in self.sections:
            if key_or_number in (s.key, s.number):
                return s
        raise KeyError(f"unknown section {key_or_number!r}")

    @property
    def narrative_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind == "narrative")

    @property
    def narrative_numbers(self) -> str:
        """The numbers of the narrative sections as messages name them: "一、五、六"."""
        return "、".join(s.number for s in self.narrative_sections)

    def info_field(self, key: str) -> InfoField:
        for f in self.info_fields:
            if f.key == key:
                return f
        raise KeyError(f"unknown 基本信息 field {key!r} in format {self.id}")

    def figure_set(self, name: str) -> tuple[str, ...]:
        """The field ids of a [figure_sets] list of the format file; () when it has none by that name."""
        return self.figure_sets.get(name, ())

    def computing_rule(self, field_id: str) -> Rule | None:
        """The rule whose formula defines a computed field (the first one that computes it)."""
        for r in self.rules:
            if r.computes and r.target == field_id:
                return r
        return None

    @functools.cached_property
    def _compute_order(self) -> tuple[tuple[str, tuple[Term, ...]], ...]:
        """(target, terms) of every computing rule, each after the computed fields it sums
        (（七）总计 总计 sums totals that are computed themselves)."""
        pending = {}
        for r in self.rules:
            if r.computes:
                pending.setdefault(r.target, r.right)
        order: list[tuple[str, tuple[Term, ...]]] = []
        while pending:
            ready = [t for t, terms in pending.items()
                     if not any(x.field in pending for x in terms if x.field and x.field != t)]
            if not ready:
                raise FormatError(f"computed fields depend on each other: {sorted(pending)}")
            for t in ready:
                order.append((t, pending.pop(t)))
        return tuple(order)

    def compute(self, values: Mapping[str, Number | None]) -> dict[str, Number | None]:
        """Values of every computed field from the inputs (None where an input is missing)."""
        out: dict[str, Number | None] = dict(values)
        for target, terms in self._compute_order:
            total: Number | None = 0
            for t in terms:
                v = t.constant if t.field is None else out.get(t.field)
                if v is None:
                    total = None
                    break
                total += t.sign * v
            out[target] = total
        return out

    def input_values(self, values: Mapping[str, Number | None]) -> dict[str, Number | None]:
        return {f.id: values.get(f.id) for f in self.input_fields}



# ---------------------------------------------------------------------------------------------
# Loading


def templates_dir() -> Path:
    """Where the format files are: inside the installed package, or templates/ of a checkout."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"
    if packaged.is_dir():
        return packaged
    return package.parent / "templates"


def available_formats() -> list[str]:
    return sorted(p.stem for p in templates_dir().glob("*.toml"))


def load_format(format_id: str = DEFAULT_FORMAT) -> FormatSpec:
    """The format `format_id` (a file name in templates/, without .toml): its tables, fields,
    rules and texts. Cached: the same FormatSpec object for the same id, however it is asked for
    (load_format() and load_format(DEFAULT_FORMAT) are one object, and so is everything derived
    from it once per spec: the reader's layout, the caches of util.memo). FormatError if unknown."""
    return _load_format(format_id)


@functools.cache
def _load_format(format_id: str) -> FormatSpec:
    path = templates_dir() / f"{format_id}.toml"
    if not path.is_file():
        raise FormatError(f"未找到报告格式文件 {format_id}（可用：{', '.join(available_formats())}）")
    return load_format_file(path)


def load_format_file(path: str | Path) -> FormatSpec:
    path = Path(path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: {e}") from e
    return _build(data, fingerprint=layout_fingerprint(data), source=str(path))


# The parts of a format file that shape the Excel template (its top-level tables), without the
# keys NOT_IN_TEMPLATE names ("*" stands for any key). Anything else — a new table for collect or
# aggregate, the text checks, words used only in messages, comments, spacing — leaves the
# fingerprint, and so the identity of templates already sent out, as it is. A key that changes
# the template's layout or text must change the fingerprint: never list it here.
IN_TEMPLATE = ("format", "sections", "types", "info", "narrative", "tables", "rules")
NOT_IN_TEMPLATE = ("format.preamble", "format.issued", "narrative.nothing_to_report", "types.*.noun")


def _without(value: object, paths: list[list[str]]) -> object:
    if not isinstance(value, Mapping):
        return value
    out = {}
    for key, item in value.items():
        below = [p[1:] for p in paths if p[0] in (key, "*")]
        if any(len(p) == 0 for p in below):
            continue
        out[key] = _without(item, below) if below else item
    return out


def layout_fingerprint(data: Mapping) -> str:
    """What identifies the layout a format file gives its template: a hash of its content (as
    canonical JSON) restricted to IN_TEMPLATE, without NOT_IN_TEMPLATE."""
    kept = _without({k: v for k, v in data.items() if k in IN_TEMPLATE}, [p.split(".") for p in NOT_IN_TEMPLATE])
    text = json.dumps(kept, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _types(raw: Mapping[str, dict]) -> dict[str, ValueType]:
    return {
        key: ValueType(
            key=key, kind=t["kind"], minimum=t.get("minimum", 0), maximum=t.get("maximum", 10**9),
            decimals=t.get("decimals", 0), precision_note=t.get("precision_note", ""),
            unit=t.get("unit", ""), prompt_title=t.get("prompt_title", ""), prompt=t.get("prompt", ""),
            error_title=t.get("error_title", ""), error=t.get("error", ""), instruction=t.get("instruction", ""),
            noun=t.get("noun", ""),
        )
        for key, t in raw.items()
    }


def _sheet_cells(info: dict, narr: dict) -> tuple[tuple[InfoField, ...], tuple[NarrativePart, ...]]:
    """The 基本信息 fields and the 文字部分 parts, one row each from the sheet's origin."""
    r0, c0 = parse_a1(info.get("origin", "A3"))
    info_fields = tuple(
        InfoField(
            key=f["key"], label=f["label"], locked=f.get("locked", False), prompt=f.get("prompt", ""),
            sheet=info["sheet"], row=r0 + i, col=c0 + 1,
        )
        for i, f in enumerate(info["fields"])
    )
    r0, c0 = parse_a1(narr.get("origin", "A3"))
    parts = tuple(
        NarrativePart(
            section=p["section"], key=p["key"], label=p["label"], hint=p.get("hint", ""),
            sheet=narr["sheet"], row=r0 + i, col=c0 + 1,
        )
        for i, p in enumerate(narr["parts"])
    )
    return info_fields, parts


def _build(data: dict, fingerprint: str, source: str) -> FormatSpec:
    fmt = data["format"]
    types = _types(data["types"])
    sections = tuple(
        Section(
            number=s["number"], heading=s["heading"], kind=s["kind"],
            key=s.get("key") or s.get("table", ""), required=s.get("required", False),
        )
        for s in data["sections"]
    )
    headings = {s.key: s.heading for s in sections if s.kind == "table"}
    tables = tuple(build_table(t, types, headings.get(t["key"], "")) for t in data["tables"])

    info, narr = data["info"], data["narrative"]
    info_fields, parts = _sheet_cells(info, narr)

    by_id: dict[str, Field] = {}
    for t in tables:
        for f in t.fields:
            if f.id in by_id:
                raise FormatError(f"duplicate field id {f.id}")
            by_id[f.id] = f

    rules = tuple(itertools.chain.from_iterable(expand_rule(r, tables, by_id) for r in data.get("rules", [])))
    # mark computed fields
    computed = {r.target for r in rules if r.computes}
    for fid in computed:
        f = by_id[fid]
        by_id[fid] = replace(f, input=False)
    tables = tuple(
        replace(t, fields=tuple(by_id[f.id] for f in t.fields)) for t in tables
    )
    text_checks = tuple(
        TextCheck(
            code=tc["code"], section=tc["section"], pattern=re.compile(tc["pattern"]),
            zero_pattern=re.compile(tc["zero_pattern"]) if tc.get("zero_pattern") else None,
            terms=parse_side(tc["expr"], by_id), title=tc["title"], message_template=tc["message"],
        )
        for tc in data.get("text_checks", [])
    )
    figure_sets = {}
    for name, ids in data.get("figure_sets", {}).items():
        unknown = [fid for fid in ids if fid not in by_id]
        if unknown:
            raise FormatError(f"figure_sets.{name}: unknown field ids {unknown}")
        figure_sets[name] = tuple(ids)
    return FormatSpec(
        id=fmt["id"], version=str(fmt["version"]), title=fmt["title"], document=fmt["document"],
        report_title=fmt["report_title"], preamble=tuple(fmt.get("preamble", ())), fingerprint=fingerprint, source=source,
        sections=sections, types=types, info_sheet=info["sheet"], info_title=info.get("title", info["sheet"]),
        info_fields=info_fields, narrative_sheet=narr["sheet"], narrative_title=narr.get("title", narr["sheet"]),
        narrative_parts=parts, tables=tables, rules=rules, text_checks=text_checks, _by_id=by_id,
        nothing_to_report=narr.get("nothing_to_report", ""), figure_sets=figure_sets,
    )


__all__ = [
    "DEFAULT_FORMAT",
    "FormatSpec",
    "InfoField",
    "NarrativePart",
    "Section",
    "available_formats",
    "load_format",
    "load_format_file",
    "templates_dir",
]
