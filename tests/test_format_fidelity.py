"""The format file against the official format: every label, in order, and every merged cell of
the three tables, compared with FORMAT-2021.md (§2.4 kept in tests/data, checked against shared/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xlsx_tools.format.spec import load_format, load_format_file, templates_dir

DATA = Path(__file__).parent / "data" / "format-2021-labels.md"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "FORMAT-2021.md"


def _blocks(text: str) -> list[list[str]]:
    return [b.splitlines() for b in re.findall(r"```\n(.*?)```", text, re.S)]


@pytest.fixture(scope="module")
def official() -> dict[str, list[str]]:
    t2, t3_header, t3_rows, t4 = _blocks(DATA.read_text(encoding="utf-8"))
    return {"t2": t2, "t3_header": t3_header, "t3_rows": t3_rows, "t4": t4}


@pytest.fixture(scope="module")
def spec():
    return load_format()


def test_label_copy_matches_shared_format_document():
    if not SHARED.is_file():
        pytest.skip(f"{SHARED} 不存在（只在开发机和 CI 中与仓库并列）")
    text = SHARED.read_text(encoding="utf-8")
    section = text[text.index("### 2.4"):text.index("## 3.")]
    assert section == DATA.read_text(encoding="utf-8")


def _texts(table, role=None):
    return [c.text for c in sorted(table.cells, key=lambda c: (c.row, c.col)) if role is None or c.role == role]


def test_table2_labels_in_order(spec, official):
    t2 = spec.table("t2")
    got = _texts(t2)
    # §2.4 lists each label once; the table repeats 信息内容 and 本年处理决定数量 per block
    deduped = list(dict.fromkeys(got))
    assert deduped == official["t2"]
    assert got.count(official["t2"][1]) == 4  # 信息内容 heads each of the four blocks


def test_table3_header_and_rows(spec, official):
    t3 = spec.table("t3")
    # §2.4 lists the header depth-first, i.e. by column, then by level
    header = [c.text for c in sorted(t3.cells, key=lambda c: (c.col, c.row)) if c.role in ("corner", "column")]
    assert header == official["t3_header"]
    rows = [c for c in t3.cells if c.role == "row"]
    rows.sort(key=lambda c: (c.row, c.col))
    expected = [line.strip() for line in official["t3_rows"]]
    assert [c.text for c in rows] == expected
    # nesting: indentation of §2.4 (4 spaces a level) equals the grid column of the label
    depth = {line.strip(): (len(line) - len(line.lstrip())) // 4 for line in official["t3_rows"]}
    for c in rows:
        assert c.col - t3.origin_col == depth[c.text], c.text


def test_table4_labels(spec, official):
    t4 = spec.table("t4")
    by_row = {r: [c.text for c in sorted(t4.cells, key=lambda c: c.col) if c.row == r] for r in range(3)}
    assert by_row[0] == official["t4"][:2]  # 行政复议 | 行政诉讼
    assert [t for t in by_row[1] if t in official["t4"][2:4]] == official["t4"][2:4]
    assert list(dict.fromkeys(by_row[1][:5] + by_row[2])) == official["t4"][4:]
    leaves = [c.text for c in t4.cells if c.role == "column" and (c.row + c.rowspan) == 3]
    assert leaves == official["t4"][4:] * 3


# Merged ranges as drawn in FORMAT-2021.md §2.1–2.3.
MERGES = {
    "t2": {"A1:D1", "A5:D5", "B6:D6", "B7:D7", "A8:D8", "B9:D9", "B10:D10", "B11:D11",
           "A12:D12", "B13:D13", "B14:D14"},
    "t3": {"A1:C3", "D1:J1", "D2:D3", "E2:I2", "J2:J3", "A4:C4", "A5:C5", "A6:A27", "B6:C6", "B7:C7",
           "B8:B15", "B16:B18", "B19:B23", "B24:B26", "B27:C27", "A28:C28"},
    "t4": {"A1:E1", "F1:O1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:J2", "K2:O2"},
}
SIZES = {"t2": (14, 4), "t3": (28, 10), "t4": (4, 15)}


@pytest.mark.parametrize("key", ["t2", "t3", "t4"])
def test_merged_cells_and_size(spec, key):
    table = spec.table(key)
    assert set(table.merges) == MERGES[key]
    assert (table.grid_rows, table.grid_columns) == SIZES[key]


def test_table3_results_block_spans_22_rows(spec):
    t3 = spec.table("t3")
    results = next(c for c in t3.cells if c.role == "row" and c.rowspan > 1 and c.col == 0)
    assert (results.row + 1, results.rowspan) == (6, 22)


def test_input_and_computed_cells(spec):
    t2, t3, t4 = (spec.table(k) for k in ("t2", "t3", "t4"))
    # §2.1: 6 + 3 integers and one decimal, all inputs
    assert len(t2.fields) == 10 and all(f.input for f in t2.fields)
    assert [f.type.kind for f in t2.fields].count("decimal") == 1
    assert spec.field("t2.item8.fees.amount").type.decimals == 6  # to the 分 (FORMAT-2021.md §1.4)
    # §2.2: 25 rows × 7 columns; the 总计 column and the （七）总计 row are formulas
    assert len(t3.fields) == 175
    computed = {f.cell for f in t3.fields if not f.input}
    assert computed == {f"J{r}" for r in range(4, 29)} | {f"{c}27" for c in "DEFGHIJ"}
    # §2.3: 15 numbers, the three 总计 computed
    assert len(t4.fields) == 15
    assert {f.cell for f in t4.fields if not f.input} == {"E4", "J4", "O4"}


def test_field_paths_are_the_public_examples(spec):
    f = spec.field("t3.withheld.state_secret.natural_person")
    assert f.row_labels == ("三、本年度办理结果", "（三）不予公开", "1.属于国家秘密")
    assert f.column_labels == ("申请人情况", "自然人")
    assert spec.field("t4.suit_direct.upheld").column_labels == ("行政诉讼", "未经复议直接起诉", "结果维持")
    g = spec.field("t2.item1.rules.issued")
    assert (g.row_labels, g.column_labels, g.cell) == (("第二十条第（一）项", "规章"), ("本年制发件数",), "B3")
    assert spec.field("t3.withheld.internal_affairs.natural_person").where == \
        "表三 第12行「5.属于三类内部事务信息」自然人（D12）"


def test_sections_in_order(spec):
    assert [s.heading for s in spec.sections] == [
        "一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
        "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项",
    ]


# -- keys beyond the tables (§1.3 kept in tests/data as well, checked against shared/)

SECTIONS = Path(__file__).parent / "data" / "format-2021-sections.md"


def test_section_copy_matches_shared_format_document():
    if not SHARED.is_file():
        pytest.skip(f"{SHARED} 不存在（只在开发机和 CI 中与仓库并列）")
    text = SHARED.read_text(encoding="utf-8")
    assert text[text.index("### 1.3"):text.index("### 1.4")] == SECTIONS.read_text(encoding="utf-8")


def _official_sections() -> list[tuple[str, str, str]]:
    """(number, heading, content) of the table of §1.3."""
    rows = re.findall(r"^\| (\S) \| (\S+) \| ([^|]*) \|$", SECTIONS.read_text(encoding="utf-8"), re.M)
    return [(n, h, c) for n, h, c in rows if n != "#"]


def test_narrative_sections_are_the_official_narrative_parts(spec):
    official = _official_sections()
    assert [(s.number, s.heading) for s in spec.sections] == [(n, h) for n, h, _ in official]
    narrative = [n for n, _, content in official if content.startswith("narrative")]
    assert spec.narrative_numbers == "、".join(narrative) == "一、五、六"
    assert f"第{spec.narrative_numbers}部分" in spec.narrative_title


def test_nothing_to_report_is_as_published_reports_write_it(spec):
    assert spec.nothing_to_report
    assert f"其他报告事项 {spec.nothing_to_report}" in SECTIONS.read_text(encoding="utf-8")
    assert f"没有的写“{spec.nothing_to_report}”" in spec.narrative_parts[-1].hint


def test_units_of_value_types_as_table_labels_print_them(spec, official):
    printed = {m for line in official["t2"] for m in re.findall(r"（单位：(\w+)）", line)}
    assert printed == {spec.types["amount"].unit} == {"万元"}
    for vt in spec.types.values():
        if vt.unit in printed:  # the template's instruction names the unit the table prints
            assert vt.unit in vt.instruction and vt.unit in vt.prompt_title


def test_figure_sets_name_fields_of_the_format(spec):
    assert set(spec.figure_set("printed_figures")) <= set(spec.figure_set("key_figures"))
    for fid in spec.figure_set("key_figures"):
        assert spec.has_field(fid)
    assert spec.figure_set("no such set") == ()


def test_fingerprint_ignores_what_does_not_shape_the_template(tmp_path, spec):
    text = (templates_dir() / f"{spec.id}.toml").read_text(encoding="utf-8")
    same = tmp_path / "same.toml"
    same.write_text("# a comment\n" + text.replace('nothing_to_report = "无。"', 'nothing_to_report = "没有。"').replace('noun = "件数"', 'noun = "数量"')
                    + '\n[aggregate]\nsum_figures = ["t3.received.total"]\n', encoding="utf-8")
    assert load_format_file(same).fingerprint == spec.fingerprint
    other = tmp_path / "other.toml"
    other.write_text(text.replace('label = "联系人"', 'label = "联系人姓名"'), encoding="utf-8")
    assert load_format_file(other).fingerprint != spec.fingerprint
