"""The cases of the bad-input corpus (tests/test_corpus.py): what an attacker or a tired clerk hands
to the tool. Each case builds its inputs in a fresh folder, in code, and says which commands to run
on them with which exit codes the README allows. This module holds the framework and the cases
about workbook content; tests/corpus_cases_fs.py those about files, folders, rosters, report JSON,
narratives and output paths.

Layout of a case folder (only `out/` and `tmp/` may change while the commands run):

    in/      the folder handed to `collect`, holding the input file(s)
    zipin/   a folder holding returns.zip, with the same input inside
    aux/     other inputs: the roster, a good workbook, last year's report, narratives
    cwd/     the working directory of every command (must stay empty)
    out/     outputs (export/, docx/, agg/, collect-dir/, collect-zip/, ...)
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests import corpus_zip as cz
from tests import reader_fixtures as fx

AGENCY = fx.AGENCY
YEAR = fx.YEAR
DEFAULT_TIMEOUT = 10.0  # CPU seconds per command; a normal file takes a tenth of one

EXIT_CHECK = (0, 1)  # README: check/export/collect/aggregate/docx say 0 fine, 1 findings, 2 usage


@dataclass
class Cmd:
    name: str
    argv: list[str]
    codes: tuple[int, ...]
    timeout: float = DEFAULT_TIMEOUT  # CPU seconds (tests/corpus_driver.py)
    listed: list[str] = field(default_factory=list)  # collect: paths collect.json must list
    collect_out: str | None = None  # collect: its output folder
    user: int | None = None  # run as this uid (root reads files whatever their mode)

    def to_json(self) -> dict:
        return {"name": self.name, "argv": self.argv, "codes": list(self.codes), "timeout": self.timeout,
                "listed": self.listed, "collect_out": self.collect_out, "user": self.user}


@dataclass
class Ctx:
    root: Path

    @classmethod
    def create(cls, root: Path) -> Ctx:
        ctx = cls(root)
        for sub in ("in", "zipin", "aux", "cwd", "out", "out/export", "out/docx", "out/agg"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        return ctx

    @property
    def inp(self) -> Path:
        return self.root / "in"

    @property
    def zips(self) -> Path:
        return self.root / "zipin"

    @property
    def aux(self) -> Path:
        return self.root / "aux"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def base(self, name: str = "base.xlsx", **kw) -> Path:
        """A correctly filled workbook of the roster's agency (in aux/, not handed to collect)."""
        path = self.aux / name
        if not path.exists():
            fx.write_filled(path, **kw)
        return path

    def roster(self, rows: Iterable[tuple[str, str]] | None = None, name: str = "roster.csv") -> Path:
        path = self.aux / name
        if rows is None:
            rows = [(AGENCY, fx.CODE)]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["机关名称", "机关代码"])
        w.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        return path


@dataclass
class Case:
    name: str
    build: Callable[[Ctx], list[Cmd]]
    xfail: str | None = None
    post: Callable[[Path], list[str]] | None = None  # extra checks on the case folder: problems found
    weight: float = 1.0  # rough cost, to start the slow cases first


CASES: list[Case] = []


def case(name: str, build: Callable[[Ctx], list[Cmd]], **kw) -> Case:
    c = Case(name, build, **kw)
    CASES.append(c)
    return c


# ---------------------------------------------------------------------------------------------
# The commands every input file goes through


def listed_under(folder: Path) -> list[str]:
    """What collect must list for a folder: every non-folder entry (symlinks not followed)."""
    out = []

    def visit(d: Path, rel: str) -> None:
        for p in sorted(d.iterdir(), key=lambda p: p.name):
            r = f"{rel}{p.name}"
            if p.is_dir() and not p.is_symlink():
                visit(p, r + "/")
            else:
                out.append(r)

    visit(folder, "")
    return out


def collect_cmd(ctx: Ctx, name: str, folder: Path, *, roster: Path | None = None, codes=EXIT_CHECK,
                extra: Iterable[str] = (), listed: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                docx: bool = False) -> Cmd:
    out = ctx.out / name
    argv = ["collect", str(folder), "--roster", str(roster or ctx.roster()), "-o", str(out), "--jobs", "1",
            *(["--docx"] if docx else []), *extra]
    return Cmd(name, argv, tuple(codes), timeout,
               listed=listed_under(folder) if listed is None else listed, collect_out=str(out))


def zip_variant(ctx: Ctx, path: Path, inner: str = "邮件附件") -> tuple[Path, list[str]]:
    """returns.zip in zipin/, holding the input file under a folder, as mail exports do."""
    member = f"{inner}/{path.name}"
    target = ctx.zips / "returns.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(path, member)
    return target, ["returns.zip", f"returns.zip!{member}"]


def standard(ctx: Ctx, path: Path, *, bad: bool | None = True, aggregate: bool = True, docx: bool = True,
             zipped: bool = True, timeout: float = DEFAULT_TIMEOUT, collect_codes: tuple[int, ...] | None = None) -> list[Cmd]:
    """check (screen and --json), export, collect of in/ (with --docx) and of a zip holding the
    file, aggregate (--include-errors, so bad figures reach the sums) and docx (--force, so bad
    figures reach the Word tables). `bad`: True the file must be refused or have errors (exit 1),
    False it must be clean (exit 0), None either; collect says the same of the agency unless
    `collect_codes` says otherwise (a zip holding a good workbook is fine for collect)."""
    check_codes = (1,) if bad else (0,) if bad is False else EXIT_CHECK
    collect_codes = collect_codes or check_codes
    # docx: 1 when the workbook cannot be read, 2 for a file that is neither .xlsx nor .json
    docx_codes = EXIT_CHECK if path.suffix.lower() in (".xlsx", ".xlsm", ".json") else (0, 1, 2)
    p = str(path)
    cmds = [
        Cmd("check", ["check", p], check_codes, timeout),
        Cmd("check --json", ["check", "--json", p], check_codes, timeout),
        Cmd("export", ["export", p, "-o", str(ctx.out / "export")], EXIT_CHECK, timeout),
        collect_cmd(ctx, "collect-dir", ctx.inp, codes=collect_codes, timeout=timeout, docx=True),
    ]
    if zipped and path.is_file() and not path.is_symlink():
        target, listed = zip_variant(ctx, path)
        cmds.append(collect_cmd(ctx, "collect-zip", ctx.zips, codes=collect_codes, listed=listed, timeout=timeout))
    if aggregate:
        cmds.append(Cmd("aggregate", ["aggregate", p, "-o", str(ctx.out / "agg" / "汇总.xlsx"), "--agency", "测试汇总",
                                      "--year", str(YEAR), "--include-errors", "--jobs", "1"], EXIT_CHECK, timeout))
    if docx:
        cmds.append(Cmd("docx", ["docx", p, "-o", str(ctx.out / "docx"), "--force"], docx_codes, timeout))
    return cmds


def file_case(name: str, make: Callable[[Ctx, Path], object], suffix: str = ".xlsx", *, bad: bool | None = True,
              filename: str | None = None, timeout: float = DEFAULT_TIMEOUT, **kw) -> Case:
    """A case of one input file in in/: make(ctx, dst) writes it (or returns its bytes)."""
    opts = {k: kw.pop(k) for k in ("aggregate", "docx", "zipped", "collect_codes") if k in kw}

    def build(ctx: Ctx) -> list[Cmd]:
        dst = ctx.inp / (filename or f"{AGENCY}{suffix}")
        data = make(ctx, dst)
        if isinstance(data, bytes | bytearray):
            dst.write_bytes(data)
        return standard(ctx, dst, bad=bad, timeout=timeout, **opts)

    return case(name, build, **kw)


# ---------------------------------------------------------------------------------------------
# Edits of a good workbook

S = fx.spec()
T3 = "表三"
D12 = S.field("t3.withheld.internal_affairs.natural_person")  # a count, 表三!D12
FEE = S.field("t2.item8.fees.amount")  # a fee in 万元, 表二!B14
J12 = S.field("t3.withheld.internal_affairs.total")  # a total (formula)


def edited(edits: Mapping[str, Callable[[bytes], bytes | None]] | None = None, add: Mapping[str, bytes] | None = None,
           **base_kw) -> Callable[[Ctx, Path], Path]:
    def make(ctx: Ctx, dst: Path) -> Path:
        return fx.rewrite_zip(ctx.base(**base_kw), dst, edits, add)
    return make


def cells(values: Mapping[str, str]) -> Callable[[Ctx, Path], Path]:
    """{"表三!D12": '<c r="{r}"><v>1E+400</v></c>', ...}: cells replaced in the sheet XML."""
    def make(ctx: Ctx, dst: Path) -> Path:
        base = ctx.base()
        by_sheet: dict[str, list[tuple[str, str]]] = {}
        for ref, xml in values.items():
            sheet, cell = ref.split("!")
            by_sheet.setdefault(sheet, []).append((cell, xml))
        edits = {}
        for sheet, items in by_sheet.items():
            def edit(data: bytes, items=items) -> bytes:
                for cell, xml in items:
                    data = fx.replace_cell(data, cell, xml.format(r=cell))
                return data
            edits[fx.sheet_part(base, sheet)] = edit
        return fx.rewrite_zip(base, dst, edits)
    return make


def number(v: str) -> str:
    return '<c r="{r}"><v>' + v + "</v></c>"


def text(v: str) -> str:
    from xml.sax.saxutils import escape

    return '<c r="{r}" t="inlineStr"><is><t xml:space="preserve">' + escape(v) + "</t></is></c>"


def on_sheet(sheet: str, edit: Callable[[bytes], bytes]) -> Callable[[Ctx, Path], Path]:
    def make(ctx: Ctx, dst: Path) -> Path:
        base = ctx.base()
        return fx.rewrite_zip(base, dst, {fx.sheet_part(base, sheet): edit})
    return make


def before_sheetdata_end(extra: bytes) -> Callable[[bytes], bytes]:
    return lambda d: d.replace(b"</sheetData>", extra + b"</sheetData>", 1)


# -- the existing bad inputs of tests/test_bad_inputs.py, every one through every command

def _existing() -> None:
    from tests.test_bad_inputs import CASES as OLD

    for name, build, code, _kind, suffix in OLD:
        def make(ctx: Ctx, dst: Path, build=build) -> None:
            build(ctx.base(), dst)
        clean = code in ("TEXT_NUMBER", "TEMPLATE_CHANGED", "PROTECTION_REMOVED", "SHEET_RENAMED", "SHEET_ADDED",
                         "CACHED_MISMATCH", "NAME_MISSING")
        file_case(f"old/{name}", make, suffix, bad=None if clean else True,
                  collect_codes=EXIT_CHECK if name == "zip-of-xlsx" else None)


_existing()

# -- good files (the harness must let them through: exit 0 everywhere)
file_case("good/filled", lambda ctx, dst: fx.write_filled(dst), bad=False)
file_case("good/fee-24252.311082", cells({f"表二!{FEE.cell}": number("24252.311082")}), bad=None)

# -- numbers at the edges (issue 8 §1), as a number cell and as text, in a count and in a fee
EDGE_NUMBERS = {
    "1e+400": "1E+400", "1e-400": "1e-400", "17-digits": "12345678901234567", "20-digits": "12345678901234567890",
    "5000-digits": "9" * 5000, "400-digit-integer": "1" + "0" * 400, "1e+30": "1E+30", "1e+5000": "1E+5000",
    "1e-5000": "1E-5000", "-1e+400": "-1E+400", "nan": "NaN", "inf": "INF", "-infinity": "-Infinity",
    "hex": "0x1A", "underscore": "1_000", "huge-exponent": "1e999999999999", "tiny-exponent": "1E-999999999999",
    "long-exponent-digits": "1e+" + "0" * 3000 + "5", "many-decimals": "0." + "0" * 60 + "1",
    "7-decimals": "24252.3110821", "trailing-dot": "5.", "leading-dot": ".5", "plus": "+5",
    "dangling-e": "5e", "double-minus": "--5", "1e9+1": "1000000001", "-0": "-0",
}
for _key, _v in EDGE_NUMBERS.items():
    file_case(f"numbers/v-{_key}", cells({f"表三!{D12.cell}": number(_v), f"表二!{FEE.cell}": number(_v)}), bad=None)
EDGE_TEXTS = {
    "1e+400": "1E+400", "5000-digits": "9" * 5000, "nan": "NaN", "infinity": "Infinity", "1e+5000": "1E+5000",
    "full-width-exponent": "１Ｅ＋４００", "huge-thousands": "1,000,000,000,000,000,000,000", "arabic-digits": "٣٤",
    "nbsp": "\u00a05", "zero-width": "5\u200b", "superscript": "5²", "roman": "Ⅻ", "chinese": "五", "spaces": "   ",
    "1e+30": "1E+30", "comma-decimal": "26,55", "percent": "50%", "currency": "￥26.55", "wan": "2.5万",
    "1e5": "1e5", "fraction": "1/2", "date-text": "2021-03-05", "long-text": "数" * 40000,
}
for _key, _v in EDGE_TEXTS.items():
    file_case(f"numbers/t-{_key}", cells({f"表三!{D12.cell}": text(_v), f"表二!{FEE.cell}": text(_v)}), bad=None)
file_case("numbers/fee-1e+30-only", cells({f"表二!{FEE.cell}": number("1E+30")}), bad=None)
file_case("numbers/fee-inf-only", cells({f"表二!{FEE.cell}": number("Infinity")}), bad=None)
file_case("numbers/date-as-number", cells({f"表三!{D12.cell}": '<c r="{r}" s="1"><v>44260</v></c>'}), bad=None)
file_case("numbers/date-cell-type", cells({f"表三!{D12.cell}": '<c r="{r}" t="d"><v>2021-03-05T00:00:00</v></c>'}), bad=None)
file_case("numbers/bool-2", cells({f"表三!{D12.cell}": '<c r="{r}" t="b"><v>2</v></c>'}), bad=None)
file_case("numbers/empty-v", cells({f"表三!{D12.cell}": '<c r="{r}"><v></v></c>'}), bad=None)
file_case("numbers/unknown-type", cells({f"表三!{D12.cell}": '<c r="{r}" t="zz"><v>5</v></c>'}), bad=None)
file_case("numbers/str-formula-result", cells({f"表三!{D12.cell}": '<c r="{r}" t="str"><f>"5"</f><v>5</v></c>'}), bad=None)
file_case("numbers/rich-text-runs", cells({f"表三!{D12.cell}": '<c r="{r}" t="inlineStr"><is><r><t>1</t></r><r><t>2</t></r></is></c>'}),
          bad=None)

# -- shared strings and cell references that point nowhere
file_case("sst/index-out-of-range", cells({f"表三!{D12.cell}": '<c r="{r}" t="s"><v>999999</v></c>'}), bad=None)
file_case("sst/index-negative", cells({f"表三!{D12.cell}": '<c r="{r}" t="s"><v>-1</v></c>'}), bad=None)
file_case("sst/index-huge", cells({f"表三!{D12.cell}": '<c r="{r}" t="s"><v>1E+400</v></c>'}), bad=None)
file_case("sst/index-not-a-number", cells({f"表三!{D12.cell}": '<c r="{r}" t="s"><v>abc</v></c>'}), bad=None)
file_case("sst/huge-declared-counts", edited({"xl/sharedStrings.xml": lambda d: d.replace(
    b"<sst ", b'<sst count="4294967295" uniqueCount="999999999999" ', 1)}), bad=None)


def _many_strings(d: bytes) -> bytes:
    return d.replace(b"</sst>", b"<si><t>x</t></si>" * 1_000_000 + b"</sst>", 1)


file_case("sst/million-strings", edited({"xl/sharedStrings.xml": _many_strings}), bad=None, weight=3)
file_case("refs/cell-beyond-xfd", on_sheet(T3, before_sheetdata_end(b'<row r="60"><c r="ZZZZ60"><v>1</v></c></row>')), bad=None)
file_case("refs/row-zero", on_sheet(T3, before_sheetdata_end(b'<row r="0"><c r="A0"><v>1</v></c></row>')), bad=None)
file_case("refs/row-huge", on_sheet(T3, before_sheetdata_end(b'<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>')), bad=None)
file_case("refs/cell-range-as-ref", cells({f"表三!{D12.cell}": '<c r="D12:D13"><v>1</v></c>'}), bad=None)
file_case("refs/duplicate-cell", cells({f"表三!{D12.cell}": '<c r="{r}"><v>1</v></c><c r="{r}"><v>2</v></c>'}), bad=None)
file_case("refs/xfd-last-cell", on_sheet(T3, before_sheetdata_end(b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')), bad=None)
file_case("refs/dimension-whole-sheet", on_sheet(T3, lambda d: d.replace(b"<dimension ref=\"", b"<dimension ref=\"A1:XFD1048576\" x=\"", 1)),
          bad=None)


def _wide_row(d: bytes) -> bytes:
    from openpyxl.utils import get_column_letter

    row = b'<row r="60">' + b"".join(f'<c r="{get_column_letter(i)}60"><v>{i}</v></c>'.encode() for i in range(1, 16385)) + b"</row>"
    return before_sheetdata_end(row)(d)


file_case("refs/16384-columns", on_sheet(T3, _wide_row), bad=None)
file_case("refs/defined-name-ref-error", edited({"xl/workbook.xml": lambda d: d.replace(
    "'表三'!$D$12<".encode(), b"#REF!<", 1)}), bad=None)
file_case("refs/defined-name-range", edited({"xl/workbook.xml": lambda d: d.replace(
    "'表三'!$D$12<".encode(), "'表三'!$D$12:$XFD$1048576<".encode(), 1)}), bad=None)
file_case("refs/defined-name-other-sheet", edited({"xl/workbook.xml": lambda d: d.replace(
    "'表三'!$D$12<".encode(), "'不存在'!$D$12<".encode(), 1)}), bad=None)

# -- formulas
file_case("formula/8k-input-formula", cells({f"表三!{D12.cell}": '<c r="{r}"><f>' + "1+" * 4096 + "1</f><v>4097</v></c>"}), bad=None)
file_case("formula/8k-total-formula", cells({f"表三!{J12.cell}": '<c r="{r}"><f>' + "D12+" * 2048 + "D12</f><v>0</v></c>"}),
          bad=None)
file_case("formula/deep-parentheses", cells({f"表三!{J12.cell}": '<c r="{r}"><f>' + "(" * 8000 + "D12" + ")" * 8000 + "</f><v>0</v></c>"}),
          bad=None)
file_case("formula/shared-formula-dangling", cells({f"表三!{J12.cell}": '<c r="{r}"><f t="shared" si="999"/><v>0</v></c>'}),
          bad=None)
file_case("formula/sum-whole-sheet", cells({f"表三!{J12.cell}": '<c r="{r}"><f>SUM(A1:XFD1048576)</f><v>0</v></c>'}), bad=None)

# -- text that Excel escapes or that XML cannot hold
NARRATIVE_CR = {"overview": "第一段。\r\n第二段。\r\n第三段\r。", "problems": "问题\r\n改进", "other": "无。"}


def _export_written(root: Path) -> list[str]:
    """The export JSON exists (output_problems in test_corpus.py then finds any _x000D_ in it)."""
    return [] if list((root / "out" / "export").glob("*.json")) else ["export wrote no JSON"]


file_case("text/x000D-in-narrative", lambda ctx, dst: fx.write_filled(dst, narrative=NARRATIVE_CR), bad=None,
          post=_export_written)
file_case("text/control-chars-in-narrative", lambda ctx, dst: fx.write_filled(
    dst, narrative={"overview": "控制\x01字符\x0b和\x1f。", "problems": "问题\x07。", "other": "无。"}), bad=None)
file_case("text/escaped-control-in-sst", edited({"xl/sharedStrings.xml": lambda d: d.replace(
    b"</sst>", b"<si><t>_x0001__x0000__xD800__xFFFF_</t></si></sst>", 1)}), bad=None)
file_case("text/nul-char-ref", edited({"xl/sharedStrings.xml": lambda d: d.replace(
    b"</sst>", b"<si><t>&#0;</t></si></sst>", 1)}), bad=True)
file_case("text/agency-10k-chars", lambda ctx, dst: fx.write_filled(dst, agency="局" * 10000), bad=None)
file_case("text/agency-path-traversal", lambda ctx, dst: fx.write_filled(dst, agency="../../../../tmp/evil"), bad=None)
file_case("text/agency-reserved-con", lambda ctx, dst: fx.write_filled(dst, agency="CON"), bad=None)
file_case("text/agency-control-chars", lambda ctx, dst: fx.write_filled(dst, agency="测试\x1b[31m局\u202e"), bad=None)
file_case("text/narrative-80k-paragraphs", lambda ctx, dst: fx.write_filled(
    dst, narrative={"overview": "\n".join(f"第{i}段。" for i in range(80000)), "problems": "问题。", "other": "无。"}),
    bad=None, weight=3)
file_case("text/narrative-32k-line", lambda ctx, dst: fx.write_filled(
    dst, narrative={"overview": "长" * 32000, "problems": "问题。", "other": "无。"}), bad=None)
file_case("text/year-huge", edited({"docProps/custom.xml": lambda d: d.replace(
    f">{YEAR}<".encode(), b">99999999999999999999999999<")}), bad=None)
file_case("text/year-negative", edited({"docProps/custom.xml": lambda d: d.replace(f">{YEAR}<".encode(), b">-1<")}), bad=None)

# -- styles, sizes, counts
def _many_numfmts(d: bytes) -> bytes:
    fmts = b"".join(b'<numFmt numFmtId="%d" formatCode="0.%s"/>' % (1000 + i, b"0" * (i % 7)) for i in range(1_000_000))
    assert b"</numFmts>" in d
    return d.replace(b"</numFmts>", fmts + b"</numFmts>", 1)


file_case("styles/million-numfmts", edited({"xl/styles.xml": _many_numfmts}), bad=None, weight=3)
file_case("styles/missing", edited({"xl/styles.xml": lambda d: None}), bad=None)
file_case("parts/workbook-missing", edited({"xl/workbook.xml": lambda d: None}), bad=True)
file_case("parts/content-types-missing", edited({"[Content_Types].xml": lambda d: None}), bad=None)
file_case("parts/rels-missing", edited({"xl/_rels/workbook.xml.rels": lambda d: None}), bad=True)
file_case("parts/sst-missing", edited({"xl/sharedStrings.xml": lambda d: None}), bad=True)
file_case("parts/utf16-sheet", lambda ctx, dst: fx.sheet_edit(ctx.base(), dst, T3, lambda d: d.decode("utf-8").replace(
    'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")), bad=None)
file_case("parts/deep-nesting", on_sheet(T3, lambda d: d.replace(b"</worksheet>", b"<x>" * 100000 + b"</x>" * 100000 + b"</worksheet>")),
          bad=None)
file_case("parts/strict-ooxml", edited({"xl/workbook.xml": lambda d: d.replace(
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")}), bad=None)


def _padded(ctx: Ctx, dst: Path) -> None:
    """Every table sheet padded with ~40 MiB of cells without r= (issue 8 §3): each part is under
    the per-part cap and the ratio guard, the whole file about 12 MB."""
    import random

    rng = random.Random(8)
    block = b"".join(b"<row>" + b"".join(b"<c><v>%d</v></c>" % rng.randrange(10) for _ in range(20)) + b"</row>"
                     for _ in range(3000))
    base = ctx.base()
    parts = {fx.sheet_part(base, s) for s in ("基本信息", "表二", "表三", "表四", "文字部分")}
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename not in parts:
                zout.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>", 1)
            with zout.open(info.filename, "w", force_zip64=True) as w:
                w.write(head)
                for _ in range((40 << 20) // len(block)):
                    w.write(block)
                w.write(b"</sheetData>" + tail)


file_case("bounds/padded-sheets-40MiB", _padded, bad=None, timeout=20, weight=10)

# -- containers that lie
def _lying(part: str, size: int = 1 << 30) -> Callable[[Ctx, Path], Path]:
    def make(ctx: Ctx, dst: Path) -> Path:
        stream, crc = deflate_cache(size)
        lie = cz.Entry(part, stream, raw=True, real_size=size, crc=crc, declared_size=1000)
        return cz.rebuild(ctx.base(), dst, replace={part: lie})
    return make


_DEFLATED: dict[int, tuple[bytes, int]] = {}


def deflate_cache(size: int) -> tuple[bytes, int]:
    if size not in _DEFLATED:
        _DEFLATED[size] = cz.deflate_zeros(size)
    return _DEFLATED[size]


file_case("zip/lying-size-sst-1GiB", _lying("xl/sharedStrings.xml"), weight=4)
file_case("zip/lying-size-workbook-1GiB", _lying("xl/workbook.xml"), weight=4)
file_case("zip/declared-2GiB", lambda ctx, dst: cz.rebuild(ctx.base(), dst, replace={
    "xl/styles.xml": cz.Entry("xl/styles.xml", b"<styleSheet/>", declared_size=(2 << 30) + 5)}))
file_case("zip/declared-4GiB-minus-1", lambda ctx, dst: cz.rebuild(ctx.base(), dst, replace={
    "docProps/app.xml": cz.Entry("docProps/app.xml", b"<Properties/>", declared_size=0xFFFFFFFF)}))
file_case("zip/duplicate-sheet-member", lambda ctx, dst: cz.rebuild(ctx.base(), dst, extra=[
    cz.Entry(fx.sheet_part(ctx.base(), T3), b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')]))
file_case("zip/duplicate-content-types", lambda ctx, dst: cz.rebuild(ctx.base(), dst, first=[
    cz.Entry("[Content_Types].xml", b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')]))
file_case("zip/bad-crc", lambda ctx, dst: cz.rebuild(ctx.base(), dst, replace={
    "xl/workbook.xml": cz.Entry("xl/workbook.xml", b"<workbook/>", crc=0xDEADBEEF)}))
file_case("zip/deflate64-method", lambda ctx, dst: cz.rebuild(ctx.base(), dst, replace={
    "xl/workbook.xml": cz.Entry("xl/workbook.xml", b"\x00" * 10, method=9, raw=True, real_size=100)}))
file_case("zip/lzma-method", lambda ctx, dst: cz.rebuild(ctx.base(), dst, replace={
    "xl/workbook.xml": cz.Entry("xl/workbook.xml", b"\x00" * 10, method=14, raw=True, real_size=100)}))
file_case("zip/entries-declared-65535", lambda ctx, dst: cz.build(list(cz.entries_of(ctx.base())), declared_entries=0xFFFF),
          bad=None)
file_case("zip/sfx-prefix", lambda ctx, dst: cz.build(list(cz.entries_of(ctx.base())), prefix=b"MZ" + b"\x00" * 4094), bad=None)
file_case("zip/64k-comment", lambda ctx, dst: cz.build(list(cz.entries_of(ctx.base())), comment=b"PK\x05\x06" * 16383), bad=None)
file_case("zip/gbk-member-names", lambda ctx, dst: cz.build(list(cz.entries_of(ctx.base())) + [
    cz.Entry("说明文件.txt".encode("gbk"), b"x", utf8_flag=False)]), bad=None)
file_case("zip/1000-sheets", lambda ctx, dst: fx.rewrite_zip(ctx.base(), dst, add={
    f"xl/worksheets/extra{i}.xml": b"<worksheet/>" for i in range(990)}), bad=True)
file_case("zip/xlsx-really-docx", lambda ctx, dst: fx.docx_bytes())
file_case("zip/xlsx-really-zip-of-xlsx", lambda ctx, dst: fx.zip_bytes({"a.xlsx": ctx.base().read_bytes()}),
          collect_codes=EXIT_CHECK)
file_case("zip/xlsx-really-png", lambda ctx, dst: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
file_case("zip/xlsx-really-exe", lambda ctx, dst: b"MZ\x90\x00" + b"\x00" * 1000)
file_case("zip/xlsx-really-rar", lambda ctx, dst: b"Rar!\x1a\x07\x01\x00" + b"\x00" * 100)
file_case("zip/xlsx-really-gzip", lambda ctx, dst: b"\x1f\x8b\x08\x00" + b"\x00" * 100)
file_case("zip/utf16-text", lambda ctx, dst: "机关名称,数量\n测试局,1\n".encode("utf-16"))
file_case("zip/random-bytes", lambda ctx, dst: bytes(range(256)) * 100)
file_case("zip/only-pk-magic", lambda ctx, dst: b"PK\x03\x04")
file_case("zip/empty-zip", lambda ctx, dst: cz.build([]))
file_case("zip/too-large-21MB", lambda ctx, dst: b"PK\x03\x04" + b"\x00" * (21 << 20))


def _sparse(ctx: Ctx, dst: Path) -> None:
    with open(dst, "wb") as fh:
        fh.truncate(3 << 30)


file_case("zip/sparse-3GiB", _sparse, timeout=20, weight=6, aggregate=False)
file_case("zip/upper-case-suffix", lambda ctx, dst: fx.write_filled(dst), ".XLSX", bad=None)

# -- relationships pointing outside the package
def _rel_target(new: bytes, mode: bytes = b"") -> Callable[[Ctx, Path], Path]:
    def make(ctx: Ctx, dst: Path) -> Path:
        base = ctx.base()
        part = fx.sheet_part(base, T3)
        old = part.removeprefix("xl/").encode()

        def edit(d: bytes) -> bytes:
            assert old in d, (old, d)
            return d.replace(b'Target="' + old + b'"', b'Target="' + new + b'"' + mode, 1).replace(
                b'Target="/' + part.encode() + b'"', b'Target="' + new + b'"' + mode, 1)
        return fx.rewrite_zip(base, dst, {"xl/_rels/workbook.xml.rels": edit})
    return make


file_case("rels/dotdot", _rel_target(b"../../../etc/passwd"))
file_case("rels/absolute-outside", _rel_target(b"/../../etc/passwd"))
file_case("rels/url-external", _rel_target(b"http://example.invalid/sheet3.xml", b' TargetMode="External"'))
file_case("rels/file-url", _rel_target(b"file:///etc/passwd"))
file_case("rels/windows-path", _rel_target(b"C:\\Windows\\win.ini"))
file_case("rels/self-loop", _rel_target(b"workbook.xml"))

from tests import corpus_cases_fs  # noqa: E402,F401  (registers the file-system, roster, JSON and output cases)

CASES_BY_NAME = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"
