"""Time `xlsx-tools check FILE` as a command, process start included (issue 11: <= 250 ms).

    python benchmarks/bench_check.py [--runs 20] [--file FILE]

Without --file, one returned workbook is made with write_template and random valid figures (the
cached formula results included, as Excel saves them), so the check reads every cell and finds
nothing to report: the everyday case. The command then runs --runs times as
`python -m xlsx_tools check FILE`, each a fresh interpreter, after one warm-up run. The warm-up
compiles the package's bytecode into a private cache (PYTHONPYCACHEPREFIX in a temporary folder, and
PYTHONDONTWRITEBYTECODE unset), because an installed package has its .pyc files and a checkout
where bytecode writing is off would be timed compiling sources instead.

Printed: the median and best wall time and CPU time (user+sys of the child) and, for context, a
bare `python -c pass` the same way, the modules the command loaded and the slowest imports
(-X importtime, cumulative).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.read.reader import read_and_check  # noqa: E402
from xlsx_tools.write.template import write_template  # noqa: E402

TARGET_MS = 250


def make_return(folder: Path) -> Path:
    report = random_report(load_format(), random.Random(2021), "某某县卫生健康局", "640502-0001",
                           year=2025)
    path = folder / "某某县卫生健康局.xlsx"
    write_template(path, agency=report.agency.name, year=report.year, code=report.agency.code,
                   password="bench-pw", report=report)
    return path


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000, proc.returncode


def series(cmd: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float], int]:
    run_once(cmd, env)  # warm-up: bytecode compiled, files in the page cache
    walls, cpus, code = [], [], 0
    for _ in range(runs):
        wall, cpu, code = run_once(cmd, env)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus, code


def loaded_modules(path: Path, env: dict[str, str]) -> list[str]:
    code = ("import sys\nfrom xlsx_tools.cli import app\ntry:\n"
            f"    app.main(['check', {str(path)!r}])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return proc.stderr.split()


def slowest_imports(path: Path, env: dict[str, str], top: int) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "xlsx_tools", "check", str(path)],
                          env=env, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and name.startswith(" ") and not name.startswith("  "):
            rows.append((int(cumulative), name.strip()))  # top-level imports only
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--file", type=Path, help="check this file instead of a generated return")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        folder = Path(tmp)
        path = args.file or make_return(folder)
        report = read_and_check(path)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(folder / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        walls, cpus, code = series([sys.executable, "-m", "xlsx_tools", "check", str(path)], env, args.runs)
        bare_walls, bare_cpus, _ = series([sys.executable, "-c", "pass"], env, args.runs)
        modules = loaded_modules(path, env)
        print(f"file: {path.name} ({len(report.findings)} findings, exit {code}); "
              f"{args.runs} runs after a warm-up; load {os.getloadavg()[0]:.2f}")
        print(f"{'':<28}{'median':>10}{'best':>10}")
        for label, values in (("check, wall (ms)", walls), ("check, CPU (ms)", cpus),
                              ("python -c pass, wall (ms)", bare_walls),
                              ("python -c pass, CPU (ms)", bare_cpus)):
            print(f"{label:<28}{statistics.median(values):>10.0f}{min(values):>10.0f}")
        verdict = "met" if statistics.median(walls) <= TARGET_MS else "MISSED"
        print(f"target: median wall <= {TARGET_MS} ms: {verdict}")
        ours = [m for m in modules if m.startswith("xlsx_tools")]
        heavy = [m for m in ("docx", "xlsxwriter", "openpyxl", "pdfplumber", "pydantic", "rich.progress")
                 if m in modules]
        print(f"modules loaded: {len(modules)} ({len(ours)} of xlsx_tools); heavy ones loaded: "
              f"{', '.join(heavy) or 'none'}")
        print("slowest top-level imports (cumulative ms):")
        for micros, name in slowest_imports(path, env, 8):
            print(f"  {micros / 1000:7.1f}  {name}")


if __name__ == "__main__":
    main()
