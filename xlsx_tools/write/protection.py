"""Protection of a template: the sheet and workbook password (checked, generated, hashed) and the
options every locked sheet gets."""

from __future__ import annotations

import math
import secrets


class TemplateError(ValueError):
    """Bad arguments for a template (the message is Chinese and user-facing)."""


# Excel's legacy sheet password is at most 255 characters
PASSWORD_MAX = 255
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a manifest


def generate_password(nbytes: int = 6) -> str:
    """A random protection password with at least `nbytes` bytes of entropy, without look-alike
    characters (it is read off a manifest and typed by hand)."""
    length = max(4, math.ceil(nbytes * 8 / math.log2(len(_PASSWORD_ALPHABET))))
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def check_password(password: str | None) -> str:
    """The password, or TemplateError: not empty, printable ASCII (Excel's legacy sheet-password
    hash of other characters depends on the code page, so the office could not unlock the sheet
    in every program), at most 255 characters."""
    if not password:
        raise TemplateError("保护密码不能为空：请用 --password 指定，或不指定以自动生成。")
    if any(not (32 < ord(c) < 127) for c in password):
        raise TemplateError("保护密码只能由英文字母、数字和英文标点组成（不含空格和中文），以便在 Excel、WPS 和 LibreOffice 中都能解除保护。")
    if len(password) > PASSWORD_MAX:
        raise TemplateError(f"保护密码过长（{len(password)} 个字符），Excel 最多允许 {PASSWORD_MAX} 个字符。")
    return password


def password_hash(password: str) -> str:
    """Excel's legacy 16-bit password hash (the same xlsxwriter uses for sheets)."""
    h = 0
    for i, ch in enumerate(password):
        value = ord(ch) << (i + 1)
        h ^= ((value >> 15) | value) & 0x7FFF
    h ^= len(password)
    h ^= 0xCE4B
    return f"{h:X}"


PROTECT_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_columns": True,  # widening a column or row to read a long text is harmless
    "format_rows": True,
}
