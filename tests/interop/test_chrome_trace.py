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
