"""Memo tables kept per object: a value checked or converted for one field type gives the same
answer for every other field of that type, in every file of a run."""

from __future__ import annotations

from typing import Any

LIMIT = 64  # objects remembered at most (a run uses a handful of value types)


def table_for(store: dict[int, tuple[object, dict[Any, Any]]], obj: object) -> dict[Any, Any]:
    """The memo table `store` keeps for `obj`, by identity (`obj` itself is kept beside it, so
    that a new object at a reused id never meets an old table); `store` is emptied past LIMIT."""
    hit = store.get(id(obj))
    if hit is None or hit[0] is not obj:
        if len(store) > LIMIT:
            store.clear()
        hit = store[id(obj)] = (obj, {})
    return hit[1]
