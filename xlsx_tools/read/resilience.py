"""One file's problem never stops a run: the findings that stand in for a step that failed in a
way nobody foresaw (a bug of ours, a broken last-year report), so that `check` and `collect` say
what happened to that file and go on with the others."""

from __future__ import annotations

from ..model.findings import WARNING, Finding
from . import reader


def cross_year_failed(agency: str, previous: str) -> Finding:
    """The cross-year rules could not be applied with last year's report `previous` (a file name,
    or "" when unknown); this year's own checks stand."""
    named = f"（{previous}）" if previous else ""
    return Finding(
        code="PREV_CHECK_FAILED", severity=WARNING,
        message=f"与「{agency}」上一年度报告{named}的跨年度核对未能完成：上一年度报告中的数据无法使用"
                "（如导出的 JSON 被改动、含有非数字的值）。本年度报告的其他检查不受影响。"
                "请核对上一年度的文件，必要时重新导出；如问题仍在，请把该文件发给工具的维护人员。",
        values={"previous": previous},
    )


def check_file(path, previous=None, **kw):
    """read_and_check for one file of `check`, never raising (anything unforeseen is the reader's
    INTERNAL_ERROR for that file). When only the cross-year rules fail on last year's report, the
    file is checked without them and PREV_CHECK_FAILED says so: this year's findings stand."""
    try:
        result = reader.read_and_check(path, previous=previous, **kw)
    except Exception as e:
        result = reader.internal_result(str(path), "", e)
    if result.kind != reader.KIND_INTERNAL or previous is None:
        return result
    try:
        alone = reader.read_and_check(path, **kw)
    except Exception:
        return result
    if alone.kind == reader.KIND_INTERNAL or alone.report is None:
        return result
    source = previous.provenance.source if previous.provenance else ""
    alone.findings.append(cross_year_failed(alone.report.agency.name, source or ""))
    return alone
