"""Text that XML 1.0 can hold: what every writer of our Word and Excel parts puts in them."""

from __future__ import annotations

import re

# XML 1.0 forbids these (lxml refuses them, and so python-docx); lone surrogates cannot be UTF-8
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 forbids (control characters, lone surrogates) as "?"."""
    return _NOT_XML.sub("?", text)
