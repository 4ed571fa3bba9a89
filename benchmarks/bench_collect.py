"""Benchmark `xlsx-tools collect` at national scale: files per second, wall time, peak memory of the
whole process tree, disk used.

    python3 benchmarks/bench_collect.py --n 1000 --jobs 2
    python3 benchmarks/bench_collect.py --series 1000,5000,20000 --jobs 2   # one row per N
    python3 benchmarks/bench_collect.py --n 1000 --one-core                 # collect -j 1 against check

Generation (timed separately, cached in --cache): a few dozen returns are written once with
write_template (random valid figures; some with a balance error, some with a blank input cell),
then each roster agency's return is made from one of them by putting the agency's name, code and
save time into the identity parts of the zip (docProps, 基本信息, the hidden identity sheet), so
files are distinct (every sha256 differs) and figures vary. Besides: one agency in fifty sends
nothing; one in forty also sent an earlier draft with an error (重复提交, older save time); one
in sixty sent the same file twice; one in ninety-seven sent a truncated file (无法读取); one in
two hundred sent its return inside a .zip.

The collect runs as the real command in a subprocess; its process tree (the parent and the pool's
workers) is sampled from /proc every 20 ms for the peak of the summed RSS, and for the parent's own
CPU time (the part of a run more cores do not shorten). --one-core also runs
`collect -j 1` and `check --json` of the same files in one process, for the ratio the issue sets
(collect on one core within 1.2x of check), and `check` as a person reads it (its findings drawn
by rich) for reference, all three pinned to the same CPU, in wall time and in CPU time (which a
machine shared with other work does not blur), --rounds times (in turn forwards and backwards),
and prints the medians.

Every command runs with its bytecode compiled beforehand into a private cache (PYTHONPYCACHEPREFIX
in a temporary folder, PYTHONDONTWRITEBYTECODE unset, one warm-up collect and check on a few of the
files), as an installed package runs from its .pyc files: a checkout where bytecode writing is off
would otherwise be timed compiling our sources in the parent and again in every worker.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.model.meta import template_fingerprint  # noqa: E402
from xlsx_tools.read.roster import RosterRow, write_roster  # noqa: E402
from xlsx_tools.write.template import write_template  # noqa: E402

NARRATIVE = {"overview": "本机关认真贯彻落实政府信息公开条例，各项工作有序开展。", "problems": "无。", "other": "无。"}
YEAR = 2025
BASES = 48  # distinct sets of figures
# placeholders written into the base workbooks, replaced per agency (same length in characters
# as no real name needs to be: the XML carries them as text, nothing measures them)
NAME_MARK, CODE_MARK = "占位机关名称甲乙丙丁", "PLACEHOLDER-CODE"
SAVED = datetime(YEAR + 1, 1, 10, tzinfo=UTC)
SAVED_MARK = SAVED.strftime("%Y-%m-%dT%H:%M:%SZ")


def agency(i: int) -> RosterRow:
    return RosterRow(f"基准测试第{i:06d}号机关", f"BM-{i:06d}")


def _write_base(args: tuple[int, str]) -> None:
    k, folder = args
    spec = load_format()
    report = random_report(spec, random.Random(k), NAME_MARK, CODE_MARK, YEAR)
    report.narrative = dict(NARRATIVE)
    if k % 8 == 3:
        report.figures["t3.received.natural_person"] += 1  # an error (T3_BALANCE)
    elif k % 8 == 5:
        report.figures["t2.item1.rules.issued"] = None  # a blank input cell (an error)
    write_template(Path(folder) / f"base{k:03d}.xlsx", agency=NAME_MARK, code=CODE_MARK, year=YEAR,
                   password="bench", report=report, created=SAVED, spec=spec)


_BASES: list[list[tuple[zipfile.ZipInfo, bytes, bool]]] = []


def _load_bases(folder: str) -> None:
    global _BASES
    _BASES = []
    for k in range(BASES):
        with zipfile.ZipFile(Path(folder) / f"base{k:03d}.xlsx") as zf:
            parts = []
            for info in zf.infolist():
                data = zf.read(info)
                marked = NAME_MARK.encode() in data or CODE_MARK.encode() in data or SAVED_MARK.encode() in data
                parts.append((info, data, marked))
            _BASES.append(parts)


def _return_bytes(k: int, row: RosterRow, saved: datetime) -> bytes:
    out = io.BytesIO()
    when = saved.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for info, data, marked in _BASES[k]:
            if marked:
                data = (data.replace(NAME_MARK.encode(), row.agency.encode())
                        .replace(CODE_MARK.encode(), row.code.encode()).replace(SAVED_MARK.encode(), when))
            zf.writestr(info.filename, data)
    return out.getvalue()


def _write_agency(args: tuple[int, str]) -> None:
    """One agency's returns (see the module's docstring for the mix)."""
    i, folder = args
    row = agency(i)
    sub = Path(folder) / f"{i // 1000:03d}"
    sub.mkdir(parents=True, exist_ok=True)
    saved = SAVED + timedelta(minutes=i % 50_000)
    data = _return_bytes(i % BASES, row, saved)
    if i % 97 == 13:
        data = data[: len(data) // 2]  # truncated in transit
    if i % 200 == 19:
        with zipfile.ZipFile(sub / f"邮件附件{i:06d}.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(f"附件/{row.agency}.xlsx", data)
    else:
        (sub / f"{row.agency}.xlsx").write_bytes(data)
    if i % 40 == 11:  # an earlier draft with an error (base 3 has a balance error)
        (sub / f"{row.agency}（初稿）.xlsx").write_bytes(_return_bytes(3, row, saved - timedelta(days=1)))
    if i % 60 == 17:  # the same file sent twice
        again = Path(folder) / "再次发送"
        again.mkdir(exist_ok=True)
        (again / f"{row.agency}.xlsx").write_bytes(data)


def generate(n: int, cache: Path, jobs: int) -> tuple[Path, Path, float]:
    """The returns folder and roster for n agencies (cached), and the generation time (0 when
    taken from the cache)."""
    folder, roster, done = cache / "returns", cache / "roster.csv", cache / "complete"
    # returns of another template layout would all be flagged (模板指纹不同): made anew
    key = f"v2 {n} {template_fingerprint(load_format())}"
    if done.is_file() and done.read_text() == key:
        return folder, roster, 0.0
    if cache.is_dir() and not set(os.listdir(cache)) <= {"returns", "roster.csv", "bases", "complete"}:
        raise SystemExit(f"{cache} holds other files than a cache of this benchmark; not deleted")
    shutil.rmtree(cache, ignore_errors=True)
    folder.mkdir(parents=True)
    bases = cache / "bases"
    bases.mkdir()
    t0 = time.perf_counter()
    write_roster(roster, [agency(i) for i in range(n)])
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        pool.map(_write_base, [(k, str(bases)) for k in range(BASES)])
    todo = [(i, str(folder)) for i in range(n) if i % 50 != 7]
    with ctx.Pool(jobs, initializer=_load_bases, initargs=(str(bases),)) as pool:
        for k, _ in enumerate(pool.imap_unordered(_write_agency, todo, chunksize=64), start=1):
            if k % 10_000 == 0:
                print(f"  generated {k}/{len(todo)}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - t0
    done.write_text(key)
    return folder, roster, elapsed


# ---------------------------------------------------------------------------------------------
# Measuring a command


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
    """The process and its descendants (the pool's workers, the forkserver)."""
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (not its children) so far."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_sum = self.peak_parent = self.peak_procs = 0
        self.parent_cpu = 0.0  # the parent's own CPU seconds: the serial part of a run
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            pids = _tree(self.pid)
            rss = [_rss_kb(p) for p in pids]
            self.peak_sum = max(self.peak_sum, sum(rss))
            self.peak_parent = max(self.peak_parent, rss[0] if rss else 0)
            self.peak_procs = max(self.peak_procs, len(pids))
            self.parent_cpu = max(self.parent_cpu, _cpu_seconds(self.pid))
            time.sleep(self.interval)


PYCACHE = Path(tempfile.mkdtemp(prefix="bench-collect-pyc-"))


def measure(cmd: list[str], cpu: int | None = None) -> tuple[float, Sampler, int, str, float]:
    """(wall seconds, memory sampler, exit status, stdout, CPU seconds of the command and the
    children it waited for) of a command of ours; on the one CPU `cpu` where given."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=pin)
    sampler = Sampler(proc.pid)
    sampler.start()
    stdout, _ = proc.communicate()
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.stop.set()
    sampler.join()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, sampler, proc.returncode, stdout, cpu


def disk_used(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_collect(folder: Path, roster: Path, jobs: int, docx: bool = False, keep: bool = False,
                cpu: int | None = None) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bench-collect-out-"))
    cmd = [sys.executable, "-m", "xlsx_tools", "collect", str(folder), "-r", str(roster), "-o", str(out),
           "-j", str(jobs)] + (["--docx"] if docx else [])
    elapsed, sampler, code, stdout, cpu = measure(cmd, cpu)
    result = {"wall": elapsed, "cpu": cpu, "rss": sampler.peak_sum / 1024, "parent": sampler.peak_parent / 1024,
              "parent_cpu": sampler.parent_cpu,
              "procs": sampler.peak_procs, "exit": code, "out_bytes": disk_used(out),
              "summary": stdout.strip().splitlines()[:2]}
    if keep:
        result["out"] = str(out)
    else:
        shutil.rmtree(out, ignore_errors=True)
    return result


def run_check(folder: Path, cpu: int | None = None, as_json: bool = True) -> tuple[float, float]:
    """(wall, CPU) seconds of `check --json` (or, not as_json, `check` as a person reads it) of
    every .xlsx file under `folder` in one process."""
    files = sorted(str(p) for p in folder.rglob("*.xlsx"))
    elapsed, _, _, _, used = measure([sys.executable, "-m", "xlsx_tools", "check", *(["--json"] if as_json else []),
                                      *files], cpu)
    return elapsed, used


# ---------------------------------------------------------------------------------------------


WARM: set[Path] = set()


def warm_up(folder: Path, roster: Path) -> None:
    """Compile the bytecode of everything collect and check import (parent and workers) into
    PYCACHE: a collect with two workers and --docx of a few files, and a check of one."""
    if folder in WARM:
        return
    WARM.add(folder)
    files = sorted(folder.rglob("*.xlsx"))[:6]
    with tempfile.TemporaryDirectory(prefix="bench-collect-warm-") as tmp:
        few = Path(tmp) / "returns"
        few.mkdir()
        for f in files:
            shutil.copy(f, few / f.name)
        measure([sys.executable, "-m", "xlsx_tools", "collect", str(few), "-r", str(roster), "-o", str(Path(tmp) / "out"),
                 "-j", "2", "--docx"])
        measure([sys.executable, "-m", "xlsx_tools", "check", "--json", str(files[0])])


def one(n: int, args: argparse.Namespace) -> dict:
    cache = (args.cache or Path(tempfile.gettempdir()) / "xlsx-tools-bench") / f"collect-{n}"
    folder, roster, gen = generate(n, cache, max(1, os.cpu_count() or 1))
    warm_up(folder, roster)
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    res = run_collect(folder, roster, args.jobs, args.docx, args.keep)
    res.update(n=n, files=files, gen=gen, in_bytes=disk_used(folder))
    return res


HEADER = (f"{'N':>7} {'files':>7} {'wall s':>8} {'files/s':>8} {'peak RSS MB':>11} {'parent MB':>9} "
          f"{'parent CPU s':>12} {'procs':>5} {'in MB':>7} {'out MB':>7} {'gen s':>7}")


def row(r: dict) -> str:
    return (f"{r['n']:>7} {r['files']:>7} {r['wall']:>8.2f} {r['files'] / r['wall']:>8.0f} {r['rss']:>11.0f} "
            f"{r['parent']:>9.0f} {r['parent_cpu']:>12.1f} {r['procs']:>5} {r['in_bytes'] / 1e6:>7.0f} "
            f"{r['out_bytes'] / 1e6:>7.0f} {r['gen']:>7.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="number of roster agencies (default 1000)")
    ap.add_argument("--series", default="", help="comma-separated N, one row each, e.g. 1000,5000,20000")
    ap.add_argument("--jobs", type=int, default=2, help="collect --jobs (default 2)")
    ap.add_argument("--cache", type=Path, default=None, help="where the generated returns are kept, a folder collect-N for each N "
                    "(default: xlsx-tools-bench in the temporary folder)")
    ap.add_argument("--docx", action="store_true", help="also write each accepted agency's .docx")
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    ap.add_argument("--one-core", action="store_true", help="also collect -j 1 and check the same files in one process")
    ap.add_argument("--rounds", type=int, default=3, help="--one-core: rounds of the pair, alternately (default 3)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each N (default 1); with more, the median run is printed too")
    args = ap.parse_args()
    if not Path("/proc/self/status").exists():
        print("this benchmark samples memory from /proc (Linux)", file=sys.stderr)
        return 2
    sizes = [int(x) for x in args.series.split(",") if x.strip()] if args.series else [args.n]
    if len(sizes) > 1:
        args.cache = None
    print(f"collect --jobs {args.jobs} on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}); "
          "gen s = generating the returns (0: cached)")
    print(HEADER, flush=True)
    results = []
    for n in sizes:
        runs = []
        for _ in range(max(1, args.repeat)):
            r = one(n, args)
            runs.append(r)
            print(row(r), flush=True)
        if len(runs) > 1:
            r = sorted(runs, key=lambda x: x["wall"])[len(runs) // 2]
            print(row(r) + f"  (median of {len(runs)})", flush=True)
        results.append(r)
    for line in results[-1]["summary"]:
        print("  " + line)
    if args.keep:
        print(f"output kept in {results[-1]['out']}")
    if args.one_core:
        n = sizes[0]
        cache = (args.cache or Path(tempfile.gettempdir()) / "xlsx-tools-bench") / f"collect-{n}"
        folder, roster, _ = generate(n, cache, 1)
        warm_up(folder, roster)
        # all three on one CPU (the same one), so that the scheduler moving a run between the
        # cores blurs none of them; `check` as a person reads it (its findings drawn by rich) for reference
        one_cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        rows = []
        for k in range(max(1, args.rounds)):
            # the order alternates, so that a machine getting faster or slower favours none
            runs = [lambda: run_collect(folder, roster, 1, cpu=one_cpu), lambda: run_check(folder, one_cpu),
                    lambda: run_check(folder, one_cpu, as_json=False)]
            got = [f() for f in (runs if k % 2 == 0 else runs[::-1])]
            single, check, plain = (got if k % 2 == 0 else got[::-1])
            rows.append((single["wall"], single["cpu"], check[0], check[1], plain[0], plain[1]))
            print(f"one core (CPU {one_cpu}), {n} agencies, round {k + 1}: collect -j 1 {single['wall']:.2f} s "
                  f"(CPU {single['cpu']:.2f} s); check --json of the same .xlsx files in one process {check[0]:.2f} s "
                  f"(CPU {check[1]:.2f} s): ratio {single['wall'] / check[0]:.2f} (CPU {single['cpu'] / check[1]:.2f}); "
                  f"check {plain[0]:.2f} s: ratio {single['wall'] / plain[0]:.2f}", flush=True)
        med = [statistics.median(r[i] for r in rows) for i in range(6)]
        ratios = sorted(r[1] / r[3] for r in rows)
        print(f"one core, median of {len(rows)}: collect -j 1 {med[0]:.2f} s (CPU {med[1]:.2f} s), check --json "
              f"{med[2]:.2f} s (CPU {med[3]:.2f} s): ratio {med[0] / med[2]:.2f} (CPU {med[1] / med[3]:.2f}; per round "
              + ", ".join(f"{x:.2f}" for x in ratios) + f"); check {med[4]:.2f} s (CPU {med[5]:.2f} s): ratio "
              f"{med[0] / med[4]:.2f} (CPU {med[1] / med[5]:.2f})")
    return 0 if all(r["exit"] in (0, 1) for r in results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(PYCACHE, ignore_errors=True)
