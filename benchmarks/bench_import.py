"""Benchmark `xlsx-tools import`: N published reports as PDF and as web pages, ms per report,
compared with the PDF library's own text extraction.

    python3 benchmarks/bench_import.py [--n 100]

The reports are random valid Reports written by our `docx` code and converted by one LibreOffice
run per format (PDF, HTML StarWriter) into a cache folder, reused across runs. Then, on one core,
each file is imported (read, tables found, every check run) and, for the PDFs, pdfplumber's own
`extract_text()` of every page is timed on the same file. Every import must give every figure
back; the script stops with an error otherwise.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.model.report import Report  # noqa: E402
from xlsx_tools.read.published import import_file  # noqa: E402
from xlsx_tools.write.docx_report import write_docx  # noqa: E402
from xlsx_tools.write.office import find_soffice  # noqa: E402

NARRATIVE = {"overview": "本机关认真贯彻落实政府信息公开条例，各项工作有序开展。", "problems": "无。", "other": "无。"}
YEAR = 2024


def reports(n: int) -> list[Report]:
    spec = load_format()
    out = []
    for i in range(n):
        r = random_report(spec, random.Random(i), f"基准测试第{i:03d}号机关", f"BM-{i:03d}", YEAR)
        r.narrative = dict(NARRATIVE)
        out.append(r)
    return out


def prepare(folder: Path, reps: list[Report]) -> tuple[list[Path], list[Path]]:
    docx = folder / "docx"
    pdfs = [folder / "pdf" / f"r{i:03d}.pdf" for i in range(len(reps))]
    htmls = [folder / "html" / f"r{i:03d}.html" for i in range(len(reps))]
    if all(p.exists() for p in pdfs + htmls):
        return pdfs, htmls
    soffice = find_soffice()
    if soffice is None:
        sys.exit("需要 LibreOffice (soffice) 来生成 PDF 和网页。")
    docx.mkdir(parents=True, exist_ok=True)
    files = [str(write_docx(r, docx / f"r{i:03d}.docx")) for i, r in enumerate(reps)]
    with tempfile.TemporaryDirectory() as profile:
        for fmt, out in (("pdf", folder / "pdf"), ("html:HTML (StarWriter)", folder / "html")):
            out.mkdir(exist_ok=True)
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                            "--outdir", str(out), *files], check=True, capture_output=True, timeout=1800)
    return pdfs, htmls


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"mean {statistics.mean(values) * 1000:.0f} ms, median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "xlsx-tools-bench-import")
    ap.add_argument("--fresh", action="store_true", help="regenerate the files")
    args = ap.parse_args()
    if args.fresh and args.cache.exists():
        shutil.rmtree(args.cache)
    args.cache.mkdir(parents=True, exist_ok=True)
    reps = reports(args.n)
    t = time.perf_counter()
    pdfs, htmls = prepare(args.cache, reps)
    print(f"{args.n} reports ready in {args.cache} ({time.perf_counter() - t:.1f} s)")

    import pdfplumber

    spec = load_format()
    results: dict[str, list[float]] = {"pdf": [], "html": [], "lib": []}
    pages = 0
    for kind, files in (("pdf", pdfs), ("html", htmls)):
        for rep, path in zip(reps, files, strict=True):
            t = time.perf_counter()
            r = import_file(path)
            results[kind].append(time.perf_counter() - t)
            bad = [f.id for f in spec.fields if r.report is None or r.report.figures[f.id] != rep.figures[f.id]]
            if bad:
                sys.exit(f"{path}: {len(bad)} figures not given back, e.g. {bad[:3]}")
            if kind == "pdf":
                pages += r.source_block["pages"]
                t = time.perf_counter()
                with pdfplumber.open(path) as pdf:
                    for page in pdf.pages:
                        page.extract_text()
                results["lib"].append(time.perf_counter() - t)
    print(f"PDF  ({pages / args.n:.1f} pages each): import {ms(results['pdf'])}")
    print(f"     pdfplumber extract_text alone: {ms(results['lib'])}")
    print(f"     import / library text extraction: {sum(results['pdf']) / sum(results['lib']):.2f}×")
    print(f"HTML (StarWriter): import {ms(results['html'])}")
    print("every figure of every report given back")


if __name__ == "__main__":
    main()
