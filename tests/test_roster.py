"""The roster CSV, batches of templates with their manifest, the `template` command and the demo."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from openpyxl.utils.protection import hash_password
from rich.console import Console
from typer.testing import CliRunner

from xlsx_tools.cli import console as console_module
from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo.run import DemoContext, run_demo
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.meta import template_fingerprint
from xlsx_tools.read.roster import RosterError, RosterRow, parse_roster, read_roster, write_roster
from xlsx_tools.util.fsutil import sha256_file
from xlsx_tools.write.template import MANIFEST_NAME, batch_filenames, write_batch

HEADER = "机关名称,机关代码,联系人,联系电话,电子邮箱"
ROSTER = f"""{HEADER}
沙坡头区教育局,640502-004,王五,0955-1234567,jyj@example.cn
沙坡头区民政局,640502-006,,,
沙坡头区司法局,,赵六,,
"""


@pytest.fixture(scope="module")
def spec():
    return load_format()


def _flat(text: str) -> str:
    """CLI output on one line (the consoles are widened below, so rich does not wrap)."""
    return text.replace("\n", " ")


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch):
    for c in (console_module.console, console_module.err_console):
        monkeypatch.setattr(c, "width", 1000)


# --------------------------------------------------------------------------- roster


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-be-bom"])
def test_roster_encodings(tmp_path, spec, encoding):
    path = tmp_path / "roster.csv"
    text = ROSTER.replace("\n", "\r\n")
    path.write_bytes("\ufeff".encode("utf-16-be") + text.encode("utf-16-be") if encoding == "utf-16-be-bom" else text.encode(encoding))
    rows = read_roster(path, spec)
    assert [r.agency for r in rows] == ["沙坡头区教育局", "沙坡头区民政局", "沙坡头区司法局"]
    assert rows[0] == RosterRow("沙坡头区教育局", "640502-004",
                                {"contact_person": "王五", "phone": "0955-1234567", "email": "jyj@example.cn"}, 2)
    assert rows[1].contact == {} and rows[2].code == "" and rows[2].contact == {"contact_person": "赵六"}


def test_roster_with_only_names_extra_columns_blank_lines_and_tabs(spec):
    rows = parse_roster("\ufeff 机关名称 ,备注\n甲局,x\n\n,\n乙局,\n", spec=spec)
    assert [(r.agency, r.code, dict(r.contact), r.line) for r in rows] == [("甲局", "", {}, 2), ("乙局", "", {}, 5)]
    rows = parse_roster("机关名称\t机关代码\n甲局\t001\n", spec=spec)
    assert (rows[0].agency, rows[0].code) == ("甲局", "001")


# A roster as offices keep it: a title, a blank line and a note above the column names, a running
# number column, blank lines between agencies, and a 合计 row at the end.
TITLED_ROSTER = """2025年政府信息公开年报填报单位名单,,,
,,,

（请核对机关名称）,,,
序号,机关名称,机关代码,联系人
1,沙坡头区教育局,640502-004,王五
,,,
2,沙坡头区民政局,,
"""


def test_roster_header_below_a_title_and_notes(spec):
    rows = parse_roster(TITLED_ROSTER, spec=spec)
    assert [(r.agency, r.code, dict(r.contact), r.line) for r in rows] == [
        ("沙坡头区教育局", "640502-004", {"contact_person": "王五"}, 6), ("沙坡头区民政局", "", {}, 8)]
    assert rows.notes == ["名单文件 名单 的列名在第 5 行，已跳过上方 4 行（标题或说明）。"]
    assert parse_roster(ROSTER, spec=spec).notes == []


def test_roster_header_below_a_title_tab_separated(tmp_path, spec):
    path = tmp_path / "名单.txt"
    path.write_bytes("填报单位名单\r\n\r\n序号\t机关名称\r\n1\t甲局\r\n".encode("utf-16"))
    rows = read_roster(path, spec)
    assert [(r.agency, r.line) for r in rows] == [("甲局", 4)]
    assert rows.notes == ["名单文件 名单.txt 的列名在第 3 行，已跳过上方 2 行（标题或说明）。"]


def test_roster_below_a_title_with_a_total_row_names_its_line(spec):
    with pytest.raises(RosterError) as e:
        parse_roster(TITLED_ROSTER + "合计,,,\n", spec=spec)
    assert str(e.value) == "名单文件 名单 中以下行的“机关名称”为空：第 9 行。请补全或删除这些行。"


def test_roster_locked_keys_other_than_name_and_code_are_ignored(spec):
    rows = parse_roster("机关名称,报告年度,通讯地址\n甲局,1999,某路 1 号\n", spec=spec)
    assert dict(rows[0].contact) == {"address": "某路 1 号"}


@pytest.mark.parametrize("text, message", [
    ("单位,代码\n甲局,1\n", "名单文件 名单 缺少“机关名称”列。找到的列：“单位”、“代码”。"
                           "列名行应在前 10 行内（标题、说明之下），其中须有“机关名称”。"),
    ("说明\n" * 10 + "机关名称\n甲局\n", "名单文件 名单 缺少“机关名称”列。找到的列：“说明”。"),
    ("\n,,\n", "名单文件 名单 是空的：第一行应为列名，至少包含“机关名称”。"),
    ("", "名单文件 名单 是空的：第一行应为列名，至少包含“机关名称”。"),
    ("机关名称\n", "名单文件 名单 中没有机关：列名行之下应每行一个机关。"),
    ("机关名称,机关代码\n甲局,1\n,2\n乙局,3\n  ,4\n", "名单文件 名单 中以下行的“机关名称”为空：第 3、5 行。请补全或删除这些行。"),
    ("机关名称\n甲局\n乙局\n甲局\n乙局\n乙局\n",
     "名单文件 名单 中机关名称重复：“甲局”（第 2、4 行）；“乙局”（第 3、5、6 行）。每个机关只能出现一次。"),
    ("PK\x03\x04\x00\x00", "不是文本格式的 CSV"),
])
def test_roster_errors(spec, text, message):
    with pytest.raises(RosterError) as e:
        parse_roster(text, spec=spec)
    assert message in str(e.value)


def test_roster_duplicates_differing_only_in_width_or_spaces(spec):
    text = ("机关名称\n沙坡头区（体育局）\n沙坡头区 (体育局)\n第１中学\n第1中学\nＡＢ局\n"
            "AB\u3000局\n甲局\n 甲局 \n甲 局\n沙坡头区卫生健康局\n")
    with pytest.raises(RosterError) as e:
        parse_roster(text, spec=spec)
    assert str(e.value) == (
        "名单文件 名单 中机关名称重复："
        "“沙坡头区（体育局）”（第 2 行）、“沙坡头区 (体育局)”（第 3 行）（仅全角半角或空格不同，视为同一机关）；"
        "“第１中学”（第 4 行）、“第1中学”（第 5 行）（仅全角半角或空格不同，视为同一机关）；"
        "“ＡＢ局”（第 6 行）、“AB\u3000局”（第 7 行）（仅全角半角或空格不同，视为同一机关）；"
        "“甲局”（第 8、9 行）、“甲 局”（第 10 行）（仅全角半角或空格不同，视为同一机关）。每个机关只能出现一次。")


def test_roster_names_are_kept_as_typed_only_trimmed(spec):
    rows = parse_roster("机关名称\n\u3000沙坡头区 （体育局） \n沙坡头区(教育局)\n", spec=spec)
    assert [r.agency for r in rows] == ["沙坡头区 （体育局）", "沙坡头区(教育局)"]


def test_roster_unreadable_files(tmp_path, spec):
    with pytest.raises(RosterError, match="找不到名单文件 .*nope.csv"):
        read_roster(tmp_path / "nope.csv", spec)
    with pytest.raises(RosterError, match="是文件夹，不是名单文件"):
        read_roster(tmp_path, spec)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00\xd8\x81")  # neither UTF-8 nor GB18030
    with pytest.raises(RosterError, match="bad.csv 的编码无法识别（UTF-16 内容不完整）。请在 Excel 或 WPS 中打开后另存为“CSV UTF-8（逗号分隔）”，再重试。"):
        read_roster(bad, spec)


def test_roster_saved_by_excel_as_unicode_text(tmp_path, spec):
    """Excel's "Unicode 文本 (*.txt)": UTF-16 LE with BOM, tab-separated, CRLF."""
    path = tmp_path / "名单.txt"
    path.write_bytes("机关名称\t机关代码\t联系人\r\n沙坡头区教育局\t640502-004\t王五\r\n".encode("utf-16"))
    [row] = read_roster(path, spec)
    assert (row.agency, row.code, dict(row.contact)) == ("沙坡头区教育局", "640502-004", {"contact_person": "王五"})


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_roster_given_as_a_workbook_says_save_as_csv(tmp_path, spec, suffix):
    path = tmp_path / f"名单{suffix}"
    if suffix == ".xlsx":
        wb = openpyxl.Workbook()
        wb.active.append(["机关名称"])
        wb.active.append(["甲局"])
        wb.save(path)
    else:
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(RosterError) as e:
        read_roster(path, spec)
    assert str(e.value) == (f"名单文件 名单{suffix} 是 Excel 或 WPS 工作簿，不是 CSV："
                            "请打开后“另存为”“CSV UTF-8（逗号分隔）”后重试。")


def test_write_roster_round_trips(tmp_path, spec):
    rows = [RosterRow("甲局", "1", {"email": "a@b.cn"}), RosterRow("乙局", "2")]
    path = write_roster(tmp_path / "r.csv", rows, spec)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert [(r.agency, r.code, dict(r.contact)) for r in read_roster(path, spec)] == [
        ("甲局", "1", {"email": "a@b.cn"}), ("乙局", "2", {})]


# --------------------------------------------------------------------------- batch


def test_batch_filenames_are_safe_and_unique():
    rows = [RosterRow("甲/局"), RosterRow("甲_局"), RosterRow("A局"), RosterRow("a局"), RosterRow("甲_局 ")]
    assert batch_filenames(rows) == ["甲_局.xlsx", "甲_局-2.xlsx", "A局.xlsx", "a局-2.xlsx", "甲_局-3.xlsx"]


def test_long_agency_names_make_file_names_every_file_system_accepts(tmp_path, spec):
    """255 bytes per file name on Linux/macOS, i.e. 85 Chinese characters, less the temporary name."""
    long_a, long_b = "宁夏回族自治区中卫市沙坡头区" * 7 + "甲局", "宁夏回族自治区中卫市沙坡头区" * 7 + "乙局"
    names = batch_filenames([RosterRow(long_a), RosterRow(long_b), RosterRow("甲局")])
    assert names[0] == "宁夏回族自治区中卫市沙坡头区" * 4 + "宁夏回族.xlsx" and names[1] == names[0][:-5] + "-2.xlsx"
    assert names[2] == "甲局.xlsx"
    infos = write_batch([RosterRow(long_a), RosterRow(long_b)], 2025, tmp_path / "out", password="pw", spec=spec)
    assert [i.path.name for i in infos] == names[:2] and all(i.path.is_file() for i in infos)
    assert [r["机关名称"] for r in csv.DictReader(io.StringIO((tmp_path / "out" / MANIFEST_NAME).read_text("utf-8-sig")))] == [long_a, long_b]


def test_cli_single_with_a_long_agency_name(runner, tmp_path, monkeypatch, spec):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["template", "-a", "沙坡头区" * 30, "-y", "2025", "-p", "pw"])
    assert res.exit_code == 0, res.output
    [path] = tmp_path.glob("*.xlsx")
    assert path.name == "沙坡头区" * 15 + ".xlsx"
    agency = next(f for f in spec.info_fields if f.key == "agency")
    assert openpyxl.load_workbook(path)[agency.sheet][agency.cell].value == "沙坡头区" * 30


def test_write_batch_and_manifest(tmp_path, spec):
    rows = parse_roster(ROSTER, spec=spec) + [RosterRow("沙坡头区司法局/二处")]
    seen = []
    infos = write_batch(rows, 2025, tmp_path / "out", password="batch-pw", deadline="2026年1月31日",
                        progress=seen.append, spec=spec)
    assert seen == infos and len(infos) == 4
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([i.path.name for i in infos] + [MANIFEST_NAME])
    raw = (tmp_path / "out" / MANIFEST_NAME).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 CSV correctly only with a BOM
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    # every roster column is kept, so that the manifest is a full roster for collect
    assert lines[0] == ["机关名称", "机关代码", "联系人", "联系电话", "电子邮箱", "文件名", "sha256", "模板指纹", "保护密码",
                        "填报截止日期"]
    assert lines[4][:6] == ["沙坡头区司法局/二处", "", "", "", "", "沙坡头区司法局_二处.xlsx"]
    assert lines[1][2:5] == ["王五", "0955-1234567", "jyj@example.cn"] and lines[3][2] == "赵六"
    for info, line in zip(infos, lines[1:], strict=True):
        assert line[:2] + line[5:] == [info.agency, info.code, info.path.name, sha256_file(info.path),
                                       template_fingerprint(spec), "batch-pw", "2026年1月31日"]
    as_roster = read_roster(tmp_path / "out" / MANIFEST_NAME, spec)
    assert as_roster[0].contact == {"contact_person": "王五", "phone": "0955-1234567", "email": "jyj@example.cn"}
    assert as_roster[0].extra["填报截止日期"] == "2026年1月31日"
    wb = openpyxl.load_workbook(infos[0].path)
    assert wb["表三"].protection.password == hash_password("batch-pw")
    info_sheet = wb[spec.info_sheet]
    got = {f.key: info_sheet[f.cell].value for f in spec.info_fields}
    assert (got["agency"], got["code"], got["year"]) == ("沙坡头区教育局", "640502-004", 2025)
    assert (got["contact_person"], got["phone"], got["email"]) == ("王五", "0955-1234567", "jyj@example.cn")
    assert "2026年1月31日" in [c.value for row in wb["填报说明"].iter_rows() for c in row]


def test_write_batch_generates_one_password_per_batch(tmp_path, spec):
    infos = write_batch([("甲局", "1"), {"agency": "乙局", "code": "2", "phone": "123"}], 2025, tmp_path, spec=spec)
    assert infos[0].password == infos[1].password and len(infos[0].password) >= 10
    again = write_batch([("甲局", "1")], 2025, tmp_path / "again", spec=spec)
    assert again[0].password != infos[0].password


# --------------------------------------------------------------------------- command


@pytest.fixture()
def runner():
    return CliRunner()


def test_cli_single_with_generated_password(runner, tmp_path):
    out = tmp_path / "t.xlsx"
    res = runner.invoke(app, ["template", "--agency", "沙坡头区教育局", "--year", "2025", "--code", "A1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    password = re.search(r"保护密码\s+([a-z0-9]+)（自动生成，请妥善保存）", text).group(1)
    wb = openpyxl.load_workbook(out)
    assert wb["表二"].protection.password == hash_password(password)
    assert "已生成模板" in text and "沙坡头区教育局" in text and template_fingerprint(load_format()) in text


def test_cli_single_into_a_folder_with_given_password(runner, tmp_path):
    res = runner.invoke(app, ["template", "-a", "甲/局", "-y", "2025", "-p", "given-pw", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "（由 --password 指定）" in _flat(res.output) and "given-pw" not in res.output
    assert (tmp_path / "甲_局.xlsx").is_file()


@pytest.mark.parametrize("output, written", [
    ("新文件夹/", "新文件夹/甲_局.xlsx"),            # ends with a separator: a folder, created
    ("a/b/", "a/b/甲_局.xlsx"),
    ("有/文件夹", "有/文件夹/甲_局.xlsx"),           # an existing folder
    ("新/的/文件夹/模板.xlsx", "新/的/文件夹/模板.xlsx"),  # missing parents of a file are created
    ("大写.XLSX", "大写.XLSX"),
])
def test_cli_single_output_folder_or_file(runner, tmp_path, monkeypatch, output, written):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "有" / "文件夹").mkdir(parents=True)
    res = runner.invoke(app, ["template", "-a", "甲/局", "-y", "2025", "-p", "pw", "-o", output])
    assert res.exit_code == 0, res.output
    assert (tmp_path / written).is_file() and str(written) in _flat(res.output).replace("\\", "/")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.*")) == [written]


def test_cli_help_says_what_output_accepts(runner, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    res = runner.invoke(app, ["template", "--help"])
    assert "…" not in res.output  # rich cuts a long run of Chinese without spaces short
    text = re.sub(r"[\s│]+", "", res.output)
    assert "或文件夹（已有的，或以/结尾时自动创建），文件名为“机关名称.xlsx”" in text
    assert ".xlsx文件名，缺少的上级文件夹自动创建" in text and "批量（--roster）：文件夹" in text


def test_cli_batch(runner, tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_bytes(ROSTER.encode("gbk"))
    res = runner.invoke(app, ["template", "--roster", str(roster), "--year", "2025", "-o", str(tmp_path / "out"),
                              "--deadline", "2026-01-31"])
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    assert "已生成 3 个模板" in text and MANIFEST_NAME in text
    password = re.search(r"保护密码：([a-z0-9]+)（本批次自动生成、各模板共用，已写入清单，请妥善保存）", text).group(1)
    manifest = (tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8-sig")
    assert manifest.count(password) == 3
    wb = openpyxl.load_workbook(tmp_path / "out" / "沙坡头区教育局.xlsx")
    assert "2026年1月31日" in [c.value for row in wb["填报说明"].iter_rows() for c in row]


@pytest.mark.parametrize("args, message", [
    (["--year", "2025"], "请指定 --agency（生成单个模板）、--roster（按名单批量生成）或 --add（向已有的一批模板添加机关），三者选一。"),
    (["--year", "2025", "-a", "甲局", "-r", "x.csv"], "请指定 --agency（生成单个模板）、--roster（按名单批量生成）或 --add（向已有的一批模板添加机关），三者选一。"),
    (["--year", "1999", "-a", "甲局"], "报告年度应为 2008—2100 之间的四位年份，收到：1999。"),
    (["--year", "25", "-a", "甲局"], "报告年度应为 2008—2100 之间的四位年份，收到：25。"),
    (["--year", "2025", "-a", "甲局", "-p", ""], "保护密码不能为空"),
    (["--year", "2025", "-a", "甲局", "-p", "中文密码"], "保护密码只能由英文字母、数字和英文标点组成"),
    (["--year", "2025", "-a", "  "], "机关名称不能为空。"),
    (["--year", "2025", "-a", "甲局", "--deadline", "明年一月"], "截止日期「明年一月」无法识别：请写成 2026-01-31、2026/1/31 或 2026年1月31日（须是实际存在的日期）。"),
    (["--year", "2025", "-a", "甲局", "-o", "out.pdf"], "模板只能保存为 .xlsx 格式（Excel 工作簿），不能保存为 .pdf：请把 -o 改为 out.xlsx。"),
    (["--year", "2025", "-a", "甲局", "-o", "新/out.xls"], "不能保存为 .xls：请把 -o 改为 新/out.xlsx。"),
    (["--year", "2025", "-a", "甲局", "-o", "out.CSV"], "不能保存为 .CSV：请把 -o 改为 out.xlsx。"),
    (["--year", "2025", "-a", "甲局", "-o", "模板"],
     "-o 应为 .xlsx 文件或文件夹：模板 既不以 .xlsx 结尾，也不是已有的文件夹。要保存到新文件夹，请在末尾加“/”（如 模板/）；"
     "要保存为文件，请写成 模板.xlsx。"),
    (["--year", "2025", "-a", "甲局", "--format", "gov-info-1999"], "未找到报告格式文件 gov-info-1999"),
    (["--year", "2025", "-r", "missing.csv"], "找不到名单文件 missing.csv。"),
])
def test_cli_usage_errors(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["template", *args])
    assert res.exit_code == 2
    assert message in _flat(res.stderr)
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_cli_batch_says_which_lines_above_the_header_were_skipped(runner, tmp_path):
    roster = tmp_path / "名单.csv"
    roster.write_text(TITLED_ROSTER, encoding="utf-8-sig")
    res = runner.invoke(app, ["template", "-r", str(roster), "-y", "2025", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    text = _flat(res.output)
    assert "说明：名单文件 名单.csv 的列名在第 5 行，已跳过上方 4 行（标题或说明）。" in text and "已生成 2 个模板" in text
    assert sorted(p.name for p in (tmp_path / "out").glob("*.xlsx")) == ["沙坡头区教育局.xlsx", "沙坡头区民政局.xlsx"]


def test_cli_roster_error_names_the_lines(runner, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("机关名称\n甲局\n甲局\n", encoding="utf-8")
    res = runner.invoke(app, ["template", "-r", str(roster), "-y", "2025", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "名单文件 r.csv 中机关名称重复：“甲局”（第 2、3 行）" in _flat(res.stderr)
    assert not (tmp_path / "out").exists()


def test_cli_batch_output_must_be_a_folder(runner, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("机关名称\n甲局\n", encoding="utf-8")
    (tmp_path / "file").write_text("x")
    res = runner.invoke(app, ["template", "-r", str(roster), "-y", "2025", "-o", str(tmp_path / "file")])
    assert res.exit_code == 2 and "批量生成时 -o 应为文件夹" in _flat(res.stderr)


def test_cli_unwritable_output(runner, tmp_path):
    (tmp_path / "file").write_text("x")  # a file where a folder should be: fails even for root
    res = runner.invoke(app, ["template", "-a", "甲局", "-y", "2025", "-o", str(tmp_path / "file" / "x.xlsx")])
    assert res.exit_code == 1 and f"无法写入 {tmp_path / 'file' / 'x.xlsx'}" in _flat(res.stderr)
    roster = tmp_path / "r.csv"
    roster.write_text("机关名称\n甲局\n", encoding="utf-8")
    res = runner.invoke(app, ["template", "-r", str(roster), "-y", "2025", "-o", str(tmp_path / "file" / "sub")])
    assert res.exit_code == 1 and "无法写入" in _flat(res.stderr)


# --------------------------------------------------------------------------- demo


def test_demo_writes_the_sample_templates(tmp_path, spec):
    out = io.StringIO()
    assert run_demo(tmp_path / "demo", Console(file=out, width=200)) == 0
    demo = tmp_path / "demo"
    sample = demo / "沙坡头区政务服务中心.xlsx"
    wb = openpyxl.load_workbook(sample)
    info = {f.key: wb[spec.info_sheet][f.cell].value for f in spec.info_fields}
    assert (info["agency"], info["year"]) == ("沙坡头区政务服务中心", 2021)
    assert info["phone"] == "0955-8597620" and info["email"] == "sptqzwzx@163.com"
    batch = sorted(p.name for p in (demo / "templates").glob("*.xlsx"))
    assert len(batch) == 12 and "沙坡头区卫生健康局.xlsx" in batch
    assert (demo / "templates" / MANIFEST_NAME).is_file() and (demo / "roster.csv").is_file()
    text = out.getvalue()
    assert "沙坡头区政务服务中心.xlsx" in text and "templates/manifest.csv" in text and "模板保护密码" in text


def test_demo_stages_are_pluggable(tmp_path):
    calls = []

    def stage(ctx: DemoContext) -> None:
        calls.append((ctx.year, ctx.spec.id, bool(ctx.password)))
        ctx.wrote(ctx.outdir / "x.txt", "测试阶段")

    out = io.StringIO()
    assert run_demo(tmp_path, Console(file=out, width=200), stages=[stage]) == 0
    assert calls == [(2021, "gov-info-2021", True)] and "测试阶段" in out.getvalue()


def test_demo_command(runner, tmp_path):
    res = runner.invoke(app, ["demo", "-o", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d" / "templates" / MANIFEST_NAME).is_file()


def test_demo_unwritable_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    out = io.StringIO()
    assert run_demo(tmp_path / "file" / "sub", Console(file=out, width=200)) == 1
    assert "无法创建输出文件夹" in out.getvalue()
