"""Rules and text checks of the format file: expressions over field ids, for_each expanded into
one Rule per row or column, evaluated on a report's values."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import FormatError
from .grid import Field, Table
from .numbers import Number, fmt_number


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



_TERM_RE = re.compile(r"\s*([+-])?\s*([A-Za-z0-9_.*]+)\s*")


def parse_side(text: str, by_id: Mapping[str, Field]) -> tuple[Term, ...]:
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


def expand_rule(r: dict, tables: tuple[Table, ...], by_id: Mapping[str, Field]) -> list[Rule]:
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
        left = parse_side(left_s, by_id)
        right = parse_side(right_s, by_id)
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
