"""Which slices of an imported trace are the Gantt's bars: a level chosen on demand.

A trace keeps every slice: the top level as its store's bars, deeper ones in
``run.meta["nested"]`` (lane, start, end, depth, name). A profiler's trace of a thread
pool has one top-level slice per thread (the thread's whole life), so the tasks are
a few levels down. ``choices(run)`` lists what can be shown: the top level, each
depth, and the slice names ("work × 12"), longest in total first; ``store_for(run, key)``
builds the store whose bars are those slices, on the same rows.
"""

from __future__ import annotations

import numpy as np

from .event_store import BAR_TASK, EventStore
from .session import Run

TOP = ("depth", 0)
MOST_NAMES = 2000  # a long list is fine: it completes on what is typed


def _slices(run: Run) -> dict[str, np.ndarray]:
    """Every slice of the trace run: lane, start, end, depth, name (index into names)."""
    bars = run.store.bars()
    nested = run.meta.get("nested") or {}
    n_top = len(bars["lane"])

    def col(key: str, top: np.ndarray, dtype) -> np.ndarray:
        deep = np.asarray(nested.get(key, np.zeros(0)), dtype)
        return np.concatenate([np.asarray(top, dtype), deep])

    return {
        "lane": col("lane", bars["lane"], np.int64),
        "start": col("start", bars["start"], np.int64),
        "end": col("end", bars["end"], np.int64),
        "depth": col("depth", np.zeros(n_top), np.int64),
        "name": col("name", bars["task"], np.int64),
    }


def choices(run: Run) -> list[tuple[str, tuple[str, int]]]:
    """``(label, key)`` for every level worth offering: the top level, each depth, then
    each slice name, the ones that took the most time first (a pool's task function
    is found by typing its name: the window's list completes on any part of it)."""
    if run.source != "trace":
        return []
    s = _slices(run)
    out: list[tuple[str, tuple[str, int]]] = []
    depths, counts = np.unique(s["depth"], return_counts=True)
    for d, n in zip(depths.tolist(), counts.tolist(), strict=True):
        label = "top level" if d == 0 else f"depth {d}"
        out.append((f"{label} ({n} slices)", ("depth", int(d))))
    names = run.meta.get("names") or []
    if not len(s["name"]):
        return out
    size = max(int(s["name"].max()) + 1, 1)
    counts = np.bincount(s["name"], minlength=size)
    total = np.bincount(s["name"], weights=(s["end"] - s["start"]).astype(float), minlength=size)
    order = np.argsort(-total, kind="stable")[:MOST_NAMES]
    for i in order.tolist():
        if counts[i] and 0 <= i < len(names):
            out.append((f"{names[i]} × {int(counts[i])}", ("name", int(i))))
    return out


def store_for(run: Run, key: tuple[str, int]) -> EventStore:
    """The run's rows with the chosen slices as bars (the top level: the run's store)."""
    if key == TOP or run.source != "trace":
        return run.store
    how, value = key
    s = _slices(run)
    keep = s["depth"] == value if how == "depth" else s["name"] == value
    order = np.lexsort((s["start"][keep], s["lane"][keep]))
    store = EventStore()
    store.add_imported(
        [(lane.pid, lane.tid, lane.name or "") for lane in run.store.lanes()],
        lane=s["lane"][keep][order],
        task=s["name"][keep][order],
        start=s["start"][keep][order],
        end=s["end"][keep][order],
        kind=BAR_TASK,
        cpu=(s["end"] - s["start"])[keep][order],  # time in the function, drawn as busy
    )
    store.t_min, store.t_max = run.store.t_min, run.store.t_max  # the same time axis
    store.hello = run.store.hello
    return store
