"""A batch of templates already sent out: finding one in a folder (so that a re-run does not
silently replace the templates and password agencies already have), and adding agencies to it
with the same password, appending them to its manifest.csv and leaving every other line as is."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree

from ..format.spec import FormatSpec, load_format
from ..model import meta
from ..read.deadline import template_deadline
from ..read.roster import (
    UTF16_BOMS,
    RosterError,
    RosterRow,
    agency_key,
    csv_bytes,
    csv_text,
    decode,
)
from ..util import fsutil
from .identity import TemplateInfo
from .protection import TemplateError, check_password
from .template import (
    FILE_MODE,
    MANIFEST_EXTRA_COLUMNS,
    MANIFEST_NAME,
    template_stem,
    write_template,
)

PASSWORD_COLUMN = MANIFEST_EXTRA_COLUMNS[-1]  # 保护密码
FILE_COLUMN = MANIFEST_EXTRA_COLUMNS[0]  # 文件名
_PROPS_MAX = 1 << 20  # docProps/custom.xml of a template is ~1 KiB


@dataclass(frozen=True)
class Manifest:
    path: Path
    header: list[str]
    rows: list[dict[str, str]]
    data: bytes  # the file as it is, for appending

    def column(self, label: str) -> list[str]:
        return [r.get(label, "") for r in self.rows]


def template_identity(path: Path) -> dict[str, str] | None:
    """The identity custom properties of one of our templates ("format", "year", ...), or None
    for any other file (not a zip, no properties, another generator)."""
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("docProps/custom.xml")
            if info.file_size > _PROPS_MAX:
                return None
            data = z.read(info)
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None
    try:
        root = ElementTree.fromstring(data)
    except Exception:  # defusedxml refusals and parse errors alike: not ours
        return None
    props = {}
    for prop in root:
        name = prop.get("name", "")
        if name.startswith(meta.PROPERTY_PREFIX):
            props[name[len(meta.PROPERTY_PREFIX):]] = "".join(prop.itertext())
    return props if props.get("generator") == meta.GENERATOR else None


def existing_batch(outdir: Path) -> str | None:
    """What in `outdir` shows a batch was generated there before (a manifest.csv, templates of
    ours), in Chinese; None when there is none."""
    if not outdir.is_dir():
        return None
    found = []
    if (outdir / MANIFEST_NAME).exists():
        found.append(MANIFEST_NAME)
    templates = [p for p in sorted(outdir.glob("*.xlsx")) if p.is_file() and template_identity(p) is not None]
    if templates:
        found.append(f"{len(templates)} 个本工具生成的模板（如「{templates[0].name}」）")
    return "、".join(found) or None


def read_manifest(outdir: Path) -> Manifest:
    path = outdir / MANIFEST_NAME
    try:
        data = fsutil.read_regular(path, 64 << 20)  # a FIFO is refused, never waited on
    except FileNotFoundError:
        raise TemplateError(f"「{outdir}」中没有 {MANIFEST_NAME}：--add 只能向用 --roster 生成过的一批模板中添加机关。"
                            f"请用 -o 指定那一批模板所在的文件夹。") from None
    except OSError as e:
        raise TemplateError(f"无法读取「{path}」：{fsutil.os_error_text(e)}。") from None
    try:
        text = decode(data, MANIFEST_NAME)
    except RosterError as e:
        raise TemplateError(str(e)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.replace("\ufeff", "").strip() for h in next(reader, [])]
        rows = [{h: csv_text(c.strip()) for h, c in zip(header, cells, strict=False)}
                for cells in reader if any(c.strip() for c in cells)]
    except csv.Error as e:
        raise TemplateError(f"「{path}」第 {reader.line_num} 行无法解析：{e}。") from None
    return Manifest(path=path, header=header, rows=rows, data=data)


def batch_password(manifest: Manifest) -> str:
    """The one password of the batch, from the manifest's 保护密码 column."""
    if PASSWORD_COLUMN not in manifest.header:
        raise TemplateError(f"「{manifest.path}」没有“{PASSWORD_COLUMN}”列，无法得知本批次的保护密码。"
                            f"请用本工具生成的 {MANIFEST_NAME}。")
    passwords = {p for p in manifest.column(PASSWORD_COLUMN) if p}
    if len(passwords) != 1:
        what = "为空" if not passwords else f"不止一个（{len(passwords)} 个）"
        raise TemplateError(f"「{manifest.path}」中的“{PASSWORD_COLUMN}”{what}，无法确定本批次的保护密码。")
    return check_password(passwords.pop())


def batch_deadline(outdir: Path, manifest: Manifest) -> str:
    """The 填报截止日期 the batch's templates show (read from the first one that opens), or ""."""
    for name in manifest.column(FILE_COLUMN):
        path = outdir / name
        if not name or not path.is_file():
            continue
        deadline = template_deadline(path)
        if deadline is not None:
            return deadline
    return ""


def _check_year(outdir: Path, manifest: Manifest, year: int) -> None:
    for name in manifest.column(FILE_COLUMN):
        identity = template_identity(outdir / name) if name else None
        if identity is not None:
            if identity.get("year") != str(year):
                raise TemplateError(f"「{outdir}」中的这批模板是 {identity.get('year')} 年度的（如「{name}」），"
                                    f"与 --year {year} 不符。请改正 --year，或为新年度另选一个文件夹。")
            return


def add_to_batch(
    rows: Sequence[RosterRow],
    year: int,
    outdir: str | Path,
    *,
    password: str | None = None,
    deadline: str | None = None,
    progress: Callable[[TemplateInfo], None] | None = None,
    spec: FormatSpec | None = None,
) -> tuple[list[TemplateInfo], str, str]:
    """Templates for `rows` (agencies new to the batch in `outdir`) with the batch's password,
    appended to its manifest.csv. Returns (infos, password, deadline used). TemplateError (Chinese)
    when there is no batch, the year differs, a password given differs from the batch's, or an
    agency is already in the manifest (all of them named)."""
    spec = spec or load_format()
    outdir = Path(outdir)
    manifest = read_manifest(outdir)
    batch_pw = batch_password(manifest)
    if password is not None and password != batch_pw:
        raise TemplateError(f"--password 与本批次的保护密码（{MANIFEST_NAME} 中的“{PASSWORD_COLUMN}”）不同。"
                            "添加的模板须与已发出的模板用同一个密码：请去掉 --password。")
    _check_year(outdir, manifest, year)
    labels = {f.key: f.label for f in spec.info_fields}
    known = {agency_key(a): a for a in manifest.column(labels["agency"]) if a}
    already = [r.agency for r in rows if agency_key(r.agency) in known]
    if already:
        raise TemplateError(f"以下机关已在本批次的清单（{manifest.path.name}）中：{'、'.join(already)}。"
                            "请从新名单中删去这些机关后重试；要为某个机关重新生成模板，请用 --agency 单独生成。")
    if deadline is None:
        deadline = batch_deadline(outdir, manifest)

    used = {fsutil.filename_key(n) for n in manifest.column(FILE_COLUMN) if n}
    used |= {fsutil.filename_key(p.name) for p in outdir.iterdir()}
    infos: list[TemplateInfo] = []
    lines: list[list[str]] = []
    for row in rows:
        stem = template_stem(row.agency)
        name = fsutil.unique_name(f"{stem}.xlsx", lambda n, stem=stem: f"{stem}-{n}.xlsx", used)
        info = write_template(outdir / name, agency=row.agency, year=year, code=row.code, password=batch_pw,
                              contact=row.contact, deadline=deadline, spec=spec)
        infos.append(info)
        values = {labels["agency"]: info.agency, labels["code"]: info.code}
        values.update({labels[k]: v for k, v in row.contact.items() if k in labels})
        values.update(getattr(row, "extra", None) or {})
        values.update(zip(MANIFEST_EXTRA_COLUMNS, (name, info.sha256, info.fingerprint, info.password), strict=True))
        values[meta.DEADLINE_LABEL] = deadline or ""
        lines.append([values.get(h, "") for h in manifest.header])
        if progress is not None:
            progress(info)
    _append(manifest, lines)
    return infos, batch_pw, deadline


def _append(manifest: Manifest, lines: list[list[str]]) -> None:
    """The manifest's own bytes, then the new lines in its encoding (UTF-8 unless the office
    re-saved it as GBK)."""
    new = csv_bytes(lines).decode("utf-8-sig")
    data = manifest.data
    if data.startswith(UTF16_BOMS):
        raise TemplateError(f"「{manifest.path}」已被另存为“Unicode 文本”，无法在其后追加。请在 Excel 中另存为"
                            "“CSV UTF-8（逗号分隔）”后重试。")
    try:
        data.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "gb18030"
    if data and not data.endswith(b"\n"):
        data += b"\r\n"
    with fsutil.atomic_path(manifest.path) as tmp:
        tmp.write_bytes(data + new.encode(encoding))
        tmp.chmod(FILE_MODE)
