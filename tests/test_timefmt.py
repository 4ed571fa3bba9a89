"""Times shown to people are UTC+8; JSON keeps ISO 8601 with the offset."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlsx_tools.util.timefmt import (
    LOCAL_TZ,
    display_time,
    iso_time,
    now_local,
    parse_time,
    to_local,
)


@pytest.mark.parametrize("value, shown", [
    ("2026-11-30T03:32:00Z", "2026-11-30 11:32"),          # docProps W3CDTF, UTC
    ("2026-11-30T03:32:59.123Z", "2026-11-30 11:32"),      # fractions are dropped, not rounded
    ("2026-11-30T03:32:00", "2026-11-30 11:32"),           # naive = UTC as stored
    ("2026-11-30T11:32:00+08:00", "2026-11-30 11:32"),     # already local
    ("2026-11-30T00:32:00-03:00", "2026-11-30 11:32"),     # another offset
    ("2026-11-30T20:00:00Z", "2026-12-01 04:00"),          # crosses midnight into the next day
    ("2026-12-31T16:30:00z", "2027-01-01 00:30"),          # and the next year; lower-case z
    (dt.datetime(2026, 11, 30, 3, 32), "2026-11-30 11:32"),
    (dt.datetime(2026, 11, 30, 3, 32, tzinfo=dt.UTC), "2026-11-30 11:32"),
    ("", ""), (None, ""), ("   ", ""),
    ("不是时间", "不是时间"),                                # shown, never hidden
])
def test_display_time(value, shown):
    assert display_time(value) == shown


def test_display_time_with_seconds():
    assert display_time("2026-11-30T03:32:07Z", seconds=True) == "2026-11-30 11:32:07"


def test_iso_time_keeps_the_offset():
    assert iso_time("2026-11-30T03:32:00Z") == "2026-11-30T11:32:00+08:00"
    assert iso_time(dt.datetime(2026, 11, 30, 3, 32)) == "2026-11-30T11:32:00+08:00"
    assert iso_time("") == "" and iso_time(None) == ""
    assert iso_time("垃圾") == "垃圾"
    # the ISO string reads back to the same instant
    assert parse_time(iso_time("2026-11-30T03:32:00Z")) == dt.datetime(2026, 11, 30, 3, 32, tzinfo=dt.UTC)


def test_parse_time_rejects_non_times():
    assert parse_time("2026-13-01T00:00:00Z") is None
    assert parse_time("yesterday") is None
    assert parse_time(None) is None
    assert to_local("x") is None


def test_now_local_is_utc_plus_8():
    now = now_local()
    assert now.utcoffset() == dt.timedelta(hours=8) and now.microsecond == 0
    assert abs((now - dt.datetime.now(dt.UTC)).total_seconds()) < 5


@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_display_is_utc_plus_8_of_the_instant(naive_utc):
    shown = display_time(naive_utc)
    expected = (naive_utc + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert shown == expected
    assert to_local(naive_utc).tzinfo is LOCAL_TZ
    assert parse_time(iso_time(naive_utc)) == naive_utc.replace(tzinfo=dt.UTC, microsecond=naive_utc.microsecond)
