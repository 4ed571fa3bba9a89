"""The reader's XML layer (xlsx_tools.read.ooxml, lxml): every protection defusedxml gave, the work
bounds, and the fast way through a small part giving exactly what the element-by-element way gives.

The bad-input corpus (tests/test_corpus.py) and tests/test_hostile_files.py / test_bad_inputs.py run
the same hostile parts through every command; these tests pin the parser itself."""

from __future__ import annotations

import ast
import contextlib
import datetime
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests import reader_fixtures as fx
from xlsx_tools.format.spec import load_format
from xlsx_tools.read import book, computed, ooxml, parts, styles, values, workbook
from xlsx_tools.read.formulas import name_target
from xlsx_tools.read.intake import open_source
from xlsx_tools.read.layout import layout
from xlsx_tools.read.reader import KIND_OK, KIND_UNREADABLE, read_and_check

READ = Path(__file__).resolve().parents[1] / "xlsx_tools" / "read"
T3 = "表三"
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return fx.write_filled(tmp_path_factory.mktemp("xml") / "base.xlsx")


def only_finding(path: Path):
    result = read_and_check(path)
    assert result.kind == KIND_UNREADABLE, [f.code for f in result.findings]
    [f] = result.findings
    return f


# ---------------------------------------------------------------------------------------------
# What defusedxml refused is refused: any document type declaration, before parsing


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_document_type_is_refused_in_any_encoding(base, tmp_path, encoding):
    """A DOCTYPE without a single entity (defusedxml let it pass; nothing in a workbook needs one),
    also where UTF-16 or UTF-32 would hide it from a byte search."""
    def edit(d: bytes) -> bytes:
        text = d.decode("utf-8").replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
        head, _, rest = text.partition("?>")
        return (head + "?><!DOCTYPE worksheet>" + rest).encode(encoding)

    f = only_finding(fx.sheet_edit(base, tmp_path / "dt.xlsx", T3, edit))
    assert f.code == "UNSAFE_FILE" and f.values == {"reason": "xml_entities"}


@pytest.mark.parametrize("xml", [fx.BILLION_LAUGHS, fx.EXTERNAL_ENTITY,
                                 b'<!DOCTYPE sst SYSTEM "http://127.0.0.1:9/x.dtd"><sst ' + MAIN + b"/>",
                                 b'<!DOCTYPE sst [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><sst ' + MAIN + b"/>"])
def test_entities_external_references_and_dtds_are_refused_before_parsing(base, tmp_path, xml, monkeypatch):
    f = only_finding(fx.rewrite_zip(base, tmp_path / "x.xlsx", {"xl/sharedStrings.xml": lambda _: xml}))
    assert f.code == "UNSAFE_FILE" and f.values == {"reason": "xml_entities"}

    def never(*a, **kw):
        raise AssertionError("parsed")

    monkeypatch.setattr(etree, "fromstring", never)  # refused before lxml sees a byte
    monkeypatch.setattr(etree, "iterparse", never)
    for big in (False, True):
        monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0 if big else 100_000)
        with pytest.raises(ooxml.UnsafeXml):
            parts.parse_strings(xml)


def test_an_undeclared_entity_is_broken_xml_not_text():
    with pytest.raises(etree.XMLSyntaxError):
        parts.parse_strings(b"<sst " + MAIN + b"><si><t>&e;</t></si></sst>")


def test_xinclude_is_not_processed():
    data = (b'<worksheet ' + MAIN + b' xmlns:xi="http://www.w3.org/2001/XInclude"><sheetData><row r="1">'
            b'<c r="A1" t="str"><v><xi:include href="/etc/hostname" parse="text"/></v></c></row></sheetData></worksheet>')
    assert parts.parse_sheet(data, []).cells[(0, 0)].value is None


def test_libxml2_bounds_stay_on(base, tmp_path):
    """huge_tree=False: nesting deeper than 256 and a text node over 10 MB are broken XML."""
    deep = b"<sst " + MAIN + b">" + b"<x>" * 300 + b"</x>" * 300 + b"</sst>"
    with pytest.raises(etree.XMLSyntaxError, match="depth"):
        parts.parse_strings(deep)
    with pytest.raises(etree.XMLSyntaxError):
        parts.parse_strings(b"<sst " + MAIN + b"><si><t>" + b"x" * (10_000_001) + b"</t></si></sst>")
    f = only_finding(fx.sheet_edit(base, tmp_path / "deep.xlsx", T3, lambda d: d.replace(
        b"</worksheet>", b"<x>" * 300 + b"</x>" * 300 + b"</worksheet>")))
    assert f.code == "UNREADABLE" and f.values == {"reason": "xml"}


def test_every_part_of_the_reader_goes_through_ooxml():
    """No other XML parser in the workbook reader: lxml is called in ooxml (and the plain-sheet
    XPaths in parts), nothing else parses a part."""
    for path in READ.glob("*.py"):
        if path.name in ("ooxml.py", "narrative.py"):  # narrative: .docx files, through defusedxml
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {node.func.attr for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
        assert not calls & {"fromstring", "iterparse", "parse", "XML", "XMLParser"}, path.name
        names = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom | ast.Import) for a in node.names}
        assert not names & {"xml.etree.ElementTree", "defusedxml", "ElementTree"}, path.name


# ---------------------------------------------------------------------------------------------
# The bounds on the work hold on both ways through a part


def test_elements_are_counted_while_streaming(monkeypatch):
    monkeypatch.setattr(ooxml, "MAX_PART_ELEMENTS", 50)
    data = b"<sst " + MAIN + b">" + b"<si><t>x</t></si>" * 30 + b"</sst>"
    with pytest.raises(ooxml.TooMuchWork) as e:
        parts.parse_strings(data)
    assert e.value.reason == "elements" and e.value.limit == 50


def test_a_small_part_is_parsed_whole_and_a_big_one_streamed(monkeypatch):
    data = b"<sst " + MAIN + b">" + b"<si><t>x</t></si>" * 30 + b"</sst>"
    assert ooxml.events(data, ("si",))[1] is False
    monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 10)
    assert ooxml.events(data, ("si",))[1] is True
    assert ooxml.events(data.decode().encode("utf-16-be"), ("si",))[1] is True  # "<" is not its first byte


@pytest.mark.parametrize("tree", [True, False])
def test_cells_rows_and_strings_are_bounded_either_way(monkeypatch, tree):
    if not tree:
        monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0)
    row = b'<row r="%d">' + b"".join(b'<c r="%s%%d"><v>1</v></c>' % c for c in (b"A", b"B", b"C")) + b"</row>"
    sheet = b"<worksheet " + MAIN + b"><sheetData>" + b"".join(row % ((i,) * 4) for i in range(1, 11)) + b"</sheetData></worksheet>"
    assert len(parts.parse_sheet(sheet, []).cells) == 30
    with pytest.raises(ooxml.TooMuchWork, match="超过 29 个"):
        parts.parse_sheet(sheet, [], "表三", max_cells=29)
    monkeypatch.setattr(ooxml, "MAX_SHEET_ROWS", 9)
    with pytest.raises(ooxml.TooMuchWork, match="行超过 9 行"):
        parts.parse_sheet(sheet, [], "表三")
    monkeypatch.setattr(ooxml, "MAX_STRINGS", 2)
    with pytest.raises(ooxml.TooMuchWork, match="超过 2 个"):
        parts.parse_strings(b"<sst " + MAIN + b">" + b"<si><t>x</t></si>" * 3 + b"</sst>")


# ---------------------------------------------------------------------------------------------
# The fast way gives what the element-by-element way gives


def _same_both_ways(path: Path, monkeypatch) -> None:
    fast = read_and_check(path)
    with monkeypatch.context() as m:
        m.setattr(ooxml, "TREE_ELEMENTS", 0)  # every part streamed and walked element by element
        slow = read_and_check(path)
    assert fast.kind == slow.kind
    assert [(f.code, f.message, f.values, f.cells) for f in fast.findings] == \
        [(f.code, f.message, f.values, f.cells) for f in slow.findings]
    if fast.report is not None:
        assert fast.report.to_dict() == slow.report.to_dict()


def _cells(sheet_xml: bytes, strings=()) -> dict:
    return {k: (c.kind, c.value, c.formula, c.style, c.shared) for k, c in parts.parse_sheet(sheet_xml, list(strings)).cells.items()}


@pytest.mark.parametrize("body", [
    b'<row r="1"><c r="A1" s="3"><v>1</v></c><c r="B1" t="s"><v>0</v></c><c r="C1"><f>A1+1</f><v>2</v></c></row>',
    b'<row r="2"><c><v>1</v></c><c><v>2</v></c></row><row><c t="s"><v>1</v></c></row>',  # cells without r
    b'<row r="1"><c r="A1"><f t="shared" ref="A1:A3" si="0">B1+1</f><v>1</v></c></row>'
    b'<row r="2"><c r="A2"><f t="shared" si="0"/><v>1</v></c></row>',  # a shared formula
    b'<row r="1"><c r="A1" t="inlineStr"><is><r><t>a</t></r><rPh><t>x</t></rPh><r><t>b</t></r></is></c></row>',
    b'<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c><c r="$B$1"><v>3</v></c><c r="b1"><v>4</v></c></row>',
    b'<row r="1"><c r="A1"><v>1</v><v>2</v><f>1+1</f><f/></c></row><c r="Z9"><v>9</v></c>',  # a cell outside the rows
    b'<row r="1"><c r="A1" s="x" t="s"><v>x</v></c><c r="B1" t="s"><v>99</v></c></row>',
    # cells read whole but made one by one: the usual <v> and <is>, and every other shape
    b'<row r="1"><c r="A1" s="" t=""><v/></c><c r="B1" t="inlineStr"><is><t>_x0041_b</t></is></c>'
    b'<c r="C1" t="inlineStr"><is/></c><c r="D1" t="s"><v>-1</v></c><c r="E1" t="s"><v> 1 </v></c>'
    b'<c r="F1" s="07"><v>1</v></c><c r="G1"><x:v xmlns:x="other">5</x:v></c><c r="H1"><f/></c></row>',
    b'<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A1"><v>2</v></c></row>',  # the last of two wins
    b'<row r="1"><c r="A1" t="s"><is><t>1</t></is></c><c r="B1" t="s"><is><t>x</t></is></c></row>',  # t="s", inline
    # cells the walk takes differently from a row's cells: not read whole (or read the same)
    b'<row r="1"><c r="A1"><is><c r="A1"><v>2</v></c></is><v>1</v></c></row>',  # a cell inside a cell
    b'<row r="1"><c r="A1"><v>1</v></c></row><c r="A1"><v>2</v></c>',  # a cell in sheetData
    b'<row r="1"><x><c r="A1"><v>2</v></c></x><c r="A1"><v>1</v></c></row>',  # a cell deeper
    b'<row r="1"><c r="A1"><f t="&#115;hared" si="0">B1</f><v>1</v></c><c r="A2"><f t="shared" si="0"/></c></row>',
    b'<row r="1"><x:c xmlns:x="other" r="A1"><x:v>1</x:v></x:c><c r="B1"><v>2</v></c></row>',
])
def test_a_plain_sheet_read_whole_gives_the_cells_of_the_walk(monkeypatch, body):
    for tail in (b'<sheetProtection sheet="1"/>', b'<sheetProtection sheet="1"><sheetProtection sheet="0"/></sheetProtection>',
                 b"<c r='Z9'><v>9</v></c>"):
        xml = b"<worksheet " + MAIN + b"><sheetData>" + body + b"</sheetData>" + tail + b"</worksheet>"
        fast = _cells(xml, ["s0", "s1"]), parts.parse_sheet(xml, []).protected
        with monkeypatch.context() as m:
            m.setattr(ooxml, "TREE_ELEMENTS", 0)
            assert fast == (_cells(xml, ["s0", "s1"]), parts.parse_sheet(xml, []).protected)


def test_a_plain_sheets_cells_are_made_when_asked_for():
    xml = (b"<worksheet " + MAIN + b'><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1" s="3"><v>2</v></c>'
           b'</row></sheetData></worksheet>')
    cells = parts.parse_sheet(xml, ["s0", "s1"]).cells
    assert isinstance(cells, parts._Cells) and len(cells) == 2 and list(cells) == [(0, 0), (0, 1)]
    assert cells.get((0, 0)) is cells.get((0, 0)) and cells[(0, 1)] == parts.Cell("n", "2", None, 3)
    assert cells.get((5, 5)) is None and cells.get((5, 5), 7) == 7
    with pytest.raises(KeyError):
        cells[(5, 5)]


@pytest.mark.parametrize("xml", [
    b'<numFmts><numFmt numFmtId="164" formatCode="yyyy"/></numFmts><cellStyleXfs><xf numFmtId="14"/></cellStyleXfs>'
    b'<cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="x"/><xf numFmtId="22"/><xf/></cellXfs>',
    b'<cellXfs><xf numFmtId="164"/></cellXfs><numFmts><numFmt numFmtId="164" formatCode="yyyy"/></numFmts>',  # after
    b'<cellXfs><xf numFmtId="14"/></cellXfs><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>',  # two
    b'<cellXfs><xf numFmtId="164"/><numFmt numFmtId="164" formatCode="mm"/></cellXfs>',  # a format inside
    b'<cellXfs><xf numFmtId="14"><xf numFmtId="0"/></xf><xf numFmtId="15"/></cellXfs>',  # a format inside one
    b'<numFmts><numFmt numFmtId="164" formatCode="0"><numFmt numFmtId="164" formatCode="d"/></numFmt></numFmts>'
    b'<cellXfs><xf numFmtId="164"/></cellXfs>',
    b'<numFmts><numFmt numFmtId="164" formatCode="d"/><numFmt numFmtId="164" formatCode="0"/><numFmt numFmtId="z"/>'
    b'</numFmts><cellXfs><xf numFmtId="164"/></cellXfs>',
    b'<numFmts><numFmt numFmtId="14" formatCode="0"/></numFmts>',  # no cell formats
])
def test_date_styles_found_at_once_are_those_of_the_walk(monkeypatch, xml):
    data = b"<styleSheet " + MAIN + b">" + xml + b"</styleSheet>"
    fast = styles.parse_styles(data)
    monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0)
    assert fast == styles.parse_styles(data)


@pytest.mark.parametrize("where, readable", [
    ("after", True),  # past the end of cellXfs, which is all the reader needs: read as a big part is
    ("inside", False),  # within cellXfs: not readable either way
    ("before", False),
])
def test_a_styles_part_that_is_not_well_formed_reads_the_same_at_any_size(base, tmp_path, monkeypatch, where, readable):
    """Found by tests/test_read_differential.py: a fault after cellXfs made a small styles part
    (parsed whole) unreadable and a big one (streamed, which stops after cellXfs) readable."""
    def edit(d: bytes) -> bytes:
        cut = {"after": d.index(b"</cellXfs>") + len(b"</cellXfs>"), "inside": d.index(b"<xf ", d.index(b"<cellXfs")),
               "before": d.index(b"<cellXfs")}[where]
        return d[:cut] + b"<<" + d[cut:]

    path = fx.rewrite_zip(base, tmp_path / "styles.xlsx", {"xl/styles.xml": edit})
    _same_both_ways(path, monkeypatch)
    result = read_and_check(path)
    assert (result.kind, [f.code for f in result.findings]) == ((KIND_OK, []) if readable else (KIND_UNREADABLE, ["UNREADABLE"]))


def test_the_styles_of_a_filled_template_are_read_at_once(base):
    with zipfile.ZipFile(base) as z:
        data = z.read("xl/styles.xml")
    assert styles._styles_whole(ooxml.small_tree(data)) is not None


def test_elements_found_at_once_come_as_their_ends_do():
    root = etree.fromstring(b"<r><a i='1'><a i='2'/></a><b><a i='3'/></b><a i='4'/></r>")
    walked = [el.get("i") for _, el in etree.iterwalk(root, events=("end",), tag="{*}a")]
    assert [el.get("i") for el in ooxml.ends(root, ("{*}a",))] == walked == ["2", "1", "3", "4"]
    assert [el.get("i") for el in ooxml.ends(root[1], ("{*}a",))] == ["3"]


def test_a_workbooks_names_read_at_once_are_those_of_the_walk(monkeypatch):
    data = (b"<workbook " + MAIN + b"><sheets><sheet name='a' r:id='rId1' xmlns:r='x'/></sheets><definedNames>"
            b"<definedName name='n1'> A!$A$1 </definedName><definedName name='n2' localSheetId='0'>A!$B$1</definedName>"
            b"<definedName name='n1'>A!$C$1<definedName name='n3'/></definedName><definedName>A!$D$1</definedName>"
            b"<definedName name='n4'/></definedNames></workbook>")
    fast = book.parse_workbook(data, {"rId1": "xl/worksheets/sheet1.xml"})
    monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0)
    slow = book.parse_workbook(data, {"rId1": "xl/worksheets/sheet1.xml"})
    assert fast == slow and list(fast.names.items()) == list(slow.names.items())  # (in the same order too)
    assert fast.names == {"n1": "A!$C$1", "n3": "", "n4": ""} and fast.sheets == [("a", "xl/worksheets/sheet1.xml", "visible")]


def test_the_names_of_workbooks_that_write_them_alike_are_read_once(monkeypatch):
    head = b"<workbook " + MAIN + b"><sheets><sheet name='a' r:id='rId1' xmlns:r='x'/></sheets>"
    names = (b"<definedNames><definedName name='n1'>A!$A$1</definedName><definedName name='n&#50;'> A!$B$1 </definedName>"
             b"<definedName name='n9' localSheetId='0'>A!$D$1</definedName></definedNames>")
    plain = head + names + b"</workbook>"
    stray = head + names + b"<definedName name='n3'>A!$C$1</definedName></workbook>"  # one outside <definedNames>
    inside = head + names.replace(b"</definedName></definedNames>", b"<definedName name='n4'/></definedName></definedNames>")
    moved = head + names.replace(b"$A$1", b"$A$2") + b"</workbook>"
    written = (plain, plain, stray, inside + b"</workbook>", moved, plain.replace(b"'", b'"'))
    rels = {"rId1": "xl/worksheets/sheet1.xml"}
    monkeypatch.setattr(book, "_NAMES", {})  # (none kept from other tests: room for all of these)
    books = [book.parse_workbook(data, rels) for data in written]
    assert books[0].names is books[1].names is books[5].names  # read once, shared
    assert books[0].names == {"n1": "A!$A$1", "n2": "A!$B$1"}
    with pytest.raises(TypeError):
        books[0].names["n1"] = "x"  # (so read-only)
    monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0)
    for data, fast in zip(written, books, strict=True):
        slow = book.parse_workbook(data, rels)
        assert list(fast.names.items()) == list(slow.names.items())


def test_workbooks_read_both_ways_give_the_same_findings_and_report(base, tmp_path, monkeypatch):
    paths = [base, fx.write_filled(tmp_path / "other.xlsx", fx.report(seed=3))]
    paths.append(fx.set_cells(base, tmp_path / "edited.xlsx", {f"{T3}!D12": "无", f"{T3}!E12": " 12 ", f"{T3}!J12": 5}))
    with zipfile.ZipFile(base) as z:
        shared = z.read("xl/sharedStrings.xml")
    paths.append(fx.rewrite_zip(base, tmp_path / "strings.xlsx", {
        "xl/sharedStrings.xml": lambda _: shared.replace(b"<t>", b"<t>_x000D_", 3)}))
    for path in paths:
        _same_both_ways(path, monkeypatch)


def test_named_cells_found_at_once_are_those_found_name_by_name(base, tmp_path, monkeypatch):
    """structure.locations takes every named cell from the layout at once when every sheet kept its
    name and every defined name points where the template put it; otherwise name by name."""
    moved = fx.rewrite_zip(base, tmp_path / "moved.xlsx", {"xl/workbook.xml": lambda d: d.replace(b"$12<", b"$13<", 1)})
    renamed = fx.rewrite_zip(base, tmp_path / "renamed.xlsx", {
        "xl/workbook.xml": lambda d: d.replace('name="表四"'.encode(), 'name="表4"'.encode(), 1)})
    idx = layout(load_format())
    assert idx.where is not None
    for path, code in ((base, None), (moved, "NAME_MOVED"), (renamed, "SHEET_RENAMED")):
        fast = read_and_check(path)
        with monkeypatch.context() as m:
            m.setattr(idx, "where", None)  # name by name, always
            slow = read_and_check(path)
        assert [(f.code, f.message, f.values, f.cells) for f in fast.findings] == \
            [(f.code, f.message, f.values, f.cells) for f in slow.findings]
        assert fast.report.to_dict() == slow.report.to_dict()
        assert code is None or code in {f.code for f in fast.findings}, [f.code for f in fast.findings]


def _unquoted(d: bytes) -> bytes:
    return re.sub(rb"'([^'!<]+)'!", rb"\1!", d)  # 表三!$D$4, as LibreOffice writes the names


@pytest.mark.parametrize("edit", [
    _unquoted,
    lambda d: d.replace(b"$12<", b"12<", 1),  # one name written otherwise, pointing to the same cell
    lambda d: _unquoted(d).replace(b"$12<", b"$13<", 1),  # one moved
])
def test_names_compared_as_written_give_what_their_targets_give(base, tmp_path, monkeypatch, edit):
    path = fx.rewrite_zip(base, tmp_path / "names.xlsx", {"xl/workbook.xml": edit})
    idx = layout(load_format())
    assert len(idx.where_texts) == 2
    fast = read_and_check(path)
    with monkeypatch.context() as m:
        m.setattr(idx, "where_texts", ())  # every name worked out from its reference
        m.setattr(book, "_NAMES", {})  # (names read again: nothing kept from the first reading)
        slow = read_and_check(path)
    assert [(f.code, f.message, f.values, f.cells) for f in fast.findings] == \
        [(f.code, f.message, f.values, f.cells) for f in slow.findings]
    assert fast.report.to_dict() == slow.report.to_dict()


@pytest.mark.parametrize("edit", [None, _unquoted])
def test_names_written_as_a_writer_writes_them_are_not_worked_out(base, tmp_path, monkeypatch, edit):
    path = fx.rewrite_zip(base, tmp_path / "names.xlsx", {"xl/workbook.xml": edit} if edit else {})
    asked = []
    real = name_target.__wrapped__
    monkeypatch.setattr(workbook, "name_target", lambda text: asked.append(text) or real(text))
    result = read_and_check(path)
    assert result.findings == [] and 0 < len(asked) < 40  # the text cells' names only, not all 220


def test_a_filled_template_reads_clean_the_fast_way(base):
    result = read_and_check(base)
    assert result.kind == KIND_OK and result.findings == []


def test_the_sheets_of_a_filled_template_are_read_whole(base):
    with zipfile.ZipFile(base) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) >= 6
    for data in sheets:
        assert isinstance(parts.parse_sheet(data, []).cells, parts._Cells)


LABEL = "申请人情况"  # 表三!D1, a label the reader compares


@pytest.mark.parametrize(("cell", "changed"), [
    (f'<c r="D1" t="inlineStr"><is><t>{LABEL}</t></is></c>', False),
    (f'<c r="D1" t="&#115;tr"><v>{LABEL}</v></c>', False),  # an encoded attribute
    (f'<c r="D1" t="str"><x:v xmlns:x="other">{LABEL}</x:v></c>', False),  # a <v> of another namespace
    (f'<c r="D1" t="str"><f>"{LABEL}"</f><v>{LABEL}</v></c>', False),
    (f'<c r="D1" t="b"><v>{LABEL}</v></c>', True),  # shown as FALSE
    (f'<c r="D1"><v>{LABEL}</v></c>', False),
    (f'<c r="D1" t="str"><v>{LABEL}</v><v>别的</v></c>', True),  # the last <v> is the value
    (f'<c r="D1" t="str"><f>{LABEL}</f></c>', True),  # a formula without a result
    (f'<c r="D1" t="str"><is><t>{LABEL}</t></is><v>别的</v></c>', True),
    ('<c r="D1" t="str"><v/></c>', True),
    ('<c r="D1" t="s"><v>99999</v></c>', True),
    ('<c r="D1"/>', True),
    ("", True),  # no cell at all
])
def test_labels_compared_at_once_are_those_compared_cell_by_cell(base, tmp_path, monkeypatch, cell, changed):
    path = fx.sheet_edit(base, tmp_path / "label.xlsx", T3, lambda d: fx.replace_cell(d, "D1", cell))
    with zipfile.ZipFile(path) as z:
        assert isinstance(parts.parse_sheet(z.read(fx.sheet_part(path, T3)), []).cells, parts._Cells)
    _same_both_ways(path, monkeypatch)
    assert ("LABEL_CHANGED" in {f.code for f in read_and_check(path).findings}) == changed


def test_the_texts_of_cells_already_made_are_theirs():
    xml = (b"<worksheet " + MAIN + b'><sheetData><row r="1"><c r="A1" t="b"><v>x</v></c><c r="B1" t="str"><v>y</v></c>'
           b'<c r="C1" t="s"><v>0</v></c></row></sheetData></worksheet>')
    cells = parts.parse_sheet(xml, ["s0"]).cells
    keys = [(0, 0), (0, 1), (0, 2), (0, 3)]
    fresh = cells.texts(keys)
    assert fresh == [parts.NOT_TEXT, "y", "s0", parts.NOT_TEXT]
    for key in keys:
        cells.get(key)
    assert cells.texts(keys) == fresh


def _same_fast_and_slow(path: Path, monkeypatch, module, name: str, off) -> tuple[list[str], object]:
    """read_and_check gives the same findings and report with module.name as it is and with it
    giving `off` (the fast way not taken), and so does the element-by-element walk; the codes of
    the findings, and what module.name gave the first time it was asked."""
    given = []
    real = getattr(module, name)
    with monkeypatch.context() as m:
        m.setattr(module, name, lambda *a: given.append(real(*a)) or given[-1])
        fast = read_and_check(path)
    with monkeypatch.context() as m:
        m.setattr(module, name, lambda *a: off)
        slow = read_and_check(path)
    assert [(f.code, f.message, f.values, f.cells) for f in fast.findings] == \
        [(f.code, f.message, f.values, f.cells) for f in slow.findings]
    assert fast.report.to_dict() == slow.report.to_dict()
    _same_both_ways(path, monkeypatch)
    return [f.code for f in fast.findings], given[0]


def _same_at_once_and_cell_by_cell(path: Path, monkeypatch) -> tuple[list[str], bool]:
    """The input figures found at once (values._at_once) are those found cell by cell, and so are
    the findings; the codes of the findings, and whether they were found at once."""
    codes, first = _same_fast_and_slow(path, monkeypatch, values, "_at_once", None)
    return codes, first is not None


@pytest.mark.parametrize(("cell", "codes", "at_once"), [
    ('<c r="E4" s="22"><v>18</v></c>', [], True),
    ('<c r="E4" t="n" s="22"><v>18</v></c>', [], True),
    ('<c r="E4" t="&#110;" s="x"><v>0018</v></c>', [], True),  # (a text no table has met yet)
    ('<c r="E4" s="22"><v>-5</v></c>', ["NEGATIVE"], False),
    ('<c r="E4" s="22"><v>1.5</v></c>', ["NOT_INTEGER"], False),
    ('<c r="E4" s="22"/>', ["BLANK"], False),
    ('', ["BLANK"], False),  # no cell at all
    ('<c r="E4" s="22"><v/></c>', ["BLANK"], False),
    ('<c r="E4" s="22" t="s"><v>3</v></c>', ["NOT_A_NUMBER"], False),
    ('<c r="E4" s="22" t="str"><v>18</v></c>', ["TEXT_NUMBER"], False),
    ('<c r="E4" s="22"><v>1</v><v>18</v></c>', [], False),  # the last <v> is the value
    ('<c r="E4" s="22"><v>18</v><f>9+9</f></c>', ["INPUT_FORMULA"], False),
    ('<c r="E4" s="22"><f>18</f></c>', ["NOT_A_NUMBER"], False),
    ('<c r="E4" s="22"><x:v xmlns:x="other">18</x:v></c>', [], False),
    ('<c r="E4" s="22"><is><t>18</t></is></c>', [], False),
])
def test_input_figures_found_at_once_are_those_found_cell_by_cell(base, tmp_path, monkeypatch, cell, codes, at_once):
    path = fx.sheet_edit(base, tmp_path / "input.xlsx", T3, lambda d: fx.replace_cell(d, "E4", cell))
    assert _same_at_once_and_cell_by_cell(path, monkeypatch) == (codes, at_once)


def test_input_figures_of_cells_already_made_or_elsewhere_are_found_cell_by_cell(base, tmp_path, monkeypatch):
    fee = fx.spec().field("t2.item8.fees.amount")
    dated = fx.set_cells(base, tmp_path / "date.xlsx", {f"表二!{fee.cell}": datetime.date(2021, 12, 31)})
    codes, at_once = _same_at_once_and_cell_by_cell(dated, monkeypatch)
    assert "NOT_A_NUMBER" in codes and not at_once  # a number shown as a date
    # a label changed: every cell of the sheet is made (structure._labels), a formula typed over an input
    made = fx.sheet_edit(base, tmp_path / "made.xlsx", T3, lambda d: fx.replace_cell(
        fx.replace_cell(d, "D1", '<c r="D1" t="str"><v>别的</v></c>'), "E4", '<c r="E4"><f>9+9</f><v>18</v></c>'))
    codes, at_once = _same_at_once_and_cell_by_cell(made, monkeypatch)
    assert codes == ["LABEL_CHANGED", "INPUT_FORMULA"] and not at_once
    made = fx.sheet_edit(base, tmp_path / "made.xlsx", T3, lambda d: fx.replace_cell(d, "D1", '<c r="D1"/>'))
    assert _same_at_once_and_cell_by_cell(made, monkeypatch) == (["LABEL_CHANGED"], True)
    shifted = fx.openpyxl_edit(base, tmp_path / "shifted.xlsx", lambda wb: wb[T3].insert_rows(12))  # names left behind
    codes, at_once = _same_at_once_and_cell_by_cell(shifted, monkeypatch)
    assert "ROWS_SHIFTED" in codes and not at_once


@contextlib.contextmanager
def _opened_in_place(path: Path):
    """(spec, layout, the opened Workbook with every sheet where the template has it, the named
    cells where the template puts them), as reader._read has them before values are read."""
    spec = load_format()
    idx = layout(spec)
    intake = open_source(path)
    try:
        wb = workbook.Workbook(intake)
        wb.open()
        wb.sheet_map = {s: s for s, _ in idx.expected_sheets}
        yield spec, idx, wb, dict(idx.where)
    finally:
        intake.zip.close()


def test_input_figures_are_found_at_once_only_where_the_template_puts_them(base):
    with _opened_in_place(base) as (spec, idx, wb, locate):
        name = idx.field_names["t3.received.commercial"]  # E4
        assert values._at_once(wb, idx, locate) == values.input_values(wb, spec, locate) is not None
        locate[name] = (T3, 3, 3)  # found in D4 instead
        assert values._at_once(wb, idx, locate) is None
        d4, e4 = (int(wb.sheet(T3).cells[(3, c)].value) for c in (3, 4))
        assert d4 != e4 and values.input_values(wb, spec, locate)["t3.received.commercial"] == d4
        wb.unreliable.add(T3)
        assert values._at_once(wb, idx, dict(idx.where)) is None


@pytest.mark.parametrize(("body", "plain"), [
    (b"<si><t>a</t></si><si><t/></si><si><t xml:space='preserve'> b </t></si><si><t>&#x41;&lt;</t></si>", True),
    (b"", True),
    (b"<si><t>a</t><t>b</t></si><si><t>c</t></si>", False),  # two <t> in one, none in another
    (b"<si><t>a</t><t>b</t></si><si/>", False),
    (b"<si><r><t>a</t></r><r><t>b</t></r></si>", False),  # runs
    (b"<si><t>a</t><rPh><t>x</t></rPh></si><si><t>b</t></si>", False),  # a phonetic run
    (b"<si><t>a<t>b</t></t></si>", False),  # a <t> inside the <t>
    (b"<si><t>a</t></si><t>b</t>", False),  # a <t> outside an <si>
    (b"<si><t>a</t></si><x><t>b</t></x>", False),  # another element beside the <si>
    (b"<si><t>a</t></si><si><x:t xmlns:x='other'>b</x:t></si>", False),  # a <t> of another namespace
    (b"<si><t>a</t></si><si/><x/>", False),  # an element beside the <si> that makes up for the missing <t>
    (b"<x:si xmlns:x='other'><t>a</t></x:si>", False),
    (b"<si><t>_x0041_</t></si>", False),  # an escape
])
def test_shared_strings_read_at_once_are_those_of_the_walk(monkeypatch, body, plain):
    data = b"<sst " + MAIN + b">" + body + b"</sst>"
    assert (parts._plain_strings(ooxml.small_tree(data)) is not None) == plain
    fast = parts.parse_strings(data)
    monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0)
    assert fast == parts.parse_strings(data)


def _same_computed_at_once_and_cell_by_cell(path: Path, monkeypatch) -> tuple[list[str], bool]:
    """check_formulas finds what it finds cell by cell whether or not it saw at once that all is
    as it should be (computed._all_as_they_should_be); the codes, and whether it saw so."""
    return _same_fast_and_slow(path, monkeypatch, computed, "_all_as_they_should_be", False)


@pytest.mark.parametrize(("cell", "codes", "at_once"), [
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f><v>{v}</v></c>', [], True),
    ('<c r="J4" s="23" t="&#110;"><f>SUM( D4:I4 )</f><v>{v}.0</v></c>', [], True),
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f><v>{w}</v></c>', ["CACHED_MISMATCH"], False),
    ('<c r="J4" s="23"><f>SUM(D4:H4)</f><v>{v}</v></c>', ["FORMULA_CHANGED"], False),
    ('<c r="J4" s="23"><f>INDIRECT("D4")</f><v>{v}</v></c>', ["FORMULA_CHANGED"], False),  # not understood
    ('<c r="J4" s="23"><f/><v>{v}</v></c>', ["FORMULA_OVERWRITTEN"], False),
    ('<c r="J4" s="23"><v>{v}</v></c>', ["FORMULA_OVERWRITTEN"], False),
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f></c>', [], False),  # no result (as openpyxl saves)
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f><v/></c>', [], False),
    ('<c r="J4" s="23"><v>{v}</v><f>SUM(D4:I4)</f></c>', [], False),
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f><v>{v}</v><v>{w}</v></c>', ["CACHED_MISMATCH"], False),  # the last <v>
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f><x:v xmlns:x="other">{w}</x:v></c>', ["CACHED_MISMATCH"], False),
    ('<c r="J4" s="23"><x:f xmlns:x="other">SUM(D4:H4)</x:f><v>{v}</v></c>', ["FORMULA_CHANGED"], False),
    ('<c r="J4" s="23" t="str"><f>SUM(D4:I4)</f><v>{v}</v></c>', ["CACHED_MISMATCH"], False),
    ('<c r="J4" s="23"><v>SUM(D4:I4)</v><v>{v}</v></c>', ["FORMULA_OVERWRITTEN"], False),
    ('<c r="J4" s="23"><f>SUM(D4:I4)</f><f>{v}</f></c>', ["FORMULA_CHANGED"], False),  # the last <f>
    ("", ["FORMULA_OVERWRITTEN"], False),
])
def test_computed_cells_seen_at_once_are_those_checked_cell_by_cell(base, tmp_path, monkeypatch, cell, codes, at_once):
    with zipfile.ZipFile(base) as z:
        v = int(re.search(rb'<c r="J4"[^>]*><f>[^<]*</f><v>(\d+)</v>', z.read(fx.sheet_part(base, T3))).group(1))
    path = fx.sheet_edit(base, tmp_path / "computed.xlsx", T3,
                         lambda d: fx.replace_cell(d, "J4", cell.format(v=v, w=v + 1)))
    assert _same_computed_at_once_and_cell_by_cell(path, monkeypatch) == (codes, at_once)


def test_computed_cells_already_made_or_elsewhere_are_checked_cell_by_cell(base, tmp_path, monkeypatch):
    with zipfile.ZipFile(base) as z:
        v = int(re.search(rb'<c r="J4"[^>]*><f>[^<]*</f><v>(\d+)</v>', z.read(fx.sheet_part(base, T3))).group(1))
    # a label changed: every cell of the sheet is made; a result that is not the total
    made = fx.sheet_edit(base, tmp_path / "made.xlsx", T3, lambda d: fx.replace_cell(
        fx.replace_cell(d, "D1", '<c r="D1" t="str"><v>别的</v></c>'), "J4", '<c r="J4"><f>SUM(D4:I4)</f><v>1</v></c>'))
    assert _same_computed_at_once_and_cell_by_cell(made, monkeypatch) == (["LABEL_CHANGED", "CACHED_MISMATCH"], False)
    made = fx.sheet_edit(base, tmp_path / "made.xlsx", T3, lambda d: fx.replace_cell(
        fx.replace_cell(d, "D1", '<c r="D1" t="str"><v>别的</v></c>'), "J4", f'<c r="J4" t="str"><f>SUM(D4:I4)</f><v>{v}</v></c>'))
    assert _same_computed_at_once_and_cell_by_cell(made, monkeypatch) == (["LABEL_CHANGED", "CACHED_MISMATCH"], False)
    made = fx.sheet_edit(base, tmp_path / "made.xlsx", T3, lambda d: fx.replace_cell(d, "D1", '<c r="D1"/>'))
    assert _same_computed_at_once_and_cell_by_cell(made, monkeypatch) == (["LABEL_CHANGED"], True)
    with _opened_in_place(base) as (spec, idx, wb, locate):
        figures = spec.compute(values.input_values(wb, spec, locate))
        assert computed._all_as_they_should_be(wb, idx, locate, figures)
        locate[idx.field_names["t3.received.commercial"]] = (T3, 3, 3)  # a term found in D4 instead of E4
        assert not computed._all_as_they_should_be(wb, idx, locate, figures)
        computed.check_formulas(wb, idx, locate, figures)
        assert [f.code for f in wb.findings] == ["FORMULA_CHANGED"]


@pytest.mark.parametrize("edits", [
    {"基本信息": {"B8": '<c r="B8"><v>12345678</v></c>', "B10": '<c r="B10" t="inlineStr"><is><t> 750001 </t></is></c>',
                "B11": '<c r="B11" t="str"><v/></c>', "B12": '<c r="B12" t="s"><v>x</v></c>', "B13": "",
                "B14": '<c r="B14" t="b"><v>1</v></c>'},
     "文字部分": {"B3": '<c r="B3" t="e"><v>#N/A</v></c>', "B4": '<c r="B4" t="str"><v>一</v><v>二</v></c>'}},
    {"_xlsx_tools": {"A8": '<c r="A8" t="inlineStr"><is><t>year</t></is></c>', "B8": '<c r="B8"><v>2025</v></c>',
                     "A6": '<c r="A6" t="str"><v>agency</v><v>别的</v></c>', "A9": '<c r="A9"><v>1</v></c>'}},
])
def test_texts_read_at_once_are_those_read_cell_by_cell(base, tmp_path, monkeypatch, edits):
    path = base
    for sheet, cells in edits.items():
        def edit(d, cells=cells):
            for ref, cell in cells.items():
                d = fx.replace_cell(d, ref, cell)
            return d
        path = fx.sheet_edit(path, tmp_path / f"{len(list(tmp_path.iterdir()))}.xlsx", sheet, edit)
    _same_both_ways(path, monkeypatch)
    result = read_and_check(path)
    assert result.report is not None
    if "基本信息" in edits:
        assert (result.report.contact["phone"], result.report.contact["postcode"]) == ("12345678", "750001")
        assert result.report.contact["report_date"] == "TRUE" and result.report.contact["website"] == ""


def test_a_date_in_a_text_cell_reads_as_a_date(base, tmp_path, monkeypatch):
    path = fx.set_cells(base, tmp_path / "date.xlsx", {"基本信息!B14": datetime.date(2026, 1, 15)})
    _same_both_ways(path, monkeypatch)
    assert read_and_check(path).report.contact["report_date"] == "2026年1月15日"


def test_texts_of_cells_are_their_cell_texts(monkeypatch):
    xml = (b"<worksheet " + MAIN + b'><sheetData><row r="1"><c r="A1" t="str"><v/></c><c r="B1" t="s"><v>0</v></c>'
           b'<c r="C1"><v>7</v></c><c r="D1" t="b"><v>0</v></c><c r="E1" t="inlineStr"><is><t>x</t></is></c></row>'
           b"</sheetData></worksheet>")
    keys = [(0, c) for c in range(6)]
    for tree in (True, False):
        with monkeypatch.context() as m:
            if not tree:
                m.setattr(ooxml, "TREE_ELEMENTS", 0)
            cells = parts.parse_sheet(xml, ["s0"]).cells
            assert values.texts_of(cells, keys) == [values.cell_text(cells.get(k), set()) for k in keys] \
                == ["", "s0", "7", "FALSE", "x", ""]


def test_document_properties_are_all_their_text(monkeypatch):
    data = (b"<Properties xmlns='http://schemas.openxmlformats.org/officeDocument/2006/custom-properties' "
            b"xmlns:vt='http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes'>"
            b"<property name='a'><vt:lpwstr> x<b>y<c>z</c></b>w </vt:lpwstr>t</property>"
            b"<property name='b'><vt:lpwstr><![CDATA[<c>]]>&amp;1</vt:lpwstr></property>"
            b"<property name='&#99;'><property name='d'>inner</property>outer</property>"
            b"<property><vt:lpwstr>no name</vt:lpwstr></property></Properties>")
    fast = book.parse_props(data, ("property",))
    assert fast == {"a": "xyzw t", "b": "<c>&1", "d": "inner", "c": "innerouter"}
    assert list(fast) == ["a", "b", "d", "c"]  # in the order their ends come
    monkeypatch.setattr(ooxml, "TREE_ELEMENTS", 0)
    slow = book.parse_props(data, ("property",))
    assert list(slow.items()) == list(fast.items())
