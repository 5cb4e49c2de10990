"""Where each worker thread's time went: running, waiting for the GIL, for a CPU, on I/O.

The wait sampler (``runtime/wait_sampler.py``) reads every lab thread from outside the
lab at about 200 Hz: what the thread is doing at that instant (``STATE_*``, from
``/proc/PID/task/TID/syscall``), its CPU time and its run-queue delay (both cumulative,
from ``schedstat``, read every other sample; -1 in between). This module keeps those samples as numpy columns and turns them
into numbers without Qt:

* **running** — the task's own CPU time (exact, measured in the worker);
* **waiting for a CPU** — the growth of the thread's run-queue delay over the task:
  it was runnable, but another thread or program held the core (from the kernel's
  counter, interpolated between its readings at 100 Hz);
* the rest of the wall time is **off CPU**, shared out by the sampled states in the
  task's interval: **waiting for the GIL** (asleep in ``futex`` on the GIL, see
  ``runtime/elf_symbols.py``) or **waiting on I/O, a sleep or a lock** (any other wait).

``gil_contention`` is the share of the workers' Python-wanting time spent waiting for
the GIL: ``gil_wait / (gil_wait + running)``; one thread alone never waits, so it reads 0.

Threads: ``append`` from the sampler's thread; readers from any thread.
"""

from __future__ import annotations

import threading

import numpy as np

from .event_store import _Columns

STATE_USER = 0  # in user space: running (or runnable) Python or native code
STATE_GIL = 1  # asleep on the GIL's futex
STATE_IO = 2  # in another system call: I/O, a sleep, select/poll
STATE_LOCK = 3  # asleep on another futex: a lock, a queue, an event
STATE_UNKNOWN = 4

FIELDS = (
    ("t", np.int64),
    ("pid", np.int64),
    ("tid", np.int64),
    ("state", np.uint8),
    ("cpu_ns", np.int64),
    ("delay_ns", np.int64),
    ("core", np.int16),  # the core it last ran on, read at 10 Hz (-1 in between)
)

# the split's parts, in drawing order
PARTS = ("running", "cpu_wait", "gil_wait", "io_wait")
PART_NAMES = {
    "running": "running",
    "cpu_wait": "waiting for a CPU",
    "gil_wait": "waiting for the GIL",
    "io_wait": "waiting on I/O, a sleep or a lock",
}


class WaitSamples:
    """Per-thread state samples of one lab's process tree (grows; cleared per lab)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cols = _Columns(FIELDS)
        self.version = 0
        self.source = "sampled"  # or "unavailable", with ``reason``
        self.reason: str | None = None

    def append_rows(self, rows: np.ndarray) -> None:
        """``rows``: (n, 7) int64 of t, pid, tid, state, cpu_ns, delay_ns, core."""
        if len(rows) == 0:
            return
        with self._lock:
            self._cols.append(
                t=rows[:, 0],
                pid=rows[:, 1],
                tid=rows[:, 2],
                state=rows[:, 3].astype(np.uint8),
                cpu_ns=rows[:, 4],
                delay_ns=rows[:, 5],
                core=rows[:, 6].astype(np.int16),
            )
            self.version += 1

    def view(self) -> dict[str, np.ndarray]:
        with self._lock:
            return self._cols.view()

    def __len__(self) -> int:
        return len(self.view()["t"])


def _at(t: np.ndarray, values: np.ndarray, when: np.ndarray) -> np.ndarray:
    """A cumulative counter read at ``when``, interpolated between samples."""
    if len(t) == 0:
        return np.zeros(len(when))
    return np.interp(when.astype(float), t.astype(float), values.astype(float))


def split_tasks(
    tid: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    cpu: np.ndarray,
    samples: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Each task's wall time split into ``PARTS`` (ns), plus ``sampled`` (bool).

    A task with no state sample inside it (shorter than the sampling period, or no
    sampler) keeps its off-CPU time in ``io_wait`` only when nothing better is known;
    ``sampled`` says which tasks the split is measured for.
    """
    n = len(tid)
    wall = np.maximum(end - start, 0).astype(float)
    running = np.minimum(np.maximum(cpu.astype(float), 0.0), wall)
    out = {p: np.zeros(n) for p in PARTS}
    out["running"] = running
    sampled = np.zeros(n, bool)
    off = wall - running
    if n == 0:
        out["sampled"] = sampled
        return out
    st, stid, sstate, sdelay = samples["t"], samples["tid"], samples["state"], samples["delay_ns"]
    order = np.lexsort((st, stid))
    st, stid, sstate, sdelay = st[order], stid[order], sstate[order], sdelay[order]
    for thread in np.unique(tid):
        lo, hi = np.searchsorted(stid, [thread, thread + 1])
        mine = np.flatnonzero(tid == thread)
        if hi - lo == 0:
            continue
        t, state, delay = st[lo:hi], sstate[lo:hi], sdelay[lo:hi]
        read = delay >= 0  # the counters are read at a lower rate than the state (-1)
        waited = _at(t[read], delay[read], end[mine]) - _at(t[read], delay[read], start[mine])
        cpu_wait = np.clip(waited, 0.0, off[mine])
        rest = off[mine] - cpu_wait
        out["cpu_wait"][mine] = cpu_wait
        a = np.searchsorted(t, start[mine], side="left")
        b = np.searchsorted(t, end[mine], side="right")
        # counts of each sampled state inside each task, by prefix sums
        gil = np.r_[0, np.cumsum(state == STATE_GIL)]
        other = np.r_[0, np.cumsum((state == STATE_IO) | (state == STATE_LOCK))]
        n_gil, n_other = gil[b] - gil[a], other[b] - other[a]
        waits = n_gil + n_other
        has = waits > 0
        # a task too short to catch a wait sample takes its thread's overall share
        total_waits = gil[-1] + other[-1]
        thread_share = gil[-1] / total_waits if total_waits else 0.0
        share = np.where(has, n_gil / np.maximum(waits, 1), thread_share)
        out["gil_wait"][mine] = rest * share
        out["io_wait"][mine] = rest * (1.0 - share)
        sampled[mine] = (b - a) > 0
    out["sampled"] = sampled
    return out


def gil_contention(split: dict[str, np.ndarray]) -> float | None:
    """``gil_wait / (gil_wait + running)`` over the sampled tasks; None when none was."""
    keep = split["sampled"]
    if not keep.any():
        return None
    want = split["gil_wait"][keep].sum() + split["running"][keep].sum()
    return float(split["gil_wait"][keep].sum() / want) if want > 0 else 0.0
