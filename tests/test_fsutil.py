"""Outputs are written under a temporary name and moved into place."""

from __future__ import annotations

import os
import stat

import pytest

from xlsx_tools.read.roster import RosterRow
from xlsx_tools.util.fsutil import atomic_path, atomic_write_text, safe_filename, sha256_file


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

    from xlsx_tools.util.fsutil import os_error_text

    assert os_error_text(PermissionError(errno.EACCES, "Permission denied")).startswith("没有权限")
    assert os_error_text(OSError(errno.ENOSPC, "No space left on device")) == "磁盘空间不足"
    assert os_error_text(OSError(errno.EXDEV, "Invalid cross-device link")) == "Invalid cross-device link"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("CON", "CON_"),
        ("con", "con_"),
        ("Nul", "Nul_"),
        ("AUX.局", "AUX_.局"),
        ("aux .局", "aux_.局"),
        ("COM1", "COM1_"),
        ("lpt9.txt", "lpt9_.txt"),
        ("COM¹", "COM¹_"),
        ("  PRN . ", "PRN_"),
        ("COM10", "COM10"),  # not a device
        ("CONSOLE", "CONSOLE"),
        ("教育局. . ", "教育局"),
        ("a<b>c|d?e*f\\g", "a_b_c_d_e_f_g"),
        ("局\x01名\x7f\t", "局_名__"),
    ],
)
def test_safe_filename_is_a_valid_windows_name(name, safe):
    assert safe_filename(name) == safe
    assert safe_filename(safe) == safe  # idempotent


def test_safe_filename_never_yields_a_device_or_illegal_name():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from xlsx_tools.util.fsutil import is_windows_device_name

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("CONPRAUXLTM123¹. 局<>:\"/\\|?*\x00\x1f")), max_size=12))
    def check(name):
        out = safe_filename(name)
        assert out and not is_windows_device_name(out)
        assert not any(c in '<>:"/\\|?*' or ord(c) < 32 for c in out)
        assert not out.endswith((".", " ")) and len(out.encode("utf-8")) <= 180

    check()


def test_filename_key_finds_names_windows_would_merge():
    from xlsx_tools.util.fsutil import filename_key

    assert filename_key("ABC局") == filename_key("abc局") == filename_key("ＡＢＣ局")
    assert filename_key("甲局") != filename_key("乙局")


def test_files_named_after_agencies_use_the_safe_name(tmp_path):
    from typer.testing import CliRunner

    from xlsx_tools.cli.app import app
    from xlsx_tools.write.template import batch_filenames, template_stem

    assert template_stem("AUX.局") == "AUX_.局" and template_stem("con") == "con_"
    assert batch_filenames([RosterRow("NUL"), RosterRow("nul"), RosterRow("局<1>")]) == ["NUL_.xlsx", "nul_-2.xlsx", "局_1_.xlsx"]
    res = CliRunner().invoke(app, ["template", "--agency", "COM1", "--year", "2025", "-o", f"{tmp_path}/"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in tmp_path.iterdir()] == ["COM1_.xlsx"]


def test_printable_file_names_can_be_written_as_utf8(tmp_path):
    """A file name with bytes that are not UTF-8 (a Windows share mounted without iocharset, a zip
    made on a GBK system) reaches the Report as "?" instead of surrogates that no output can encode."""
    import os

    from tests import reader_fixtures as fx
    from xlsx_tools.read.reader import read_and_check
    from xlsx_tools.util.fsutil import printable

    assert printable("a\udcff\udcfe\n\u202eb.xlsx") == "a????b.xlsx"
    path = fx.write_filled(tmp_path / os.fsdecode(b"\xff\xfe(.xlsx"))
    report = read_and_check(path).report
    assert report.provenance.source.endswith("??(.xlsx")
    report.to_json().encode("utf-8")  # export wrote this and died with UnicodeEncodeError


def test_unique_name_numbers_names_that_are_one_file_on_windows():
    from xlsx_tools.util.fsutil import filename_key, unique_name

    used: set[str] = set()
    names = [unique_name(f"{s}.docx", lambda n, s=s: f"{s}（{n}）.docx", used) for s in ("ABC局", "abc局", "ＡＢＣ局", "其他局")]
    assert names == ["ABC局.docx", "abc局（2）.docx", "ＡＢＣ局（3）.docx", "其他局.docx"]
    assert used == {filename_key(n) for n in names}
    assert unique_name("x.json", lambda n: f"x（{n}）.json", {filename_key("x.json"), filename_key("x（3）.json")}, start=3) == "x（4）.json"


def test_template_batch_names_width_only_twins_apart():
    from xlsx_tools.read.roster import RosterRow
    from xlsx_tools.write.template import batch_filenames

    rows = [RosterRow(agency=a, code="", contact={}) for a in ("ABC局", "ＡＢＣ局", "abc局")]
    assert batch_filenames(rows) == ["ABC局.xlsx", "ＡＢＣ局-2.xlsx", "abc局-3.xlsx"]
