"""The locked Excel template an agency fills in, written with xlsxwriter from the format spec:
instructions, 基本信息, one sheet per official table (same labels, order and merged cells), the
文字部分 sheet, and a hidden identity sheet. Everything laid out here is derived from the spec.

The modules it is made of: layout.py (the spec-derived plan, computed once per spec and replayed
for every agency), sheets.py (the sheets), protection.py (passwords), identity.py (the identity
the template carries; the fingerprint is model/meta.py's), xlsxwriter_compat.py. This module
writes one template or a batch of them with its manifest.csv.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..format.spec import FormatSpec, Number, load_format
from ..model.meta import (
    DEADLINE_LABEL,
)
from ..model.report import Report
from ..read.roster import RosterRow, csv_bytes
from ..util import fsutil
from .identity import TemplateInfo, identity_values, write_identity_sheet, write_properties
from .layout import (
    Plan,
    formats,
    plan_for,
)
from .protection import TemplateError, check_password, generate_password, password_hash
from .sheets import (
    excel_values,
    write_info,
    write_instructions,
    write_narrative,
    write_table,
)
from .xlsxwriter_compat import TemplateWorkbook

MANIFEST_NAME = "manifest.csv"
MANIFEST_EXTRA_COLUMNS = ("文件名", "sha256", "模板指纹", "保护密码")

# Files are written through mkstemp (mode 0600); give outputs the mode a plain open() would.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def parts_from_narrative(spec: FormatSpec, narrative: Mapping[str, str]) -> dict[str, str]:
    """The 文字部分 cells ("overview.active" -> text) for a Report's section texts: the inverse of
    report.narrative_from_parts. A line that starts with a later part's ordinal ("（二）") starts that
    part; everything else stays with the part before it. Blank lines at a part boundary are
    dropped (narrative_from_parts strips each part)."""
    out: dict[str, str] = {}
    for section in dict.fromkeys(p.section for p in spec.narrative_parts):
        text = (narrative.get(section) or "").strip()
        if not text:
            continue
        parts = [p for p in spec.narrative_parts if p.section == section]
        ordinals = [p.label[: p.label.index("）") + 1] if p.label.startswith("（") and "）" in p.label else None
                    for p in parts]
        current = 0
        chunks: dict[int, list[str]] = {}
        for line in text.split("\n"):
            for i in range(current + 1, len(parts)):
                if ordinals[i] and line.startswith(ordinals[i]):
                    current = i
                    break
            chunks.setdefault(current, []).append(line)
        for i, lines in chunks.items():
            out[f"{parts[i].section}.{parts[i].key}"] = "\n".join(lines)
    return out


def write_template(
    path: str | Path,
    *,
    agency: str,
    year: int,
    code: str = "",
    password: str,
    contact: Mapping[str, str] | None = None,
    report: Report | None = None,
    deadline: str = "",
    spec: FormatSpec | None = None,
    narrative_parts: Mapping[str, str] | None = None,
    created: datetime | None = None,
    title: str = "",
) -> TemplateInfo:
    """Write the locked template of one agency to `path` (atomically) and describe it.

    `report` pre-fills the inputs (figures, contact, narrative) and the cached formula results;
    `contact` overrides the report's contact details; `title` replaces the workbook's title
    (agency name + report title)."""
    agency = (agency or "").strip()
    if not agency:
        raise TemplateError("机关名称不能为空。")
    check_password(password)
    if spec is None:
        spec = report.spec if report is not None else load_format()
    plan = plan_for(spec)
    figures: Mapping[str, Number | None] = report.figures if report is not None else {}
    info_values: dict[str, Any] = dict(report.contact) if report is not None else {}
    info_values.update(contact or {})
    if narrative_parts is None and report is not None:
        narrative_parts = parts_from_narrative(spec, report.narrative)
    info_values.update(agency=agency, code=code or "", year=year)
    created = created or datetime.now().astimezone().replace(microsecond=0)

    path = Path(path)
    with fsutil.atomic_path(path) as tmp:
        _write(tmp, plan, info_values, figures, narrative_parts or {}, password, deadline, created, title)
        os.chmod(tmp, FILE_MODE)
    return TemplateInfo(
        path=path, agency=agency, code=code or "", year=year, sha256=fsutil.sha256_file(path),
        fingerprint=plan.fingerprint, password=password,
    )


def _write(target: Path, plan: Plan, info: Mapping[str, Any], figures: Mapping[str, Number | None],
           parts: Mapping[str, str], password: str, deadline: str, created: datetime, title: str = "") -> None:
    spec = plan.spec
    wb = TemplateWorkbook(str(target), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    wb.structure_password_hash = password_hash(password)
    fmt = formats(wb)
    agency, year = info["agency"], info["year"]
    title = title or f"{agency} {spec.report_title.format(year=year)}"
    identity = identity_values(spec, plan.fingerprint, info, created)
    write_properties(wb, spec, title, agency, created, identity)

    write_instructions(wb, fmt, plan, info, deadline, title, password)
    write_info(wb, fmt, spec, info, password, plan.info_names)
    values = dict(figures)
    computed = excel_values(plan, values)
    blank = not any(v is not None for v in values.values())
    for tp in plan.tables:
        write_table(wb, fmt, spec, tp, values, computed, password, blank)
    write_narrative(wb, fmt, spec, parts, password, plan.narrative_names)
    write_identity_sheet(wb, identity, password)
    wb.close()


def _as_row(item: Any) -> RosterRow:
    if isinstance(item, RosterRow):
        return item
    if isinstance(item, Mapping):
        return RosterRow(agency=str(item.get("agency", "")), code=str(item.get("code", "") or ""),
                         contact={k: str(v) for k, v in item.items() if k not in ("agency", "code")})
    name, *rest = item
    return RosterRow(agency=str(name), code=str(rest[0]) if rest else "")


def template_stem(agency: str) -> str:
    """The file name (without .xlsx) of an agency's template: its cleaned name, shortened to a
    length every file system accepts (60 Chinese characters)."""
    return fsutil.safe_filename(agency)


def single_target(output: str | os.PathLike | None, agency: str) -> Path:
    """Where `template --agency` writes: `output` if it names an .xlsx file, or
    `<safe agency name>.xlsx` inside it if it is an existing folder or ends with a path separator
    (a folder to create); the current folder without `output`. Missing folders are created when
    the file is written."""
    name = f"{template_stem(agency)}.xlsx"
    if output is None:
        return Path(name)
    text = os.fspath(output)
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep, "/") if sep)) or Path(text).is_dir():
        return Path(text) / name
    target = Path(text)
    if target.suffix.lower() == ".xlsx":
        return target
    if not target.suffix:
        raise TemplateError(f"-o 应为 .xlsx 文件或文件夹：{text} 既不以 .xlsx 结尾，也不是已有的文件夹。"
                            f"要保存到新文件夹，请在末尾加“/”（如 {text}/）；要保存为文件，请写成 {text}.xlsx。")
    raise TemplateError(f"模板只能保存为 .xlsx 格式（Excel 工作簿），不能保存为 {target.suffix}：请把 -o 改为 "
                        f"{target.with_suffix('.xlsx')}。")


def batch_filenames(rows: Sequence[RosterRow]) -> list[str]:
    """`<safe agency name>.xlsx` per row; names that clean to the same file on a Windows share
    (case or width only, as `fsutil.filename_key` tells) get -2, -3, ..., as `--add` does."""
    used: set[str] = set()
    out = []
    for row in rows:
        stem = template_stem(row.agency)
        out.append(fsutil.unique_name(f"{stem}.xlsx", lambda n, stem=stem: f"{stem}-{n}.xlsx", used))
    return out


def write_batch(
    roster_rows: Iterable[Any],
    year: int,
    outdir: str | Path,
    *,
    password: str | None = None,
    deadline: str = "",
    progress: Callable[[TemplateInfo], None] | None = None,
    spec: FormatSpec | None = None,
) -> list[TemplateInfo]:
    """One template per roster row into `outdir`, plus manifest.csv (UTF-8 with BOM, for Excel).
    Without `password` one is generated for the whole batch."""
    spec = spec or load_format()
    rows = [_as_row(r) for r in roster_rows]
    password = check_password(generate_password() if password is None else password)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    infos = []
    for row, name in zip(rows, batch_filenames(rows), strict=True):
        info = write_template(
            outdir / name, agency=row.agency, year=year, code=row.code, password=password,
            contact=row.contact, deadline=deadline, spec=spec,
        )
        infos.append(info)
        if progress is not None:
            progress(info)
    write_manifest(outdir / MANIFEST_NAME, infos, spec, rows=rows, deadline=deadline,
                   columns=getattr(roster_rows, "columns", None))
    return infos


def write_manifest(path: str | Path, infos: Sequence[TemplateInfo], spec: FormatSpec | None = None, *,
                   rows: Sequence[RosterRow] = (), deadline: str = "", columns: Sequence[str] | None = None) -> Path:
    """manifest.csv: 机关名称, 机关代码, every other column of the roster (联系人, 联系电话, 简称, ...
    in the roster's order, so that the manifest can be the roster of `collect`), 文件名, sha256,
    模板指纹, 保护密码, and 填报截止日期 when there is one."""
    spec = spec or load_format()
    labels = {f.key: f.label for f in spec.info_fields}
    own = [labels["agency"], labels["code"], *MANIFEST_EXTRA_COLUMNS, DEADLINE_LABEL]
    values = [{**{labels[k]: v for k, v in r.contact.items() if k in labels}, **dict(r.extra)} for r in rows]
    middle = [c for c in (columns or []) if c not in own]
    for v in values:
        middle += [c for c in v if c not in own and c not in middle]
    header = [labels["agency"], labels["code"], *middle, *MANIFEST_EXTRA_COLUMNS] + ([DEADLINE_LABEL] if deadline else [])
    body = []
    for n, i in enumerate(infos):
        extra = values[n] if n < len(values) else {}
        body.append([i.agency, i.code, *(extra.get(c, "") for c in middle), i.path.name, i.sha256, i.fingerprint,
                     i.password] + ([deadline] if deadline else []))
    data = csv_bytes([header] + body)
    with fsutil.atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, FILE_MODE)
    return Path(path)


__all__ = [
    "parts_from_narrative",
    "single_target",
    "template_stem",
    "write_batch",
    "write_manifest",
    "write_template",
]
