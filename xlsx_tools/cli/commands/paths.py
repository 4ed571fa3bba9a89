"""Checks of the paths a command is given, with the Chinese usage errors (exit 2) they deserve:
a folder where a file is expected says so, rather than "not found"."""

from __future__ import annotations

from pathlib import Path

from ...util.fsutil import regular_file_problem
from ..console import fail


def require_file(path: Path, noun: str, example: str) -> Path:
    """`path` if it is an existing file; else a usage error naming `noun` (e.g. "名单文件")."""
    if path.is_dir():
        fail(f"「{path}」是文件夹，不是{noun}。请指定{noun}，例如 {example}。")
    if not path.exists():
        fail(f"找不到{noun}「{path}」。请检查文件名和路径。")
    problem = regular_file_problem(path)
    if problem is not None:  # a FIFO or a device: reading it could wait forever
        fail(f"「{path}」{problem}，无法读取。请指定保存在磁盘上的{noun}。")
    return path


def require_not_folder(path: Path, what: str, example: str) -> Path:
    """An output file that must not be an existing folder."""
    if path.is_dir():
        fail(f"「{path}」是文件夹，这里需要的是{what}，例如 {path / example}。")
    return path
