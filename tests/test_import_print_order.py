"""Figures read by the order plain pdftotext prints them (xlsx_tools/published/ordered.py): 表三 by
its totals, never a wrong figure, whatever the figures; 表二 only when its headers leave no doubt."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from import_fixtures import random_figures

from xlsx_tools.format.spec import load_format
from xlsx_tools.read.published import ordered
from xlsx_tools.read.published.cells import rows_of as _rows
from xlsx_tools.read.published.document import EMPTY, NA, NUM, TEXT, Token
from xlsx_tools.read.published.normalize import base_key
from xlsx_tools.read.published.stream import Stream

SPEC = load_format()
T3 = SPEC.table("t3")
T2 = SPEC.table("t2")
ROWS = _rows(T3)


def num(v) -> Token:
    return Token(NUM, str(v), 0, value=v)


def printed(figs: dict, blocks: list[int]) -> list[Token]:
    """表三's figures as pdftotext prints them: runs of rows, a run of k > 1 rows column by column."""
    out: list[Token] = []
    r = 0
    for k in blocks:
        run = ROWS[r:r + k]
        out += [num(figs[run[i][c].id]) for c in range(len(run[0])) for i in range(k)]
        r += k
    assert r == len(ROWS)
    return out


def blocks_of(rng: random.Random) -> list[int]:
    out, left = [], len(ROWS)
    while left:
        k = min(left, rng.choice([1, 1, 1, 2, 3]))
        out.append(k)
        left -= k
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9), st.sampled_from([0.0, 0.3, 0.9]))
def test_table3_by_order_never_misreads(seed, zero_share):
    rng = random.Random(seed)
    figs = random_figures(SPEC, rng, zero_share=zero_share)
    got = ordered.solve_rows(ROWS, printed(figs, blocks_of(rng)), SPEC.compute)
    assert {fid: t.value for fid, t in got.items()} == {fid: figs[fid] for fid in got}
    if zero_share == 0.0:  # no zeros: the totals leave one reading
        assert len(got) == len(T3.fields)


def test_the_order_seen_in_libreoffice_pdfs_is_read_whole():
    """Rows in order, the three rows at the foot of page 3 column by column (as in
    tests/test_import_libreoffice.py)."""
    figs = random_figures(SPEC, random.Random(5), zero_share=0.0)
    got = ordered.solve_rows(ROWS, printed(figs, [1] * 22 + [3]), SPEC.compute)
    assert {fid: t.value for fid, t in got.items()} == {f.id: figs[f.id] for f in T3.fields}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**9), st.sampled_from(["blank", "na"]))
def test_table3_a_lost_figure_or_a_slash_is_never_a_wrong_figure(seed, damage):
    """A figure that is not printed (its total still counting it) or a "/" among the figures: no
    reading adds up, nothing is read."""
    rng = random.Random(seed)
    figs = random_figures(SPEC, rng, zero_share=0.3)
    toks = printed(figs, blocks_of(rng))
    nonzero = [i for i, t in enumerate(toks) if t.value != 0]
    i = rng.choice(nonzero)
    if damage == "blank":
        del toks[i]
    else:
        toks[i] = Token(NA, "/", 0)
    got = ordered.solve_rows(ROWS, toks, SPEC.compute)
    assert {fid: t.value for fid, t in got.items()} == {fid: figs[fid] for fid in got}
    if damage == "na":
        assert got == {}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**9))
def test_table3_a_blank_cell_is_read_blank_where_the_totals_place_it(seed):
    """A blank cell (counted as 0 in the totals) prints nothing: read as blank in the one cell
    where every total adds up; cells the totals cannot tell apart are not read."""
    rng = random.Random(seed)
    figs = random_figures(SPEC, rng, zero_share=0.3)
    blocks = blocks_of(rng)
    row_of = {}
    r = 0
    for k in blocks:
        for i in range(k):
            row_of[r + i] = k
        r += k
    zeros = [f.id for n, row in enumerate(ROWS) if row_of[n] == 1 for f in row if f.input and figs[f.id] == 0]
    if not zeros:
        return
    blank = rng.choice(zeros)
    toks = [t for t, fid in zip(printed(figs, blocks), printed_ids(blocks), strict=True) if fid != blank]
    got = ordered.solve_rows(ROWS, toks, SPEC.compute)
    want = {f.id: (NUM, figs[f.id]) for f in T3.fields} | {blank: (EMPTY, None)}
    assert {fid: (t.kind, t.value) for fid, t in got.items()} == {fid: want[fid] for fid in got}


def printed_ids(blocks: list[int]) -> list[str]:
    out, r = [], 0
    for k in blocks:
        run = ROWS[r:r + k]
        out += [run[i][c].id for c in range(len(run[0])) for i in range(k)]
        r += k
    return out


def test_a_blank_cell_in_a_result_row_is_placed_by_the_column_totals():
    figs = random_figures(SPEC, random.Random(11), zero_share=0.0)
    blank = "t3.withheld.third_party.research"
    figs = SPEC.compute({**SPEC.input_values(figs), blank: 0})
    toks = [t for t, fid in zip(printed(figs, [1] * 25), printed_ids([1] * 25), strict=True) if fid != blank]
    got = ordered.solve_rows(ROWS, toks, SPEC.compute)
    assert len(got) == len(T3.fields)
    assert got[blank].kind == EMPTY
    assert all(got[f.id].value == figs[f.id] for f in T3.fields if f.id != blank)


def t2_tokens(figs: dict, *, drop: str | None = None, na: str | None = None) -> list[Token]:
    """表二 as plain pdftotext prints LibreOffice's PDF of our docx (seen on 12 random reports)."""
    f = {k: v for k, v in figs.items() if k.startswith("t2.")}
    seq: list = ["信息内容", "规章", "行政规范性文件", "第二十条第（一）项", "本年制发件数", "本年废止件数",
                 "t2.item1.rules.issued", "t2.item1.rules.repealed", "t2.item1.normative.issued", "t2.item1.normative.repealed",
                 "信息内容", "行政许可", "第二十条第（五）项", "本年处理决定数量", "t2.item5.licensing.decisions",
                 "信息内容", "行政处罚", "行政强制", "第二十条第（六）项", "本年处理决定数量",
                 "t2.item6.penalty.decisions", "t2.item6.enforcement.decisions",
                 "现行有效件数", "t2.item1.rules.in_force", "t2.item1.normative.in_force",
                 "第二十条第（八）项", "本年收费金额（单位：万元）", "t2.item8.fees.amount", "信息内容", "行政事业性收费"]
    out = []
    for s in seq:
        if s == drop:
            continue
        if s == na:
            out.append(Token(NA, "/", 0))
        elif s in f:
            out.append(num(f[s]))
        else:
            out.append(Token(TEXT, s, 0, key=base_key(s)))
    return out


def read_t2(tokens: list[Token]) -> dict:
    stream = Stream(tokens)

    def find(label, start):
        hit = stream.find(label, stream.char_of(start))
        return stream.token_span(hit) if hit is not None else None

    return {fid: t.value for fid, t in ordered.by_headers(T2, tokens, find).items()}


def test_table2_by_its_headers():
    figs = random_figures(SPEC, random.Random(3))
    assert read_t2(t2_tokens(figs)) == {f.id: figs[f.id] for f in T2.fields}


def test_table2_with_a_blank_or_a_slash_is_not_read_by_order():
    figs = random_figures(SPEC, random.Random(4))
    for fid in ("t2.item1.rules.repealed", "t2.item6.penalty.decisions", "t2.item1.normative.in_force"):
        assert read_t2(t2_tokens(figs, drop=fid)) == {}
        assert read_t2(t2_tokens(figs, na=fid)) == {}
    assert read_t2(t2_tokens(figs, drop="现行有效件数")) == {}  # a header not found


def t4_section(figs: dict, tail: list[str]) -> tuple[list[Token], list[Token]]:
    """表四 as plain pdftotext prints it when its last two figures land before its heading (seen
    in 6 of 36 random reports): the section without them, and what the section before ends with."""
    def tok(s):
        return num(figs[s]) if s in figs else Token(TEXT, s, 0, key=base_key(s))

    section = ["四、政府信息公开行政复议、行政诉讼情况", "行政复议", "行政诉讼", "结果", "维持", "结果", "纠正", "其他",
               "结果", "尚未", "审结", "总计", "t4.review.upheld", "t4.review.corrected", "t4.review.other",
               "t4.review.pending", "t4.review.total", "结果", "维持", "t4.suit_direct.upheld", "未经复议直接起诉",
               "结果", "其他", "尚未", "纠正", "结果", "审结", "t4.suit_direct.corrected", "t4.suit_direct.other",
               "t4.suit_direct.pending", "总计", "t4.suit_direct.total", "结果", "维持", "t4.suit_after_review.upheld",
               "结果", "纠正", "t4.suit_after_review.corrected", "t4.suit_after_review.total"]
    return [tok(s) for s in section], [tok(s) for s in tail]


def read_t4(figs: dict, tail: list[str]) -> dict:
    from xlsx_tools.read.published.document import Line
    from xlsx_tools.read.published.tables import find_table

    section, before = t4_section(figs, tail)
    res = find_table(SPEC.table("t4"), section, [Line("")], SPEC.compute, before=before)
    return {fid: c.value for fid, c in res.cells.items() if c.state == "value"}


def test_table4_figures_printed_before_its_heading_go_under_the_labels_printed_with_them():
    figs = random_figures(SPEC, random.Random(8), zero_share=0.0)
    tail = ["复议后起诉", "其他", "尚未", "结果", "审结", "t4.suit_after_review.other", "t4.suit_after_review.pending",
            "总计", "其他", "总计"]
    t4 = {f.id: figs[f.id] for f in SPEC.table("t4").fields}
    assert read_t4(figs, tail) == t4
    # the labels printed with them say nothing: not placed (the totals cannot tell 其他 from 维持)
    assert read_t4(figs, ["t4.suit_after_review.other", "t4.suit_after_review.pending"]) == {}
    # a total that does not add up: not read
    wrong = dict(figs, **{"t4.suit_after_review.pending": figs["t4.suit_after_review.pending"] + 1})
    assert read_t4(wrong, tail) == {}


def test_a_figure_printed_after_the_signature_is_not_narrative(tmp_path):
    """Plain pdftotext can print a table's last figure after the last page's signature."""
    from import_fixtures import make_report, report_text

    from xlsx_tools.read.published import import_file

    rep = make_report(seed=34, agency="某某市某某区人民政府办公室", year=2023)
    txt = tmp_path / "报告.txt"
    txt.write_text(report_text(rep, "spaces") + "某某市某某区人民政府办公室\n2024 年 1 月 16 日\n\n—4—\n\n577\n", encoding="utf-8")
    r = import_file(txt)
    assert r.report.narrative["other"] == rep.narrative["other"]
