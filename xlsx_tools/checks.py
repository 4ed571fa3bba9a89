"""The checks of a Report against its format file: value domains, every rule (FORMAT-2021.md §3.1
as errors, §3.2 as warnings, cross-year ones when last year's report is given), required narrative
sections, and numbers stated in the narrative against the tables. Small independent checks whose
findings accumulate; nothing here knows a label or a cell by heart.

Codes: BLANK, NEGATIVE, NUMBER_TOO_LARGE, NOT_INTEGER, TOO_MANY_DECIMALS, TOO_MANY_DIGITS (value
domains, for Reports that did not come through the reader, e.g. JSON); every rule code of the format file; NARRATIVE_EMPTY;
every text-check code of the format file; PREV_OTHER_FORMAT, PREV_OTHER_YEAR, PREV_OTHER_AGENCY
(warnings: last year's report does not fit, cross-year rules skipped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from itertools import compress, repeat
from operator import is_not

from .format.cells import a1
from .format.grid import Field
from .format.numbers import Number, NumberError, fmt_number
from .format.rules import Rule, RuleResult, TextCheck
from .format.spec import FormatSpec
from .model.findings import ERROR, WARNING, Finding
from .model.identity import same_agency
from .model.report import Report
from .util.memo import derived, table_for

# ---------------------------------------------------------------------------------------------
# Value domains


def cell_ref(f: Field, sheet: str | None = None, cell: str | None = None) -> str:
    """"表三!D12" for a field (or for where it really is, when a workbook moved it)."""
    return f"{sheet or f.sheet}!{cell or f.cell}"


def decimal_places(v: Decimal) -> int:
    exp = v.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


# One wording for a blank input cell, whether read from a workbook or from a report JSON.
BLANK_TAIL = "没有填写。官方表格中没有发生的情况填 0，请补填数字。"


def domain_problem(f: Field, v: Number) -> tuple[str, str] | None:
    """(code, message tail) when a number does not fit its field's type, else None."""
    t = f.type
    if v < t.minimum:
        return "NEGATIVE", f"填写了负数 {fmt_number(v)}，{t.noun}不能为负数，请改正（没有的填 0）。"
    if v > t.maximum:
        return too_large(f, fmt_number(v))
    if t.kind == "integer":
        if isinstance(v, Decimal) and v != v.to_integral_value():
            return not_integer(f, fmt_number(v))
    elif isinstance(v, Decimal) and decimal_places(v) > t.decimals:
        return too_many_decimals(f, fmt_number(v))
    return None


def too_large(f: Field, shown: str) -> tuple[str, str]:
    t = f.type
    return "NUMBER_TOO_LARGE", f"填写了 {shown}，数字过大（{t.noun}上限为 {fmt_number(t.maximum)} {t.unit}），请核对。"


def not_integer(f: Field, shown: str) -> tuple[str, str]:
    return "NOT_INTEGER", f"填写了 {shown}，这里是{f.type.unit or ''}数，只能填整数，请改正。"


def too_many_decimals(f: Field, shown: str) -> tuple[str, str]:
    t = f.type
    note = f"（{t.precision_note}）" if t.precision_note else ""
    return "TOO_MANY_DECIMALS", (
        f"填写了 {shown}，单位为{t.unit}，最多保留 {t.decimals} 位小数{note}，请核对后改正（不要四舍五入成别的数）。"
    )


def number_problem(f: Field, err: NumberError) -> tuple[str, str]:
    """(code, message tail) for a numeric text refused before it became a number (numbers.py)."""
    if err.kind == "large":
        return too_large(f, err.shown)
    if err.kind == "precise":
        return not_integer(f, err.shown) if f.type.kind == "integer" else too_many_decimals(f, err.shown)
    if err.kind == "long":
        return "TOO_MANY_DIGITS", f"填写了 {err.shown}，数字位数过多，请核对（没有的填 0）。"
    return "NOT_A_NUMBER", f"填写了“{err.shown}”，请改为数字（没有的填 0）。"


def value_finding(code: str, severity: str, f: Field, tail: str, raw, *, sheet: str | None = None,
                  cell: str | None = None, row: int | None = None, col: int | None = None,
                  **extra) -> Finding:
    """A finding about one cell's value; the message starts with where the cell is."""
    where = field_where(f, sheet, row, col)
    return Finding(
        code=code, severity=severity, message=f"{where}{tail}", cells=(cell_ref(f, sheet, cell),),
        fields=(f.id,), values={"value": raw, **extra}, labels=(where,),
    )


def field_where(f: Field, sheet: str | None = None, row: int | None = None, col: int | None = None) -> str:
    """Field.where, but at the cell the workbook really holds the value in (rows may have moved)."""
    if sheet is None and row is None and col is None:
        return f.where
    r = f.row if row is None else row
    c = f.col if col is None else col
    return f"{sheet or f.sheet} 第{r + 1}行{f.label}（{a1(r, c)}）"


def check_values(spec: FormatSpec, figures: Mapping[str, Number | None]) -> list[Finding]:
    """Blank inputs and numbers outside their domain (a Report from JSON or built in code)."""
    out = []
    for f in spec.input_fields:
        v = figures.get(f.id)
        if v is None:
            out.append(value_finding("BLANK", ERROR, f, BLANK_TAIL, None))
            continue
        problem = domain_problem(f, v)
        if problem:
            out.append(value_finding(problem[0], ERROR, f, problem[1], v))
    return out


def valid_values(spec: FormatSpec, figures: Mapping[str, Number | None]) -> dict[str, Number | None]:
    """The figures with every value outside its domain replaced by None, so that a rule whose
    inputs are invalid is not evaluated (the value findings already say what is wrong)."""
    fields, _, plans = _derived(spec)
    keys = tuple(figures)
    plan = plans.get(keys, _UNSEEN)
    if plan is _UNSEEN:
        if len(plans) > 16:
            plans.clear()
        plan = plans[keys] = _plan(spec, fields, keys)
    values = list(figures.values())
    rest: Iterable[int] = range(len(values))
    if plan is not None:
        # the figures known to fit their fields, at once: the lookup _valid makes (a table holds
        # ints and finite Decimals; a value equal to one of them fits as it does); the others one
        # by one, as below
        tables = plan[1]
        try:
            fits = list(map(dict.get, tables, values))
        except TypeError:  # a value that cannot be hashed (a signalling NaN): all one by one
            pass
        else:
            rest = compress(rest, map(is_not, fits, repeat(True)))
    out = dict(figures)
    for i in rest:
        v = values[i]
        if v is None:
            continue
        entry = plan[0][i] if plan is not None else _entry(spec, fields, keys[i])
        if entry is None:
            continue
        ok = entry[1].get(v) if type(v) is int else None  # (_valid's usual case, without the call)
        if ok is None:
            ok = _valid(entry, v)
        if not ok:
            out[keys[i]] = None
    return out


def _entry(spec: FormatSpec, fields: dict, fid: str) -> tuple[Field, dict[Number, bool]] | None:
    """The _validity entry of a field id (None for an id the format does not have), kept in `fields`."""
    entry = fields.get(fid, _UNSEEN)
    if entry is _UNSEEN:
        if len(fields) > 4096:
            fields.clear()
        entry = fields[fid] = _validity(spec.field(fid)) if spec.has_field(fid) else None
    return entry


def _plan(spec: FormatSpec, fields: dict, keys: tuple[str, ...]) -> tuple[list, list] | None:
    """The _validity entry of each field id in `keys` and its table; None when one is not a field
    of the format."""
    entries = [_entry(spec, fields, fid) for fid in keys]
    return None if None in entries else (entries, [entry[1] for entry in entries])


# What the checks derive from a spec, once per spec object (util.memo.derived): ({field id: its
# entry of _validity, or None for an id the format does not have}, ((Rule, whether it is cross-year), ...),
# {the field ids of a set of figures, in order: _plan of them})
_SPECS: dict[int, tuple[FormatSpec, tuple[dict, tuple[tuple[Rule, bool], ...], dict]]] = {}
_UNSEEN = object()


def _derived(spec: FormatSpec) -> tuple[dict, tuple[tuple[Rule, bool], ...], dict]:
    return derived(_SPECS, spec, lambda spec: ({}, tuple((rule, rule.cross_year) for rule in spec.rules), {}))


# id of a ValueType -> (the type, {value: whether domain_problem finds nothing}): whether a value
# fits its field depends only on the field's type and on the value (1, Decimal("1.0") and
# Decimal("1.00") alike), and a reader checks the same few values in every file
_VALIDITY: dict[int, tuple[object, dict[Number, bool]]] = {}


def _validity(f: Field) -> tuple[Field, dict[Number, bool]]:
    """(f, the known validities of values of f's type)."""
    return f, table_for(_VALIDITY, f.type)


def _valid(entry: tuple[Field, dict[Number, bool]], v: Number) -> bool:
    """Whether domain_problem finds nothing wrong with `v` in the field of `entry` (_validity)."""
    f, known = entry
    if type(v) is not int and not (type(v) is Decimal and v.is_finite()):
        return domain_problem(f, v) is None
    ok = known.get(v)
    if ok is None:
        if len(known) > 1 << 16:
            known.clear()
        ok = known[v] = domain_problem(f, v) is None
    return ok


# ---------------------------------------------------------------------------------------------
# Rules


def rule_finding(spec: FormatSpec, rule: Rule, left: Number, right: Number, diff: Number) -> Finding:
    fields = [spec.field(fid) for fid in rule.fields]
    return Finding(
        code=rule.code, severity=rule.severity,
        message=rule.message(RuleResult(left, right, diff, False)),
        cells=tuple(cell_ref(f) for f in fields),
        fields=tuple(f.id for f in fields) + tuple(f"prev.{fid}" for fid in rule.previous_fields),
        values={"left": left, "right": right, "diff": diff},
        labels=tuple(f.where for f in fields), title=rule.title, expr=rule.expr,
    )


def check_rules(spec: FormatSpec, figures: Mapping[str, Number | None],
                previous: Mapping[str, Number | None] | None = None) -> list[Finding]:
    """Every rule of the format whose values are all present; cross-year rules only with
    `previous` (last year's figures)."""
    return _check_rules(spec, valid_values(spec, figures), previous)


def _check_rules(spec: FormatSpec, values: Mapping[str, Number | None],
                 previous: Mapping[str, Number | None] | None) -> list[Finding]:
    """check_rules with the figures already through valid_values."""
    prev = valid_values(spec, previous) if previous is not None else None
    out = []
    unsettled: set[str] = set()  # codes with an instance that fails or cannot be evaluated
    implied = []
    for rule, cross_year in _derived(spec)[1]:
        if cross_year and prev is None:
            continue
        res = rule.evaluate(values, prev)
        if rule.implied:
            implied.append((rule, res))
            continue
        if res is None or not res.ok:
            unsettled.add(rule.code)
        if res is None or res.ok:
            continue
        out.append(rule_finding(spec, rule, res.left, res.right, res.diff))
    # An implied instance (the 总计 column's balance) is said only when every other instance of
    # its rule holds: otherwise it repeats the finding of the column that is wrong.
    for rule, res in implied:
        if res is not None and not res.ok and rule.code not in unsettled:
            out.append(rule_finding(spec, rule, res.left, res.right, res.diff))
    return out


def previous_problem(report: Report, previous: Report) -> Finding | None:
    """Why last year's report cannot be compared with this one (a warning), or None."""
    if previous.format != report.format:
        return Finding(
            "PREV_OTHER_FORMAT", WARNING,
            f"用于比对的上一年度报告格式为 {previous.format}，与本报告（{report.format}）不同，未做跨年度核对。",
            values={"previous_format": previous.format, "format": report.format},
        )
    if previous.year != report.year - 1:
        return Finding(
            "PREV_OTHER_YEAR", WARNING,
            f"用于比对的报告是 {previous.year} 年度的，不是上一年度（{report.year - 1} 年），未做跨年度核对。",
            values={"previous_year": previous.year, "expected": report.year - 1},
        )
    if not same_agency(report.agency.name, report.agency.code, previous.agency.name, previous.agency.code):
        return Finding(
            "PREV_OTHER_AGENCY", WARNING,
            f"用于比对的上一年度报告属于「{previous.agency.name}」，不是「{report.agency.name}」，未做跨年度核对。",
            values={"previous_agency": previous.agency.name, "agency": report.agency.name},
        )
    return None


# ---------------------------------------------------------------------------------------------
# Narrative


def check_narrative(spec: FormatSpec, narrative: Mapping[str, str]) -> list[Finding]:
    """An error for every required narrative section left empty: a report without it cannot be
    published (the same severity in check, collect and docx)."""
    out = []
    for s in spec.narrative_sections:
        if not s.required or (narrative.get(s.key) or "").strip():
            continue
        parts = [p for p in spec.narrative_parts if p.section == s.key]
        out.append(Finding(
            code="NARRATIVE_EMPTY", severity=ERROR,
            message=(f"报告第{s.number}部分「{s.heading}」没有填写内容。这一部分必须填写，缺少它报告不能发布："
                     f"请在「{spec.narrative_sheet}」工作表中补充。"),
            cells=tuple(f"{p.sheet}!{p.cell}" for p in parts),
            labels=tuple(f"{p.sheet}「{p.label}」（{p.cell}）" for p in parts),
            values={"section": s.key}, title=s.heading,
        ))
    return out


_SENTENCE_END = re.compile(r"(?<=[。；;！!？?\n])")


def sentences(text: str) -> list[str]:
    """Split at 。；！？ (and line breaks), keeping the punctuation with its sentence."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s.strip()]


MAX_STATED_DIGITS = 12


def stated_counts(tc: TextCheck, text: str) -> Iterable[tuple[str, int]]:
    """(sentence, number) for every statement of this check's count in `text`."""
    return _stated_counts(tc, sentences(text))


def _stated_counts(tc: TextCheck, split: list[str]) -> Iterable[tuple[str, int]]:
    """stated_counts of a text already split into its sentences."""
    for sentence in split:
        found = False
        for m in tc.pattern.finditer(sentence):
            try:
                digits = m.group(1)
                if len(digits) > MAX_STATED_DIGITS:  # no count is that long: not compared, never converted
                    continue
                yield sentence, int(digits)
            except (IndexError, ValueError, TypeError):
                continue
            found = True
        if not found and tc.zero_pattern is not None and tc.zero_pattern.search(sentence):
            yield sentence, 0


def check_text(spec: FormatSpec, figures: Mapping[str, Number | None], narrative: Mapping[str, str]) -> list[Finding]:
    """Numbers stated in the narrative against the table cells that hold them (warnings)."""
    return _check_text(spec, valid_values(spec, figures), narrative)


def _check_text(spec: FormatSpec, values: Mapping[str, Number | None], narrative: Mapping[str, str]) -> list[Finding]:
    """check_text with the figures already through valid_values."""
    out = []
    split: dict[str, list[str]] = {}  # section -> its sentences (the checks of a section share them)
    for tc in spec.text_checks:
        text = narrative.get(tc.section) or ""
        if not text:
            continue
        table: Number = 0
        for t in tc.terms:
            v = t.constant if t.field is None else values.get(t.field)
            if v is None:
                break
            table += t.sign * v
        else:
            fields = [spec.field(fid) for fid in tc.fields]
            if tc.section not in split:
                split[tc.section] = sentences(text)
            for sentence, stated in _stated_counts(tc, split[tc.section]):
                if stated == table:
                    continue
                quoted = sentence.rstrip("。；;！!？?\n")
                out.append(Finding(
                    code=tc.code, severity=WARNING,
                    message=tc.message_template.format(sentence=quoted, stated=stated, table=fmt_number(table)),
                    cells=tuple(cell_ref(f) for f in fields), fields=tuple(f.id for f in fields),
                    values={"stated": stated, "table": table, "diff": stated - table, "sentence": sentence},
                    labels=tuple(f.where for f in fields), title=tc.title,
                    expr=" + ".join(tc.fields),
                ))
    return out


# ---------------------------------------------------------------------------------------------
# Everything


def check_report(report: Report, *, previous: Report | None = None, spec: FormatSpec | None = None,
                 values: bool = True) -> list[Finding]:
    """All checks of a Report. `previous` (last year's Report) enables the cross-year rules.

    `values=False` skips the value-domain checks: the reader has already reported every blank or
    invalid cell (and left it None), so read_and_check passes False to avoid saying it twice."""
    spec = spec or report.spec
    out: list[Finding] = []
    if values:
        out += check_values(spec, report.figures)
    prev_figures = None
    if previous is not None:
        problem = previous_problem(report, previous)
        if problem is not None:
            out.append(problem)
        else:
            prev_figures = previous.figures
    values = valid_values(spec, report.figures)  # the same for the rules and the text checks
    out += _check_rules(spec, values, prev_figures)
    out += check_narrative(spec, report.narrative)
    out += _check_text(spec, values, report.narrative)
    return out
