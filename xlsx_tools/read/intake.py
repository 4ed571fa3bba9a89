"""Safe intake of a returned file, before any XML is parsed: a size cap, file-type sniffing (.xls,
.et, .xlsm, .csv, .docx, PDF, empty, truncated, encrypted ...) and a pre-scan of the zip container
(entry count, uncompressed sizes, compression ratio, encrypted entries, path tricks).

`open_source()` either hands the reader a checked `zipfile.ZipFile` or says, as a Finding, what the
file is and what the agency should do instead. XML parts are then read through `parse_part()`
(ooxml's parser: no document type, so no entities and no external references; bounded work), so
no part of a hostile file is trusted.

Rejection codes (all errors): TOO_LARGE, NOT_XLSX (`values["detected"]` says what the file is:
empty, truncated, xls, et, doc, ole, encrypted?, xlsm, xlsb, docx, pptx, ods, odf, zip, pdf,
html, xml2003, csv, text, image, rar, 7z, gzip, unknown), ZIP_BOMB, ENCRYPTED, UNSAFE_FILE
(`values["reason"]`: path, xml_entities), UNREADABLE (`values["reason"]`: io, xml, zip).
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ..model.findings import ERROR, Finding
from ..util.fsutil import FileTooLarge, NotRegularFile, os_error_text, read_regular
from .ooxml import TooMuchWork, UnsafeXml
from .safezip import Budget, MemberTooLarge, read_member, unsafe_path

MiB = 1 << 20

# What to tell the agency, per detected kind: (what it is, what to do). Shown as "「X」是…。…".
SAVE_AS_XLSX = "请用 Excel 或 WPS 打开后“另存为” Excel 工作簿（*.xlsx）格式，再重新提交。"
USE_TEMPLATE = "请在政务公开办下发的 .xlsx 模板中填写后提交。"
RESAVE = "请用 Excel 或 WPS 重新打开原文件并保存后再提交；如打不开，请用下发的模板重新填写。"

_KINDS: dict[str, tuple[str, str]] = {
    "empty": ("一个空文件（0 字节），可能保存或上传时出错", RESAVE),
    "truncated": ("一个不完整的 Excel 文件（压缩包已损坏或被截断，可能是下载、复制或上传时中断）", RESAVE),
    "xls": ("Excel 97-2003 工作簿（.xls）格式，不是模板的 .xlsx 格式", SAVE_AS_XLSX),
    "et": ("WPS 表格（.et）格式，不是模板的 .xlsx 格式", SAVE_AS_XLSX),
    "doc": ("Word 97-2003 文档（.doc），不是 Excel 工作簿", USE_TEMPLATE),
    "ole": ("旧版 Office（97-2003）格式的文件，不是 .xlsx 工作簿", SAVE_AS_XLSX),
    "xlsm": ("启用宏的工作簿（.xlsm）；为安全起见，不接收含宏的文件", SAVE_AS_XLSX),
    "xlsb": ("Excel 二进制工作簿（.xlsb）格式，不是模板的 .xlsx 格式", SAVE_AS_XLSX),
    "docx": ("Word 文档（.docx），不是 Excel 工作簿", USE_TEMPLATE),
    "pptx": ("PowerPoint 演示文稿（.pptx），不是 Excel 工作簿", USE_TEMPLATE),
    "ods": ("OpenDocument 电子表格（.ods）格式，不是模板的 .xlsx 格式",
            "请用 LibreOffice、WPS 或 Excel 打开后“另存为” Excel 工作簿（*.xlsx）格式，再重新提交。"),
    "odf": ("OpenDocument 文档（如 .odt），不是 Excel 工作簿", USE_TEMPLATE),
    "zip": ("一个压缩包，不是 Excel 工作簿", "请解压后提交其中填好的 .xlsx 模板。"),
    "pdf": ("PDF 文件，无法读取其中的数字", "请提交填好的 .xlsx 模板本身，不要转换为 PDF 或扫描件。"),
    "html": ("网页（HTML）格式的表格（有些系统导出的“.xls”其实是网页）", SAVE_AS_XLSX),
    "xml2003": ("Excel 2003 XML 表格格式，不是模板的 .xlsx 格式", SAVE_AS_XLSX),
    "csv": ("纯文本（CSV）表格，不含模板的格式、公式和标识", USE_TEMPLATE),
    "text": ("纯文本文件，不是 Excel 工作簿", USE_TEMPLATE),
    "image": ("图片，无法读取其中的数字", "请提交填好的 .xlsx 模板本身，不要截图或拍照。"),
    "rar": ("RAR 压缩包，不是 Excel 工作簿", "请解压后提交其中填好的 .xlsx 模板。"),
    "7z": ("7z 压缩包，不是 Excel 工作簿", "请解压后提交其中填好的 .xlsx 模板。"),
    "gzip": ("gzip 压缩文件，不是 Excel 工作簿", "请解压后提交其中填好的 .xlsx 模板。"),
    "unknown": ("无法识别的文件格式，不是 Excel 工作簿（.xlsx）", USE_TEMPLATE),
}


@dataclass(frozen=True)
class Limits:
    """Caps applied before anything is decompressed. A filled template is about 30 KB; the caps
    leave room for workbooks with pictures or big style tables while refusing zip bombs."""

    max_file_bytes: int = 20 * MiB
    max_entries: int = 1000
    max_entry_bytes: int = 64 * MiB  # uncompressed size of one part
    max_total_bytes: int = 256 * MiB  # uncompressed size of all parts together
    # Deflate reaches ~1000:1 on a run of one byte; real XML (a big styles.xml, repetitive sheet
    # XML) stays well under 100:1. The ratio guard applies only to parts bigger than ratio_floor,
    # where a bomb would hurt.
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * MiB


DEFAULT_LIMITS = Limits()


@dataclass
class Intake:
    """A source after intake: either `zip` is a checked container, or `finding` says why not."""

    name: str
    sha256: str
    size: int
    detected: str  # "xlsx" or one of the NOT_XLSX kinds
    zip: zipfile.ZipFile | None = None
    finding: Finding | None = None
    parts: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # part name -> entry
    limits: Limits = DEFAULT_LIMITS
    budget: Budget | None = None  # bytes all parts may still produce together

    @property
    def ok(self) -> bool:
        return self.zip is not None and self.finding is None

    def has(self, part: str) -> bool:
        return part in self.parts

    def read(self, part: str) -> bytes:
        """The bytes of a part, decompressed under a cap on the bytes actually produced (per part
        and for all parts together), whatever the headers declare: MemberTooLarge beyond it."""
        assert self.zip is not None
        if self.budget is None:
            self.budget = Budget(self.limits.max_total_bytes)
        return read_member(self.zip, self.parts[part], self.limits.max_entry_bytes, self.budget)


class IntakeError(Exception):
    """Raised while reading parts of an accepted container; carries the finding to report."""

    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


def _finding(code: str, name: str, message: str, **values: Any) -> Finding:
    return Finding(code=code, severity=ERROR, message=f"「{name}」{message}", values=values)


def not_xlsx(name: str, kind: str) -> Finding:
    what, todo = _KINDS.get(kind, _KINDS["unknown"])
    space = " " if what[:1].isascii() else ""  # "是 PDF 文件", "是一个空文件"
    return _finding("NOT_XLSX", name, f"是{space}{what}。{todo}", detected=kind)


def unreadable(name: str, why: str, reason: str) -> Finding:
    return _finding("UNREADABLE", name, f"无法读取：{why}。{RESAVE}", reason=reason)


def unsafe(name: str, why: str, reason: str) -> Finding:
    return _finding("UNSAFE_FILE", name, f"含有不安全的内容（{why}），已拒绝读取。{USE_TEMPLATE}", reason=reason)


# ---------------------------------------------------------------------------------------------
# Entry point


def open_source(source: str | Path | bytes, name: str | None = None, *, limits: Limits = DEFAULT_LIMITS) -> Intake:
    """Read `source` (a path or the bytes of a file) and decide whether it is a workbook we may
    parse. Never raises on bad content; the input is only read."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        display = name or "（内存中的文件）"
    else:
        path = Path(source)
        display = name or str(path)
        try:
            data = read_regular(path, limits.max_file_bytes)
        except FileTooLarge as e:
            return Intake(display, "", e.size, "too_large", finding=_too_large(display, e.size, limits))
        except NotRegularFile as e:
            return Intake(display, "", 0, "not_regular", finding=_finding(
                "UNREADABLE", display, f"{e.strerror}，未读取。请指定保存在磁盘上的 .xlsx 文件。", reason="not_regular"))
        except OSError as e:
            return Intake(display, "", 0, "unreadable", finding=unreadable(display, f"打开文件失败（{os_error_text(e)}）", "io"))
    sha = hashlib.sha256(data).hexdigest()
    size = len(data)
    if size > limits.max_file_bytes:
        return Intake(display, sha, size, "too_large", finding=_too_large(display, size, limits))
    kind = sniff(data, display)
    if kind != "zip-container":
        return Intake(display, sha, size, kind, finding=_refusal(display, kind))
    return _open_zip(data, display, sha, limits)


def _too_large(name: str, size: int, limits: Limits) -> Finding:
    return _finding(
        "TOO_LARGE", name,
        f"过大（{size / MiB:.1f} MB，上限 {limits.max_file_bytes / MiB:.0f} MB），不像是填好的年报模板。"
        "请删除表中插入的图片等内容后重新保存，或使用下发的模板重新填写。",
        size=size, limit=limits.max_file_bytes,
    )


def _refusal(name: str, kind: str) -> Finding:
    if kind == "encrypted":
        return _finding(
            "ENCRYPTED", name,
            "设置了打开密码（文件已加密），无法读取。请在 Excel 中“文件 → 信息 → 保护工作簿 → 用密码进行加密”"
            "（WPS：“文件 → 文档加密”）清除打开密码，保存后重新提交。", detected=kind,
        )
    return not_xlsx(name, kind)


# ---------------------------------------------------------------------------------------------
# Sniffing by content (the file name is only a hint, for .et vs .xls)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def sniff(data: bytes, name: str = "") -> str:
    """What a file is, from its first bytes: "zip-container" (look inside), "encrypted", or a
    NOT_XLSX kind."""
    if not data:
        return "empty"
    head = data[:8]
    if head[:2] == b"PK":
        return "zip-container" if head[2:4] in (b"\x03\x04", b"\x05\x06", b"\x07\x08") else "truncated"
    if head == _OLE_MAGIC:
        return _sniff_ole(data, name)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or data[8:12] == b"WEBP":
        return "image"
    return _sniff_text(data[:65536], name)


def _sniff_ole(data: bytes, name: str) -> str:
    """An OLE compound file: directory entry names are UTF-16 in the file, so a byte search finds
    the streams that tell an encrypted .xlsx ("EncryptedPackage") from an .xls ("Workbook")."""
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        return "encrypted"
    if _utf16("Workbook") in data or _utf16("Book") in data:
        return "et" if name.lower().endswith((".et", ".ett")) else "xls"
    if _utf16("WordDocument") in data:
        return "doc"
    return "et" if name.lower().endswith((".et", ".ett")) else "ole"


def _sniff_text(head: bytes, name: str) -> str:
    text = None
    for enc in ("utf-8-sig", "utf-16", "gb18030"):
        if enc == "utf-16" and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            text = head.decode(enc)
            break
        except UnicodeDecodeError:
            # a multi-byte character cut at the end of the sample is fine
            try:
                text = head[:-3].decode(enc)
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        return "unknown"
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    if controls > len(text) // 100 + 1:
        return "unknown"
    low = text.lstrip().lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in low:
        return "xml2003"
    if low.startswith(("<!doctype html", "<html")) or "<table" in low[:4096] or "<html" in low[:4096]:
        return "html"
    lines = [ln for ln in text.splitlines() if ln.strip()][:20]
    if name.lower().endswith((".csv", ".tsv")) or (
        len(lines) >= 2 and all(("," in ln or "\t" in ln or "，" in ln) for ln in lines)
    ):
        return "csv"
    return "text"


# ---------------------------------------------------------------------------------------------
# The zip container


def _eocd_entries(data: bytes) -> int | None:
    """Number of entries the end-of-central-directory record declares (None if not found), read
    before zipfile builds its list, so a million-entry archive costs nothing."""
    tail = data[-(65535 + 22):]
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        return None
    (total,) = struct.unpack("<H", tail[pos + 10:pos + 12])
    return total


def _open_zip(data: bytes, name: str, sha: str, limits: Limits) -> Intake:
    def refuse(kind: str, finding: Finding) -> Intake:
        return Intake(name, sha, len(data), kind, finding=finding)

    declared = _eocd_entries(data)
    if declared is None:
        return refuse("truncated", not_xlsx(name, "truncated"))
    if declared > limits.max_entries and declared != 0xFFFF:
        return refuse("zip_bomb", _bomb(name, f"包含 {declared} 个部件", entries=declared))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error):
        return refuse("truncated", not_xlsx(name, "truncated"))
    if len(infos) > limits.max_entries:
        return refuse("zip_bomb", _bomb(name, f"包含 {len(infos)} 个部件", entries=len(infos)))
    total = 0
    parts: dict[str, zipfile.ZipInfo] = {}
    parts_folded: set[str] = set()  # part names of a package compare case-insensitively
    for info in infos:
        if unsafe_path(info.filename):
            return refuse("unsafe", unsafe(name, f"压缩包内的路径“{info.filename[:80]}”指向文件夹之外", "path"))
        if info.flag_bits & 0x1:
            return refuse("encrypted", _finding(
                "ENCRYPTED", name, "中的内容被加密（压缩包密码），无法读取。请提交未加密的 .xlsx 文件。",
                detected="zip-encrypted",
            ))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return refuse("truncated", unreadable(name, f"使用了不支持的压缩方式（{info.compress_type}）", "zip"))
        if info.filename.casefold() in parts_folded:
            return refuse("unsafe", unsafe(
                name, f"压缩包内有两个同名的部件“{info.filename[:80]}”，可能被篡改过", "duplicate"))
        parts_folded.add(info.filename.casefold())
        size = info.file_size
        if size > limits.max_entry_bytes:
            return refuse("zip_bomb", _bomb(name, f"部件 {info.filename} 解压后达 {size / MiB:.0f} MB",
                                            entry=info.filename, size=size))
        ratio = size / max(1, info.compress_size)
        if size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            return refuse("zip_bomb", _bomb(name, f"部件 {info.filename} 的压缩比高达 {ratio:.0f}:1",
                                            entry=info.filename, ratio=round(ratio, 1)))
        total += size
        if total > limits.max_total_bytes:
            return refuse("zip_bomb", _bomb(name, f"解压后总大小超过 {limits.max_total_bytes / MiB:.0f} MB", size=total))
        parts[info.filename] = info
    budget = Budget(limits.max_total_bytes)
    try:
        kind = _classify_zip(zf, parts, budget)
    except MemberTooLarge as e:
        return refuse("zip_bomb", _produced_bomb(name, e))
    if kind != "xlsx":
        return refuse(kind, not_xlsx(name, kind))
    return Intake(name, sha, len(data), "xlsx", zip=zf, parts=parts, limits=limits, budget=budget)


def _bomb(name: str, why: str, **values: Any) -> Finding:
    return _finding("ZIP_BOMB", name, f"{why}，远超正常的年报工作簿（疑似“压缩炸弹”），已拒绝读取。{USE_TEMPLATE}", **values)


def _produced_bomb(name: str, e: MemberTooLarge) -> Finding:
    """A part (or all parts together) decompressed to more than the cap, whatever its header said."""
    if e.total:
        why = f"各部件解压后总大小超过 {e.limit / MiB:.0f} MB"
    else:
        why = f"部件 {e.name[:80]} 实际解压后超过 {e.limit / MiB:.0f} MB（文件头中声明的大小不实）"
    return _bomb(name, why, entry=e.name, limit=e.limit, produced=True)


_MACRO_MARKERS = (b"macroEnabled", b"vbaProject")


def _classify_zip(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo], budget: Budget) -> str:
    names = parts.keys()
    content_types = b""
    if "[Content_Types].xml" in parts and parts["[Content_Types].xml"].file_size < 4 * MiB:
        try:
            content_types = read_member(zf, parts["[Content_Types].xml"], 4 * MiB, budget)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return "truncated"
    if "mimetype" in parts:
        try:
            mimetype = read_member(zf, parts["mimetype"], 4096, budget)[:200]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return "truncated"
        return "ods" if b"opendocument.spreadsheet" in mimetype else "odf"
    if any(n.lower().endswith("vbaproject.bin") for n in names) or any(m in content_types for m in _MACRO_MARKERS):
        return "xlsm"
    if "xl/workbook.bin" in parts:
        return "xlsb"
    if "xl/workbook.xml" in parts:
        return "xlsx"
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    return "zip"


# ---------------------------------------------------------------------------------------------
# Parsing parts (ooxml: a document type declaration, where entities and external references
# would be defined, is refused before parsing; lxml never substitutes or fetches anything)


def parse_part(intake: Intake, part: str, handler: Callable[[bytes], Any]) -> Any:
    """Run `handler` (which parses XML with ooxml.events) on a part; turn every failure into an
    IntakeError carrying a Chinese finding."""
    try:
        data = intake.read(part)
    except KeyError:
        raise IntakeError(unreadable(intake.name, f"缺少部件 {part}", "zip")) from None
    except MemberTooLarge as e:
        raise IntakeError(_produced_bomb(intake.name, e)) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
        raise IntakeError(unreadable(intake.name, f"部件 {part} 已损坏（校验失败）", "zip")) from None
    try:
        return handler(data)
    except UnsafeXml:
        raise IntakeError(unsafe(intake.name, f"部件 {part} 含有 XML 实体定义或外部引用", "xml_entities")) from None
    except etree.XMLSyntaxError as e:
        raise IntakeError(unreadable(intake.name, f"部件 {part} 的 XML 已损坏（{e.msg}）", "xml")) from None
    except TooMuchWork as e:
        why = f"部件 {part} 中的 XML 元素超过 {e.limit} 个" if e.reason == "elements" else e.why
        raise IntakeError(_finding(
            "TOO_LARGE", intake.name,
            f"{why}，远超正常的年报工作簿（可能被填充了大量内容），已停止读取。{USE_TEMPLATE}",
            reason=e.reason, part=part, limit=e.limit)) from None
