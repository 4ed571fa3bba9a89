"""collect: a generated folder of returns with every status is reported exactly.

The folder is described as a table (file, what it holds, expected status), built in code from
write_template(report=…) so that nothing binary is committed. Builders here are reused by the
other test_collect*/test_aggregate* files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import openpyxl
import pytest
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.cli.demo.samples import SAMPLE_ROSTER, random_report
from xlsx_tools.collect import classify, collect_json, run, walk, worker
from xlsx_tools.collect import notice as collect_notice
from xlsx_tools.collect.collection import Spill
from xlsx_tools.format.numbers import NumberError
from xlsx_tools.format.spec import load_format
from xlsx_tools.model.jsonio import BadNumber
from xlsx_tools.model.record import SPILLED_FIELDS, FileRecord, quoted_reason
from xlsx_tools.model.report import Report, dumps, loads
from xlsx_tools.model.status import Status
from xlsx_tools.read.roster import RosterRow, write_roster
from xlsx_tools.write.notice import NOTICE_DIR as WRITER_NOTICE_DIR
from xlsx_tools.write.template import write_batch, write_template

SPEC = load_format()
YEAR = 2025
NARRATIVE = {"overview": "本机关认真贯彻落实政府信息公开条例，各项工作有序开展。", "problems": "无。", "other": "无。"}
ROSTER = [RosterRow(a, code) for a, code in SAMPLE_ROSTER[:9]]
A = [r.agency for r in ROSTER]  # A[0] … A[8]


# ---------------------------------------------------------------------------------------------
# Builders


def clean_report(seed: int, index: int, year: int = YEAR, roster: list[RosterRow] = ROSTER) -> Report:
    """Figures that satisfy every rule, a narrative that states no counts: no finding at all."""
    row = roster[index]
    r = random_report(SPEC, random.Random(seed), row.agency, row.code, year)
    r.narrative = dict(NARRATIVE)
    return r


def with_warning(r: Report) -> Report:
    """现行有效件数 below 本年制发 − 本年废止: T2_STOCK_PLAUSIBLE (a warning)."""
    r.figures.update({"t2.item1.rules.issued": 5, "t2.item1.rules.repealed": 0, "t2.item1.rules.in_force": 1})
    return r


def with_error(r: Report) -> Report:
    """One more application received than handled: T3_BALANCE fails (errors)."""
    r.figures["t3.received.natural_person"] += 1
    return r


def saved(day: int) -> datetime:
    return datetime(YEAR + 1, 1, day, 9, 0, tzinfo=UTC)


def write_return(path: Path, report: Report, day: int = 10) -> Path:
    """A returned workbook: the template pre-filled with `report`, saved on 1 January + day."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(path, agency=report.agency.name, code=report.agency.code, year=report.year, password="pw",
                   report=report, created=saved(day))
    return path


def workbook_bytes(report: Report, tmp: Path, day: int = 10) -> bytes:
    return write_return(tmp / f"{report.agency.name}-{day}.xlsx", report, day).read_bytes()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def word_document(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph("年度报告说明")
    d.save(str(path))
    return path


def foreign_workbook(path: Path) -> Path:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Sheet1").write(0, 0, "自制表格")
    wb.close()
    return path


# The returns folder, as the office finds it after a season of emails (agency index, what, status).
FOLDER = """
file                                           | content                         | status
{A0}.xlsx                                      | clean return of A0              | 合格
{A1}.xlsx                                      | A1 with a warning               | 有警告
第二批/{A2}.xlsx                                | A2 with errors                  | 有错误
{A3}.xlsx                                      | A3 first send, with errors      | 重复提交
{A3}（修改后）.xlsx                             | A3 re-sent later, clean         | 合格
邮箱导出.zip                                     | archive                         | 压缩包
邮箱导出.zip!../逃逸.xlsx                        | member with a path trick        | 无法读取
邮箱导出.zip!附件.zip                            | archive in the archive          | 压缩包
邮箱导出.zip!附件.zip!{A4}.xlsx                  | clean return of A4              | 合格
邮箱导出.zip!附件.zip!说明.txt                   | a text file                     | 无法读取
邮箱导出.zip!__MACOSX/附件/._{A4}.xlsx           | a Mac's resource fork           | 系统文件
{A6}.xlsx                                      | A6 sent last year's template    | 非本次模板
{A7}.xlsx                                      | A7's file, truncated            | 无法读取
{A8}.xlsx                                      | clean return of A8              | 合格
其他区民政局.xlsx                                | agency of another roster        | 非本次模板
自制表格.xlsx                                    | a workbook that is not ours     | 非本次模板
年报说明.docx                                    | a Word document                 | 无法读取
~${A0}.xlsx                                    | Excel's lock file               | 系统文件
第二批/Thumbs.db                                 | Windows' thumbnail cache        | 系统文件
"""
# A5 sent nothing.

AGENCY_STATUS = [Status.OK, Status.WARN, Status.ERR, Status.OK, Status.OK, Status.MISSING, Status.ERR, Status.ERR, Status.OK]


def folder_table() -> list[tuple[str, str]]:
    rows = []
    for line in FOLDER.strip().splitlines()[1:]:
        name, _, status = (p.strip() for p in line.split("|"))
        rows.append((name.format(**{f"A{i}": a for i, a in enumerate(A)}), status))
    return rows


def build_returns(root: Path, scratch: Path) -> None:
    """Write the folder FOLDER describes."""
    scratch.mkdir(parents=True, exist_ok=True)
    write_return(root / f"{A[0]}.xlsx", clean_report(0, 0))
    write_return(root / f"{A[1]}.xlsx", with_warning(clean_report(1, 1)))
    write_return(root / "第二批" / f"{A[2]}.xlsx", with_error(clean_report(2, 2)))
    write_return(root / f"{A[3]}.xlsx", with_error(clean_report(3, 3)), day=5)
    write_return(root / f"{A[3]}（修改后）.xlsx", clean_report(33, 3), day=20)
    inner = zip_bytes({f"{A[4]}.xlsx": workbook_bytes(clean_report(4, 4), scratch), "说明.txt": "附件说明".encode()})
    (root / "邮箱导出.zip").write_bytes(zip_bytes({"附件.zip": inner, "../逃逸.xlsx": b"x",
                                                  f"__MACOSX/附件/._{A[4]}.xlsx": b"\x00\x05\x16\x07" + bytes(60)}))
    write_return(root / f"{A[6]}.xlsx", clean_report(6, 6, year=YEAR - 1))
    (root / f"{A[7]}.xlsx").write_bytes(workbook_bytes(clean_report(7, 7), scratch)[:3000])
    write_return(root / f"{A[8]}.xlsx", clean_report(8, 8))
    other = [RosterRow("其他区民政局", "999999-001")]
    write_return(root / "其他区民政局.xlsx", clean_report(9, 0, roster=other))
    foreign_workbook(root / "自制表格.xlsx")
    word_document(root / "年报说明.docx")
    (root / f"~${A[0]}.xlsx").write_bytes(b"\x0bowner" + bytes(150))
    (root / "第二批" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))


def sha_tree(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def without_generated_at(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "generated_at"}


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """The returns folder, the roster (the manifest of the batch the templates came from), and one
    collect run over them with a pool of two processes."""
    base = tmp_path_factory.mktemp("season")
    write_batch(ROSTER, YEAR, base / "templates", password="pw")
    build_returns(base / "returns", base / "scratch")
    before = sha_tree(base / "returns")
    result = run.collect(base / "returns", base / "templates" / "manifest.csv", base / "out", jobs=2)
    data = loads((base / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    return base, result, data, before


# ---------------------------------------------------------------------------------------------
# Every status, exactly


def test_every_file_found_has_its_status(season):
    _, _, data, _ = season
    reported = [(f["path"], f["status"]) for f in data["files"]]
    assert sorted(reported) == sorted(folder_table())


def test_files_found_equals_files_reported_each_with_sha256(season):
    base, result, data, _ = season
    on_disk = [p for p in (base / "returns").rglob("*") if p.is_file()]
    with zipfile.ZipFile(base / "returns" / "邮箱导出.zip") as z:
        outer = [i for i in z.infolist() if not i.is_dir()]
        with zipfile.ZipFile(io.BytesIO(z.read("附件.zip"))) as inner:
            members = len(outer) + len(inner.infolist())
    assert data["summary"]["files"] == len(data["files"]) == len(on_disk) + members == result.files_found
    for f in data["files"]:
        assert len(f["sha256"]) == 64, f["path"]
    by_path = {f["path"]: f for f in data["files"]}
    for p in on_disk:
        rel = p.relative_to(base / "returns").as_posix()
        assert by_path[rel]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_agency_statuses(season):
    _, result, data, _ = season
    assert [(a["agency"], a["status"]) for a in data["agencies"]] == list(zip(A, [s.label for s in AGENCY_STATUS], strict=True))
    assert [a.status for a in result.agencies] == AGENCY_STATUS


def test_summary_text(season):
    _, result, data, _ = season
    assert result.summary_lines()[0] == f"应交 9 家，已交 8 家：合格 4，有警告 1，有错误 3；未提交 1 家：{A[5]}。"
    assert result.summary_lines()[1] == ("共找到 19 个文件（其中压缩包内 5 个）：重复提交 1，无法读取 4，非本次模板 3，"
                                         "压缩包 2，系统文件 3（已忽略），无法对应到机关 5。")
    assert data["summary"]["text"] == result.summary_lines()
    assert data["summary"] | {"text": None} == {
        "expected": 9, "submitted": 8, "ok": 4, "warning": 1, "error": 3, "missing": 1, "files": 19,
        "files_by_status": {"ok": 4, "warning": 1, "error": 1, "duplicate": 1, "unreadable": 4, "internal": 0,
                            "foreign": 3, "archive": 2, "system": 3},
        "text": None,
    }
    assert not result.ok


def test_resend_uses_the_newest_by_the_workbooks_own_save_time(season):
    _, _, data, _ = season
    a3 = data["agencies"][3]
    assert a3["file"] == f"{A[3]}（修改后）.xlsx"
    assert a3["files"] == [f"{A[3]}.xlsx", f"{A[3]}（修改后）.xlsx"]
    assert a3["note"] == "重复提交 1 个较旧的文件，已采用保存时间最新的一个"
    old = next(f for f in data["files"] if f["path"] == f"{A[3]}.xlsx")
    assert old["note"] == f"同一机关有较新的文件，已采用“{A[3]}（修改后）.xlsx”"
    assert old["errors"] == 1  # its findings are still listed


def test_matching_by_identity_and_by_file_name(season):
    _, _, data, _ = season
    files = {f["path"]: f for f in data["files"]}
    assert files[f"{A[0]}.xlsx"]["match"] == classify.BY_IDENTITY
    assert files[f"邮箱导出.zip!附件.zip!{A[4]}.xlsx"]["agency"] == A[4]
    # the truncated file has no identity: its name places it, and says so
    truncated = files[f"{A[7]}.xlsx"]
    assert (truncated["agency"], truncated["match"]) == (A[7], classify.BY_NAME)
    # Excel's lock file is named after A0 but is never a return
    assert files[f"~${A[0]}.xlsx"]["agency"] == ""
    assert files["其他区民政局.xlsx"]["note"] == "是“其他区民政局”的模板，该机关不在本次名单中。"
    assert files[f"{A[6]}.xlsx"]["note"] == f"是 {YEAR - 1} 年度的模板，本次收集的是 {YEAR} 年度。请用本年度下发的模板填写。"
    assert files["邮箱导出.zip!../逃逸.xlsx"]["note"] == "的路径指向压缩包之外（路径不安全），未读取。"
    assert "Word 文档（.docx），不是 Excel 工作簿。" in files["年报说明.docx"]["note"]


def test_files_of_nobody_are_listed_with_the_reason(season):
    _, result, data, _ = season
    unplaced = {u["path"]: u["reason"] for u in data["unattributed"]}
    assert unplaced == {
        "邮箱导出.zip!../逃逸.xlsx": "的路径指向压缩包之外（路径不安全），未读取。文件名中没有名单中的机关名称。",
        "邮箱导出.zip!附件.zip!说明.txt": unplaced["邮箱导出.zip!附件.zip!说明.txt"],
        "其他区民政局.xlsx": "是“其他区民政局”的模板，该机关不在本次名单中。",
        "自制表格.xlsx": unplaced["自制表格.xlsx"],
        "年报说明.docx": unplaced["年报说明.docx"],
    }
    assert unplaced["年报说明.docx"].endswith("文件名中没有名单中的机关名称。")
    assert unplaced["自制表格.xlsx"].startswith("这不是政务公开办下发的年报模板") or "模板" in unplaced["自制表格.xlsx"]
    assert [r.name for r in result.unattributed()] == list(unplaced)


def test_agencies_that_sent_only_unusable_files_have_errors_with_the_reason(season):
    _, _, data, _ = season
    a6, a7 = data["agencies"][6], data["agencies"][7]
    assert a6["note"] == (f"提交的文件无法使用：“{A[6]}.xlsx”是 {YEAR - 1} 年度的模板，本次收集的是 {YEAR} 年度。"
                          "请用本年度下发的模板填写。")
    assert a7["note"].startswith(f"提交的文件无法使用（按文件名对应到本机关）：“{A[7]}.xlsx”是一个不完整的 Excel 文件")
    assert a6["figures"] is None and a7["file"] == ""


def test_figures_and_findings_are_in_the_json(season):
    _, _, data, _ = season
    a0 = data["agencies"][0]
    assert a0["figures"] == clean_report(0, 0).figures
    a2 = data["agencies"][2]
    findings = next(f for f in data["files"] if f["path"] == f"第二批/{A[2]}.xlsx")["findings"]
    assert {f["code"] for f in findings} == {"T3_BALANCE"} and a2["errors"] == len(findings) == 1
    assert data["agencies"][5]["figures"] is None


def test_total_sums_the_accepted_agencies_only(season):
    _, result, data, _ = season
    accepted = [clean_report(0, 0), with_warning(clean_report(1, 1)), clean_report(33, 3), clean_report(4, 4),
                clean_report(8, 8)]
    expected = {f.id: sum(r.figures[f.id] for r in accepted) for f in SPEC.fields}
    assert data["total"]["figures"] == expected
    assert data["total"]["included"] == [A[0], A[1], A[3], A[4], A[8]] and data["total"]["agencies"] == 5
    assert isinstance(data["total"]["figures"]["t2.item8.fees.amount"], Decimal)


def test_inputs_are_never_modified(season):
    base, _, _, before = season
    assert sha_tree(base / "returns") == before


def test_a_second_run_gives_the_same_result(season, tmp_path):
    base, _, data, _ = season
    run.collect(base / "returns", base / "templates" / "manifest.csv", tmp_path / "again", jobs=1)
    again = loads((tmp_path / "again" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    assert without_generated_at(again) == without_generated_at(data)
    first = zipfile.ZipFile(base / "out" / walk.OUTPUT_XLSX)
    second = zipfile.ZipFile(tmp_path / "again" / walk.OUTPUT_XLSX)
    parts = [n for n in first.namelist() if n != "docProps/core.xml"]
    assert parts == [n for n in second.namelist() if n != "docProps/core.xml"]
    for name in parts:
        assert first.read(name) == second.read(name), name


def test_outputs_only_and_no_leftovers(season):
    base, _, _, _ = season
    assert sorted(p.name for p in (base / "out").iterdir()) == sorted([walk.OUTPUT_XLSX, walk.OUTPUT_JSON, walk.NOTICE_DIR])


def test_year_inferred_or_given(season, tmp_path):
    base, result, data, _ = season
    assert (data["year"], data["year_inferred"]) == (YEAR, True)
    assert result.summary_lines()[2] == f"报告年度：{YEAR}（按收到的文件推断，可用 --year 指定）"
    other = run.collect(base / "returns", base / "templates" / "manifest.csv", tmp_path / "y", year=YEAR - 1, jobs=1)
    # collecting last year: only A6's file is of that year
    assert [a.status for a in other.agencies] == [Status.ERR] * 5 + [Status.MISSING, Status.OK, Status.ERR, Status.ERR]
    assert other.agencies[0].note == f"提交的文件无法使用：“{A[0]}.xlsx”是 {YEAR} 年度的模板，本次收集的是 {YEAR - 1} 年度。请用本年度下发的模板填写。"


# ---------------------------------------------------------------------------------------------
# Pure parts: classification, matching, the walker


def record(seq: int, name: str, *, agency: str = "", code: str = "", year: int = YEAR, fmt: str = SPEC.id,
           saved_at: str = "", errors: int = 0, warnings: int = 0, kind: str = "ok", report: bool = True,
           sha: str = "") -> FileRecord:
    identity = {"agency": agency, "code": code, "year": str(year), "format": fmt} if agency or code else {}
    return FileRecord(seq=seq, name=name, size=1, sha256=sha or f"{seq:064x}", kind=kind, reason="不能用。",
                        identity=identity, saved_at=saved_at, application="", errors=errors, warnings=warnings,
                        archive=None, has_report=report, offset=0)


def test_classify_other_format_and_duplicates_tie_break_by_path():
    roster = classify.RosterIndex(ROSTER[:2])
    recs = [
        record(0, "b.xlsx", agency=A[0], saved_at="2026-01-01T00:00:00Z"),
        record(1, "a.xlsx", agency=A[0], saved_at="2026-01-01T08:00:00+08:00"),  # the same instant
        record(2, "x.xlsx", agency=A[1], fmt="gov-info-2099"),
    ]
    agencies = classify.classify(recs, roster, year=YEAR, format_id=SPEC.id)
    assert [r.status for r in recs] == [Status.OK, Status.DUPLICATE, Status.FOREIGN]
    assert agencies[0].file is recs[0]  # same save time: the later path wins, whatever the reading order
    assert recs[2].reason == f"是其他格式（gov-info-2099）的模板，本次收集使用 {SPEC.id}。"
    assert agencies[1].status == Status.ERR and agencies[1].note.startswith("提交的文件无法使用：“x.xlsx”是其他格式")


def test_classify_a_file_without_save_time_is_the_oldest():
    roster = classify.RosterIndex(ROSTER[:1])
    recs = [record(0, "z.xlsx", agency=A[0]), record(1, "a.xlsx", agency=A[0], saved_at="2020-01-01T00:00:00Z")]
    classify.classify(recs, roster, year=YEAR, format_id=SPEC.id)
    assert [r.status for r in recs] == [Status.DUPLICATE, Status.OK]


def test_classify_identical_resend_is_said_to_be_identical():
    roster = classify.RosterIndex(ROSTER[:1])
    recs = [record(0, "a.xlsx", agency=A[0], sha="ab" * 32), record(1, "x.zip!a.xlsx", agency=A[0], sha="ab" * 32)]
    classify.classify(recs, roster, year=YEAR, format_id=SPEC.id)
    assert recs[0].note == "同一机关有较新的文件，已采用“x.zip!a.xlsx”（内容相同）"


def test_classify_matches_by_code_before_name():
    roster = classify.RosterIndex(ROSTER[:3])
    recs = [record(0, "a.xlsx", agency="改过名字的机关", code=ROSTER[2].code)]
    agencies = classify.classify(recs, roster, year=YEAR, format_id=SPEC.id)
    assert agencies[2].file is recs[0] and recs[0].match == classify.BY_IDENTITY


def test_roster_index_by_file_name():
    roster = classify.RosterIndex([RosterRow("沙坡头区民政局"), RosterRow("沙坡头区民政局社会救助站"), RosterRow("财政局")])
    assert roster.by_filename("沙坡头区民政局2025年报（修改）.xlsx") == 0
    assert roster.by_filename("交来的/沙坡头区民政局社会救助站.xlsx") == 1  # the longest name wins
    assert roster.by_filename("沙坡头区民政局/年报.xlsx") == 0  # the folder's name, when the file says nothing
    assert roster.by_filename("邮件.zip!沙坡头区民政局 .XLSX") == 0
    assert roster.by_filename("~$沙坡头区民政局.xlsx") is None
    assert roster.by_filename("沙坡头区民政局和财政局联合报送.xlsx") is None  # two agencies: ambiguous
    assert roster.by_filename("年报.xlsx") is None
    assert roster.by_identity("沙坡头区民政局 ", "") == 0
    assert roster.by_identity("（全角）财政局", "") is None


def test_infer_year_majority_then_latest():
    roster = classify.RosterIndex(ROSTER[:3])
    recs = [record(0, "a", agency=A[0], year=2024), record(1, "b", agency=A[1], year=2025),
            record(2, "c", agency="名单外", year=2023), record(3, "d", agency="名单外2", year=2023)]
    assert classify.infer_year(recs, roster, SPEC.id) == 2025
    assert classify.infer_year([], roster, SPEC.id) is None


def names(items) -> list[tuple[str, str | None]]:
    return [(i.name, i.problem) for i in items]


def test_walker_order_is_sorted_and_depth_first(tmp_path):
    for rel in ("b.xlsx", "a/2.xlsx", "a/1.xlsx", "c.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    assert [i.name for i in walk.walk(tmp_path)] == ["a/1.xlsx", "a/2.xlsx", "b.xlsx", "c.txt"]
    assert [i.seq for i in walk.walk(tmp_path)] == [0, 1, 2, 3]


def test_walker_skips_excluded_paths_and_reports_symlinks(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "收集情况.xlsx").write_bytes(b"x")
    os.symlink(tmp_path / "a.xlsx", tmp_path / "link.xlsx")
    os.symlink(tmp_path, tmp_path / "loop")
    items = list(walk.walk(tmp_path, exclude=[tmp_path / "out"]))
    assert [n for n, _ in names(items)] == ["a.xlsx", "link.xlsx", "loop"]
    assert items[0].problem is None
    for item, target in zip(items[1:], (tmp_path / "a.xlsx", tmp_path), strict=True):
        assert item.problem.startswith(f"是符号链接（快捷方式）（指向“{target}”），未读取：文件夹内的链接不跟随")


def test_walker_zip_caps(tmp_path):
    big = b"0" * (3 << 20)
    (tmp_path / "a.zip").write_bytes(zip_bytes({"bomb.xlsx": big, "ok.txt": b"x", "sub/": b""}))
    limits = walk.ArchiveLimits(member=replace(walk.DEFAULT_ARCHIVE_LIMITS.member, max_file_bytes=2 << 20))
    items = list(walk.walk(tmp_path, limits=limits))
    assert names(items) == [
        ("a.zip", None),
        ("a.zip!bomb.xlsx", "解压后 3.0 MB，超过单个文件的上限 2 MB，未读取。"),
        ("a.zip!ok.txt", None),
    ]
    assert items[0].archive == 2
    ratio = walk.ArchiveLimits(member=replace(walk.DEFAULT_ARCHIVE_LIMITS.member, ratio_floor_bytes=1 << 20))
    assert names(walk.walk(tmp_path, limits=ratio))[1][1].startswith("的压缩比高达 ")
    few = walk.ArchiveLimits(max_members=1)
    assert names(walk.walk(tmp_path, limits=few)) == [("a.zip", "是含 2 个文件的压缩包，超过上限 1 个，未展开。")]
    small = walk.ArchiveLimits(max_total_bytes=1 << 20)
    assert names(walk.walk(tmp_path, limits=small))[0][1].startswith("是解压后共 3 MB 的压缩包，超过上限 1 MB")


def test_walker_nesting_depth_and_broken_and_encrypted_archives(tmp_path):
    deep = zip_bytes({"x.xlsx": b"x"})
    for _ in range(3):
        deep = zip_bytes({"n.zip": deep})
    (tmp_path / "deep.zip").write_bytes(deep)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    enc = bytearray(zip_bytes({"secret.xlsx": b"x"}))
    # set the "encrypted" flag bit in the local and the central header
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        pos = enc.find(sig)
        off = pos + (6 if sig == b"PK\x03\x04" else 8)
        enc[off] |= 1
    (tmp_path / "enc.zip").write_bytes(bytes(enc))
    got = names(walk.walk(tmp_path))
    assert got == [
        ("broken.zip", "是损坏或不完整的压缩包，无法打开。请重新打包，或直接发送其中的 .xlsx 文件。"),
        ("deep.zip", None), ("deep.zip!n.zip", None), ("deep.zip!n.zip!n.zip", None),
        ("deep.zip!n.zip!n.zip!n.zip", "是嵌套超过 3 层的压缩包，未展开。"),
        ("enc.zip", None),
        ("enc.zip!secret.xlsx", "在压缩包中被加密（设置了压缩包密码），无法读取。请提交未加密的文件。"),
    ]


def test_gbk_member_names_are_decoded(tmp_path):
    # what Chinese Windows' "send to compressed folder" writes: GBK bytes without the UTF-8 flag
    gbk = "民政局".encode("gbk")
    raw = zip_bytes({"ABCDEF.xlsx": b"x"}).replace(b"ABCDEF", gbk)
    (tmp_path / "a.zip").write_bytes(raw)
    assert [i.name for i in walk.walk(tmp_path)] == ["a.zip", "a.zip!民政局.xlsx"]


def test_process_item_reads_zip_members_and_hashes_them(tmp_path):
    data = workbook_bytes(clean_report(0, 0), tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.zip").write_bytes(zip_bytes({"b.zip": zip_bytes({"r.xlsx": data})}))
    items = list(walk.walk(tmp_path / "in"))
    options = worker.ReadOptions()
    results = [worker.process_item(i, options) for i in items]
    assert [(r.name, r.kind) for r in results] == [("a.zip", "archive"), ("a.zip!b.zip", "archive"),
                                                   ("a.zip!b.zip!r.xlsx", "ok")]
    assert results[2].sha256 == hashlib.sha256(data).hexdigest()
    assert results[2].identity["agency"] == A[0] and results[2].figures == clean_report(0, 0).figures


def test_a_reader_crash_is_reported_not_raised(tmp_path, monkeypatch):
    (tmp_path / "a.xlsx").write_bytes(b"x")

    def boom(*a, **k):
        raise KeyError("bug")

    monkeypatch.setattr(worker, "_read", boom)
    [res] = [worker.process_item(i, worker.ReadOptions()) for i in walk.walk(tmp_path)]
    assert (res.kind, res.reason) == ("internal", worker.INTERNAL_NOTE)  # a bug of ours, not blamed on the file
    assert "KeyError" not in res.reason and res.reason.endswith("请把此文件发给维护人员。")
    assert res.sha256 == hashlib.sha256(b"x").hexdigest()


# ---------------------------------------------------------------------------------------------
# Options: --docx, --previous, outdir inside the folder, roster forms


def test_docx_for_each_accepted_agency_and_stale_ones_removed(tmp_path):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    write_return(root / "b.xlsx", with_error(clean_report(1, 1)))
    res = run.collect(root, ROSTER[:3], tmp_path / "out", docx=True, jobs=1)
    name = f"{A[0]}{YEAR}年政府信息公开工作年度报告.docx"  # as the docx command names it
    assert [a.docx for a in res.agencies] == [f"年度报告/{name}", "", ""]
    assert sorted(p.name for p in (tmp_path / "out" / "年度报告").iterdir()) == [name]
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    assert data["docx"] == [f"年度报告/{name}"]
    assert data["docx_not_written"] == [{"agency": A[1], "reason": "有错误，改正后重新收集才会生成"},
                                        {"agency": A[2], "reason": "未提交"}]
    # A0 now sends a file with errors: its old .docx must not stay around
    write_return(root / "a2.xlsx", with_error(clean_report(0, 0)), day=25)
    run.collect(root, ROSTER[:3], tmp_path / "out", docx=True, jobs=1)
    assert list((tmp_path / "out" / "年度报告").iterdir()) == []


def test_docx_of_agencies_whose_file_names_collide_never_overwrite(tmp_path):
    """"ABC中心" and "abc中心" (and "ＡＢＣ中心") are one file on Windows and macOS."""
    roster = [RosterRow("青山区ABC中心", "1"), RosterRow("青山区abc中心", "2"), RosterRow("青山区ＡＢＣ中心", "3")]
    for i in range(3):
        write_return(tmp_path / "in" / f"{i}.xlsx", clean_report(i, i, roster=roster))
    res = run.collect(tmp_path / "in", roster, tmp_path / "out", docx=True, jobs=1)
    title = f"{YEAR}年政府信息公开工作年度报告"
    assert [a.docx for a in res.agencies] == [f"年度报告/青山区ABC中心{title}.docx",
                                              f"年度报告/青山区abc中心{title}（2）.docx",
                                              f"年度报告/青山区ＡＢＣ中心{title}（3）.docx"]
    assert len(list((tmp_path / "out" / "年度报告").iterdir())) == 3
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    assert [(a["agency"], a["docx"]) for a in data["agencies"]] == [(r.agency, d) for r, d in
                                                                    zip(roster, data["docx"], strict=True)]
    assert "已命名为“青山区abc中心" in res.agencies[1].note


def test_docx_refused_for_an_empty_required_section_is_noted(tmp_path):
    r = clean_report(0, 0)
    r.narrative = {}
    write_return(tmp_path / "in" / "a.xlsx", r)
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", docx=True, jobs=1)
    # an empty required section is an error in collect as in check and docx: no Word report
    assert res.agencies[0].status == Status.ERR
    assert not (tmp_path / "out" / "年度报告").exists()
    assert res.docx_missing == [(A[0], "有错误，改正后重新收集才会生成")]
    roster_csv = write_roster(tmp_path / "r.csv", ROSTER[:1]) or tmp_path / "r.csv"
    out = squash(CliRunner().invoke(app, ["collect", str(tmp_path / "in"), "--roster", str(roster_csv),
                                          "-o", str(tmp_path / "out2"), "--docx", "-j", "1"]).output)
    assert squash("未生成 Word 报告的机关（1 家）：") in out and f"{A[0]}：有错误" in out


def test_previous_year_folder_enables_cross_year_checks(tmp_path):
    last = clean_report(5, 0, year=YEAR - 1)
    write_return(tmp_path / "last" / "a.xlsx", last)
    this = clean_report(0, 0)
    write_return(tmp_path / "in" / "a.xlsx", this)
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", previous=tmp_path / "last", jobs=1)
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    codes = {f["code"] for f in data["files"][0]["findings"]}
    assert "PREV_CARRY_OVER" in codes and res.agencies[0].status == Status.WARN
    # and without it, none
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", jobs=1)
    assert res.agencies[0].status == Status.OK


def test_previous_with_a_pool_starts_the_workers_once(tmp_path, monkeypatch):
    """Last year's files and this year's are read by the same worker processes; last year's
    reports reach them through a file in the staging folder, and the cross-year rules run."""
    write_return(tmp_path / "last" / "a.xlsx", clean_report(5, 0, year=YEAR - 1))
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    write_return(tmp_path / "in" / "b.xlsx", clean_report(1, 1))
    started = []
    real = worker._pool_context

    def counting():
        started.append(1)
        return real()

    monkeypatch.setattr(worker, "_pool_context", counting)
    res = run.collect(tmp_path / "in", ROSTER[:2], tmp_path / "out", previous=tmp_path / "last", jobs=2)
    assert started == [1]
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    codes = {f["path"]: {x["code"] for x in f["findings"]} for f in data["files"]}
    assert "PREV_CARRY_OVER" in codes["a.xlsx"] and res.agencies[0].status == Status.WARN
    assert data["agencies"][0]["previous"]["file"] == "a.xlsx"
    assert data["agencies"][1]["previous"]["note"] == "上一年度的文件夹中没有本机关的报告，未做跨年度核对。"


def test_workers_pack_figures_in_field_order_for_the_spill_file(tmp_path):
    """A worker sends the figures as a tuple in the format's field order (no field ids), and the
    spill file gives them back as the reader read them."""
    report = clean_report(0, 0)
    write_return(tmp_path / "a.xlsx", report)
    [item] = list(walk.walk(tmp_path))
    plain = worker.process_item(item, worker.ReadOptions())
    packed = worker.process_item(item, worker.ReadOptions(pack=True))
    assert packed.figures is None and packed.findings == [] and plain.figures is not None
    assert len(packed.payload) < len(pickle.dumps(plain.figures)) / 2
    spill = Spill(tmp_path / "spill.bin")
    try:
        packed.offset = spill.append_packed(packed.payload)
        plain.offset = spill.append(plain.figures, plain.findings)
        assert spill.figures(packed) == spill.figures(plain) == plain.figures
        assert spill.findings(packed) == plain.findings
    finally:
        spill.close()


def test_spill_values_are_the_figures_of_the_ids_asked_for(tmp_path):
    """Spill.values gives figures(rec).get(id) for each id, in the order asked, whether the
    figures are packed in their format's order, a dict, or none; ids the format does not have
    are None."""
    ids = worker.field_ids(SPEC.id)
    figures = {fid: (Decimal(f"{i}.5") if i % 7 == 0 else None if i % 5 == 0 else i) for i, fid in enumerate(ids)}
    spill = Spill(tmp_path / "spill.bin")
    try:
        packed = FileRecord(seq=0, name="a.xlsx")
        packed.offset = spill.append_packed(pickle.dumps((SPEC.id, tuple(figures.values()), [])))
        plain = FileRecord(seq=1, name="b.xlsx")
        plain.offset = spill.append(dict(figures), [])
        empty = FileRecord(seq=2, name="c.xlsx")
        empty.offset = spill.append(None, [])
        asked = [ids, tuple(reversed(ids)), ids[3:4], (ids[9], ids[2], ids[9]), (ids[0], "no.such.field"),
                 tuple(f.id for f in SPEC.fields)]
        for want in asked:
            for _ in range(2):  # the second time from the kept picker
                assert spill.values(packed, want) == spill.values(plain, want) == tuple(figures.get(i) for i in want)
                assert spill.values(empty, want) == (None,) * len(want)
        for rec in (packed, plain, empty):
            keys, values = spill.items(rec)
            assert dict(zip(keys, values, strict=True)) == spill.figures(rec) and list(keys) == list(spill.figures(rec))
        assert spill.findings(packed) == spill.findings(plain) == []
    finally:
        spill.close()


def test_workers_pack_whole_records_and_the_parent_reads_them_back_from_the_spill(tmp_path):
    """collect's parent keeps nothing of a file while the files are read: the worker packs the
    record with its figures and findings, the spill file gives back the same record (its figures
    and findings by its offset), an unreadable file's and an internal error's included."""
    write_return(tmp_path / "a.xlsx", with_error(clean_report(0, 0)))
    (tmp_path / "b.xlsx").write_bytes(b"not a workbook")
    items = list(walk.walk(tmp_path))
    spill = Spill(tmp_path / "spill.bin")
    try:
        for item in items:
            plain = worker.process_item(item, worker.ReadOptions())
            seq, data = worker.packed_item(item, worker.ReadOptions())
            assert seq == item.seq
            back = spill.record(spill.append_record(data))
            assert [getattr(back, f) for f in SPILLED_FIELDS if f != "offset"] == \
                [getattr(plain, f) for f in SPILLED_FIELDS if f != "offset"]
            assert spill.figures(back) == (plain.figures or {}) and spill.findings(back) == plain.findings
        assert spill.findings(back) and not spill.figures(back)  # b.xlsx: a finding, no figures
        with patch.object(worker, "_process_item", side_effect=RuntimeError("bug")):
            _, data = worker.packed_item(items[0], worker.ReadOptions())
        back = spill.record(spill.append_record(data))
        assert back.kind == "internal" and spill.figures(back) == {} and spill.findings(back) == []
        assert back.sha256 == worker.process_item(items[0], worker.ReadOptions()).sha256
    finally:
        spill.close()


@pytest.mark.parametrize("year_option", [[], ["--year", str(YEAR)]])
@pytest.mark.parametrize(("previous_year", "what"), [(YEAR, "与本次收集的年度相同"), (YEAR + 1, f"晚于本次收集的 {YEAR} 年度")])
def test_cli_previous_folder_of_this_year_is_a_usage_error(tmp_path, year_option, previous_year, what):
    """This year's returns given as last year's: a usage error, not PREV_OTHER_YEAR on every agency."""
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    write_return(tmp_path / "in" / "b.xlsx", clean_report(1, 1))
    write_return(tmp_path / "copy" / "a.xlsx", clean_report(0, 0, year=previous_year))
    write_return(tmp_path / "copy" / "b.xlsx", clean_report(1, 1, year=previous_year))
    write_roster(tmp_path / "r.csv", ROSTER[:2])
    res = runner.invoke(app, ["collect", str(tmp_path / "in"), "-r", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o"),
                              "-p", str(tmp_path / "copy"), "-j", "1", *year_option])
    assert res.exit_code == 2, res.output
    assert squash(f"错误：--previous 指定的文件夹「{tmp_path / 'copy'}」中是 {previous_year} 年度的报告，{what}。"
                  f"请指定上一年度（{YEAR - 1} 年度）退回文件（或导出的 .json）所在的文件夹。") in squash(res.output)
    assert not (tmp_path / "o" / walk.OUTPUT_JSON).exists()
    assert [p.name for p in (tmp_path / "o").iterdir()] == []  # no staging folder left behind


def test_outdir_inside_the_folder_is_not_collected(tmp_path):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    for _ in range(2):
        res = run.collect(root, ROSTER[:1], root / "结果", jobs=1)
        assert [r.name for r in res.files] == ["a.xlsx"]


def test_roster_csv_in_the_folder_is_not_collected(tmp_path):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    write_roster(root / "名单.csv", ROSTER[:1])
    res = run.collect(root, root / "名单.csv", tmp_path / "out", jobs=1)
    assert [r.name for r in res.files] == ["a.xlsx"] and res.ok


def test_stale_staging_of_a_dead_run_is_cleaned(tmp_path):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    out = tmp_path / "out"
    stale = out / f"{walk.STAGING_PREFIX}999999999-abc"
    stale.mkdir(parents=True)
    (stale / "spill.bin").write_text("x")
    run.collect(root, ROSTER[:1], out, jobs=1)
    assert sorted(p.name for p in out.iterdir()) == sorted([walk.OUTPUT_XLSX, walk.OUTPUT_JSON])


@pytest.mark.parametrize(("args", "message"), [
    (lambda t: (t / "nope", ROSTER, t / "o"), "找不到文件夹"),
    (lambda t: (t / "f.txt", ROSTER, t / "o"), "不是文件夹"),
    (lambda t: (t, t / "nope.csv", t / "o"), "找不到名单文件"),
    (lambda t: (t, [], t / "o"), "名单中没有机关。"),
    (lambda t: (t, ROSTER, t / "f.txt"), "无法创建输出文件夹"),
])
def test_collect_usage_errors(tmp_path, args, message):
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(classify.CollectError, match=message):
        run.collect(*args(tmp_path))


# ---------------------------------------------------------------------------------------------
# The command


runner = CliRunner()


def squash(text: str) -> str:
    """Output without whitespace: rich wraps long lines at the terminal width."""
    return "".join(text.split())


def test_cli_collect_exit_1_with_summary(season, tmp_path):
    base, _, _, _ = season
    res = runner.invoke(app, ["collect", str(base / "returns"), "-r", str(base / "templates" / "manifest.csv"),
                              "-o", str(tmp_path / "o"), "-j", "1"])
    assert res.exit_code == 1, res.output
    assert squash(f"应交 9 家，已交 8 家：合格 4，有警告 1，有错误 3；未提交 1 家：{A[5]}。") in squash(res.output)
    assert squash(f"有错误的机关： {A[2]}：错误 1 处") in squash(res.output)
    assert (tmp_path / "o" / walk.OUTPUT_XLSX).is_file()


def test_cli_collect_exit_0_when_everyone_is_accepted(tmp_path):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    write_return(root / "b.xlsx", with_warning(clean_report(1, 1)))
    write_roster(tmp_path / "r.csv", ROSTER[:2])
    res = runner.invoke(app, ["collect", str(root), "--roster", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert squash("应交 2 家，已交 2 家：合格 1，有警告 1，有错误 0；未提交 0 家。") in squash(res.output)


@pytest.mark.parametrize(("argv", "message"), [
    (["collect"], "请指定存放退回文件的文件夹，例如：xlsx-tools collect 回收/ --roster manifest.csv -o 收集结果/"),
    (["collect", "{t}", "-o", "{t}/o"], "请用 --roster 指定机关名单（CSV）或生成模板时的 manifest.csv。"),
    (["collect", "{t}", "-r", "{t}/r.csv"], "请用 -o 指定输出文件夹，例如 -o 收集结果/。"),
    (["collect", "{t}/nope", "-r", "{t}/r.csv", "-o", "{t}/o"], "找不到文件夹「{t}/nope」，请检查路径。"),
    (["collect", "{t}/r.csv", "-r", "{t}/r.csv", "-o", "{t}/o"], "「{t}/r.csv」不是文件夹。请指定存放退回文件的文件夹。"),
    (["collect", "{t}", "-r", "{t}/nope.csv", "-o", "{t}/o"], "找不到名单文件「{t}/nope.csv」。"),
    (["collect", "{t}", "-r", "{t}/bad.csv", "-o", "{t}/o"], "名单文件 bad.csv 缺少“机关名称”列。"),
    (["collect", "{t}", "-r", "{t}/r.csv", "-o", "{t}/o", "-p", "{t}/nope"], "找不到上一年度的文件夹「{t}/nope」。"),
    (["collect", "{t}", "-r", "{t}/r.csv", "-o", "{t}/o", "-p", "{t}"],
     "--previous 指定的文件夹「{t}」就是本次收集的文件夹。请指定上一年度退回文件（或导出的 .json）所在的文件夹。"),
])
def test_cli_collect_usage_errors(tmp_path, argv, message):
    write_roster(tmp_path / "r.csv", ROSTER[:1])
    (tmp_path / "bad.csv").write_text("名称\n甲\n", encoding="utf-8")
    res = runner.invoke(app, [a.format(t=tmp_path) for a in argv])
    assert res.exit_code == 2
    assert squash("错误：" + message.format(t=tmp_path)) in squash(res.output)


def test_cli_help_is_chinese():
    res = runner.invoke(app, ["collect", "--help"])
    assert res.exit_code == 0
    assert "按名单收集退回的年报" in squash(res.output) and "退出码" in res.output


def test_previous_index_takes_the_newest_of_last_years_files(tmp_path):
    old, new = clean_report(1, 0, year=YEAR - 1), clean_report(2, 0, year=YEAR - 1)
    write_return(tmp_path / "a" / "旧.xlsx", old, day=1)
    write_return(tmp_path / "b" / "新.xlsx", new, day=9)
    (tmp_path / "c.json").write_text(clean_report(3, 1, year=YEAR - 1).to_json(), encoding="utf-8")
    (tmp_path / "junk.xlsx").write_bytes(b"x")
    index = run.index_previous(tmp_path, jobs=2)
    assert sorted(index) == sorted([f"code:{ROSTER[0].code.casefold()}", f"name:{A[0]}",
                                    f"code:{ROSTER[1].code.casefold()}", f"name:{A[1]}"])
    newest, from_json = index[f"name:{A[0]}"], index[f"code:{ROSTER[1].code.casefold()}"]
    assert index[f"code:{ROSTER[0].code.casefold()}"] is newest and index[f"name:{A[1]}"] is from_json
    assert (newest.agency.name, newest.year, newest.figures) == (A[0], YEAR - 1, new.figures)
    assert (from_json.agency.name, from_json.figures) == (A[1], clean_report(3, 1, year=YEAR - 1).figures)


def test_previous_file_used_is_recorded_and_a_blank_template_never_wins(tmp_path):
    filled = clean_report(5, 0, year=YEAR - 1)
    write_return(tmp_path / "last" / "a填好的.xlsx", filled, day=1)
    blank = clean_report(6, 0, year=YEAR - 1)
    blank.figures = {k: None for k in blank.figures}
    write_return(tmp_path / "last" / "z空白模板.xlsx", blank, day=20)  # newer, but blank
    write_return(tmp_path / "last" / "b只有空白.xlsx", blank_of(1))
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    write_return(tmp_path / "in" / "b.xlsx", clean_report(1, 1))
    write_return(tmp_path / "in" / "c.xlsx", clean_report(2, 2))
    res = run.collect(tmp_path / "in", ROSTER[:3], tmp_path / "out", previous=tmp_path / "last", jobs=1)
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    prev = [a["previous"] for a in data["agencies"]]
    assert prev[0] == {"file": "a填好的.xlsx", "note": ""}
    assert prev[1] == {"file": "b只有空白.xlsx", "note": "上一年度的“b只有空白.xlsx”是未填写的空白模板，未做跨年度核对。"}
    assert prev[2] == {"file": "", "note": "上一年度的文件夹中没有本机关的报告，未做跨年度核对。"}
    assert res.agencies[1].note.endswith("上一年度的“b只有空白.xlsx”是未填写的空白模板，未做跨年度核对。")
    assert res.agencies[2].status == Status.OK and res.agencies[2].note == prev[2]["note"]
    wb = openpyxl.load_workbook(tmp_path / "out" / walk.OUTPUT_XLSX, read_only=True)
    header, *body = list(wb["文件清单"].iter_rows(values_only=True))
    assert header[-1] == "上一年度报告（跨年度核对）" and body[0][-1] == "a填好的.xlsx"
    status = list(wb["收集情况"].iter_rows(values_only=True))
    at = next(i for i, r in enumerate(status) if r[0] == "序号")
    assert status[at][-1] == "上一年度报告（跨年度核对）"
    assert [r[-1] for r in status[at + 1:]] == ["a填好的.xlsx", f"b只有空白.xlsx；{prev[1]['note']}", prev[2]["note"]]


def blank_of(index: int) -> Report:
    r = clean_report(7, index, year=YEAR - 1)
    r.figures = {k: None for k in r.figures}
    return r


def test_previous_year_returns_inside_a_zip_are_used(tmp_path):
    """Last year's folder is last year's collection folder: returns sent as zip archives too."""
    last = clean_report(5, 0, year=YEAR - 1)
    (tmp_path / "last").mkdir()
    (tmp_path / "last" / "邮件.zip").write_bytes(zip_bytes({"附件/a.xlsx": workbook_bytes(last, tmp_path)}))
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", previous=tmp_path / "last", jobs=1)
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    assert "PREV_CARRY_OVER" in {f["code"] for f in data["files"][0]["findings"]}
    assert res.agencies[0].status == Status.WARN


def test_undecodable_file_names_are_shown_safely(tmp_path):
    raw = os.fsencode(tmp_path) + b"/\xff\xfe-\x01.xlsx"
    with open(raw, "wb") as fh:
        fh.write(b"x")
    res = run.collect(tmp_path, ROSTER[:1], tmp_path.parent / f"{tmp_path.name}-out", jobs=1)
    assert [r.name for r in res.files] == ["??-?.xlsx"]
    assert res.files[0].sha256 == hashlib.sha256(b"x").hexdigest()


def test_quoted_reason_continues_or_takes_a_colon():
    assert quoted_reason("a.xlsx", "是纯文本文件。") == "“a.xlsx”是纯文本文件。"
    assert quoted_reason("a.xlsx", "这不是下发的模板。") == "“a.xlsx”：这不是下发的模板。"


def test_a_workbook_not_ours_named_after_an_agency_gives_it_an_error(tmp_path):
    (tmp_path / "in").mkdir()
    foreign_workbook(tmp_path / "in" / f"{A[0]}年报.xlsx")
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", jobs=1)
    assert res.files[0].status == Status.FOREIGN and res.files[0].match == classify.BY_NAME
    assert res.agencies[0].status == Status.ERR
    assert res.agencies[0].note.startswith(f"提交的文件无法使用（按文件名对应到本机关）：“{A[0]}年报.xlsx”：这不是政务公开办下发的年报模板")


def test_staging_of_a_live_run_is_left_alone(tmp_path, monkeypatch):
    out = tmp_path / "out"
    live = out / f"{walk.STAGING_PREFIX}{os.getppid()}-abc"  # the parent of this process is alive
    live.mkdir(parents=True)
    run._stale_staging(out)
    assert live.is_dir()
    monkeypatch.setattr(run.os, "name", "nt")  # where processes cannot be probed: by age
    os.utime(live, (0, 0))
    run._stale_staging(out)
    assert not live.exists()


def test_a_copy_of_earlier_outputs_in_the_folder_is_listed_not_attributed(tmp_path):
    """收集情况.xlsx, collect.json and 年度报告/<机关>.docx of an earlier run, copied into the folder
    of returns: listed, but never taken for an agency's (unusable) return by their names."""
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    write_return(root / "b.xlsx", clean_report(1, 1))
    run.collect(root, ROSTER[:2], root / "旧结果", docx=True, jobs=1)
    (root / "b.xlsx").unlink()  # B's return is withdrawn; its old .docx stays in 旧结果/年度报告/
    res = run.collect(root, ROSTER[:2], tmp_path / "out", jobs=1)
    assert [(a.status, a.note) for a in res.agencies] == [(Status.OK, ""), (Status.MISSING, "未收到该机关的文件")]
    old = [r for r in res.files if r.name.startswith("旧结果/")]
    docx = [f"旧结果/年度报告/{a}{YEAR}年政府信息公开工作年度报告.docx" for a in A[:2]]
    assert {r.name for r in old} == {"旧结果/collect.json", *docx, "旧结果/收集情况.xlsx"}
    assert {(r.status, r.roster, r.note) for r in old} == {
        (Status.FOREIGN, None, "是此前运行“收集”生成的结果文件，不是机关退回的文件，未读取。")}


def test_system_files_are_listed_with_their_hash_but_ignored(tmp_path):
    """Thumbs.db, desktop.ini, .DS_Store, Office and LibreOffice lock files and a Mac's __MACOSX/
    and ._ files, on disk or in a mailbox's zip: each listed with its sha256 as 系统文件, never
    attributed to an agency (not even by the agency name in "~$<机关>.xlsx"), never an error."""
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    junk = {
        "Thumbs.db": b"\xd0\xcf\x11\xe0", "desktop.ini": b"[.ShellClassInfo]", "子/.DS_Store": b"\x00\x00\x00\x01Bud1",
        f"~${A[1]}.xlsx": b"\x0bowner" + bytes(150), f".~lock.{A[1]}.xlsx#": b"owner,host", f"._{A[1]}.xlsx": b"\x00\x05",
        f"__MACOSX/{A[1]}.xlsx": b"\x00\x05\x16\x07",
    }
    for name, data in junk.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    members = {f"__MACOSX/附件/._{A[1]}.xlsx": b"\x00\x05\x16\x07", f"附件/~${A[1]}.xlsx": b"\x0bowner",
               "附件/Thumbs.db": b"\xd0\xcf"}
    (root / "邮件.zip").write_bytes(zip_bytes(members))
    res = run.collect(root, ROSTER[:2], tmp_path / "out", jobs=1)
    data = json.loads((tmp_path / "out" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    system = {f["path"]: f for f in data["files"] if f["status"] == Status.SYSTEM.label}
    expected = {**junk, **{f"邮件.zip!{k}": v for k, v in members.items()}}
    assert {p: (f["sha256"], f["status_code"], f["agency"], f["match"], f["errors"]) for p, f in system.items()} == {
        p: (hashlib.sha256(v).hexdigest(), "system", "", "", 0) for p, v in expected.items()}
    assert {f["note"] for f in system.values()} == {
        "是操作系统或办公软件自动生成的文件（缩略图缓存、文件夹设置、打开中的文件的锁定文件等），不是机关退回的文件，已忽略。"}
    assert [(a.status, a.note, a.files) for a in res.agencies[1:]] == [(Status.MISSING, "未收到该机关的文件", [])]
    assert res.summary_lines()[1] == "共找到 12 个文件（其中压缩包内 3 个）：压缩包 1，系统文件 10（已忽略）。"
    assert data["summary"]["files_by_status"]["unreadable"] == 0
    assert [(f["path"], f["status"]) for f in data["files"] if f["status"] != Status.SYSTEM.label] == [
        ("a.xlsx", Status.OK.label), ("邮件.zip", Status.ARCHIVE.label)]
    # not a problem to forward to an agency
    import openpyxl

    wb = openpyxl.load_workbook(tmp_path / "out" / walk.OUTPUT_XLSX, read_only=True)
    problems = [row for row in wb["问题清单"].iter_rows(values_only=True) if row and row[3] == Status.SYSTEM.label]
    listed = [row for row in wb["文件清单"].iter_rows(values_only=True) if row and row[4] == Status.SYSTEM.label]
    assert problems == [] and len(listed) == 10


def test_no_system_files_no_mention_in_the_summary(tmp_path):
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", jobs=1)
    assert res.summary_lines()[1] == "共找到 1 个文件。"


@pytest.mark.parametrize("path,system", [
    ("Thumbs.db", True), ("a/THUMBS.DB", True), ("desktop.ini", True), (".DS_Store", True), ("~$报告.xlsx", True),
    (".~lock.报告.xlsx#", True), ("._报告.xlsx", True), ("__MACOSX/报告.xlsx", True), ("a\\__MACOSX\\b.xlsx", True),
    ("报告.xlsx", False), ("~报告.xlsx", False), ("__MACOSX", False), ("a/thumbs.db.xlsx", False),
])
def test_system_file_names(path, system):
    assert walk.system_file(path) is system


def test_a_notice_for_every_agency_with_errors_or_warnings(season):
    base, result, data, _ = season
    want = [a for a in data["agencies"] if a["status"] in (Status.ERR.label, Status.WARN.label)]
    assert [a["agency"] for a in want] == [A[1], A[2], A[6], A[7]]
    assert data["notices"] == [f"{walk.NOTICE_DIR}/{a['agency']}_问题通知.docx" for a in want]
    assert [a["notice"] for a in want] == data["notices"]
    assert all(not a["notice"] for a in data["agencies"] if a not in want)
    on_disk = sorted(p.name for p in (base / "out" / walk.NOTICE_DIR).iterdir())
    assert on_disk == sorted(n.split("/")[1] for n in data["notices"])
    import docx

    doc = docx.Document(str(base / "out" / data["notices"][2]))  # A6 sent last year's template
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(cell.text for t in doc.tables for r in t.rows
                                                                  for cell in r.cells)
    assert f"{A[6]}：" in text and f"{A[6]}.xlsx" in text
    assert f"是 {YEAR - 1} 年度的模板，本次收集的是 {YEAR} 年度。" in text


def test_staged_notices_move_into_place_and_stale_ones_go(tmp_path):
    """The first run moves the staged 问题通知 folder as a whole; a later run moves its notices
    one by one, removes the ones of agencies that have since sent a good file and keeps any other
    file there; a run without notices makes no folder."""
    def stage(names: list[str]) -> tuple[Path, list[str]]:
        staging = Path(tempfile.mkdtemp(dir=tmp_path))
        (staging / walk.NOTICE_DIR).mkdir()
        for n in names:
            (staging / walk.NOTICE_DIR / n).write_bytes(n.encode())
        return staging, [f"{walk.NOTICE_DIR}/{n}" for n in names]

    out = tmp_path / "out"
    out.mkdir()
    collect_notice.move_notices(out, tmp_path, [])
    assert not (out / walk.NOTICE_DIR).exists()
    staging, written = stage(["甲_问题通知.docx", "乙_问题通知.docx"])
    collect_notice.move_notices(out, staging, written)
    assert sorted(p.name for p in (out / walk.NOTICE_DIR).iterdir()) == ["乙_问题通知.docx", "甲_问题通知.docx"]
    assert not (staging / walk.NOTICE_DIR).exists()
    (out / walk.NOTICE_DIR / "说明.txt").write_text("办公室自己的文件")
    staging, written = stage(["乙_问题通知.docx", "丙_问题通知.docx"])
    (staging / walk.NOTICE_DIR / "乙_问题通知.docx").write_bytes(b"new")
    collect_notice.move_notices(out, staging, written)
    assert sorted(p.name for p in (out / walk.NOTICE_DIR).iterdir()) == ["丙_问题通知.docx", "乙_问题通知.docx", "说明.txt"]
    assert (out / walk.NOTICE_DIR / "乙_问题通知.docx").read_bytes() == b"new"


def test_classify_workbook_names_by_short_form_or_case():
    roster = classify.RosterIndex([RosterRow("沙坡头区卫生健康局"), RosterRow("沙坡头区民政局"), RosterRow("ABC局"),
                            RosterRow("abc局")])
    recs = [record(0, "a.xlsx", agency="沙坡头区卫健局"), record(1, "b.xlsx", agency="abc局"),
            record(2, "c.xlsx", agency="Abc局")]
    agencies = classify.classify(recs, roster, year=YEAR, format_id=SPEC.id)
    assert agencies[0].file is recs[0] and recs[0].match == classify.BY_IDENTITY
    assert agencies[0].note == "模板中的机关名称“沙坡头区卫健局”与名单不完全相同，按简称或别名对应"
    assert agencies[3].file is recs[1] and agencies[2].status == Status.MISSING
    assert recs[2].status == Status.FOREIGN and recs[2].roster is None and recs[2].candidates == (2, 3)
    assert recs[2].reason == ("是“Abc局”的模板，名单中有几个机关与此名称相近（“ABC局”、“abc局”），"
                              "无法确定是哪一个，未自动对应。")
    assert agencies[2].note == "未收到该机关的文件；文件“c.xlsx”可能是本机关的（名称不能确定是哪个机关），请核对"


def test_cli_format_option_names_the_format_collected(tmp_path):
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    roster_csv = tmp_path / "r.csv"
    write_roster(roster_csv, ROSTER[:1])
    args = ["collect", str(tmp_path / "in"), "--roster", str(roster_csv), "-j", "1"]
    bad = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "out1"), "--format", "gov-info-1999"])
    assert bad.exit_code == 2 and "未找到报告格式文件gov-info-1999" in squash(bad.output)
    assert not (tmp_path / "out1").exists()
    good = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "out2"), "--format", SPEC.id])
    assert good.exit_code == 0, good.output
    data = json.loads((tmp_path / "out2" / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    assert data["format"] == SPEC.id and data["agencies"][0]["status_code"] == "ok"


def test_workers_do_not_load_python_docx_until_a_word_report_is_written():
    """Every worker imports collect.worker: python-docx
    is loaded only by a worker that writes a .docx (collect --docx)."""
    code = ("import sys, xlsx_tools.collect.worker, xlsx_tools.collect.walk as w, xlsx_tools.read.reader; "
            "print('docx' in sys.modules, w.NOTICE_DIR)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    assert out == ["False", WRITER_NOTICE_DIR]


@pytest.mark.parametrize("figures", [
    {"t1.a": 3, "t1.b": None, "t2.fee": Decimal("12.3450"), "t2.x": Decimal("-0"), "t2.y": Decimal("1E+3"), "中文": 0},
    {"t1.a": Decimal("NaN")}, {"t1.a": True}, {"t1.a": 1.5}, {"t1.a": Decimal("1E-30")}, {}, None,
    {"t1.a": "a, b", "t1.b": 2}, {"t1.a": [1, 2]}, {1: 2, "t1.b": Decimal("3.10")}, {"t1.a": float("nan"), "b": 1},
    {"t1.a": BadNumber(NumberError("large", "1e5000"))}, {"t1.a": "\0dec", "t1.b": Decimal("2")},
    {"引号\"键": Decimal("-0.5"), "t1.b": None}, {"100%": 1, "%s %d": Decimal("0.5"), "%%": None}])
def test_collect_json_agency_line_is_what_dumps_writes(figures):
    """collect.json writes each agency's figures without jsonio's walk over every value: the
    same text, and whatever it does not know (a bool, a float, a NaN) written by dumps."""
    agency = classify.AgencyStatus(0, RosterRow("甲局", "A1"), Status.OK,
                                   FileRecord(seq=0, name="a.xlsx", sha256="ab"), note="说明")
    text = collect_json._agency_text(agency, figures)
    assert text == dumps(collect_json._agency_dict(agency, figures), indent=None)
    assert json.loads(text)["figures"] == (None if figures is None else json.loads(dumps(figures, indent=None)))
    if figures is not None:  # and from the ids and values as the spill file gives them
        items = "".join(collect_json._agency_items_text(agency, tuple(figures), tuple(figures.values())))
        assert items == dumps(collect_json._agency_dict(agency, figures), indent=None)


@pytest.mark.parametrize("data", [
    {"a": Decimal("1.50"), "b": [Decimal("-2"), None, True, 1.5, "\0dec", {"c": Decimal("0.000")}], "d": (1, 2)},
    {"a": "\0dec"}, {"\0dec": Decimal("1")}, ["\0dec", Decimal("3")], {"a": '"\0dec"', "b": Decimal("4")},
    {"a": Decimal("1E+3")}, {"a": Decimal("NaN")}, {"a": float("inf")}, {"a": BadNumber(NumberError("large", "1e5000"))},
    {"a": {"b": Decimal("7.25")}, "中文": "引号\"与\\反斜杠\n"}, {1: "int key", "k": Decimal("2")}, [], "text", None,
])
def test_collect_json_lines_are_what_dumps_writes(data):
    """Every line of collect.json is written by json's encoder with Decimals through a marker:
    the text dumps writes, whatever the data holds (the marker itself, non-finite numbers)."""
    assert collect_json._dumps(data) == dumps(data, indent=None)


def test_a_program_read_from_stdin_collects_without_hanging(season):
    """Spawned workers import the caller's main module again; `python3 - < script` has none to
    import, so the pool would restart dying workers for ever. The run reads in its own process."""
    base = season[0]
    script = (
        "from xlsx_tools import collect_returns\n"
        f"r = collect_returns({str(base / 'returns')!r}, {str(base / 'templates' / 'manifest.csv')!r}, "
        f"{str(base / 'out-stdin')!r}, jobs=2)\n"
        "print(len(r.files))\n"
    )
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                          timeout=120, cwd=base, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) == len(season[1].files)
    assert "Traceback" not in done.stderr


def test_spawn_can_start_knows_a_main_module_it_cannot_import(monkeypatch):
    import types
    main = types.ModuleType("__main__")
    main.__file__ = "<stdin>"
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert not worker.spawn_can_start()
    main.__file__ = __file__
    assert worker.spawn_can_start()
    del main.__file__  # an interactive session: nothing to import
    assert worker.spawn_can_start()
