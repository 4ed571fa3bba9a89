"""Re-running `template --roster` into a folder that already holds a batch is refused (exit 2)
unless --force; `template --add` adds agencies to a batch with its own password, appends them to
manifest.csv and leaves the rest of the batch untouched."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.utils.protection import hash_password
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.format.spec import load_format
from xlsx_tools.read.roster import parse_roster
from xlsx_tools.util.fsutil import sha256_file
from xlsx_tools.write.batch import existing_batch, template_deadline, template_identity
from xlsx_tools.write.template import MANIFEST_NAME, write_template


def flat(text: str) -> str:
    return "".join(text.split())


def manifest_rows(folder) -> list[dict[str, str]]:
    text = (folder / MANIFEST_NAME).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture()
def runner():
    return CliRunner()


@pytest.fixture()
def batch(runner, tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text("机关名称,机关代码,联系人\n甲局,001,张三\n乙局,002,\n", encoding="utf-8")
    out = tmp_path / "模板"
    res = runner.invoke(app, ["template", "-y", "2025", "-r", str(roster), "-o", str(out), "--deadline", "2026/1/31"])
    assert res.exit_code == 0, res.output
    return out


def snapshot(folder):
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir())}


def add_roster(tmp_path, text: str, name: str = "新增.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- re-runs


def test_a_rerun_into_a_batch_is_refused(runner, tmp_path, batch):
    before = snapshot(batch)
    roster = add_roster(tmp_path, "机关名称\n甲局\n乙局\n丙局\n")
    res = runner.invoke(app, ["template", "-y", "2025", "-r", str(roster), "-o", str(batch)])
    assert res.exit_code == 2
    message = flat(res.stderr)
    assert flat(f"输出文件夹「{batch}」中已有一批模板（manifest.csv、2 个本工具生成的模板") in message
    assert flat("重新生成会换用新的保护密码并覆盖已发出的模板和清单") in message
    assert flat(f"请用 --add 新增名单.csv -o {batch}") in message and flat("确需整批重新生成，请加 --force") in message
    assert snapshot(batch) == before


def test_templates_without_a_manifest_are_a_batch_too(runner, tmp_path, batch):
    (batch / MANIFEST_NAME).unlink()
    assert existing_batch(batch) == "2 个本工具生成的模板（如「乙局.xlsx」）"
    res = runner.invoke(app, ["template", "-y", "2025", "-r", str(add_roster(tmp_path, "机关名称\n丙局\n")),
                              "-o", str(batch)])
    assert res.exit_code == 2 and "已有一批模板" in flat(res.stderr)


def test_other_files_are_not_a_batch(tmp_path):
    folder = tmp_path / "杂物"
    folder.mkdir()
    (folder / "说明.txt").write_text("x", encoding="utf-8")
    wb = openpyxl.Workbook()
    wb.save(folder / "别人的表.xlsx")
    (folder / "坏.xlsx").write_bytes(b"PK\x03\x04broken")
    assert existing_batch(folder) is None
    assert existing_batch(tmp_path / "没有") is None
    assert template_identity(folder / "别人的表.xlsx") is None


def test_force_regenerates_the_batch(runner, tmp_path, batch):
    old_password = manifest_rows(batch)[0]["保护密码"]
    roster = add_roster(tmp_path, "机关名称\n甲局\n乙局\n")
    res = runner.invoke(app, ["template", "-y", "2025", "-r", str(roster), "-o", str(batch), "--force"])
    assert res.exit_code == 0, res.output
    rows = manifest_rows(batch)
    assert [r["机关名称"] for r in rows] == ["甲局", "乙局"]
    assert rows[0]["保护密码"] != old_password


def test_the_manifest_itself_as_roster_with_force_is_refused(runner, batch):
    res = runner.invoke(app, ["template", "-y", "2025", "-r", str(batch / MANIFEST_NAME), "-o", str(batch), "--force"])
    assert res.exit_code == 2


# --------------------------------------------------------------------------- --add


def test_add_uses_the_batch_password_and_appends(runner, tmp_path, batch):
    manifest_before = (batch / MANIFEST_NAME).read_bytes()
    templates_before = {k: v for k, v in snapshot(batch).items() if k != MANIFEST_NAME}
    password = manifest_rows(batch)[0]["保护密码"]
    roster = add_roster(tmp_path, "机关名称,机关代码,联系人\n丙局,003,李四\n丁局,,\n")
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-o", str(batch)])
    assert res.exit_code == 0, res.output
    out = flat(res.output)
    assert flat("已添加 2 个模板") in out and "丙局.xlsx、丁局.xlsx" in out
    assert flat("原有 2 个机关不变，新增 2 个追加在末尾") in out and "截止日期：2026年1月31日" in out

    manifest = (batch / MANIFEST_NAME).read_bytes()
    assert manifest.startswith(manifest_before)  # earlier lines byte for byte
    rows = manifest_rows(batch)
    assert [r["机关名称"] for r in rows] == ["甲局", "乙局", "丙局", "丁局"]
    assert {r["保护密码"] for r in rows} == {password}
    assert rows[2]["机关代码"] == "003" and rows[2]["文件名"] == "丙局.xlsx"
    assert rows[2]["sha256"] == sha256_file(batch / "丙局.xlsx")
    if "填报截止日期" in rows[0]:  # manifests that carry the deadline carry it for added agencies too
        assert rows[2]["填报截止日期"] == rows[0]["填报截止日期"] == "2026年1月31日"
    assert {k: v for k, v in snapshot(batch).items() if k in templates_before} == templates_before

    wb = openpyxl.load_workbook(batch / "丙局.xlsx")
    assert wb["表三"].protection.password == hash_password(password)
    values = [c.value for row in wb["填报说明"].iter_rows() for c in row]
    assert "2026年1月31日" in values
    spec = load_format()
    person = next(f for f in spec.info_fields if f.key == "contact_person")
    assert wb[person.sheet][person.cell].value == "李四"


def test_add_with_a_new_deadline(runner, tmp_path, batch):
    roster = add_roster(tmp_path, "机关名称\n丙局\n")
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-o", str(batch),
                              "--deadline", "2026年2月15日"])
    assert res.exit_code == 0, res.output
    values = [c.value for row in openpyxl.load_workbook(batch / "丙局.xlsx")["填报说明"].iter_rows() for c in row]
    assert "2026年2月15日" in values


def test_add_refuses_agencies_already_in_the_batch_naming_them(runner, tmp_path, batch):
    before = snapshot(batch)
    roster = add_roster(tmp_path, "机关名称\n甲局\n丙局\n乙 局\n")
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-o", str(batch)])
    assert res.exit_code == 2
    assert flat("以下机关已在本批次的清单（manifest.csv）中：甲局、乙局。请从新名单中删去这些机关后重试") in flat(res.stderr)
    assert snapshot(batch) == before  # 丙局 not written either


@pytest.mark.parametrize("args, message", [
    (["-y", "2024"], "中的这批模板是 2025 年度的（如「甲局.xlsx」），与 --year 2024 不符。"),
    (["-y", "2025", "-p", "another-pw"], "--password 与本批次的保护密码（manifest.csv 中的“保护密码”）不同。"),
])
def test_add_refusals(runner, tmp_path, batch, args, message):
    before = snapshot(batch)
    roster = add_roster(tmp_path, "机关名称\n丙局\n")
    res = runner.invoke(app, ["template", *args, "--add", str(roster), "-o", str(batch)])
    assert res.exit_code == 2
    assert flat(message) in flat(res.stderr)
    assert snapshot(batch) == before


def test_add_needs_a_batch(runner, tmp_path):
    roster = add_roster(tmp_path, "机关名称\n丙局\n")
    empty = tmp_path / "空"
    empty.mkdir()
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-o", str(empty)])
    assert res.exit_code == 2
    assert flat(f"「{empty}」中没有 manifest.csv：--add 只能向用 --roster 生成过的一批模板中添加机关。") in flat(res.stderr)
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-o", str(tmp_path / "无")])
    assert res.exit_code == 2
    assert flat(f"找不到文件夹「{tmp_path / '无'}」：--add 只能向已有的一批模板中添加机关，请用 -o 指定") in flat(res.stderr)
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-r", str(roster)])
    assert res.exit_code == 2 and "三者选一" in flat(res.stderr)


def test_add_fills_every_column_the_manifest_has(runner, tmp_path):
    """A manifest with more columns (contact details, a 简称 column) gets them for new agencies
    as far as the added roster has them; a column the roster lacks stays empty."""
    spec = load_format()
    folder = tmp_path / "批"
    folder.mkdir()
    info = write_template(folder / "甲局.xlsx", agency="甲局", year=2025, password="pw-1")
    header = "机关名称,机关代码,联系人,简称,序号,文件名,sha256,模板指纹,保护密码"
    line = f"甲局,,王五,甲,1,甲局.xlsx,{info.sha256},{info.fingerprint},pw-1"
    (folder / MANIFEST_NAME).write_bytes(f"\ufeff{header}\r\n{line}\r\n".encode())
    roster = add_roster(tmp_path, "机关名称,联系人,简称,联系电话\n=丙局,李四,丙,123\n")
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(roster), "-o", str(folder)])
    assert res.exit_code == 0, res.output
    rows = manifest_rows(folder)
    new = rows[1]
    assert new["机关名称"] == "'=丙局"  # CSV injection neutralised as the manifest writer does
    assert new["联系人"] == "李四" and new["序号"] == "" and new["保护密码"] == "pw-1"
    assert list(new) == header.split(",")
    assert parse_roster((folder / MANIFEST_NAME).read_text(encoding="utf-8-sig"), spec=spec)[1].agency == "=丙局"
    if "简称" in getattr(parse_roster("机关名称,简称\n甲,乙\n", spec=spec), "columns", []):
        assert new["简称"] == "丙"  # rosters that keep their other columns (RosterRow.extra)


def test_add_keeps_a_gbk_manifest_gbk(runner, tmp_path, batch):
    text = (batch / MANIFEST_NAME).read_bytes().decode("utf-8-sig")
    (batch / MANIFEST_NAME).write_bytes(text.encode("gbk"))
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(add_roster(tmp_path, "机关名称\n丙局\n")),
                              "-o", str(batch)])
    assert res.exit_code == 0, res.output
    lines = (batch / MANIFEST_NAME).read_bytes().decode("gbk").splitlines()
    assert [ln.split(",")[0] for ln in lines] == ["机关名称", "甲局", "乙局", "丙局"]


def test_add_never_reuses_a_file_name(runner, tmp_path, batch):
    (batch / "丙局.xlsx").write_bytes(b"someone else's file")
    res = runner.invoke(app, ["template", "-y", "2025", "--add", str(add_roster(tmp_path, "机关名称\n丙局\n")),
                              "-o", str(batch)])
    assert res.exit_code == 0, res.output
    assert (batch / "丙局.xlsx").read_bytes() == b"someone else's file"
    assert manifest_rows(batch)[-1]["文件名"] == "丙局-2.xlsx"


def test_add_defaults_to_the_years_batch_folder(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.csv").write_text("机关名称\n甲局\n", encoding="utf-8")
    (tmp_path / "n.csv").write_text("机关名称\n乙局\n", encoding="utf-8")
    assert runner.invoke(app, ["template", "-y", "2025", "-r", "r.csv"]).exit_code == 0
    res = runner.invoke(app, ["template", "-y", "2025", "--add", "n.csv"])
    assert res.exit_code == 0, res.output
    assert [r["机关名称"] for r in manifest_rows(tmp_path / "templates-2025")] == ["甲局", "乙局"]


# -- the deadline read back from 填报说明 (read/'s intake, no openpyxl in the package)


@pytest.mark.parametrize("deadline", ["2026-01-31", "", "1月31日前 & <报送>"])
def test_template_deadline_as_written_and_after_another_program_saved_it(tmp_path, deadline):
    path = write_template(tmp_path / "t.xlsx", agency="甲局", year=2025, password="pw", deadline=deadline).path
    assert template_deadline(path) == deadline
    wb = openpyxl.load_workbook(path)
    wb.save(tmp_path / "resaved.xlsx")
    assert template_deadline(tmp_path / "resaved.xlsx") == deadline


def test_template_deadline_of_a_file_that_is_not_one_of_ours_is_none(tmp_path):
    (tmp_path / "x.xlsx").write_bytes(b"PK\x03\x04 broken")
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet"
    wb.save(tmp_path / "other.xlsx")
    assert template_deadline(tmp_path / "x.xlsx") is None
    assert template_deadline(tmp_path / "missing.xlsx") is None
    assert template_deadline(tmp_path / "other.xlsx") is None  # no 填报说明 sheet


def test_template_deadline_in_shared_and_in_inline_strings(tmp_path):
    """xlsxwriter (the template) writes shared strings; openpyxl, as some programs do, inline ones."""
    path = write_template(tmp_path / "t.xlsx", agency="甲局", year=2025, password="pw", deadline="2026年1月31日").path
    with zipfile.ZipFile(path) as z:
        assert "2026年1月31日" in z.read("xl/sharedStrings.xml").decode()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报说明"
    ws["A5"], ws["B5"] = "填报截止日期", "2026年1月31日"
    wb.save(tmp_path / "inline.xlsx")
    with zipfile.ZipFile(tmp_path / "inline.xlsx") as z:
        assert re.search(r'<c r="B5"[^>]*t="inlineStr"', z.read("xl/worksheets/sheet1.xml").decode())
    assert template_deadline(path) == template_deadline(tmp_path / "inline.xlsx") == "2026年1月31日"
