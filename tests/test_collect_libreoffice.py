"""收集情况.xlsx in a real office suite: LibreOffice opens it (including the long sheets written as
streamed XML) and saves it again as .xlsx; every sheet reads back with the same cells, the merged
cells of 汇总 and both charts."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import openpyxl
import pytest

from tests.test_collect import ROSTER, clean_report, with_error, with_warning, write_return
from xlsx_tools.collect import run, walk
from xlsx_tools.read.roster import RosterRow
from xlsx_tools.write import office

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice (soffice) 未安装，跳过真实办公软件测试"),
]


def values(ws) -> list[tuple]:
    out = []
    for row in ws.iter_rows(values_only=True):
        # LibreOffice writes whole numbers as floats and drops trailing empty cells
        cells = [Decimal(str(v)) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in row]
        while cells and cells[-1] in (None, ""):
            cells.pop()
        out.append(tuple(None if v == "" else v for v in cells))
    while out and not out[-1]:
        out.pop()
    return out


def test_libreoffice_reads_and_resaves_every_sheet(tmp_path):
    r = clean_report(0, 0)
    r.figures["t2.item1.rules.issued"] = None  # 全部数据: a row without its value cell
    write_return(tmp_path / "in" / "a.xlsx", r)
    write_return(tmp_path / "in" / "b.xlsx", with_warning(clean_report(1, 1)))
    write_return(tmp_path / "in" / "c.xlsx", with_error(clean_report(2, 2)))
    # the second agency without a code: in 全部数据, where most cells go without their reference
    # (they follow the cell before), its status cell after the gap has one
    roster = [ROSTER[0], RosterRow(ROSTER[1].agency), *ROSTER[2:4]]
    run.collect(tmp_path / "in", roster, tmp_path / "out", jobs=1)
    ours = tmp_path / "out" / walk.OUTPUT_XLSX
    theirs = office.convert(ours, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    a, b = openpyxl.load_workbook(ours), openpyxl.load_workbook(theirs)
    assert b.sheetnames == a.sheetnames
    for name in ("收集情况", "问题清单", "文件清单", "全部数据", "图表"):
        assert values(b[name]) == values(a[name]), name
    assert {str(r) for r in b["汇总"].merged_cells.ranges} == {str(r) for r in a["汇总"].merged_cells.ranges}
    assert values(b["汇总"]) == values(a["汇总"])
    data = values(b["全部数据"])
    assert {row[1] for row in data if row[0] == ROSTER[1].agency} == {None}
    assert [row[6] for row in data if row[0] == ROSTER[0].agency and row[9] == "t2.item1.rules.issued"] == [None]
    assert len(data) == 1 + 3 * len({row[9] for row in data[1:]})
    with zipfile.ZipFile(theirs) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert any("<c:barChart>" in x for x in charts) and any("<c:pieChart>" in x for x in charts)
