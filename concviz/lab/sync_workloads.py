"""Workloads about sharing: a counter, a contended lock, a bounded pool, a queue, barriers, a deadlock.

Their tasks share objects, so the objects are made once per run by the lab
(``Shared``, held in the spec while the run lasts) and reach worker processes as the
pool's initializer arguments. In the lab's own threads a task uses the threading
form (``sync.Lock``...), in a worker process the multiprocessing form
(``sync.ProcessLock``...), and under asyncio the asyncio form. Every object is one
of ``lab/sync.py``'s, so each wait is recorded and named.

Nothing heavy is imported at module level: every worker process and subinterpreter
imports ``workloads``, which imports this module for its names.
"""

from __future__ import annotations

import os
import random
import tempfile

SYNC_WORKLOADS: dict[str, str] = {
    "shared-counter": "tasks add 1 to one shared counter, many times: --sync none loses updates",
    "contended-lock": "CPU work, --critical-fraction of it holding one shared lock",
    "bounded-pool": "a semaphore lets --limit tasks at a time into an I/O wait",
    "producer-consumer": "even tasks put items into a bounded queue, odd tasks take them",
    "barrier-phases": "uneven work in phases; every worker waits at a barrier for the slowest",
    "deadlock": "two locks taken in opposite orders: the lab finds the cycle and ends the run",
}

# Where each can run: the shared objects are in the lab (threads, asyncio) or in
# shared memory handed to the lab's own pools; engines and subinterpreters get none.
STRATEGIES = (
    "sequential",
    "threads",
    "thread-pool",
    "asyncio",
    "asyncio-to-thread",
    "processes",
    "process-pool",
)

# Which knob each takes, with its default.
KNOBS: dict[str, dict] = {
    "shared-counter": {"sync": "none"},
    "contended-lock": {"critical_fraction": 0.5},
    "bounded-pool": {"limit": 2},
    "producer-consumer": {"queue_size": 4, "producer_ms": None},
    "barrier-phases": {},
    "deadlock": {"sync": "opposite"},
}
COUNTER_MODES = ("none", "lock", "atomic", "local-then-merge")
INCREMENTS_PER_MS = 20  # shared-counter: increments per millisecond of task size asked
ROUNDS = 5  # contended-lock: each task takes the lock this many times
ITEMS = 8  # producer-consumer: items each task puts or takes
MIN_HOLD_MS = 50.0  # deadlock: long enough that the other task takes its first lock


class BadKnob(Exception):
    """A knob that does not fit the workload (one sentence for the user)."""


def knobs(name: str, options: dict) -> dict:
    """The workload's knobs from a start's options (raises BadKnob naming a wrong one)."""
    wanted = KNOBS[name]
    given = {k: options[k] for k in ("sync", *_NUMERIC) if k in options}
    for key in given:
        if key not in wanted:
            takes = ", ".join(wanted) or "no knobs"
            raise BadKnob(f"{_flag(key)} does not apply to the {name} workload (it takes {takes})")
    out = {**wanted, **given}
    sync = out.get("sync")
    if name == "shared-counter" and sync not in COUNTER_MODES:
        raise BadKnob(f"shared-counter takes --sync {' | '.join(COUNTER_MODES)}, not {sync!r}")
    if name == "deadlock" and sync not in ("opposite", "ordered"):
        raise BadKnob(f"deadlock takes --sync ordered (both locks in one order), not {sync!r}")
    return out


_NUMERIC = ("critical_fraction", "limit", "queue_size", "producer_ms")


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def check_run(spec: dict, strategy: str, tasks: int | None, workers: int) -> None:
    """Refuse what cannot run (raises BadKnob): a strategy, or tasks that would hang."""
    name = spec["name"]
    if strategy not in STRATEGIES:
        raise BadKnob(
            f"the {name} workload shares objects between tasks and runs under "
            f"{', '.join(STRATEGIES)}, not {strategy}"
        )
    if name == "barrier-phases":
        if strategy == "asyncio":
            raise BadKnob("barrier-phases has no asyncio form; use threads or processes")
        if tasks is not None and tasks % _parties(strategy, workers):
            raise BadKnob(
                f"barrier-phases runs one task per worker in each phase: give a multiple of "
                f"{_parties(strategy, workers)} tasks, not {tasks}"
            )
    if name == "producer-consumer":
        if tasks is not None and tasks % 2:
            raise BadKnob(
                f"producer-consumer pairs each producer task with a consumer task: "
                f"give an even number of tasks, not {tasks}"
            )
        if _parties(strategy, workers) < 2 and spec["queue_size"] < ITEMS:
            raise BadKnob(
                f"producer-consumer needs 2 workers (a producer and a consumer at once), or a "
                f"--queue-size of at least {ITEMS}"
            )


def _parties(strategy: str, workers: int) -> int:
    return 1 if strategy == "sequential" else workers


# ------------------------------------------------------------------ the run's objects
class Shared:
    """The objects one run's tasks share, made in the lab before any worker starts.

    Pickled into a spawned worker process without the lab's threading objects
    (they cannot cross), which that process does not use.
    """

    def __init__(self, spec: dict, strategy: str, workers: int) -> None:
        import itertools

        from . import sync

        self.lab_pid = os.getpid()
        self.name = spec["name"]
        self.parties = _parties(strategy, workers)
        self.folder = tempfile.TemporaryDirectory(prefix="concviz-sync-")
        # threading forms (the lab's threads)
        self.count = 0
        self.atomic = itertools.count()
        self.lock = sync.Lock("counter lock" if self.name == "shared-counter" else "A")
        self.lock_b = sync.Lock("B")
        self.slots = sync.BoundedSemaphore("pool slots", int(spec.get("limit") or 1))
        self.queue = sync.Queue("queue", int(spec.get("queue_size") or 1))
        self.barrier = sync.Barrier("phase barrier", self.parties)
        # multiprocessing forms (worker processes), made now: they cannot be sent later
        self.mp_count = sync.ProcessValue("counter")
        self.mp_lock = sync.ProcessLock(self.lock.name)
        self.mp_lock_b = sync.ProcessLock("B")
        self.mp_slots = sync.ProcessSemaphore("pool slots", int(spec.get("limit") or 1))
        self.mp_queue = sync.ProcessQueue("queue", int(spec.get("queue_size") or 1))
        self.mp_barrier = sync.ProcessBarrier("phase barrier", self.parties)
        self.atomic_path = os.path.join(self.folder.name, "appends")
        open(self.atomic_path, "wb").close()  # noqa: SIM115 - created empty, closed at once

    _LAB_ONLY = ("count", "atomic", "lock", "lock_b", "slots", "queue", "barrier", "folder")

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._LAB_ONLY}

    def in_lab(self) -> bool:
        return os.getpid() == self.lab_pid

    def result(self, tasks_run: int, spec: dict, stopped: bool) -> dict | None:
        """What the run's tasks did to the shared counter (shared-counter only)."""
        if self.name != "shared-counter":
            return None
        final = self.count + self.mp_count.value
        final += next(self.atomic) + os.path.getsize(self.atomic_path)
        expected = tasks_run * increments(spec)
        return {
            "sync": spec["sync"],
            "expected": expected,
            "final": final,
            "lost_updates": expected - final,
            "complete": not stopped,  # a stopped run's tasks were cut short
        }

    def close(self) -> None:
        self.folder.cleanup()


def increments(spec: dict) -> int:
    return max(1, round(spec["task_ms"] * INCREMENTS_PER_MS))


# ------------------------------------------------------------------ tasks
def task_fn(spec: dict):
    """``fn(index)`` for a thread of the lab or a worker process."""
    from .workloads import _cpu_python, _sleep

    sh: Shared = spec["shared"]
    name = spec["name"]
    lab = sh.in_lab()
    if name == "shared-counter":
        return _counter_task(spec, sh, lab)
    if name == "contended-lock":
        lock = sh.lock if lab else sh.mp_lock
        f = spec["critical_fraction"]
        cal = spec["cal"]

        def contended(i: int) -> None:
            part = spec["task_ms"] / ROUNDS
            for _ in range(ROUNDS):
                with lock:
                    _cpu_python(part * f, cal)
                _cpu_python(part * (1.0 - f), cal)

        return contended
    if name == "bounded-pool":
        slots = sh.slots if lab else sh.mp_slots

        def bounded(i: int) -> None:
            with slots:
                _sleep(spec["task_ms"])

        return bounded
    if name == "producer-consumer":
        q = sh.queue if lab else sh.mp_queue
        produce_ms, consume_ms = _rates(spec)

        def pc(i: int) -> None:
            for k in range(ITEMS):
                if i % 2 == 0:
                    _sleep(produce_ms)
                    q.put((i, k))
                else:
                    q.get()
                    _sleep(consume_ms)

        return pc
    if name == "barrier-phases":
        barrier = sh.barrier if lab else sh.mp_barrier

        def phase(i: int) -> None:
            _sleep(_uneven_ms(spec, i))
            barrier.wait()

        return phase
    if name == "deadlock":
        a, b = (sh.lock, sh.lock_b) if lab else (sh.mp_lock, sh.mp_lock_b)
        hold = _hold_ms(spec)
        ordered = spec["sync"] == "ordered"

        def deadlock(i: int) -> None:
            first, second = (a, b) if ordered or i % 2 == 0 else (b, a)
            with first:
                _sleep(hold)
                with second:
                    _sleep(hold)

        return deadlock
    raise ValueError(f"not a sync workload: {name}")


def _counter_task(spec: dict, sh: Shared, lab: bool):
    import time

    n = increments(spec)
    mode = spec["sync"]
    pause = time.sleep
    if lab:
        lock = sh.lock
        if mode == "none":

            def add(i: int) -> None:
                for _ in range(n):
                    v = sh.count
                    pause(0)  # another thread runs here, and its update is lost
                    sh.count = v + 1

        elif mode == "lock":

            def add(i: int) -> None:
                for _ in range(n):
                    with lock:
                        v = sh.count
                        pause(0)
                        sh.count = v + 1

        elif mode == "atomic":
            tick = sh.atomic.__next__  # one C call: nothing runs between read and write

            def add(i: int) -> None:
                for _ in range(n):
                    tick()

        else:

            def add(i: int) -> None:
                local = 0
                for _ in range(n):
                    local += 1
                with lock:
                    v = sh.count
                    pause(0)
                    sh.count = v + local

        return add
    value, lock = sh.mp_count, sh.mp_count.get_lock()
    if mode == "none":

        def add(i: int) -> None:
            for _ in range(n):
                v = value.value  # shared memory, read without the lock
                pause(0)
                value.value = v + 1

    elif mode == "lock":

        def add(i: int) -> None:
            for _ in range(n):
                with lock:
                    v = value.value
                    pause(0)
                    value.value = v + 1

    elif mode == "atomic":
        path = sh.atomic_path

        def add(i: int) -> None:
            # the kernel appends each write whole, wherever the other processes are
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            try:
                for _ in range(n):
                    os.write(fd, b"+")
            finally:
                os.close(fd)

    else:

        def add(i: int) -> None:
            local = 0
            for _ in range(n):
                local += 1
            with lock:
                v = value.value
                pause(0)
                value.value = v + local

    return add


def _rates(spec: dict) -> tuple[float, float]:
    consume = spec["task_ms"] / ITEMS
    # by default producers are twice as fast, so the queue fills and they wait on it
    produce = spec["producer_ms"] if spec.get("producer_ms") is not None else consume / 2
    return produce, consume


def _uneven_ms(spec: dict, index: int) -> float:
    r = random.Random(spec["seed"] * 1_000_003 + index).uniform(0.2, 1.8)
    return spec["task_ms"] * r


def _hold_ms(spec: dict) -> float:
    return max(spec["task_ms"] / 2, MIN_HOLD_MS)


def async_task_fn(spec: dict):
    """``async fn(index)`` for the asyncio strategy, on asyncio's own objects."""
    import asyncio

    from . import sync
    from .workloads import _cpu_python

    sh: Shared = spec["shared"]
    name = spec["name"]
    if name == "shared-counter":
        n = increments(spec)
        mode = spec["sync"]
        lock = sync.AsyncLock("counter lock")

        async def add(i: int) -> None:
            if mode == "local-then-merge":
                async with lock:
                    v = sh.count
                    await asyncio.sleep(0)
                    sh.count = v + n
                return
            for _ in range(n):
                if mode == "atomic":
                    next(sh.atomic)
                elif mode == "lock":
                    async with lock:
                        v = sh.count
                        await asyncio.sleep(0)
                        sh.count = v + 1
                else:
                    v = sh.count
                    await asyncio.sleep(0)  # another coroutine runs here
                    sh.count = v + 1

        return add
    if name == "contended-lock":
        lock = sync.AsyncLock("A")
        f = spec["critical_fraction"]

        async def contended(i: int) -> None:
            part = spec["task_ms"] / ROUNDS
            for _ in range(ROUNDS):
                async with lock:
                    _cpu_python(part * f, spec["cal"])
                    await asyncio.sleep(0)
                _cpu_python(part * (1.0 - f), spec["cal"])
                await asyncio.sleep(0)

        return contended
    if name == "bounded-pool":
        slots = sync.AsyncSemaphore("pool slots", spec["limit"])

        async def bounded(i: int) -> None:
            async with slots:
                await asyncio.sleep(spec["task_ms"] / 1000)

        return bounded
    if name == "producer-consumer":
        q = sync.AsyncQueue("queue", spec["queue_size"])
        produce_ms, consume_ms = _rates(spec)

        async def pc(i: int) -> None:
            for k in range(ITEMS):
                if i % 2 == 0:
                    await asyncio.sleep(produce_ms / 1000)
                    await q.put((i, k))
                else:
                    await q.get()
                    await asyncio.sleep(consume_ms / 1000)

        return pc
    if name == "deadlock":
        a, b = sync.AsyncLock("A"), sync.AsyncLock("B")
        hold = _hold_ms(spec) / 1000
        ordered = spec["sync"] == "ordered"

        async def deadlock(i: int) -> None:
            first, second = (a, b) if ordered or i % 2 == 0 else (b, a)
            async with first:
                await asyncio.sleep(hold)
                async with second:
                    await asyncio.sleep(hold)

        return deadlock
    raise ValueError(f"{name} has no asyncio form")
