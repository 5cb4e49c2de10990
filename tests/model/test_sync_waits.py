"""Waits and counters from the lab's records: decoded into columns, totalled per object."""

from __future__ import annotations

import numpy as np

from concviz.lab import protocol as P
from concviz.lab.sync import DEADLOCK_AGE_S, WaitGraph
from concviz.model.event_store import RECORD_DTYPE, EventStore
from concviz.model.sync_waits import counter_summaries, names_of, run_waits, wait_totals


def _records(rows) -> bytes:
    return P.pack_records(rows)


def _store_with_waits() -> EventStore:
    store = EventStore()
    store.add_json({"type": "sync_object", "id": 7, "name": "A", "kind": "lock"})
    store.add_json({"type": "sync_object", "id": 9, "name": "q", "kind": "queue"})
    lock, queue = P.SYNC_KIND_CODES["lock"], P.SYNC_KIND_CODES["queue"]
    rows = [
        # task 3 on worker 0 waits 2..5 for A held by task 1; task 4 waits 1..2 for A
        (P.EV_WAIT, lock, 0, 3, 10, 100, 5_000, P.pack_wait(7, 1), 2_000),
        (P.EV_WAIT, lock, 1, 4, 10, 101, 2_000, P.pack_wait(7, -1), 1_000),
        (P.EV_WAIT, queue, 1, 4, 10, 101, 9_000, P.pack_wait(9, -1), 8_500),
        # the queue's depth: 0 at t=0, 2 at t=10, 1 at t=40 (the last holds no time)
        (P.EV_COUNTER, 0, P.WORKER_COUNTER, 9, 10, 100, 0, 0, 0),
        (P.EV_COUNTER, 0, P.WORKER_COUNTER, 9, 10, 100, 10, 2, 0),
        (P.EV_COUNTER, 0, P.WORKER_COUNTER, 9, 10, 100, 40, 1, 0),
    ]
    store.add_frame(P.FRAME_EVENTS, _records(rows))
    return store


def test_wait_records_become_columns_with_object_and_holder():
    store = _store_with_waits()
    w = store.wait_slices()
    assert w["object"].tolist() == [7, 7, 9]
    assert w["holder"].tolist() == [1, -1, -1]
    assert w["task"].tolist() == [3, 4, 4]
    assert (w["end"] - w["start"]).tolist() == [3_000, 1_000, 500]
    assert w["kind"].tolist() == [1, 1, 7]
    # two workers' rows, and none for the counter samples
    assert len(store.lanes()) == 2
    assert np.frombuffer(_records([]) or b"", RECORD_DTYPE).size == 0


def test_waits_are_totalled_per_object_most_first():
    store = _store_with_waits()
    waits = run_waits(store, 0, 10_000)
    totals = wait_totals(waits, names_of(store, waits["object"]))
    assert totals == [
        {"object": "A", "kind": "lock", "total_s": 4e-6, "count": 2, "max_s": 3e-6},
        {"object": "q", "kind": "queue", "total_s": 5e-7, "count": 1, "max_s": 5e-7},
    ]
    assert run_waits(store, 0, 4_000)["task"].tolist() == [4]  # ended inside the span


def test_a_counter_mean_is_weighted_by_how_long_each_value_held():
    store = _store_with_waits()
    (depth,) = counter_summaries(store, 0, 100)
    # 0 for 10 ns, 2 for 30 ns: (0*10 + 2*30) / 40 = 1.5
    assert depth == {"object": "q", "samples": 3, "max": 2, "mean": 1.5}


def test_the_wait_field_packs_object_and_holder_both_ways():
    for obj, holder in [(1, -1), (123456789, 0), (2**41, 999_999)]:
        assert P.unpack_wait(P.pack_wait(obj, holder)) == (obj, holder)


def test_a_cycle_of_old_waits_is_a_deadlock_and_a_fresh_one_not_yet():
    g = WaitGraph()
    g.blocked(5, 2, "B", "lock", holder=3)
    g.blocked(3, 1, "A", "lock", holder=5)
    g.blocked(8, 1, "A", "lock", holder=5)  # waits too, but is in no cycle
    assert g.check() is None  # younger than DEADLOCK_AGE_S: a holder may be releasing
    later = time_ns_after(DEADLOCK_AGE_S)
    found = g.check(later)
    assert [c["task"] for c in found["cycle"]] == [3, 5]
    assert found["description"] == (
        "deadlock: task 3 holds lock B and waits for lock A; task 5 holds lock A and waits for lock B"
    )
    g.unblocked(5)
    assert g.check(later) is None


def test_a_chain_without_a_cycle_is_no_deadlock():
    g = WaitGraph()
    g.blocked(1, 10, "A", "lock", holder=2)
    g.blocked(2, 11, "B", "lock", holder=3)  # task 3 runs: it will release B
    assert g.check(time_ns_after(10)) is None


def time_ns_after(seconds: float) -> int:
    import time

    return time.perf_counter_ns() + int(seconds * 1e9) + 1
