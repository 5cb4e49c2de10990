"""EventStore: bars from END records, open bars, lanes, numpy decoding of packed batches."""

from __future__ import annotations

import numpy as np

from concviz.lab import protocol as P
from concviz.model import BAR_ERROR, BAR_SLICE, BAR_TASK, EventStore, run_object


def rec(kind, worker, task, t, cpu=0, t0=0, pid=100, tid=7):
    return (kind, 0, worker, task, pid, tid, t, cpu, t0)


def feed(store: EventStore, records: list[tuple]) -> None:
    store.add_frame(P.FRAME_EVENTS, P.pack_records(records))


def test_a_packed_batch_decodes_into_numpy_bars():
    store = EventStore()
    feed(
        store,
        [
            rec(P.EV_QUEUED, P.WORKER_DISPATCH, 0, 50),
            rec(P.EV_START, 0, 0, 100),
            rec(P.EV_END, 0, 0, 300, cpu=150, t0=100),
            rec(P.EV_START, 1, 1, 120, tid=8),
            rec(P.EV_ERROR, 1, 1, 200, cpu=80, t0=120, tid=8),
        ],
    )
    b = store.bars()
    assert isinstance(b["start"], np.ndarray) and b["start"].dtype == np.int64
    assert b["task"].tolist() == [0, 1]
    assert b["start"].tolist() == [100, 120]  # a bar's start comes from the END's t0
    assert b["end"].tolist() == [300, 200]
    assert b["cpu"].tolist() == [150, 80]
    assert b["kind"].tolist() == [BAR_TASK, BAR_ERROR]
    assert store.queued()["task"].tolist() == [0]
    assert not b["start"].flags.writeable  # readers get views they cannot spoil
    assert (store.t_min, store.t_max) == (50, 300)


def test_open_bars_are_the_tasks_started_and_not_yet_ended():
    store = EventStore()
    feed(store, [rec(P.EV_START, 0, 0, 100), rec(P.EV_START, 1, 1, 110, tid=8)])
    assert sorted((task, start) for _, task, start in store.open_bars()) == [(0, 100), (1, 110)]
    feed(store, [rec(P.EV_END, 0, 0, 200, t0=100), rec(P.EV_START, 0, 2, 210)])
    assert sorted((task, start) for _, task, start in store.open_bars()) == [(1, 110), (2, 210)]
    feed(store, [rec(P.EV_END, 0, 2, 300, t0=210), rec(P.EV_END, 1, 1, 310, t0=110, tid=8)])
    assert store.open_bars() == []
    assert store.bar_count == 3


def test_lanes_group_by_process_thread_and_worker():
    store = EventStore()
    feed(
        store,
        [
            rec(P.EV_END, 0, 0, 10, t0=1, pid=1, tid=11),
            rec(P.EV_END, 1, 1, 10, t0=1, pid=2, tid=21),
            rec(P.EV_END, 0, 2, 20, t0=11, pid=1, tid=11),
            rec(P.EV_END, 1, 3, 20, t0=11, pid=1, tid=11),  # asyncio: 2 workers, 1 thread
            rec(P.EV_QUEUED, P.WORKER_DISPATCH, 4, 5),  # the dispatcher is not a lane
        ],
    )
    lanes = store.lanes()
    assert sorted((ln.pid, ln.tid, ln.worker) for ln in lanes) == [
        (1, 11, 0),
        (1, 11, 1),
        (2, 21, 1),
    ]
    b = store.bars()
    got = [(lanes[i].pid, lanes[i].worker) for i in b["lane"].tolist()]
    assert got == [(1, 0), (2, 1), (1, 0), (1, 1)]
    # a later batch finds the same lanes again instead of making new ones
    feed(store, [rec(P.EV_END, 0, 5, 40, t0=30, pid=1, tid=11)])
    assert len(store.lanes()) == 3


def test_slices_are_bars_of_their_own_and_mark_the_lane():
    store = EventStore()
    feed(
        store,
        [
            rec(P.EV_START, 0, 0, 100),
            rec(P.EV_SLICE_START, 0, 0, 101),
            rec(P.EV_SLICE_END, 0, 0, 110, cpu=9, t0=101),
            rec(P.EV_SLICE_START, 0, 0, 150),
            rec(P.EV_SLICE_END, 0, 0, 160, cpu=10, t0=150),
            rec(P.EV_END, 0, 0, 161, cpu=19, t0=100),
        ],
    )
    b = store.bars()
    assert (b["kind"] == BAR_SLICE).sum() == 2
    assert store.lanes()[0].has_slices
    tb = store.task_bars()
    assert tb["kind"].tolist() == [BAR_TASK] and tb["cpu"].tolist() == [19]


def test_run_object_from_a_recorded_run():
    store = EventStore()
    store.add_json({"type": "hello", "pid": 100, "interpreter": {"version": "3.11.7"}})
    store.add_json(
        {
            "type": "run_started",
            "t_ns": 0,
            "strategy": "threads",
            "workers": 2,
            "workload": "io-sleep",
            "task_ms": 1.0,
        }
    )
    feed(
        store,
        [
            rec(P.EV_END, 0, 0, 1_000_000_000, cpu=500_000_000, t0=0),
            rec(P.EV_ERROR, 1, 1, 1_000_000_000, cpu=500_000_000, t0=0, tid=8),
        ],
    )
    store.add_json({"type": "task_error", "task": 1, "worker": 1, "error": "ValueError: x"})
    store.add_json(
        {"type": "run_finished", "t_ns": 2_000_000_000, "wall_ns": 2_000_000_000, "ok": True}
    )
    obj = run_object(store)
    assert obj["wall_s"] == 2.0 and obj["cpu_s"] == 1.0 and obj["parallelism"] == 0.5
    assert [(t["id"], t["ok"], t["error"]) for t in obj["tasks"]] == [
        (0, True, None),
        (1, False, "ValueError: x"),
    ]
    assert obj["tasks"][1]["tid"] == 8
