"""What every strategy gets: the task feed, the recorder, the run's context, the registry.

A strategy is one module under ``lab/strategies/`` that registers itself with
``@strategy(name, description)`` on its ``run(ctx)``; its availability probe
``available() -> str | None`` returns None or the reason it cannot run here.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..protocol import EV_QUEUED, WORKER_DISPATCH
from ..recorder import Recorder, perf_ns


class WorkerDied(Exception):
    """A worker process died; the message names it."""


@dataclass
class Strategy:
    name: str
    description: str
    run: Callable[[RunContext], None]
    available: Callable[[], str | None]
    family: str
    processes: bool = False  # ships the workload to other processes (pickling matters)
    group: str = "python"  # "python" (the standard library) or "engines" (optional extras)
    install: str | None = None  # how to get what a missing engine needs
    check_options: Callable[[dict], str | None] | None = None  # None, or what is wrong


REGISTRY: dict[str, Strategy] = {}


def strategy(
    name: str,
    description: str,
    available: Callable[[], str | None] = lambda: None,
    processes: bool = False,
    group: str = "python",
    install: str | None = None,
    check_options: Callable[[dict], str | None] | None = None,
):
    """Register ``run(ctx)`` as a strategy (decorator)."""

    def register(run: Callable[[RunContext], None]) -> Callable[[RunContext], None]:
        REGISTRY[name] = Strategy(
            name,
            description,
            run,
            available,
            run.__module__.rsplit(".", 1)[-1],
            processes,
            group,
            install,
            check_options,
        )
        return run

    return register


class TaskFeed:
    """Hands out task indices until the batch is done, the run stops, or a switch waits.

    Threads: ``next`` from any dispatching or worker thread; ``pause``/``resume``/
    ``stop`` from the lab's control thread.
    """

    def __init__(self, total: int | None, recorder: Recorder) -> None:
        self.total = total
        self._next = 0
        self._lock = threading.Lock()
        self._paused = False
        self._stopped = False
        self._recorder = recorder
        # Each task handed out is said "queued" with the time, appended straight to the
        # buffer of the thread that made the feed (the flusher ships it with the rest;
        # the window reads neither thread nor buffer of a queued event): 0.5 µs a task
        # against 0.85 µs through ``Buffer.add``, on the dispatching thread, which in a
        # process pool of short tasks is the lab's busiest. Nothing when the recorder
        # is off (a task graph's feed recorded then too).
        self._queued = recorder.buffer().append if recorder.recording else None
        self._pid = os.getpid()

    def _say_queued(self, index: int) -> None:
        if self._queued is not None:
            self._queued((EV_QUEUED, 0, WORKER_DISPATCH, index, self._pid, 0, perf_ns(), 0, 0))

    def next(self) -> int | None:
        with self._lock:
            if self._stopped or self._paused:
                return None
            if self.total is not None and self._next >= self.total:
                return None
            index = self._next
            self._next += 1
        queued = self._queued
        if queued is not None:  # inline: the hot path of every dispatch
            queued((EV_QUEUED, 0, WORKER_DISPATCH, index, self._pid, 0, perf_ns(), 0, 0))
        return index

    def __iter__(self):
        while (index := self.next()) is not None:
            yield index

    def finished(self, index: int) -> None:
        """A task handed out has ended (any way): a task graph may free its dependants."""

    @property
    def deps(self) -> list[list[int]] | None:
        """Each task's dependencies when the tasks form a graph, else None."""
        return None

    @property
    def handed_out(self) -> int:
        return self._next

    @property
    def exhausted(self) -> bool:
        return self._stopped or (self.total is not None and self._next >= self.total)

    def pause(self) -> None:
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False

    def stop(self) -> None:
        with self._lock:
            self._stopped = True


class DagFeed(TaskFeed):
    """Hands out a task only once every task it depends on has ended (``finished``).

    ``next`` blocks (looking up every 50 ms for a stop) while tasks remain but none is
    ready; it never runs on an event loop's thread (asyncio awaits the graph itself).
    """

    def __init__(self, deps: list[list[int]], recorder: Recorder) -> None:
        super().__init__(len(deps), recorder)
        self._deps = deps
        self._missing = [len(d) for d in deps]
        self._children: list[list[int]] = [[] for _ in deps]
        for task, mine in enumerate(deps):
            for d in mine:
                self._children[d].append(task)
        self._ready = deque(t for t, n in enumerate(self._missing) if n == 0)
        self._cond = threading.Condition(self._lock)
        self._ended: set[int] = set()

    @property
    def deps(self) -> list[list[int]]:
        return self._deps

    def next(self) -> int | None:
        with self._cond:
            while True:
                if self._stopped or self._paused:
                    return None
                if self._ready:
                    index = self._ready.popleft()
                    self._next += 1
                    break
                if self.total is not None and self._next >= self.total:
                    return None
                self._cond.wait(0.05)
        self._say_queued(index)
        return index

    def claim(self, index: int) -> None:
        """Count a task handed out by whoever runs the graph itself (asyncio)."""
        with self._cond:
            self._next += 1
        self._say_queued(index)

    def finished(self, index: int) -> None:
        with self._cond:
            if index in self._ended:
                return  # told twice (a future's callbacks): its dependants count it once
            self._ended.add(index)
            for child in self._children[index]:
                self._missing[child] -= 1
                if self._missing[child] == 0:
                    self._ready.append(child)
            self._cond.notify_all()


@dataclass
class RunContext:
    """Everything one strategy segment needs; built by the lab for each segment."""

    spec: dict
    workers: int
    feed: TaskFeed
    recorder: Recorder
    emit: Callable[[dict], None]
    send_events: Callable[[bytes], None]
    options: dict
    stop_event: threading.Event
    sys_path: list[str]
    _stop_hooks: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the run is stopped (at once if it already is)."""
        with self._lock:
            self._stop_hooks.append(hook)
            stopped = self.stop_event.is_set()
        if stopped:
            hook()

    def fire_stop_hooks(self) -> None:
        with self._lock:
            hooks = list(self._stop_hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:
                pass  # stopping must go on whatever one hook does

    def task_error(self, task: int, worker: int, text: str) -> None:
        self.emit({"type": "task_error", "task": task, "worker": worker, "error": text})
