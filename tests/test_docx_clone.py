"""xlsx_tools.write.docx_clone: a run's text written as python-docx's Run.text writes it (this is
the test that fails when a python-docx release writes text differently), specimen rows copied,
and the package: the shell's parts kept, the document and file properties made anew."""

from __future__ import annotations

import copy
import io
import zipfile

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from xlsx_tools.util.xmltext import xml_safe
from xlsx_tools.write import docx_clone as dc
from xlsx_tools.write import docx_oxml as ox

TEXTS = ["", "a", " a", "a ", "\u3000全角空白\u3000", "a\tb", "\t", "\n", "a\r\nb", "x\n\ny\r", "<&>\"']]>",
         "  ", "\x85下一行\u2028", "末尾\t", "中文 mixed\ttext\nline"]
ALPHABET = st.sampled_from(list("ab中 \t\r\n\u3000<&>\"'\u00a0\u2028\x85\x7f"))


def content(r) -> list[tuple]:
    return [(etree.QName(c).localname, c.text, dict(c.attrib)) for c in r]


def python_docx_run(text: str):
    """python-docx's w:r for `text` (with properties, as the notice's runs have)."""
    run = docx.Document().add_paragraph().add_run()
    run.bold = True
    run.text = text
    return ox.r_element(run)


def ours(text: str):
    r = copy.deepcopy(python_docx_run("specimen\ttext"))
    dc.set_run_text(r, text)
    return r


@pytest.mark.parametrize("text", TEXTS)
def test_set_run_text_writes_what_python_docx_writes(text):
    assert content(ours(text)) == content(python_docx_run(text))


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=12))
def test_set_run_text_writes_what_python_docx_writes_for_any_text(text):
    assert content(ours(text)) == content(python_docx_run(text))


def test_set_run_text_refuses_what_xml_cannot_hold_and_xml_safe_replaces_it():
    with pytest.raises(ValueError):
        dc.set_run_text(ours("x"), "a\x00b")
    assert xml_safe("a\x00b\x01\x08\x0b\x0c\x0e\x1f\ud800\udfff\ufffe\uffff\t\n\r\x7f中") == "a?b" + "?" * 10 + "\t\n\r\x7f中"
    dc.set_run_text(r := ours("x"), xml_safe("a\x00b"))
    assert content(r)[-1][1] == "a?b"


def shell_document():
    doc = docx.Document()
    doc.add_paragraph().add_run("specimen")
    table = doc.add_table(rows=3, cols=2)
    for row, texts in zip(table.rows, (("头", "头"), ("甲", "甲"), ("乙", "乙")), strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.paragraphs[0].add_run(text).italic = text == "乙"
    doc.core_properties.title = "title"
    doc.core_properties.author = "author"
    return doc


def test_fill_table_copies_the_chosen_specimen_row_and_sets_each_run():
    shell = dc.Shell.of(shell_document())
    document = shell.document()
    paragraph, table, _ = dc.blocks(document)
    dc.set_texts(paragraph, ["开头"])
    dc.fill_table(table, 1, [(1, ("1", "b")), (0, ("2", "")), (1, ("3", "d"))])
    read = docx.Document(io.BytesIO(shell.package(document, title="标题<&>", author="作者")))
    assert [p.text for p in read.paragraphs] == ["开头"]
    assert [[c.text for c in r.cells] for r in read.tables[0].rows] == [["头", "头"], ["1", "b"], ["2", ""], ["3", "d"]]
    assert [r.cells[0].paragraphs[0].runs[0].italic for r in read.tables[0].rows[1:]] == [True, False, True]
    assert (read.core_properties.title, read.core_properties.author) == ("标题<&>", "作者")
    assert dc.blocks(shell.document())[1].findall(dc.TR)[1] is not None  # the shell itself is untouched
    assert len(dc.blocks(shell.document())[1].findall(dc.TR)) == 3


def test_set_texts_needs_one_text_a_run():
    document = dc.Shell.of(shell_document()).document()
    with pytest.raises(ValueError, match="2 texts for 1 runs"):
        dc.set_texts(dc.blocks(document)[0], ["a", "b"])


def test_the_package_keeps_every_other_part_of_the_shell_byte_for_byte():
    saved = io.BytesIO()
    shell_document().save(saved)
    shell = dc.Shell(saved.getvalue())
    made = zipfile.ZipFile(io.BytesIO(shell.package(shell.document(), title="t", author="a")))
    original = zipfile.ZipFile(saved)
    assert made.testzip() is None
    assert made.namelist()[0] == "[Content_Types].xml"
    assert sorted(made.namelist()) == sorted(original.namelist())
    for name in original.namelist():
        if name != dc.CORE_PART:
            assert made.read(name) == original.read(name), name
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in made.infolist())


def test_a_shell_needs_a_title_and_an_author():
    saved = io.BytesIO()
    docx.Document().save(saved)
    without = io.BytesIO()
    with zipfile.ZipFile(saved) as z, zipfile.ZipFile(without, "w") as out:
        for name in z.namelist():
            data = z.read(name)
            out.writestr(name, data.replace(b"<dc:title/>", b"") if name == dc.CORE_PART else data)
    with pytest.raises(ValueError, match="dc:title"):
        dc.Shell(without.getvalue())


def filled_tree(shell: dc.Shell, text: str, rows) -> bytes:
    document = shell.document()
    paragraph, table, _ = dc.blocks(document)
    dc.set_texts(paragraph, [text])
    dc.fill_table(table, 1, rows)
    return dc.document_xml(document)


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=12), st.lists(st.tuples(st.sampled_from([0, 1]), st.text(ALPHABET, max_size=8),
                                                          st.text(ALPHABET, max_size=8)), max_size=4))
def test_the_stencil_renders_what_the_filled_tree_serializes_to(text, rows):
    shell = dc.Shell.of(shell_document())
    stencil = dc.Stencil(shell, paragraphs=[0], tables=[(1, 1)])
    table_rows = [(k, (a, b)) for k, a, b in rows]
    assert stencil.render({0: [text]}, {1: table_rows}) == filled_tree(shell, text, table_rows)


def test_the_stencil_refuses_what_set_texts_refuses():
    shell = dc.Shell.of(shell_document())
    stencil = dc.Stencil(shell, paragraphs=[0], tables=[(1, 1)])
    assert stencil.render({0: TEXTS[4:5]}, {1: [(1, TEXTS[9:11])]}) == filled_tree(shell, TEXTS[4], [(1, TEXTS[9:11])])
    with pytest.raises(ValueError, match="2 texts for 1 runs"):
        stencil.render({0: ["a", "b"]}, {1: []})
    with pytest.raises(ValueError, match="1 texts for 2 runs"):
        stencil.render({0: ["a"]}, {1: [(0, ("x",))]})
    for bad in ("a\x00b", "\ud800", "\ufffe"):
        with pytest.raises(ValueError):
            stencil.render({0: [bad]}, {1: []})
        with pytest.raises(ValueError):
            filled_tree(shell, bad, [])


@pytest.mark.parametrize("names", [("docProps/core.xml", "word/document.xml"), ("a.xml", "中文/部分.xml")])
def test_the_package_is_the_zip_that_zipfile_appends(names):
    """package() appends its parts to the kept ones as zipfile's append mode does at zlib level
    dc.LEVEL: the same entries, records and central directory (the dates aside), a zip every
    reader opens."""
    shell = dc.Shell.of(shell_document())
    parts = [(names[0], "属性<&>".encode() * 50), (names[1], bytes(range(256)) * 40)]
    made = shell._append(parts)
    reference = io.BytesIO(shell._rest)
    with zipfile.ZipFile(reference, "a", zipfile.ZIP_DEFLATED, compresslevel=dc.LEVEL) as z:
        for name, data in parts:
            z.writestr(name, data)

    def records(package: bytes) -> list[tuple]:
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            assert z.testzip() is None
            return [(i.filename, i.compress_type, i.CRC, i.compress_size, i.file_size, i.flag_bits, i.external_attr,
                     i.create_system, i.create_version, i.extract_version, i.header_offset, z.read(i)) for i in z.infolist()]

    assert records(made) == records(reference.getvalue())
    assert len(made) == len(reference.getvalue())
    if names[0] == dc.CORE_PART:
        assert docx.Document(io.BytesIO(shell.package(shell.document(), title="t", author="a"))).core_properties.title == "t"


def raw_records(package: bytes) -> dict[str, tuple]:
    """Each member's record as stored: CRC, sizes, method, flags and its compressed bytes."""
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        assert z.testzip() is None
        out = {}
        for i in z.infolist():
            start = i.header_offset + 30 + len(i.filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437")) + \
                int.from_bytes(package[i.header_offset + 28:i.header_offset + 30], "little")
            out[i.filename] = (i.CRC, i.compress_size, i.file_size, i.compress_type, i.flag_bits,
                               package[start:start + i.compress_size])
        return out


def test_the_kept_parts_are_python_docx_records_copied_as_they_are():
    """The shell keeps the parts python-docx compressed when it saved, record for record (no
    second compression): the same CRC, sizes and compressed bytes, in the same order."""
    saved = io.BytesIO()
    shell_document().save(saved)
    package = saved.getvalue()
    kept = dc._kept(package, (dc.DOCUMENT_PART, dc.CORE_PART))
    assert kept is not None and dc.Shell(package)._rest == kept
    original, copied = raw_records(package), raw_records(kept)
    assert list(copied) == [n for n in original if n not in (dc.DOCUMENT_PART, dc.CORE_PART)]
    assert all(copied[n] == original[n] for n in copied)
    assert dc._kept(package, ()) is not None and raw_records(dc._kept(package, ())) == original


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)


def test_a_zip_kept_cannot_copy_is_compressed_again_part_by_part():
    """A package in a layout _kept does not copy (a comment, data descriptors, not a zip at all):
    None, and the shell compresses its kept parts again, each the same once unzipped."""
    saved = io.BytesIO()
    shell_document().save(saved)
    parts = {}
    with zipfile.ZipFile(saved) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    commented = io.BytesIO()
    with zipfile.ZipFile(commented, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        z.comment = b"made elsewhere"
    streamed = _Unseekable()
    with zipfile.ZipFile(streamed, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert any(i.flag_bits & 0x08 for i in zipfile.ZipFile(io.BytesIO(bytes(streamed.data))).infolist())
    for package in (commented.getvalue(), bytes(streamed.data)):
        assert dc._kept(package, ()) is None
        shell = dc.Shell(package)
        made = zipfile.ZipFile(io.BytesIO(shell.package(shell.document(), title="t", author="a")))
        assert made.testzip() is None and sorted(made.namelist()) == sorted(parts)
        assert all(made.read(n) == parts[n] for n in parts if n != dc.CORE_PART)
    for broken in (b"", b"PK\x05\x06", saved.getvalue()[:-30] + b"\0" * 30, saved.getvalue()[100:]):
        assert dc._kept(broken, ()) is None
    saved_bytes = saved.getvalue()
    start = int.from_bytes(saved_bytes[-6:-2], "little")
    past = saved_bytes[:start + 42] + (len(saved_bytes) - 10).to_bytes(4, "little") + saved_bytes[start + 46:]
    assert dc._kept(past, ()) is None  # a record said to start near the end
