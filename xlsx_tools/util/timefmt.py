"""Times for people and for JSON.

People read local time (UTC+8, the offices' time zone) as ``2026-11-30 11:32``; JSON keeps
ISO 8601 with its offset. Workbook save times come from docProps/core.xml as W3CDTF strings
("2026-11-30T03:32:00Z"); a time without an offset is UTC, as the format stores it.
"""

from __future__ import annotations

import datetime as dt

LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "UTC+8")

TimeLike = str | dt.datetime | None


def parse_time(value: TimeLike) -> dt.datetime | None:
    """An aware datetime from an ISO 8601 string or a datetime (naive = UTC); None when empty or
    not a time."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        when = value
    else:
        text = str(value).strip()
        if not text:
            return None
        if text[-1:] in "zZ":
            text = text[:-1] + "+00:00"
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when


def to_local(value: TimeLike) -> dt.datetime | None:
    """The time in UTC+8, or None."""
    when = parse_time(value)
    return when.astimezone(LOCAL_TZ) if when else None


def display_time(value: TimeLike, *, seconds: bool = False) -> str:
    """``2026-11-30 11:32`` in UTC+8 for a sheet, a console or a Word document. Empty for no
    time; text that is not a time is shown as it is (stripped) rather than hidden."""
    when = to_local(value)
    if when is None:
        return "" if value is None else str(value).strip()
    return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def iso_time(value: TimeLike) -> str:
    """ISO 8601 in UTC+8 with its offset (``2026-11-30T11:32:00+08:00``) for JSON; empty for no
    time; text that is not a time is kept as it is."""
    when = to_local(value)
    if when is None:
        return "" if value is None else str(value).strip()
    return when.isoformat()


def now_local() -> dt.datetime:
    """Now in UTC+8, whole seconds."""
    return dt.datetime.now(LOCAL_TZ).replace(microsecond=0)
