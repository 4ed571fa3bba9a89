"""util.memo: what is derived once per object, by identity, bounded."""

from xlsx_tools.util import memo


class Kind:
    pass


def test_one_table_per_object_by_identity():
    store = {}
    a, b = Kind(), Kind()
    ta = memo.table_for(store, a)
    ta["x"] = 1
    assert memo.table_for(store, a) is ta
    assert memo.table_for(store, b) == {} and memo.table_for(store, b) is not ta


def test_a_new_object_at_a_reused_id_gets_a_new_table():
    store = {}
    a = Kind()
    memo.table_for(store, a)["x"] = 1
    store[id(a)] = (Kind(), store[id(a)][1])  # as if `a` had died and another object took its id
    assert memo.table_for(store, a) == {}


def test_the_store_is_bounded():
    store = {}
    keep = [Kind() for _ in range(memo.LIMIT * 3)]
    for k in keep:
        memo.table_for(store, k)["x"] = 1
    assert len(store) <= memo.LIMIT + 1


def test_derived_builds_once_per_object():
    store, built = {}, []
    a, b = Kind(), Kind()

    def build(obj):
        built.append(obj)
        return len(built)

    assert memo.derived(store, a, build) == 1
    assert memo.derived(store, a, build) == 1
    assert memo.derived(store, b, build) == 2
    assert built == [a, b]
    for _ in range(20):
        memo.derived(store, Kind(), build, limit=4)
    assert len(store) <= 5
