"""Per-thread event buffers and the flusher that ships them in packed batches.

A worker appends a small tuple per event to its own buffer (no system call, no
packing). What is buffered is packed into one payload and handed to a sink (the
lab's frame writer, or the pipe from a worker process to the lab) at the moment a
task *starts*, by the worker itself, when the last hand-over is at least
``INLINE_GAP_NS`` old: a new bar reaches the window together with the end of the
task before it, at once when tasks are longer than the gap and within two gaps
(10 ms) when they are shorter, and a worker never hands the GIL to anyone to get its
events out. A flusher thread per process is the
backstop, every ``FLUSH_INTERVAL_S``, for what no start carried (the last task of a
worker going idle, short tasks in the gap). An engine worker's recorder has no
flusher: the lab asks it over its connection when it has been silent that long
(``engines/sink.py``), so a busy engine worker is never woken. Never a system call
per event.

Why not a flusher every 10 ms alone: each of its wake-ups takes the GIL from the
task thread, and with ``FORCE_SWITCHING`` the task thread then waits until the
flusher is on a CPU; on a busy machine one lone thread was measured waiting for the
GIL 12 % of its time, for nothing but the recorder.

Threads: ``buffer()``, ``Buffer.add`` and ``execute`` run on any worker thread;
``flush`` runs on the flusher thread, on a worker starting a task (``flush_soon``,
never blocking on another flush) and on whoever closes the recorder.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable

from .output import Stopped, running
from .protocol import EV_END, EV_ERROR, EV_SLICE_START, EV_START, EV_STOPPED, pack_records

perf_ns = time.perf_counter_ns
cpu_ns = time.thread_time_ns


def children_cpu_ns() -> int | None:
    """CPU of every child this process has reaped so far (None without ``resource``)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((kids.ru_utime + kids.ru_stime) * 1e9)


MAX_BATCH = 4096
FLUSH_INTERVAL_S = 0.04  # the backstop; starts hand events over at once (see above)
# A start flushes when the last hand-over is this old. A start then waits at most
# twice this before it is handed over (tasks shorter than this ride with the first
# start after it), 10 ms: within one display frame (16.7 ms at 60 Hz), with the
# process relay's COALESCE_S (4 ms) on top for worker processes. At 2 ms, two
# workers of 0.05 ms tasks handed over 1000 batches a second, each a wake-up of the
# lab's relay on a machine whose cores the workers already fill.
INLINE_GAP_NS = 5_000_000
# At high event rates the gap is longer. When the last hand-over carried more than
# ``FAST_EVENTS_PER_MS`` events a millisecond since the one before (tasks shorter than
# about half a millisecond), the next waits ``FAST_GAP_NS``. Such tasks are far below a
# pixel at any live zoom, and their bars reach the window whole either way. A start
# then waits at most 30 ms, and 42 ms with the relay's ``FAST_COALESCE_S``: within
# one redraw of the live view (1/15 s). Each hand-over is a system call that, on two
# busy cores, cost a worker 50-65 us: at 0.05 ms tasks, 200 of them a second a worker
# were 1-2 % of its time, and as many batches for the relay.
FAST_GAP_NS = 15_000_000
FAST_EVENTS_PER_MS = 4
# A task starting this long after the last CPU reading on its thread reads the CPU
# clock afresh (see ``execute``)
CPU_MARK_GAP_NS = 1_000_000
_STARTS = (EV_START, EV_SLICE_START)


class Buffer:
    """Events recorded by one thread, waiting for the flusher.

    Lock-free: ``collections.deque`` appends and pops are atomic (under the GIL and in
    free-threaded builds), so the worker appends and the flusher pops from the other
    end without a lock; a ``threading.Lock`` per event cost more than the event.
    """

    __slots__ = ("pid", "tid", "items", "append", "owner", "cpu_mark", "t_mark", "on")

    def __init__(self, owner: Recorder) -> None:
        self.on = owner.recording
        self.pid = os.getpid()
        self.tid = threading.get_native_id()
        self.items: deque[tuple] = deque()
        self.append = self.items.append
        self.owner = owner
        self.cpu_mark = cpu_ns()
        self.t_mark = perf_ns()  # when cpu_mark was read

    def mark_cpu(self) -> None:
        """Start counting task CPU from now (call before a thread's first task)."""
        self.cpu_mark = cpu_ns()
        self.t_mark = perf_ns()

    def add(self, kind: int, worker: int, task: int, t: int, cpu: int, t0: int) -> None:
        self.append((kind, 0, worker, task, self.pid, self.tid, t, cpu, t0))
        if len(self.items) >= MAX_BATCH:
            self.owner.flush()
        elif kind in _STARTS and t >= self.owner.next_flush_ns:
            self.owner.flush_soon()

    def take(self) -> list[tuple]:
        """Remove and return what is buffered, oldest first (flusher side)."""
        items = self.items
        pop = items.popleft
        return [pop() for _ in range(len(items))]


class Recorder:
    """Collects events from every thread of one process and ships them in batches."""

    def __init__(
        self,
        sink: Callable[[bytes], None],
        interval: float = FLUSH_INTERVAL_S,
        recording: bool = True,
    ) -> None:
        # recording=False: the same dispatch with nothing recorded (``bench overhead``'s
        # middle baseline); tasks run through ``execute`` bare and no flusher starts.
        # A recorder that is never started has no flusher thread either: whoever made
        # it calls ``flush`` for what the starts did not carry (an engine worker's
        # link, which the lab asks when the worker has been silent: see sink.py)
        self.recording = recording
        self._sink = sink
        self._interval = interval
        self._local = threading.local()
        self._buffers: list[Buffer] = []
        self._reg_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tick: Callable[[], None] | None = None  # extra work each flush interval
        self.last_flush_ns = 0  # when the last hand-over began (perf_counter_ns)
        self.next_flush_ns = 0  # from when a starting task hands over again

    def buffer(self) -> Buffer:
        """The calling thread's buffer (created on first use)."""
        buf = getattr(self._local, "buf", None)
        if buf is None:
            buf = Buffer(self)
            self._local.buf = buf
            with self._reg_lock:
                self._buffers.append(buf)
        return buf

    def flush(self) -> None:
        """Pack everything buffered so far and hand it to the sink."""
        with self._flush_lock:
            self._flush_locked()

    def flush_soon(self) -> None:
        """A worker's hand-over as its task starts; skipped while another is under way
        (what that one did not take, the next start or the backstop carries)."""
        if self._flush_lock.acquire(blocking=False):
            try:
                self._flush_locked()
            finally:
                self._flush_lock.release()

    def _flush_locked(self) -> None:
        now = perf_ns()
        since, self.last_flush_ns = now - self.last_flush_ns, now
        self.next_flush_ns = now + INLINE_GAP_NS
        with self._reg_lock:
            buffers = list(self._buffers)
        batch: list[tuple] = []
        for buf in buffers:
            if buf.items:
                batch.extend(buf.take())
        if len(batch) * 1_000_000 > FAST_EVENTS_PER_MS * since:
            self.next_flush_ns = now + FAST_GAP_NS  # a high rate: see FAST_GAP_NS
        for start in range(0, len(batch), MAX_BATCH):
            self._sink(pack_records(batch[start : start + MAX_BATCH]))

    def start(self) -> None:
        if not self.recording:
            return
        self._thread = threading.Thread(target=self._loop, name="concviz-flusher", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
                if self.tick is not None:
                    self.tick()
            except OSError:
                return  # the reader is gone; the process is ending

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self.flush()


def describe_error(exc: BaseException) -> str:
    """``Type: message`` of a task's exception; never raises (a user's ``__str__`` may)."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - the task failed; how it says so must not fail too
        text = "(its message could not be read)"
    return f"{name}: {text}" if text else name


def leave_if_forked(pid: int) -> None:
    """End at once a process forked inside a task that came back out of the task.

    A task may call ``os.fork()``; the child returns from the task's function like
    its parent. Running on, it would record the same task a second time, take more
    tasks from the parent's feed and write into the lab's channels, so it exits here
    without running any lab code (no flush, no clean-up handlers: they are the
    parent's).
    """
    if os.getpid() != pid:
        os._exit(0)


def execute(buf: Buffer, worker: int, task: int, fn: Callable[[int], object]) -> str | None:
    """Run one task, recording start and end (or error) with wall and CPU time.

    Returns the error text when the task raised, else None. The hot path of every
    recorded task: it appends to the buffer directly rather than through ``add``.

    Every way out of ``fn`` is recorded as the task's end: ``SystemExit``,
    ``KeyboardInterrupt``, ``GeneratorExit`` and any other ``BaseException`` raised
    by a task are that task's failure, never the worker's end (a worker thread that
    died of them lost its tasks; a pool worker process that exited hung its pool).
    A task cut short by the run's stop is recorded as stopped.

    CPU time is the thread's CPU clock at the task's end minus its reading at the
    previous task boundary on this thread (``Buffer.cpu_mark``), so one CPU-clock
    read (a system call) serves two events: the few microseconds a worker spends
    fetching its next task count toward that task. A task that starts more than
    ``CPU_MARK_GAP_NS`` after that reading reads the clock at its start instead:
    what the thread did meanwhile (loky's worker runs ``gc.collect()`` between tasks,
    17 ms of CPU measured) is not the task's, and would have made a 0.14 ms task
    claim 17 ms of CPU.
    """
    if not buf.on:
        return _execute_bare(task, fn)
    append, pid, tid = buf.append, buf.pid, buf.tid
    running.task, running.worker = task, worker  # what it prints is named after it
    t0 = perf_ns()
    if t0 - buf.t_mark > CPU_MARK_GAP_NS:
        buf.cpu_mark = cpu_ns()  # away a while: what ran meanwhile is not this task's
    append((EV_START, 0, worker, task, pid, tid, t0, 0, 0))
    if t0 >= buf.owner.next_flush_ns:
        buf.owner.flush_soon()  # the new bar, and the previous task's end, go out now
    kind = EV_END
    err = None
    try:
        fn(task)
    except Stopped:
        kind = EV_STOPPED
    except BaseException as exc:  # noqa: BLE001 - a failing task is data, not a crash
        kind = EV_ERROR
        err = describe_error(exc)
    leave_if_forked(pid)
    c1 = cpu_ns()
    t1 = perf_ns()
    running.task = None
    append((kind, 0, worker, task, pid, tid, t1, c1 - buf.cpu_mark, t0))
    buf.cpu_mark, buf.t_mark = c1, t1
    if len(buf.items) >= MAX_BATCH:
        buf.owner.flush()
    return err


def _execute_bare(task: int, fn: Callable[[int], object]) -> str | None:
    """``execute`` with the recorder switched off: the task and its error, no event."""
    try:
        fn(task)
    except Stopped:
        pass
    except BaseException as exc:  # noqa: BLE001 - a failing task is data, not a crash
        return describe_error(exc)
    return None


def measure_record_ns(tasks: int = 1500) -> float:
    """What recording one event costs a worker here, in ns (measured in about 2 ms).

    ``execute`` around a task that does nothing (two clock readings, two appends,
    the start's hand-over check), minus the same loop calling the task bare, per
    event, the better of three tries; the events are packed and dropped. The lab
    reports it in its handshake, and a run's ``recording_overhead_estimate`` is
    its events times this over its CPU time.
    """
    recorder = Recorder(lambda _payload: None)
    buf = recorder.buffer()

    def noop(_i: int) -> None:
        return None

    best = float("inf")
    for _ in range(3):
        recorder.next_flush_ns = perf_ns() + 10**12  # no hand-over inside the timing
        t0 = perf_ns()
        for i in range(tasks):
            execute(buf, 0, i, noop)
        t1 = perf_ns()
        for i in range(tasks):
            noop(i)
        t2 = perf_ns()
        recorder.flush()
        best = min(best, ((t1 - t0) - (t2 - t1)) / (2 * tasks))
    running.task = running.worker = None
    return max(0.0, best)
