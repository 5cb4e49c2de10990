"""Submitting tasks to an executor with a bounded number in flight.

Bounded so that a continuous run does not queue an endless stream, and so that a
switch or a stop takes effect after at most a window of tasks already handed out.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from functools import partial
from itertools import islice

from .base import RunContext

# Tasks sent together to a worker process (``chunk_for``) are about this long in all;
# a chunked run keeps ``CHUNK_WINDOW`` chunks a worker in flight, so a switch waits for
# at most that much work, 30 ms (a stop ends the workers at once). Chunks of 15 ms two
# a worker, against 10 ms three a worker before (the same 30 ms): 9 interleaved
# repeats against ``Pool.map``, recorded, 1.058 -> 1.037 at 0.2 ms, 1.069 -> 1.062 at
# 0.05 ms and 1.074 -> 1.030 at 2 ms: fewer chunks, each a round trip through the lab.
CHUNK_S = 0.015
CHUNK_WINDOW = 2
# At most this many tasks to a chunk: 300 tasks of 0.05 ms make the 15 ms. A cap of 64
# (3.2 ms of such tasks) cost the lab a chunk's work too often: 11 interleaved repeats
# of 12 000 tasks of 0.05 ms, recorded against ``Pool.map``, 1.108 with 64 and 1.088
# with 256 (unrecorded 1.038 and 1.018).
MAX_CHUNK = 512


def chunk_for(ctx: RunContext) -> int:
    """How many tasks of this run go to a worker at a time: about ``CHUNK_S`` of work.

    One for a task graph (a chunk's later task may need its earlier one) and for a
    user's function, whose task size says nothing about how long it takes.
    """
    if ctx.feed.deps is not None or ctx.spec.get("name") == "user":
        return 1
    task_s = float(ctx.spec.get("task_ms") or 0.0) / 1e3
    if task_s <= 0:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, int(CHUNK_S / task_s)))


def window_for(ctx: RunContext) -> int:
    return 2 * ctx.workers if ctx.feed.total is None else 4 * ctx.workers + 16


def submit_windowed(
    ctx: RunContext,
    submit: Callable[[int], Future],
    on_result: Callable[[Future], None] | None = None,
    check: Callable[[], None] | None = None,
    chunk: int = 1,
) -> None:
    """Submit every task of the feed, at most a window in flight; wait for all.

    With ``chunk`` > 1 (and no task graph) ``submit`` is given a tuple of up to that
    many task indices at a time, as ``multiprocessing.Pool.map`` chunks its items; the
    window then counts chunks.

    ``on_result`` runs for each finished future (on the executor's thread);
    ``check`` runs about 20 times a second while waiting and may raise to end
    the run (a dead worker).

    The window is refilled in halves: once it is full, the dispatching thread sleeps
    until half of it has finished and then submits that half in one go. Woken for
    every finished task, as before, it took the GIL from the executor's threads once
    a task (12 000 times in a run of 0.05 ms tasks); the workers keep at least half a
    window queued meanwhile, so none runs dry. A finished future counts itself out
    under a lock and wakes the dispatcher only when the count reaches what it waits
    for (one ``SimpleQueue.put``).
    """
    window = window_for(ctx)
    finished = ctx.feed.finished
    if chunk > 1 and ctx.feed.deps is None:
        window = CHUNK_WINDOW * ctx.workers
        it = iter(ctx.feed)
        total, feed, share = ctx.feed.total, ctx.feed, 2 * ctx.workers

        def next_chunk() -> tuple[int, ...]:
            # A run of a known number of tasks shrinks its last chunks ("guided", as
            # OpenMP's schedule): a chunk holds at most a quarter of a 2-worker run's
            # tasks left, so the workers end together instead of one running a last
            # whole chunk alone. 9 interleaved repeats of 3 000 tasks of 0.2 ms against
            # ``Pool.map``: 1.082 -> 1.059 recorded, 1.038 -> 1.015 unrecorded (no
            # change at 2 ms and 0.05 ms).
            size = chunk
            if total is not None:
                size = max(1, min(chunk, -(-(total - feed.handed_out) // share)))
            return tuple(islice(it, size))

        items = iter(next_chunk, ())
    else:
        chunk, items = 1, iter(ctx.feed)
    # a task graph refills at once: a finished task may free the next one to run
    low = window - 1 if ctx.feed.deps is not None else window - max(1, window // 2)
    lock = threading.Lock()
    wake: queue.SimpleQueue[None] = queue.SimpleQueue()
    # [tasks in flight, the count the dispatcher waits for (-1: none)]
    state = [0, -1]

    def done(index, fut: Future) -> None:
        try:
            if on_result is not None and not fut.cancelled():
                on_result(fut)
        finally:
            # a task graph frees the task's dependants once it has ended, however it ended
            if chunk == 1:
                finished(index)
            else:
                for i in index:
                    finished(i)
            with lock:
                state[0] -= 1
                if state[0] <= state[1]:
                    state[1] = -1
                    wake.put(None)

    def down_to(target: int) -> bool:
        """Wait until at most ``target`` are in flight; False when the run is stopped."""
        while True:
            with lock:
                if state[0] <= target:
                    return True
                state[1] = target
            try:
                wake.get(timeout=0.05)  # a wake left by a wait that timed out re-checks
            except queue.Empty:
                if check is not None:
                    check()
                if ctx.stop_event.is_set():
                    return False

    for index in items:
        if state[0] >= window and not down_to(low):
            return
        with lock:
            state[0] += 1
        try:
            fut = submit(index)
        except RuntimeError:
            with lock:
                state[0] -= 1
            break  # the executor was shut down by a stop
        fut.add_done_callback(partial(done, index))
    down_to(0)


def result_or_none(fut: Future):
    try:
        return fut.result()
    except CancelledError:
        return None
