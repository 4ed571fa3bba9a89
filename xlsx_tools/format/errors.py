"""The error of a format file that does not describe a consistent format."""

from __future__ import annotations


class FormatError(ValueError):
    """A format file that does not describe a consistent format."""

