"""Issue 12, text: published reports as text (every style seen in real pages) back into data."""

from __future__ import annotations

import json
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_fixtures import STYLES, make_report, render_table, report_text
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.format.numbers import fmt_number
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.report import Report
from xlsx_tools.read.published import LAYOUT, NOT_FOUND, import_file
from xlsx_tools.read.published.importer import import_document
from xlsx_tools.read.published.normalize import key, tolerance
from xlsx_tools.read.published.sources import read_bytes

DATA = Path(__file__).resolve().parent / "data"
SPEC = load_format()


def run_text(text: str, name: str = "report.txt", **kw):
    doc = read_bytes(text.encode("utf-8"), name)
    return import_document(doc, spec=SPEC, source=name, sha256="", file_stem=Path(name).stem, **kw)


def differences(expected: Report, got: Report) -> list[tuple[str, object, object]]:
    return [(f.id, expected.figures[f.id], got.figures[f.id]) for f in SPEC.fields
            if got.figures[f.id] != expected.figures[f.id]]


# -- the sample report (text extracted from a published PDF)


def test_sample_report_imports_all_figures_and_six_sections():
    r = import_file(DATA / "sample-report-2021.txt")
    assert r.report is not None
    assert r.agency == "沙坡头区政务服务中心" and r.year == 2021
    b = r.source_block
    assert b["figures_found"] == b["figures_expected"] == len(SPEC.fields) == 200
    assert all(v == 0 for v in r.report.figures.values())
    assert all(b["sections"][s.number] is not None for s in SPEC.sections)
    assert r.report.narrative["overview"].startswith("本年度，沙坡头区政务服务中心坚持")
    assert "（五）健全监督保障机制" in r.report.narrative["overview"]
    assert r.report.narrative["problems"].startswith("2021 年，沙坡头区政务服务中心在推进")
    assert r.report.narrative["other"].endswith("诉求事项得到妥善处置。")
    assert "mailto:" not in r.report.narrative["overview"]
    # paragraphs rebuilt from the PDF's wrapped lines: one per sub-head
    assert r.report.narrative["overview"].count("\n") == 5
    assert not r.findings
    assert r.report.contact == {
        "website_name": "中卫市沙坡头区人民政府网站", "website": "http://www.spt.gov.cn/",
        "contact_org": "中卫市沙坡头区政务服务中心", "address": "中卫市沙坡头区丰安东路9号中卫市政务服务中心4楼西",
        "postcode": "755000", "phone": "0955-8597620", "email": "sptqzwzx@163.com"}
    # the JSON is exactly export's, plus findings and source
    data = json.loads(r.to_json())
    assert list(data)[:7] == ["format", "agency", "year", "contact", "narrative", "figures", "provenance"]
    assert Report.from_dict(data).figures == r.report.figures
    assert data["source"]["figures"]["t3.received.total"]["line"] > 0


# -- every text style, random figures, traditional characters and label drift


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("traditional, drift", [(False, False), (True, False), (False, True), (True, True)])
def test_every_style_gives_every_figure_back(style, traditional, drift):
    rep = make_report(seed=len(style) * 7 + traditional * 3 + drift)
    text = report_text(rep, style, seed=11, traditional=traditional, drift=drift)
    joined = text.replace("\n", "")
    if traditional:
        assert "報告" in joined and "制發件" in joined
    if drift and not traditional:
        assert "规范性文件" in joined and "行政规范性文件" not in joined
    r = run_text(text)
    assert differences(rep, r.report) == []
    assert r.agency == rep.agency.name and r.year == rep.year
    assert r.source_block["figures_found"] == 200
    assert r.report.narrative["problems"] == rep.narrative["problems"]
    assert not [f for f in r.findings if f.is_error]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), style=st.sampled_from(STYLES))
def test_random_figures_round_trip(seed, style):
    rep = make_report(seed=seed)
    r = run_text(report_text(rep, style, seed=seed))
    assert differences(rep, r.report) == []


def test_traditional_mapping_is_small_data_and_covers_every_label():
    tol = tolerance()
    assert tol.traditional[ord("發")] == "发" and key("撫遠市本年制發件數") == "抚远市本年制发件数"
    # every drift entry names a real label of the format file
    labels = {c.text for t in SPEC.tables for c in t.cells} | {s.heading for s in SPEC.sections}
    assert set(tol.drift) <= labels


def test_styles_are_named_in_the_source_block():
    rep = make_report(seed=2)
    seen = {style: run_text(report_text(rep, style)).source_block["text_style"] for style in STYLES}
    assert seen == {"pipes": "pipes", "pipes-bare": "pipes", "pipe-cells": "pipe-cells", "plain": "plain",
                    "spaces": "plain", "padded": "layout"}


# -- blank, 0 and "/" are kept apart


def test_blank_zero_and_not_applicable_stay_apart():
    rep = make_report(seed=5)
    shown = {fid: fmt_number(v) for fid, v in rep.figures.items()}
    shown["t2.item1.rules.issued"] = ""
    shown["t2.item1.rules.repealed"] = "/"
    shown["t2.item1.rules.in_force"] = "0"
    shown["t4.review.pending"] = "／"
    r = run_text(report_text(rep, "pipes", shown=shown))
    src = r.source_block["figures"]
    assert src["t2.item1.rules.issued"]["state"] == "blank"
    assert src["t2.item1.rules.repealed"] == {**src["t2.item1.rules.repealed"], "state": "not_applicable", "printed": "/"}
    assert src["t2.item1.rules.in_force"]["state"] == "value" and r.report.figures["t2.item1.rules.in_force"] == 0
    assert r.report.figures["t2.item1.rules.issued"] is None and r.report.figures["t2.item1.rules.repealed"] is None
    assert src["t4.review.pending"]["state"] == "not_applicable"
    blanks = {f.fields[0]: f for f in r.findings if f.code == "BLANK"}
    assert set(blanks) == {"t2.item1.rules.issued", "t2.item1.rules.repealed", "t4.review.pending"}
    assert "空白（不是 0）" in blanks["t2.item1.rules.issued"].message
    assert "“/”（不适用）" in blanks["t2.item1.rules.repealed"].message
    assert not blanks["t2.item1.rules.issued"].is_error
    # the rule over a blank cell is not evaluated, so no false T4_TOTAL
    assert not [f for f in r.findings if f.code == "T4_TOTAL"]


def test_blank_organisation_columns_with_a_filled_total():
    rep = make_report(seed=8)
    shown = {fid: fmt_number(v) for fid, v in rep.figures.items()}
    cols = [k for k, _ in SPEC.table("t3").column_keys if k != "total"]
    for c in cols:
        shown[f"t3.granted.{c}"] = ""
    for style in ("pipes", "spaces"):
        r = run_text(report_text(rep, style, shown=shown))
        assert r.report.figures["t3.granted.total"] == rep.figures["t3.granted.total"], style
        assert all(r.report.figures[f"t3.granted.{c}"] is None for c in cols)
        assert all(r.source_block["figures"][f"t3.granted.{c}"]["state"] == "blank" for c in cols)
        assert r.report.figures["t3.partial.total"] == rep.figures["t3.partial.total"]


# -- what is not found, and tables not in the official layout


def test_a_missing_row_names_the_label_looked_for():
    rep = make_report(seed=9)
    label = SPEC.field("t3.withheld.third_party.total").row_labels[-1]
    text = "\n".join(ln for ln in report_text(rep, "spaces").split("\n") if not ln.startswith(label))
    r = run_text(text)
    missing = [f for f in r.findings if f.code == NOT_FOUND]
    assert len(missing) == 7 and all(f.is_error for f in missing)
    assert f"查找的行标签：「{label}」" in missing[0].message
    assert r.report.figures["t3.withheld.third_party.natural_person"] is None
    assert r.report.figures["t3.withheld.process_info.total"] == rep.figures["t3.withheld.process_info.total"]


def test_a_row_with_too_few_figures_is_not_guessed():
    rep = make_report(seed=10)
    shown = {fid: fmt_number(v) for fid, v in rep.figures.items()}
    shown["t3.granted.research"] = ""  # vanishes in text without separators
    r = run_text(report_text(rep, "spaces", shown=shown))
    bad = [f for f in r.findings if f.code == NOT_FOUND]
    assert {f.fields[0] for f in bad} == {f"t3.granted.{c}" for c, _ in SPEC.table("t3").column_keys}
    assert "印有 6 个数字" in bad[0].message
    assert r.report.figures["t3.granted.total"] is None


def _table2_2019() -> list[str]:
    lab = tolerance().format2019_labels
    t2 = SPEC.table("t2")
    titles = [c.text for c in t2.cells if c.role == "title"]
    return [titles[0], f"| 信息内容 | {lab[2]} | {lab[3]} | {lab[4]} |", "| 规章 | 1 | 2 | 3 |",
            "| 规范性文件 | 4 | 5 | 6 |", titles[1], f"| 信息内容 | {lab[0]} | {lab[1]} | 处理决定数量 |",
            "| 行政许可 | 716 | -417 | 298 |"]


def test_a_2019_format_table_is_reported_not_misread():
    rep = make_report(seed=12)
    text = report_text(rep, "pipes")
    lines = text.split("\n")
    a = lines.index(SPEC.section("二").heading) + 1
    b = lines.index(SPEC.section("三").heading)
    lines[a:b] = _table2_2019()
    r = run_text("\n".join(lines))
    layout = [f for f in r.findings if f.code == LAYOUT]
    assert len(layout) == 1 and "2019 年试行格式" in layout[0].message and "上一年项目数量" in layout[0].message
    assert all(r.report.figures[f.id] is None for f in SPEC.table("t2").fields)  # never misread
    assert not [f for f in r.findings if f.code == NOT_FOUND and f.fields[0].startswith("t2.")]
    assert r.source_block["tables"]["二"]["layout"] == "2019"
    assert differences(rep, r.report) == [(f.id, rep.figures[f.id], None) for f in SPEC.table("t2").fields]


def test_a_2019_table_three_with_a_single_other_handling_row():
    rep = make_report(seed=13)
    t3 = SPEC.table("t3")
    sub = [f for f in t3.fields if f.id.startswith("t3.other_handling.")]
    parent = t3.node_labels["other_handling"]
    lines = report_text(rep, "spaces").split("\n")
    sub_labels = {f.row_labels[-1] for f in sub}
    first = next(i for i, ln in enumerate(lines) if any(lab in ln for lab in sub_labels))
    lines = [ln for ln in lines if not any(lab in ln for lab in sub_labels)]
    lines.insert(first, parent + " 1 0 0 0 0 0 1")
    r = run_text("\n".join(lines))
    layout = [f for f in r.findings if f.code == LAYOUT]
    assert len(layout) == 1 and parent in layout[0].message and "2019" in layout[0].message
    assert r.report.figures["t3.granted.total"] == rep.figures["t3.granted.total"]
    assert all(r.report.figures[f.id] is None for f in sub)


def test_inconsistent_figures_give_the_rule_findings():
    rep = make_report(seed=14)
    rep.figures["t3.granted.total"] += 1
    r = run_text(report_text(rep, "pipes"))
    codes = {f.code for f in r.findings}
    assert {"T3_ROW_TOTAL", "T3_RESULTS_TOTAL"} <= codes
    assert r.has_errors


def test_agency_and_year_from_opening_and_file_name_and_options():
    rep = make_report(seed=15, agency="撫遠市自然資源局", year=2022)
    body = report_text(rep, "pipes", title=False)
    r = run_text(body, name="某某县交通运输局2023年政府信息公开工作年度报告.txt")
    assert (r.agency, r.year) == ("某某县交通运输局", 2022)  # period in the text wins over the file name
    r = run_text("现发布《撫遠市自然資源局 2022年政府信息公开年度报告》。\n" + body)
    assert (r.agency, r.year) == ("撫遠市自然資源局", 2022)
    r = run_text(body, agency="另一个局", year=2020)
    assert (r.agency, r.year) == ("另一个局", 2020)
    assert r.source_block["agency_from"] == "option"


def test_no_agency_no_year_is_said():
    rep = make_report(seed=16)
    text = "\n".join(ln for ln in report_text(rep, "pipes", title=False).split("\n") if "统计数据" not in ln)
    r = run_text(text, name="report.txt")
    msgs = [f.message for f in r.findings if f.code == NOT_FOUND and not f.fields]
    assert any("机关名称" in m and "--agency" in m for m in msgs)
    assert any("报告年度" in m and "--year" in m for m in msgs)


# -- the command


def test_command_prints_like_check_and_writes_the_json(tmp_path):
    src = tmp_path / "沙坡头区政务服务中心2021年报.txt"
    shutil.copy(DATA / "sample-report-2021.txt", src)
    out = tmp_path / "out.json"
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "沙坡头区政务服务中心" in res.output and "找到数字 200/200 个" in res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["source"]["file"] == str(src) and len(data["source"]["sha256"]) == 64
    assert Report.from_dict(data).year == 2021


def test_command_exit_1_on_findings_and_json(tmp_path):
    rep = make_report(seed=17)
    rep.figures["t4.review.total"] += 3
    src = tmp_path / "r.txt"
    src.write_text(report_text(rep, "pipes"), encoding="utf-8")
    res = CliRunner().invoke(app, ["import", str(src)])
    assert res.exit_code == 1
    assert "T4_TOTAL" not in res.output and "总计为" in res.output
    res = CliRunner().invoke(app, ["import", str(src), "--json"])
    data = json.loads(res.stdout)
    assert any(f["code"] == "T4_TOTAL" for f in data["findings"])


def test_bad_text_inputs_say_what_is_wrong(tmp_path):
    rng = random.Random(1)
    cases = {
        "binary.txt": bytes(rng.randrange(256) for _ in range(5000)),
        "empty.txt": b"",
        "zeros.txt": b"\x00" * 100,
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        res = CliRunner().invoke(app, ["import", str(p)])
        assert res.exit_code == 1, name
        assert "Traceback" not in res.output
    r = import_file(tmp_path / "binary.txt")
    assert r.report is None and "不是文本文件" in r.findings[0].message
    r = import_file(tmp_path / "empty.txt")
    assert "空文件" in r.findings[0].message


def test_gbk_text_is_read():
    rep = make_report(seed=18)
    doc = read_bytes(report_text(rep, "spaces").encode("gb18030"), "r.txt")
    r = import_document(doc, spec=SPEC, source="r.txt", sha256="")
    assert differences(rep, r.report) == []


def test_amount_keeps_its_digits():
    rep = make_report(seed=19)
    rep.figures["t2.item8.fees.amount"] = Decimal("26.55")
    r = run_text(report_text(rep, "plain"))
    assert r.report.figures["t2.item8.fees.amount"] == Decimal("26.55")
    assert '"value": 26.55' in r.to_json()


def test_render_table_uses_the_format_labels():
    rows = render_table(SPEC.table("t2"), {}, "spaces", random.Random(0))
    assert rows[0] == SPEC.table("t2").cells[0].text


# -- the JSON works wherever export's does


def test_imported_json_serves_previous_docx_and_aggregate(tmp_path):
    from xlsx_tools.checks import check_report
    from xlsx_tools.read.reader import load_previous

    last = make_report(seed=70, agency="某某县财政局", year=2021)
    src = tmp_path / "2021.txt"
    src.write_text(report_text(last, "spaces"), encoding="utf-8")
    out = tmp_path / "2021.json"
    assert CliRunner().invoke(app, ["import", str(src), "-o", str(out)]).exit_code == 0
    # as --previous: the cross-year rules run against the imported figures
    previous = load_previous(out)
    this = make_report(seed=71, agency="某某县财政局", year=2022)
    codes = {f.code for f in check_report(this, previous=previous)}
    assert "PREV_CARRY_OVER" in codes and not codes & {"PREV_OTHER_FORMAT", "PREV_OTHER_YEAR", "PREV_OTHER_AGENCY"}
    # re-typeset in official format by `docx`, and that Word file imports to the same figures
    docx = tmp_path / "重排.docx"
    res = CliRunner().invoke(app, ["docx", str(out), "-o", str(docx)])
    assert res.exit_code == 0, res.output
    again = import_file(docx)
    assert differences(last, again.report) == []
    # and as input to aggregate
    other = tmp_path / "other.json"
    src2 = tmp_path / "b.txt"
    src2.write_text(report_text(make_report(seed=72, agency="某某县税务局", year=2021), "pipes"), encoding="utf-8")
    assert CliRunner().invoke(app, ["import", str(src2), "-o", str(other)]).exit_code == 0
    res = CliRunner().invoke(app, ["aggregate", str(out), str(other), "-o", str(tmp_path / "sum.json"),
                                   "--agency", "某某县人民政府办公室", "--year", "2021"])
    assert res.exit_code == 0, res.output
    total = Report.load(tmp_path / "sum.json")
    assert total.figures["t3.received.total"] == last.figures["t3.received.total"] + Report.load(other).figures["t3.received.total"]


def test_a_large_text_of_label_fragments_is_linear(tmp_path):
    """1 MB of label pieces and numbers (no headings, so every table searches all of it) is read
    in seconds; the 2 MB text cap keeps the worst case bounded."""
    import time

    labels = [c.text for t in SPEC.tables for c in t.cells]
    rng = random.Random(3)
    parts, size = [], 0
    while size < 1 << 20:
        x = rng.choice(labels)[: rng.randint(1, 6)] + f" {rng.randint(0, 99)}" + ("\n" if rng.random() < 0.2 else " ")
        parts.append(x)
        size += len(x.encode())
    p = tmp_path / "big.txt"
    p.write_text("".join(parts), encoding="utf-8")
    t = time.perf_counter()
    r = import_file(p)
    assert time.perf_counter() - t < 30
    assert r.report is not None and r.has_errors
    big = tmp_path / "huge.txt"
    big.write_text("规章 0 " * 400_000, encoding="utf-8")
    r = import_file(big)
    assert r.report is None and "过大" in r.findings[0].message


def test_the_importer_does_not_load_the_cli_libraries():
    import subprocess
    import sys

    code = ("import sys, xlsx_tools.read.published, xlsx_tools.collect.review, xlsx_tools.read.published.pdf; "
            "from xlsx_tools.read.published import import_file; import_file('" + str(DATA / "sample-report-2021.txt") + "'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')]; print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_markdown_file_with_headings_and_separator_rows():
    rep = make_report(seed=80)
    text = report_text(rep, "pipes")
    for s in SPEC.sections:
        text = text.replace(f"\n{s.heading}\n", f"\n## {s.heading}\n")
    lines = text.split("\n")
    out = []
    for i, ln in enumerate(lines):
        out.append(ln)
        if ln.startswith("| ") and (i == 0 or not lines[i - 1].startswith("|")):
            out.append("|" + "---|" * ln.count("|"))
    r = run_text("\n".join(out), name="report.md")
    assert differences(rep, r.report) == []
    assert all(r.source_block["sections"][s.number] for s in SPEC.sections)


def test_section_four_retitled_as_some_agencies_do():
    rep = make_report(seed=81)
    variant = tolerance().drift[SPEC.section("四").heading][0]
    text = report_text(rep, "spaces").replace(SPEC.section("四").heading, variant)
    assert variant in text
    r = run_text(text)
    assert differences(rep, r.report) == []
    assert r.source_block["sections"]["四"] is not None


def test_blank_cells_in_aligned_text_are_placed_by_position():
    """pdftotext -layout keeps columns aligned: a row printed with a blank cell has fewer figures,
    each goes to the column it stands under (measured on the full rows)."""
    rep = make_report(seed=82)
    shown = {fid: fmt_number(v) for fid, v in rep.figures.items()}
    shown["t3.granted.research"] = ""
    shown["t3.withheld.third_party.natural_person"] = ""
    shown["t3.withheld.third_party.total"] = ""
    shown["t2.item1.normative.repealed"] = "/"
    r = run_text(report_text(rep, "padded", seed=3, shown=shown))
    src = r.source_block["figures"]
    for fid in ("t3.granted.research", "t3.withheld.third_party.natural_person", "t3.withheld.third_party.total"):
        assert src[fid]["state"] == "blank" and src[fid]["by"] == "position", fid
    assert src["t2.item1.normative.repealed"]["state"] == "not_applicable"
    blanked = {"t3.granted.research", "t3.withheld.third_party.natural_person", "t3.withheld.third_party.total",
               "t2.item1.normative.repealed"}
    assert {d[0] for d in differences(rep, r.report)} == blanked
    assert r.report.figures["t3.granted.total"] == rep.figures["t3.granted.total"]


def test_printed_numbers_go_through_the_bounded_parser():
    """A figure printed beyond every bound (format/numbers.py) is the finding check gives for such
    a cell, named by its label; a figure within them but above its type's maximum is 数字过大."""
    rep = make_report(seed=31)
    shown = {fid: fmt_number(v) for fid, v in rep.figures.items()}
    shown["t4.review.upheld"] = "1." + "1" * 40  # 41 significant digits
    shown["t4.review.corrected"] = "9" * 32  # about 10^32: beyond any value
    shown["t4.review.other"] = "２,000,000,000"  # full width, separators: above the count maximum
    r = run_text(report_text(rep, "pipes", shown=shown))
    by_field = {f.fields[0]: f for f in r.findings if f.fields}
    assert by_field["t4.review.upheld"].code == "TOO_MANY_DIGITS"
    assert by_field["t4.review.corrected"].code == "NUMBER_TOO_LARGE"
    assert by_field["t4.review.other"].code == "NUMBER_TOO_LARGE"
    assert "表四" in by_field["t4.review.upheld"].message and "1111" in by_field["t4.review.upheld"].message
    src = r.source_block["figures"]
    assert src["t4.review.upheld"]["state"] == "invalid" and r.report.figures["t4.review.upheld"] is None
    assert r.report.figures["t4.review.other"] == 2_000_000_000
    # the rest of the table is read as printed
    assert r.report.figures["t4.suit_direct.total"] == rep.figures["t4.suit_direct.total"]
    assert r.has_errors


def test_number_tokens_never_build_unbounded_values():
    from xlsx_tools.format.numbers import NumberError
    from xlsx_tools.read.published.document import classify, number

    assert number("1,234") == 1234 and number("１２") == 12 and number("26.50") == Decimal("26.5")
    assert number("1E+5") is None and number("5件") is None  # never printed so: text
    with pytest.raises(NumberError):
        number("9" * 5000)
    tok = classify("9" * 5000, 0, None)
    assert tok.kind == "num" and tok.value is None and tok.error.kind == "large"
