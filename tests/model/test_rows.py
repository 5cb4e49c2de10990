"""Row layout: an event loop is one row with its coroutines under it, or a density row."""

from __future__ import annotations

import numpy as np

from concviz.lab import protocol as P
from concviz.model import EventStore
from concviz.model.rows import (
    ROW_COROUTINE,
    ROW_COROUTINES,
    ROW_LOOP,
    ROW_WORKER,
    ROW_WORKERS,
    arrange_rows,
    coroutine_counts,
)

LAB_PID, LOOP_TID = 100, 7


def _store(records) -> EventStore:
    s = EventStore()
    s.add_json({"type": "hello", "pid": LAB_PID})
    s.add_frame(P.FRAME_EVENTS, P.pack_records(records))
    return s


def _coroutine(worker, task, t_start, slices, tid=LOOP_TID):
    """A coroutine's task from ``t_start`` with its (start, end) slices."""
    out = [(P.EV_START, 0, worker, task, LAB_PID, tid, t_start, 0, 0)]
    for a, b in slices:
        out.append((P.EV_SLICE_START, 0, worker, task, LAB_PID, tid, a, 0, 0))
        out.append((P.EV_SLICE_END, 0, worker, task, LAB_PID, tid, b, b - a, a))
    end = slices[-1][1] if slices else t_start
    out.append((P.EV_END, 0, worker, task, LAB_PID, tid, end, 0, t_start))
    return out


def test_an_event_loop_is_one_row_with_its_coroutines_under_it_numbered_from_1():
    # coroutine 1 holds the loop 0..100; coroutine 2, ready at 0, runs only at 100..200
    s = _store(_coroutine(0, 0, 0, [(0, 100)]) + _coroutine(1, 1, 0, [(100, 200)]))
    rows = arrange_rows(s)
    assert [r.kind for r in rows] == [ROW_LOOP, ROW_COROUTINE, ROW_COROUTINE]
    assert rows[0].label == f"event loop (thread {LOOP_TID})"
    assert [r.label for r in rows[1:]] == ["↳ coroutine 1", "↳ coroutine 2"]
    assert len(rows[0].lanes) == 2 and rows[0].lane == -1


def test_a_coroutine_that_never_ran_is_still_under_its_loop():
    # coroutine 2 has a task (waiting) but no slice of its own yet
    records = _coroutine(0, 0, 0, [(0, 100)]) + [
        (P.EV_START, 0, 1, 1, LAB_PID, LOOP_TID, 0, 0, 0),
        (P.EV_STOPPED, 0, 1, 1, LAB_PID, LOOP_TID, 150, 0, 0),
    ]
    rows = arrange_rows(_store(records))
    assert [r.label for r in rows] == [
        f"event loop (thread {LOOP_TID})",
        "↳ coroutine 1",
        "↳ coroutine 2",
    ]


def test_more_coroutines_than_fit_become_one_density_row():
    records = []
    for w in range(50):
        records += _coroutine(w, w, 0, [(10 * w, 10 * w + 5)])
    s = _store(records)
    rows = arrange_rows(s, max_group_rows=40)
    assert [r.kind for r in rows] == [ROW_LOOP, ROW_COROUTINES]
    assert rows[1].label == "↳ 50 coroutines" and len(rows[1].lanes) == 50
    assert len(arrange_rows(s, max_group_rows=None)) == 51


def test_threads_stay_worker_rows():
    records = []
    for w in range(2):
        records += [
            (P.EV_START, 0, w, w, LAB_PID, 20 + w, 0, 0, 0),
            (P.EV_END, 0, w, w, LAB_PID, 20 + w, 100, 50, 0),
        ]
    rows = arrange_rows(_store(records))
    assert [r.kind for r in rows] == [ROW_WORKER, ROW_WORKER]


def test_coroutine_counts_by_hand():
    # tasks: A 0..100, B 0..300, C 200..300; slices: A 0..100, B 100..150, C 200..300
    s = _store(
        _coroutine(0, 0, 0, [(0, 100)])
        + _coroutine(1, 1, 0, [(100, 150), (250, 300)])
        + _coroutine(2, 2, 200, [(200, 250)])
    )
    lanes = tuple(ln.index for ln in s.lanes())
    t, alive, running = coroutine_counts(s.bars(), lanes)

    def at(x):
        k = int(np.searchsorted(t, x, side="right")) - 1
        return int(alive[k]), int(running[k])

    assert at(50) == (2, 1)  # A runs, B waits for the loop
    assert at(100) == (1, 1)  # A ended, B took the loop at once: no double count
    assert at(175) == (1, 0)  # B awaits (I/O)
    assert at(225) == (2, 1)  # C runs, B waits
    assert at(300) == (0, 0)
    # a task still open counts until "now"
    t, alive, _ = coroutine_counts(s.bars(), lanes, [(lanes[0], 9, 400)], t_now=500)
    assert int(alive[np.searchsorted(t, 450, side="right") - 1]) == 1


def test_more_threads_than_fit_become_one_density_row():
    records = []
    for w in range(60):
        records += [
            (P.EV_START, 0, w, w, LAB_PID, 1000 + w, 0, 0, 0),
            (P.EV_END, 0, w, w, LAB_PID, 1000 + w, 100, 1, 0),
        ]
    s = _store(records)
    rows = arrange_rows(s, max_group_rows=40)
    assert [(r.kind, r.label) for r in rows] == [(ROW_WORKERS, "60 threads")]
    t, alive, _running = coroutine_counts(s.bars(), rows[0].lanes)
    assert int(alive.max()) == 60
