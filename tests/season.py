"""A whole collection season, built in code: a district's GBK roster of 27 agencies (a title line
above the column names, a 简称/别名 column, contacts), the batch of templates and its manifest, and
a returns folder as offices really receive it — short file names without the district, .xls, .csv
and .docx files, a mailbox zip with GBK member names, drafts and final versions, last year's
template, a template sent back blank, two agencies whose names differ only in case, files of
nobody. `build_season(base)` writes it all under `base` and returns what each agency did and the
status it must get, for test_season.py and for any test that needs a realistic season (e.g. the
printed pages of 收集情况.xlsx)."""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import docx as python_docx

from xlsx_tools.cli.demo.samples import random_report
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.report import Report
from xlsx_tools.model.status import Status
from xlsx_tools.read.roster import read_roster
from xlsx_tools.write.template import MANIFEST_NAME, write_batch, write_template

SPEC = load_format()
YEAR = 2025
DISTRICT = "青山区"
DEADLINE = "2026年1月31日"
PASSWORD = "season-pw"
TITLE = f"{DISTRICT}{YEAR}年度政府信息公开工作年度报告报送名单"
NARRATIVE = {"overview": "本机关认真贯彻落实政府信息公开条例，各项工作有序开展。", "problems": "无。", "other": "无。"}

# (agency without the district, alias column, what it sends, status it must get)
AGENCIES: tuple[tuple[str, str, str, str], ...] = (
    ("人民政府办公室", "", "区政府办2025年报.xlsx: clean", Status.OK),
    ("发展和改革局", "", "发改局.xlsx: clean", Status.OK),
    ("教育局", "", "教育局年报.xls: an .xls only", Status.ERR),
    ("公安分局", "", "公安/年报.xlsx: clean, named by its folder", Status.OK),
    ("民政局", "", "邮箱导出.zip!附件/民政局年报.xlsx: clean, GBK member name", Status.OK),
    ("司法局", "", "邮箱导出.zip!附件/司法局.xls: .xls, GBK member name", Status.ERR),
    ("财政局", "", "财政局（初稿）.xlsx with errors, then 财政局（定稿）.xlsx clean", Status.OK),
    ("人力资源和社会保障局", "", "人社局.xlsx: balance error", Status.ERR),
    ("自然资源和规划局", "", "自然资源局.xlsx: stock warning", Status.WARN),
    ("住房和城乡建设局", "", "住建局.csv: a CSV only", Status.ERR),
    ("交通运输局", "", "nothing", Status.MISSING),
    ("农业农村局", "", "农业局2024.xlsx: last year's template only", Status.ERR),
    ("商务局", "", "商务局年报.xls: an .xls only", Status.ERR),
    ("文化和旅游局", "", "文旅局.xlsx: clean", Status.OK),
    ("卫生健康局", "", "卫健局.csv: a CSV only", Status.ERR),
    ("退役军人事务局", "", "退役军人局.xlsx: the template sent back blank", Status.ERR),
    ("应急管理局", "", "应急局2024.xlsx last year's and 应急局2025.xlsx clean", Status.OK),
    ("审计局", "", "审计局.xlsx: clean", Status.OK),
    ("市场监督管理局", "", "市场监管局.xlsx: clean", Status.OK),
    ("统计局", "", "nothing", Status.MISSING),
    ("医疗保障局", "", "医保局年报.docx: a Word document only", Status.ERR),
    ("生态环境分局", "", "环保局.xlsx: clean", Status.OK),
    ("政务服务中心", "", "政务中心（修改）.xlsx: stock warning", Status.WARN),
    ("融媒体中心", "融媒；县台", "融媒年报.xls: an .xls, named by its alias", Status.ERR),
    ("ABC中心", "", "ABC中心.xlsx: clean", Status.OK),
    ("abc中心", "", "abc中心.xls: an .xls, case kept", Status.ERR),
    ("城市管理局", "", "城管局.xlsx: clean", Status.OK),
)
NAMES = [DISTRICT + a for a, *_ in AGENCIES]
STATUSES = [s for *_, s in AGENCIES]

# Files nobody on the roster sent (path in the returns folder -> what the reason must mention).
UNATTRIBUTED = {
    "邮箱导出.zip!附件/说明.txt": "文件名中没有名单中的机关名称",
    "其他区教育局.xlsx": "不在本次名单中",
    "Abc中心.docx": f"“{DISTRICT}ABC中心”、“{DISTRICT}abc中心”",  # case-only different: which one is unknown
    "卫健局和民政局联合报送说明.docx": f"“{DISTRICT}民政局”、“{DISTRICT}卫生健康局”",
}
# The draft superseded by the final version: in 文件清单, never in 问题清单.
DRAFT = "财政局（初稿）.xlsx"


@dataclass
class Season:
    base: Path
    roster: Path  # the office's GBK roster
    manifest: Path  # the batch's manifest.csv (used as the collect roster)
    returns: Path
    names: list[str] = field(default_factory=lambda: list(NAMES))
    statuses: list[str] = field(default_factory=lambda: list(STATUSES))


def code(i: int) -> str:
    return f"640599-{i + 1:03d}"


def roster_text() -> str:
    lines = [TITLE, "", "序号,机关名称,机关代码,简称/别名,联系人,联系电话"]
    for i, (name, alias, *_) in enumerate(AGENCIES):
        lines.append(f"{i + 1},{DISTRICT}{name},{code(i)},{alias},联系人{i + 1},0955-70{i + 1:05d}")
    return "\r\n".join(lines) + "\r\n"


def report(i: int, year: int = YEAR, seed: int | None = None) -> Report:
    r = random_report(SPEC, random.Random(1000 + i if seed is None else seed), NAMES[i], code(i), year)
    r.narrative = dict(NARRATIVE)
    return r


def with_error(r: Report) -> Report:
    r.figures["t3.received.natural_person"] += 1  # T3_BALANCE fails
    return r


def with_warning(r: Report) -> Report:
    r.figures.update({"t2.item1.rules.issued": 5, "t2.item1.rules.repealed": 0, "t2.item1.rules.in_force": 1})
    return r


def saved(day: int) -> datetime:
    return datetime(YEAR + 1, 1, day, 2, 30, tzinfo=UTC)


def workbook(path: Path, r: Report | None, i: int, *, day: int = 10, year: int = YEAR) -> bytes:
    """A return written by the template writer (pre-filled with `r`, or blank), saved on day."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(path, agency=NAMES[i], code=code(i), year=year, password=PASSWORD, report=r, created=saved(day))
    return path.read_bytes()


XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)  # an Excel 97-2003 (OLE) file
CSV = "机关名称,本年新收\n某局,3\n".encode("gbk")


def word(text: str) -> bytes:
    d = python_docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


class _GbkInfo(zipfile.ZipInfo):
    """A member named in GBK without the UTF-8 flag, as Chinese Windows' "send to zip" writes."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def gbk_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = _GbkInfo(name, date_time=(2026, 1, 10, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def build_returns(root: Path, scratch: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True)
    ix = {name: i for i, (name, *_) in enumerate(AGENCIES)}
    workbook(root / "区政府办2025年报.xlsx", report(ix["人民政府办公室"]), ix["人民政府办公室"])
    workbook(root / "发改局.xlsx", report(ix["发展和改革局"]), ix["发展和改革局"])
    (root / "教育局年报.xls").write_bytes(XLS)
    workbook(root / "公安" / "年报.xlsx", report(ix["公安分局"]), ix["公安分局"])
    members = {
        "附件/民政局年报.xlsx": workbook(scratch / "mz.xlsx", report(ix["民政局"]), ix["民政局"]),
        "附件/司法局.xls": XLS,
        "附件/说明.txt": "请查收本单位的年度报告。".encode("gbk"),
    }
    (root / "邮箱导出.zip").write_bytes(gbk_zip(members))
    i = ix["财政局"]
    workbook(root / DRAFT, with_error(report(i, seed=1)), i, day=5)
    workbook(root / "财政局（定稿）.xlsx", report(i), i, day=20)
    workbook(root / "人社局.xlsx", with_error(report(ix["人力资源和社会保障局"])), ix["人力资源和社会保障局"])
    workbook(root / "自然资源局.xlsx", with_warning(report(ix["自然资源和规划局"])), ix["自然资源和规划局"])
    (root / "住建局.csv").write_bytes(CSV)
    i = ix["农业农村局"]
    workbook(root / "农业局2024.xlsx", report(i, year=YEAR - 1), i, year=YEAR - 1)
    (root / "商务局年报.xls").write_bytes(XLS)
    workbook(root / "文旅局.xlsx", report(ix["文化和旅游局"]), ix["文化和旅游局"])
    (root / "卫健局.csv").write_bytes(CSV)
    workbook(root / "退役军人局.xlsx", None, ix["退役军人事务局"])
    i = ix["应急管理局"]
    workbook(root / "应急局2024.xlsx", report(i, year=YEAR - 1), i, year=YEAR - 1)
    workbook(root / "应急局2025.xlsx", report(i), i)
    workbook(root / "审计局.xlsx", report(ix["审计局"]), ix["审计局"])
    workbook(root / "市场监管局.xlsx", report(ix["市场监督管理局"]), ix["市场监督管理局"])
    (root / "医保局年报.docx").write_bytes(word("医疗保障局 2025 年政府信息公开工作年度报告"))
    workbook(root / "环保局.xlsx", report(ix["生态环境分局"]), ix["生态环境分局"])
    workbook(root / "政务中心（修改）.xlsx", with_warning(report(ix["政务服务中心"])), ix["政务服务中心"])
    (root / "融媒年报.xls").write_bytes(XLS)
    workbook(root / "ABC中心.xlsx", report(ix["ABC中心"]), ix["ABC中心"])
    (root / "abc中心.xls").write_bytes(XLS)
    workbook(root / "城管局.xlsx", report(ix["城市管理局"]), ix["城市管理局"])
    # files of nobody
    other = random_report(SPEC, random.Random(7), "其他区教育局", "999999-001", YEAR)
    other.narrative = dict(NARRATIVE)
    write_template(root / "其他区教育局.xlsx", agency="其他区教育局", code="999999-001", year=YEAR, password=PASSWORD,
                   report=other, created=saved(10))
    (root / "Abc中心.docx").write_bytes(word("Abc中心"))
    (root / "卫健局和民政局联合报送说明.docx").write_bytes(word("联合报送说明"))
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))


def build_season(base: Path) -> Season:
    """Write the roster (GBK, title line), the batch of templates with its manifest (deadline
    included), and the returns folder under `base`."""
    base.mkdir(parents=True, exist_ok=True)
    roster = base / "报送名单.csv"
    roster.write_bytes(roster_text().encode("gbk"))
    rows = read_roster(roster)
    write_batch(rows, YEAR, base / "模板", password=PASSWORD, deadline=DEADLINE)
    build_returns(base / "回收", base / "scratch")
    return Season(base=base, roster=roster, manifest=base / "模板" / MANIFEST_NAME, returns=base / "回收")


__all__ = ["AGENCIES", "DEADLINE", "DRAFT", "NAMES", "STATUSES", "Season", "UNATTRIBUTED", "YEAR", "build_season"]
