"""How smooth a GUI was: statistics of the interval between its redraw ticks."""

from __future__ import annotations

import numpy as np


def frame_intervals_ms(tick_times_s: np.ndarray) -> np.ndarray:
    """Milliseconds between consecutive ticks (``diff(times) * 1000``)."""
    t = np.asarray(tick_times_s, dtype=float)
    return np.diff(t) * 1000.0 if len(t) >= 2 else np.zeros(0)


def interval_stats(intervals_ms: np.ndarray) -> dict:
    """``p50``, ``p99`` and ``max`` of frame intervals (ms), and how many there were.

    A GUI ticking at 60 Hz has p50 ≈ p99 ≈ 16.7 ms; a GUI starved of the GIL keeps
    its p50 but its p99 (one frame in a hundred) grows by the time it waited.
    """
    x = np.asarray(intervals_ms, dtype=float)
    if len(x) == 0:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {
        "p50": float(np.percentile(x, 50)),
        "p99": float(np.percentile(x, 99)),
        "max": float(x.max()),
        "n": int(len(x)),
    }
