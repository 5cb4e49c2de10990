"""Instrumented synchronisation objects: locks, semaphores, queues... whose waits are recorded.

Use them in a workload as you would the standard ones, each with a name::

    from concviz.lab import sync

    totals = sync.Lock("totals")

    def task(i):
        with totals:  # a wait for it is drawn in the task's row and named
            ...

The uncontended path costs one non-blocking acquire and one attribute store (who
holds it). Only when a task would block is anything recorded: a *wait* record (the
task, its worker, the object, the task that held it; ``protocol.EV_WAIT``) when the
wait ends, and the object's name once per process in a ``sync_object`` message.

A blocked thread waits in slices of ``POLL_S``, so a run's stop ends the wait
(``Stopped``), and a wait that lasts longer than a slice is reported to the lab's
``WaitGraph``, which finds a deadlock (a cycle of tasks each waiting for an object
the next one holds) and ends the run naming it.

Outside the lab (no recorder installed) the objects behave exactly like the
standard ones and record nothing. Standard library only, like the rest of the lab.

Threads: every public method runs on any thread (or, for the ``Async*`` objects, on
the event loop's thread); ``WaitGraph.check`` runs on the lab's monitor thread.
"""

from __future__ import annotations

import itertools
import os
import queue as _queue
import threading
import time
import weakref
from collections.abc import Callable

from .output import Stopped, running
from .protocol import EV_COUNTER, EV_WAIT, SYNC_KIND_CODES, WORKER_COUNTER, pack_wait

__all__ = [
    "AsyncEvent",
    "AsyncLock",
    "AsyncQueue",
    "AsyncSemaphore",
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "Lock",
    "ProcessBarrier",
    "ProcessLock",
    "ProcessQueue",
    "ProcessSemaphore",
    "ProcessValue",
    "Queue",
    "RLock",
    "Semaphore",
    "WaitGraph",
]

perf_ns = time.perf_counter_ns
POLL_S = 0.05  # a blocked wait looks up every 50 ms: for a stop, and who holds it now
MAX_BATCH = (
    4096  # recorder.MAX_BATCH (not imported: the recorder imports the protocol's dataclasses)
)


# ------------------------------------------------------------------ the lab's hooks
class _Hooks:
    """What the process this module runs in was given by the lab (nothing outside it)."""

    recorder = None  # a recorder.Recorder: where wait records go
    report: Callable[[dict], None] | None = None  # sync_object / sync_blocked messages
    monitor: WaitGraph | None = None  # in the lab itself: blocked waits go here directly
    stopping: Callable[[], bool] = staticmethod(lambda: False)


_h = _Hooks()


def install(
    recorder,
    report: Callable[[dict], None] | None,
    stopping: Callable[[], bool] | None = None,
    monitor: WaitGraph | None = None,
) -> None:
    """Record this process's waits into ``recorder`` (the lab and each worker process)."""
    _h.recorder = recorder
    _h.report = report
    _h.monitor = monitor
    if stopping is not None:
        _h.stopping = stopping


def forward(msg: dict) -> None:
    """Hand a worker process's message to this process's hooks (the lab's relay)."""
    if _h.report is not None:
        _h.report(msg)


_serial = itertools.count(1)


def _new_id() -> int:
    # unique across the lab's processes: a pid (22 bits on Linux) and a counter (20)
    return ((os.getpid() & 0x3FFFFF) << 20) | (next(_serial) & 0xFFFFF)


def _task() -> int:
    task = getattr(running, "task", None)
    return -1 if task is None else task


def _announce(obj) -> None:
    """Name an object to the lab once per process (on its first recorded wait)."""
    obj._announced = os.getpid()
    if _h.report is not None:
        _h.report({"type": "sync_object", "id": obj.id, "name": obj.name, "kind": obj.kind})


def _record(obj, t0: int, holder: int) -> None:
    """A finished wait of the running task on ``obj`` (nothing outside a task or the lab)."""
    rec = _h.recorder
    task = getattr(running, "task", None)
    if rec is None or task is None:
        return
    _append(rec.buffer(), obj, task, getattr(running, "worker", 0), t0, perf_ns(), holder)


def _append(buf, obj, task: int, worker: int, t0: int, t1: int, holder: int) -> None:
    if obj._announced != os.getpid():
        _announce(obj)
    buf.append(
        (EV_WAIT, obj.code, worker, task, buf.pid, buf.tid, t1, pack_wait(obj.id, holder), t0)
    )
    if len(buf.items) >= MAX_BATCH:
        buf.owner.flush()


# thread ident -> (object, task, worker, buffer, start) of each wait in progress
_open: dict[int, tuple] = {}


def record_open_waits() -> None:
    """Record every wait still in progress as ending now (a worker process being ended).

    A process the lab terminates never leaves its waits' ``finally`` blocks; without
    this, the waits of a deadlock under processes would vanish with their workers.
    """
    now = perf_ns()
    for ident, (obj, task, worker, buf, t0, holder) in list(_open.items()):
        if _open.pop(ident, None) is not None:
            _append(buf, obj, task, worker, t0, now, holder)


def record_counter(obj_id: int, value: int) -> None:
    """One sample of a counter (a queue's depth) at this moment."""
    rec = _h.recorder
    if rec is None:
        return
    buf = rec.buffer()
    buf.append((EV_COUNTER, 0, WORKER_COUNTER, obj_id, buf.pid, buf.tid, perf_ns(), value, 0))
    if len(buf.items) >= MAX_BATCH:
        buf.owner.flush()


def _blocked(obj, task: int, holder: int) -> None:
    if task < 0:
        return
    if _h.monitor is not None:
        _h.monitor.blocked(task, obj.id, obj.name, obj.kind, holder, obj)
    elif _h.report is not None:
        _h.report(
            {
                "type": "sync_blocked",
                "task": task,
                "id": obj.id,
                "name": obj.name,
                "kind": obj.kind,
                "holder": holder,
            }
        )


def _unblocked(task: int) -> None:
    if task < 0:
        return
    if _h.monitor is not None:
        _h.monitor.unblocked(task)
    elif _h.report is not None:
        _h.report({"type": "sync_unblocked", "task": task})


class _Named:
    """A name, a kind and an id unique across the lab's processes."""

    __slots__ = ()
    kind = "lock"

    def _name(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {type(self).__name__} needs a name (a non-empty string)")
        self.name = name
        self.id = _new_id()
        self.code = SYNC_KIND_CODES[self.kind]
        self._announced = 0

    def __repr__(self) -> str:
        return f"<concviz {type(self).__name__} {self.name!r}>"

    @property
    def holder(self) -> int:
        """The task holding it now (-1: none, or not a thing one task holds)."""
        return -1


def _poll_wait(obj, try_wait: Callable[[float], bool], timeout: float | None, holder_of) -> bool:
    """Block in ``POLL_S`` slices until ``try_wait(seconds)`` succeeds, recording the wait.

    Ends with False at ``timeout``, with ``Stopped`` when the run stops. After the
    first slice the wait is reported as blocked (with the holder, again whenever the
    holder changes), which is what the deadlock monitor reads.
    """
    t0 = perf_ns()
    me = _task()
    holder = holder_of()
    seen = None
    deadline = None if timeout is None or timeout < 0 else t0 + int(timeout * 1e9)
    ident = threading.get_ident()
    rec = _h.recorder
    if rec is not None and me >= 0:
        _open[ident] = (obj, me, getattr(running, "worker", 0), rec.buffer(), t0, holder)
    try:
        while True:
            step = POLL_S
            if deadline is not None:
                step = min(step, max(0.0, (deadline - perf_ns()) / 1e9))
            if try_wait(step):
                return True
            if deadline is not None and perf_ns() >= deadline:
                return False
            if _h.stopping():
                raise Stopped("stopped")
            now_holder = holder_of()
            if now_holder != seen:
                seen = now_holder
                if now_holder >= 0:
                    holder = now_holder
                _blocked(obj, me, now_holder)
    finally:
        if seen is not None:
            _unblocked(me)
        if _open.pop(ident, None) is not None:
            _record(obj, t0, holder)


# ------------------------------------------------------------------ threading
class Lock(_Named):
    """``threading.Lock`` with a name; a blocked acquire is recorded as a wait."""

    __slots__ = ("name", "id", "code", "_announced", "_lock", "_holder", "__weakref__")

    def __init__(self, name: str) -> None:
        self._name(name)
        self._lock = threading.Lock()
        self._holder = -1

    @property
    def holder(self) -> int:
        return self._holder

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):
            task = getattr(running, "task", None)
            self._holder = -1 if task is None else task
            return True
        if not blocking:
            return False
        me = _task()
        got = _poll_wait(self, self._try, timeout, self._holder_now)
        if got:
            self._holder = me
        return got

    def _try(self, seconds: float) -> bool:
        return self._lock.acquire(True, seconds)

    def _holder_now(self) -> int:
        return self._holder

    def release(self) -> None:
        self._holder = -1
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()


class RLock(Lock):
    """``threading.RLock`` with a name: the thread holding it may take it again."""

    __slots__ = ("_count", "_owner")
    kind = "rlock"

    def __init__(self, name: str) -> None:
        self._name(name)
        self._lock = threading.Lock()
        self._holder = -1
        self._count = 0
        self._owner = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = threading.get_ident()
        if self._owner == me:
            self._count += 1
            return True
        if not Lock.acquire(self, blocking, timeout):
            return False
        self._owner, self._count = me, 1
        return True

    __enter__ = acquire

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            Lock.release(self)

    def locked(self) -> bool:
        return self._lock.locked()


class Semaphore(_Named):
    """``threading.Semaphore`` with a name; a blocked acquire is a wait (no single holder)."""

    kind = "semaphore"

    def __init__(self, name: str, value: int = 1) -> None:
        self._name(name)
        self._sem = self._make(value)

    @staticmethod
    def _make(value: int):
        return threading.Semaphore(value)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if self._sem.acquire(False):
            return True
        if not blocking:
            return False
        return _poll_wait(self, self._try, timeout, _no_holder)

    def _try(self, seconds: float) -> bool:
        return self._sem.acquire(True, seconds)

    def release(self, n: int = 1) -> None:
        self._sem.release(n)

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self._sem.release()


class BoundedSemaphore(Semaphore):
    """``threading.BoundedSemaphore`` with a name: releasing too often is an error."""

    @staticmethod
    def _make(value: int):
        return threading.BoundedSemaphore(value)


def _no_holder() -> int:
    return -1


class Condition(Lock):
    """``threading.Condition`` with a name: its lock is instrumented, and so is ``wait``."""

    __slots__ = ("_cond",)
    kind = "condition"

    def __init__(self, name: str) -> None:
        Lock.__init__(self, name)
        self._cond = threading.Condition(self._lock)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a notification (a recorded wait, the lock released meanwhile)."""
        me = self._holder
        self._holder = -1
        notified = [False]

        def try_wait(seconds: float) -> bool:
            notified[0] = self._cond.wait(seconds)
            return notified[0]

        try:
            return _poll_wait(self, try_wait, timeout, _no_holder)
        finally:
            self._holder = me

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        end = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        self._cond.notify(n)

    def notify_all(self) -> None:
        self._cond.notify_all()


class Event(_Named):
    """``threading.Event`` with a name; waiting for it to be set is recorded."""

    kind = "event"

    def __init__(self, name: str) -> None:
        self._name(name)
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._event.is_set():
            return True
        return _poll_wait(self, self._event.wait, timeout, _no_holder)


_barriers: weakref.WeakSet = weakref.WeakSet()


def abort_barriers() -> None:
    """Break every live barrier of this process (a stop: its waiters raise ``Stopped``)."""
    for b in list(_barriers):
        b._barrier.abort()


class Barrier(_Named):
    """``threading.Barrier`` with a name; the time each party waits for the last is recorded.

    A barrier's wait cannot be sliced (a timeout breaks it for every party), so a
    stop breaks it instead (``abort_barriers``) and its waiters end as stopped.
    """

    kind = "barrier"

    def __init__(self, name: str, parties: int) -> None:
        self._name(name)
        self._barrier = threading.Barrier(parties)
        _barriers.add(self)

    def wait(self, timeout: float | None = None) -> int:
        t0 = perf_ns()
        try:
            return self._barrier.wait(timeout)
        except threading.BrokenBarrierError:
            if _h.stopping():
                raise Stopped("stopped") from None
            raise
        finally:
            _record(self, t0, -1)

    @property
    def parties(self) -> int:
        return self._barrier.parties

    def abort(self) -> None:
        self._barrier.abort()


class Queue(_Named):
    """``queue.Queue`` with a name: blocked puts and gets are waits; its depth is sampled."""

    kind = "queue"

    def __init__(self, name: str, maxsize: int = 0, depth: bool = True) -> None:
        self._name(name)
        self._q: _queue.Queue = _queue.Queue(maxsize)
        self._depth = depth

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        q = self._q
        try:
            q.put_nowait(item)
        except _queue.Full:
            if not block:
                raise
            if not _poll_wait(self, lambda s: _put(q, item, s), timeout, _no_holder):
                raise _queue.Full from None
        if self._depth:
            record_counter(self.id, q.qsize())

    def get(self, block: bool = True, timeout: float | None = None):
        q = self._q
        try:
            item = q.get_nowait()
        except _queue.Empty:
            if not block:
                raise
            box: list = []
            if not _poll_wait(self, lambda s: _get(q, box, s), timeout, _no_holder):
                raise _queue.Empty from None
            item = box[0]
        if self._depth:
            record_counter(self.id, q.qsize())
        return item

    def qsize(self) -> int:
        return self._q.qsize()

    def empty(self) -> bool:
        return self._q.empty()

    def full(self) -> bool:
        return self._q.full()


def _put(q, item, seconds: float) -> bool:
    try:
        q.put(item, True, seconds) if seconds > 0 else q.put_nowait(item)
        return True
    except _queue.Full:
        return False


def _get(q, box: list, seconds: float) -> bool:
    try:
        box.append(q.get(True, seconds) if seconds > 0 else q.get_nowait())
        return True
    except _queue.Empty:
        return False


# ------------------------------------------------------------------ multiprocessing
def _mp(context):
    import multiprocessing

    return context if context is not None else multiprocessing.get_context()


class ProcessLock(_Named):
    """``multiprocessing.Lock`` with a name; its holder lives in shared memory.

    Create it before the worker processes start and hand it to them as the
    standard one (inherited, or as a pool's initializer argument).
    """

    def __init__(self, name: str, context=None) -> None:
        self._name(name)
        ctx = _mp(context)
        self._lock = ctx.Lock()
        self._shared_holder = ctx.RawValue("q", -1)

    @property
    def holder(self) -> int:
        return self._shared_holder.value

    def _holder_now(self) -> int:
        return self._shared_holder.value

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(False):
            self._shared_holder.value = _task()
            return True
        if not blocking:
            return False
        me = _task()
        got = _poll_wait(self, self._try, timeout, self._holder_now)
        if got:
            self._shared_holder.value = me
        return got

    def _try(self, seconds: float) -> bool:
        return self._lock.acquire(True, seconds)

    def release(self) -> None:
        self._shared_holder.value = -1
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()


class ProcessSemaphore(Semaphore):
    """``multiprocessing.Semaphore`` with a name (create it before the workers start)."""

    def __init__(self, name: str, value: int = 1, context=None) -> None:
        self._name(name)
        self._sem = _mp(context).Semaphore(value)


class ProcessValue:
    """``multiprocessing.Value`` whose lock (``get_lock()``) is a named ``ProcessLock``.

    ``value`` reads and writes shared memory without the lock, as the standard
    one's does for each access alone: hold ``get_lock()`` around a read-modify-write.
    """

    def __init__(self, name: str, typecode: str = "q", value=0, context=None) -> None:
        ctx = _mp(context)
        self.name = name
        self._raw = ctx.RawValue(typecode, value)
        self._lock = ProcessLock(f"{name} lock", ctx)

    def get_lock(self) -> ProcessLock:
        return self._lock

    @property
    def value(self):
        return self._raw.value

    @value.setter
    def value(self, v) -> None:
        self._raw.value = v


class ProcessQueue(_Named):
    """``multiprocessing.Queue`` with a name: blocked puts and gets are waits; depth sampled."""

    kind = "queue"

    def __init__(self, name: str, maxsize: int = 0, context=None, depth: bool = True) -> None:
        self._name(name)
        self._q = _mp(context).Queue(maxsize)
        self._depth = depth

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        q = self._q
        try:
            q.put_nowait(item)
        except _queue.Full:
            if not block:
                raise
            if not _poll_wait(self, lambda s: _put(q, item, s), timeout, _no_holder):
                raise _queue.Full from None
        if self._depth:
            record_counter(self.id, _qsize(q))

    def get(self, block: bool = True, timeout: float | None = None):
        q = self._q
        try:
            item = q.get_nowait()
        except _queue.Empty:
            if not block:
                raise
            box: list = []
            if not _poll_wait(self, lambda s: _get(q, box, s), timeout, _no_holder):
                raise _queue.Empty from None
            item = box[0]
        if self._depth:
            record_counter(self.id, _qsize(q))
        return item


def _qsize(q) -> int:
    try:
        return q.qsize()
    except NotImplementedError:  # macOS has no sem_getvalue
        return -1


class ProcessBarrier(Barrier):
    """``multiprocessing.Barrier`` with a name (create it before the workers start)."""

    def __init__(self, name: str, parties: int, context=None) -> None:
        self._name(name)
        self._barrier = _mp(context).Barrier(parties)


# ------------------------------------------------------------------ asyncio
class AsyncLock(_Named):
    """``asyncio.Lock`` with a name: ``async with lock`` records the time it waited."""

    def __init__(self, name: str) -> None:
        import asyncio

        self._name(name)
        self._lock = asyncio.Lock()
        self._holder = -1

    @property
    def holder(self) -> int:
        return self._holder

    async def acquire(self) -> bool:
        me = _task()
        if not self._lock.locked():
            await self._lock.acquire()
            self._holder = me
            return True
        t0 = perf_ns()
        holder = self._holder
        _blocked(self, me, holder)
        try:
            await self._lock.acquire()
        finally:
            _unblocked(me)
            _record(self, t0, holder)
        self._holder = me
        return True

    def release(self) -> None:
        self._holder = -1
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc) -> None:
        self.release()


class AsyncSemaphore(_Named):
    """``asyncio.Semaphore`` with a name; a blocked acquire is recorded."""

    kind = "semaphore"

    def __init__(self, name: str, value: int = 1) -> None:
        import asyncio

        self._name(name)
        self._sem = asyncio.Semaphore(value)

    async def acquire(self) -> bool:
        if not self._sem.locked():
            return await self._sem.acquire()
        t0 = perf_ns()
        try:
            return await self._sem.acquire()
        finally:
            _record(self, t0, -1)

    def release(self) -> None:
        self._sem.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc) -> None:
        self.release()


class AsyncEvent(_Named):
    """``asyncio.Event`` with a name; waiting for it is recorded."""

    kind = "event"

    def __init__(self, name: str) -> None:
        import asyncio

        self._name(name)
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> bool:
        if self._event.is_set():
            return True
        t0 = perf_ns()
        try:
            return await self._event.wait()
        finally:
            _record(self, t0, -1)


class AsyncQueue(_Named):
    """``asyncio.Queue`` with a name: blocked puts and gets are waits; its depth is sampled."""

    kind = "queue"

    def __init__(self, name: str, maxsize: int = 0, depth: bool = True) -> None:
        import asyncio

        self._name(name)
        self._q = asyncio.Queue(maxsize)
        self._depth = depth

    async def put(self, item) -> None:
        q = self._q
        if q.full():
            t0 = perf_ns()
            try:
                await q.put(item)
            finally:
                _record(self, t0, -1)
        else:
            q.put_nowait(item)
        if self._depth:
            record_counter(self.id, q.qsize())

    async def get(self):
        q = self._q
        if q.empty():
            t0 = perf_ns()
            try:
                item = await q.get()
            finally:
                _record(self, t0, -1)
        else:
            item = q.get_nowait()
        if self._depth:
            record_counter(self.id, q.qsize())
        return item

    def qsize(self) -> int:
        return self._q.qsize()


# ------------------------------------------------------------------ deadlocks
DEADLOCK_AGE_S = 0.3  # a wait-for edge must hold this long: a holder that has just
# released is not yet seen as released by its waiter, which looks again every POLL_S


class WaitGraph:
    """Who waits for what, in the lab: finds a cycle of tasks waiting for each other.

    Fed by the lab's own threads (``blocked``/``unblocked`` directly, with the live
    object so its holder is read afresh) and by worker processes through their
    ``sync_blocked``/``sync_unblocked`` messages (``receive``), which they send again
    whenever the holder they see changes.

    Threads: ``blocked``, ``unblocked`` and ``receive`` on any thread; ``check`` on
    the lab's monitor thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # task -> (object id, name, kind, holder, since ns, live object or None)
        self._waits: dict[int, tuple] = {}
        self.names: dict[int, tuple[str, str]] = {}

    def clear(self) -> None:
        with self._lock:
            self._waits.clear()

    def blocked(self, task, obj_id, name, kind, holder, live=None) -> None:
        with self._lock:
            self.names[obj_id] = (name, kind)
            self._waits[task] = (obj_id, name, kind, holder, perf_ns(), live)

    def unblocked(self, task: int) -> None:
        with self._lock:
            self._waits.pop(task, None)

    def receive(self, msg: dict) -> bool:
        """Take a worker process's message; False when it is not about waits."""
        kind = msg.get("type")
        if kind == "sync_blocked":
            self.blocked(
                int(msg["task"]),
                int(msg["id"]),
                str(msg["name"]),
                str(msg["kind"]),
                int(msg["holder"]),
            )
            return True
        if kind == "sync_unblocked":
            self.unblocked(int(msg["task"]))
            return True
        return False

    def check(self, now_ns: int | None = None) -> dict | None:
        """A deadlock among the waits older than ``DEADLOCK_AGE_S``, or None.

        ``{"cycle": [{"task", "holds", "waits_for"}...], "description": sentence}``.
        """
        now = perf_ns() if now_ns is None else now_ns
        with self._lock:
            waits = dict(self._waits)
        edges: dict[int, tuple[int, str, str]] = {}
        for task, (_obj, name, kind, holder, since, live) in waits.items():
            if live is not None:
                holder = live.holder
            if holder < 0 or now - since < DEADLOCK_AGE_S * 1e9:
                continue
            edges[task] = (holder, name, kind)
        for start in sorted(edges):
            path = [start]
            seen = {start: 0}
            node = start
            while True:
                nxt = edges.get(node)
                if nxt is None:
                    break
                node = nxt[0]
                if node in seen:
                    cycle = path[seen[node] :]
                    return _describe_cycle(cycle, edges)
                seen[node] = len(path)
                path.append(node)
        return None


def _describe_cycle(cycle: list[int], edges: dict[int, tuple[int, str, str]]) -> dict:
    # each task holds what the task before it in the cycle waits for
    items = []
    for i, task in enumerate(cycle):
        _, want, want_kind = edges[task]
        _, held, held_kind = edges[cycle[i - 1]]
        items.append(
            {
                "task": task,
                "holds": held,
                "holds_kind": held_kind,
                "waits_for": want,
                "waits_kind": want_kind,
            }
        )
    # start the sentence at the lowest task id, as a reader would
    first = min(range(len(items)), key=lambda k: items[k]["task"])
    items = items[first:] + items[:first]
    parts = [
        f"task {it['task']} holds {called(it['holds_kind'], it['holds'])} and waits for "
        f"{called(it['waits_kind'], it['waits_for'])}"
        for it in items
    ]
    return {"cycle": items, "description": "deadlock: " + "; ".join(parts)}


def called(kind: str, name: str) -> str:
    """How a sentence names an object: ``lock A``, but ``counter lock`` as it is."""
    return name if kind in name.lower().split() else f"{kind} {name}"
