"""A finished run as it was at any moment: the model side of replay.

``store_at(store, t_ns)`` is the store a live view would have held at ``t_ns``: bars
that had ended are bars, tasks that had started and not ended are open (they grow up
to ``t_ns`` when drawn), waits, samples, markers and phases up to then, and the run
not yet finished before its end. At or after the run's end it is the whole run, so a
replay ends on exactly the bars the live run drew.
"""

from __future__ import annotations

import copy

import numpy as np

from .event_store import EventStore


def span(store: EventStore) -> tuple[int, int]:
    """``(t0, t1)``: from the first run's start (or the first event) to the last event."""
    if store.runs:
        t0 = int(store.runs[0].started["t_ns"])
    else:
        t0 = int(store.t_min or 0)
    t1 = int(store.t_max if store.t_max is not None else t0)
    return t0, max(t0, t1)


def store_at(store: EventStore, t_ns: int) -> EventStore:
    """The store as a live view held it at ``t_ns`` (a new store; ``store`` is unchanged)."""
    info, cols = store.state()
    info = copy.deepcopy(info)
    t0, t1 = span(store)
    if t_ns >= t1:
        return EventStore.from_state(info, cols)
    start, end, lane = cols["bars.start"], cols["bars.end"], cols["bars.lane"]
    ended = end <= t_ns
    going = (start <= t_ns) & ~ended
    n_lanes = len(info["lanes"])
    open_start = np.full(n_lanes, -1, np.int64)
    open_task = np.full(n_lanes, -1, np.int64)
    if going.any():  # one open task per lane: the latest started
        order = np.argsort(start[going], kind="stable")
        lanes_g, start_g = lane[going][order], start[going][order]
        task_g = cols["bars.task"][going][order]
        open_start[lanes_g] = start_g
        open_task[lanes_g] = task_g
    last_end = np.full(n_lanes, -1, np.int64)
    if ended.any():
        np.maximum.at(last_end, lane[ended], end[ended])
    for name in [k for k in cols if k.startswith("bars.")]:
        cols[name] = cols[name][ended]
    cols["open.start"], cols["open.task"], cols["open.last_end"] = (
        open_start,
        open_task,
        last_end,
    )
    for prefix, time_col in (
        ("queued", "t"),
        ("probes", "t"),
        ("counters", "t"),
        ("sync_waits", "end"),
        ("waits", "t"),
    ):
        key = f"{prefix}.{time_col}"
        if key in cols:
            keep = cols[key] <= t_ns
            for name in [k for k in cols if k.startswith(prefix + ".") and k != "waits.frozen"]:
                cols[name] = cols[name][keep]
    cols.pop("waits.frozen", None)  # per-bar splits of the whole run: recomputed from samples
    for run in info["runs"]:
        if run["finished"] is not None and int(run["finished"]["t_ns"]) > t_ns:
            run["finished"] = None
        run["segments"] = [s for s in run["segments"] if int(s.get("t_ns", t0)) <= t_ns]
        phases = []
        for ph in run["phases"]:
            if int(ph["t0_ns"]) > t_ns:
                continue
            if ph.get("t_ns") is not None and int(ph["t_ns"]) > t_ns:
                ph = {**ph, "t_ns": None}  # still going then
            phases.append(ph)
        run["phases"] = phases
    info["runs"] = [r for r in info["runs"] if int(r["started"]["t_ns"]) <= t_ns]
    info["markers"] = [m for m in info["markers"] if int(m.get("t_ns", t0)) <= t_ns]
    info["output"] = []  # printed lines carry no time: they come with the run's end
    info["t_max"] = max(int(info["t_min"] if info["t_min"] is not None else t_ns), t_ns)
    return EventStore.from_state(info, cols)
