"""No command writes onto one of its own inputs: the same file by any spelling, a symlink or a
hard link, a file inside an input folder, or a folder holding an input (exit 2, Chinese message,
the input unchanged)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_collect import ROSTER, YEAR, clean_report, write_return
from xlsx_tools.cli.app import app
from xlsx_tools.read.roster import write_roster
from xlsx_tools.util.fsutil import output_clash

runner = CliRunner()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("guard")
    a = write_return(base / "in" / "a.xlsx", clean_report(1, 0))
    b = write_return(base / "in" / "b.xlsx", clean_report(2, 1))
    j = base / "j" / "c.json"
    j.parent.mkdir()
    j.write_text(clean_report(3, 2).to_json(), encoding="utf-8")
    return base, a, b, j


# The guard itself


def test_same_file_by_any_spelling_symlink_or_hard_link(tmp_path):
    f = tmp_path / "in.xlsx"
    f.write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.xlsx"
    link.symlink_to(f)
    hard = tmp_path / "hard.xlsx"
    os.link(f, hard)
    for out in (f, tmp_path / "sub" / ".." / "in.xlsx", Path(os.path.relpath(f)), link, hard):
        msg = output_clash([out], [f])
        assert msg == f"输出「{out}」就是输入文件「{f}」，写入会覆盖它。请用 -o 另选输出位置。"
    assert output_clash([tmp_path / "other.xlsx"], [f]) is None  # a new file: nothing to overwrite
    other = tmp_path / "other2.xlsx"
    other.write_bytes(b"x")  # same content, another file
    assert output_clash([other], [f]) is None


def test_output_inside_an_input_folder_or_a_folder_holding_an_input(tmp_path):
    folder = tmp_path / "回收"
    (folder / "sub").mkdir(parents=True)
    inside = folder / "sub" / "汇总.xlsx"
    assert output_clash([inside], [folder]) is None  # does not exist yet: would not be read
    inside.write_bytes(b"x")
    assert output_clash([inside], [folder]) == (
        f"输出「{inside}」已存在于输入文件夹「{folder}」中，写入会覆盖这个输入文件。请用 -o 另选输出位置（不要放在输入文件夹中）。")
    via_link = tmp_path / "链接"
    via_link.symlink_to(folder)
    assert output_clash([via_link / "sub" / "汇总.xlsx"], [folder]) is not None
    roster = folder / "sub" / "名单.csv"
    roster.write_text("机关名称\n甲\n", encoding="utf-8")
    assert output_clash([folder], [roster]) == (
        f"输入「{roster}」在输出文件夹「{folder}」中，写入可能覆盖或删除它。请用 -o 另选输出位置。")


# Every command that writes


def test_export_onto_its_input_through_a_symlink(inputs, tmp_path):
    _, a, _, _ = inputs
    link = tmp_path / "out.json"
    link.symlink_to(a)
    before = digest(a)
    res = runner.invoke(app, ["export", str(a), "-o", str(link)])
    assert res.exit_code == 2
    assert squash(f"输出「{link}」就是输入文件「{a}」，写入会覆盖它。") in squash(res.output)
    assert digest(a) == before and link.is_symlink()


@pytest.mark.parametrize("which", ["xlsx", "json", "spelling", "in-folder"])
def test_aggregate_onto_one_of_its_inputs(inputs, which):
    base, a, b, j = inputs
    out, msg = {
        "xlsx": (b, f"输出「{b}」就是输入文件「{b}」"),
        "json": (j, f"输出「{j}」就是输入文件「{j}」"),
        "spelling": (base / "j" / ".." / "j" / "c.json", "就是输入文件"),
        "in-folder": (a, f"输出「{a}」已存在于输入文件夹「{base / 'in'}」中"),
    }[which]
    before = {p: digest(p) for p in (a, b, j)}
    given = [base / "in"] if which == "in-folder" else [a, b]
    res = runner.invoke(app, ["aggregate", *map(str, given), str(j), "-o", str(out),
                              "--agency", "汇总", "--year", str(YEAR), "-j", "1"])
    assert res.exit_code == 2, res.output
    assert squash(msg) in squash(res.output)
    assert {p: digest(p) for p in (a, b, j)} == before


def test_docx_default_output_onto_the_narrative(inputs, tmp_path):
    """docx beside its JSON names the file as the published report is named, which is often the
    name of the narrative the office wrote: it must not replace it."""
    from xlsx_tools.model.report import Report
    from xlsx_tools.write.docx_report import default_filename

    _, _, _, j = inputs
    src = tmp_path / "c.json"
    src.write_bytes(j.read_bytes())
    narrative = tmp_path / default_filename(Report.load(src), Report.load(src).spec)
    import docx

    doc = docx.Document()
    doc.add_paragraph("一、总体情况")
    doc.add_paragraph("本机关依法公开政府信息。")
    doc.save(str(narrative))
    before = digest(narrative)
    res = runner.invoke(app, ["docx", str(src), "--narrative", str(narrative)])
    assert res.exit_code == 2, res.output
    assert squash(f"输出「{narrative}」就是输入文件「{narrative}」，写入会覆盖它。") in squash(res.output)
    assert digest(narrative) == before


def test_docx_onto_its_source_by_another_spelling(inputs, tmp_path):
    _, _, _, j = inputs
    src = tmp_path / "a.docx.json"
    src.write_bytes(j.read_bytes())
    hard = tmp_path / "x.docx"
    os.link(src, hard)
    res = runner.invoke(app, ["docx", str(src), "-o", str(hard)])
    assert res.exit_code == 2 and "就是输入文件" in squash(res.output)
    assert src.read_bytes() == j.read_bytes()


def test_template_batch_does_not_replace_its_roster(tmp_path):
    out = tmp_path / "templates"
    out.mkdir()
    roster = out / "manifest.csv"
    write_roster(roster, ROSTER[:2])
    before = digest(roster)
    res = runner.invoke(app, ["template", "--roster", str(roster), "-o", str(out), "--year", str(YEAR)])
    assert res.exit_code == 2 and "已有一批模板" in res.output  # a batch is there: refused without --force
    res = runner.invoke(app, ["template", "--roster", str(roster), "-o", str(out), "--year", str(YEAR), "--force"])
    assert res.exit_code == 2, res.output
    assert squash(f"输出「{roster}」就是输入文件「{roster}」，写入会覆盖它。") in squash(res.output)
    assert digest(roster) == before and sorted(p.name for p in out.iterdir()) == ["manifest.csv"]


def _collect(root: Path, roster: Path, out: Path, *extra: str):
    return runner.invoke(app, ["collect", str(root), "--roster", str(roster), "-o", str(out), "-j", "1", *extra])


def test_collect_into_its_folder_over_a_return_of_the_same_name(tmp_path):
    root = tmp_path / "回收"
    ret = write_return(root / "收集情况.xlsx", clean_report(1, 0))  # an agency named its file so
    write_roster(tmp_path / "r.csv", ROSTER[:1])
    before = digest(ret)
    res = _collect(root, tmp_path / "r.csv", root)
    assert res.exit_code == 2, res.output
    assert squash(f"输出「{ret}」已存在于输入文件夹「{root}」中，写入会覆盖这个输入文件。") in squash(res.output)
    assert digest(ret) == before


def test_collect_into_last_years_folder_or_onto_the_roster(tmp_path):
    root, prev = tmp_path / "2025", tmp_path / "2024"
    write_return(root / "a.xlsx", clean_report(1, 0))
    write_return(prev / "a.xlsx", clean_report(1, 0, year=YEAR - 1))
    write_roster(tmp_path / "r.csv", ROSTER[:1])
    assert _collect(prev, tmp_path / "r.csv", prev).exit_code in (0, 1)  # last year's collection, into its folder
    last = digest(prev / "collect.json")
    res = _collect(root, tmp_path / "r.csv", prev, "--previous", str(prev))
    assert res.exit_code == 2, res.output
    assert squash(f"已存在于输入文件夹「{prev}」中") in squash(res.output)
    assert digest(prev / "collect.json") == last
    out = tmp_path / "o"
    out.mkdir()
    roster = out / "collect.json"
    roster.write_bytes((tmp_path / "r.csv").read_bytes())
    res = _collect(root, roster, out)
    assert res.exit_code == 2 and squash(f"输出「{roster}」就是输入文件「{roster}」") in squash(res.output)


def test_collect_folder_inside_the_word_folder(tmp_path):
    out = tmp_path / "o"
    root = out / "年度报告" / "回收"
    write_return(root / "a.xlsx", clean_report(1, 0))
    write_roster(tmp_path / "r.csv", ROSTER[:1])
    res = _collect(root, tmp_path / "r.csv", out, "--docx")
    assert res.exit_code == 2, res.output
    assert squash(f"输入「{root}」在输出文件夹「{out / '年度报告'}」中，写入可能覆盖或删除它。") in squash(res.output)
    assert _collect(root, tmp_path / "r.csv", out).exit_code == 0  # without --docx nothing goes there
    res = _collect(root, tmp_path / "r.csv", out, "--docx")  # out now holds an earlier run's outputs
    assert res.exit_code == 2, res.output
    assert squash(f"本次收集的文件夹「{root}」在输出的“年度报告”文件夹中") in squash(res.output)


def test_collect_rerun_into_its_own_folder_is_allowed(tmp_path):
    root = tmp_path / "回收"
    write_return(root / "a.xlsx", clean_report(1, 0))
    write_roster(tmp_path / "r.csv", ROSTER[:1])
    first = _collect(root, tmp_path / "r.csv", root)
    assert first.exit_code == 0, first.output
    again = _collect(root, tmp_path / "r.csv", root)  # its own earlier outputs are replaced, nothing else
    assert again.exit_code == 0, again.output


def test_check_notice_folder_holding_the_checked_files(inputs):
    base, a, b, _ = inputs
    before = digest(a)
    res = runner.invoke(app, ["check", str(a), str(b), "--notice", str(base / "in")])
    assert res.exit_code == 2, res.output
    assert squash(f"输入「{a}」在输出文件夹「{base / 'in'}」中，写入可能覆盖或删除它。请用 --notice 另选输出位置。") in squash(res.output)
    assert digest(a) == before and sorted(p.name for p in (base / "in").iterdir()) == ["a.xlsx", "b.xlsx"]


def test_collect_folder_inside_the_notice_folder(tmp_path):
    out = tmp_path / "o"
    root = out / "问题通知" / "回收"
    write_return(root / "a.xlsx", clean_report(1, 0))
    write_roster(tmp_path / "r.csv", ROSTER[:1])
    res = _collect(root, tmp_path / "r.csv", out)
    assert res.exit_code == 2, res.output
    assert squash(f"输入「{root}」在输出文件夹「{out / '问题通知'}」中") in squash(res.output)


def test_import_onto_the_report_it_reads(tmp_path):
    src = tmp_path / "某局2021年报.txt"
    src.write_text("某局2021年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    link = tmp_path / "out.json"
    link.symlink_to(src)
    before = digest(src)
    res = runner.invoke(app, ["import", str(src), "-o", str(link)])
    assert res.exit_code == 2, res.output
    assert squash(f"输出「{link}」就是输入文件「{src}」，写入会覆盖它。") in squash(res.output)
    assert digest(src) == before
