"""The event budget and the aggregate of older bars: memory stays flat, figures stay whole."""

from __future__ import annotations

import numpy as np
import pytest

from concviz.lab import protocol as P
from concviz.model import EventStore
from concviz.model.event_store import RECORD_DTYPE
from concviz.model.history import MAX_BINS, EventBudget, History, column_mix
from concviz.model.segments import run_segments, tracker_for

MS = 1_000_000
S = 1_000_000_000


def test_column_mix_integrates_bars_exactly_over_columns():
    # bars [0, 2) and [3, 4): columns of width 1 from 0 to 5
    s, e = np.array([0.0, 3.0]), np.array([2.0, 4.0])
    busy = column_mix(s, e, np.array([[2.0, 1.0]]), np.arange(6.0))
    assert busy[0].tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]
    # a weight spreads evenly over its bar: half of the first bar's 1.0 per column
    part = column_mix(s, e, np.array([[1.0, 0.0]]), np.array([0.0, 0.5, 2.0, 5.0]))
    assert part[0] == pytest.approx([0.25, 0.75, 0.0])
    # edges inside one bar, and before and after everything
    assert column_mix(s, e, np.array([[2.0, 1.0]]), np.array([-1.0, 0.5, 1.0, 9.0]))[
        0
    ] == pytest.approx([0.5, 0.5, 2.0])


def test_history_bins_hold_busy_time_and_tasks_and_coarsen_instead_of_growing():
    h = History(0, bin_ns=10 * MS)
    t0 = np.arange(0, 100 * MS, 2 * MS, dtype=np.int64)
    bars = {
        "lane": np.zeros(len(t0), np.int32),
        "start": t0,
        "end": t0 + MS,
        "cpu": np.full(len(t0), MS // 2),
        "kind": np.zeros(len(t0), np.uint8),
        "task": np.arange(len(t0)),
    }
    h.add(bars, None)
    assert h.data[0, 0, :10] == pytest.approx([5 * MS] * 10)  # busy: half of each bin
    assert h.data[0, 1, :10] == pytest.approx([2.5 * MS] * 10)  # running: half of busy
    assert h.tasks[0, :10].sum() == 50
    cols = h.columns(0, 0, np.array([0.0, 0.05, 0.1]))  # two 50 ms columns
    assert cols[0] == pytest.approx([25 * MS, 25 * MS])
    # far later bars: the bins double in width rather than pass MAX_BINS
    late = {k: v.copy() for k, v in bars.items()}
    late["start"] = late["start"] + 3600 * S
    late["end"] = late["end"] + 3600 * S
    h.add(late, None)
    assert h.n_bins <= MAX_BINS and h.bin_ns > 10 * MS
    assert float(h.data[0, 0].sum()) == pytest.approx(100 * 0.5 * 2 * MS * 50 / 50 * 1)
    assert h.tasks[0].sum() == 100


def _chunk(i0: int, n: int, lanes: int = 2) -> np.ndarray:
    """``n`` 1 ms tasks on ``lanes`` lanes, back to back from task ``i0`` on (each
    lane's records together, as a batch from the lab holds them)."""
    i = np.arange(i0, i0 + n)
    i = np.concatenate([i[i % lanes == k] for k in range(lanes)])
    rec = np.zeros(n, RECORD_DTYPE)
    rec["kind"] = P.EV_END
    rec["worker"] = i % lanes
    rec["tid"] = 10 + i % lanes
    rec["pid"] = 100
    rec["task"] = i
    rec["t0_ns"] = (i // lanes) * MS
    rec["t_ns"] = rec["t0_ns"] + MS
    rec["cpu_ns"] = MS * 9 // 10
    return rec


def test_a_budget_keeps_5m_events_in_fixed_memory_and_every_task_counted():
    store = EventStore()
    store.add_json({"type": "run_started", "t_ns": 0, "strategy": "process-pool",
                    "workers": 2, "workload": "cpu-python", "task_ms": 1.0,
                    "mode": "continuous"})  # fmt: skip
    store.add_json({"type": "segment", "t_ns": 0, "strategy": "process-pool", "workers": 2,
                    "task_ms": 1.0, "index": 0})  # fmt: skip
    budget = EventBudget(bars=200_000)
    total, step = 5_000_000, 250_000
    sizes = []
    for i0 in range(0, total, step):
        if i0 == total // 2:  # a switch half way
            store.add_json({"type": "segment", "t_ns": (i0 // 2) * MS, "strategy": "threads",
                            "workers": 2, "task_ms": 1.0, "index": 1})  # fmt: skip
        store.add_events(_chunk(i0, step))
        budget.apply(store)
        sizes.append(store.bar_count)
    assert max(sizes) <= budget.bars + step  # never more than the budget and one batch
    assert store.bars_dropped + store.bar_count == total
    h = store.history
    assert h is not None and h.nbytes() < 8 * 2**20  # the aggregate is small and fixed
    # the aggregate holds the dropped bars' busy time: 1 ms each
    assert float(h.data[:, 0].sum()) == pytest.approx(store.bars_dropped * MS, rel=1e-4)
    assert int(h.tasks.sum()) == store.bars_dropped
    store.add_json({"type": "run_finished", "t_ns": total // 2 * MS + MS, "wall_ns": 1,
                    "ok": True})  # fmt: skip
    rows = run_segments(store)
    assert [r["tasks"] for r in rows] == [total // 2, total // 2]  # none lost with the bars
    assert rows[0]["tasks_per_s"] == pytest.approx(2000.0, rel=1e-3)
    assert tracker_for(store).segments[1].cpu_ns == total // 2 * (MS * 9 // 10)


def test_a_budget_by_age_keeps_the_last_seconds_in_detail():
    store = EventStore()
    store.add_json({"type": "run_started", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "workload": "cpu-python", "task_ms": 1.0, "mode": "continuous"})  # fmt: skip
    store.add_json({"type": "segment", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "task_ms": 1.0, "index": 0})  # fmt: skip
    for i0 in range(0, 40_000, 1000):  # 20 s of 1 ms tasks on two lanes, in batches
        store.add_events(_chunk(i0, 1000))
    budget = EventBudget(bars=10**9, keep_s=5.0)
    assert budget.apply(store) > 0
    end = store.bars()["end"]
    # the last 5 s kept in detail (to a batch: a batch of 1000 here spans 0.5 s)
    assert store.t_max - 5.5 * S <= end.min() <= store.t_max - 4.5 * S
    assert store.bars_dropped + store.bar_count == 40_000
    assert budget.apply(store) == 0  # nothing due until a tenth more has aged
