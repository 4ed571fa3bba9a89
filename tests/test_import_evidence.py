"""Issue 12, evidence still owed: filler pipes as real pages print them, traditional characters with
label drift in the pipe styles, and bad input (the file-size cap before reading, a binary file or
an image or a workbook named .txt, a PDF bomb of pages) — a clear message, never a traceback."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from import_fixtures import make_report, report_text
from typer.testing import CliRunner

from xlsx_tools.cli.app import app
from xlsx_tools.format.spec import load_format
from xlsx_tools.read.published import import_file
from xlsx_tools.read.published.importer import import_detected, import_document
from xlsx_tools.read.published.sources import Limits, read_bytes

SPEC = load_format()


def run(text: str, spec=None):
    doc = read_bytes(text.encode("utf-8"), "r.txt")
    if spec is None:
        return import_detected(doc, source="r.txt", sha256="", file_stem="r")
    return import_document(doc, spec=spec, source="r.txt", sha256="", file_stem="r")


def with_filler(text: str, seed: int) -> str:
    """Pipe rows padded the way copied web tables are (孝感市人民政府办公室 2020: "第二十条第(一)项 | |||",
    "规章 | 2 | 2 | 3 |"; 武汉市生态环境局 2020: "行政许可 | 8 | 5 | 93 | ||"): a block title followed by
    filler cells, rows with extra empty cells at the end, some rows without the leading "|"."""
    rng = random.Random(seed)
    titles = {c.text for t in SPEC.tables for c in t.cells if c.role == "title"}
    out = []
    for ln in text.split("\n"):
        s = ln.strip()
        if s.startswith("|"):
            cells = [c.strip() for c in s.strip("|").split("|")]
            cells = [c for c in cells if c] if cells[0] in titles else cells
            line = " | ".join(cells) + " |" + "|" * rng.randint(0, 3)
            out.append(line if rng.random() < 0.5 else "| " + line)
        else:
            out.append(ln)
    return "\n".join(out)


@pytest.mark.parametrize("seed", range(6))
def test_filler_pipes_give_every_figure_back(seed):
    rep = make_report(seed=100 + seed)
    text = with_filler(report_text(rep, "pipes", seed=seed, traditional=seed % 2 == 1, drift=seed % 3 == 0), seed)
    assert "|||" in text or "||" in text
    r = run(text, SPEC)
    assert [fid for fid, v in rep.figures.items() if r.report.figures[fid] != v] == []
    assert r.source_block["text_style"] == "pipes" and not r.has_errors


def test_filler_pipes_in_a_2019_report():
    rep = make_report(seed=120, format_id="gov-info-2019", year=2020)
    text = report_text(rep, "pipes", seed=1)
    titles = {c.text for t in rep.spec.tables for c in t.cells if c.role == "title"}
    text = "\n".join((ln.strip().strip("|").split("|")[0].strip() + " | |||") if any(t in ln for t in titles) else
                     (ln + "||" if ln.startswith("|") else ln) for ln in text.split("\n"))
    r = run(text)
    assert r.report.format == "gov-info-2019"
    assert [fid for fid, v in rep.figures.items() if r.report.figures[fid] != v] == []


# -- bad input


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    """A 3 GiB sparse file named .pdf: refused from its size, in well under a second."""
    p = tmp_path / "huge.pdf"
    with open(p, "wb") as fh:
        fh.truncate(3 << 30)
    t = time.perf_counter()
    r = import_file(p)
    assert time.perf_counter() - t < 2
    assert r.report is None and "过大" in r.findings[0].message and r.source_block["error"] == "too_large"
    res = CliRunner().invoke(app, ["import", str(p)])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_each_kind_has_its_own_size_limit(tmp_path):
    limits = Limits(max_text_bytes=1000, max_html_bytes=2000, max_pdf_bytes=3000, max_docx_bytes=4000)
    cases = {"a.txt": "规章 1 2 3\n".encode() * 200, "a.html": b"<html><body>" + b"<p>x</p>" * 400,
             "a.pdf": b"%PDF-1.4\n" + b"0" * 5000, "a.docx": b"PK\x03\x04" + b"0" * 5000}
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        r = import_file(p, limits=limits)
        assert r.report is None and "过大" in r.findings[0].message and "上限" in r.findings[0].message, name


@pytest.mark.parametrize("data, expected", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "OCR"),
    (b"PK\x03\x04" + b"\0" * 200, "压缩文件"),
    ((lambda rng: bytes(rng.randrange(256) for _ in range(20000)))(random.Random(5)), "不是文本文件"),
    ("规章 1 2 3\n".encode("utf-16-le") * 50, "不是文本文件"),
], ids=["png", "zip", "random", "utf16-no-bom"])
def test_a_binary_file_named_txt(tmp_path, data, expected):
    p = tmp_path / "年报.txt"
    p.write_bytes(data)
    r = import_file(p)
    assert r.report is None or r.has_errors
    assert expected in " ".join(f.message for f in r.findings)
    res = CliRunner().invoke(app, ["import", str(p)])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_a_pdf_of_ten_thousand_empty_pages_is_refused_by_its_page_count(tmp_path):
    from test_import_pdf import pdf_bytes

    p = tmp_path / "pages.pdf"
    p.write_bytes(pdf_bytes([b""] * 10_000))
    t = time.perf_counter()
    r = import_file(p)
    assert time.perf_counter() - t < 60
    assert r.report is None and "超出上限 60 页" in r.findings[0].message


def test_a_web_page_of_deeply_nested_tables(tmp_path):
    p = tmp_path / "deep.html"
    p.write_bytes(b"<html><body>" + b"<table><tr><td>" * 20_000 + b"0" + b"</td></tr></table>" * 20_000)
    r = import_file(p)
    assert r.report is None or r.has_errors
    res = CliRunner().invoke(app, ["import", str(p)])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_the_source_is_never_written(tmp_path):
    rep = make_report(seed=130)
    p = tmp_path / "r.txt"
    p.write_text(with_filler(report_text(rep, "pipes"), 1), encoding="utf-8")
    before = (p.read_bytes(), p.stat().st_mtime_ns)
    CliRunner().invoke(app, ["import", str(p), "-o", str(tmp_path / "r.json")])
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before
    assert sorted(x.name for x in Path(tmp_path).iterdir()) == ["r.json", "r.txt"]
