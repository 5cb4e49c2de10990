"""Per-core CPU of the whole machine and of the lab's process tree.

The sampler has a plain thread of its own (no Qt needed): it reads the per-core
times and the CPU times of the lab and its children at 10-20 Hz and appends busy
fractions to a ``CpuSeries``. A fraction is the difference of two readings, so the
first reading only sets the baseline and is never shown (psutil's own first
``cpu_percent`` is meaningless for the same reason).

On Linux both are read with one ``pread`` of a descriptor kept open (``/proc/stat``,
each process's ``/proc/PID/stat``) and parsed for the few fields used: the sampler
wakes 15 times a second into cold caches, where psutil's general readers (a file
opened per call, a named tuple per core) cost it about twice as much. Elsewhere, and
when those files cannot be read, psutil reads them.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import psutil

from concviz.model.cpu_series import CpuSeries

from .pid_watch import LINUX, NS_PER_TICK, PidWatch, process_tree

_TICK_S = NS_PER_TICK / 1e9


def _busy_total(times) -> tuple[float, float]:
    total = sum(times)
    idle = getattr(times, "idle", 0.0) + getattr(times, "iowait", 0.0)
    return total - idle, total


# how often the lab's process tree may be looked at again: a pool's workers are counted
# as the lab's within this (a 0.3 s pool run read as "other programs busy" at 0.25 s).
# It is walked only when a pid was given out since (twice: a new process is linked to
# its parent just after), and at least every WALK_EVERY_S
REFRESH_S = 0.09
WALK_EVERY_S = 1.0


class CpuSampler:
    """Samples CPU into ``series`` until stopped.

    Threads: ``start``, ``stop``, ``set_lab_pid`` run on the owner's thread (the GUI
    thread in the window); ``_loop`` runs on the sampler's own thread, the only
    writer of ``series``. ``series`` may be read from any thread.
    """

    def __init__(self, hz: float = 15.0, capacity_s: float = 30 * 60) -> None:
        self.hz = hz
        self.n_cores = psutil.cpu_count(logical=True) or 1
        self.series = CpuSeries(self.n_cores, capacity=int(hz * capacity_s))
        self._lab_pid: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stat_fd = -1  # /proc/stat, kept open by the sampler's thread (Linux)

    def set_lab_pid(self, pid: int | None) -> None:
        self._lab_pid = pid  # a plain attribute write; the sampler picks it up next tick

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="concviz-cpu-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    # -- sampler thread
    def _loop(self) -> None:
        period = 1.0 / self.hz
        prev = self._read_cores()
        prev_t = time.perf_counter_ns()
        tree = _ProcessTree()
        try:
            tree.set_root(self._lab_pid)
            prev_lab = tree.cpu_seconds()
            prev_own = _own_cpu_seconds()
            next_tick = time.perf_counter() + period
            stopping = self._stop.is_set
            while not stopping():
                # a plain sleep of at most one period (stop() waits that long at most):
                # here a wake-up from it costs half of one from an Event's wait
                time.sleep(max(0.0, next_tick - time.perf_counter()))
                if stopping():
                    break
                next_tick += period
                if next_tick < time.perf_counter():  # fell behind (suspended): do not burst
                    next_tick = time.perf_counter() + period
                now = self._read_cores()
                t = time.perf_counter_ns()
                if all(b[1] - a[1] <= 0 for a, b in zip(prev, now, strict=False)):
                    continue  # the kernel's counters did not move yet: no new information
                busy = np.zeros(self.n_cores, np.float32)
                for i, (a, b) in enumerate(zip(prev, now, strict=False)):
                    d_total = b[1] - a[1]
                    if d_total > 0:
                        busy[i] = min(1.0, max(0.0, (b[0] - a[0]) / d_total))
                if tree.root != self._lab_pid:
                    tree.set_root(self._lab_pid)
                    prev_lab = tree.cpu_seconds()
                lab_s = tree.cpu_seconds()
                dt = (t - prev_t) / 1e9
                lab_cores = max(0.0, (lab_s - prev_lab) / dt) if dt > 0 else 0.0
                own_s = _own_cpu_seconds()
                own_cores = max(0.0, (own_s - prev_own) / dt) if dt > 0 else 0.0
                # stamp the middle of the interval the fractions describe
                self.series.append(
                    (t + prev_t) // 2,
                    busy,
                    min(lab_cores, float(self.n_cores)),
                    min(own_cores, float(self.n_cores)),
                )
                prev, prev_t, prev_lab, prev_own = now, t, lab_s, own_s
        finally:
            tree.close()
            if self._stat_fd >= 0:
                os.close(self._stat_fd)
                self._stat_fd = -1

    def _read_cores(self) -> list[tuple[float, float]]:
        """Each core's (busy, total) time, cumulative; only their differences mean anything."""
        if LINUX and self._stat_fd != -2:
            cores = self._read_proc_stat()
            if cores is not None:
                return cores
            self._stat_fd = -2  # unreadable here: psutil from now on
        return [_busy_total(c) for c in psutil.cpu_times(percpu=True)][: self.n_cores]

    def _read_proc_stat(self) -> list[tuple[float, float]] | None:
        """``/proc/stat``'s ``cpuN`` lines as (busy, total) clock ticks, or None."""
        try:
            if self._stat_fd < 0:
                self._stat_fd = os.open("/proc/stat", os.O_RDONLY)
            raw = os.pread(self._stat_fd, 1 << 16, 0)
        except OSError:
            return None
        out = []
        for line in raw.split(b"\n")[1 : self.n_cores + 1]:
            fields = line.split()
            if not fields or not fields[0].startswith(b"cpu"):
                break
            try:
                # user nice system idle iowait irq softirq steal (guest time is
                # counted in user and nice already)
                v = [int(x) for x in fields[1:9]]
            except ValueError:
                return None
            total = sum(v)
            out.append((float(total - v[3] - (v[4] if len(v) > 4 else 0)), float(total)))
        return out if len(out) == self.n_cores else None


def _own_cpu_seconds() -> float:
    """This process's CPU (every thread): the window's or the CLI's own cost."""
    t = os.times()
    return t.user + t.system


def _descendants_linux(pid: int) -> list[int] | None:
    """Descendants of ``pid`` from ``/proc/PID/task/TID/children`` (Linux), or None.

    Reading a few small files per process is ~100× cheaper than psutil's scan of every
    process on the machine, which would hold the window's GIL for tens of ms.
    """
    if not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        return None
    return process_tree(pid)[1:]


class _ProcessTree:
    """CPU seconds of a process and its descendants, with the child list refreshed ~4 Hz."""

    def __init__(self) -> None:
        self.root: int | None = None
        self._procs: dict[int, psutil.Process] = {}
        self._fds: dict[int, int] = {}  # pid -> its /proc/PID/stat, kept open (-2: unreadable)
        self._last: dict[int, float] = {}
        # CPU of children that exited (so the sum never drops), minus what newcomers
        # had used before we saw them
        self._gone = 0.0
        self._refreshed = 0.0
        self._walked = 0.0
        self._walks_due = 0
        self._pids_given = PidWatch()
        self._seen_until = time.time()  # processes born after this are wholly counted

    def set_root(self, pid: int | None) -> None:
        self.root = pid
        for p in list(self._procs):
            self._drop(p)
        self._last.clear()
        self._gone = 0.0
        self._refreshed = 0.0
        self._walked = 0.0
        self._seen_until = time.time()

    def close(self) -> None:
        self._pids_given.close()
        for p in list(self._procs):
            self._drop(p)

    def cpu_seconds(self) -> float:
        if self.root is None:
            return 0.0
        now = time.monotonic()
        if now - self._refreshed > REFRESH_S:
            self._refreshed = now
            if self._pids_given.began():
                self._walks_due = 2
            if self._walks_due or not self._procs or now - self._walked >= WALK_EVERY_S:
                self._walks_due = max(0, self._walks_due - 1)
                self._walked = now
                self._refresh()
        for pid, proc in list(self._procs.items()):
            try:
                self._last[pid] = self._cpu_of(pid, proc)
            except (psutil.Error, OSError, ValueError, IndexError):
                self._drop(pid)
                self._gone += self._last.pop(pid, 0.0)
        return self._gone + sum(self._last.values())

    def _cpu_of(self, pid: int, proc: psutil.Process) -> float:
        """The CPU seconds ``pid`` has used, from its kept-open ``stat`` file on Linux.
        A kept descriptor reads its own process even if the pid is given out again:
        once that process is gone, the read fails (ESRCH) instead of reading another."""
        fd = self._fds.get(pid, -1)
        if fd == -1 and LINUX:
            try:
                fd = self._fds[pid] = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
            except OSError:
                fd = self._fds[pid] = -2
        if fd < 0:
            c = proc.cpu_times()
            return c.user + c.system
        raw = os.pread(fd, 1024, 0)
        # the fields after the command name, which may hold spaces and parentheses
        fields = raw[raw.rindex(b")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) * _TICK_S

    def _drop(self, pid: int) -> None:
        self._procs.pop(pid, None)
        fd = self._fds.pop(pid, -1)
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def _refresh(self) -> None:
        seen_until, self._seen_until = self._seen_until, time.time()
        try:
            root = self._procs.get(self.root) or psutil.Process(self.root)
            pids = _descendants_linux(root.pid)
            if pids is None:  # psutil scans every process: slow, so the caller's 4 Hz matters
                kids = root.children(recursive=True)
            else:
                kids = [self._procs.get(p) or psutil.Process(p) for p in pids]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return
        self._procs[root.pid] = root
        for k in kids:
            if k.pid in self._procs:
                continue
            self._procs[k.pid] = k
            # A process born since the last look (a pool's new worker) counts whole: its
            # CPU was all spent in that last period, and leaving it out made the first
            # quarter second of a short pool run read as "other programs busy". One
            # that was there before (a pool of an earlier run) counts from now on.
            try:
                # (a process's start time is read in clock ticks from boot, whose time
                # /proc gives in whole seconds: allow a second either way)
                if k.create_time() >= seen_until - 1.0:
                    continue
                self._gone -= self._cpu_of(k.pid, k)
            except (psutil.Error, OSError, ValueError, IndexError):
                self._drop(k.pid)
