"""util.lazy.lazy_import: the module runs on first use of an attribute, not before; a missing
module is an error at once (not at first use)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xlsx_tools.util.lazy import lazy_import

ROOT = Path(__file__).resolve().parent.parent


def test_runs_on_first_attribute_use_only(tmp_path, monkeypatch):
    (tmp_path / "house_lazy_probe.py").write_text("import builtins\nbuiltins.HOUSE_PROBE_RAN = True\nVALUE = 42\n",
                                                  encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import builtins

    monkeypatch.delattr(builtins, "HOUSE_PROBE_RAN", raising=False)
    try:
        module = lazy_import("house_lazy_probe")
        assert not hasattr(builtins, "HOUSE_PROBE_RAN")
        assert module.VALUE == 42
        assert builtins.HOUSE_PROBE_RAN is True
        assert lazy_import("house_lazy_probe") is sys.modules["house_lazy_probe"]
    finally:
        sys.modules.pop("house_lazy_probe", None)
        monkeypatch.delattr(builtins, "HOUSE_PROBE_RAN", raising=False)


def test_a_missing_module_fails_at_once():
    with pytest.raises(ModuleNotFoundError, match="xlsx_tools.no_such_module"):
        lazy_import("xlsx_tools.no_such_module")


def test_check_does_not_load_the_notice_writer_until_asked():
    code = ("import sys\nimport xlsx_tools.cli.commands.check\n"
            "print(*[n for n, m in list(sys.modules.items()) if type(m).__name__ == '_LazyModule'])\n"
            "print('docx' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    lazy, docx_loaded = run.stdout.splitlines()
    assert lazy.endswith(".notice") and docx_loaded == "False", run.stdout
