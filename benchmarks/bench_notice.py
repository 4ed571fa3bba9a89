"""Time the 问题通知: CPU per notice for the notices of a collect run, written one after another.

    python benchmarks/bench_notice.py [--n 1000] [--cache /tmp/xlsx-tools-bench] [--repeat 1] [--profile]

The notices are those `collect` writes for the generated returns of bench_collect.py (collect-N
under --cache; run bench_collect first). They are taken once from a collect run (its
stage_notices replaced by one that keeps the Notice objects) and kept in notices-N.pkl under
--cache, not in collect-N (which bench_collect keeps to its own files), with the returns'
`complete` stamp: later runs time only the writing, until the returns are generated anew.
Prints the process CPU time (user+sys) per notice, which is what the parent of `collect` spends
on each; the first notice of a run (python-docx loaded, the document shell built) is timed
separately.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xlsx_tools.collect import notice as collect_notice  # noqa: E402
from xlsx_tools.collect import run as collect_run  # noqa: E402
from xlsx_tools.write.notice import unique_filenames, write_notice  # noqa: E402


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def notices_of(n: int, cache: Path) -> list:
    """The (file name, Notice) pairs of a collect run of collect-n (pickled beside the returns)."""
    folder = cache / f"collect-{n}"
    kept = cache / f"notices-{n}.pkl"
    if not (folder / "complete").exists():
        sys.exit(f"{folder} 不存在：先运行 benchmarks/bench_collect.py --n {n} --cache {cache}")
    stamp = (folder / "complete").read_text()
    if kept.exists():
        was, items = pickle.loads(kept.read_bytes())
        if was == stamp:
            return items
    caught: list = []

    def keep(collection, staging, **kw):
        items = collect_notice.collection_notices(collection, **kw)
        names = unique_filenames([a.row.agency for a, _ in items], [a.row.code for a, _ in items])
        caught.extend(zip(names, [notice for _, notice in items], strict=True))
        return []

    collect_run.stage_notices = keep
    with tempfile.TemporaryDirectory(prefix="bench-notice-") as tmp:
        collect_run.collect(folder / "returns", folder / "roster.csv", Path(tmp) / "out", jobs=2)
    kept.write_bytes(pickle.dumps((stamp, caught)))
    return caught


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="which collect-N of bench_collect (1000)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "xlsx-tools-bench")
    parser.add_argument("--repeat", type=int, default=1, help="write the notices this many times")
    parser.add_argument("--out", type=Path, default=None, help="keep the notices in this folder")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    items = notices_of(args.n, args.cache)
    print(f"collect-{args.n}：{len(items)} 份问题通知，"
          f"问题共 {sum(len(n.findings) for _, n in items)} 处（最多 {max(len(n.findings) for _, n in items)} 处）")
    with tempfile.TemporaryDirectory(prefix="bench-notice-") as tmp:
        outdir = args.out or Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        name, first = items[0]
        c0, w0 = cpu(), time.perf_counter()
        write_notice(first, outdir / f"first-{name}")
        print(f"第 1 份（含载入 python-docx 与文档外壳）：CPU {(cpu() - c0) * 1000:.1f} ms，"
              f"墙钟 {(time.perf_counter() - w0) * 1000:.1f} ms")
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        rounds = []
        for _ in range(args.repeat):
            c0, w0 = cpu(), time.perf_counter()
            for name, notice in items:
                write_notice(notice, outdir / name)
            rounds.append((cpu() - c0, time.perf_counter() - w0))
        if profiler:
            profiler.disable()
        best_cpu = min(c for c, _ in rounds)
        print(f"{len(items)} 份 × {args.repeat} 轮：每份 CPU {best_cpu / len(items) * 1000:.2f} ms"
              f"（最好一轮；各轮 {', '.join(f'{c:.2f}' for c, _ in rounds)} s CPU，"
              f"墙钟中位数 {statistics.median(w for _, w in rounds):.2f} s），"
              f"平均 {statistics.mean(p.stat().st_size for p in outdir.glob('*.docx')) / 1024:.0f} KB")
        print(f"负载：{os.getloadavg()[0]:.2f}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
