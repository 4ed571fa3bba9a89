"""审核结果.xlsx: the review of a region's published reports (`import DIR`), written with the
machinery of 收集情况.xlsx (xlsxwriter, its cell formats, key figures and text cleaning).

Sheets: 审核结果 (one row per report: agency, year, input kind, figures found/expected, errors,
warnings, key figures, file, sha256) and 问题清单 (every finding, ready to forward)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xlsxwriter.workbook import Workbook

from ..format.spec import load_format
from ..model.findings import SEVERITY_LABELS, count
from ..model.status import Status
from ..read.published.importer import KIND_LABELS, ImportResult, errors_first
from ..util.fsutil import atomic_path
from ..util.timefmt import display_time, now_local
from .sheets import Formats, cell_value, clean, key_fields, key_header

REVIEW_SHEET = "审核结果"
PROBLEMS_SHEET = "问题清单"


def status(r: ImportResult) -> Status:
    if r.report is None:
        return Status.UNREADABLE
    if r.has_errors:
        return Status.ERR
    return Status.WARN if r.findings else Status.OK


def write_review(results: Sequence[ImportResult], path: str | Path) -> Path:
    spec = load_format()
    keys = key_fields(spec)
    path = Path(path)
    with atomic_path(path) as tmp:
        wb = Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
        fmt = Formats(wb)
        ws = wb.add_worksheet(REVIEW_SHEET)
        title = f"已发布年度报告审核结果（共 {len(results)} 份，{display_time(now_local())}）"
        ws.write_string(0, 0, title, fmt.title)
        headers = (["序号", "机关", "年度", "状态", "输入类型", "找到数字", "应有数字", "错误数", "警告数"]
                   + [key_header(f) for f in keys] + ["文件", "sha256"])
        widths = [6, 28, 7, 9, 10, 9, 9, 7, 7] + [14] * len(keys) + [40, 20]
        for c, (h, w) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(2, c, h, fmt.header)
            ws.set_column(c, c, w)
        for i, r in enumerate(results, start=1):
            row = 2 + i
            e, w = count(r.findings)
            b = r.source_block
            figures = r.report.figures if r.report is not None else {}
            values = ([i, r.agency, r.year, status(r).label, KIND_LABELS.get(b.get("kind", ""), b.get("kind", "")),
                       b.get("figures_found"), b.get("figures_expected"), e, w]
                      + [cell_value(figures.get(f.id)) for f in keys] + [r.source, r.sha256])
            for c, v in enumerate(values):
                if v is None:
                    continue
                if isinstance(v, int | float):
                    ws.write_number(row, c, v, fmt.number)
                else:
                    ws.write_string(row, c, clean(v), fmt.text)
            ws.write_string(row, 3, status(r).label, fmt.status.get(status(r), fmt.text))
        ws.autofilter(2, 0, 2 + len(results), len(headers) - 1)
        ws.freeze_panes(3, 2)

        ps = wb.add_worksheet(PROBLEMS_SHEET)
        pheaders = ["序号", "机关", "年度", "文件", "严重程度", "代码", "位置", "问题说明"]
        for c, (h, w) in enumerate(zip(pheaders, [6, 24, 7, 36, 8, 20, 44, 90], strict=True)):
            ps.write_string(0, c, h, fmt.header)
            ps.set_column(c, c, w, fmt.wrap if h == "问题说明" else None)
        n = 0
        for r in results:
            for f in errors_first(r.findings):
                n += 1
                cells = [n, r.agency, r.year, r.source, SEVERITY_LABELS.get(f.severity, f.severity), f.code,
                         "；".join(f.labels), f.message]
                for c, v in enumerate(cells):
                    if v is None:
                        continue
                    if isinstance(v, int):
                        ps.write_number(n, c, v)
                    else:
                        ps.write_string(n, c, clean(v))
        ps.autofilter(0, 0, max(n, 1), len(pheaders) - 1)
        ps.freeze_panes(1, 0)
        wb.close()
    return path
