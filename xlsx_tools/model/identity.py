"""Whether two spellings name one agency: the one comparison used everywhere an agency's identity
is compared (roster duplicates, --previous matching, the cross-year check, the reader's identity
checks, collect and aggregate).

A name is compared after NFKC, so full-width and half-width forms are one (（体育局） = (体育局),
ＡＢ１ = AB1), with every space removed; case is kept (ABC局 and abc局 may be two agencies of a
roster). A code is compared the same way, case-insensitively. The name is always shown as typed.
"""

from __future__ import annotations

import unicodedata


def agency_key(name: str) -> str:
    """The comparison form of an agency name."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def code_key(code: str) -> str:
    """The comparison form of an agency code."""
    return agency_key(code).casefold()


def identity_keys(name: str, code: str) -> list[str]:
    """The keys an agency is found by: its code (when it has one), then its name."""
    keys = []
    if code_key(code):
        keys.append("code:" + code_key(code))
    if agency_key(name):
        keys.append("name:" + agency_key(name))
    return keys


def same_agency(name: str, code: str, other_name: str, other_code: str) -> bool:
    """One agency: the same code (both given), or the same name."""
    if code_key(code) and code_key(code) == code_key(other_code):
        return True
    return bool(agency_key(name)) and agency_key(name) == agency_key(other_name)
