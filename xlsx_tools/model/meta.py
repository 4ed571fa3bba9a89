"""The identity a template carries: a hidden sheet of key/value rows and the same keys as custom
document properties, the fingerprint of its layout, and the names by which a template is known
(its 填报说明 sheet, the deadline line on it). The template writer puts them there, the reader and
the batch tools read them back."""

from __future__ import annotations

import hashlib

from ..format.spec import FormatSpec

META_SHEET = "_xlsx_tools"  # hidden (xlsxwriter "very hidden" is not kept by every suite: plain hidden)
PROPERTY_PREFIX = "xlsx-tools "  # custom document property names: "xlsx-tools format", ...
GENERATOR = "xlsx-tools"
INSTRUCTIONS_SHEET = "填报说明"  # the template's first sheet: instructions, nothing to read
LAYOUT_VERSION = "1"  # bump when the workbook layout changes (the reader keys on the fingerprint)
# the line of 填报说明 that gives the deadline, read back when agencies are added to a batch
DEADLINE_LABEL = "填报截止日期"
NO_DEADLINE = "（按通知要求）"

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


# Fingerprints that earlier releases wrote for the very same layout. Until 2026-11-30 the format
# file's fingerprint was a hash of its raw bytes; it is now a hash of the parts that shape the
# template (format/spec.py), so templates already sent out this season carry the old value for
# the same workbook layout (verified byte for byte, but for that string). Keyed by today's value.
EARLIER_FINGERPRINTS: dict[str, frozenset[str]] = {
    "4067aca2dfa727e2": frozenset({"cb1d2b12f634558a"}),  # gov-info-2021, layout 1
}


def same_layout(found: str, expected: str) -> bool:
    """Whether a template carrying fingerprint `found` has the layout of today's `expected`."""
    return found == expected or found in EARLIER_FINGERPRINTS.get(expected, frozenset())


def template_fingerprint(spec: FormatSpec) -> str:
    """Identifies the workbook layout (format file + layout version); the same for every agency."""
    text = f"{spec.id}:{spec.version}:{spec.fingerprint}:{LAYOUT_VERSION}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
