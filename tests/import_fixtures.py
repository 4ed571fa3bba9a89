"""Published-style reports generated in code from random figures, in every text style seen in real
published pages (issue 12), for the import tests. Labels come from the format file."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from xlsx_tools.format.grid import Table
from xlsx_tools.format.numbers import fmt_number
from xlsx_tools.format.spec import FormatSpec, load_format
from xlsx_tools.model.report import Agency, Report
from xlsx_tools.read.published.normalize import tolerance

STYLES = ("pipes", "pipes-bare", "pipe-cells", "plain", "spaces", "padded")

NARRATIVE = {
    "overview": "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。\n（一）主动公开。全年主动公开政府信息 120 条。\n（二）依申请公开。全年新收政府信息公开申请 {received} 件。",
    "problems": "存在的主要问题是公开内容不够全面。\n下一步将加强培训。",
    "other": "本年度未收取信息处理费。",
}


def random_figures(spec: FormatSpec, rng: random.Random, *, zero_share: float = 0.3) -> dict:
    """Consistent random figures (inputs random, totals computed)."""
    values = {}
    for f in spec.input_fields:
        if f.type.kind == "decimal":
            values[f.id] = Decimal(rng.randint(0, 999999)) / Decimal(100) if rng.random() > zero_share else Decimal(0)
        elif f.type.minimum < 0:  # 2019 format: 本年增/减
            values[f.id] = 0 if rng.random() < zero_share else rng.randint(-500, 500)
        else:
            values[f.id] = 0 if rng.random() < zero_share else rng.randint(1, 2500)
    for r in ("rules", "normative"):  # stock plausible: in force >= issued - repealed
        if spec.has_field(f"t2.item1.{r}.in_force"):
            values[f"t2.item1.{r}.in_force"] = values[f"t2.item1.{r}.issued"] + rng.randint(0, 50)
    # keep the balance rule true: carry_forward = received + carried_over - results_total
    figs = spec.compute(values)
    for c in [k for k, _ in spec.table("t3").column_keys if k != "total"]:
        figs[f"t3.received.{c}"] = figs[f"t3.results_total.{c}"] + rng.randint(0, 9)
        figs[f"t3.carried_over.{c}"] = rng.randint(0, 5)
        values[f"t3.received.{c}"] = figs[f"t3.received.{c}"]
        values[f"t3.carried_over.{c}"] = figs[f"t3.carried_over.{c}"]
        values[f"t3.carry_forward.{c}"] = figs[f"t3.received.{c}"] + figs[f"t3.carried_over.{c}"] - figs[f"t3.results_total.{c}"]
    return spec.compute(values)


def make_report(seed: int = 1, agency: str = "某某市某某局", year: int = 2022,
                format_id: str | None = None) -> Report:
    spec = load_format(format_id) if format_id else load_format()
    rng = random.Random(seed)
    figs = random_figures(spec, rng)
    narrative = {k: v.format(received=figs["t3.received.total"]) for k, v in NARRATIVE.items()}
    return Report(format=spec.id, agency=Agency(agency), year=year, figures=figs, narrative=narrative)


@dataclass
class GridCell:
    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    label: bool = True


def grid(table: Table, shown: dict[str, str]) -> list[list[GridCell]]:
    """The origin cells of every grid row of a table, in column order."""
    rows: dict[int, list[GridCell]] = {}
    for c in table.cells:
        rows.setdefault(c.row, []).append(GridCell(c.row, c.col, c.text, c.rowspan, c.colspan))
    for f in table.fields:
        rows.setdefault(f.row, []).append(GridCell(f.row, f.col, shown.get(f.id, ""), 1, f.colspan, label=False))
    return [sorted(v, key=lambda g: g.col) for _, v in sorted(rows.items())]


def relabel(text: str, *, traditional: bool = False, drift: bool = False) -> str:
    tol = tolerance()
    if drift and text in tol.drift:
        text = tol.drift[text][0]
    if traditional:
        back = {}
        for s, t in ((v, k) for k, v in ((chr(k), v) for k, v in tol.traditional.items())):
            back.setdefault(s, t)
        text = "".join(back.get(ch, ch) for ch in text)
    return text


def _split(text: str, rng: random.Random) -> list[str]:
    """A label broken over lines as narrow cells print it."""
    if len(text) < 4:
        return [text]
    cut = rng.randint(2, len(text) - 2)
    return [text[:cut], text[cut:]]


def _pad(text: str, width: int) -> str:
    """Pad to a display width (CJK characters are two columns), as pdftotext -layout aligns."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(2, width - used)


def render_table(table: Table, shown: dict[str, str], style: str, rng: random.Random, *,
                 traditional: bool = False, drift: bool = False) -> list[str]:
    out: list[str] = []
    width = table.grid_columns
    for cells in grid(table, shown):
        texts = [relabel(c.text, traditional=traditional, drift=drift) if c.label else c.text for c in cells]
        if style in ("pipes", "pipes-bare"):
            row = [""] * width
            for c, t in zip(cells, texts, strict=True):
                row[c.col] = t
            line = " | ".join(row)
            out.append(f"| {line} |" if style == "pipes" else line)
        elif style == "pipe-cells":
            out.extend(f"{t} |" for t in texts)
        elif style == "plain":
            for c, t in zip(cells, texts, strict=True):
                if c.label:
                    out.extend(_split(t, rng) if rng.random() < 0.3 else [t])
                elif t:
                    out.append(t)
                out.append("")
        elif style == "spaces":
            out.append(" ".join(t for t in texts if t))
        elif style == "padded":
            labels = [t for c, t in zip(cells, texts, strict=True) if c.label]
            nums = [t for c, t in zip(cells, texts, strict=True) if not c.label]
            if labels and nums and len(labels[-1]) >= 8 and rng.random() < 0.5:
                head, tail = _split(labels[-1], rng)
                out.append(_pad("  ".join(labels[:-1] + [head]), 72) + "".join(n.rjust(8) for n in nums))
                out.append(" " * 4 + tail)
            else:
                out.append(_pad("  ".join(labels), 72) + "".join(n.rjust(8) for n in nums))
    return out


def report_text(report: Report, style: str = "pipes", *, seed: int = 0, traditional: bool = False,
                drift: bool = False, shown: dict[str, str] | None = None, title: bool = True) -> str:
    """A whole published report as text in one style."""
    spec = report.spec
    rng = random.Random(seed)
    shown = shown if shown is not None else {fid: fmt_number(v) for fid, v in report.figures.items()}
    lines: list[str] = []
    if title:
        lines += [relabel(report.agency.name, traditional=traditional),
                  relabel(spec.report_title.format(year=report.year), traditional=traditional), ""]
    lines.append(f"本报告统计数据从 {report.year} 年 1 月 1 日至 12 月 31 日。")
    for s in spec.sections:
        lines += ["", relabel(s.heading, traditional=traditional), ""]
        if s.kind == "narrative":
            lines += (report.narrative.get(s.key) or "").split("\n")
        else:
            lines += render_table(spec.table(s.key), shown, style, rng, traditional=traditional, drift=drift)
    return "\n".join(lines) + "\n"


# -- Word and web page built the way other offices build them


def published_docx(report: Report, path, *, seed: int = 0, title_table: bool = True) -> None:
    """A published-style Word file made differently from ours: the title in a one-cell table,
    tables with other widths, merged cells made with python-docx's merge (gridSpan + vMerge),
    labels broken by line breaks inside cells."""
    from docx import Document
    from docx.shared import Cm

    spec = report.spec
    rng = random.Random(seed)
    doc = Document()
    title = spec.report_title.format(year=report.year)
    if title_table:
        t = doc.add_table(rows=1, cols=1)
        t.cell(0, 0).text = f"{report.agency.name}\n{title}"
    else:
        doc.add_paragraph(report.agency.name)
        doc.add_paragraph(title)
    doc.add_paragraph(f"本报告统计数据从 {report.year} 年 1 月 1 日至 12 月 31 日。")
    shown = {fid: fmt_number(v) for fid, v in report.figures.items()}
    for s in spec.sections:
        doc.add_paragraph(s.heading)
        if s.kind == "narrative":
            for para in (report.narrative.get(s.key) or "").split("\n"):
                doc.add_paragraph(para)
            continue
        table = spec.table(s.key)
        rows = grid(table, shown)
        top = table.origin_row
        t = doc.add_table(rows=table.grid_rows, cols=table.grid_columns)
        t.style = "Table Grid"
        for cells in rows:
            for g in cells:
                a = t.cell(g.row - top, g.col)
                if g.rowspan > 1 or g.colspan > 1:
                    a = a.merge(t.cell(g.row - top + g.rowspan - 1, g.col + g.colspan - 1))
                text = g.text
                if g.label and len(text) > 6 and rng.random() < 0.4:
                    cut = rng.randint(2, len(text) - 2)
                    text = text[:cut] + "\n" + text[cut:]
                a.text = text
        for col in t.columns:
            w = Cm(rng.choice((1.2, 1.6, 2.4)))
            for c in col.cells:
                c.width = w
    doc.save(str(path))


def published_html(report: Report, *, encoding: str = "utf-8", seed: int = 0) -> bytes:
    """A report page as agency websites publish it: site furniture, <p> paragraphs, tables with
    colspan/rowspan, &nbsp; and <br> inside cells."""
    import html

    spec = report.spec
    rng = random.Random(seed)
    shown = {fid: fmt_number(v) for fid, v in report.figures.items()}
    out = [f'<html><head><meta charset="{encoding}"><title>{html.escape(report.agency.name)}</title>',
           "<style>td{border:1px solid}</style><script>var x = '一、总体情况 0 0';</script></head><body>",
           '<div class="nav"><a href="/">首页</a> &gt; <a href="#">政府信息公开年报</a></div>',
           f"<h1>{html.escape(report.agency.name)}<br/>{spec.report_title.format(year=report.year)}</h1>",
           f"<p>本报告统计数据从 {report.year} 年 1 月 1 日至 12 月 31 日。</p>"]
    for s in spec.sections:
        out.append(f"<p><strong>{s.heading}</strong></p>")
        if s.kind == "narrative":
            out += [f"<p>&nbsp;&nbsp;{html.escape(p)}</p>" for p in (report.narrative.get(s.key) or "").split("\n")]
            continue
        out.append('<table border="1" cellspacing="0"><tbody>')
        for cells in grid(spec.table(s.key), shown):
            out.append("<tr>")
            for g in cells:
                text = html.escape(g.text)
                if g.label and len(g.text) > 6 and rng.random() < 0.4:
                    cut = rng.randint(2, len(g.text) - 2)
                    text = html.escape(g.text[:cut]) + "<br>" + html.escape(g.text[cut:])
                attrs = (f' colspan="{g.colspan}"' if g.colspan > 1 else "") + (f' rowspan="{g.rowspan}"' if g.rowspan > 1 else "")
                out.append(f"<td{attrs}><p><span>{text or '&nbsp;'}</span></p></td>")
            out.append("</tr>")
        out.append("</tbody></table>")
    out.append('<div class="footer">主办单位：某某市人民政府办公室</div></body></html>')
    return "\n".join(out).encode(encoding)
