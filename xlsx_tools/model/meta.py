"""The identity a template carries: a hidden sheet of key/value rows and the same keys as custom
document properties. The template writer puts them there, the reader reads them back."""

from __future__ import annotations

META_SHEET = "_xlsx_tools"  # hidden (xlsxwriter "very hidden" is not kept by every suite: plain hidden)
PROPERTY_PREFIX = "xlsx-tools "  # custom document property names: "xlsx-tools format", ...
GENERATOR = "xlsx-tools"

# keys, in the order they stand in column A of the hidden sheet (values in column B)
KEYS = (
    "generator",  # "xlsx-tools"
    "generator_version",  # package version that wrote the template
    "format",  # format id, e.g. gov-info-2021
    "format_version",
    "fingerprint",  # FormatSpec.fingerprint + layout version: identifies the template layout
    "agency",
    "code",
    "year",
    "created",  # ISO timestamp
)


def meta_cell(key: str) -> str:
    """B1, B2, ... for the keys above."""
    return f"B{KEYS.index(key) + 1}"


def property_name(key: str) -> str:
    return PROPERTY_PREFIX + key
