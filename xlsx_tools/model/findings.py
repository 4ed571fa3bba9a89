"""Findings: what a check says about a report, as data. The CLI table, the JSON and the Excel
problem list are all rendered from a Finding; nothing here prints or raises on bad content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "警告"}
# on paper (问题通知, 问题清单): single-cell findings of one kind on one sheet make one row from
# this many on, naming this many of the cells
GROUP_AT = 4
GROUP_LIST = 12


@dataclass(frozen=True)
class Finding:
    code: str  # stable machine code: T3_BALANCE, FORMULA_OVERWRITTEN, UNREADABLE, ...
    severity: str  # ERROR | WARNING
    message: str  # Chinese, says what to fix
    cells: tuple[str, ...] = ()  # "表三!D12", every cell the rule involves
    fields: tuple[str, ...] = ()  # field ids of those cells
    values: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"left": 5, "right": 4, "diff": 1}
    labels: tuple[str, ...] = ()  # human addresses: 表三 第12行「5.属于三类内部事务信息」自然人（D12）
    title: str = ""  # the rule's Chinese title
    expr: str = ""  # the rule's expression with field ids

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "cells": list(self.cells),
            "fields": list(self.fields),
            "values": {k: _plain(v) for k, v in self.values.items()},
            "labels": list(self.labels),
            "title": self.title,
            "expr": self.expr,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            code=d["code"], severity=d["severity"], message=d["message"], cells=tuple(d.get("cells", ())),
            fields=tuple(d.get("fields", ())), values=dict(d.get("values", {})), labels=tuple(d.get("labels", ())),
            title=d.get("title", ""), expr=d.get("expr", ""),
        )


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def count(findings: Iterable[Finding]) -> tuple[int, int]:
    """(errors, warnings)."""
    e = w = 0
    for f in findings:
        if f.is_error:
            e += 1
        else:
            w += 1
    return e, w


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """The order findings are shown and written in: errors first, otherwise in the order they were
    found (file → identity → structure → values → rules → narrative)."""
    return sorted(findings, key=lambda f: 0 if f.is_error else 1)


def sort_key(f: Finding) -> tuple:
    return (0 if f.is_error else 1, f.cells[:1], f.code)


def _kind_on_sheet(f: Finding) -> tuple[str, str, str] | None:
    """(code, severity, sheet) of a finding about one cell, None for any other."""
    if len(f.cells) == 1 and "!" in f.cells[0]:
        return f.code, f.severity, f.cells[0].split("!")[0]
    return None


def condensed(findings: Sequence[Finding], at: int) -> list[list[Finding]]:
    """The findings for display, in their order, as groups: the single-cell findings of one code
    and severity on one sheet, when there are `at` or more of them, make one group at the place of
    the first (an untouched template sent back has 166 blank cells, which read better as one row
    per sheet); every other finding is a group of its own. Shared by the console, the 问题通知 and
    问题清单; the JSON keeps every finding."""
    kinds: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        key = _kind_on_sheet(f)
        if key is not None:
            kinds.setdefault(key, []).append(f)
    out: list[list[Finding]] = []
    done: set[int] = set()
    for f in findings:
        if id(f) in done:
            continue
        key = _kind_on_sheet(f)
        group = kinds[key] if key is not None and len(kinds[key]) >= at else [f]
        done.update(id(g) for g in group)
        out.append(group)
    return out


def group_cells(group: Sequence[Finding]) -> tuple[str, list[str]]:
    """(sheet, cells without the sheet) of a group of single-cell findings on one sheet."""
    return group[0].cells[0].split("!")[0], [g.cells[0].split("!", 1)[1] for g in group]


def named_cells(cells: Sequence[str], limit: int, sep: str = "、") -> str:
    """"D4、E4、…、P4 等 144 处": the first `limit` cells and, when there are more, the count."""
    return sep.join(cells[:limit]) + (f" 等 {len(cells)} 处" if len(cells) > limit else "")
