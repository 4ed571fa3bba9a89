"""Outputs are written under a temporary name and moved into place."""

from __future__ import annotations

import os
import stat

import pytest

from xlsx_tools.fsutil import atomic_path, atomic_write_text, safe_filename, sha256_file


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    target = atomic_write_text(tmp_path / "a" / "out.json", "内容")
    assert target.read_text(encoding="utf-8") == "内容"
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode == 0o666 & ~_current_umask()  # not mkstemp's 0600


def _current_umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_safe_filename_and_hash(tmp_path):
    assert safe_filename('沙坡头区/教育局:"一"') == "沙坡头区_教育局__一_"
    assert safe_filename("  ..  ") == "未命名"
    p = tmp_path / "x"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_long_names_are_cut_to_what_file_systems_accept():
    name = "某某省某某市某某区" * 12  # 108 Chinese characters, 324 bytes
    cut = safe_filename(name)
    assert len(cut.encode("utf-8")) <= 180 and name.startswith(cut) and len(cut) == 60


def test_os_errors_read_in_chinese():
    import errno

    from xlsx_tools.fsutil import os_error_text

    assert os_error_text(PermissionError(errno.EACCES, "Permission denied")).startswith("没有权限")
    assert os_error_text(OSError(errno.ENOSPC, "No space left on device")) == "磁盘空间不足"
    assert os_error_text(OSError(errno.EXDEV, "Invalid cross-device link")) == "Invalid cross-device link"
