"""The reader's fast ways (a small part parsed whole and searched in C, the defined names compared as
written, every named cell taken from the layout at once) against its slow ways (every part streamed
and walked element by element, every name worked out from its reference, name by name), on
returned workbooks whose XML was rewritten in every way an XML writer may legally write it, and in
some ways it may not (hypothesis draws the edits). Whatever the edits, both ways must give the same
kind of result, the same findings with the same messages and cells, and the same report.

tests/test_read_xml.py pins each fast path on hand-made shapes; this test looks for the shapes
nobody thought of."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests import reader_fixtures as fx
from xlsx_tools.format.spec import load_format
from xlsx_tools.read import ooxml
from xlsx_tools.read.layout import layout
from xlsx_tools.read.reader import read_and_check

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TOKEN = re.compile(rb"(<[^>]*>)")
ATTR = re.compile(rb'(\s)([\w:.-]+)="([^"]*)"')


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> list[dict[str, bytes]]:
    """The parts of two filled returns: a clean one and one with a cell edited into a mistake."""
    folder = tmp_path_factory.mktemp("diff")
    clean = fx.write_filled(folder / "clean.xlsx", fx.report(seed=5))
    mistake = fx.set_cells(clean, folder / "mistake.xlsx", {"表三!D12": "无", "表三!E12": " 12 ", "表三!J12": 5})
    out = []
    for path in (clean, mistake):
        with zipfile.ZipFile(path) as z:
            out.append({name: z.read(name) for name in z.namelist()})
    return out


def _parts_to_edit(parts: dict[str, bytes]) -> list[str]:
    """The parts the reader reads, the sheets with many formulas (the tables) and the workbook part
    (the defined names) drawn four times as often as the others."""
    names = sorted(n for n in parts if n.startswith("xl/worksheets/") or n in (
        "xl/workbook.xml", "xl/sharedStrings.xml", "xl/styles.xml", "docProps/custom.xml"))
    return names + [n for n in names if n == "xl/workbook.xml" or parts[n].count(b"<f>") > 4] * 3


# ---------------------------------------------------------------------------------------------
# Edits of a part's XML, as tokens (text and tags alternate: TOKEN.split)


def _tags(tokens: list[bytes]) -> list[int]:
    """Indexes of the element tags (start, end, empty), not the declaration or comments."""
    return [i for i, t in enumerate(tokens) if t.startswith(b"<") and not t.startswith((b"<?", b"<!"))]


def _texts(tokens: list[bytes]) -> list[int]:
    """Indexes of the non-empty texts between a start tag and its end tag."""
    return [i for i in range(1, len(tokens) - 1) if tokens[i] and tokens[i - 1].startswith(b"<")
            and not tokens[i - 1].startswith((b"</", b"<?", b"<!")) and not tokens[i - 1].endswith(b"/>")
            and tokens[i + 1].startswith(b"</")]


def _edit_attrs(tag: bytes, edit) -> bytes:
    attrs = ATTR.findall(tag)
    if not attrs:
        return tag
    head = re.match(rb"<[\w:.-]+", tag)
    if head is None:  # not a tag any more (a fault was put before it)
        return tag
    head = head.group(0)
    tail = b"/>" if tag.endswith(b"/>") else b">"
    return head + b"".join(edit(attrs)) + tail


def _quote(attrs):
    return [s + n + (b"='" + v + b"'" if b"'" not in v else b'="' + v + b'"') for s, n, v in attrs]


def _reverse(attrs):
    return [s + n + b'="' + v + b'"' for s, n, v in reversed(attrs)]


def _charref_attr(k: int):
    def edit(attrs):
        out = []
        for j, (s, n, v) in enumerate(attrs):
            if j == k % len(attrs) and v and not n.startswith(b"xmlns") and v[:1].isalnum():
                v = b"&#%d;" % v[0] + v[1:]
            out.append(s + n + b'="' + v + b'"')
        return out
    return edit


def _extra_attr(attrs):
    return [s + n + b'="' + v + b'"' for s, n, v in attrs] + [b' xt="1"']


def _spaced(attrs):
    return [b"\n   " + n + b' = "' + v + b'"' for _, n, v in attrs]


def _prefixed(xml: bytes) -> bytes:
    """The main namespace bound to a prefix instead of being the default one."""
    if b'xmlns="' + MAIN_NS + b'"' not in xml:
        return xml
    xml = xml.replace(b'xmlns="' + MAIN_NS + b'"', b'xmlns:q="' + MAIN_NS + b'"', 1)
    return re.sub(rb"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])", rb"<\1q:\2", xml)


def _other_value(cell: bytes) -> bytes:
    """The cell with another value, so that which of two copies is taken matters."""
    return re.sub(rb"<v>[^<]*</v>", b"<v>7</v>", cell, count=1) if b"<v>7</v>" not in cell else \
        cell.replace(b"<v>7</v>", b"<v>8</v>", 1)


GENERIC = ["comment", "pi", "space", "cdata", "charref", "attr", "empty", "fault"]
KINDS = {"xl/workbook.xml": GENERIC + ["name"] * 4,
         "sheet": GENERIC + ["duplicate", "drop_r", "wrap", "nest", "shared", "style"],
         "xl/styles.xml": GENERIC + ["datefmt"] * 3, "xl/sharedStrings.xml": GENERIC + ["runs"] * 3}


@st.composite
def edits(draw, tokens: list[bytes], part: str = "sheet"):
    """One edit of the tokens of `part`, in place."""
    tags, texts = _tags(tokens), _texts(tokens)
    kind = draw(st.sampled_from(KINDS.get("sheet" if part.startswith("xl/worksheets/") else part, GENERIC)))
    if kind in ("comment", "pi", "space", "fault") and tags:  # fault: the part is not well-formed from there
        i = draw(st.sampled_from(tags))
        tokens[i] = {"comment": b"<!-- x -->", "pi": b"<?xt y?>", "space": b"\n  ", "fault": b"<<"}[kind] + tokens[i]
    elif kind == "cdata" and texts:
        i = draw(st.sampled_from(texts))
        if b"&" not in tokens[i] and b"]]>" not in tokens[i]:
            tokens[i] = b"<![CDATA[" + tokens[i] + b"]]>"
    elif kind == "charref" and texts:
        i = draw(st.sampled_from(texts))
        text = tokens[i].decode("utf-8")
        k = draw(st.integers(0, len(text) - 1))
        if text[k] not in "&;":
            tokens[i] = (text[:k] + f"&#{ord(text[k])};" + text[k + 1:]).encode("utf-8")
    elif kind == "attr" and tags:
        i = draw(st.sampled_from(tags))
        how = draw(st.sampled_from([_quote, _reverse, _extra_attr, _spaced, "charref"]))
        tokens[i] = _edit_attrs(tokens[i], _charref_attr(draw(st.integers(0, 5))) if how == "charref" else how)
    elif kind == "empty" and tags:
        i = draw(st.sampled_from(tags))
        m = re.match(rb"<([\w:.-]+)(.*)/>$", tokens[i], re.S)
        if m:
            tokens[i] = b"<" + m.group(1) + m.group(2) + b"></" + m.group(1) + b">"
    elif kind in ("duplicate", "drop_r", "wrap"):
        xml = b"".join(tokens)
        cells = [m.span() for m in re.finditer(rb"<c [^>]*?(?:/>|>.*?</c>)", xml, re.S)]
        if cells:
            a, b = draw(st.sampled_from(cells))
            cell = xml[a:b]
            new = {"duplicate": cell + _other_value(cell), "drop_r": re.sub(rb' r="[^"]*"', b"", cell, count=1),
                   "wrap": b"<xt>" + cell + b"</xt>"}[kind]
            tokens[:] = TOKEN.split(xml[:a] + new + xml[b:])
    elif kind == "nest" and draw(st.booleans()):  # a copy of a cell inside it, before its value
        xml = b"".join(tokens)
        cells = [(m.span(), m.end(1)) for m in re.finditer(rb"(<c [^>]*?>).*?</c>", xml, re.S)]
        if cells:
            (a, b), inside = draw(st.sampled_from(cells))
            tokens[:] = TOKEN.split(xml[:inside] + _other_value(xml[a:b]) + xml[inside:])
    elif kind == "nest":  # a copy of one cell inside another
        xml = b"".join(tokens)
        cells = [m.span() for m in re.finditer(rb"<c [^>]*?>.*?</c>", xml, re.S)]
        if len(cells) > 1:
            (a, b), (_, end) = draw(st.lists(st.sampled_from(cells), min_size=2, max_size=2, unique=True))
            inner = end - len(b"</c>")
            tokens[:] = TOKEN.split(xml[:inner] + _other_value(xml[a:b]) + xml[inner:] if inner > b or end <= a else xml)
    elif kind == "name":  # a defined name written otherwise (unquoted, relative) or moved
        names = [i for i in _texts(tokens) if tokens[i - 1].startswith(b"<definedName ") and b"!" in tokens[i]]
        if names:
            i = draw(st.sampled_from(names))
            how = draw(st.sampled_from(["unquote", "relative", "move"]))
            text = tokens[i]
            if how == "unquote":
                tokens[i] = re.sub(rb"'([^'!]+)'!", rb"\1!", text)
            elif how == "relative":
                tokens[i] = text.replace(b"$", b"")
            else:
                tokens[i] = re.sub(rb"\$(\d+)$", lambda m: b"$%d" % (int(m.group(1)) + 1), text)
    elif kind == "style":  # a cell given another of the workbook's styles
        cells = [i for i in tags if tokens[i].startswith(b"<c ")]
        if cells:
            i = draw(st.sampled_from(cells))
            s = b' s="%d"' % draw(st.integers(0, 30))
            tokens[i] = re.sub(rb' s="[^"]*"', s, tokens[i], count=1) if b' s="' in tokens[i] else \
                tokens[i][:2] + s + tokens[i][2:]
    elif kind == "datefmt":  # a cell style made a date (a built-in date format, or a custom one)
        xfs = [i for i in tags if tokens[i].startswith(b"<xf ")]
        formats = [i for i in tags if tokens[i].startswith(b"<numFmt ")]
        if draw(st.booleans()) and xfs:
            i = draw(st.sampled_from(xfs))
            tokens[i] = re.sub(rb'numFmtId="\d+"', b'numFmtId="%d"' % draw(st.sampled_from([14, 22, 49, 164])),
                               tokens[i], count=1)
        elif formats:
            i = draw(st.sampled_from(formats))
            code = draw(st.sampled_from([b"yyyy/m/d", b'[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy', b"0.00",
                                         b"&quot;year&quot;0", b"h:mm"]))
            tokens[i] = re.sub(rb'formatCode="[^"]*"', lambda _: b'formatCode="' + code + b'"', tokens[i], count=1)
    elif kind == "runs":  # a shared string written as runs of text, with a phonetic reading
        xml = b"".join(tokens)
        items = [m for m in re.finditer(rb"<si><t>([^<]{2,})</t></si>", xml)]
        if items:
            m = draw(st.sampled_from(items))
            text = m.group(1).decode("utf-8")
            k = draw(st.integers(1, len(text) - 1))
            runs = f"<r><t>{text[:k]}</t></r><r><rPr><b/></rPr><t>{text[k:]}</t></r>".encode()
            if draw(st.booleans()):
                runs += b'<rPh sb="0" eb="1"><t>x</t></rPh>'
            tokens[:] = TOKEN.split(xml[:m.start()] + b"<si>" + runs + b"</si>" + xml[m.end():])
    elif kind == "shared":  # two formulas made one shared formula, written once
        xml = b"".join(tokens)
        formulas = [m for m in re.finditer(rb'<c r="([A-Z]+[0-9]+)"[^>]*><f>([^<]*)</f>', xml)]
        if len(formulas) > 1:
            first, second = sorted(draw(st.lists(st.sampled_from(formulas), min_size=2, max_size=2, unique=True)),
                                   key=lambda m: m.start())
            ref = first.group(1) + b":" + second.group(1)
            head = xml[:first.start(2) - 3] + b'<f t="shared" ref="' + ref + b'" si="0">' + first.group(2) + b"</f>"
            middle = xml[first.end(): second.start(2) - 3]
            tokens[:] = TOKEN.split(head + middle + b'<f t="shared" si="0"/>' + xml[second.end():])


@st.composite
def edited_returns(draw, returns):
    parts = dict(draw(st.sampled_from(returns)))
    for name in set(draw(st.lists(st.sampled_from(_parts_to_edit(parts)), min_size=1, max_size=2))):
        xml = parts[name]
        if draw(st.booleans()) and draw(st.booleans()):
            xml = _prefixed(xml)
        tokens = TOKEN.split(xml)
        for _ in range(draw(st.integers(1, 4))):
            draw(edits(tokens, name))
        parts[name] = b"".join(tokens)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def _result(data: bytes):
    r = read_and_check(data, name="退回.xlsx")
    return (r.kind, [(f.code, f.severity, f.message, f.values, f.cells) for f in r.findings],
            r.report.to_dict() if r.report is not None else None)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.data_too_large])
@given(data=st.data())
def test_the_fast_ways_read_any_rewritten_xml_as_the_slow_ways_do(returns, data, monkeypatch):
    workbook = data.draw(edited_returns(returns))
    fast = _result(workbook)
    idx = layout(load_format())
    with monkeypatch.context() as m:
        m.setattr(ooxml, "TREE_ELEMENTS", 0)  # every part streamed and walked element by element
        m.setattr(idx, "where", None)  # every named cell found name by name
        m.setattr(idx, "where_texts", ())  # every defined name worked out from its reference
        slow = _result(workbook)
    assert fast == slow


def test_the_edits_change_the_xml_but_not_what_a_reader_of_xml_sees(returns):
    """The edits are real: a part rewritten by them differs in bytes, and every edit but the
    deliberate ones (duplicate, drop_r, wrap, charref in text) keeps the same XML infoset."""
    sheet = returns[0]["xl/worksheets/sheet4.xml"]
    prefixed = _prefixed(sheet)
    assert prefixed != sheet and b"<q:c " in prefixed

    def canon(x: bytes) -> bytes:
        return etree.tostring(etree.fromstring(x), method="c14n")

    assert canon(prefixed).replace(b"q:", b"").replace(b"xmlns:q=", b"xmlns=") == canon(sheet)
    tokens = TOKEN.split(sheet)
    i = _tags(tokens)[5]
    assert canon(b"".join(tokens[:i] + [_edit_attrs(tokens[i], _reverse)] + tokens[i + 1:])) == canon(sheet)
    assert canon(b"".join(tokens[:i] + [_edit_attrs(tokens[i], _quote)] + tokens[i + 1:])) == canon(sheet)
