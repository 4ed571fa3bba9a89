"""The roster of agencies a disclosure office sends templates to: a CSV file (UTF-8 with or without
BOM, GBK as Excel saves it on Chinese Windows, or UTF-16 tab-separated as Excel's "Unicode 文本"
saves it) whose column names are 基本信息 labels of the format (机关名称 required; 机关代码, 联系人,
联系电话, 电子邮箱, ... optional; other columns such as a running number are ignored). The row of
column names may sit below a title and a few lines of notes."""

from __future__ import annotations

import codecs
import csv
import io
import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import fsutil
from .fsutil import os_error_text
from .spec import FormatSpec, load_format

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK and GB2312
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Excel "Unicode 文本 (*.txt)"
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # .xlsx/.et (zip), .xls (OLE)
HEADER_SEARCH_ROWS = 10  # the column names may sit below a title and a few lines of notes


class RosterError(ValueError):
    """A roster that cannot be used; the message is Chinese and names the file and lines."""


@dataclass(frozen=True)
class RosterRow:
    """One agency of a roster: its name, code and any 基本信息 values (by info field key)."""

    agency: str
    code: str = ""
    contact: Mapping[str, str] = field(default_factory=dict)
    line: int = 0  # line of the roster file, for messages


class Roster(list[RosterRow]):
    """The agencies of a roster, in file order, with notes for the user (not errors): e.g. the
    title lines skipped above the column names."""

    def __init__(self, rows: Iterable[RosterRow] = ()):
        super().__init__(rows)
        self.notes: list[str] = []


def decode(data: bytes, name: str) -> str:
    if data.startswith(WORKBOOK_MAGIC):
        raise RosterError(f"名单文件 {name} 是 Excel 或 WPS 工作簿，不是 CSV：请打开后“另存为”“CSV UTF-8（逗号分隔）”后重试。")
    for encoding in ("utf-16",) if data.startswith(UTF16_BOMS) else ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"名单文件 {name} 的编码无法识别：请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”后重试。")


def read_roster(path: str | Path, spec: FormatSpec | None = None) -> Roster:
    """Rows of a roster CSV; RosterError with a Chinese message for anything unusable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RosterError(f"找不到名单文件 {path}。") from None
    except IsADirectoryError:
        raise RosterError(f"{path} 是文件夹，不是名单文件（CSV）。") from None
    except OSError as e:
        raise RosterError(f"无法读取名单文件 {path}：{os_error_text(e)}。") from None
    return parse_roster(decode(data, path.name), path.name, spec)


def parse_roster(text: str, name: str = "名单", spec: FormatSpec | None = None) -> Roster:
    spec = spec or load_format()
    if "\x00" in text:
        raise RosterError(f"名单文件 {name} 不是文本格式的 CSV（是否把 .xlsx 改了扩展名？请在 Excel 中另存为 CSV）。")
    agency_label = _label(spec, "agency")
    lines = text.splitlines()
    header_line = next((ln for ln in lines[:HEADER_SEARCH_ROWS] if agency_label in ln), lines[0] if lines else "")
    delimiter = "\t" if "\t" in header_line and "," not in header_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, skipped, first_row = _find_header(reader, agency_label, name)
    if header is None:
        if first_row is None:
            raise RosterError(f"名单文件 {name} 是空的：第一行应为列名，至少包含“{agency_label}”。")
        found = "、".join(f"“{h}”" for h in first_row if h) or "（无）"
        raise RosterError(f"名单文件 {name} 缺少“{agency_label}”列。找到的列：{found}。"
                          f"列名行应在前 {HEADER_SEARCH_ROWS} 行内（标题、说明之下），其中须有“{agency_label}”。")
    by_label = {f.label: f for f in spec.info_fields}
    columns = {i: by_label[h] for i, h in enumerate(header) if h in by_label and (not by_label[h].locked or by_label[h].key in ("agency", "code"))}
    rows = Roster()
    if skipped:
        rows.notes.append(f"名单文件 {name} 的列名在第 {skipped + 1} 行，已跳过上方 {skipped} 行（标题或说明）。")
    empty: list[int] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            values = {f.key: (cells[i].strip() if i < len(cells) else "") for i, f in columns.items()}
            agency = values.pop("agency", "")
            code = values.pop("code", "")
            if not agency:
                empty.append(line)
                continue
            rows.append(RosterRow(agency=agency, code=code, contact={k: v for k, v in values.items() if v}, line=line))
    except csv.Error as e:
        raise RosterError(f"名单文件 {name} 第 {reader.line_num} 行无法解析：{e}。") from None
    if empty:
        raise RosterError(f"名单文件 {name} 中以下行的“{agency_label}”为空：第 {_lines(empty)} 行。请补全或删除这些行。")
    if not rows:
        raise RosterError(f"名单文件 {name} 中没有机关：列名行之下应每行一个机关。")
    seen: dict[str, list[RosterRow]] = {}
    for r in rows:
        seen.setdefault(agency_key(r.agency), []).append(r)
    dups = [group for group in seen.values() if len(group) > 1]
    if dups:
        text = "；".join(_duplicate_text(group) for group in dups)
        raise RosterError(f"名单文件 {name} 中{agency_label}重复：{text}。每个机关只能出现一次。")
    return rows


def agency_key(name: str) -> str:
    """What two spellings of one agency have in common: full-width and half-width forms are the
    same (NFKC: （体育局） = (体育局), ＡＢ１ = AB1) and spaces do not count. Only for comparing;
    the name is written as the user typed it."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", name) if not ch.isspace())


def _duplicate_text(group: list[RosterRow]) -> str:
    if len({r.agency for r in group}) == 1:
        return f"“{group[0].agency}”（第 {_lines(r.line for r in group)} 行）"
    by_spelling: dict[str, list[int]] = {}
    for r in group:
        by_spelling.setdefault(r.agency, []).append(r.line)
    spellings = "、".join(f"“{a}”（第 {_lines(lines)} 行）" for a, lines in by_spelling.items())
    return f"{spellings}（仅全角半角或空格不同，视为同一机关）"


def _find_header(reader, agency_label: str, name: str) -> tuple[list[str] | None, int, list[str] | None]:
    """(header, lines above it, first non-empty row) among the first HEADER_SEARCH_ROWS lines:
    offices put a title or notes above the column names."""
    first_row: list[str] | None = None
    above = 0
    try:
        while reader.line_num < HEADER_SEARCH_ROWS:
            cells = [c.replace("\ufeff", "").strip() for c in next(reader)]
            if agency_label in cells:
                return cells, above, first_row
            if first_row is None and any(cells):
                first_row = cells
            above = reader.line_num
    except StopIteration:
        pass
    except csv.Error as e:
        raise RosterError(f"名单文件 {name} 第 {reader.line_num} 行无法解析：{e}。") from None
    return None, above, first_row


def _label(spec: FormatSpec, key: str) -> str:
    return next(f.label for f in spec.info_fields if f.key == key)


def _lines(lines: Iterable[int]) -> str:
    return "、".join(str(n) for n in lines)


def write_roster(path: str | Path, rows: Iterable[RosterRow | tuple[str, str]], spec: FormatSpec | None = None) -> Path:
    """Write a roster CSV (UTF-8 with BOM, so Excel shows the Chinese correctly)."""
    spec = spec or load_format()
    rows = [r if isinstance(r, RosterRow) else RosterRow(agency=r[0], code=r[1] if len(r) > 1 else "") for r in rows]
    keys = ["agency", "code"] + sorted({k for r in rows for k in r.contact}, key=[f.key for f in spec.info_fields].index)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_label(spec, k) for k in keys])
    for r in rows:
        w.writerow([r.agency, r.code] + [r.contact.get(k, "") for k in keys[2:]])
    with fsutil.atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue().encode("utf-8-sig"))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it 0600
    return Path(path)
