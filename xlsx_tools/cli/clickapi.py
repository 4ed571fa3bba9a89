"""The one place that reaches into the Click that typer runs on.

typer < 0.20 runs on the Click package; typer >= 0.20 vendors its own copy and exports only
`typer.BadParameter` of Click's exceptions. The app needs the others (UsageError, MissingParameter,
NoArgsIsHelpError) to print Click's usage errors in Chinese, so `clickx` is the module that defines
typer's public `BadParameter`, whichever Click that is — no private module is named here.
tests/test_cli.py fails loudly if a new typer no longer provides these names."""

from __future__ import annotations

import sys

import typer

clickx = sys.modules[typer.BadParameter.__module__]

REQUIRED = ("UsageError", "BadParameter", "MissingParameter", "NoArgsIsHelpError")
