"""Sampling every thread of the lab's process tree: CPU time and current core.

Linux first: ``/proc/<pid>/task/<tid>/schedstat`` gives each thread's CPU time in
nanoseconds (a cheap read, every sample); ``stat`` field 39 the core it last ran on
(every 4th sample); ``status`` the voluntary context switches (every 20th). The
files stay open and are re-read with ``pread``, and the thread list is refreshed
twice a second, so a sample costs a few microseconds per thread. Elsewhere psutil
gives the CPU times and the core is unknown (-1). The first reading is a baseline.

Threads: ``sample`` runs on whichever thread drives it (a QTimer in the window,
a loop in the benchmark); it holds no Qt object.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import psutil

from concviz.model.thread_samples import ThreadSamples

_LINUX = sys.platform.startswith("linux")


class _ThreadFiles:
    """The open /proc files of one thread, and its last known core and switches."""

    __slots__ = ("sched", "stat", "status", "core", "ctx")

    def __init__(self, base: str) -> None:
        self.sched = os.open(base + "/schedstat", os.O_RDONLY)
        self.stat = os.open(base + "/stat", os.O_RDONLY)
        self.status = os.open(base + "/status", os.O_RDONLY)
        self.core = -1
        self.ctx = -1

    def close(self) -> None:
        for fd in (self.sched, self.stat, self.status):
            try:
                os.close(fd)
            except OSError:
                pass


class ThreadSampler:
    """Samples the threads of ``root_pid`` and its descendants into a ThreadSamples."""

    CORE_EVERY = 4  # the core a thread is on: 5 times a second at 20 Hz
    CTX_EVERY = 20  # voluntary switches: once a second at 20 Hz
    THREADS_EVERY_S = 0.5
    PROCESSES_EVERY_S = 2.0  # psutil's walk of every process is the costly part

    def __init__(self, root_pid: int, samples: ThreadSamples | None = None) -> None:
        self.root_pid = root_pid
        self.samples = samples if samples is not None else ThreadSamples()
        self._root = psutil.Process(root_pid)
        self._pids: list[int] = [root_pid]
        self._files: dict[tuple[int, int], _ThreadFiles] = {}
        self._count = 0
        self._last_tree = -1e9
        self._last_procs = -1e9

    def close(self) -> None:
        for files in self._files.values():
            files.close()
        self._files.clear()

    def _refresh_tree(self) -> None:
        now = time.monotonic()
        if now - self._last_tree < self.THREADS_EVERY_S:
            return
        self._last_tree = now
        if now - self._last_procs >= self.PROCESSES_EVERY_S:
            self._last_procs = now
            try:
                kids = self._root.children(recursive=True)
                self._pids = [self._root.pid] + [p.pid for p in kids]
            except psutil.Error:
                self._pids = []
        if not _LINUX:
            return
        alive = set()
        for pid in self._pids:
            try:
                names = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for name in names:
                key = (pid, int(name))
                alive.add(key)
                if key not in self._files:
                    try:
                        self._files[key] = _ThreadFiles(f"/proc/{pid}/task/{name}")
                    except OSError:
                        pass
        for key in [k for k in self._files if k not in alive]:
            self._files.pop(key).close()

    def sample(self) -> int:
        """Take one sample of every thread; returns the number of threads seen."""
        self._refresh_tree()
        t = time.perf_counter_ns()
        rows = self._sample_linux() if _LINUX else self._sample_psutil()
        self._count += 1
        if self._count == 1:
            return len(rows)  # the first reading is a baseline, not a rate
        self.samples.append(t, np.asarray(rows, dtype=np.int64).reshape(-1, 5))
        return len(rows)

    def _sample_linux(self) -> list[tuple]:
        files = self._files
        pread = os.pread
        try:
            # the common case, every sample: one small read per thread, nothing else
            cpus = [int(pread(f.sched, 64, 0).partition(b" ")[0]) for f in files.values()]
        except (OSError, ValueError):
            cpus = None  # a thread ended since the last refresh: take the careful path
        if self._count % self.CORE_EVERY == 0 or cpus is None:
            with_ctx = self._count % self.CTX_EVERY == 0
            gone = [key for key, f in files.items() if not self._read_details(f, with_ctx)]
            for key in gone:
                files.pop(key).close()
            if cpus is None:
                try:
                    cpus = [int(pread(f.sched, 64, 0).partition(b" ")[0]) for f in files.values()]
                except (OSError, ValueError):
                    return []
        return [
            (key[0], key[1], cpu, f.core, f.ctx)
            for (key, f), cpu in zip(files.items(), cpus, strict=True)
        ]

    @staticmethod
    def _read_details(f: _ThreadFiles, with_ctx: bool) -> bool:
        """Refresh a thread's core (and switches); False when the thread is gone."""
        try:
            raw = os.pread(f.stat, 1024, 0)
            # the command name may hold spaces: fields start after the last ')'
            fields = raw[raw.rfind(b")") + 2 :].split()
            f.core = int(fields[36]) if len(fields) > 36 else -1
            if with_ctx:
                status = os.pread(f.status, 4096, 0)
                at = status.find(b"\nvoluntary_ctxt_switches:")
                if at >= 0:
                    f.ctx = int(status[at + 25 : status.find(b"\n", at + 1)])
        except (OSError, ValueError, IndexError):
            return False
        return True

    def _sample_psutil(self) -> list[tuple]:
        rows = []
        for pid in self._pids:
            try:
                threads = psutil.Process(pid).threads()
            except psutil.Error:
                continue
            for th in threads:
                rows.append((pid, th.id, int((th.user_time + th.system_time) * 1e9), -1, -1))
        return rows
