"""Text from agencies never runs as a formula: every CSV we write quotes a leading = + - @ tab or
CR (OWASP), reading our own manifest back gives the names unchanged, and every workbook we write
stores such text as a string in every sheet. A roster mixing encodings is an error naming the
first line that differs, never mojibake."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.test_collect import ROSTER, YEAR, clean_report, write_return
from xlsx_tools.cli.app import app
from xlsx_tools.read.roster import (
    RosterError,
    RosterRow,
    csv_cell,
    csv_text,
    decode,
    read_roster,
    write_roster,
)

runner = CliRunner()

EVIL = ['=HYPERLINK("http://example.com/x","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "'=1+1",
        "\t=2*3局", "=1局"]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("text", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=1", "''=1"), ("沙坡头区", "沙坡头区"), ("'局", "'局"), ("a=1", "a=1"), ("", ""),
])
def test_csv_cell_quotes_what_a_spreadsheet_would_run(text, cell):
    assert csv_cell(text) == cell
    assert csv_text(cell) == text


@given(st.text(alphabet=st.sampled_from(list("'=+-@\t\r局a ")), max_size=8))
def test_csv_cell_round_trips(text):
    cell = csv_cell(text)
    assert csv_text(cell) == text
    assert not cell or cell[0] not in "=+-@\t\r"


def test_roster_and_manifest_are_written_safe_and_read_back_unchanged(tmp_path):
    rows = [RosterRow(name, f"C{i}") for i, name in enumerate(n.strip() for n in EVIL)]
    write_roster(tmp_path / "r.csv", rows)
    raw = (tmp_path / "r.csv").read_bytes().decode("utf-8-sig")
    assert "\n'=HYPERLINK(" in raw.replace('"', "") and "\n'+cmd|" in raw and "\n'@SUM" in raw
    assert not re.search(r"^[=+\-@]", raw, re.M)
    assert [r.agency for r in read_roster(tmp_path / "r.csv")] == [r.agency for r in rows]

    res = runner.invoke(app, ["template", "--roster", str(tmp_path / "r.csv"), "-o", str(tmp_path / "t"),
                              "--year", str(YEAR), "--password", "pw123456"])
    assert res.exit_code == 0, res.output
    manifest = (tmp_path / "t" / "manifest.csv").read_bytes().decode("utf-8-sig")
    lines = manifest.splitlines()[1:]
    assert all(not re.match(r"[=+\-@\t\r]", ln) for ln in lines)
    assert not any(re.search(r",[=+\-@\t\r]", ln) for ln in lines)  # no live cell anywhere in a row
    back = read_roster(tmp_path / "t" / "manifest.csv")  # the manifest is a roster for collect
    assert [(r.agency, r.code) for r in back] == [(r.agency, r.code) for r in rows]
    for book in (tmp_path / "t").glob("*.xlsx"):
        assert_no_live_text(book, [r.agency for r in rows])


def _formulas_and_strings(book: Path) -> tuple[list[str], str]:
    with zipfile.ZipFile(book) as z:
        xml = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}
    formulas = [f for n, x in xml.items() if n.startswith("xl/worksheets/") for f in re.findall(r"<f[^>]*>([^<]*)</f>", x)]
    strings = "".join(x for n, x in xml.items() if n == "xl/sharedStrings.xml" or n.startswith("xl/worksheets/"))
    return formulas, strings


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def assert_no_live_text(book: Path, texts: list[str]) -> None:
    formulas, strings = _formulas_and_strings(book)
    for text in texts:
        payload = text.lstrip("=+-@'\t")
        assert not any(payload in f for f in formulas), (book.name, text)
    found = [t for t in texts if _xml(t) in strings or t in strings or _xml(t).replace("&quot;", '"') in strings]
    assert found, f"{book.name}: none of the texts written as a string"


def test_collect_and_aggregate_workbooks_hold_the_text_as_strings(tmp_path):
    rows = [RosterRow(EVIL[0], "E0"), RosterRow("@SUM(1+1)", "E1"), *ROSTER[2:3]]
    write_roster(tmp_path / "r.csv", rows)
    root = tmp_path / "回收"
    for i, row in enumerate(rows):
        r = clean_report(i + 1, 2)
        r.agency.name, r.agency.code = row.agency, row.code
        write_return(root / f"{i}.xlsx", r)
    out = tmp_path / "o"
    res = runner.invoke(app, ["collect", str(root), "--roster", str(tmp_path / "r.csv"), "-o", str(out), "-j", "1"])
    assert res.exit_code in (0, 1), res.output
    assert_no_live_text(out / "收集情况.xlsx", [EVIL[0], "@SUM(1+1)"])
    _, strings = _formulas_and_strings(out / "收集情况.xlsx")
    assert strings.count(_xml("@SUM(1+1)")) >= 3  # 收集情况, 文件清单, 全部数据 (streamed) …

    agg = tmp_path / "汇总.xlsx"
    res = runner.invoke(app, ["aggregate", str(root), "-o", str(agg), "--agency", "=HYPERLINK(\"http://x\",\"y\")",
                              "--code", "+1", "--year", str(YEAR), "-j", "1"])
    assert res.exit_code == 0, res.output
    assert_no_live_text(agg, ['=HYPERLINK("http://x","y")'])


# A roster that mixes encodings


def test_gbk_header_over_utf8_rows_names_the_first_bad_line(tmp_path):
    data = "机关名称,机关代码\r\n".encode("gbk") + "沙坡头区教育局,1\r\n沙坡头区民政局,2\r\n".encode()
    with pytest.raises(RosterError) as e:
        decode(data, "名单.csv")
    assert str(e.value) == ("名单文件 名单.csv 的编码前后不一致：第 1 行是 GBK 编码，第 2 行却是 UTF-8 编码（可能是从不同文件复制拼接的）。"
                            "请在 Excel 或 WPS 中打开后另存为“CSV UTF-8（逗号分隔）”，再重试。")
    (tmp_path / "r.csv").write_bytes(data)
    res = runner.invoke(app, ["template", "--roster", str(tmp_path / "r.csv"), "-o", str(tmp_path / "t"), "--year", str(YEAR)])
    assert res.exit_code == 2 and "第2行却是UTF-8编码" in squash(res.output)
    assert not (tmp_path / "t").exists()


def test_utf8_roster_with_one_gbk_row_and_undecodable_lines():
    data = "机关名称\n甲局\n".encode() + "乙局\n".encode("gbk") + "丙局\n".encode()
    with pytest.raises(RosterError, match="第 1 行是 UTF-8 编码，第 3 行却是 GBK 编码"):
        decode(data, "r.csv")
    with pytest.raises(RosterError, match="第 2 行的编码无法识别（既不是 UTF-8，也不是 GBK）"):
        decode("机关名称\n".encode("gbk") + b"\xff\xff\xff\n", "r.csv")


def test_one_encoding_still_reads():
    for enc in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        assert decode("机关名称,机关代码\r\n沙坡头区（体育局）,1\r\n".encode(enc), "r.csv").splitlines()[1] == "沙坡头区（体育局）,1"


def test_other_roster_columns_round_trip_through_the_manifest(tmp_path):
    (tmp_path / "r.csv").write_text('机关名称,简称,备注\n甲局,"=甲",@备注\n乙局,-乙,+1\n', encoding="utf-8")
    first = read_roster(tmp_path / "r.csv")
    res = runner.invoke(app, ["template", "--roster", str(tmp_path / "r.csv"), "-o", str(tmp_path / "t"),
                              "--year", str(YEAR), "--password", "pw123456"])
    assert res.exit_code == 0, res.output
    raw = (tmp_path / "t" / "manifest.csv").read_bytes().decode("utf-8-sig")
    assert not any(re.search(r"(^|,)[=+\-@]", ln) for ln in raw.splitlines())
    back = read_roster(tmp_path / "t" / "manifest.csv")
    assert [(r.agency, r.extra.get("简称"), r.aliases) for r in back] == [
        (r.agency, r.extra.get("简称"), r.aliases) for r in first]
    assert [r.extra.get("简称") for r in back] == ["=甲", "-乙"]
