"""The bad-input corpus: every kind of wrong file an office receives, generated in code. Each one
yields its expected finding code, none raises, and the input's sha256 is unchanged after reading."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tests import reader_fixtures as fx
from xlsx_tools.model import meta
from xlsx_tools.model.meta import template_fingerprint
from xlsx_tools.read.reader import KIND_FOREIGN, KIND_OK, KIND_UNREADABLE, read_and_check

S = fx.spec()
F = S.field
T3 = "表三"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return fx.write_filled(tmp_path_factory.mktemp("base") / "base.xlsx")


@pytest.fixture(scope="module")
def other_year(tmp_path_factory) -> Path:
    return fx.write_filled(tmp_path_factory.mktemp("y") / "2020.xlsx", year=2020)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _unprotect(wb, *sheets):
    for s in sheets:
        wb[s].protection.sheet = False


def _insert_row(wb):
    _unprotect(wb, T3)
    wb[T3].insert_rows(12)


def _rename_like_excel(src: Path, dst: Path) -> Path:
    """Excel renames a sheet everywhere: the sheet entry and every defined name pointing at it."""
    return fx.rewrite_zip(src, dst, {"xl/workbook.xml": lambda d: d.replace("表三".encode(), b"Sheet3")})


def _set_meta(wb, **values) -> None:
    """The hidden identity sheet unhidden and edited, the document properties left as they were."""
    ws = wb[meta.META_SHEET]
    ws.sheet_state = "visible"
    for key, value in values.items():
        ws[meta.meta_cell(key)] = value


def _edit_meta_and_props(old: str, new: str):
    def build(src: Path, dst: Path) -> Path:
        return fx.rewrite_zip(src, dst, {
            "xl/sharedStrings.xml": fx.bytes_replace(old.encode(), new.encode()),
            "docProps/custom.xml": fx.bytes_replace(old.encode(), new.encode()),
        })
    return build


def _cell(ref: str, xml: str):
    def build(src: Path, dst: Path) -> Path:
        sheet, cell = ref.split("!")
        return fx.sheet_edit(src, dst, sheet, lambda d: fx.replace_cell(d, cell, xml.format(r=cell)))
    return build


def _set(cells: dict) -> Callable[[Path, Path], Path]:
    return lambda src, dst: fx.set_cells(src, dst, cells)


def _edit(fn) -> Callable[[Path, Path], Path]:
    return lambda src, dst: fx.openpyxl_edit(src, dst, fn)


def _bytes(data: bytes | Callable[[Path], bytes]) -> Callable[[Path, Path], Path]:
    return lambda src, dst: _write(dst, data(src) if callable(data) else data)


def _xlsm(src: Path, dst: Path) -> Path:
    return fx.rewrite_zip(src, dst, {"[Content_Types].xml": fx.bytes_replace(
        b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")}, add={"xl/vbaProject.bin": b"\x00" * 64})


D12 = F("t3.withheld.internal_affairs.natural_person")
FEES = F("t2.item8.fees.amount")
J12 = F("t3.withheld.internal_affairs.total")

# (id, build(src, dst) -> path, expected code, expected kind, file suffix)
CASES = [
    # -- not a workbook at all
    ("empty", _bytes(b""), "NOT_XLSX", KIND_UNREADABLE, ".xlsx"),
    ("truncated", _bytes(lambda p: p.read_bytes()[: len(p.read_bytes()) // 2]), "NOT_XLSX", KIND_UNREADABLE, ".xlsx"),
    ("xls", _bytes(fx.ole_file("Workbook", "SummaryInformation")), "NOT_XLSX", KIND_UNREADABLE, ".xls"),
    ("et", _bytes(fx.ole_file("Workbook")), "NOT_XLSX", KIND_UNREADABLE, ".et"),
    ("xls-named-xlsx", _bytes(fx.ole_file("Book")), "NOT_XLSX", KIND_UNREADABLE, ".xlsx"),
    ("encrypted", _bytes(fx.ole_file("EncryptionInfo", "EncryptedPackage")), "ENCRYPTED", KIND_UNREADABLE, ".xlsx"),
    ("xlsm", _xlsm, "NOT_XLSX", KIND_UNREADABLE, ".xlsm"),
    ("csv", _bytes("机关名称,本年新收\n测试局,3\n".encode("gbk")), "NOT_XLSX", KIND_UNREADABLE, ".csv"),
    ("docx", _bytes(lambda p: fx.docx_bytes()), "NOT_XLSX", KIND_UNREADABLE, ".docx"),
    ("pdf", _bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), "NOT_XLSX", KIND_UNREADABLE, ".pdf"),
    ("html-as-xls", _bytes("<html><body><table><tr><td>表三</td></tr></table></body></html>".encode()),
     "NOT_XLSX", KIND_UNREADABLE, ".xls"),
    ("ods", _bytes(fx.zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                 "content.xml": b"<x/>"}, compression=zipfile.ZIP_STORED)), "NOT_XLSX", KIND_UNREADABLE, ".ods"),
    ("zip-of-xlsx", _bytes(lambda p: fx.zip_bytes({"报表/测试局.xlsx": p.read_bytes()})), "NOT_XLSX", KIND_UNREADABLE, ".zip"),
    # -- hostile containers
    ("zip-bomb-ratio", _bytes(fx.zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"\x00" * (8 << 20)})),
     "ZIP_BOMB", KIND_UNREADABLE, ".xlsx"),
    ("zip-bomb-entries", _bytes(fx.zip_bytes({f"xl/f{i}.xml": b"<a/>" for i in range(1100)})), "ZIP_BOMB", KIND_UNREADABLE, ".xlsx"),
    ("zip-path-traversal", _bytes(fx.zip_bytes({"xl/workbook.xml": b"<workbook/>", "../../evil.txt": b"x"})),
     "UNSAFE_FILE", KIND_UNREADABLE, ".xlsx"),
    ("zip-encrypted-entry", _bytes(fx.zip_bytes({"xl/workbook.xml": b"<workbook/>"}, encrypted=True)),
     "ENCRYPTED", KIND_UNREADABLE, ".xlsx"),
    ("billion-laughs", lambda s, d: fx.rewrite_zip(s, d, {"xl/sharedStrings.xml": lambda _: fx.BILLION_LAUGHS}),
     "UNSAFE_FILE", KIND_UNREADABLE, ".xlsx"),
    ("external-entity", lambda s, d: fx.rewrite_zip(s, d, {"xl/sharedStrings.xml": lambda _: fx.EXTERNAL_ENTITY}),
     "UNSAFE_FILE", KIND_UNREADABLE, ".xlsx"),
    ("broken-xml", lambda s, d: fx.rewrite_zip(s, d, {"xl/workbook.xml": lambda data: data[: len(data) // 2]}),
     "UNREADABLE", KIND_UNREADABLE, ".xlsx"),
    # -- a workbook, but not this office's template
    ("not-our-template", _edit(lambda wb: [wb.remove(wb[meta.META_SHEET]), setattr(wb, "custom_doc_props", type(wb.custom_doc_props)())]),
     "NOT_OUR_TEMPLATE", KIND_FOREIGN, ".xlsx"),
    ("plain-workbook", lambda s, d: (openpyxl.Workbook().save(d), d)[1], "NOT_OUR_TEMPLATE", KIND_FOREIGN, ".xlsx"),
    ("other-format", _edit_meta_and_props("gov-info-2021", "gov-info-2018"), "OTHER_FORMAT", KIND_FOREIGN, ".xlsx"),
    ("format-id-as-path", _edit_meta_and_props("gov-info-2021", "../../../../tmp/x"), "OTHER_FORMAT", KIND_FOREIGN, ".xlsx"),
    ("template-changed", _edit_meta_and_props(template_fingerprint(S), "0123456789abcdef"), "TEMPLATE_CHANGED", KIND_OK, ".xlsx"),
    # -- the template, tampered with
    ("identity-edited", _edit(lambda wb: _set_meta(wb, agency="另一个局")), "IDENTITY_CONFLICT", KIND_OK, ".xlsx"),
    ("protection-removed", _edit(lambda wb: _unprotect(wb, T3)), "PROTECTION_REMOVED", KIND_OK, ".xlsx"),
    ("sheet-renamed", _edit(lambda wb: setattr(wb[T3], "title", "Sheet3")), "SHEET_RENAMED", KIND_OK, ".xlsx"),
    ("sheet-renamed-like-excel", _rename_like_excel, "SHEET_RENAMED", KIND_OK, ".xlsx"),
    ("sheet-added", _edit(lambda wb: wb.create_sheet("Sheet1")), "SHEET_ADDED", KIND_OK, ".xlsx"),
    ("sheet-deleted", _edit(lambda wb: wb.remove(wb["表四"])), "SHEET_MISSING", KIND_OK, ".xlsx"),
    ("label-edited", _set({"表三!C12": "5.属于内部事务信息"}), "LABEL_CHANGED", KIND_OK, ".xlsx"),
    ("row-inserted", _edit(_insert_row), "ROWS_SHIFTED", KIND_OK, ".xlsx"),
    ("names-deleted", _edit(lambda wb: [wb.defined_names.pop(n) for n in list(wb.defined_names) if n.startswith("xt_t3")]),
     "NAME_MISSING", KIND_OK, ".xlsx"),
    ("formula-overwritten", _set({f"表三!{J12.cell}": 5}), "FORMULA_OVERWRITTEN", KIND_OK, ".xlsx"),
    ("formula-deleted", _set({f"表三!{J12.cell}": None}), "FORMULA_OVERWRITTEN", KIND_OK, ".xlsx"),
    ("formula-changed", _set({f"表三!{J12.cell}": "=SUM(D12:H12)"}), "FORMULA_CHANGED", KIND_OK, ".xlsx"),
    ("cached-mismatch", _cell(f"表三!{J12.cell}", '<c r="{r}" s="20"><f>SUM(D12:I12)</f><v>999</v></c>'),
     "CACHED_MISMATCH", KIND_OK, ".xlsx"),
    # -- values
    ("text-none", _set({f"表三!{D12.cell}": "无"}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("text-dash", _set({f"表三!{D12.cell}": "—"}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("text-slash", _set({f"表三!{D12.cell}": "/"}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("text-with-unit", _set({f"表三!{D12.cell}": "5件"}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("date", _set({f"表三!{D12.cell}": dt.datetime(2021, 3, 5)}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("boolean", _set({f"表三!{D12.cell}": True}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("error-value", _cell(f"表三!{D12.cell}", '<c r="{r}" s="19" t="e"><v>#VALUE!</v></c>'), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("formula-in-input", _set({f"表三!{D12.cell}": "=2+3"}), "NOT_A_NUMBER", KIND_OK, ".xlsx"),
    ("full-width-digits", _set({f"表三!{D12.cell}": "１２"}), "TEXT_NUMBER", KIND_OK, ".xlsx"),
    ("thousands-separator", _set({f"表三!{D12.cell}": "1,234"}), "TEXT_NUMBER", KIND_OK, ".xlsx"),
    ("inline-string-number", _cell(f"表三!{D12.cell}", '<c r="{r}" s="19" t="inlineStr"><is><t> 7 </t></is></c>'),
     "TEXT_NUMBER", KIND_OK, ".xlsx"),
    ("blank", _set({f"表三!{D12.cell}": None}), "BLANK", KIND_OK, ".xlsx"),
    ("negative", _set({f"表三!{D12.cell}": -3}), "NEGATIVE", KIND_OK, ".xlsx"),
    ("fraction", _set({f"表三!{D12.cell}": 2.5}), "NOT_INTEGER", KIND_OK, ".xlsx"),
    ("too-many-decimals", _set({f"表二!{FEES.cell}": 1.2345678}), "TOO_MANY_DECIMALS", KIND_OK, ".xlsx"),
    ("broken-balance", _set({f"表三!{F('t3.received.natural_person').cell}": 999}), "T3_BALANCE", KIND_OK, ".xlsx"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_yields_its_finding(case, base, tmp_path):
    name, build, code, kind, suffix = case
    path = build(base, tmp_path / f"{name}{suffix}")
    before = fx.sha256(path)
    result = read_and_check(path)
    assert fx.sha256(path) == before, "the input must never be modified"
    codes = [f.code for f in result.findings]
    assert code in codes, (name, [(f.code, f.message) for f in result.findings])
    assert result.kind == kind, (name, result.kind, codes)
    assert result.sha256 == before
    for f in result.findings:
        assert f.message and f.severity in ("error", "warning")
        assert not any(ch.isascii() and ch.isalpha() for ch in f.message[:1]), f.message  # Chinese first
    if kind == KIND_UNREADABLE:
        assert result.report is None and len(result.findings) == 1 and result.findings[0].is_error
    if kind == KIND_OK:
        assert result.report is not None


def test_other_year_is_read_but_marked_foreign(other_year):
    result = read_and_check(other_year, expected_year=2021)
    assert result.kind == KIND_FOREIGN
    other = [f for f in result.findings if f.code == "OTHER_YEAR"]
    assert other and other[0].is_error
    assert other[0].message == (
        f"这是「{fx.AGENCY}」2020 年度的报表，不是本次收集的 2021 年度。请使用 2021 年度的模板填写后重新提交。"
    )
    assert result.report is not None and result.report.year == 2020
    assert read_and_check(other_year).kind == KIND_OK  # without an expected year it is just a report


def test_other_agency(base):
    result = read_and_check(base, expected_agency="另一个局")
    assert result.kind == KIND_FOREIGN
    assert [f.code for f in result.findings if f.is_error] == ["OTHER_AGENCY"]
    assert read_and_check(base, expected_agency=fx.CODE).kind == KIND_OK  # the code identifies it too


def test_identity_edited_in_the_hidden_sheet_only_is_an_error(base, tmp_path):
    path = fx.openpyxl_edit(base, tmp_path / "改.xlsx", lambda wb: _set_meta(wb, agency="另一个局", year="2022"))
    result = read_and_check(path)
    [f] = [f for f in result.findings if f.is_error]
    assert f.code == "IDENTITY_CONFLICT"
    assert f.message == (
        f"模板标识前后不一致：隐藏的标识工作表「{meta.META_SHEET}」中为机关名称“另一个局”，报告年度“2022”，"
        f"文件属性中为机关名称“{fx.AGENCY}”，报告年度“{fx.YEAR}”。"
        "标识可能被改动过，请核实这份报表属于哪个机关、哪个年度；必要时请该机关用下发的模板重新填写。")
    assert f.values == {"agency": {"sheet": "另一个局", "properties": fx.AGENCY},
                        "year": {"sheet": "2022", "properties": str(fx.YEAR)}}
    assert result.kind == KIND_OK and result.agency == "另一个局"
    assert [x.code for x in read_and_check(base).findings] == []  # both agree in a good file


def test_messages_name_file_sheet_cell_and_row_label(base, tmp_path):
    path = fx.set_cells(base, tmp_path / "wu.xlsx", {f"表三!{D12.cell}": "无"})
    f = next(f for f in read_and_check(path).findings if f.code == "NOT_A_NUMBER")
    assert f.message == "表三 第12行「5.属于三类内部事务信息」自然人（D12）填写了“无”，请改为数字（没有的填 0）。"
    assert f.cells == ("表三!D12",) and f.fields == (D12.id,) and f.values == {"value": "无"}


def test_not_xlsx_messages_say_what_it_is_and_what_to_do(tmp_path):
    xls = _write(tmp_path / "报表.xls", fx.ole_file("Workbook"))
    f = read_and_check(xls).findings[0]
    assert f.code == "NOT_XLSX" and f.values == {"detected": "xls"}
    assert f.message == (f"「{xls}」是 Excel 97-2003 工作簿（.xls）格式，不是模板的 .xlsx 格式。"
                         "请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（*.xlsx）格式，再重新提交。")
    empty = _write(tmp_path / "空.xlsx", b"")
    assert read_and_check(empty).findings[0].values == {"detected": "empty"}


def test_billion_laughs_does_not_hang(base, tmp_path):
    import time

    path = fx.rewrite_zip(base, tmp_path / "lol.xlsx", {"xl/sharedStrings.xml": lambda _: fx.BILLION_LAUGHS})
    start = time.monotonic()
    result = read_and_check(path)
    assert time.monotonic() - start < 2
    assert result.findings[0].values == {"reason": "xml_entities"}


def test_row_inserted_after_unprotecting_is_reported_precisely(base, tmp_path):
    path = fx.openpyxl_edit(base, tmp_path / "ins.xlsx", _insert_row)
    result = read_and_check(path)
    shifted = [f for f in result.findings if f.code == "ROWS_SHIFTED"]
    assert len(shifted) == 1 and shifted[0].is_error
    assert shifted[0].values == {"label": "5.属于三类内部事务信息", "expected": "C12", "actual": "C13",
                                 "names_moved": False}
    assert shifted[0].message == (
        "「表三」的行或列被插入或删除：“5.属于三类内部事务信息”原在 C12，现在位于 C13。"
        "该表的数字已错位，无法可靠读取。请使用原模板重新填写，不要插入或删除行、列。"
    )
    # openpyxl moved the cells but not the names: nothing of 表三 is read, so no cascade of
    # blank cells and broken formulas; moved labels are not "edited" labels
    assert {f.code for f in result.findings} == {"ROWS_SHIFTED", "PROTECTION_REMOVED"}
    assert all(v is None for k, v in result.report.figures.items() if k.startswith("t3."))
    assert result.report.figures["t4.review.total"] is not None


def test_name_pointing_elsewhere(base, tmp_path):
    d6 = F("t3.granted.natural_person")
    path = fx.rewrite_zip(base, tmp_path / "moved.xlsx", {"xl/workbook.xml": fx.bytes_replace(
        f"<definedName name=\"{d6.name}\">'表三'!$D$6</definedName>".encode(),
        f"<definedName name=\"{d6.name}\">'表三'!$D$40</definedName>".encode())})
    result = read_and_check(path)
    assert [(f.code, f.severity) for f in result.findings] == [("NAME_MOVED", "warning")]
    assert result.findings[0].values == {"name": d6.name, "now": "D40"}
    assert result.report.figures[d6.id] == read_and_check(base).report.figures[d6.id]


def test_identity_from_either_the_hidden_sheet_or_the_properties(base, tmp_path):
    no_props = fx.rewrite_zip(base, tmp_path / "no-props.xlsx", {"docProps/custom.xml": lambda d: None})
    result = read_and_check(no_props)
    assert result.kind == KIND_OK and result.identity["agency"] == fx.AGENCY and result.findings == []
    no_sheet = fx.openpyxl_edit(base, tmp_path / "no-sheet.xlsx", lambda wb: wb.remove(wb[meta.META_SHEET]))
    result = read_and_check(no_sheet)
    assert result.kind == KIND_OK and result.identity["year"] == str(fx.YEAR)
    assert [(f.code, f.severity) for f in result.findings] == [("SHEET_MISSING", "warning")]


FUZZ_PARTS = ["xl/workbook.xml", "xl/sharedStrings.xml", "docProps/custom.xml", "docProps/app.xml",
              "xl/styles.xml", "xl/_rels/workbook.xml.rels"]


@pytest.fixture(scope="module")
def fuzz_parts(base):
    from tests.reader_fixtures import sheet_part

    return FUZZ_PARTS + [sheet_part(base, s) for s in ("表二", "表三", "表四", "基本信息", "文字部分", meta.META_SHEET)]


def test_mutated_parts_never_raise(base, fuzz_parts, tmp_path):
    """Parts truncated, overwritten or cut at random places: always a result, never a traceback,
    and never the reader's last-resort "internal" finding."""
    import random

    rng = random.Random(2021)
    with zipfile.ZipFile(base) as z:
        original = {name: z.read(name) for name in fuzz_parts}
    for i in range(60):
        part = rng.choice(fuzz_parts)
        data = bytearray(original[part])
        a = rng.randrange(len(data))
        b = min(len(data), a + rng.randint(1, 40))
        how = rng.choice(("truncate", "garble", "cut", "digits"))
        if how == "truncate":
            data = data[:a]
        elif how == "garble":
            data[a:b] = bytes(rng.randrange(256) for _ in range(b - a))
        elif how == "cut":
            del data[a:b]
        else:  # plausible-looking but wrong numbers and references
            data[a:b] = bytes(rng.choice(b"0123456789-.E$:") for _ in range(b - a))
        path = fx.rewrite_zip(base, tmp_path / f"fuzz{i}.xlsx", {part: lambda _, d=bytes(data): d})
        result = read_and_check(path)
        assert result.kind in (KIND_OK, KIND_UNREADABLE, KIND_FOREIGN)
        assert not any(f.values.get("reason") == "internal" for f in result.findings), (part, how, a, b, result.findings)


def test_template_sent_out_before_the_fingerprint_scheme_changed_is_not_flagged(base, tmp_path):
    """A template written by the release before 2026-11-30 carries cb1d2b12f634558a for the same
    layout: an agency filling it this season gets no TEMPLATE_CHANGED warning; any other value does."""
    earlier = _edit_meta_and_props(template_fingerprint(S), "cb1d2b12f634558a")(base, tmp_path / "旧版.xlsx")
    result = read_and_check(earlier)
    assert result.kind == KIND_OK
    assert "TEMPLATE_CHANGED" not in [f.code for f in result.findings]
    assert result.report.provenance.template_fingerprint == "cb1d2b12f634558a"  # kept as the file says
    other = _edit_meta_and_props(template_fingerprint(S), "0123456789abcdef")(base, tmp_path / "别的.xlsx")
    assert "TEMPLATE_CHANGED" in [f.code for f in read_and_check(other).findings]


def test_todays_fingerprint_is_pinned():
    """Changing how the fingerprint is computed (or the layout) flags every template already sent
    out. If that is intended, add the old value to meta.EARLIER_FINGERPRINTS under the new one
    (only when the layout itself is unchanged) and update this value."""
    assert template_fingerprint(S) == "4067aca2dfa727e2"
    assert meta.same_layout("cb1d2b12f634558a", template_fingerprint(S))
    assert not meta.same_layout("cb1d2b12f634558a", "0123456789abcdef")
