"""Chrome Trace Event JSON out: one track per worker, opens in Perfetto and chrome://tracing."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np

from concviz.model.event_store import BAR_ERROR, BAR_SLICE, BAR_STOPPED, EventStore
from concviz.model.gil import parallelism_over_time
from concviz.model.rows import ROW_LOOP, arrange_rows
from concviz.model.session import CpuSamples, Run

# the process that holds the machine's counter tracks (per-core CPU): pid 0 is the
# kernel's idle task on Linux, never a Python program's
CPU_PID = 0


def trace_events(
    store: EventStore,
    cpu: CpuSamples | None = None,
    counters: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    process_names: dict[int, str] | None = None,
) -> list[dict]:
    """Complete ("X") events in microseconds, grouped process -> thread -> worker.

    Tracks are named and ordered as the window's rows (``model.rows.arrange_rows``,
    the labels the window draws): a worker's track is its row; an event loop gets a
    track of the slices in which each coroutine held it, above one track per
    coroutine (its tasks, and their slices inside them). Each process's tracks get
    small thread ids (1, 2, 3… in row order) and ``M`` events for their names and
    order. With ``cpu``, per-core CPU use becomes counter tracks (``C``) in a process
    of its own; the GIL probe's lateness and the workers' busy and running counts
    over time become counter tracks of the lab's process; ``counters`` (a trace's
    own, ``Run.counters``) are written back as they are.
    """
    lanes = store.lanes()
    bars = store.bars()
    t0 = store.t_min or 0
    lab_pid = (store.hello or {}).get("pid")
    names = process_names or {}
    events: list[dict] = []
    track_of_lane: dict[int, tuple[int, int]] = {}  # lane -> (pid, small tid)
    loop_track: dict[int, tuple[int, int]] = {}  # coroutine lane -> its loop's track
    next_tid: dict[int, int] = {}
    process_order: dict[int, int] = {}

    def new_track(pid: int, name: str, order: int) -> int:
        tid = next_tid.get(pid, 0) + 1
        next_tid[pid] = tid
        process_order.setdefault(pid, len(process_order))
        for meta, args in (
            ("thread_name", {"name": name}),
            ("thread_sort_index", {"sort_index": order}),
        ):
            events.append({"ph": "M", "name": meta, "pid": pid, "tid": tid, "args": args})
        return tid

    rows = arrange_rows(store, max_group_rows=None)
    for order, row in enumerate(rows):
        tid = new_track(row.pid, row.label, order)
        if row.kind == ROW_LOOP:
            for lane in row.lanes:
                loop_track[lane] = (row.pid, tid)
        else:
            track_of_lane[row.lane] = (row.pid, tid)
    for pid, order in process_order.items():
        if pid in names:
            label = names[pid]
        elif lab_pid is not None and pid == lab_pid:
            label = f"concviz lab (pid {pid})"
        else:
            label = f"pid {pid}"
        events.append({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": label}})
        events.append(
            {"ph": "M", "name": "process_sort_index", "pid": pid, "args": {"sort_index": order}}
        )
    for lane, task, start, end, cpu_ns, kind in zip(
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
        args = {"task": task, "cpu_ms": cpu_ns / 1e6}
        if kind == BAR_ERROR:
            args["error"] = store.task_errors.get(task, "failed")
        elif kind == BAR_STOPPED:
            args["stopped"] = True
        if lane not in track_of_lane:
            continue  # a lane no row draws
        pid, tid = track_of_lane[lane]
        event = {
            "ph": "X",
            "name": name,
            "cat": "slice" if kind == BAR_SLICE else "task",
            "pid": pid,
            "tid": tid,
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
    first = next(iter(track_of_lane.values()), (lab_pid or 0, 1))
    for m in store.markers:
        events.append(
            {
                "ph": "i",
                "s": "g",
                "name": f"switch to {m.get('to', {}).get('strategy')}",
                "ts": (m["t_ns"] - t0) / 1000.0,
                "pid": first[0],
                "tid": first[1],
            }
        )
    events += _wait_events(store, track_of_lane, t0)
    events += _flow_events(store, track_of_lane, t0)
    # an engine's start-up and teardown: a track of their own in the lab's process
    home = int(lab_pid if lab_pid is not None else first[0])
    phases = [ph for ph in store.phases() if ph.get("t_ns")]
    if phases:
        phase_tid = new_track(home, "engine start-up / teardown", len(rows))
    for ph in phases:
        events.append(
            {
                "ph": "X",
                "name": f"{ph.get('strategy', '')} {ph['kind']}",
                "cat": "engine",
                "pid": home,
                "tid": phase_tid,
                "ts": (ph["t0_ns"] - t0) / 1000.0,
                "dur": (ph["t_ns"] - ph["t0_ns"]) / 1000.0,
                "args": {"label": ph.get("label", ""), **(ph.get("details") or {})},
            }
        )
    # the machine's counters get a process of their own, whose pid no row uses
    cpu_pid = CPU_PID if CPU_PID not in next_tid else min(next_tid) - 1
    events += counter_events(store, cpu, counters, home, t0, cpu_pid)
    return events


def _wait_events(store: EventStore, tracks: dict[int, tuple[int, int]], t0: int) -> list[dict]:
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
        if lane not in tracks:
            continue  # a lane no row draws
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
                "pid": tracks[lane][0],
                "tid": tracks[lane][1],
                "ts": (start - t0) / 1000.0,
                "dur": (end - start) / 1000.0,
                "args": args,
            }
        )
    return out


def _flow_events(store: EventStore, tracks: dict[int, tuple[int, int]], t0: int) -> list[dict]:
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
            if lane not in tracks:
                continue
            for dep in mine:
                if dep not in span or span[dep][0] not in tracks:
                    continue
                dlane, dstart, dend = span[dep]
                flow = len(out) // 2 + 1
                common = {"name": "dependency", "cat": "dependency", "id": flow}
                out.append(
                    {
                        **common,
                        "ph": "s",
                        "pid": tracks[dlane][0],
                        "tid": tracks[dlane][1],
                        "ts": (max(dstart, dend - 1000) - t0) / 1000.0,
                        "args": {"from_task": dep, "to_task": task},
                    }
                )
                out.append(
                    {
                        **common,
                        "ph": "f",
                        "bp": "e",
                        "pid": tracks[lane][0],
                        "tid": tracks[lane][1],
                        "ts": (start - t0) / 1000.0,
                    }
                )
    return out


def counter_events(
    store: EventStore,
    cpu: CpuSamples | None,
    counters: dict[str, tuple[np.ndarray, np.ndarray]] | None,
    home: int,
    t0: int,
    cpu_pid: int = CPU_PID,
) -> list[dict]:
    """Counter (``C``) tracks: per-core CPU, the GIL probe, busy and running workers."""
    out: list[dict] = []

    def series(pid: int, name: str, t_ns: np.ndarray, values: np.ndarray) -> None:
        ts = ((np.asarray(t_ns, np.int64) - t0) / 1000.0).tolist()
        for t, v in zip(ts, np.asarray(values, np.float64).tolist(), strict=True):
            out.append({"ph": "C", "name": name, "pid": pid, "ts": t, "args": {"value": v}})

    if cpu is not None and len(cpu.t_ns) and cpu.cores:
        out.append({"ph": "M", "name": "process_name", "pid": cpu_pid, "args": {"name": "CPU"}})
        out.append(
            {"ph": "M", "name": "process_sort_index", "pid": cpu_pid, "args": {"sort_index": -1}}
        )
        for core in range(cpu.cores):
            series(cpu_pid, f"CPU core {core} (%)", cpu.t_ns, cpu.percent[:, core])
        if cpu.others is not None and len(cpu.others) == len(cpu.t_ns):
            series(cpu_pid, "other programs (cores)", cpu.t_ns, cpu.others)
    probes = store.probes()
    if len(probes["t"]):
        series(home, "GIL probe lateness (ms)", probes["t"], probes["late"] / 1e6)
    bars = store.bars()
    work = bars["kind"] != BAR_SLICE
    if work.any() and bars["cpu"][work].sum() > 0:
        # the GIL meter over time: workers with a task, and cores' worth of CPU they used
        lo, hi = int(bars["start"][work].min()), int(bars["end"][work].max())
        step = max((hi - lo) // 400, 1_000_000)
        edges = np.arange(lo, hi + step, step, dtype=np.int64)
        busy, running = parallelism_over_time(
            bars["start"][work], bars["end"][work], bars["cpu"][work], edges
        )
        series(home, "busy workers", edges[:-1], busy)
        series(home, "Python running (cores)", edges[:-1], running)
    for name, (t_ns, values) in (counters or {}).items():
        series(home, name, t_ns, values)
    return out


def run_trace_events(run: Run) -> list[dict]:
    """A session's run as trace events: its store, CPU samples, counters, process names."""
    return trace_events(
        run.store,
        cpu=run.cpu,
        counters=run.counters,
        # pid -> name; a session file's JSON gives the pids back as text
        process_names={
            int(k): str(v)
            for k, v in (run.meta.get("process_names") or {}).items()
            if str(k).lstrip("-").isdigit()
        },
    )


def write_trace(
    store: EventStore | Run, path: str | os.PathLike, cpu: CpuSamples | None = None
) -> None:
    """Write a store's (or a run's) trace atomically; gzip-compressed for a ``.gz`` path."""
    events = run_trace_events(store) if isinstance(store, Run) else trace_events(store, cpu=cpu)
    doc = {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"tool": "concviz"}}
    target = Path(path)
    data = json.dumps(doc).encode()
    if target.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
