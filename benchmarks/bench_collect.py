"""Benchmark `xlsx-tools collect`: N returned workbooks, files per second and peak memory.

    python3 benchmarks/bench_collect.py [--n 1000] [--jobs 2]
    python3 benchmarks/bench_collect.py --n 10000 --jobs 2      # memory stays flat

The returns are generated once (write_template with random valid figures, one in ten with an
error, a few re-sent) into a cache folder and reused across runs. The collect itself runs as the
real command in a subprocess; its process tree (the parent and the pool's workers) is sampled
from /proc every 20 ms, and the peak of the summed RSS and of the largest single process are
printed. Goals (issue 5, 2-core machine): 1,000 workbooks in ≤ 15 s; peak RSS ≤ 300 MB at 10,000.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.read.roster import RosterRow, write_roster  # noqa: E402
from xlsx_tools.write.template import write_template  # noqa: E402

NARRATIVE = {"overview": "本机关认真贯彻落实政府信息公开条例，各项工作有序开展。", "problems": "无。", "other": "无。"}
YEAR = 2025


def agency(i: int) -> RosterRow:
    return RosterRow(f"基准测试第{i:05d}号机关", f"BM-{i:05d}")


def _write_one(args: tuple[int, str]) -> None:
    i, folder = args
    spec = load_format()
    row = agency(i)
    report = random_report(spec, random.Random(i), row.agency, row.code, YEAR)
    report.narrative = dict(NARRATIVE)
    if i % 10 == 3:
        report.figures["t3.received.natural_person"] += 1  # an error (T3_BALANCE)
    created = datetime(YEAR + 1, 1, 10, tzinfo=UTC) + timedelta(minutes=i)
    sub = Path(folder) / f"{i // 500:03d}"
    sub.mkdir(parents=True, exist_ok=True)
    write_template(sub / f"{row.agency}.xlsx", agency=row.agency, code=row.code, year=YEAR, password="bench",
                   report=report, created=created, spec=spec)


def generate(n: int, cache: Path, jobs: int) -> tuple[Path, Path]:
    """The returns folder and roster for n agencies (one in fifty sends nothing), cached."""
    folder, roster, done = cache / "returns", cache / "roster.csv", cache / "complete"
    if done.is_file() and done.read_text() == str(n):
        return folder, roster
    shutil.rmtree(cache, ignore_errors=True)
    folder.mkdir(parents=True)
    roster_rows = [agency(i) for i in range(n)]
    write_roster(roster, roster_rows)
    todo = [(i, str(folder)) for i in range(n) if i % 50 != 7]
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for k, _ in enumerate(pool.imap_unordered(_write_one, todo, chunksize=16), start=1):
            if k % 1000 == 0:
                print(f"  generated {k}/{len(todo)}", flush=True)
    print(f"generated {len(todo)} returns for {n} agencies in {time.perf_counter() - t0:.1f} s -> {folder}")
    done.write_text(str(n))
    return folder, roster


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _tree(root: int) -> list[int]:
    """The process and its descendants (the pool's workers), without scanning all of /proc."""
    tree, frontier = [root], [root]
    while frontier:
        frontier = [c for p in frontier for c in _children(p)]
        tree += frontier
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_sum = self.peak_single = self.peak_parent = 0
        self.peak_procs = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _tree(self.pid)
            rss = [_rss_kb(p) for p in pids]
            self.peak_sum = max(self.peak_sum, sum(rss))
            self.peak_single = max(self.peak_single, max(rss, default=0))
            self.peak_parent = max(self.peak_parent, rss[0] if rss else 0)
            self.peak_procs = max(self.peak_procs, len(pids))
            time.sleep(self.interval)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="number of agencies (default 1000)")
    ap.add_argument("--jobs", type=int, default=2, help="collect --jobs (default 2)")
    ap.add_argument("--cache", type=Path, default=None, help="where the generated returns are kept")
    ap.add_argument("--docx", action="store_true", help="also write each accepted agency's .docx")
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    args = ap.parse_args()
    if not Path("/proc/self/status").exists():
        print("this benchmark samples memory from /proc (Linux)", file=sys.stderr)
        return 2
    cache = args.cache or Path(tempfile.gettempdir()) / "xlsx-tools-bench" / f"collect-{args.n}"
    folder, roster = generate(args.n, cache, max(1, os.cpu_count() or 1))
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    out = Path(tempfile.mkdtemp(prefix="bench-collect-out-"))
    cmd = [sys.executable, "-m", "xlsx_tools", "collect", str(folder), "-r", str(roster), "-o", str(out),
           "-j", str(args.jobs)] + (["--docx"] if args.docx else [])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sampler = Sampler(proc.pid)
    sampler.start()
    stdout, _ = proc.communicate()
    elapsed = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    summary = stdout.strip().splitlines()[:2]
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    print(f"collect of {files} files ({args.n} agencies) with --jobs {args.jobs}: {elapsed:.2f} s, "
          f"{files / elapsed:.0f} files/s (exit status {proc.returncode})")
    print(f"peak RSS: {sampler.peak_sum / 1024:.0f} MB summed over the process tree "
          f"({sampler.peak_procs} processes); largest single process {sampler.peak_single / 1024:.0f} MB; "
          f"parent {sampler.peak_parent / 1024:.0f} MB")
    print("outputs: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items())))
    for line in summary:
        print("  " + line)
    if args.keep:
        print(f"output kept in {out}")
    else:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if proc.returncode in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
