"""collect against files that lie or never end (issue 8 §3): lying zip members, duplicate member
names, FIFOs, symbolic links (a symlinked root is followed, links inside are listed), 10,000
members read linearly, and one file's failure (or a broken last-year report) never stopping the run."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_collect import (
    ROSTER,
    YEAR,
    A,
    clean_report,
    workbook_bytes,
    write_return,
    zip_bytes,
)
from tests.test_hostile_files import lie_about_size
from xlsx_tools.collect import run, walk, worker
from xlsx_tools.model.status import Status

ROOT = Path(__file__).resolve().parents[1]


def files_by_name(outdir: Path) -> dict[str, dict]:
    data = json.loads((outdir / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
    return {f["path"]: f for f in data["files"]}


def test_lying_member_in_a_collected_zip_is_a_zip_bomb(tmp_path):
    limits = walk.ArchiveLimits(member=walk.DEFAULT_ARCHIVE_LIMITS.member.__class__(max_file_bytes=1 << 20))
    big = b"0" * (4 << 20)
    data = lie_about_size(zip_bytes({"a.xlsx": big}), "a.xlsx", 1000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mail.zip").write_bytes(data)
    [archive, member] = list(walk.walk(tmp_path / "in", limits=limits))
    assert member.problem is None  # the header says 1000 bytes: only reading finds out
    res = worker.process_item(member, worker.ReadOptions(limits=limits))
    assert res.kind == "unreadable" and res.errors == 1
    assert [f["code"] for f in res.findings] == ["ZIP_BOMB"]
    assert "解压后实际超过 1 MB（文件头声明的大小不实，疑似“压缩炸弹”）" in res.reason


def test_lying_nested_archive_is_not_expanded(tmp_path):
    limits = walk.ArchiveLimits(max_nested_bytes=1 << 20)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("x.txt", b"0" * (4 << 20))
    inner = buf.getvalue()
    outer = lie_about_size(zip_bytes({"inner.zip": inner}), "inner.zip", 1000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.zip").write_bytes(outer)
    items = list(walk.walk(tmp_path / "in", limits=limits))
    assert [i.name for i in items] == ["a.zip", "a.zip!inner.zip"]
    assert "疑似“压缩炸弹”" in items[1].problem


def test_duplicate_member_names_refuse_the_archive(tmp_path, recwarn):
    data = workbook_bytes(clean_report(0, 0), tmp_path)
    buf = tmp_path / "dup.zip"
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("报表.xlsx", data)
        z.writestr("报表.xlsx", b"other")
    (tmp_path / "in").mkdir()
    buf.rename(tmp_path / "in" / "dup.zip")
    res = run.collect(tmp_path / "in", ROSTER[:1], tmp_path / "out", jobs=1)
    files = files_by_name(tmp_path / "out")
    assert list(files) == ["dup.zip"]
    assert "两个同名的文件“报表.xlsx”" in files["dup.zip"]["note"] and "未展开" in files["dup.zip"]["note"]
    assert res.agencies[0].status == Status.MISSING


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifos_never_hang_collect(tmp_path):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    os.mkfifo(root / "pipe.xlsx")
    os.mkfifo(root / walk.OUTPUT_JSON)  # even where collect looks for an earlier run's outputs
    os.mkfifo(tmp_path / "pipe.zip")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    roster = tmp_path / "roster.csv"
    roster.write_text(f"机关名称,机关代码\n{A[0]},{ROSTER[0].code}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "xlsx_tools", "collect", str(root), "--roster", str(roster),
                           "-o", str(tmp_path / "out"), "--jobs", "2"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr
    files = files_by_name(tmp_path / "out")
    assert "不是普通文件" in files["pipe.xlsx"]["note"]
    assert files["a.xlsx"]["status"] == Status.OK.label
    # a FIFO given as the thing to collect
    items = list(walk.walk(tmp_path / "pipe.zip"))
    assert [(i.name, i.problem) for i in items] == [("pipe.zip", "不是普通文件（是命名管道 FIFO），未读取。")]


def test_a_folder_reached_through_a_symlink_is_collected(tmp_path):
    real = tmp_path / "real"
    write_return(real / "sub" / "a.xlsx", clean_report(0, 0))
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    (real / "loop").symlink_to(real, target_is_directory=True)  # a loop inside: listed, not followed
    (real / "sub" / "b.xlsx").symlink_to(real / "sub" / "a.xlsx")
    res = run.collect(tmp_path / "link", ROSTER[:1], tmp_path / "out", jobs=1)
    assert res.agencies[0].status == Status.OK
    files = files_by_name(tmp_path / "out")
    assert sorted(files) == ["loop", "sub/a.xlsx", "sub/b.xlsx"]
    assert files["loop"]["note"].startswith(f"是符号链接（快捷方式）（指向“{real}”），未读取")
    assert "不跟随" in files["sub/b.xlsx"]["note"]


def test_members_of_a_big_archive_open_the_archive_once(tmp_path, monkeypatch):
    """Linear in members: the archive's central directory is parsed once per process, not once
    per member (9,999 members took 156 s)."""
    n = 3000
    path = tmp_path / "in" / "many.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            z.writestr(f"m/{i:05d}.txt", f"hello {i}\n")
    opened = []
    real_init = zipfile.ZipFile.__init__

    def counting(self, file, *a, **k):
        opened.append(file)
        real_init(self, file, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting)
    results = list(worker.read_items(walk.walk(tmp_path / "in"), worker.ReadOptions(), jobs=1))
    assert len(results) == n + 1
    assert all(r.kind in ("archive", "ok", "unreadable") for r in results)
    outer = [f for f in opened if not hasattr(f, "getvalue")]  # the file on disk (members are bytes)
    assert len(outer) <= 2, len(outer)  # the walker's and the readers' (kept open)


def test_an_exception_in_a_worker_becomes_that_files_result(tmp_path, monkeypatch):
    root = tmp_path / "in"
    write_return(root / "a.xlsx", clean_report(0, 0))
    write_return(root / "b.xlsx", clean_report(1, 1))

    def broken_fill(out, result, options):
        if out.name == "a.xlsx":
            raise ZeroDivisionError("bug")
        return real_fill(out, result, options)

    real_fill = worker._fill_result
    monkeypatch.setattr(worker, "_fill_result", broken_fill)
    res = run.collect(root, ROSTER[:2], tmp_path / "out", jobs=1)
    files = files_by_name(tmp_path / "out")
    assert files["a.xlsx"]["status"] == Status.INTERNAL.label
    assert files["a.xlsx"]["note"] == worker.INTERNAL_NOTE and "ZeroDivisionError" not in files["a.xlsx"]["note"]
    assert files["a.xlsx"]["sha256"]  # still identified
    assert [a.status for a in res.agencies] == [Status.MISSING, Status.OK]  # its file is listed, not attributed


def test_last_years_report_with_nan_does_not_stop_collect(tmp_path):
    """A last-year JSON whose value is NaN: the run completes and writes everything; the agency's
    cross-year check is either skipped (the JSON is refused) or reported as not done — never a
    traceback."""
    last = clean_report(5, 0, year=YEAR - 1)
    text = last.to_json()
    key = '"t3.received.natural_person"'
    assert key in text
    start = text.index(key)
    colon = text.index(":", start)
    end = min(i for i in (text.index(",", colon), text.index("}", colon)) if i > 0)
    (tmp_path / "last").mkdir()
    (tmp_path / "last" / "a.json").write_text(text[:colon + 1] + " NaN" + text[end:], encoding="utf-8")
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    roster = tmp_path / "roster.csv"
    roster.write_text(f"机关名称,机关代码\n{A[0]},{ROSTER[0].code}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "xlsx_tools", "collect", str(tmp_path / "in"), "--roster",
                           str(roster), "-o", str(tmp_path / "out"), "--previous", str(tmp_path / "last"),
                           "--jobs", "2"], capture_output=True, text=True, timeout=180, env=env)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode in (0, 1)
    files = files_by_name(tmp_path / "out")
    assert files["a.xlsx"]["status"] in (Status.OK.label, Status.WARN.label)
    assert (tmp_path / "out" / walk.OUTPUT_XLSX).is_file()


def test_cross_year_failure_is_a_finding_of_that_agency(tmp_path, monkeypatch):
    last = clean_report(5, 0, year=YEAR - 1)
    write_return(tmp_path / "last" / "a.xlsx", last)
    write_return(tmp_path / "in" / "a.xlsx", clean_report(0, 0))
    write_return(tmp_path / "in" / "b.xlsx", clean_report(1, 1))

    def broken(*a, **k):
        raise ArithmeticError("NaN in last year's figures")

    monkeypatch.setattr(worker, "_cross_year", broken)
    res = run.collect(tmp_path / "in", ROSTER[:2], tmp_path / "out", previous=tmp_path / "last", jobs=1)
    files = files_by_name(tmp_path / "out")
    [finding] = [f for f in files["a.xlsx"]["findings"] if f["code"] == "PREV_CHECK_FAILED"]
    assert finding["severity"] == "warning"
    assert f"与「{A[0]}」上一年度报告（a.xlsx）的跨年度核对未能完成" in finding["message"]
    assert [a.status for a in res.agencies] == [Status.WARN, Status.WARN]


def test_a_lying_system_file_in_an_archive_is_hashed_as_a_stream_or_not_at_all(tmp_path):
    """Refused members are hashed by streaming them through sha256 (never held); one that inflates
    past the cap gets no sha256, and is not an internal error."""
    limits = walk.ArchiveLimits(max_nested_bytes=1 << 20)
    data = lie_about_size(zip_bytes({"__MACOSX/._a.xlsx": b"0" * (4 << 20), "Thumbs.db": b"x" * 5000}),
                          "__MACOSX/._a.xlsx", 1000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.zip").write_bytes(data)
    items = list(walk.walk(tmp_path / "in", limits=limits))
    results = {r.name: r for r in worker.read_items(items, worker.ReadOptions(limits=limits), jobs=1)}
    lying, thumbs = results["a.zip!__MACOSX/._a.xlsx"], results["a.zip!Thumbs.db"]
    assert (lying.kind, lying.sha256) == ("system", "")
    assert (thumbs.kind, thumbs.sha256) == ("system", hashlib.sha256(b"x" * 5000).hexdigest())
