"""A template's identity written into it: the custom document properties and the hidden sheet of
model/meta.py's keys, and what the writer tells its caller (TemplateInfo)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..format.spec import FormatSpec
from ..model import meta
from .protection import PROTECT_OPTIONS
from .xlsxwriter_compat import TemplateWorkbook


@dataclass(frozen=True)
class TemplateInfo:
    path: Path
    agency: str
    code: str
    year: int
    sha256: str
    fingerprint: str
    password: str


def identity_values(spec: FormatSpec, fingerprint: str, info: Mapping[str, Any], created: datetime) -> dict[str, str]:
    """meta.KEYS -> the text this template carries."""
    values = {
        "generator": meta.GENERATOR, "generator_version": __version__, "format": spec.id,
        "format_version": spec.version, "fingerprint": fingerprint, "agency": info["agency"],
        "code": info.get("code", ""), "year": str(info["year"]), "created": created.isoformat(),
    }
    return {key: str(values[key]) for key in meta.KEYS}


def write_properties(wb: TemplateWorkbook, spec: FormatSpec, title: str, agency: str, created: datetime,
                     values: Mapping[str, str]) -> None:
    """The document properties (title, subject, ...) and the identity as custom properties."""
    wb.set_properties({"title": title, "subject": spec.title, "author": meta.GENERATOR,
                       "company": agency, "comments": spec.document, "created": created.replace(tzinfo=None)})
    for key in meta.KEYS:
        wb.set_custom_property(meta.property_name(key), values[key])


def write_identity_sheet(wb: TemplateWorkbook, values: Mapping[str, str], password: str) -> None:
    """The hidden sheet: meta.KEYS in column A, their values in column B."""
    ws = wb.add_sheet(meta.META_SHEET)
    for i, key in enumerate(meta.KEYS):
        ws.write_string(i, 0, key)
        ws.write_string(i, 1, values[key])
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 40)
    ws.hide()
    ws.protect(password, PROTECT_OPTIONS)
