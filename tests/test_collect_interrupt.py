"""An interrupted collect (SIGKILL to the whole process group, as a power cut or an OOM kill would)
leaves no partial output: OUTDIR holds either nothing, or the previous complete outputs, or the
new complete ones; the next run cleans what the killed one left in its hidden staging folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tests.test_collect import ROSTER, clean_report, with_error, write_return
from xlsx_tools.collect import walk
from xlsx_tools.read.roster import write_roster

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and process groups are POSIX")

REPO = Path(__file__).resolve().parent.parent
N_FILES = 36


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("interrupt")
    for i in range(N_FILES):
        report = clean_report(i, i % len(ROSTER))
        if i % 5 == 0:
            report = with_error(report)
        write_return(base / "in" / f"{i:03d}" / f"{ROSTER[i % len(ROSTER)].agency}.xlsx", report, day=1 + i % 28)
    write_roster(base / "roster.csv", ROSTER)
    return base / "in", base / "roster.csv"


def start(root: Path, roster: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "xlsx_tools", "collect", str(root), "-r", str(roster), "-o", str(out), "-j", "2"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def staging(out: Path) -> list[Path]:
    return sorted(out.glob(walk.STAGING_PREFIX + "*")) if out.is_dir() else []


def kill_when(proc: subprocess.Popen, trigger: Callable[[], bool], timeout: float = 60) -> bool:
    """SIGKILL the process group as soon as `trigger()` holds; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if trigger():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.001)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    raise AssertionError("collect did not reach the trigger in time")


def in_staging(out: Path, name: str, min_size: int = 0) -> Callable[[], bool]:
    def check() -> bool:
        for d in staging(out):
            p = d / name
            try:
                if p.stat().st_size >= min_size:
                    return True
            except OSError:
                continue
        return False

    return check


def assert_only_complete_outputs(out: Path) -> None:
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert set(visible) <= {walk.OUTPUT_XLSX, walk.OUTPUT_JSON, walk.NOTICE_DIR}, visible
    hidden = [p for p in out.iterdir() if p.name.startswith(".")]
    assert all(p.name.startswith(walk.STAGING_PREFIX) and p.is_dir() for p in hidden), hidden
    if (out / walk.OUTPUT_XLSX).exists():
        with zipfile.ZipFile(out / walk.OUTPUT_XLSX) as z:
            assert z.testzip() is None
        wb = openpyxl.load_workbook(out / walk.OUTPUT_XLSX, read_only=True)
        assert wb["全部数据"].max_row > 1
    if (out / walk.OUTPUT_JSON).exists():
        data = json.loads((out / walk.OUTPUT_JSON).read_text(encoding="utf-8"))
        assert data["summary"]["files"] == N_FILES == len(data["files"])


TRIGGERS = {
    "reading": lambda out: in_staging(out, "spill.bin", 1),
    "writing the workbook": lambda out: in_staging(out, walk.OUTPUT_XLSX + ".raw"),
    "splicing the long sheets": lambda out: in_staging(out, walk.OUTPUT_XLSX),
    "writing the json": lambda out: in_staging(out, walk.OUTPUT_JSON),
}


def test_killed_runs_leave_no_partial_output(returns, tmp_path):
    root, roster = returns
    out = tmp_path / "out"
    fired = []
    # into an empty OUTDIR: afterwards nothing, or only complete files
    for what, trigger in TRIGGERS.items():
        shutil_rmtree(out)
        if kill_when(start(root, roster, out), trigger(out)):
            fired.append(what)
        assert_only_complete_outputs(out)
    assert "reading" in fired  # the early trigger always fires
    # a complete run, then killed runs over its outputs: they stay complete
    assert start(root, roster, out).wait(timeout=120) == 1  # errors in the returns: exit status 1
    assert_only_complete_outputs(out)
    assert staging(out) == []
    for trigger in TRIGGERS.values():
        kill_when(start(root, roster, out), trigger(out))
        assert_only_complete_outputs(out)
        assert (out / walk.OUTPUT_XLSX).exists() and (out / walk.OUTPUT_JSON).exists()
    # the next run removes what the killed ones left behind
    assert start(root, roster, out).wait(timeout=120) == 1
    assert staging(out) == []
    assert_only_complete_outputs(out)


def test_inputs_untouched_by_killed_runs(returns, tmp_path):
    root, roster = returns
    from tests.test_collect import sha_tree

    before = sha_tree(root)
    kill_when(start(root, roster, tmp_path / "out"), TRIGGERS["reading"](tmp_path / "out"))
    assert sha_tree(root) == before


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
