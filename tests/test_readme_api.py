"""The README's "Python 接口" example runs verbatim and prints what the README says it prints; the
names it documents are the package's API, loaded lazily (import xlsx_tools stays cheap)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import docx

import xlsx_tools

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Python 接口"


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else len(text)]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _section(), re.S)


def test_the_readme_example_runs_and_prints_what_the_readme_shows(tmp_path, monkeypatch):
    (code,) = _blocks("python")
    (shown,) = _blocks("text")
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(script), run_name="__main__")
    assert out.getvalue() == shown, "update the README's output block (or the example)"
    for name in ("示例局.xlsx", "示例局（已填写）.xlsx", "示例局2025年政府信息公开工作年度报告.docx"):
        assert (tmp_path / name).stat().st_size > 0, name
    text = "\n".join(p.text for p in docx.Document(tmp_path / "示例局2025年政府信息公开工作年度报告.docx").paragraphs)
    assert "示例局" in text and "本机关依法做好政府信息公开工作。" in text


def test_the_readme_table_names_every_public_name():
    section = _section()
    for name in xlsx_tools.__all__:
        if name != "__version__":
            assert f"`{name}" in section, name


def test_every_public_name_resolves_and_is_documented():
    for name in xlsx_tools.__all__:
        value = getattr(xlsx_tools, name)
        if name != "__version__":
            assert (value.__doc__ or "").strip(), name
    assert set(xlsx_tools.__all__) <= set(dir(xlsx_tools))
    assert xlsx_tools.collect_returns.__module__ == "xlsx_tools.collect.run"
    import xlsx_tools.collect as subpackage  # the name `collect` stays the subpackage

    assert subpackage.__name__ == "xlsx_tools.collect"
    try:
        xlsx_tools.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_import_is_cheap():
    """`import xlsx_tools` loads none of the writers, nor python-docx or xlsxwriter."""
    code = "import sys, xlsx_tools; print(sorted(m for m in sys.modules if m.split('.')[0] in ('xlsx_tools', 'docx', 'xlsxwriter', 'openpyxl', 'typer', 'rich')))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.strip() == "['xlsx_tools']"
