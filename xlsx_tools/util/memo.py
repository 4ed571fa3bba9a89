"""What is derived once per object and kept for the run: a format's layout, plan or rule table,
and the memo tables kept per value type (a value checked or converted for one field type gives the
same answer for every other field of that type, in every file of a run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
K = TypeVar("K")

LIMIT = 64  # value types remembered at most by table_for (a run uses a handful)


def derived(store: dict[int, tuple[Any, Any]], obj: K, build: Callable[[K], T], limit: int = 16) -> T:
    """build(obj), computed once per object and kept in `store` by identity (`obj` itself is kept
    beside it, so that a new object at a reused id never meets an old value); `store` is emptied
    past `limit` objects."""
    hit = store.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = build(obj)
    if len(store) > limit:
        store.clear()
    store[id(obj)] = (obj, value)
    return value


def table_for(store: dict[int, tuple[object, dict[Any, Any]]], obj: object) -> dict[Any, Any]:
    """The memo table `store` keeps for `obj` (derived: by identity, at most LIMIT objects)."""
    return derived(store, obj, lambda _: {}, LIMIT)
