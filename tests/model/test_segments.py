"""Segments of a continuous run: figures per setting, speedups, switch labels (no lab)."""

from __future__ import annotations

import numpy as np
import pytest

from concviz.lab import protocol as P
from concviz.model import EventStore
from concviz.model.event_store import RECORD_DTYPE
from concviz.model.segments import SegmentTracker, rate_text, run_segments, switch_label

MS = 1_000_000
S = 1_000_000_000


def ends(lane_tid: int, t0: np.ndarray, t1: np.ndarray, cpu: np.ndarray) -> np.ndarray:
    rec = np.zeros(len(t0), RECORD_DTYPE)
    rec["kind"] = P.EV_END
    rec["worker"] = lane_tid % 16
    rec["task"] = np.arange(len(t0))
    rec["pid"] = 100
    rec["tid"] = lane_tid
    rec["t0_ns"], rec["t_ns"], rec["cpu_ns"] = t0, t1, cpu
    return rec


def every(lane: int, start: int, stop: int, task_ns: int, cpu_share: float, period: int = 0):
    """Tasks of ``task_ns`` one ``period`` apart (back to back by default), all ending
    before ``stop``."""
    t0 = np.arange(start, stop - task_ns, period or task_ns, dtype=np.int64)
    return ends(lane, t0, t0 + task_ns, (np.full(len(t0), task_ns) * cpu_share).astype(np.int64))


def two_segments(store: EventStore) -> None:
    """threads × 2 for 4 s (taking turns: one 10 ms task at a time, half of it on a
    CPU; 399 tasks), then process-pool × 2 for 4 s (two lanes of 10 ms tasks, all
    on a CPU; 798 tasks)."""
    store.add_json({"type": "run_started", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "workload": "cpu-python", "task_ms": 10.0, "mode": "continuous"})  # fmt: skip
    store.add_json({"type": "segment", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "task_ms": 10.0, "index": 0})  # fmt: skip
    for lane in (1, 2):  # two threads taking turns: each does a task every 20 ms
        store.add_events(every(lane, (lane - 1) * 10 * MS, 4 * S, 10 * MS, 0.5, 20 * MS))
    store.add_json({"type": "marker", "kind": "switch", "t_ns": 4 * S,
                    "from": {"strategy": "threads", "workers": 2},
                    "to": {"strategy": "process-pool", "workers": 2}})  # fmt: skip
    store.add_json({"type": "segment", "t_ns": 4 * S, "strategy": "process-pool",
                    "workers": 2, "task_ms": 10.0, "index": 1})  # fmt: skip
    for lane in (3, 4):
        store.add_events(every(lane, 4 * S, 8 * S, 10 * MS, 1.0))


def test_each_segment_counts_its_tasks_rate_parallelism_and_speedup():
    store = EventStore()
    two_segments(store)
    tracker = SegmentTracker(store)
    tracker.update()
    a, b = tracker.segments
    assert (a.strategy, a.workers, b.strategy) == ("threads", 2, "process-pool")
    assert (a.tasks, b.tasks) == (399, 798)
    assert a.end_ns == 4 * S and b.end_ns is None  # the second is still going
    assert a.tasks_per_s(8 * S) == pytest.approx(99.75)
    assert b.tasks_per_s(8 * S) == pytest.approx(199.5)
    assert a.parallelism(8 * S) == pytest.approx(399 * 0.005 / 4)
    assert b.parallelism(8 * S) == pytest.approx(798 * 0.010 / 4)
    assert a.mean_task_ms() == pytest.approx(10.0)
    assert tracker.speedup(b, 8 * S) == pytest.approx(2.0)
    assert tracker.speedup(a, 8 * S) == 1.0  # the first is its own reference


def test_the_run_json_rows_and_a_finished_run():
    store = EventStore()
    two_segments(store)
    store.add_json({"type": "run_finished", "t_ns": 8 * S, "wall_ns": 8 * S, "ok": True})
    rows = run_segments(store)
    assert [r["strategy"] for r in rows] == ["threads", "process-pool"]
    assert rows[0]["start_s"] == 0 and rows[0]["end_s"] == 4 and rows[1]["end_s"] == 8
    assert rows[1]["tasks_per_s"] == pytest.approx(199.5)
    assert rows[1]["speedup_vs_first"] == pytest.approx(2.0)
    assert set(rows[0]) >= {"strategy", "workers", "start_s", "end_s", "tasks",
                            "tasks_per_s", "parallelism", "speedup_vs_first"}  # fmt: skip


def test_a_sequential_segment_is_the_reference_and_task_sizes_compare_by_work():
    store = EventStore()
    store.add_json({"type": "run_started", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "workload": "cpu-python", "task_ms": 10.0, "mode": "continuous"})  # fmt: skip
    store.add_json({"type": "segment", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "task_ms": 10.0, "index": 0})  # fmt: skip
    store.add_events(every(1, 0, 2 * S, 10 * MS, 1.0))  # about 100 tasks/s
    store.add_json({"type": "segment", "t_ns": 2 * S, "strategy": "sequential", "workers": 1,
                    "task_ms": 20.0, "index": 1})  # fmt: skip
    store.add_events(every(2, 2 * S, 4 * S, 40 * MS, 1.0))  # about 25 tasks/s of 20 ms asked
    tracker = SegmentTracker(store)
    tracker.update()
    first, seq = tracker.segments
    assert tracker.reference(first) is seq
    # about 100 tasks/s × 10 ms against 25 tasks/s × 20 ms: twice the work per second
    assert (first.tasks, seq.tasks) == (199, 49)
    assert tracker.speedup(first, 4 * S) == pytest.approx(199 * 10 / (49 * 20))
    label = switch_label(first, seq, 4 * S)
    assert "(10 → 20 ms tasks)" in label and "99.5 → 24.5 tasks/s" in label


def test_a_switch_label_carries_both_rates_and_the_ratio():
    store = EventStore()
    two_segments(store)
    tracker = SegmentTracker(store)
    tracker.update()
    a, b = tracker.segments
    text = switch_label(a, b, 8 * S)
    assert text == "threads × 2 → process-pool × 2: 99.8 → 200 tasks/s, 2.0×"
    assert (rate_text(1234.4), rate_text(12.34), rate_text(1.234)) == ("1,234", "12.3", "1.23")


def test_bars_arriving_late_are_added_to_the_segment_they_ended_in():
    store = EventStore()
    two_segments(store)
    tracker = SegmentTracker(store)
    tracker.update()
    before = tracker.segments[0].tasks
    store.add_events(ends(1, np.array([3 * S]), np.array([3 * S + 5 * MS]), np.array([0])))
    tracker.update()
    assert tracker.segments[0].tasks == before + 1
    assert tracker.segments[1].tasks == 798


def test_the_rolling_rate_reads_the_last_two_seconds():
    store = EventStore()
    two_segments(store)
    tracker = SegmentTracker(store)
    tracker.update()
    assert tracker.rolling_tasks_per_s(8 * S) == pytest.approx(200.0, rel=0.01)
    # one second into the second segment, it reads that second only (not the first's 100)
    assert tracker.rolling_tasks_per_s(5 * S) == pytest.approx(200.0, rel=0.02)


def test_the_throughput_bins_count_tasks_where_they_ended():
    store = EventStore()
    two_segments(store)
    tracker = SegmentTracker(store)
    tracker.update()
    per_bin = tracker.throughput(8 * S)
    bin_s = 0.25
    assert per_bin.sum() == 399 + 798
    assert per_bin[:15].mean() / bin_s == pytest.approx(100, rel=0.05)  # threads: ~100/s
    assert per_bin[17:31].mean() / bin_s == pytest.approx(200, rel=0.05)  # the pool: ~200/s
