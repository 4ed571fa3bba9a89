"""A table of the format file as a grid: header trees placed on sheet rows and columns (merged
label cells), and one Field per number with its stable id and cell address."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .cells import a1, a1_range, defined_name, parse_a1
from .errors import FormatError


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
    instruction: str = ""  # the template's one-clause instruction for this type ("收费金额以万元为单位")
    noun: str = ""  # what a value of this type is called in messages ("件数", "金额")



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



@dataclass
class _Node:
    label: str | None
    key: str | None
    span: int
    children: list[_Node]
    type: str | None = None  # a column's own value type, where it differs from its block's

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
        _Node(label=i.get("label"), key=i.get("key"), span=i.get("span", 1), children=_nodes(i.get("children", [])),
              type=i.get("type"))
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


def build_table(t: dict, types: Mapping[str, ValueType], heading: str) -> Table:
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
                    type=types[cpath[-1].type] if cpath[-1].type else vtype, column_short=" ".join(n.label for n in cpath if n.key and n.label),
                ))
                c += span
        row = body_top + len(_leaf_paths(rows))
    return Table(
        key=t["key"], name=t["name"], section=t["section"], sheet=t["sheet"], heading=heading,
        grid_columns=width, grid_rows=row - origin_row, origin_row=origin_row, origin_col=origin_col,
        font_size=t.get("font_size", 10.5), header_rows=tuple(header_rows), cells=tuple(cells), fields=tuple(fields),
        row_keys=tuple(row_keys.items()), column_keys=tuple(column_keys.items()), node_labels=node_labels,
    )
