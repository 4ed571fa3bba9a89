"""Time the Word report: one document, then N documents of random reports, built and saved.

    python benchmarks/bench_docx.py [--n 100] [--out DIR] [--pdf] [--profile]

Prints the time to build (python-docx objects) and to save (.docx on disk) per document, and the
table part alone (the three merged grids written as raw XML). --pdf also times one LibreOffice
conversion (not part of the per-document figure: it is an external process of about a second).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlsx_tools.cli.demo.samples import random_report, sample_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.write import docx_oxml  # noqa: E402
from xlsx_tools.write import docx_report as dr  # noqa: E402


def one(report, outdir: Path, i: int) -> tuple[float, float]:
    t0 = time.perf_counter()
    doc = dr.build_document(report)
    t1 = time.perf_counter()
    doc.save(str(outdir / f"{i:04d}.docx"))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def tables_only(report, spec, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        for table in spec.tables:
            docx_oxml.build_table(dr.column_widths(table, report.figures), dr.table_rows(table, report.figures),
                                  style_id="GwTable")
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    spec = load_format()
    rng = random.Random(2021)
    reports = [random_report(spec, rng, f"测试区第{i:04d}号机关", f"640502-{i:04d}", year=2025)
               for i in range(args.n)]

    with tempfile.TemporaryDirectory(prefix="bench-docx-") as tmp:
        outdir = args.out or Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        # first document: includes loading python-docx's template and the format file
        start = time.perf_counter()
        first_build, first_save = one(sample_report(spec), outdir, 9999)
        print(f"第 1 份（冷启动）：构建 {first_build * 1000:.1f} ms，保存 {first_save * 1000:.1f} ms")

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        timings = [one(r, outdir, i) for i, r in enumerate(reports)]
        total = time.perf_counter() - start
        if profiler:
            profiler.disable()
        builds = [b for b, _ in timings]
        saves = [s for _, s in timings]
        size = statistics.mean(p.stat().st_size for p in outdir.glob("0*.docx"))
        print(f"{args.n} 份：共 {total:.2f} s，每份 {total / args.n * 1000:.1f} ms"
              f"（构建中位数 {statistics.median(builds) * 1000:.1f} ms，保存中位数 {statistics.median(saves) * 1000:.1f} ms），"
              f"平均 {size / 1024:.0f} KB")
        print(f"其中三张表格（原始 XML）：每份 {tables_only(reports[0], spec, 50) * 1000:.2f} ms")

        if args.pdf:
            from xlsx_tools.write import office

            if office.find_soffice() is None:
                print("未安装 LibreOffice，跳过 PDF。")
            else:
                start = time.perf_counter()
                office.convert(outdir / "0000.docx", "pdf", outdir)
                print(f"LibreOffice 转 PDF（1 份）：{time.perf_counter() - start:.2f} s")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
