"""Per-thread CPU and core samples of the lab's process tree, as numpy columns.

Each sample row is one thread at one moment: cumulative CPU time (user + system)
and the core it last ran on (-1 where the OS does not say). Rates and migrations
are computed here, without Qt.

Threads: ``append`` from the sampler's thread; readers from any thread.
"""

from __future__ import annotations

import threading

import numpy as np

from .event_store import _Columns

FIELDS = (
    ("t", np.int64),
    ("pid", np.int64),
    ("tid", np.int64),
    ("cpu_ns", np.int64),
    ("core", np.int32),
    ("vol_ctx", np.int64),
)


class ThreadSamples:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cols = _Columns(FIELDS)
        self.version = 0

    def append(self, t: int, rows: np.ndarray) -> None:
        """``rows``: (n, 5) int64 of pid, tid, cpu_ns, core, voluntary switches (-1 unknown)."""
        if len(rows) == 0:
            return
        with self._lock:
            self._cols.append(
                t=np.full(len(rows), t, np.int64),
                pid=rows[:, 0],
                tid=rows[:, 1],
                cpu_ns=rows[:, 2],
                core=rows[:, 3].astype(np.int32),
                vol_ctx=rows[:, 4],
            )
            self.version += 1

    def view(self) -> dict[str, np.ndarray]:
        with self._lock:
            return self._cols.view()

    def thread_series(self, tid: int) -> dict[str, np.ndarray]:
        v = self.view()
        keep = v["tid"] == tid
        return {k: col[keep] for k, col in v.items()}


def cpu_rate(t: np.ndarray, cpu_ns: np.ndarray) -> np.ndarray:
    """CPU share between consecutive samples of one thread: ``d(cpu) / d(t)``, 0..1."""
    if len(t) < 2:
        return np.zeros(0)
    dt = np.diff(t).astype(float)
    dc = np.diff(cpu_ns).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(dt > 0, dc / dt, 0.0)
    return np.clip(rate, 0.0, 1.0)


def migrations(core: np.ndarray) -> int:
    """How many times a thread was seen on another core than at its previous sample."""
    known = core[core >= 0]
    if len(known) < 2:
        return 0
    return int(np.count_nonzero(known[1:] != known[:-1]))
