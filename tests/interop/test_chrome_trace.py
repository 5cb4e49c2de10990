"""A Chrome trace names and orders its tracks as the window's rows, and opens again in concviz."""

from __future__ import annotations

import json

import numpy as np

from concviz.interop.chrome_trace import trace_events, write_trace
from concviz.interop.trace_import import load_trace
from concviz.lab import protocol as P
from concviz.model import EventStore
from concviz.model.rows import arrange_rows
from concviz.model.session import CpuSamples

LAB_PID, LOOP_TID = 100, 7


def _asyncio_store() -> EventStore:
    rec = []
    for w, (a, b) in enumerate([(0, 100), (100, 200)]):
        rec += [
            (P.EV_START, 0, w, w, LAB_PID, LOOP_TID, 0, 0, 0),
            (P.EV_SLICE_START, 0, w, w, LAB_PID, LOOP_TID, a, 0, 0),
            (P.EV_SLICE_END, 0, w, w, LAB_PID, LOOP_TID, b, b - a, a),
            (P.EV_END, 0, w, w, LAB_PID, LOOP_TID, b, b - a, 0),
        ]
    s = EventStore()
    s.add_json({"type": "hello", "pid": LAB_PID})
    s.add_frame(P.FRAME_EVENTS, P.pack_records(rec))
    return s


def _pool_store() -> EventStore:
    """Two threads of the lab, two worker processes, a failed and a stopped task."""
    rec = []
    task = 0
    for worker, pid, tid in [(0, LAB_PID, 11), (1, LAB_PID, 12), (0, 201, 201), (1, 202, 202)]:
        for k in range(3):
            t0 = 1_000_000 + k * 10_000 + worker * 1000 + pid
            end_kind = P.EV_ERROR if task == 4 else P.EV_END
            rec += [
                (P.EV_START, 0, worker, task, pid, tid, t0, 0, 0),
                (end_kind, 0, worker, task, pid, tid, t0 + 5000, 4000, t0),
            ]
            task += 1
    s = EventStore()
    s.add_json({"type": "hello", "pid": LAB_PID})
    s.add_frame(P.FRAME_EVENTS, P.pack_records(rec))
    s.add_json({"type": "task_error", "task": 4, "error": "ValueError: no"})
    # a task still open when the run ends becomes a stopped bar
    s.add_json({"type": "run_started", "t_ns": 900_000})
    s.add_frame(
        P.FRAME_EVENTS, P.pack_records([(P.EV_START, 0, 0, 99, LAB_PID, 11, 1_100_000, 0, 0)])
    )
    s.add_json({"type": "run_finished", "t_ns": 1_200_000})
    return s


def _tracks(events: list[dict]) -> list[tuple[int, int, str]]:
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"}
    order = {
        (e["pid"], e["tid"]): e["args"]["sort_index"]
        for e in events
        if e["name"] == "thread_sort_index"
    }
    return [(*key, names[key]) for key in sorted(order, key=order.get)]


def test_event_loop_track_and_coroutine_tracks_like_the_window():
    s = _asyncio_store()
    events = trace_events(s)
    window = [row.label for row in arrange_rows(s, max_group_rows=None)]
    tracks = _tracks(events)
    assert [name for _pid, _tid, name in tracks] == window
    assert window[0] == f"event loop (thread {LOOP_TID})"
    assert [tid for _pid, tid, _name in tracks] == [1, 2, 3]  # small tids, in row order
    loop_tid = tracks[0][1]
    on_loop = [e["name"] for e in events if e.get("ph") == "X" and e["tid"] == loop_tid]
    assert on_loop == ["coroutine 1: task 0", "coroutine 2: task 1"]


def test_processes_and_threads_get_names_sort_indices_and_small_tids():
    s = _pool_store()
    events = trace_events(s)
    tracks = _tracks(events)
    window = arrange_rows(s, max_group_rows=None)
    assert [name for *_k, name in tracks] == [row.label for row in window]
    by_pid: dict[int, list[int]] = {}
    for pid, tid, _name in tracks:
        by_pid.setdefault(pid, []).append(tid)
    assert by_pid == {LAB_PID: [1, 2], 201: [1], 202: [1]}
    processes = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert processes[LAB_PID] == f"concviz lab (pid {LAB_PID})"
    sort = {e["pid"]: e["args"]["sort_index"] for e in events if e["name"] == "process_sort_index"}
    assert sorted(sort, key=sort.get) == [LAB_PID, 201, 202]
    assert all(e["tid"] in by_pid[e["pid"]] for e in events if e["ph"] == "X")


def _round_trip(store: EventStore, tmp_path, name: str = "out.json", **kw):
    path = tmp_path / name
    write_trace(store, path, **kw)
    return load_trace(path).runs[0]


def test_exported_threads_and_processes_reopen_with_the_same_rows_and_bars(tmp_path):
    s = _pool_store()
    run = _round_trip(s, tmp_path)
    assert run.meta["tool"] == "concviz"
    rows = [(r.label, r.group) for r in arrange_rows(s, max_group_rows=None)]
    again = [(r.label, r.group) for r in arrange_rows(run.store, max_group_rows=None)]
    assert again == rows
    assert run.store.bar_count == s.bar_count
    b0, b1 = s.bars(), run.store.bars()
    start0 = np.sort(b0["start"] - b0["start"].min())
    start1 = np.sort(b1["start"] - b1["start"].min())
    assert np.array_equal(start0, start1)
    assert np.array_equal(np.sort(b0["end"] - b0["start"]), np.sort(b1["end"] - b1["start"]))
    assert run.meta["process_names"][LAB_PID] == f"concviz lab (pid {LAB_PID})"


def test_exported_event_loop_reopens_with_the_same_rows_and_bar_count(tmp_path):
    s = _asyncio_store()
    run = _round_trip(s, tmp_path)
    rows = [r.label for r in arrange_rows(s, max_group_rows=None)]
    assert [r.label for r in arrange_rows(run.store, max_group_rows=None)] == rows
    # each coroutine's slice is inside its task (nested on import) and again on the
    # loop's track (top level there): the bars add up to the store's
    assert run.store.bar_count == s.bar_count
    assert len(run.meta["nested"]["lane"]) == 2


def test_cpu_and_gil_counters_are_written_and_read_back(tmp_path):
    s = _pool_store()
    s.add_frame(
        P.FRAME_EVENTS,
        P.pack_records(
            [
                (P.EV_PROBE, 0, P.WORKER_PROBE, -1, LAB_PID, 1, 1_050_000 + k, 2_000_000, 0)
                for k in range(3)
            ]
        ),
    )
    t = np.array([1_000_000, 1_050_000, 1_100_000], np.int64)
    pct = np.array([[10.0, 90.0], [20.0, 80.0], [30.0, 70.0]], np.float32)
    run = _round_trip(s, tmp_path, cpu=CpuSamples(t_ns=t, percent=pct))
    core1_t, core1 = run.counters["CPU core 1 (%)"]
    assert np.allclose(core1, [90.0, 80.0, 70.0])
    assert np.array_equal(core1_t - core1_t[0], t - t[0])
    assert np.allclose(run.counters["GIL probe lateness (ms)"][1], 2.0)
    busy = run.counters["busy workers"][1]
    running = run.counters["Python running (cores)"][1]
    assert busy.max() > 0 and running.max() > 0
    assert np.all(running <= busy + 1e-9)  # CPU (4 ms) within each task's 5 ms
    doc = json.loads((tmp_path / "out.json").read_text())
    cpu_pids = {e["pid"] for e in doc["traceEvents"] if e["name"].startswith("CPU core")}
    assert len(cpu_pids) == 1 and cpu_pids.isdisjoint({LAB_PID, 201, 202})


def test_a_gz_path_is_written_compressed_and_reopens(tmp_path):
    s = _pool_store()
    run = _round_trip(s, tmp_path, name="out.json.gz")
    assert (tmp_path / "out.json.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert run.name == "out" and run.store.bar_count == s.bar_count


def test_waits_are_slices_and_dependencies_are_flows():
    ms = 1_000_000
    s = EventStore()
    s.add_json({"type": "hello", "pid": LAB_PID})
    s.add_json({"type": "run_started", "t_ns": 0, "deps": [[], [0]]})
    s.add_json({"type": "sync_object", "id": 5, "name": "A", "kind": "lock"})
    rec = [
        (P.EV_START, 0, 0, 0, LAB_PID, 1, 0, 0, 0),
        (P.EV_END, 0, 0, 0, LAB_PID, 1, 10 * ms, 0, 0),
        (P.EV_START, 0, 1, 1, LAB_PID, 2, 12 * ms, 0, 0),
        # task 1 waits 13..15 ms for lock A held by task 0
        (
            P.EV_WAIT,
            P.SYNC_KIND_CODES["lock"],
            1,
            1,
            LAB_PID,
            2,
            15 * ms,
            P.pack_wait(5, 0),
            13 * ms,
        ),
        (P.EV_END, 0, 1, 1, LAB_PID, 2, 20 * ms, 0, 12 * ms),
    ]
    s.add_frame(P.FRAME_EVENTS, P.pack_records(rec))
    s.add_json({"type": "run_finished", "t_ns": 20 * ms, "wall_ns": 20 * ms})
    events = trace_events(s)
    [wait] = [e for e in events if e.get("cat") == "wait"]
    [task1] = [e for e in events if e.get("cat") == "task" and e["args"]["task"] == 1]
    assert (wait["name"], wait["ts"], wait["dur"]) == ("A", 13_000.0, 2_000.0)
    assert (wait["pid"], wait["tid"]) == (task1["pid"], task1["tid"])
    assert wait["args"]["held_by_task"] == 0
    [start] = [e for e in events if e.get("ph") == "s"]
    [finish] = [e for e in events if e.get("ph") == "f"]
    assert start["id"] == finish["id"] and finish["bp"] == "e"
    assert 0 <= start["ts"] < 10_000.0  # inside task 0's slice, which it binds to
    assert finish["ts"] == task1["ts"] == 12_000.0
