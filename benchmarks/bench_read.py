"""Time reading + checking returned workbooks against a plain openpyxl load of the same files.

    python benchmarks/bench_read.py [--n 1000] [--lo 5] [--lo-share 0.1] [--out DIR] [--profile]

Generates N filled workbooks (write_template with a random report; the template caches the
formula results, as Excel does). Where LibreOffice is installed, --lo of them are also opened and
saved by LibreOffice (soffice --convert-to xlsx) and replicated so that --lo-share of the set are
LibreOffice-saved files. Then, on one core (no pool) and in the same run, times per workbook:

  read+check   xlsx_tools.read.reader.read_and_check(path)   (intake, parse, identity, structure,
               values, formulas, every rule, narrative and text checks)
  openpyxl     openpyxl.load_workbook(path)              (default options, nothing else)

and prints ms/workbook for both and their ratio (target: read+check at least 3x faster).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.read.reader import read_and_check  # noqa: E402
from xlsx_tools.write import office  # noqa: E402
from xlsx_tools.write.template import write_template  # noqa: E402


def one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def generate(outdir: Path, n: int, lo: int, lo_share: float) -> tuple[list[Path], list[Path]]:
    spec = load_format()
    rng = random.Random(2021)
    gen_dir = outdir / "generator"
    gen_dir.mkdir(parents=True, exist_ok=True)
    n_lo = int(n * lo_share) if lo and office.find_soffice() else 0
    paths = []
    start = time.perf_counter()
    for i in range(n - n_lo):
        report = random_report(spec, rng, f"测试区第{i:04d}号机关", f"640502-{i:04d}", year=2025)
        path = gen_dir / f"{i:04d}.xlsx"
        write_template(path, agency=report.agency.name, year=report.year, code=report.agency.code,
                       password="bench", report=report)
        paths.append(path)
    print(f"generated {len(paths)} workbooks in {time.perf_counter() - start:.1f} s")
    lo_paths: list[Path] = []
    if n_lo:
        lo_dir = outdir / "libreoffice"
        start = time.perf_counter()
        saved = [office.convert(paths[i], "xlsx:Calc MS Excel 2007 XML", lo_dir / f"src{i}") for i in range(lo)]
        print(f"saved {len(saved)} of them through LibreOffice in {time.perf_counter() - start:.1f} s")
        for i in range(n_lo):
            copy = lo_dir / f"lo{i:04d}.xlsx"
            shutil.copyfile(saved[i % len(saved)], copy)
            lo_paths.append(copy)
    elif lo:
        print("LibreOffice not installed: no LibreOffice-saved files in the set")
    return paths, lo_paths


def time_per_file(fn, paths: list[Path]) -> float:
    gc.collect()
    start = time.perf_counter()
    for p in paths:
        fn(p)
    return (time.perf_counter() - start) / max(1, len(paths)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of workbooks")
    parser.add_argument("--lo", type=int, default=5, help="workbooks saved through LibreOffice (0: none)")
    parser.add_argument("--lo-share", type=float, default=0.1, help="share of LibreOffice-saved files in the set")
    parser.add_argument("--out", type=Path, default=None, help="keep the workbooks in this folder")
    parser.add_argument("--profile", action="store_true", help="profile read+check")
    args = parser.parse_args()

    tmp = None
    outdir = args.out
    if outdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-read-")
        outdir = Path(tmp.name)
    try:
        gen, lo = generate(outdir, args.n, args.lo, args.lo_share)
        print(one_core())
        everything = gen + lo
        for p in everything[:5]:  # warm up imports and caches
            read_and_check(p)
            openpyxl.load_workbook(p)
        bad = [p for p in everything if read_and_check(p).has_errors]
        if bad:
            print(f"WARNING: {len(bad)} workbooks have errors, e.g. {bad[0]}")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            time_per_file(read_and_check, everything)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        rows = [("all", everything), ("generator", gen)] + ([("LibreOffice", lo)] if lo else [])
        print(f"\n{'files':<12}{'n':>6}{'read+check ms':>16}{'openpyxl ms':>14}{'ratio':>8}")
        for label, paths in rows:
            ours = time_per_file(read_and_check, paths)
            plain = time_per_file(openpyxl.load_workbook, paths)
            print(f"{label:<12}{len(paths):>6}{ours:>16.2f}{plain:>14.2f}{plain / ours:>7.1f}x")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
