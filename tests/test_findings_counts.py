"""A finding that stands for many cells lists every one of them in JSON, and the count its text
gives is the length of that list."""

from __future__ import annotations

import json
import re

import openpyxl
from typer.testing import CliRunner

from tests import reader_fixtures as fx
from xlsx_tools.cli.app import app
from xlsx_tools.write.template import write_template

runner = CliRunner()


def _blank_without_names(tmp_path):
    """A blank template sent back by a program that dropped the defined names of every sheet."""
    src = tmp_path / "blank.xlsx"
    write_template(src, agency=fx.AGENCY, code=fx.CODE, year=fx.YEAR, password="pw")
    return fx.openpyxl_edit(src, tmp_path / "sent-back.xlsx",
                            lambda wb: [wb.defined_names.pop(n) for n in list(wb.defined_names)])


def test_grouped_findings_list_every_cell_and_the_counts_agree(tmp_path):
    path = _blank_without_names(tmp_path)
    res = runner.invoke(app, ["check", str(path), "--json"])
    data = json.loads(res.stdout)
    by_code: dict[str, list[dict]] = {}
    for f in data["findings"]:
        by_code.setdefault(f["code"], []).append(f)
    assert len(by_code["BLANK"]) == len(fx.spec().input_fields) == 166
    missing = {f["cells"][0].split("!")[0]: f for f in by_code["NAME_MISSING"]}
    t3 = missing["表三"]
    said = int(re.search(r"中有 (\d+) 个单元格", t3["message"]).group(1))
    assert said == t3["values"]["count"] == len(t3["cells"]) == len(set(t3["cells"]))
    assert said == sum(1 for f in fx.spec().fields if f.sheet == "表三") > 50
    for f in data["findings"]:  # every finding's count is its list's length
        if "count" in f.get("values", {}):
            assert f["values"]["count"] == len(f["cells"]), f["code"]
    wb = openpyxl.load_workbook(path)
    assert not list(wb.defined_names)
