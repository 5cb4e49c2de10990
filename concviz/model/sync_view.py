"""What the window shows of a run's sharing: wait styles, the task graph, a deadlock's cycle.

Pure functions over the event store (no Qt): which drawing style each wait gets, each
task's bar span, the critical path by measured durations, the counters as time
series, and the sentences the summary shows ("lock A: 0.42 s in 37 waits",
"lost 1,234 of 10,000 updates", "critical path 0.84 s: no worker count ends sooner (this run 1.02 s)").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from concviz.lab import protocol as P

from .critical_path import critical_path
from .event_store import BAR_SLICE, EventStore

# How a wait is drawn and named in the legend: "waiting on a lock / ... / task result".
WAIT_STYLES = ("lock", "semaphore", "queue", "barrier", "event", "task result")
_STYLE_BY_KIND = {
    "lock": 0,
    "rlock": 0,
    "condition": 4,  # waiting to be notified, as on an event
    "semaphore": 1,
    "queue": 2,
    "barrier": 3,
    "event": 4,
    "dependency": 5,
}
# kind code (protocol.SYNC_KINDS) -> style index; unknown codes draw as a lock
STYLE_OF_KIND = np.zeros(256, np.int8)
for _code, _name in P.SYNC_KINDS.items():
    STYLE_OF_KIND[_code] = _STYLE_BY_KIND.get(_name, 0)


def wait_styles(kinds: np.ndarray) -> np.ndarray:
    """The style index (into ``WAIT_STYLES``) of each wait's kind code."""
    return STYLE_OF_KIND[np.asarray(kinds, np.uint8)]


def wait_sentence(seconds: float, name: str, kind: str, holder: int) -> str:
    """``waiting 12.3 ms for lock 'A' held by task 3`` (the holder only when known)."""
    what = "a task's result" if kind == "dependency" else f"{kind} '{name}'"
    text = f"waiting {_duration(seconds)} for {what}"
    if holder >= 0:
        text += f" held by task {holder}"
    return text


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def wait_total_lines(totals: list[dict], limit: int = 4) -> list[str]:
    """``lock A: 0.42 s in 37 waits`` per object (``sync_waits.wait_totals``), most first."""
    out = []
    for w in totals[:limit]:
        n = w["count"]
        what = w["object"] if w["object"] == w["kind"] else f"{w['kind']} {w['object']}"
        out.append(f"{what}: {w['total_s']:.2f} s in {n} wait{'s' * (n != 1)}")
    if len(totals) > limit:
        out.append(f"and {len(totals) - limit} more")
    return out


def lost_updates_text(counter: dict | None) -> str | None:
    """``lost 1,234 of 10,000 updates`` (or ``lost none of 10,000 updates``) for a shared counter."""
    if not counter or counter.get("expected") is None:
        return None
    lost, expected = int(counter.get("lost_updates", 0)), int(counter["expected"])
    return (
        f"lost {lost:,} of {expected:,} updates" if lost else f"lost none of {expected:,} updates"
    )


def critical_path_text(length_s: float | None, wall_s: float | None) -> str | None:
    """``critical path 0.84 s: no worker count ends sooner (this run 1.02 s)``.

    What the path bounds is said with it: beside a sequential run's wall, "(wall
    0.62 s)" read as if the path were that run's and the two should match."""
    if length_s is None:
        return None
    text = f"critical path {length_s:.2f} s: no worker count ends sooner"
    return text + (f" (this run {wall_s:.2f} s)" if wall_s is not None else "")


@dataclass
class TaskGraph:
    """One run's task graph as the window draws it (seconds since ``t0_ns``)."""

    deps: list[list[int]]  # each task's dependencies (task ids)
    start: dict[int, float]  # each task's bar: start and end
    end: dict[int, float]
    lane: dict[int, int]  # the store lane each task ran on
    critical: list[int]  # the critical path, first to last
    critical_s: float

    def edges(self, task: int | None = None) -> list[tuple[int, int]]:
        """``(dependency, task)`` pairs of one task (None: of every task), both drawn."""
        tasks = range(len(self.deps)) if task is None else [task]
        return [
            (d, t)
            for t in tasks
            if 0 <= t < len(self.deps) and t in self.start
            for d in self.deps[t]
            if d in self.end
        ]


def task_graph(store: EventStore, t0_ns: int, run: int = -1) -> TaskGraph | None:
    """The graph of a run of a task-graph workload (``run_started.deps``), or None.

    A task's span is its task bar (not its slices); a task run twice (never, in a
    graph) keeps its last bar. The critical path is ``model.critical_path`` over the
    measured durations.
    """
    if not store.runs:
        return None
    deps = store.runs[run].started.get("deps")
    if not deps:
        return None
    bars = store.task_bars(run)
    keep = bars["kind"] != BAR_SLICE
    task = bars["task"][keep].tolist()
    start = ((bars["start"][keep] - t0_ns) / 1e9).tolist()
    end = ((bars["end"][keep] - t0_ns) / 1e9).tolist()
    lane = bars["lane"][keep].tolist()
    starts = dict(zip(task, start, strict=True))
    ends = dict(zip(task, end, strict=True))
    lanes = dict(zip(task, lane, strict=True))
    durations = {t: ends[t] - starts[t] for t in starts}
    length, path = critical_path(durations, {i: d for i, d in enumerate(deps) if d})
    return TaskGraph([list(d) for d in deps], starts, ends, lanes, path, length)


def run_deadlock(store: EventStore, run: int = -1) -> dict | None:
    """The cycle the lab found (``run_finished.deadlock``): ``{"cycle": [...], "description"}``."""
    if not store.runs or not store.runs[run].finished:
        return None
    found = store.runs[run].finished.get("deadlock")
    return found if isinstance(found, dict) and found.get("cycle") else None


def deadlock_edges(deadlock: dict) -> list[tuple[int, int, str]]:
    """``(waiting task, holding task, "lock B")``: who waits for whom, around the cycle.

    Each entry of the cycle holds one object and waits for another; the task waited
    for is the one whose entry holds that object.
    """
    cycle = deadlock.get("cycle") or []
    holder = {(c.get("holds"), c.get("holds_kind")): int(c["task"]) for c in cycle}
    out = []
    for c in cycle:
        key = (c.get("waits_for"), c.get("waits_kind"))
        if key in holder:
            out.append((int(c["task"]), holder[key], f"{key[1]} {key[0]}"))
    return out


def counter_series(store: EventStore, t0_ns: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, seconds since t0_ns, value)`` per counter object, in time order, as steps."""
    c = store.counters()
    out = []
    for obj in np.unique(c["object"]).tolist():
        mine = np.flatnonzero(c["object"] == obj)
        order = mine[np.argsort(c["t"][mine], kind="stable")]
        x = (c["t"][order] - t0_ns) / 1e9
        out.append((store.sync_name(obj)[0], x, c["value"][order].astype(np.float64)))
    return out
