"""The window's sharing figures, by hand: sentences, the task graph, a deadlock's edges."""

from __future__ import annotations

import pytest

from concviz.lab import protocol as P
from concviz.model.event_store import EventStore
from concviz.model.sync_view import (
    WAIT_STYLES,
    counter_series,
    critical_path_text,
    deadlock_edges,
    lost_updates_text,
    run_deadlock,
    task_graph,
    wait_sentence,
    wait_styles,
    wait_total_lines,
)

MS = 1_000_000


def test_sentences():
    assert wait_sentence(0.0123, "A", "lock", 3) == "waiting 12.3 ms for lock 'A' held by task 3"
    assert wait_sentence(1.5, "q", "queue", -1) == "waiting 1.50 s for queue 'q'"
    assert wait_sentence(0.002, "x", "dependency", -1) == "waiting 2.0 ms for a task's result"
    totals = [
        {"object": "A", "kind": "lock", "total_s": 0.42, "count": 37, "max_s": 0.1},
        {"object": "queue", "kind": "queue", "total_s": 0.1, "count": 1, "max_s": 0.1},
    ]
    assert wait_total_lines(totals) == ["lock A: 0.42 s in 37 waits", "queue: 0.10 s in 1 wait"]
    assert lost_updates_text({"expected": 10_000, "lost_updates": 1234}) == (
        "lost 1,234 of 10,000 updates"
    )
    assert lost_updates_text({"expected": 800, "lost_updates": 0}) == "lost none of 800 updates"
    assert lost_updates_text(None) is None
    assert (
        critical_path_text(0.84, 1.02)
        == "critical path 0.84 s: no worker count ends sooner (this run 1.02 s)"
    )


def test_each_kind_has_its_style():
    codes = [P.SYNC_KIND_CODES[k] for k in ("lock", "rlock", "queue", "barrier", "dependency")]
    names = [WAIT_STYLES[s] for s in wait_styles(codes).tolist()]
    assert names == ["lock", "lock", "queue", "barrier", "task result"]


def _graph_store() -> EventStore:
    """Tasks 0 (0-10 ms) and 1 (0-30 ms) on two workers; 2 needs both and runs 30-40 ms."""
    s = EventStore()
    s.add_json({"type": "run_started", "t_ns": 0, "deps": [[], [], [0, 1]]})
    rows = []
    for task, worker, a, b in ((0, 0, 0, 10), (1, 1, 0, 30), (2, 0, 30, 40)):
        rows += [
            (P.EV_START, 0, worker, task, 10, 100 + worker, a * MS, 0, 0),
            (P.EV_END, 0, worker, task, 10, 100 + worker, b * MS, 0, a * MS),
        ]
    s.add_frame(P.FRAME_EVENTS, P.pack_records(rows))
    s.add_json({"type": "run_finished", "t_ns": 40 * MS, "wall_ns": 40 * MS})
    return s


def test_task_graph_spans_critical_path_and_edges():
    g = task_graph(_graph_store(), 0)
    assert g is not None
    assert g.critical == [1, 2]  # 30 ms + 10 ms beats 10 ms + 10 ms
    assert g.critical_s == pytest.approx(0.040)
    assert (g.start[2], g.end[2]) == pytest.approx((0.030, 0.040))
    assert g.edges(2) == [(0, 2), (1, 2)]
    assert g.edges() == [(0, 2), (1, 2)]
    assert g.lane[2] == g.lane[0] != g.lane[1]


def test_no_graph_without_deps():
    s = EventStore()
    s.add_json({"type": "run_started", "t_ns": 0})
    assert task_graph(s, 0) is None


def test_deadlock_edges_follow_the_holders():
    found = {
        "cycle": [
            {"task": 0, "holds": "A", "holds_kind": "lock", "waits_for": "B", "waits_kind": "lock"},
            {"task": 1, "holds": "B", "holds_kind": "lock", "waits_for": "A", "waits_kind": "lock"},
        ],
        "description": "deadlock: ...",
    }
    assert deadlock_edges(found) == [(0, 1, "lock B"), (1, 0, "lock A")]
    s = EventStore()
    s.add_json({"type": "run_started", "t_ns": 0})
    s.add_json({"type": "run_finished", "t_ns": 5, "deadlock": found})
    assert run_deadlock(s) == found


def test_counter_series_in_time_order():
    s = EventStore()
    s.add_json({"type": "sync_object", "id": 9, "name": "q", "kind": "queue"})
    rows = [
        (P.EV_COUNTER, 0, P.WORKER_COUNTER, 9, 10, 100, t * MS, v, 0)
        for t, v in ((20, 2), (10, 1), (30, 0))
    ]
    s.add_frame(P.FRAME_EVENTS, P.pack_records(rows))
    [(name, x, y)] = counter_series(s, 10 * MS)
    assert name == "q"
    assert x.tolist() == pytest.approx([0.0, 0.010, 0.020])
    assert y.tolist() == [1, 2, 0]
