"""A Chrome trace names and orders its tracks as the window's rows."""

from __future__ import annotations

from concviz.interop.chrome_trace import trace_events
from concviz.lab import protocol as P
from concviz.model import EventStore

LAB_PID, LOOP_TID = 100, 7


def test_event_loop_track_and_coroutine_tracks_like_the_window():
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
    events = trace_events(s)
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    order = {e["tid"]: e["args"]["sort_index"] for e in events if e["name"] == "thread_sort_index"}
    by_order = [names[tid] for tid in sorted(order, key=order.get)]
    assert by_order == [
        f"event loop (thread {LOOP_TID})",
        f"coroutine 1 (event loop, tid {LOOP_TID})",
        f"coroutine 2 (event loop, tid {LOOP_TID})",
    ]
    loop_tid = next(t for t, n in names.items() if n.startswith("event loop"))
    on_loop = [e["name"] for e in events if e.get("ph") == "X" and e["tid"] == loop_tid]
    assert on_loop == ["coroutine 1: task 0", "coroutine 2: task 1"]


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
