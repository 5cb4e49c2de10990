"""The Gantt's layout without Qt: bars in (row, start) order, and level of detail that
merges only bars narrower than its gap and closer than it, per row."""

from __future__ import annotations

import numpy as np

from concviz.lab import protocol as P
from concviz.model.event_store import RECORD_DTYPE, EventStore
from concviz.model.gantt_layout import GAP0, GanttData, Layer

MS = 1_000_000


def _store(bars: list[tuple[int, int, int, int]]) -> EventStore:
    """Finished tasks (worker, task, start_ns, end_ns) of one process."""
    rec = np.zeros(2 * len(bars), RECORD_DTYPE)
    for i, (worker, task, start, end) in enumerate(bars):
        for j, (kind, t) in enumerate(((P.EV_START, start), (P.EV_END, end))):
            r = rec[2 * i + j]
            r["kind"], r["worker"], r["task"] = kind, worker, task
            r["pid"], r["tid"] = 100, 1000 + worker
            r["t_ns"], r["t0_ns"] = t, start if kind == P.EV_END else 0
            r["cpu_ns"] = (end - start) // 2 if kind == P.EV_END else 0
    store = EventStore()
    store.add_json({"type": "hello", "pid": 100})  # the lab's own threads
    store.add_events(rec)
    return store


def test_bars_come_in_row_then_start_order_with_seconds_since_t0():
    store = _store([(1, 0, 30 * MS, 40 * MS), (0, 1, 20 * MS, 25 * MS), (0, 2, 5 * MS, 10 * MS)])
    d = GanttData(store, t0_ns=0)
    assert [r.label for r in d.rows] == ["thread 1", "thread 2"]  # one per worker thread
    assert d.row.tolist() == [0, 0, 1]
    assert np.allclose(d.s, [0.005, 0.020, 0.030]) and np.allclose(d.e, [0.010, 0.025, 0.040])
    assert d.offsets_all.tolist() == [0, 2, 3]
    assert np.allclose(d.cpu, [0.0025, 0.0025, 0.005])


def test_level_of_detail_merges_tiny_neighbours_of_one_row_only():
    # row 0: three 1 µs bars 1.5 µs apart, then a wide bar; row 1: one 1 µs bar
    s = np.array([0, 2.5, 5, 100, 1], float) * 1e-6
    e = np.array([1, 3.5, 6, 5000, 2], float) * 1e-6
    rows = np.array([0, 0, 0, 0, 1])
    wall = e - s
    layer = Layer(s, e, wall, wall / 2, rows, n_rows=2)
    assert len(layer.level(-1).s) == 5  # raw
    fine = layer.level(0)  # gap GAP0 = 1 µs: neighbours 1.5 µs apart do not merge
    assert GAP0 == 1e-6 and len(fine.s) == 5
    coarse = layer.level(1)  # gap 4 µs: the three tiny bars of row 0 become one
    assert len(coarse.s) == 3
    assert np.allclose(coarse.s, [0, 100e-6, 1e-6]) and np.allclose(coarse.e[0], 6e-6)
    assert np.isclose(coarse.wall[0], 3e-6) and np.isclose(coarse.cpu[0], 1.5e-6)
    # the wide bar never merges, and row 1's bar is not merged into row 0's
    assert np.isclose(coarse.e[1], 5000e-6)
    assert coarse.offsets.tolist() == [0, 2, 3]
