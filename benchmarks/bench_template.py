"""Generate templates for an N-agency roster on one core and print ms per workbook.

    python benchmarks/bench_template.py [--n 1000] [--out DIR] [--profile]

Goal (issue 2): at most 25 ms per workbook; xlsxwriter alone needs about 15 ms for a workbook
this size, which the `--baseline` figure measures (the same cells and merges, no spec logic).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.read.roster import RosterRow  # noqa: E402
from xlsx_tools.write.template import write_batch, write_template  # noqa: E402


def roster(n: int) -> list[RosterRow]:
    return [RosterRow(f"测试区第{i:04d}号机关", f"640502-{i:04d}", {"contact_person": "张三", "phone": "0955-1234567"})
            for i in range(n)]


def baseline(spec, outdir: Path, n: int) -> float:
    """xlsxwriter alone: the same sheets, label cells, merges and numbers, no formats or logic."""
    import xlsxwriter

    start = time.perf_counter()
    for i in range(n):
        wb = xlsxwriter.Workbook(str(outdir / f"base{i}.xlsx"), {"in_memory": True})
        for t in spec.tables:
            ws = wb.add_worksheet(t.sheet)
            for c in t.cells:
                if c.merged:
                    ws.merge_range(c.row, c.col, c.row + c.rowspan - 1, c.col + c.colspan - 1, c.text)
                else:
                    ws.write_string(c.row, c.col, c.text)
            for f in t.fields:
                ws.write_number(f.row, f.col, 0)
        for name in ("填报说明", spec.info_sheet, spec.narrative_sheet, "meta"):
            wb.add_worksheet(name).write_string(0, 0, name)
        wb.close()
    return (time.perf_counter() - start) / n * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=None, help="keep the templates here (default: a temporary folder)")
    ap.add_argument("--profile", action="store_true", help="print the top functions by cumulative time")
    ap.add_argument("--baseline", action="store_true", help="also time xlsxwriter alone")
    ap.add_argument("--filled", action="store_true",
                    help="also time templates prefilled from a Report (figures, cached results, narrative)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    spec = load_format()
    rows = roster(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.out or Path(tmp)
        # warm-up: imports and the per-spec plan are built once, not per workbook
        write_template(Path(tmp) / "warm.xlsx", agency="预热", year=2025, password="pw", spec=spec)
        times: list[float] = []
        last = [time.perf_counter()]

        def tick(_info) -> None:
            now = time.perf_counter()
            times.append(now - last[0])
            last[0] = now

        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        write_batch(rows, 2025, outdir, password="bench-pw", deadline="2026年1月31日", progress=tick, spec=spec)
        if profiler:
            profiler.disable()
        total = time.perf_counter() - start
        size = sum(p.stat().st_size for p in outdir.glob("*.xlsx")) / max(1, args.n)
        ms = [t * 1000 for t in times]
        print(f"templates: {args.n}  total: {total:.2f} s  per workbook: {total / args.n * 1000:.1f} ms "
              f"(median {statistics.median(ms):.1f}, p95 {sorted(ms)[int(len(ms) * 0.95) - 1]:.1f} ms; "
              f"manifest included)  size: {size / 1024:.1f} KiB")
        print("target: <= 25 ms per workbook on one core")
        if args.baseline:
            base_dir = Path(tmp) / "base"
            base_dir.mkdir()
            print(f"xlsxwriter alone (same cells and merges): {baseline(spec, base_dir, min(args.n, 300)):.1f} ms per workbook")
        if args.filled:
            rng = random.Random(1)
            reports = [random_report(spec, rng, r.agency, r.code, year=2025) for r in rows[: min(args.n, 300)]]
            filled_dir = Path(tmp) / "filled"
            start = time.perf_counter()
            for i, rep in enumerate(reports):
                write_template(filled_dir / f"{i}.xlsx", agency=rep.agency.name, year=2025, code=rep.agency.code,
                               password="bench-pw", report=rep, spec=spec)
            print(f"prefilled from a Report: {(time.perf_counter() - start) / len(reports) * 1000:.1f} ms per workbook")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
