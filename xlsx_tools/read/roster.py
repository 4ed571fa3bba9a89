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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..format.spec import FormatSpec, load_format
from ..model.identity import agency_key
from ..model.matching import name_data, split_aliases
from ..util import fsutil
from ..util.fsutil import os_error_text

ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK and GB2312
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Excel "Unicode 文本 (*.txt)"
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # .xlsx/.et (zip), .xls (OLE)
HEADER_SEARCH_ROWS = 10  # the column names may sit below a title and a few lines of notes


class RosterError(ValueError):
    """A roster that cannot be used; the message is Chinese and names the file and lines."""


@dataclass(frozen=True, slots=True)  # slots: a national roster has 150,000 of them
class RosterRow:
    """One agency of a roster: its name, code and any 基本信息 values (by info field key)."""

    agency: str
    code: str = ""
    contact: Mapping[str, str] = field(default_factory=dict)
    line: int = 0  # line of the roster file, for messages
    # every other column of the roster, by its name as written (简称/别名, 填报截止日期, 序号, ...)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def aliases(self) -> list[str]:
        """The agency's own short names: a 简称/别名 column, several separated by 、 ; or ；."""
        return [a for col in name_data().alias_columns for a in split_aliases(self.extra.get(col, ""))]


class Roster(list[RosterRow]):
    """The agencies of a roster, in file order, with notes for the user (not errors): e.g. the
    title lines skipped above the column names."""

    def __init__(self, rows: Iterable[RosterRow] = ()):
        super().__init__(rows)
        self.notes: list[str] = []
        self.columns: list[str] = []  # the column names as written, in order


_RESAVE = "请在 Excel 或 WPS 中打开后另存为“CSV UTF-8（逗号分隔）”，再重试。"
_ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GBK"}


def decode(data: bytes, name: str) -> str:
    """The text of a roster in one encoding: UTF-8 (with or without BOM), GBK/GB18030 or UTF-16
    with BOM. A file whose lines are in different encodings (a GBK header pasted above UTF-8
    rows) is an error naming the first line that differs, never mojibake."""
    if data.startswith(WORKBOOK_MAGIC):
        raise RosterError(f"名单文件 {name} 是 Excel 或 WPS 工作簿，不是 CSV：请打开后“另存为”“CSV UTF-8（逗号分隔）”后重试。")
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterError(f"名单文件 {name} 的编码无法识别（UTF-16 内容不完整）。{_RESAVE}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    first: tuple[int, str] | None = None  # (line, encoding) of the first line that is not ASCII
    for number, line in enumerate(data.removeprefix(codecs.BOM_UTF8).split(b"\n"), start=1):
        if line.isascii():
            continue
        encoding = _line_encoding(line)
        if encoding is None:
            raise RosterError(f"名单文件 {name} 第 {number} 行的编码无法识别（既不是 UTF-8，也不是 GBK）。{_RESAVE}")
        if first is None:
            first = (number, encoding)
        elif encoding != first[1]:
            was, now = _ENCODING_NAMES[first[1]], _ENCODING_NAMES[encoding]
            raise RosterError(f"名单文件 {name} 的编码前后不一致：第 {first[0]} 行是 {was} 编码，第 {number} 行却是 {now} 编码"
                              f"（可能是从不同文件复制拼接的）。{_RESAVE}")
    return data.decode("gb18030")


def _line_encoding(line: bytes) -> str | None:
    for encoding in ("utf-8", "gb18030"):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


# A text cell that a spreadsheet would run as a formula or command when the CSV is opened (OWASP
# "CSV injection"): it is written after a single quote, which Excel shows as text and does not
# print. Text that already starts with quotes before such a character gets one more, so reading
# back (csv_text) gives exactly what was written.
_LIVE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")


def csv_cell(text: str) -> str:
    """`text` as a CSV cell no spreadsheet takes for a formula (`=HYPERLINK(…)` → `'=HYPERLINK(…)`)."""
    return "'" + text if _LIVE.match(text) else text


def csv_text(cell: str) -> str:
    """The text that csv_cell wrote: undoes its quote."""
    return cell[1:] if _QUOTED.match(cell) else cell


def csv_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    """Rows as a CSV file for Excel (UTF-8 with BOM, CRLF), every text cell through csv_cell."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        w.writerow([csv_cell(v) if isinstance(v, str) else v for v in row])
    return buf.getvalue().encode("utf-8-sig")


MAX_ROSTER_BYTES = 64 << 20  # a roster of every agency of a province is well under 1 MB


def read_roster(path: str | Path, spec: FormatSpec | None = None) -> Roster:
    """Rows of a roster CSV; RosterError with a Chinese message for anything unusable."""
    path = Path(path)
    return parse_roster(roster_text(path), path.name, spec)


def roster_text(path: str | Path) -> str:
    """The text of a roster file, decoded (RosterError as read_roster)."""
    path = Path(path)
    try:
        data = fsutil.read_regular(path, MAX_ROSTER_BYTES)  # a FIFO is refused, never waited on
    except FileNotFoundError:
        raise RosterError(f"找不到名单文件 {path}。") from None
    except IsADirectoryError:
        raise RosterError(f"{path} 是文件夹，不是名单文件（CSV）。") from None
    except OSError as e:
        raise RosterError(f"无法读取名单文件 {path}：{os_error_text(e)}。") from None
    return decode(data, path.name)


class _Empty(dict):
    """The empty contact or extra columns of a roster row, one object shared by every row (a
    national roster has 150,000): read-only, and still a dict for json and pickle."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a roster row's columns are read-only")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]


_NOTHING: Mapping[str, str] = _Empty()


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
    others = {i: h for i, h in enumerate(header) if h and i not in columns and h not in header[:i]}
    rows = Roster()
    rows.columns = [h for i, h in enumerate(header) if i in columns or i in others]
    if skipped:
        rows.notes.append(f"名单文件 {name} 的列名在第 {skipped + 1} 行，已跳过上方 {skipped} 行（标题或说明）。")
    empty: list[int] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            values = {f.key: (csv_text(cells[i].strip()) if i < len(cells) else "") for i, f in columns.items()}
            agency = values.pop("agency", "")
            code = values.pop("code", "")
            if not agency:
                empty.append(line)
                continue
            extra = {h: csv_text(cells[i].strip()) for i, h in others.items() if i < len(cells) and cells[i].strip()}
            contact = {k: v for k, v in values.items() if v}
            rows.append(RosterRow(agency=agency, code=code, contact=contact or _NOTHING, line=line,
                                  extra=extra or _NOTHING))
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
    data = csv_bytes([[_label(spec, k) for k in keys]]
                     + [[r.agency, r.code] + [r.contact.get(k, "") for k in keys[2:]] for r in rows])
    with fsutil.atomic_path(path) as tmp:
        tmp.write_bytes(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it 0600
    return Path(path)
