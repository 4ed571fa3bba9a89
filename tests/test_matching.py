"""matching: file names and workbook names as agencies write them, found on the roster."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from xlsx_tools.collect import classify
from xlsx_tools.model.matching import NameMatcher, name_data, region_prefixes, split_aliases
from xlsx_tools.read.roster import RosterRow, parse_roster

NAMES = ["青山区卫生健康局", "青山区市场监督管理局", "青山区商务局", "青山区医疗保障局", "青山区民政局",
         "青山区人民政府办公室", "青山区自然资源和规划局", "青山区统计局", "青山区城市管理局", "ABC局", "abc局",
         "青山区民政局社会救助站", "青山区农业农村局", "青山区发展和改革委员会", "青山区政务服务中心",
         "青山区公安分局", "青山区人力资源和社会保障局", "青山区住房和城乡建设局", "青山区生态环境局",
         "青山区文化和旅游局", "青山区退役军人事务局", "青山区应急管理局", "青山区审计局", "青山区教育局"]
M = NameMatcher(NAMES)


def who(display: str) -> str | tuple[str, ...] | None:
    found = M.filename(display)
    if found.index is not None:
        return NAMES[found.index]
    return tuple(NAMES[i] for i in found.candidates) or None


@pytest.mark.parametrize(("display", "agency"), [
    ("卫健局.csv", "青山区卫生健康局"),
    ("市场监管局.xlsx", "青山区市场监督管理局"),
    ("商务局年报.xls", "青山区商务局"),
    ("医保局年报.docx", "青山区医疗保障局"),
    ("自然资源局.xlsx", "青山区自然资源和规划局"),
    ("人社局2025年报.xlsx", "青山区人力资源和社会保障局"),
    ("住建局.xlsx", "青山区住房和城乡建设局"),
    ("环保局.xlsx", "青山区生态环境局"),
    ("文旅局.xlsx", "青山区文化和旅游局"),
    ("退役军人局.xlsx", "青山区退役军人事务局"),
    ("应急局.xlsx", "青山区应急管理局"),
    ("农业局.xlsx", "青山区农业农村局"),
    ("发改委2025.xlsx", "青山区发展和改革委员会"),
    ("城管局.xlsx", "青山区城市管理局"),
    ("区政府办.xlsx", "青山区人民政府办公室"),
    ("政务服务中心.xlsx", "青山区政务服务中心"),
    ("审计年报.xlsx", "青山区审计局"),  # the ending left off, followed by 年报
    ("统计 2025.xlsx", "青山区统计局"),  # ... or by a non-Chinese character
    ("民政.xlsx", "青山区民政局"),
    ("公安.xlsx", "青山区公安分局"),
    ("青山区民政局社会救助站.xlsx", "青山区民政局社会救助站"),  # the longer name wins
    ("回收/卫健局/年报.xls", "青山区卫生健康局"),  # the folder's name when the file says nothing
    ("邮件.zip!附件/医保局.doc", "青山区医疗保障局"),
    ("ＡＢＣ局.xlsx", "ABC局"),  # full width is the same, case is not
    ("abc局.xls", "abc局"),
    ("2025年青山区卫健局.xls", "青山区卫生健康局"),  # the district written in full
    ("中卫市青山区医保局.doc", "青山区医疗保障局"),
])
def test_file_names_as_agencies_write_them(display, agency):
    assert who(display) == agency


@pytest.mark.parametrize("display", [
    "政府信息公开年报.xlsx",  # 政府 is nobody's short name
    "统计表.xlsx",  # 统计 followed by 表 is not the 统计局
    "年报.xlsx",
    "说明.txt",
    "其他区教育局.xls",  # another district's 教育局
    "东山区卫健局年报.csv",
])
def test_names_that_name_nobody(display):
    assert who(display) is None


def test_ambiguous_names_are_listed_not_guessed():
    assert who("Abc局.xlsx") == ("ABC局", "abc局")  # case-only different: which one is unknown
    assert who("卫健局和民政局.xlsx") == ("青山区卫生健康局", "青山区民政局")
    assert M.filename("Abc局.xlsx").ambiguous


def test_identity_case_first_then_loose():
    assert M.identity("ABC局").index == NAMES.index("ABC局")
    assert M.identity("abc局").index == NAMES.index("abc局")
    assert M.identity("aBc局").candidates == (NAMES.index("ABC局"), NAMES.index("abc局"))
    found = M.identity("青山区卫健局")
    assert found.index == 0 and found.loose
    assert M.identity("卫生健康局").index == 0  # without the place prefix
    assert M.identity("其他区民政局").index is None


def test_region_prefix_is_the_one_the_roster_shares():
    assert region_prefixes(["中卫市沙坡头区教育局", "中卫市沙坡头区民政局", "中卫市沙坡头区城市管理局"]) == [
        "中卫市沙坡头区", "中卫市"]
    # 城市 of 城市管理局 is not a place: one name only, and 城 is too short a place name
    assert region_prefixes(["城市管理局"]) == []
    assert NameMatcher(["城市管理局", "教育局"]).filename("城管局.xlsx").index == 0


def test_roster_aliases_column():
    text = "某县机关名单\n序号,机关名称,简称/别名,联系人\n1,某县融媒体中心,融媒；县台、广播站,李四\n2,某县教育局,,王五\n"
    roster = parse_roster(text, "名单.csv")
    assert roster[0].aliases == ["融媒", "县台", "广播站"]
    assert roster[0].extra == {"序号": "1", "简称/别名": "融媒；县台、广播站"}
    assert roster.columns == ["序号", "机关名称", "简称/别名", "联系人"]
    index = classify.RosterIndex(roster)
    assert index.by_filename("县台2025.xlsx") == 0 and index.by_filename("融媒年报.xls") == 0
    assert split_aliases("a;b；c、d") == ["a", "b", "c", "d"]


def test_collect_index_case_only_names(tmp_path):
    index = classify.RosterIndex([RosterRow("ABC局"), RosterRow("abc局")])
    assert index.by_identity("ABC局", "") == 0 and index.by_identity("abc局", "") == 1
    assert index.by_filename("abc局.xls") == 1
    assert index.match_file("Abc局.xls").candidates == (0, 1)


def test_the_abbreviations_are_data_shipped_with_the_package():
    path = Path(__file__).resolve().parent.parent / "xlsx_tools" / "data" / "agency-names.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    groups = {frozenset(g) for g in data["abbreviations"]}
    for pair in (("卫生健康", "卫健"), ("市场监督管理", "市场监管"), ("发展和改革", "发改"), ("人力资源和社会保障", "人社"),
                 ("住房和城乡建设", "住建"), ("医疗保障", "医保"), ("自然资源和规划", "自然资源")):
        assert any(set(pair) <= g for g in groups), pair
    assert name_data().alias_columns[:2] == ("简称", "别名")


def test_another_place_before_a_short_form_is_not_this_district():
    assert who("其他区教育局.xls") is None
    assert who("青山区教育局.xls") == "青山区教育局"
    assert who("教育局.xls") == "青山区教育局"
