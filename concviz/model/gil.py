"""GIL metrics from signals that need no native code and no privileges. Pure functions."""

from __future__ import annotations

import numpy as np

HIGH = 0.4
LOW = 0.15


def effective_parallelism(cpu_ns: float, wall_ns: float) -> float:
    """Cores' worth of CPU the workers used on average: ``sum(cpu) / wall``."""
    return cpu_ns / wall_ns if wall_ns > 0 else 0.0


def busy_workers(task_wall_ns: float, wall_ns: float) -> float:
    """Tasks in flight on average: ``sum(task end - task start) / wall``."""
    return task_wall_ns / wall_ns if wall_ns > 0 else 0.0


def gil_contention(probe_late_ns: np.ndarray, switch_interval_s: float) -> float | None:
    """Share of a switch interval a waking thread waits for the GIL, 0..1.

    ``median(lateness) / switch_interval``, clipped to [0, 1]: a probe that wakes
    on time sees a free GIL (0); one that waits a whole switch interval sees a GIL
    held by busy Python threads (1). None without samples.
    """
    if len(probe_late_ns) == 0 or switch_interval_s <= 0:
        return None
    median = float(np.median(probe_late_ns))
    return float(min(1.0, max(0.0, median / (switch_interval_s * 1e9))))


def contention_level(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value >= HIGH:
        return "high"
    if value >= LOW:
        return "medium"
    return "low"


def gil_meter(
    strategy: str,
    effective: float,
    busy: float,
    free_threaded: bool = False,
    gil_enabled: bool = True,
) -> str:
    """The GIL meter in plain words."""
    if not gil_enabled:
        return f"no GIL: Python is running on {effective:.1f} of {busy:.1f} busy threads at once"
    if strategy == "interpreter-pool":
        return f"one GIL per interpreter: {effective:.1f} of {busy:.1f} busy interpreters running"
    if strategy in ("processes", "process-pool"):
        return f"one GIL per process: {effective:.1f} of {busy:.1f} busy processes running"
    return f"Python is running on {effective:.1f} of {busy:.1f} busy threads"


def parallelism_over_time(
    start: np.ndarray, end: np.ndarray, cpu: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Busy workers and effective parallelism in each time bin, from finished bars.

    A bar ``i`` covers ``[s_i, e_i)`` and used ``c_i`` of CPU, spread evenly (rate
    ``r_i = c_i / (e_i - s_i)``). With ``F(x) = Σ_i clip(x - s_i, 0, e_i - s_i)`` (time
    covered by bars up to ``x``) and ``G(x)`` the same weighted by ``r_i``, bin
    ``[a, b)`` has ``busy = (F(b) - F(a)) / (b - a)`` and
    ``effective = (G(b) - G(a)) / (b - a)``. ``F(x) = Σ_{s_i<x}(x - s_i) -
    Σ_{e_i<x}(x - e_i)``, evaluated with sorted starts/ends and cumulative sums, so
    the cost is O((n + m) log n) for n bars and m edges.
    """
    edges = np.asarray(edges, dtype=float)
    s = np.asarray(start, dtype=float)
    e = np.asarray(end, dtype=float)
    w = e - s
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(w > 0, np.asarray(cpu, dtype=float) / w, 0.0)

    def covered(weight: np.ndarray) -> np.ndarray:
        out = np.zeros(len(edges))
        for points, sign in ((s, 1.0), (e, -1.0)):
            order = np.argsort(points, kind="stable")
            p, wt = points[order], weight[order]
            cw = np.r_[0.0, np.cumsum(wt)]
            cwp = np.r_[0.0, np.cumsum(wt * p)]
            k = np.searchsorted(p, edges, side="left")
            out += sign * (edges * cw[k] - cwp[k])
        return out

    width = np.diff(edges)
    if len(s) == 0 or len(width) == 0:
        return np.zeros(max(len(edges) - 1, 0)), np.zeros(max(len(edges) - 1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        busy = np.where(width > 0, np.diff(covered(np.ones_like(s))) / width, 0.0)
        eff = np.where(width > 0, np.diff(covered(r)) / width, 0.0)
    return busy, eff


def sampled_sentence(per_thread: dict[str, dict], contention: float | None) -> str:
    """The GIL meter from sampled thread states (``run_object(...)["gil"]``), in words.

    A thread "wants Python" when it runs or waits for the GIL; its wait share is
    ``gil_wait / (gil_wait + running)``. One thread alone never waits.
    """
    wanting = {
        name: t
        for name, t in per_thread.items()
        if t.get("running_s", 0.0) + t.get("gil_wait_s", 0.0) > 0.0
    }
    if contention is None or not wanting:
        return "no worker thread ran Python yet"
    n = len(wanting)
    shares = [
        t["gil_wait_s"] / (t["gil_wait_s"] + t["running_s"])
        for t in wanting.values()
        if t["gil_wait_s"] + t["running_s"] > 0
    ]
    mean = sum(shares) / len(shares) if shares else 0.0
    if contention < LOW:
        return (
            f"{n} thread{'s' if n != 1 else ''} ran Python without waiting for the GIL "
            f"(contention {contention:.2f})"
        )
    return (
        f"{n} threads want Python; it runs one at a time: each waits {mean:.0%} of its "
        f"time for the GIL (contention {contention:.2f})"
    )
