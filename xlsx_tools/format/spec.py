"""Load a format file from templates/ into frozen dataclasses: sections, tables with their header
grid and merged cells, fields with stable ids and cell addresses, rules and text checks.

This is the only module that knows the shape of a format file; everything else asks the spec.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from .numbers import plain

DEFAULT_FORMAT = "gov-info-2021"

Number = int | Decimal


class FormatError(ValueError):
    """A format file that does not describe a consistent format."""


# ---------------------------------------------------------------------------------------------
# Cell addresses


def col_letter(col: int) -> str:
    """0-based column index -> Excel letters (0 -> A)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based (row, col) -> "B3"."""
    return f"{col_letter(col)}{row + 1}"


def a1_range(row: int, col: int, rowspan: int = 1, colspan: int = 1) -> str:
    first = a1(row, col)
    if rowspan == 1 and colspan == 1:
        return first
    return f"{first}:{a1(row + rowspan - 1, col + colspan - 1)}"


# One cell reference as Excel writes it ("B3", "$B$3"): the pattern formula parsers build on.
A1_PATTERN = r"\$?[A-Z]{1,3}\$?\d+"
_A1_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def col_index(letters: str) -> int:
    """Excel letters -> 0-based column index (A -> 0)."""
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return col - 1


@functools.lru_cache(maxsize=1 << 16)
def cell_index(ref: str) -> tuple[int, int] | None:
    """"B3" or "$B$3" -> (2, 1), 0-based, exactly as written (upper case, no spaces); None when
    `ref` is not a cell reference."""
    m = _A1_RE.match(ref)
    return None if m is None else (int(m.group(2)) - 1, col_index(m.group(1)))


def parse_a1(ref: str) -> tuple[int, int]:
    """"B3" -> (2, 1), 0-based."""
    rc = cell_index(ref.strip().upper())
    if rc is None:
        raise ValueError(f"not an A1 reference: {ref!r}")
    return rc


def defined_name(kind: str, key: str) -> str:
    """Workbook-level defined name for an input cell (letters, digits and _ only, so that
    Excel, WPS and LibreOffice all accept it)."""
    return "xt_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{kind}_{key}" if kind else key)


# ---------------------------------------------------------------------------------------------
# The dataclasses


@dataclass(frozen=True)
class ValueType:
    key: str
    kind: str  # "integer" | "decimal"
    minimum: int
    decimals: int
    unit: str
    prompt_title: str
    prompt: str
    error_title: str
    error: str
    maximum: int = 10**9  # every value is bounded before arithmetic (see xlsx_tools/numbers.py)
    precision_note: str = ""  # what the last decimal place means ("精确到分：…")


@dataclass(frozen=True)
class Section:
    number: str
    heading: str
    kind: str  # "narrative" | "table"
    key: str  # narrative key, or table key
    required: bool


@dataclass(frozen=True)
class HeaderCell:
    """A label cell of a table grid; row/col are 0-based sheet coordinates."""

    text: str
    role: str  # "title" | "corner" | "column" | "row"
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1

    @property
    def ref(self) -> str:
        return a1_range(self.row, self.col, self.rowspan, self.colspan)

    @property
    def merged(self) -> bool:
        return self.rowspan > 1 or self.colspan > 1


@dataclass(frozen=True)
class Field:
    """One number of the report."""

    id: str
    table: str  # table key, e.g. "t3"
    table_name: str  # "三"
    sheet: str
    row: int  # 0-based sheet coordinates of the (first) cell
    col: int
    colspan: int
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    type: ValueType
    input: bool = True

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)

    @property
    def ref(self) -> str:
        return a1_range(self.row, self.col, 1, self.colspan)

    @property
    def name(self) -> str:
        return defined_name("", self.id)

    # the keyed part of the column path, for messages ("自然人", "未经复议直接起诉 结果维持")
    column_short: str = ""

    @property
    def label(self) -> str:
        """Row and column labels for messages: 「5.属于三类内部事务信息」自然人."""
        if not self.row_labels:  # 表四 has no row labels: 「行政复议 总计」
            return f"「{self.column_short}」"
        return f"「{self.row_labels[-1]}」{self.column_short}"

    @property
    def where(self) -> str:
        """Human address: 表三 第12行「5.属于三类内部事务信息」自然人（D12）."""
        return f"{self.sheet} 第{self.row + 1}行{self.label}（{self.cell}）"


@dataclass(frozen=True)
class Table:
    key: str
    name: str
    section: str
    sheet: str
    heading: str
    grid_columns: int
    grid_rows: int
    origin_row: int
    origin_col: int
    font_size: float
    header_rows: tuple[int, ...]  # sheet rows (0-based) that form the repeated column header
    cells: tuple[HeaderCell, ...]
    fields: tuple[Field, ...]
    # (key path, display label) of the leaf rows and columns, for rules' for_each
    row_keys: tuple[tuple[str, str], ...] = ()
    column_keys: tuple[tuple[str, str], ...] = ()
    # key path of every keyed header node (block.row / column) -> its display label
    node_labels: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def ref(self) -> str:
        return a1_range(self.origin_row, self.origin_col, self.grid_rows, self.grid_columns)

    @property
    def merges(self) -> tuple[str, ...]:
        out = [c.ref for c in self.cells if c.merged]
        out += [f.ref for f in self.fields if f.colspan > 1]
        return tuple(out)


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
class Term:
    sign: int  # +1 or -1
    field: str | None = None  # None for a constant
    previous: bool = False
    constant: int = 0


@dataclass(frozen=True)
class RuleResult:
    left: Number
    right: Number
    diff: Number
    ok: bool


_OPS = {
    "=": lambda a, b: a == b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Rule:
    """One instance of a rule of the format file (for_each already expanded)."""

    code: str
    severity: str  # "error" | "warning"
    title: str
    message_template: str
    expr: str  # the expanded expression with field ids
    op: str
    left: tuple[Term, ...]
    right: tuple[Term, ...]
    label: str  # what the for_each placeholder is bound to, in Chinese ("自然人")
    computes: bool = False
    # this instance follows from the other instances of the same rule (the 总计 column's balance
    # from the other columns'): checks report it only when all of those hold
    implied: bool = False

    @property
    def cross_year(self) -> bool:
        return any(t.previous for t in self.left + self.right)

    @property
    def target(self) -> str | None:
        """The computed field, for a rule that computes one."""
        return self.left[0].field if self.computes else None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field of this year's report involved, left side first, without repeats."""
        seen: dict[str, None] = {}
        for t in self.left + self.right:
            if t.field and not t.previous:
                seen.setdefault(t.field)
        return tuple(seen)

    @property
    def previous_fields(self) -> tuple[str, ...]:
        return tuple(t.field for t in self.left + self.right if t.field and t.previous)

    def evaluate(
        self,
        values: Mapping[str, Number | None],
        previous: Mapping[str, Number | None] | None = None,
    ) -> RuleResult | None:
        """Both sides and whether the rule holds; None when a value it needs is missing."""
        sides = []
        for side in (self.left, self.right):
            total: Number = 0
            for t in side:
                if t.field is None:
                    v: Number | None = t.constant
                elif t.previous:
                    if previous is None:
                        return None
                    v = previous.get(t.field)
                else:
                    v = values.get(t.field)
                if v is None:
                    return None
                total += t.sign * v
            sides.append(total)
        left, right = sides
        return RuleResult(left, right, left - right, _OPS[self.op](left, right))

    def message(self, result: RuleResult) -> str:
        return self.message_template.format(
            label=self.label, left=fmt_number(result.left), right=fmt_number(result.right),
            diff=fmt_number(abs(result.diff)),
        )


@dataclass(frozen=True)
class TextCheck:
    code: str
    section: str
    pattern: re.Pattern[str]
    zero_pattern: re.Pattern[str] | None
    terms: tuple[Term, ...]
    title: str
    message_template: str

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(t.field for t in self.terms if t.field)


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


def fmt_number(v: Number | None) -> str:
    """A figure as people write it: integers plain, decimals without float noise or trailing zeros."""
    if v is None:
        return "（空）"
    return plain(v)


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


@functools.cache
def load_format(format_id: str = DEFAULT_FORMAT) -> FormatSpec:
    """The format `format_id` (a file name in templates/, without .toml): its tables, fields,
    rules and texts. Cached: the same FormatSpec object for the same id. FormatError if unknown."""
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
    return _build(data, fingerprint=hashlib.sha256(raw).hexdigest()[:16], source=str(path))


def _build(data: dict, fingerprint: str, source: str) -> FormatSpec:
    fmt = data["format"]
    types = {
        key: ValueType(
            key=key, kind=t["kind"], minimum=t.get("minimum", 0), maximum=t.get("maximum", 10**9),
            decimals=t.get("decimals", 0), precision_note=t.get("precision_note", ""),
            unit=t.get("unit", ""), prompt_title=t.get("prompt_title", ""), prompt=t.get("prompt", ""),
            error_title=t.get("error_title", ""), error=t.get("error", ""),
        )
        for key, t in data["types"].items()
    }
    sections = tuple(
        Section(
            number=s["number"], heading=s["heading"], kind=s["kind"],
            key=s.get("key") or s.get("table", ""), required=s.get("required", False),
        )
        for s in data["sections"]
    )
    headings = {s.key: s.heading for s in sections if s.kind == "table"}
    tables = tuple(_build_table(t, types, headings.get(t["key"], "")) for t in data["tables"])

    info = data["info"]
    r0, c0 = parse_a1(info.get("origin", "A3"))
    info_fields = tuple(
        InfoField(
            key=f["key"], label=f["label"], locked=f.get("locked", False), prompt=f.get("prompt", ""),
            sheet=info["sheet"], row=r0 + i, col=c0 + 1,
        )
        for i, f in enumerate(info["fields"])
    )
    narr = data["narrative"]
    r0, c0 = parse_a1(narr.get("origin", "A3"))
    parts = tuple(
        NarrativePart(
            section=p["section"], key=p["key"], label=p["label"], hint=p.get("hint", ""),
            sheet=narr["sheet"], row=r0 + i, col=c0 + 1,
        )
        for i, p in enumerate(narr["parts"])
    )

    by_id: dict[str, Field] = {}
    for t in tables:
        for f in t.fields:
            if f.id in by_id:
                raise FormatError(f"duplicate field id {f.id}")
            by_id[f.id] = f

    rules = tuple(itertools.chain.from_iterable(_expand_rule(r, tables, by_id) for r in data.get("rules", [])))
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
            terms=_parse_side(tc["expr"], by_id), title=tc["title"], message_template=tc["message"],
        )
        for tc in data.get("text_checks", [])
    )
    return FormatSpec(
        id=fmt["id"], version=str(fmt["version"]), title=fmt["title"], document=fmt["document"],
        report_title=fmt["report_title"], preamble=tuple(fmt.get("preamble", ())), fingerprint=fingerprint, source=source,
        sections=sections, types=types, info_sheet=info["sheet"], info_title=info.get("title", info["sheet"]),
        info_fields=info_fields, narrative_sheet=narr["sheet"], narrative_title=narr.get("title", narr["sheet"]),
        narrative_parts=parts, tables=tables, rules=rules, text_checks=text_checks, _by_id=by_id,
    )


# -- header trees -> grid


@dataclass
class _Node:
    label: str | None
    key: str | None
    span: int
    children: list[_Node]

    @property
    def leaves(self) -> list[_Node]:
        if not self.children:
            return [self]
        return [leaf for c in self.children for leaf in c.leaves]

    @property
    def width(self) -> int:
        return sum(leaf.span for leaf in self.leaves)

    @property
    def depth(self) -> int:
        return 1 + max((c.depth for c in self.children), default=0)


def _nodes(items: Iterable[dict]) -> list[_Node]:
    return [
        _Node(label=i.get("label"), key=i.get("key"), span=i.get("span", 1), children=_nodes(i.get("children", [])))
        for i in items
    ]


def _leaf_paths(nodes: list[_Node], prefix: tuple[_Node, ...] = ()) -> list[tuple[_Node, ...]]:
    out = []
    for n in nodes:
        path = prefix + (n,)
        out.extend(_leaf_paths(n.children, path) if n.children else [path])
    return out


def _key_path(path: tuple[_Node, ...]) -> str:
    return ".".join(n.key for n in path if n.key)


def _label_path(path: tuple[_Node, ...]) -> tuple[str, ...]:
    return tuple(n.label for n in path if n.label)


def _place_columns(nodes: list[_Node], depth: int, col: int, top: int, col_depth: int,
                   out: list[HeaderCell]) -> None:
    """Column header: a node on header row `depth` spans its leaves; a leaf above the last header
    row spans down to it (自然人 D2:D3)."""
    for n in nodes:
        rowspan = 1 if n.children else col_depth - depth
        out.append(HeaderCell(n.label or "", "column", top + depth, col, rowspan, n.width))
        if n.children:
            _place_columns(n.children, depth + 1, col, top, col_depth, out)
        col += n.width


def _place_rows(nodes: list[_Node], depth: int, row: int, left: int, row_width: int,
                out: list[HeaderCell]) -> None:
    """Row labels: a node in label column `depth` spans its leaves' rows; a leaf left of the last
    label column spans across to it (（一）予以公开 B6:C6)."""
    for n in nodes:
        height = len(n.leaves)
        if n.label:
            colspan = 1 if n.children else row_width - depth
            out.append(HeaderCell(n.label, "row", row, left + depth, height, colspan))
        if n.children:
            _place_rows(n.children, depth + 1, row, left, row_width, out)
        row += height


def _build_table(t: dict, types: Mapping[str, ValueType], heading: str) -> Table:
    origin_row, origin_col = parse_a1(t.get("origin", "A1"))
    width = t["grid_columns"]
    cells: list[HeaderCell] = []
    fields: list[Field] = []
    header_rows: list[int] = []
    row_keys: dict[str, str] = {}
    column_keys: dict[str, str] = {}
    node_labels: dict[str, str] = {}
    row = origin_row
    for block in t["blocks"]:
        bkey = block.get("key")
        vtype = types[block["type"]]
        cols = _nodes(block["columns"])
        rows = _nodes(block["rows"])
        col_depth = max(n.depth for n in cols)
        row_depth = max((n.depth for n in rows if n.label), default=0)
        row_width = row_depth  # one grid column per row-label level
        data_width = sum(n.width for n in cols)
        if row_width + data_width != width:
            raise FormatError(f"table {t['key']}: block {bkey or ''} is {row_width + data_width} columns wide, not {width}")
        title_label: tuple[str, ...] = ()
        if block.get("title"):
            cells.append(HeaderCell(block["title"], "title", row, origin_col, 1, width))
            title_label = (block["title"],)
            row += 1
        # the column header
        if not block.get("title"):
            header_rows.extend(range(row, row + col_depth))
        if row_width and block.get("corner"):
            cells.append(HeaderCell(block["corner"], "corner", row, origin_col, col_depth, row_width))

        _place_columns(cols, 0, origin_col + row_width, row, col_depth, cells)
        row += col_depth
        body_top = row

        _place_rows(rows, 0, body_top, origin_col, row_width, cells)
        col_paths = _leaf_paths(cols)
        for paths, index in ((_leaf_paths(rows), row_keys), (col_paths, column_keys)):
            for path in paths:
                kp = _key_path(path)
                # display label: the keyed part of the path ("（三）不予公开 1.属于国家秘密")
                index.setdefault(kp, " ".join(n.label for n in path if n.key and n.label))
                for depth in range(1, len(path) + 1):
                    sub = path[:depth]
                    if sub[-1].key and sub[-1].label:
                        node_labels.setdefault(_key_path(sub), sub[-1].label)
        for i, rpath in enumerate(_leaf_paths(rows)):
            c = origin_col + row_width
            for cpath in col_paths:
                parts = [t["key"], bkey, _key_path(rpath), _key_path(cpath)]
                fid = ".".join(p for p in parts if p)
                span = cpath[-1].span
                fields.append(Field(
                    id=fid, table=t["key"], table_name=t["name"], sheet=t["sheet"], row=body_top + i, col=c,
                    colspan=span, row_labels=title_label + _label_path(rpath), column_labels=_label_path(cpath),
                    type=vtype, column_short=" ".join(n.label for n in cpath if n.key and n.label),
                ))
                c += span
        row = body_top + len(_leaf_paths(rows))
    return Table(
        key=t["key"], name=t["name"], section=t["section"], sheet=t["sheet"], heading=heading,
        grid_columns=width, grid_rows=row - origin_row, origin_row=origin_row, origin_col=origin_col,
        font_size=t.get("font_size", 10.5), header_rows=tuple(header_rows), cells=tuple(cells), fields=tuple(fields),
        row_keys=tuple(row_keys.items()), column_keys=tuple(column_keys.items()), node_labels=node_labels,
    )


# -- rules

_TERM_RE = re.compile(r"\s*([+-])?\s*([A-Za-z0-9_.*]+)\s*")


def _parse_side(text: str, by_id: Mapping[str, Field]) -> tuple[Term, ...]:
    terms: list[Term] = []
    pos = 0
    text = text.strip()
    first = True
    while pos < len(text):
        m = _TERM_RE.match(text, pos)
        if not m or (not first and not m.group(1)):
            raise FormatError(f"cannot parse expression side {text!r} at {pos}")
        sign = -1 if m.group(1) == "-" else 1
        tok = m.group(2)
        pos = m.end()
        first = False
        if tok.isdigit():
            terms.append(Term(sign=sign, constant=int(tok)))
            continue
        previous = tok.startswith("prev.")
        if previous:
            tok = tok[len("prev."):]
        if "*" in tok:
            rx = re.compile("^" + re.escape(tok).replace(r"\*", r"[^.]+") + "$")
            matches = [fid for fid in by_id if rx.match(fid)]
            if not matches:
                raise FormatError(f"pattern {tok!r} matches no field")
            terms.extend(Term(sign=sign, field=fid, previous=previous) for fid in matches)
        else:
            if tok not in by_id:
                raise FormatError(f"unknown field {tok!r} in expression {text!r}")
            terms.append(Term(sign=sign, field=tok, previous=previous))
    return tuple(terms)


def _domain(spec: str | list, tables: tuple[Table, ...]) -> list[tuple[str, str]]:
    """(id fragment, Chinese label) pairs a for_each placeholder ranges over."""
    if isinstance(spec, list):
        for frag in spec:
            for t in tables:
                if frag in t.node_labels:
                    break
            else:
                raise FormatError(f"for_each fragment {frag!r} names no row or column")
        return [(frag, next(t.node_labels[frag] for t in tables if frag in t.node_labels)) for frag in spec]
    kind, _, tkey = spec.partition(":")
    table = next((t for t in tables if t.key == tkey), None)
    if table is None or kind not in ("rows", "columns"):
        raise FormatError(f"unknown for_each domain {spec!r}")
    return list(table.row_keys if kind == "rows" else table.column_keys)


def _expand_rule(r: dict, tables: tuple[Table, ...], by_id: Mapping[str, Field]) -> list[Rule]:
    expr = r["expr"]
    m = re.match(r"^(.*?)(<=|>=|=)(.*)$", expr)
    if not m:
        raise FormatError(f"rule {r['code']}: no comparison in {expr!r}")
    for_each = r.get("for_each", {})
    names = list(for_each)
    domains = [_domain(for_each[n], tables) for n in names]
    implied = r.get("implied", {})
    if not isinstance(implied, dict) or any(n not in names or not isinstance(v, list) for n, v in implied.items()):
        raise FormatError(f"rule {r['code']}: implied must bind for_each placeholders to lists of fragments")
    out = []
    for combo in itertools.product(*domains) if names else [()]:
        binding = {n: frag for n, (frag, _) in zip(names, combo, strict=True)}
        label = " ".join(lbl for _, lbl in combo)
        left_s, right_s = m.group(1), m.group(3)
        for n, frag in binding.items():
            left_s = left_s.replace("{" + n + "}", frag)
            right_s = right_s.replace("{" + n + "}", frag)
        left = _parse_side(left_s, by_id)
        right = _parse_side(right_s, by_id)
        computes = r.get("computes", False)
        if computes and (len(left) != 1 or left[0].field is None or left[0].previous):
            raise FormatError(f"rule {r['code']}: a computing rule needs one field on the left")
        out.append(Rule(
            code=r["code"], severity=r["severity"], title=r["title"], message_template=r["message"],
            expr=f"{left_s.strip()} {m.group(2)} {right_s.strip()}", op=m.group(2), left=left, right=right,
            label=label, computes=computes,
            implied=bool(implied) and all(binding[n] in frags for n, frags in implied.items()),
        ))
    return out
