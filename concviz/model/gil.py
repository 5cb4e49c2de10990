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
