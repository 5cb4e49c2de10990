"""Chrome Trace Event JSON out: one track per worker, opens in Perfetto and chrome://tracing."""

from __future__ import annotations

import json
import os
from pathlib import Path

from concviz.model.event_store import BAR_ERROR, BAR_SLICE, BAR_STOPPED, EventStore
from concviz.model.rows import ROW_COROUTINE, ROW_LOOP, SUB_ROW, arrange_rows

# an event loop's own track (the slices in which its coroutines ran) is keyed past
# every lane's, by its thread id
_LOOP_TRACK = 1 << 40


def trace_events(store: EventStore) -> list[dict]:
    """Complete ("X") events in microseconds, grouped process -> thread -> worker.

    Tracks are named and ordered as the window's rows (``model.rows``): a worker's
    track is its row; an event loop gets a track of the slices in which each coroutine
    held it, above one track per coroutine (its tasks, and their slices inside them).
    """
    lanes = store.lanes()
    bars = store.bars()
    t0 = store.t_min or 0
    events: list[dict] = []
    loop_track: dict[int, tuple[int, int]] = {}  # coroutine lane -> (pid, loop track)
    for order, row in enumerate(arrange_rows(store, max_group_rows=None)):
        if row.kind == ROW_LOOP:
            track, name = _LOOP_TRACK + row.tid, row.label
            for lane in row.lanes:
                loop_track[lane] = (row.pid, track)
        elif row.kind == ROW_COROUTINE:
            track = row.lane
            name = f"{row.label.removeprefix(SUB_ROW)} (event loop, tid {row.tid})"
        else:
            track, name = row.lane, f"{row.label} (tid {lanes[row.lane].tid})"
        for meta, args in (
            ("thread_name", {"name": name}),
            ("thread_sort_index", {"sort_index": order}),
        ):
            events.append({"ph": "M", "name": meta, "pid": row.pid, "tid": track, "args": args})
    for pid in sorted({lane.pid for lane in lanes}):
        events.append(
            {"ph": "M", "name": "process_name", "pid": pid, "args": {"name": f"pid {pid}"}}
        )
    pids = [lane.pid for lane in lanes]
    for lane, task, start, end, cpu, kind in zip(
        bars["lane"].tolist(),
        bars["task"].tolist(),
        bars["start"].tolist(),
        bars["end"].tolist(),
        bars["cpu"].tolist(),
        bars["kind"].tolist(),
        strict=True,
    ):
        name = f"task {task}" if task >= 0 else "serial step"
        if kind == BAR_SLICE:
            name += " (slice)"
        args = {"task": task, "cpu_ms": cpu / 1e6}
        if kind == BAR_ERROR:
            args["error"] = store.task_errors.get(task, "failed")
        elif kind == BAR_STOPPED:
            args["stopped"] = True
        event = {
            "ph": "X",
            "name": name,
            "cat": "slice" if kind == BAR_SLICE else "task",
            "pid": pids[lane],
            "tid": lane,
            "ts": (start - t0) / 1000.0,
            "dur": (end - start) / 1000.0,
            "args": args,
        }
        events.append(event)
        if kind == BAR_SLICE and lane in loop_track:  # and on its loop's track
            coroutine = lanes[lane].worker + 1
            pid, track = loop_track[lane]
            events.append(
                {**event, "name": f"coroutine {coroutine}: task {task}", "pid": pid, "tid": track}
            )
    for m in store.markers:
        events.append(
            {
                "ph": "i",
                "s": "g",
                "name": f"switch to {m.get('to', {}).get('strategy')}",
                "ts": (m["t_ns"] - t0) / 1000.0,
                "pid": pids[0] if pids else 0,
                "tid": 0,
            }
        )
    events += _wait_events(store, pids, t0)
    events += _flow_events(store, pids, t0)
    # an engine's start-up and teardown: a track of their own in the lab's process
    lab_pid = int((store.hello or {}).get("pid", pids[0] if pids else 0))
    phases = [ph for ph in store.phases() if ph.get("t_ns")]
    if phases:
        events.append(
            {
                "ph": "M",
                "name": "thread_name",
                "pid": lab_pid,
                "tid": -1,
                "args": {"name": "engine start-up / teardown"},
            }
        )
    for ph in phases:
        events.append(
            {
                "ph": "X",
                "name": f"{ph.get('strategy', '')} {ph['kind']}",
                "cat": "engine",
                "pid": lab_pid,
                "tid": -1,
                "ts": (ph["t0_ns"] - t0) / 1000.0,
                "dur": (ph["t_ns"] - ph["t0_ns"]) / 1000.0,
                "args": {"label": ph.get("label", ""), **(ph.get("details") or {})},
            }
        )
    return events


def _wait_events(store: EventStore, pids: list[int], t0: int) -> list[dict]:
    """Each wait on a shared object: a slice (category ``wait``, named for the object) on
    its worker's track, inside the task's own slice."""
    w = store.wait_slices()
    out = []
    names: dict[int, tuple[str, str]] = {}
    for lane, task, start, end, obj, holder in zip(
        w["lane"].tolist(),
        w["task"].tolist(),
        w["start"].tolist(),
        w["end"].tolist(),
        w["object"].tolist(),
        w["holder"].tolist(),
        strict=True,
    ):
        if not 0 <= lane < len(pids):
            continue
        if obj not in names:
            names[obj] = store.sync_name(obj)
        name, kind = names[obj]
        args = {"task": task, "kind": kind}
        if holder >= 0:
            args["held_by_task"] = holder
        out.append(
            {
                "ph": "X",
                "name": name,
                "cat": "wait",
                "pid": pids[lane],
                "tid": lane,
                "ts": (start - t0) / 1000.0,
                "dur": (end - start) / 1000.0,
                "args": args,
            }
        )
    return out


def _flow_events(store: EventStore, pids: list[int], t0: int) -> list[dict]:
    """A task graph's dependencies as flow arrows: ``s`` just before the dependency's end
    (inside its slice, which it binds to), ``f`` at the task's start (``bp: e``: bound to
    the slice that encloses it), one id per edge."""
    out = []
    for info in store.runs:
        deps = info.started.get("deps")
        if not deps:
            continue
        lo = int(info.started["t_ns"])
        hi = int(info.finished["t_ns"]) if info.finished else 2**62
        b = store.bars()
        keep = (b["kind"] != BAR_SLICE) & (b["start"] >= lo) & (b["end"] <= hi)
        span = {
            int(t): (int(ln), int(s), int(e))
            for t, ln, s, e in zip(
                b["task"][keep], b["lane"][keep], b["start"][keep], b["end"][keep], strict=True
            )
        }
        for task, mine in enumerate(deps):
            if task not in span:
                continue
            lane, start, _end = span[task]
            for dep in mine:
                if dep not in span:
                    continue
                dlane, dstart, dend = span[dep]
                flow = len(out) // 2 + 1
                common = {"name": "dependency", "cat": "dependency", "id": flow}
                out.append(
                    {
                        **common,
                        "ph": "s",
                        "pid": pids[dlane],
                        "tid": dlane,
                        "ts": (max(dstart, dend - 1000) - t0) / 1000.0,
                        "args": {"from_task": dep, "to_task": task},
                    }
                )
                out.append(
                    {
                        **common,
                        "ph": "f",
                        "bp": "e",
                        "pid": pids[lane],
                        "tid": lane,
                        "ts": (start - t0) / 1000.0,
                    }
                )
    return out


def write_trace(store: EventStore, path: str | os.PathLike) -> None:
    """Write the trace atomically."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps({"traceEvents": trace_events(store), "displayTimeUnit": "ms"}))
    os.replace(tmp, target)
