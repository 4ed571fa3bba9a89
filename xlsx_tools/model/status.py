"""The status of a file or an agency in a collection season: a stable code for scripts and
collect.json ("ok", "error" …) and the Chinese label people read (合格, 有错误 …)."""

from __future__ import annotations

from enum import Enum


class Status(Enum):
    """Each member is (code, label). Compare members, never labels; show `label`."""

    OK = ("ok", "合格")
    WARN = ("warning", "有警告")
    ERR = ("error", "有错误")
    MISSING = ("missing", "未提交")
    DUPLICATE = ("duplicate", "重复提交")
    UNREADABLE = ("unreadable", "无法读取")
    FOREIGN = ("foreign", "非本次模板")
    ARCHIVE = ("archive", "压缩包")
    SYSTEM = ("system", "系统文件")  # Thumbs.db, ~$ lock files, __MACOSX/…: listed, never read nor attributed
    INTERNAL = ("internal", "内部错误")  # a bug of ours stopped this file's check: sent to maintainers

    def __init__(self, code: str, label: str):
        self.code = code
        self.label = label

    @classmethod
    def from_code(cls, code: str) -> Status:
        for s in cls:
            if s.code == code:
                return s
        raise ValueError(f"unknown status code {code!r}")


AGENCY_STATUSES = (Status.OK, Status.WARN, Status.ERR, Status.MISSING)
FILE_STATUSES = (Status.OK, Status.WARN, Status.ERR, Status.DUPLICATE, Status.UNREADABLE, Status.INTERNAL,
                 Status.FOREIGN, Status.ARCHIVE, Status.SYSTEM)
ACCEPTED = (Status.OK, Status.WARN)  # an agency whose file is used (summed, given a Word report)

__all__ = ["ACCEPTED", "AGENCY_STATUSES", "FILE_STATUSES", "Status"]
