"""Time reading + checking returned workbooks against a plain openpyxl load and a bare lxml parse
of the same files, per kind of file.

    python benchmarks/bench_read.py [--n 200] [--rounds 5] [--lo 5] [--out DIR] [--profile]

Generates N filled workbooks (write_template with a random report; the template caches the
formula results, as Excel does) and from them two more variants of the same set:

  Excel-like    as our template writes them (xlsxwriter: shared strings, cached results)
  WPS-like      the same content with inline strings instead of the shared string table and other
                part names (xl/worksheets/ws<n>.xml), as other suites write
  LibreOffice   opened and saved by LibreOffice (soffice --convert-to xlsx; --lo of them,
                replicated to N; left out when LibreOffice is not installed)

Then, on one core (pinned) and in the same run, times per workbook (CPU time of the process), in
rounds that interleave every variant and method (so that other load on the machine falls on all of
them alike):

  ours       xlsx_tools.read.reader.read_and_check(path)  (intake, parse, identity, structure,
             values, formulas, every rule, narrative and text checks)
  openpyxl   openpyxl.load_workbook(path)                 (default options, nothing else)
  lxml       open the zip and lxml-parse the parts the reader reads (workbook and its rels,
             shared strings, styles, docProps, every worksheet but the instructions sheet)

and prints per variant the best and the median round (ms/workbook) and the ratios
openpyxl/ours (target: >= 10) and ours/lxml (target: <= 2). Before timing, it checks on one file
of each variant that the bare parse parses exactly the parts the reader reads (and stops if not).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402
from lxml import etree  # noqa: E402

from xlsx_tools.cli.demo.samples import random_report  # noqa: E402
from xlsx_tools.format.spec import load_format  # noqa: E402
from xlsx_tools.model import meta  # noqa: E402
from xlsx_tools.read.intake import Intake  # noqa: E402
from xlsx_tools.read.reader import read_and_check  # noqa: E402
from xlsx_tools.write import office  # noqa: E402
from xlsx_tools.write.template import write_template  # noqa: E402

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


# ---------------------------------------------------------------------------------------------
# The files


def generate(outdir: Path, n: int) -> list[Path]:
    spec = load_format()
    rng = random.Random(2021)
    gen_dir = outdir / "excel-like"
    gen_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    start = time.perf_counter()
    for i in range(n):
        report = random_report(spec, rng, f"测试区第{i:04d}号机关", f"640502-{i:04d}", year=2025)
        path = gen_dir / f"{i:04d}.xlsx"
        write_template(path, agency=report.agency.name, year=report.year, code=report.agency.code,
                       password="bench", report=report)
        paths.append(path)
    print(f"generated {len(paths)} workbooks in {time.perf_counter() - start:.1f} s")
    return paths


def wps_like(src: Path, dst: Path) -> Path:
    """The same workbook with inline strings (no shared string table) and other worksheet part
    names, written member by member as another suite would."""
    with zipfile.ZipFile(src) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    strings = [("".join(si.itertext())) for si in etree.fromstring(parts.pop("xl/sharedStrings.xml"))]
    renamed = {}
    for name in list(parts):
        m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", name)
        if m:
            renamed[name] = f"xl/worksheets/ws{m.group(1)}.xml"
    for old, new in renamed.items():
        root = etree.fromstring(parts.pop(old))
        for c in root.iter(f"{{{MAIN_NS}}}c"):
            if c.get("t") == "s":
                v = c.find(f"{{{MAIN_NS}}}v")
                text = strings[int(v.text)]
                c.remove(v)
                c.set("t", "inlineStr")
                t = etree.SubElement(etree.SubElement(c, f"{{{MAIN_NS}}}is"), f"{{{MAIN_NS}}}t")
                t.text = text
                if text != text.strip():
                    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        parts[new] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    for key in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        text = parts[key].decode()
        for old, new in renamed.items():
            text = text.replace(old[3:], new[3:])  # rels name targets relative to xl/
        text = re.sub(r'<Relationship [^>]*Target="sharedStrings.xml"/>', "", text)
        text = re.sub(r'<Override PartName="/xl/sharedStrings.xml"[^>]*/>', "", text)
        parts[key] = text.encode()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return dst


def libreoffice(outdir: Path, paths: list[Path], lo: int) -> list[Path]:
    if not lo or not office.find_soffice():
        print("LibreOffice not installed: no LibreOffice-saved files" if lo else "no LibreOffice-saved files (--lo 0)")
        return []
    lo_dir = outdir / "libreoffice"
    start = time.perf_counter()
    saved = [office.convert(paths[i], "xlsx:Calc MS Excel 2007 XML", lo_dir / f"src{i}") for i in range(lo)]
    print(f"saved {len(saved)} of them through LibreOffice in {time.perf_counter() - start:.1f} s")
    out = []
    for i in range(len(paths)):
        copy = lo_dir / f"lo{i:04d}.xlsx"
        shutil.copyfile(saved[i % len(saved)], copy)
        out.append(copy)
    return out


# ---------------------------------------------------------------------------------------------
# The bare parse


def parts_read(path: Path) -> list[str]:
    """The parts the reader reads: workbook and its rels, shared strings, styles, docProps and
    every worksheet but the instructions sheet."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): "xl/" + r.get("Target").lstrip("/").removeprefix("xl/") for r in rels}
        book = etree.fromstring(z.read("xl/workbook.xml"))
    out = ["xl/_rels/workbook.xml.rels", "xl/workbook.xml"]
    for sheet in book.iter("{*}sheet"):
        rid = sheet.get(f"{{{REL_NS}}}id")
        if sheet.get("name") != meta.INSTRUCTIONS_SHEET and targets.get(rid) in names:
            out.append(targets[rid])
    out += [p for p in ("xl/sharedStrings.xml", "xl/styles.xml", "docProps/custom.xml", "docProps/app.xml",
                        "docProps/core.xml") if p in names]
    return out


def reader_parts(path: Path) -> list[str]:
    """The parts read_and_check actually reads (every XML part goes through Intake.read), so that
    the bare parse is checked to parse the same ones."""
    seen: list[str] = []
    real = Intake.read

    def read(self, part: str) -> bytes:
        seen.append(part)
        return real(self, part)

    Intake.read = read
    try:
        read_and_check(path)
    finally:
        Intake.read = real
    return seen


def bare_parse(item: tuple[Path, list[str]]) -> None:
    path, parts = item
    with zipfile.ZipFile(path) as z:
        for part in parts:
            etree.fromstring(z.read(part), PARSER)


# ---------------------------------------------------------------------------------------------
# Timing


def time_per_file(fn, items: list) -> float:
    """CPU milliseconds of this process per item: on a shared machine, the time others take the
    core from us is not counted (wall time would be)."""
    gc.collect()
    start = time.process_time()
    for item in items:
        fn(item)
    return (time.process_time() - start) / max(1, len(items)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of workbooks per variant")
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds (best and median are printed)")
    parser.add_argument("--lo", type=int, default=5, help="workbooks saved through LibreOffice (0: none)")
    parser.add_argument("--out", type=Path, default=None, help="keep the workbooks in this folder (reused when there)")
    parser.add_argument("--profile", action="store_true", help="profile read+check")
    args = parser.parse_args()

    tmp = None
    outdir = args.out
    if outdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-read-")
        outdir = Path(tmp.name)
    try:
        excel = sorted((outdir / "excel-like").glob("*.xlsx"))[:args.n] if (outdir / "excel-like").is_dir() else []
        if len(excel) < args.n:
            excel = generate(outdir, args.n)
        (outdir / "wps-like").mkdir(exist_ok=True)
        wps = [wps_like(p, outdir / "wps-like" / p.name) for p in excel]
        lo = sorted((outdir / "libreoffice").glob("lo*.xlsx"))[:args.n]
        if len(lo) < args.n:
            lo = libreoffice(outdir, excel, args.lo)
        print(one_core())
        variants = [("Excel-like", excel), ("WPS-like", wps)] + ([("LibreOffice", lo)] if lo else [])
        for label, paths in variants:
            for p in paths[:3]:  # warm up imports and caches
                read_and_check(p)
                openpyxl.load_workbook(p)
            bad = [p for p in paths if read_and_check(p).has_errors]
            if bad:
                print(f"WARNING: {label}: {len(bad)} workbooks have errors, e.g. {bad[0]}: "
                      f"{[f.code for f in read_and_check(bad[0]).findings][:5]}")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _, paths in variants:
                time_per_file(read_and_check, paths)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        bare_items = {label: [(p, parts_read(p)) for p in paths] for label, paths in variants}
        for label, paths in variants:  # the bare parse parses exactly what the reader parses
            ours, bare = sorted(reader_parts(paths[0])), sorted(bare_items[label][0][1])
            if ours != bare:
                raise SystemExit(f"{label}: the bare parse reads {bare}, the reader {ours}")
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for label, paths in variants:
                times.setdefault((label, "ours"), []).append(time_per_file(read_and_check, paths))
                times.setdefault((label, "openpyxl"), []).append(time_per_file(openpyxl.load_workbook, paths))
                times.setdefault((label, "lxml"), []).append(time_per_file(bare_parse, bare_items[label]))
        print(f"\nms per workbook, {args.n} workbooks per variant, {args.rounds} rounds: best (median)")
        print(f"{'variant':<13}{'read+check':>16}{'openpyxl':>18}{'bare lxml':>16}{'openpyxl/ours':>15}{'ours/lxml':>11}")
        for label, _ in variants:
            ours, opx, bare = (times[(label, m)] for m in ("ours", "openpyxl", "lxml"))
            print(f"{label:<13}{min(ours):>7.2f} ({statistics.median(ours):>6.2f})"
                  f"{min(opx):>9.2f} ({statistics.median(opx):>6.2f})"
                  f"{min(bare):>7.2f} ({statistics.median(bare):>6.2f})"
                  f"{min(opx) / min(ours):>14.1f}x{min(ours) / min(bare):>10.2f}x")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
