"""Returned workbooks for the reader tests, generated in code: a template filled the way an agency's
program would, then edited the way agencies (or careless tools) do — through openpyxl, or by
rewriting one part of the zip, the way a file saved by another program differs from ours.

Nothing binary is kept in the repository: every fixture is built from the format file, the
template writer and a few readable edits below.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import openpyxl

from xlsx_tools.cli.demo import samples
from xlsx_tools.format.numbers import Number
from xlsx_tools.format.spec import FormatSpec, load_format
from xlsx_tools.model.report import Agency, Report
from xlsx_tools.write.template import write_template

PASSWORD = "test-pw"
AGENCY = "测试市测试局"
CODE = "T-001"
YEAR = 2021

# A narrative that states nothing the tables could contradict.
NARRATIVE = {
    "overview": "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，依法做好政府信息公开工作。",
    "problems": "一是公开深度有待加强；二是平台建设有待完善。下一步将加强培训，规范公开。",
    "other": "无。",
}


def spec() -> FormatSpec:
    return load_format()


def figures(seed: int = 1, busy: float = 0.5) -> dict[str, Number]:
    """Figures that satisfy every rule of the format (samples.random_figures)."""
    return samples.random_figures(spec(), random.Random(seed), busy)


def report(seed: int = 1, *, year: int = YEAR, agency: str = AGENCY, code: str = CODE,
           values: Mapping[str, Number | None] | None = None, narrative: Mapping[str, str] | None = None) -> Report:
    s = spec()
    figs = dict(values) if values is not None else figures(seed)
    return Report(
        format=s.id, agency=Agency(agency, code), year=year,
        contact={"contact_person": "张三", "phone": "0955-8597620", "email": "test@example.cn"},
        figures=figs, narrative=dict(NARRATIVE if narrative is None else narrative),
    )


def write_filled(path: Path, rep: Report | None = None, **kw) -> Path:
    """A template pre-filled with a Report, cached formula results included (as if saved by Excel)."""
    rep = rep or report(**kw)
    write_template(path, agency=rep.agency.name, year=rep.year, code=rep.agency.code, password=PASSWORD,
                   report=rep, contact=rep.contact)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Edits through openpyxl (what a user with the password, or a script, would do)


def openpyxl_edit(src: Path, dst: Path, edit: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(src)
    edit(wb)
    wb.save(dst)
    return dst


def set_cells(src: Path, dst: Path, cells: Mapping[str, object]) -> Path:
    """{"表三!D12": "无", ...} written with openpyxl (protection does not stop it)."""

    def edit(wb):
        for ref, value in cells.items():
            sheet, cell = ref.split("!")
            wb[sheet][cell].value = value

    return openpyxl_edit(src, dst, edit)


# ---------------------------------------------------------------------------------------------
# Edits of the zip parts (how files saved by other programs differ)


def rewrite_zip(src: Path, dst: Path, edits: Mapping[str, Callable[[bytes], bytes | None]] | None = None,
                add: Mapping[str, bytes] | None = None) -> Path:
    """Copy an .xlsx, passing chosen parts through an edit (None drops the part)."""
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if edits and info.filename in edits:
                data = edits[info.filename](data)
                if data is None:
                    continue
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    Path(dst).write_bytes(out.getvalue())
    return Path(dst)


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part of a worksheet, found through workbook.xml and its rels."""
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    m = re.search(r'<sheet [^>]*name="' + re.escape(sheet) + r'"[^>]*r:id="(rId\d+)"', wb)
    assert m, sheet
    target = re.search(r'Id="' + m.group(1) + r'"[^>]*Target="([^"]+)"', rels) or re.search(
        r'Target="([^"]+)"[^>]*Id="' + m.group(1) + '"', rels)
    assert target
    t = target.group(1)
    return t.lstrip("/") if t.startswith("/") else "xl/" + t


def replace_cell(xml: bytes, ref: str, new: str) -> bytes:
    """Replace the <c r="REF" ...>...</c> (or empty <c r="REF" .../>) element of a sheet part."""
    text = xml.decode("utf-8")
    pattern = re.compile(r'<c r="' + ref + r'"(?: [^>]*)?(?:/>|>.*?</c>)', re.S)
    assert pattern.search(text), ref
    return pattern.sub(new.replace("\\", "\\\\"), text, count=1).encode("utf-8")


def sheet_edit(path: Path, dst: Path, sheet: str, edit: Callable[[bytes], bytes]) -> Path:
    return rewrite_zip(path, dst, {sheet_part(path, sheet): edit})


def bytes_replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old in data, old
        return data.replace(old, new)

    return edit


# ---------------------------------------------------------------------------------------------
# Files that are not workbooks


def ole_file(*streams: str) -> bytes:
    """Enough of an OLE compound file (the .xls/.et/.doc/encrypted-.xlsx container) to be
    recognised: the magic number and UTF-16 directory entry names."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    body = b"".join(s.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for s in ("Root Entry", *streams))
    return header.ljust(512, b"\xff") + body.ljust(1024, b"\x00")


def zip_bytes(entries: Mapping[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED,
              encrypted: bool = False) -> bytes:
    """A zip of the given entries; `encrypted` sets the "encrypted" flag of every entry (in the
    local headers and the central directory), as a password-protected archive has it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    data = bytearray(out.getvalue())
    if encrypted:
        for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            pos = data.find(sig)
            while pos >= 0:
                data[pos + offset] |= 0x1
                pos = data.find(sig, pos + 4)
    return bytes(data)


def docx_bytes() -> bytes:
    import docx

    doc = docx.Document()
    doc.add_paragraph("2021年政府信息公开工作年度报告")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
)

EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&e;</t></si></sst>'
)
