"""Tests of xlsx_tools.write.office against a real headless LibreOffice.

What a user sees in LibreOffice is what these tests check: a cell typed into a protected sheet,
a formula recalculated on load, a Chinese .docx turned into a PDF with serif CJK fonts. Where
LibreOffice or its Python bridge is missing the tests are skipped with the reason, except under
XLSX_TOOLS_REQUIRE_OFFICE=1 (set by .ci/run), where a missing office is a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import docx
import openpyxl
import pytest
import xlsxwriter
from docx.oxml.ns import qn

from xlsx_tools.write import office

UNO_SCRIPTS = Path(__file__).resolve().parent / "uno_scripts"  # run_uno's scripts and _bridge

SHEET = "表一"

# The fixture workbook, as a reader of the form would see it. Every row: label in A, figure
# in B, and whether the agency may type into B. B4 is a formula whose cached result is wrong
# on purpose: LibreOffice must recalculate it on load instead of trusting the file.
TITLE = "测试表（A1:C1 合并）"
ROWS = [
    # row  label       figure                 unlocked
    (2, "输入项", 1, True),
    (3, "锁定项", 2, False),
    (4, "合计", "=SUM(B2:B3)", False),
]
STALE_TOTAL = 999
INPUT_NAME = "t_input"


def _require(reason: str) -> None:
    if os.environ.get("XLSX_TOOLS_REQUIRE_OFFICE") == "1":
        pytest.fail(f"{reason}（XLSX_TOOLS_REQUIRE_OFFICE=1，不允许跳过）")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def soffice() -> str:
    path = office.find_soffice()
    if path is None:
        _require(
            "LibreOffice (soffice) 未安装：apt-get install libreoffice-writer libreoffice-calc"
        )
    return path


@pytest.fixture(scope="session")
def uno_python(soffice: str) -> str:
    python = office.find_uno_python()
    if python is None:
        _require(
            "LibreOffice (soffice) 未安装：缺少可 import uno 的 Python，apt-get install python3-uno"
        )
    return python


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        _require(f"{name} 未安装：apt-get install poppler-utils fontconfig")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A protected one-sheet template: merged title, one input cell, one locked, one total."""
    path = tmp_path_factory.mktemp("wb") / "模板.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    unlocked = wb.add_format({"locked": False})
    ws.merge_range("A1:C1", TITLE)
    for row, label, figure, is_input in ROWS:
        ws.write(f"A{row}", label)
        if isinstance(figure, str):
            ws.write_formula(f"B{row}", figure, None, STALE_TOTAL)
        else:
            ws.write_number(f"B{row}", figure, unlocked if is_input else None)
    ws.data_validation(
        "B2",
        {
            "validate": "integer",
            "criteria": ">=",
            "value": 0,
            "error_title": "输入有误",
            "error_message": "请输入非负整数",
        },
    )
    ws.protect()
    wb.define_name(INPUT_NAME, f"='{SHEET}'!$B$2")
    wb.close()
    return path


def _fill(workbook: Path, tmp_path: Path, actions: list[dict]) -> tuple[dict, Path]:
    """Run fill_xlsx on a copy of the fixture; return its report and the saved workbook."""
    actions_file = tmp_path / "actions.json"
    actions_file.write_text(json.dumps(actions, ensure_ascii=False), encoding="utf-8")
    out, report = tmp_path / "filled.xlsx", tmp_path / "report.json"
    before = _sha256(workbook)
    office.run_uno(
        "fill_xlsx", workbook, out, actions_file, "--report", report, timeout=90, check=True, scripts_dir=UNO_SCRIPTS
    )
    assert _sha256(workbook) == before, "the input workbook must not be modified"
    return json.loads(report.read_text(encoding="utf-8")), out


def _cells(report: dict) -> dict[str, dict]:
    return {c["cell"]: c for c in report["cells"]}


# --------------------------------------------------------------------- no LibreOffice needed


def test_make_profile_recalculates_on_load(tmp_path: Path) -> None:
    def settings(profile: Path) -> dict[str, str]:
        root = ET.parse(profile / "user" / "registrymodifications.xcu").getroot()
        ns = "{http://openoffice.org/2001/registry}"
        return {
            f"{item.get(ns + 'path')}/{prop.get(ns + 'name')}": prop.findtext("value")
            for item in root
            for prop in item
        }

    profile = office.make_profile(tmp_path / "p")
    assert profile == tmp_path / "p"
    got = settings(profile)
    assert got["/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode"] == "0"
    assert got["/org.openoffice.Office.Calc/Formula/Load/ODFRecalcMode"] == "0"
    assert got["/org.openoffice.Office.Recovery/AutoSave/Enabled"] == "false"
    assert got["/org.openoffice.Office.Common/Misc/UseLocking"] == "false"

    never = settings(office.make_profile(tmp_path / "q", recalc_on_load=False))
    assert never["/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode"] == "1"


def test_missing_soffice_is_reported_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(office.ENV_SOFFICE, str(tmp_path / "no-such-soffice"))
    assert office.find_soffice() is None
    src = tmp_path / "a.docx"
    src.write_bytes(b"x")
    with pytest.raises(office.OfficeUnavailable, match="未找到 LibreOffice（soffice）") as err:
        office.convert(src, "pdf", tmp_path)
    assert "apt-get install libreoffice-writer libreoffice-calc" in str(err.value)
    assert isinstance(err.value, RuntimeError)
    with pytest.raises(office.OfficeUnavailable, match="未找到 LibreOffice"):
        office.run_uno("fill_xlsx", scripts_dir=UNO_SCRIPTS)


def test_convert_rejects_missing_source(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="找不到要转换的文件"):
        office.convert(tmp_path / "nope.docx", "pdf", tmp_path)


def test_convert_never_overwrites_its_source(tmp_path: Path) -> None:
    src = tmp_path / "回收.xlsx"
    src.write_bytes(b"original")
    with pytest.raises(ValueError, match="转换结果会覆盖原文件"):
        office.convert(src, "xlsx:Calc MS Excel 2007 XML", tmp_path)
    assert src.read_bytes() == b"original"


def test_missing_uno_python_is_reported_in_chinese(
    soffice: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(office.ENV_UNO_PYTHON, str(tmp_path / "no-such-python"))
    assert office.find_uno_python() is None
    with pytest.raises(office.OfficeUnavailable, match="apt-get install python3-uno"):
        office.run_uno("inspect_xlsx", scripts_dir=UNO_SCRIPTS)


@pytest.mark.parametrize(
    ("official", "acceptable"),
    [
        ("仿宋_GB2312", {"FandolFang", "Noto Serif CJK SC", "AR PL UMing CN"}),
        ("方正小标宋简体", {"FandolSong", "Noto Serif CJK SC", "AR PL UMing CN"}),
        ("楷体_GB2312", {"FandolKai", "AR PL UKai CN", "Noto Serif CJK SC"}),
        ("黑体", {"FandolHei", "Noto Sans CJK SC"}),
    ],
)
def test_fonts_conf_maps_official_fonts_to_free_ones(official: str, acceptable: set[str]) -> None:
    fc_match = _tool("fc-match")
    installed = subprocess.run(
        [_tool("fc-list"), ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    if not any(name in installed for name in acceptable):
        pytest.skip(f"本机没有 {official} 的任何替代字体：apt-get install fonts-noto-cjk")
    assert office.FONTCONFIG_FILE.is_file()
    done = subprocess.run(
        [fc_match, "--format=%{family[0]}", official],
        env={**os.environ, "FONTCONFIG_FILE": str(office.FONTCONFIG_FILE)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "error" not in done.stderr.lower(), done.stderr
    assert done.stdout in acceptable


# --------------------------------------------------------------------- headless soffice


@pytest.mark.libreoffice
def test_convert_docx_to_pdf_keeps_chinese_text_and_serif_fonts(
    soffice: str, tmp_path: Path
) -> None:
    src_dir = tmp_path / "来源"
    src_dir.mkdir()
    src = src_dir / "年度报告.docx"
    document = docx.Document()
    for text, font in [
        ("2024年政府信息公开工作年度报告", "方正小标宋简体"),
        ("一、总体情况", "黑体"),
        ("本机关认真贯彻落实政府信息公开条例。", "仿宋_GB2312"),
    ]:
        run = document.add_paragraph().add_run(text)
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    document.save(str(src))
    before = _sha256(src)

    pdf = office.convert(src, "pdf", tmp_path / "输出")

    assert pdf == tmp_path / "输出" / "年度报告.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        [_tool("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "政府信息公开工作年度报告" in text
    assert "本机关认真贯彻落实政府信息公开条例。" in text
    # The source is untouched and no lock file or temporary appeared beside it.
    assert _sha256(src) == before
    assert sorted(p.name for p in src_dir.iterdir()) == ["年度报告.docx"]
    assert sorted(p.name for p in pdf.parent.iterdir()) == ["年度报告.pdf"]

    # With fonts.conf, 仿宋_GB2312 becomes a serif CJK font rather than the sans fallback.
    installed = subprocess.run(
        [_tool("fc-list"), ":", "family"], capture_output=True, text=True, check=True
    ).stdout
    if "Noto Serif CJK SC" not in installed and "Fandol" not in installed:
        pytest.skip("未安装 Noto Serif CJK / Fandol 字体，跳过字体检查")
    fonts = subprocess.run(
        [_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert any(name in fonts for name in ("NotoSerifCJK", "FandolFang", "FandolSong")), fonts


@pytest.mark.libreoffice
def test_convert_reports_failure_in_chinese(soffice: str, tmp_path: Path) -> None:
    src = tmp_path / "a.docx"
    docx.Document().save(str(src))
    with pytest.raises(office.OfficeError, match="LibreOffice 未能把「a.docx」转换为 NOSUCHFORMAT"):
        office.convert(src, "nosuchformat", tmp_path / "out")
    assert not (tmp_path / "out" / "a.nosuchformat").exists()


@pytest.mark.libreoffice
def test_load_recalculates_stale_formula_results(
    soffice: str, workbook: Path, tmp_path: Path
) -> None:
    def saved_total(path: Path) -> object:
        return openpyxl.load_workbook(path, data_only=True)[SHEET]["B4"].value

    assert saved_total(workbook) == STALE_TOTAL

    saved = office.convert(workbook, "xlsx:Calc MS Excel 2007 XML", tmp_path / "out")
    assert saved_total(saved) == 1 + 2

    # Control: LibreOffice's own default (never recalculate) keeps the stale 999, so the
    # assertion above really depends on make_profile's setting.
    profile = office.make_profile(tmp_path / "never", recalc_on_load=False)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "never-out"),
            str(workbook),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert saved_total(tmp_path / "never-out" / workbook.name) == STALE_TOTAL


@pytest.fixture(scope="module")
def typed(
    uno_python: str, workbook: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, Path]:
    """The fixture after a user typed 5 into the input cell and 7 into the locked one."""
    return _fill(
        workbook,
        tmp_path_factory.mktemp("typed"),
        [
            {"sheet": SHEET, "cell": "B2", "value": 5, "mode": "dispatch"},
            {"sheet": SHEET, "cell": "B3", "value": 7, "mode": "dispatch"},
            {"sheet": SHEET, "cell": "B4", "value": None, "mode": "dispatch"},
        ],
    )


@pytest.mark.libreoffice
def test_typing_into_unlocked_cell_changes_it_and_total(typed: tuple[dict, Path]) -> None:
    report, _ = typed
    cells = _cells(report)
    assert cells["B2"]["type"] == "VALUE"
    assert cells["B2"]["value"] == 5
    assert cells["B4"]["formula"] == "=SUM(B2:B3)"
    assert cells["B4"]["value"] == 5 + 2
    assert report["sheets"] == [{"name": SHEET, "protected": True}]


@pytest.mark.libreoffice
def test_typing_into_locked_cell_is_refused(typed: tuple[dict, Path]) -> None:
    cells = _cells(typed[0])
    assert cells["B3"]["value"] == 2, "protection must stop typing into a locked cell"
    assert "exception" not in cells["B3"]
    # Pressing Delete on the locked total does not remove its formula either.
    assert cells["B4"]["type"] == "FORMULA"


@pytest.mark.libreoffice
def test_saved_workbook_keeps_protection_merges_and_names(typed: tuple[dict, Path]) -> None:
    _, saved = typed
    wb = openpyxl.load_workbook(saved)
    ws = wb[SHEET]
    assert ws.protection.sheet is True
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:C1"]
    assert ws["A1"].value == TITLE
    assert ws["B2"].protection.locked is False
    assert ws["B3"].protection.locked is True
    assert (ws["B2"].value, ws["B3"].value, ws["B4"].value) == (5, 2, "=SUM(B2:B3)")
    assert INPUT_NAME in wb.defined_names
    assert wb.defined_names[INPUT_NAME].attr_text.endswith("!$B$2")
    validations = ws.data_validations.dataValidation
    assert [str(v.sqref) for v in validations] == ["B2"]
    assert validations[0].error == "请输入非负整数"
    assert openpyxl.load_workbook(saved, data_only=True)[SHEET]["B4"].value == 7


@pytest.mark.libreoffice
def test_setvalue_bypasses_protection(uno_python: str, workbook: Path, tmp_path: Path) -> None:
    report, saved = _fill(
        workbook, tmp_path, [{"sheet": SHEET, "cell": "B3", "value": 7, "mode": "setvalue"}]
    )
    assert _cells(report)["B3"]["value"] == 7
    ws = openpyxl.load_workbook(saved, data_only=True)[SHEET]
    assert (ws["B3"].value, ws["B4"].value) == (7, 1 + 7)
    assert openpyxl.load_workbook(saved)[SHEET].protection.sheet is True


@pytest.mark.libreoffice
def test_dispatch_bypasses_data_validation(uno_python: str, workbook: Path, tmp_path: Path) -> None:
    # A known limit of .uno:EnterString, pinned here so that nobody relies on dispatch to
    # prove the template's validation: only typing into the input line checks it.
    report, _ = _fill(
        workbook, tmp_path, [{"sheet": SHEET, "cell": "B2", "value": -1, "mode": "dispatch"}]
    )
    assert _cells(report)["B2"]["value"] == -1


@pytest.mark.libreoffice
def test_inspect_reports_structure_and_recalculated_values(
    uno_python: str, workbook: Path, tmp_path: Path
) -> None:
    out = tmp_path / "inspect.json"
    office.run_uno("inspect_xlsx", workbook, out, timeout=90, check=True, scripts_dir=UNO_SCRIPTS)
    result = json.loads(out.read_text(encoding="utf-8"))

    assert result["names"] == {INPUT_NAME: f"${SHEET}.$B$2"}
    (sheet,) = result["sheets"]
    assert sheet["name"] == SHEET
    assert sheet["protected"] is True
    assert sheet["merged"] == ["A1:C1"]
    assert sheet["unlocked"] == ["B2"]
    assert [v["ranges"] for v in sheet["validations"]] == [["B2"]]
    assert sheet["validations"][0]["error_message"] == "请输入非负整数"
    cells = sheet["cells"]
    assert cells["A1"]["string"] == TITLE
    assert cells["B4"] == {
        "type": "FORMULA",
        "value": 3.0,
        "string": "3",
        "formula": "=SUM(B2:B3)",
        "error": 0,
    }


@pytest.mark.libreoffice
def test_run_uno_reports_script_failure_in_chinese(uno_python: str) -> None:
    done = office.run_uno("import _bridge\nprint(_bridge.connect()[2] is not None)", scripts_dir=UNO_SCRIPTS)
    assert (done.returncode, done.stdout.strip()) == (0, "True")
    failing = "import sys\nprint('坏了', file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(
        office.OfficeError, match="LibreOffice 脚本（内联脚本）执行失败（退出码 3）：坏了"
    ):
        office.run_uno(failing, check=True, scripts_dir=UNO_SCRIPTS)


@pytest.mark.libreoffice
def test_run_uno_runs_a_crashed_script_once_more(uno_python: str, tmp_path: Path) -> None:
    """The UNO bridge now and then dies of SIGSEGV on a loaded machine: one more run, not two."""
    marker = tmp_path / "runs.txt"
    crash_first = (
        "import os, signal, sys\n"
        f"p = {str(marker)!r}\n"
        "n = len(open(p).read()) if os.path.exists(p) else 0\n"
        "open(p, 'a').write('x')\n"
        "print('第', n + 1, '次')\n"
        "if n == 0:\n"
        "    sys.stdout.flush(); os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    done = office.run_uno(crash_first, check=True, scripts_dir=UNO_SCRIPTS)
    assert (done.returncode, done.stdout.split(), marker.read_text()) == (0, ["第", "2", "次"], "xx")

    marker.unlink()
    always = crash_first.replace("if n == 0:", "if True:")
    with pytest.raises(office.OfficeError, match=r"执行失败（退出码 -11）"):
        office.run_uno(always, check=True, scripts_dir=UNO_SCRIPTS)
    assert marker.read_text() == "xx"


@pytest.mark.libreoffice
def test_run_uno_kills_a_script_that_hangs(uno_python: str) -> None:
    with pytest.raises(
        office.OfficeTimeout, match="LibreOffice 处理表格超时（超过 3 秒），已强制结束"
    ):
        office.run_uno("import time\ntime.sleep(120)", timeout=3, scripts_dir=UNO_SCRIPTS)
