"""Sampling what every lab thread is doing, from outside the lab, at about 200 Hz.

Per thread and sample, two small reads of files kept open (``pread``):
``/proc/PID/task/TID/syscall`` — ``running`` in user space, else the system call
and its first argument (for ``futex``, the address slept on; inside the process's
``_PyRuntime`` it is the GIL, see ``elf_symbols``) — and, every other sample,
``schedstat``: CPU time and run-queue delay, both cumulative nanoseconds (-1 in the
samples in between). The window and the CLI are the
lab's ancestors, so the kernel lets them read these files (``ptrace_scope`` 1 allows
a parent). Linux only; elsewhere, or when the files cannot be read, the samples say
"unavailable" with a reason and the run keeps its CPU-share colours.

Threads: ``start``/``stop`` on the owner's thread; the sampling loop on a thread of
its own, the only writer of ``samples``.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from concviz.model.wait_states import (
    STATE_GIL,
    STATE_HOLDING,
    STATE_IO,
    STATE_LOCK,
    STATE_NATIVE,
    STATE_UNKNOWN,
    STATE_USER,
    USER_STATES,
    WaitSamples,
)

from .elf_symbols import python_runtime_range
from .pid_watch import LINUX, NS_PER_TICK, PidWatch, parent_if_process, process_tree

# futex's number in the syscall file: x86-64 202, aarch64 98
_FUTEX = {"x86_64": 202, "aarch64": 98}.get(os.uname().machine if LINUX else "", -1)


def classify(raw: bytes, gil: tuple[int, int] | None) -> int:
    """One ``syscall`` file's content as a ``STATE_*``."""
    if raw.startswith(b"running"):
        return STATE_USER
    parts = raw.split()
    if not parts:
        return STATE_UNKNOWN
    try:
        nr = int(parts[0])
    except ValueError:
        return STATE_UNKNOWN
    if nr < 0:
        return STATE_UNKNOWN  # "-1": blocked outside a system call (a page fault)
    if nr == _FUTEX and len(parts) > 1:
        address = int(parts[1], 16)
        if gil is not None and gil[0] <= address < gil[1]:
            return STATE_GIL
        return STATE_LOCK
    return STATE_IO


class _Thread:
    __slots__ = (
        "pid",
        "tid",
        "syscall",
        "sched",
        "stat",
        "last_cpu",
        "last_t",
        "idle",
        "gil",
        "holder",
        "raw",
        "state",
        "last",
        "runs",
    )

    def __init__(
        self,
        pid: int,
        tid: int,
        gil: tuple[int, int] | None = None,
        holder: _Holder | None = None,
    ) -> None:
        base = f"/proc/{pid}/task/{tid}"
        self.pid, self.tid = pid, tid
        fds: list[int] = []
        try:
            for name in ("syscall", "schedstat", "stat"):
                fds.append(os.open(f"{base}/{name}", os.O_RDONLY))
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        self.syscall, self.sched, self.stat = fds
        self.last_cpu = 0
        self.last_t = 0
        self.idle = 0  # samples in a row with no CPU used: a thread that waits long
        # its process's GIL address range and holder reader, found before its threads
        self.gil, self.holder = gil, holder
        # the last system call read and its state: a thread asleep on the same call
        # reads the same bytes tick after tick, which then need no parsing
        self.raw, self.state = b"", STATE_UNKNOWN
        # the state at its last reading, and how many times the kernel had run it then
        # (schedstat's third field): a thread not run since cannot have changed state
        self.last, self.runs = STATE_UNKNOWN, -1

    def close(self) -> None:
        for fd in (self.syscall, self.sched, self.stat):
            try:
                os.close(fd)
            except OSError:
                pass


class _Holder:
    """Reads which thread holds the GIL of one lab process, from its memory.

    ``layout`` is what the lab found in its own memory (``lab.gil_layout.find``):
    the GIL's ``last_holder`` and ``locked`` at ``_PyRuntime + holder_offset``, and
    a thread state's kernel id (directly, or through its ``pthread_t``). Reads go
    through ``/proc/PID/mem``, kept open: the window and the CLI are the lab's
    ancestors, which the kernel lets read it (as it lets them read ``syscall``).
    """

    __slots__ = ("fd", "address", "tid_offset", "ident_offset", "tcb_offset", "tids", "tick", "now")

    def __init__(self, pid: int, runtime: int, layout: dict) -> None:
        self.address = runtime + int(layout["holder_offset"])
        self.tid_offset = layout.get("tid_offset")
        self.ident_offset = layout.get("ident_offset")
        self.tcb_offset = layout.get("tcb_tid_offset")
        if self.tid_offset is None and (self.ident_offset is None or self.tcb_offset is None):
            raise ValueError("the layout names no way from a thread state to its id")
        self.fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        # thread state address -> kernel id: a thread state keeps its address while its
        # thread lives, so one read per sample suffices; emptied whenever the process's
        # threads change (an address may then belong to a new thread)
        self.tids: dict[int, int] = {}
        self.tick, self.now = -1, -1  # the sampler's tick this was last read at, and what

    def at(self, tick: int) -> int:
        """The holder's kernel id at sampler tick ``tick`` (read once per tick): 0 when
        the GIL is free, -1 when it cannot be read (a thread state freed meanwhile)."""
        if self.tick != tick:
            self.tick = tick
            try:
                self.now = self.tid()
            except (OSError, ValueError, OverflowError):
                self.now = -1
        return self.now

    def tid(self) -> int:
        """The kernel id of the thread holding the GIL now; 0 when it is free."""
        pread = os.pread
        raw = pread(self.fd, 12, self.address)
        holder = int.from_bytes(raw[:8], "little")
        if len(raw) < 12 or not holder or not int.from_bytes(raw[8:12], "little"):
            return 0
        tid = self.tids.get(holder)
        if tid is not None:
            return tid
        if self.tid_offset is not None:
            tid = int.from_bytes(pread(self.fd, 8, holder + self.tid_offset)[:8], "little")
        else:
            ident = int.from_bytes(pread(self.fd, 8, holder + self.ident_offset)[:8], "little")
            tid = int.from_bytes(pread(self.fd, 4, ident + self.tcb_offset)[:4], "little")
        if tid and len(self.tids) < 4096:
            self.tids[holder] = tid
        return tid

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


class WaitSampler:
    """Samples the threads of ``root_pid`` and its descendants into ``samples``.

    With ``gil_layout`` (the lab's handshake says where its GIL's holder is), each
    sample of a thread in user space also says whether it held the GIL (running
    Python, ``STATE_HOLDING``) or not (native code, ``STATE_NATIVE``).
    """

    TREE_EVERY_S = 0.1  # new pool worker processes are found within this
    THREADS_EVERY_S = 0.02  # a run's new worker threads, within this (one stat each)
    LIST_EVERY_S = 1.0  # task directories listed at least this often, whatever their count
    IDLE_AFTER = 20  # quiet samples in a row before a thread is read less often
    IDLE_EVERY = 10
    SCHED_EVERY = 2  # CPU time and run-queue delay every 2nd tick: 100 Hz
    CORE_EVERY = 20  # the core a thread is on (the costly stat file): 10 Hz
    FLUSH_EVERY = 10  # samples reach readers within 50 ms at 200 Hz, in one append

    def __init__(
        self,
        root_pid: int,
        hz: float = 200.0,
        samples: WaitSamples | None = None,
        gil_layout: dict | None = None,
    ):
        self.root_pid = root_pid
        self.gil_layout = gil_layout
        self._holders: dict[int, _Holder | None] = {}
        self.hz = hz
        self.samples = samples if samples is not None else WaitSamples()
        self._threads: dict[tuple[int, int], _Thread] = {}
        self._order: list[_Thread] = []  # the same threads, in a list for the tick's loop
        self._gil: dict[int, tuple[int, int] | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_tree = -1e9
        self._last_threads = -1e9
        self._pids: list[int] = []
        self._nlink: dict[int, int] = {}  # pid -> its task directory's link count, last listed
        self._tids: dict[int, list[str]] = {}  # pid -> its threads' ids, last listed
        self._last_list = -1e9
        self._pids_given = PidWatch()  # whether a process or thread began anywhere
        self._adopted: set[int] = set()  # processes found from their pids (``_adopt``)
        self._lists_due = 0  # thread listings still to do after a process or thread began
        self._walks_due = 0  # process-tree walks still to do after one began
        self._pending: list[int] = []  # flat rows: t, pid, tid, state, cpu, delay, core, sys
        self._tick = 0
        self.cpu_s = 0.0  # what sampling cost this process, for the benchmark

    @property
    def ticks(self) -> int:
        """Samples taken so far (each of every thread)."""
        return self._tick

    @property
    def thread_count(self) -> int:
        """Threads being watched now."""
        return len(self._order)

    @staticmethod
    def unavailable_reason(pid: int) -> str | None:
        """Why states cannot be sampled for ``pid`` here, or None."""
        if not LINUX:
            return "thread states are read from /proc, which only Linux has"
        if _FUTEX < 0:
            return f"no futex number known for {os.uname().machine}"
        try:
            with open(f"/proc/{pid}/task/{pid}/syscall", "rb") as f:
                f.read()
        except OSError as exc:
            return f"the kernel does not let this process read the lab's threads ({exc.strerror})"
        return None

    def start(self) -> None:
        why = self.unavailable_reason(self.root_pid)
        if why is not None:
            self.samples.source, self.samples.reason = "unavailable", why
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="concviz-waits", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        self.flush()
        for th in self._threads.values():
            th.close()
        self._threads.clear()
        self._order = []
        for holder in self._holders.values():
            if holder is not None:
                holder.close()
        self._holders.clear()
        self._pids_given.close()

    # -- sampling thread
    def _refresh(self, with_processes: bool, force: bool = False) -> None:
        """Find new processes (``with_processes``) and new or ended threads.

        A process's task directory is listed only when its link count (2 + its number
        of threads) changed, or with ``force`` (a thread was found gone, or the
        once-a-second listing): a ``stat`` costs a fraction of a listing."""
        relisted = False
        if with_processes or not self._pids:
            pids = process_tree(self.root_pid, self._tids)
            # a process adopted from its pid may not be linked to its parent yet
            self._adopted = {p for p in self._adopted if p not in pids and _alive(p)}
            pids += sorted(self._adopted)
            relisted, self._pids = pids != self._pids, pids
        changed = False
        for pid in self._pids:
            if pid not in self._gil:
                self._gil[pid] = python_runtime_range(pid)
                self._holders[pid] = self._holder(pid)
            path = f"/proc/{pid}/task"
            try:
                nlink = os.stat(path).st_nlink
                if not force and self._nlink.get(pid) == nlink:
                    continue
                tids = os.listdir(path)
            except OSError:
                continue
            self._nlink[pid], self._tids[pid] = nlink, tids
            relisted = True
            for name in tids:
                key = (pid, int(name))
                if key not in self._threads:
                    try:
                        self._threads[key] = _Thread(
                            pid, key[1], self._gil[pid], self._holders[pid]
                        )
                        changed = True
                    except OSError:
                        pass
        if not relisted:
            return
        live = set(self._pids)
        listed = {(pid, int(name)) for pid in live for name in self._tids.get(pid, ())}
        for key in [k for k in self._threads if k not in listed]:
            self._threads.pop(key).close()
            changed = True
        for pid in [p for p in self._tids if p not in live]:
            del self._tids[pid]
            self._nlink.pop(pid, None)
        if changed:
            self._order = list(self._threads.values())
            for holder in self._holders.values():
                if holder is not None:
                    holder.tids.clear()

    def _adopt(self, new_pids: range) -> None:
        """New processes whose parent is watched, found from the pids just given out.

        A walk of the tree costs about 1 ms (every thread's ``children`` file) and runs
        at most every ``TREE_EVERY_S``: a pool's workers, forked just after the run's
        threads began, were found 75-95 ms into their first tasks, and those tasks'
        run-queue waits read as I/O waits. One ``status`` read per new pid finds them
        within ``THREADS_EVERY_S``.
        """
        if not self._pids or not new_pids:
            return
        known = set(self._pids)
        for pid in new_pids:  # oldest first: a worker's own children come after it
            if pid not in known and parent_if_process(pid) in known:
                self._pids.append(pid)
                self._adopted.add(pid)
                known.add(pid)

    def _holder(self, pid: int) -> _Holder | None:
        runtime = self._gil.get(pid)
        if self.gil_layout is None or runtime is None:
            return None
        try:
            return _Holder(pid, runtime[0], self.gil_layout)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _maybe_refresh(self, now: float) -> None:
        """Find new threads and processes when something began, and once a second."""
        if now - self._last_threads < self.THREADS_EVERY_S:
            return
        self._last_threads = now
        if self._pids_given.began():
            # twice: a new thread or process is linked to its parent just after its
            # pid is given out, so the check after this one may be the first to see it
            self._lists_due = self._walks_due = 2
            self._adopt(self._pids_given.new_pids)
        periodic = now - self._last_list >= self.LIST_EVERY_S
        if not (self._lists_due or self._walks_due or periodic):
            return
        self._lists_due = max(0, self._lists_due - 1)
        if periodic:
            self._last_list = now
        processes = periodic or (self._walks_due and now - self._last_tree >= self.TREE_EVERY_S)
        if processes:
            self._last_tree = now
            self._walks_due = max(0, self._walks_due - 1)
        self._refresh(bool(processes), force=periodic)

    def sample_once(self) -> int:
        """One sample of every thread; the number of threads read.

        Written for a cold start: at 200 Hz each tick finds the caches emptied by the
        lab's threads, so the loop touches few objects (a list of slotted threads, the
        holder read once per process and tick, a thread's unchanged system call not
        parsed again)."""
        self._maybe_refresh(time.monotonic())
        pread = os.pread
        tick = self._tick = self._tick + 1
        # a thread that has used no CPU for a while (the lab's control reader, a long
        # sleep) is read 1 tick in IDLE_EVERY: its state is not changing
        skip_idle = tick % self.IDLE_EVERY != 0
        idle_after = self.IDLE_AFTER
        # the counters change smoothly: read at half the rate (-1: not read), the
        # state, which flips every few ms, at every tick
        counters = tick % self.SCHED_EVERY == 0
        t = time.perf_counter_ns()
        out = self._pending
        n = 0
        gone = []
        for th in self._order:
            sched = None  # schedstat's fields, when read already at this tick
            if th.idle >= idle_after:
                if skip_idle:
                    continue
                # a long-quiet thread: its counters first; its system call only when
                # the kernel ran it since (else it sleeps where it slept)
                try:
                    sched = pread(th.sched, 64, 0).split()
                    runs = int(sched[2])
                    if runs == th.runs:
                        cpu = int(sched[0])
                        out += (t, th.pid, th.tid, th.last, cpu, int(sched[1]), -1, -1)
                        th.last_cpu, th.last_t = cpu, t
                        n += 1
                        continue
                except (OSError, ValueError, IndexError):
                    gone.append(th)
                    continue
            try:
                raw = pread(th.syscall, 128, 0)
                if raw[:1] == b"r":  # "running": in user space
                    holder = th.holder
                    if holder is None:
                        state = STATE_USER
                    else:
                        now = holder.at(tick)
                        state = (
                            STATE_USER
                            if now < 0
                            else STATE_HOLDING
                            if now == th.tid
                            else STATE_NATIVE
                        )
                elif raw == th.raw:
                    state = th.state
                else:
                    state = th.state = classify(raw, th.gil)
                    th.raw = raw
                if not counters:
                    out += (t, th.pid, th.tid, state, -1, -1, -1, -1)
                    n += 1
                    continue
                if sched is None:
                    sched = pread(th.sched, 64, 0).split()
                cpu = int(sched[0])
                core = sys_ns = -1
                if tick % self.CORE_EVERY == 0:  # which core (the cores lens), and the
                    # system CPU time (a GIL hand-over's futex calls), 10 Hz
                    stat = pread(th.stat, 1024, 0)
                    fields = stat[stat.rfind(b")") + 2 :].split()
                    core = int(fields[36]) if len(fields) > 36 else -1
                    sys_ns = int(fields[12]) * NS_PER_TICK if len(fields) > 12 else -1
                out += (t, th.pid, th.tid, state, cpu, int(sched[1]), core, sys_ns)
                # "idle": asleep now and under 2 % of a core since its last reading
                quiet = state not in USER_STATES and (cpu - th.last_cpu) * 50 < t - th.last_t
                th.idle = th.idle + 1 if quiet else 0
                th.last_cpu, th.last_t, th.last = cpu, t, state
                if th.idle >= idle_after:
                    th.runs = int(sched[2]) if len(sched) > 2 else -1
                n += 1
            except (OSError, ValueError, IndexError):
                gone.append(th)
        if gone:  # list the task directories again now: a thread may have replaced them
            for th in gone:
                self._threads.pop((th.pid, th.tid), None)
                th.close()
            self._order = list(self._threads.values())
            self._refresh(False, force=True)
        if tick % self.FLUSH_EVERY == 0:
            self.flush()
        return n

    def flush(self) -> None:
        """Hand the samples taken since the last flush to ``samples`` (one array append)."""
        if self._pending:
            rows = np.array(self._pending, dtype=np.int64).reshape(-1, 8)
            self._pending = []
            self.samples.append_rows(rows)

    def _loop(self) -> None:
        sleep = time.sleep
        period = 1.0 / self.hz
        c0 = time.thread_time()
        next_tick = time.perf_counter()
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception as exc:  # never take the window down for a reading
                self.samples.source, self.samples.reason = "unavailable", str(exc)
                return
            self.cpu_s = time.thread_time() - c0
            next_tick += period
            delay = next_tick - time.perf_counter()
            if delay < 0:  # fell behind (the machine is busy): skip, do not burst
                next_tick = time.perf_counter()
            else:
                # a plain sleep of at most one period: stop() waits that long at most,
                # and a wake-up costs less than an Event's wait (a lock made per call)
                sleep(delay)
