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
# in user space, and the GIL's holder read from the process at the same sample says:
STATE_HOLDING = 5  # this thread holds the GIL: it runs Python
STATE_NATIVE = 6  # another thread holds it, or nobody: native code (numpy, zlib, sqlite)
USER_STATES = (STATE_USER, STATE_HOLDING, STATE_NATIVE)

FIELDS = (
    ("t", np.int64),
    ("pid", np.int64),
    ("tid", np.int64),
    ("state", np.uint8),
    ("cpu_ns", np.int64),
    ("delay_ns", np.int64),
    ("core", np.int16),  # the core it last ran on, read at 10 Hz (-1 in between)
    # its system (kernel) CPU time, cumulative ns, read at 10 Hz with the core (-1 between)
    ("sys_ns", np.int64),
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
        # (4, bars) float32: the split of bars whose samples were dropped (NaN: none)
        self.frozen: np.ndarray | None = None

    def append_rows(self, rows: np.ndarray) -> None:
        """``rows``: (n, 8) int64 of t, pid, tid, state, cpu_ns, delay_ns, core, sys_ns
        (or (n, 7): no system time read)."""
        if len(rows) == 0:
            return
        if rows.shape[1] == 7:
            rows = np.concatenate([rows, np.full((len(rows), 1), -1, np.int64)], axis=1)
        with self._lock:
            self._cols.append(
                t=rows[:, 0],
                pid=rows[:, 1],
                tid=rows[:, 2],
                state=rows[:, 3].astype(np.uint8),
                cpu_ns=rows[:, 4],
                delay_ns=rows[:, 5],
                core=rows[:, 6].astype(np.int16),
                sys_ns=rows[:, 7],
            )
            self.version += 1

    def view(self) -> dict[str, np.ndarray]:
        with self._lock:
            return self._cols.view()

    def __len__(self) -> int:
        return len(self.view()["t"])

    def trim_before(self, t_ns: int) -> int:
        """Drop the samples taken before ``t_ns``; how many were dropped."""
        with self._lock:
            v = self._cols.view()
            keep = np.flatnonzero(v["t"] >= t_ns)
            dropped = len(v["t"]) - len(keep)
            if dropped:
                fresh = _Columns(FIELDS, capacity=max(1024, 2 * len(keep)))
                fresh.append(**{name: col[keep] for name, col in v.items()})
                self._cols = fresh
                self.version += 1
            return dropped


# a long (continuous) run keeps this much of its samples; older bars keep their split
KEEP_S = 60.0
# a bar's split is frozen this long after it ended (its thread's samples are all in by
# then: the sampler runs at 200 Hz in the observer's own process); a live view lays out
# only the bars since, so a 2 000-task/s run's layout splits 1 s of bars, not 4
SETTLE_S = 0.5


def bar_splits(store, idx: np.ndarray | None = None) -> dict[str, np.ndarray] | None:
    """The split of the store's bars ``idx`` (all when None), frozen or from the samples.

    None when the store has no sampled thread states. Bars whose split was frozen by
    ``bound_samples`` keep it (and cost nothing) after their samples are gone.
    """
    waits = store.waits
    if waits is None or waits.source != "sampled":
        return None
    bars = store.bars()
    if idx is None:
        idx = np.arange(len(bars["start"]))
    n = len(idx)
    out = {p: np.zeros(n) for p in PARTS}
    out["running"] = np.minimum(
        np.maximum(bars["cpu"][idx], 0), np.maximum(bars["end"][idx] - bars["start"][idx], 0)
    ).astype(float)
    out["sampled"] = np.zeros(n, bool)
    out["native"] = np.zeros(n)  # of running, the part in native code (where known)
    frozen = waits.frozen
    done = np.zeros(n, bool)
    if frozen is not None and n:
        inside = idx < frozen.shape[1]
        done[inside] = ~np.isnan(frozen[0, idx[inside]])
        if done.any():
            rows = idx[done]
            for j, part in enumerate(("cpu_wait", "gil_wait", "io_wait")):
                out[part][done] = frozen[j, rows]
            out["sampled"][done] = frozen[3, rows] > 0
            # running is what is left of the wall (a GIL hand-over moved out of it)
            wall = np.maximum(bars["end"][rows] - bars["start"][rows], 0).astype(float)
            waited = out["cpu_wait"][done] + out["gil_wait"][done] + out["io_wait"][done]
            out["running"][done] = np.maximum(wall - waited, 0.0)
            if frozen.shape[0] > 4:  # a file from before native was read has four rows
                out["native"][done] = np.nan_to_num(frozen[4, rows])
    live = np.flatnonzero(~done)
    if len(live):
        lanes = store.lanes()
        tids = np.array([ln.tid for ln in lanes], np.int64)
        k = idx[live]
        # a subinterpreter's thread holds its own GIL, not the main one that is read
        subinterpreters = bool(store.runs) and store.runs[-1].started.get("strategy") == (
            "interpreter-pool"
        )
        got = split_tasks(
            tids[bars["lane"][k]],
            bars["start"][k],
            bars["end"][k],
            bars["cpu"][k],
            waits.view(),
            holder=not subinterpreters,
        )
        for part in (*PARTS, "sampled", "native"):
            out[part][live] = got[part]
    return out


def bound_samples(store, keep_s: float = KEEP_S, settle_s: float = SETTLE_S) -> int:
    """Freeze the split of bars that ended ``settle_s`` before the newest sample (they
    will not change: redraws stop recomputing them), and keep a long run's samples to
    its last ``keep_s`` seconds so memory stays flat. Returns how many samples went.
    """
    waits = store.waits
    if waits is None or waits.source != "sampled":
        return 0
    t = waits.view()["t"]
    if not len(t):
        return 0
    bars = store.bars()
    n = len(bars["end"])
    frozen = waits.frozen
    if frozen is None or frozen.shape[1] < n or frozen.shape[0] < 5:
        grown = np.full((5, max(2 * n, 1024)), np.nan, np.float32)
        if frozen is not None:
            grown[: frozen.shape[0], : frozen.shape[1]] = frozen
        frozen = waits.frozen = grown
    settled = int(t[-1] - settle_s * 1e9)
    todo = np.flatnonzero((bars["end"] < settled) & np.isnan(frozen[0, :n]))
    if len(todo):
        split = bar_splits(store, todo)
        wall = np.maximum(bars["end"][todo] - bars["start"][todo], 0)
        frozen[0, todo] = split["cpu_wait"]
        frozen[1, todo] = split["gil_wait"]
        frozen[2, todo] = split["io_wait"]
        frozen[3, todo] = np.where(split["sampled"], wall, 0)
        frozen[4, todo] = split["native"]
    if t[-1] - t[0] < 2 * keep_s * 1e9:
        return 0  # trim in steps of keep_s, not a little on every call
    return waits.trim_before(int(t[-1] - keep_s * 1e9))


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
    holder: bool = True,
) -> dict[str, np.ndarray]:
    """Each task's wall time split into ``PARTS`` (ns), plus ``sampled`` (bool).

    ``native``: of ``running``, the part in native code, where the GIL's holder was
    read beside the states (``holder`` False: never, as for subinterpreters, whose
    own GILs are not the one read).

    A task with no state sample inside it (shorter than the sampling period, or no
    sampler) keeps its off-CPU time in ``io_wait`` only when nothing better is known;
    ``sampled`` says which tasks the split is measured for.

    Handing the GIL over costs CPU too: when threads pass it to and fro thousands of
    times a second (a C library calling back into Python for every row), each pass
    is a futex call and a context switch, in the kernel. So the *system* CPU time of a
    task whose sampled waits are mostly for the GIL (``sys_ns``, read at 10 Hz) moves
    from ``running`` to ``gil_wait``: a convoy shows as waiting for the GIL even while
    its threads burn CPU handing it over. (A task waiting mostly on I/O keeps its
    system time as running: that is its reads and writes.)
    """
    n = len(tid)
    wall = np.maximum(end - start, 0).astype(float)
    running = np.minimum(np.maximum(cpu.astype(float), 0.0), wall)
    out = {p: np.zeros(n) for p in PARTS}
    out["running"] = running
    sampled = np.zeros(n, bool)
    off = wall - running
    if n == 0:
        out["sampled"], out["native"] = sampled, np.zeros(0)
        return out
    st, stid, sstate, sdelay = samples["t"], samples["tid"], samples["state"], samples["delay_ns"]
    ssys = samples.get("sys_ns")
    if ssys is None:
        ssys = np.full(len(st), -1, np.int64)
    threads = np.unique(tid)
    rows_of = _rows_by_thread(st, stid, threads)
    # what the task threads' waits were, all of them together: the share a thread none
    # of whose waits was caught takes (a convoy's waits are many and microseconds long)
    states = {th: sstate[rows] for th, rows in rows_of.items()}
    is_gil = {th: state == STATE_GIL for th, state in states.items()}
    is_other = {th: (state == STATE_IO) | (state == STATE_LOCK) for th, state in states.items()}
    all_gil = sum(int(v.sum()) for v in is_gil.values())
    all_other = sum(int(v.sum()) for v in is_other.values())
    run_share = all_gil / (all_gil + all_other) if all_gil + all_other else 0.0
    for thread in threads:
        rows = rows_of[int(thread)]
        mine = np.flatnonzero(tid == thread)
        if not len(rows):
            continue
        t, state, delay = st[rows], states[int(thread)], sdelay[rows]
        read = delay >= 0  # the counters are read at a lower rate than the state (-1)
        tr, dr = t[read], delay[read]
        waited = _at(tr, dr, end[mine]) - _at(tr, dr, start[mine])
        if len(tr) >= 2 and tr[-1] > tr[0]:
            # Before the thread's first counter reading (a worker process is found a
            # few ms into its first task) and after its last, the run-queue delay is
            # not known: the thread's own rate over its readings stands in for it.
            # Counted as none, a contended first task's CPU wait read as I/O wait.
            rate = max(0.0, float(dr[-1] - dr[0]) / float(tr[-1] - tr[0]))
            s0, e0 = start[mine].astype(float), end[mine].astype(float)
            unread = np.clip(np.minimum(e0, tr[0]) - s0, 0.0, None)
            unread += np.clip(e0 - np.maximum(s0, tr[-1]), 0.0, None)
            waited = waited + rate * unread
        cpu_wait = np.clip(waited, 0.0, off[mine])
        rest = off[mine] - cpu_wait
        out["cpu_wait"][mine] = cpu_wait
        a = np.searchsorted(t, start[mine], side="left")
        b = np.searchsorted(t, end[mine], side="right")
        # counts of each sampled state inside each task, by prefix sums
        gil = np.r_[0, np.cumsum(is_gil[int(thread)])]
        other = np.r_[0, np.cumsum(is_other[int(thread)])]
        n_gil, n_other = gil[b] - gil[a], other[b] - other[a]
        waits = n_gil + n_other
        has = waits > 0
        # a task too short to catch a wait sample takes its thread's overall share, and a
        # thread with none caught, the share of all the task threads
        total_waits = gil[-1] + other[-1]
        thread_share = gil[-1] / total_waits if total_waits else run_share
        share = np.where(has, n_gil / np.maximum(waits, 1), thread_share)
        out["gil_wait"][mine] = rest * share
        out["io_wait"][mine] = rest * (1.0 - share)
        sampled[mine] = (b - a) > 0
        sys = ssys[rows]
        read_sys = sys >= 0
        if read_sys.sum() >= 2:
            in_kernel = _at(t[read_sys], sys[read_sys], end[mine]) - _at(
                t[read_sys], sys[read_sys], start[mine]
            )
            handover = np.where(share >= 0.5, np.clip(in_kernel, 0.0, running[mine]), 0.0)
            # where the GIL's holder was read, only the Python part of a thread's time
            # hands the GIL over: a thread in native code most of its time (hashlib,
            # zlib) spends its kernel time on its own work, not on passing the GIL
            python = _python_share(state) if holder else None
            if python is not None:
                handover = handover * python
            out["running"][mine] = running[mine] - handover
            out["gil_wait"][mine] += handover
    if holder:
        _native_share(out, tid, start, end, st, states, rows_of)
    else:
        out["native"] = np.zeros(n)
    out["sampled"] = sampled
    return out


def _python_share(state: np.ndarray) -> float | None:
    """Of a thread's samples in user space, the share holding the GIL (None: unread)."""
    holding = int((state == STATE_HOLDING).sum())
    native = int((state == STATE_NATIVE).sum())
    if not holding + native:
        return None
    return holding / (holding + native)


def _rows_by_thread(st: np.ndarray, stid: np.ndarray, threads: np.ndarray) -> dict[int, np.ndarray]:
    """Each of ``threads``' samples, as indices in time order.

    The sampler appends its rows in time order, so one thread's rows are its samples
    in order already: picked out per thread (a pass over the samples each, for the
    few task threads), not by sorting all of them, which a long run's minute of
    samples at 200 Hz (some 70 000 rows) made the largest cost of a live layout.
    Samples out of time order (never from the sampler) are sorted, as before."""
    if len(st) < 2 or bool((st[1:] >= st[:-1]).all()):
        return {int(th): np.flatnonzero(stid == th) for th in threads}
    order = np.lexsort((st, stid))
    by_thread = stid[order]
    lo = np.searchsorted(by_thread, threads, side="left")
    hi = np.searchsorted(by_thread, threads, side="right")
    return {int(th): order[a:b] for th, a, b in zip(threads, lo, hi, strict=True)}


def _native_share(out, tid, start, end, st, states, rows_of) -> None:
    """``out["native"]``: the part of each task's running time spent in native code.

    Where the GIL's holder was read beside a thread's state, a sample in user space
    says whether the thread held the GIL (it ran Python) or not (native code, a C
    library with the GIL let go). Each task's running time is split by those
    samples' counts (its thread's overall share when none fell inside it). Only
    threads whose holder was read are split, and only where ``holder`` is True: a
    subinterpreter's thread holds a GIL of its own, which is not read: its caller
    (``bar_splits``) does not split the threads of an ``interpreter-pool`` run.
    """
    native = np.zeros(len(tid))
    out["native"] = native
    for thread, rows in rows_of.items():  # ``states``: each thread's states, by rows
        if not len(rows):
            continue
        state = states[thread]
        holding = state == STATE_HOLDING
        if not (holding | (state == STATE_NATIVE)).any():
            continue
        t = st[rows]
        mine = np.flatnonzero(tid == thread)
        hold = np.r_[0, np.cumsum(holding)]
        nat = np.r_[0, np.cumsum(state == STATE_NATIVE)]
        a = np.searchsorted(t, start[mine], side="left")
        b = np.searchsorted(t, end[mine], side="right")
        n_hold, n_nat = hold[b] - hold[a], nat[b] - nat[a]
        seen = n_hold + n_nat
        overall = nat[-1] / max(hold[-1] + nat[-1], 1)
        share = np.where(seen > 0, n_nat / np.maximum(seen, 1), overall)
        native[mine] = out["running"][mine] * share


# Below this share of their time, threads hardly want Python at all (they sleep, or
# run native code): a millisecond of GIL wait beside a millisecond of Python is not
# "contention", so their wanting time is counted as at least this share of the time.
MIN_WANTING_SHARE = 0.1


def gil_contention(split: dict[str, np.ndarray]) -> float | None:
    """Share of the workers' Python-wanting time spent waiting for the GIL, 0..1.

    ``gil_wait / max(gil_wait + python, MIN_WANTING_SHARE * wall)`` over the sampled
    tasks (``wall`` = all four parts; ``python`` = running less ``native``, the running
    time in native code where the GIL's holder was read): CPU-bound threads want Python
    all the time, so
    for them it is ``gil_wait / (gil_wait + running)``; I/O-bound threads, which want it
    for a sliver of their time, are not called contended for a few ms of waiting.
    None when no task was sampled.
    """
    keep = split["sampled"]
    if not keep.any():
        return None
    gil = split["gil_wait"][keep].sum()
    want = gil + split["running"][keep].sum()
    if "native" in split:  # native code ran without the GIL: it did not want Python
        want -= split["native"][keep].sum()
    wall = sum(split[p][keep].sum() for p in PARTS)
    floor = max(want, MIN_WANTING_SHARE * wall)
    return float(gil / floor) if floor > 0 else 0.0


def thread_time_split(samples: dict[str, np.ndarray], tid: int, since_ns: int) -> dict[str, float]:
    """Where one thread's time went after ``since_ns``, in seconds.

    Sample and hold: each interval between two samples of the thread counts for the
    state read at its start (``gil_wait``, ``io_wait`` for I/O and sleep, ``lock_wait``,
    ``user``, and of that, where the GIL's holder was read, ``holding`` the GIL and
    ``native`` code without it); ``cpu_wait`` (runnable, no CPU free) and ``running`` (on a CPU) come from
    the cumulative counters, last reading minus first. ``span`` is the time covered.
    """
    keep = (samples["tid"] == tid) & (samples["t"] >= since_ns)
    t, state = samples["t"][keep], samples["state"][keep]
    out = {"gil_wait": 0.0, "io_wait": 0.0, "lock_wait": 0.0, "user": 0.0}
    out.update(holding=0.0, native=0.0)
    out.update(cpu_wait=0.0, running=0.0, span=0.0)
    if len(t) < 2:
        return out
    order = np.argsort(t, kind="stable")
    t, state = t[order], state[order]
    dt = np.diff(t) / 1e9
    held = state[:-1]
    for name, code in (
        ("gil_wait", STATE_GIL),
        ("io_wait", STATE_IO),
        ("lock_wait", STATE_LOCK),
        ("holding", STATE_HOLDING),
        ("native", STATE_NATIVE),
    ):
        out[name] = float(dt[held == code].sum())
    out["user"] = float(dt[np.isin(held, USER_STATES)].sum())
    out["span"] = float(dt.sum())
    delay, cpu = samples["delay_ns"][keep][order], samples["cpu_ns"][keep][order]
    read = delay >= 0
    if read.sum() >= 2:
        out["cpu_wait"] = float(delay[read][-1] - delay[read][0]) / 1e9
        out["running"] = float(cpu[read][-1] - cpu[read][0]) / 1e9
    return out
