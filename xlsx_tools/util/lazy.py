"""Modules needed only for an output written when asked, or for one input kind among several
(python-docx for `check --notice`, pdfplumber for a PDF): imported on first use through the
standard library's documented importlib.util.LazyLoader, so a command's common path starts fast
(issue 11: `check` of one file in ≤ 250 ms). Not a way around an import cycle or a layer:
tests/test_layers.py holds every module named in a lazy_import("...") call to the layers like an
import statement (use a string literal, so that it can)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """The module `name`, executed when one of its attributes is first used."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
