"""Whose and which year's workbook this is, and in which format: the identity the template
carries (hidden sheet and document properties, which must agree), checked against the formats this
program knows and against what a collection expects (year, agency).

Finding codes: NOT_OUR_TEMPLATE, OTHER_FORMAT, OTHER_YEAR, OTHER_AGENCY, IDENTITY_CONFLICT
(errors), TEMPLATE_CHANGED (warning).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from ..format.errors import FormatError
from ..format.spec import FormatSpec, available_formats, load_format
from ..model import meta
from ..model.findings import ERROR, WARNING
from ..model.identity import agency_key, code_key, same_agency
from .values import texts_of
from .workbook import Workbook

IDENTITY_KEYS = ("agency", "code", "year")  # who and which year: must agree wherever the file says it


def _same_identity(key: str, a: str, b: str) -> bool:
    """Whether two records of one identity key (agency, code, year, ...) agree."""
    if key == "agency":
        return agency_key(a) == agency_key(b)
    if key == "code":
        return code_key(a) == code_key(b)
    return a.strip() == b.strip()


@functools.cache
def _known_formats() -> frozenset[str]:
    return frozenset(available_formats())


def read_identity(wb: Workbook, custom: Mapping[str, str]) -> dict[str, str]:
    """The template's identity: the hidden sheet's values over the document properties'
    (some programs drop custom properties). Where both are present and differ on who or
    which year, one of them was edited: kept in wb.conflicts (key -> (sheet, properties))."""
    identity: dict[str, str] = {}
    for key in meta.KEYS:
        value = custom.get(meta.property_name(key))
        if value:
            identity[key] = value
    properties = dict(identity)
    if meta.META_SHEET in wb.sheet_parts:
        sheet = wb.sheet(meta.META_SHEET)
        if sheet is not None:
            cells = sheet.cells
            firsts = [(r, c) for r, c in cells if c == 0]  # (a cell is made only when looked at: parts._Cells)
            named = [(r, key) for (r, _), key in zip(firsts, texts_of(cells, firsts), strict=True) if key in meta.KEYS]
            for (_, key), value in zip(named, texts_of(cells, [(r, 1) for r, _ in named]), strict=True):
                if value:
                    identity[key] = value
                    if key in IDENTITY_KEYS and not _same_identity(key, properties.get(key, value), value):
                        wb.conflicts[key] = (value, properties[key])
    return identity


def _conflicting_identity(wb: Workbook, spec: FormatSpec) -> None:
    if not wb.conflicts:
        return
    labels = {f.key: f.label for f in spec.info_fields}
    sheet_says = "，".join(f"{labels.get(k, k)}“{a}”" for k, (a, _) in wb.conflicts.items())
    props_say = "，".join(f"{labels.get(k, k)}“{b}”" for k, (_, b) in wb.conflicts.items())
    wb.add("IDENTITY_CONFLICT", ERROR,
           f"模板标识前后不一致：隐藏的标识工作表「{meta.META_SHEET}」中为{sheet_says}，文件属性中为{props_say}。"
           "标识可能被改动过，请核实这份报表属于哪个机关、哪个年度；必要时请该机关用下发的模板重新填写。",
           values={k: {"sheet": a, "properties": b} for k, (a, b) in wb.conflicts.items()})


def not_ours(wb: Workbook, why: str) -> None:
    wb.add("NOT_OUR_TEMPLATE", ERROR,
           f"这不是政务公开办下发的年报模板（{why}）。请在下发的模板中填写后提交，不要另建表格或整表复制到新文件。",
           values={"reason": why})


def spec_for(wb: Workbook, identity: Mapping[str, str]) -> FormatSpec | None:
    if identity.get("generator") != meta.GENERATOR or not identity.get("format"):
        not_ours(wb, "文件中没有模板标识")
        return None
    fmt = identity["format"]
    spec = None
    if fmt in _known_formats():  # never a path built from what the file says
        try:
            spec = load_format(fmt)
        except (FormatError, OSError, ValueError):
            spec = None
    if spec is None or identity.get("format_version", spec.version) != spec.version:
        version = identity.get("format_version", "")
        wb.add("OTHER_FORMAT", ERROR,
               f"此文件使用的报告格式为 {fmt}{'（版本 ' + version + '）' if version else ''}，"
               f"本程序支持的格式为：{'、'.join(available_formats())}。请使用政务公开办下发的模板。",
               values={"format": fmt, "format_version": version})
        return None
    return spec


def expected_identity(wb: Workbook, spec: FormatSpec, identity: Mapping[str, str], fingerprint: str,
                      expected_year: int | None, expected_agency: str | None) -> tuple[int, bool] | None:
    """The report year and whether the file is the one expected (year and agency of this
    collection), with findings where not; None when the year in the identity is damaged."""
    try:
        year = int(identity["year"])
    except (KeyError, ValueError):
        not_ours(wb, "模板标识中的报告年度已损坏")
        return None
    expected = True
    agency = identity.get("agency", "")
    code = identity.get("code", "")
    if expected_year is not None and year != expected_year:
        expected = False
        wb.add("OTHER_YEAR", ERROR,
             f"这是「{agency}」{year} 年度的报表，不是本次收集的 {expected_year} 年度。"
             f"请使用 {expected_year} 年度的模板填写后重新提交。",
             values={"year": year, "expected": expected_year})
    if expected_agency is not None and not same_agency(agency, code, expected_agency, expected_agency):
        expected = False
        wb.add("OTHER_AGENCY", ERROR,
             f"这是「{agency}」的报表，不是「{expected_agency}」的。请确认是否发错文件，或使用本机关的模板填写。",
             values={"agency": agency, "expected": expected_agency})
    _conflicting_identity(wb, spec)
    if identity.get("fingerprint") and not meta.same_layout(identity["fingerprint"], fingerprint):
        wb.add("TEMPLATE_CHANGED", WARNING,
             f"此文件的模板指纹（{identity['fingerprint']}）与当前模板（{fingerprint}）不同，"
             "可能是用旧版或其他版本的模板填写的。已按报告格式读取，请留意其他提示；如有疑问请使用新下发的模板。",
             values={"fingerprint": identity["fingerprint"], "expected": fingerprint})
    return year, expected
