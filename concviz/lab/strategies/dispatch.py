"""Submitting tasks to an executor with a bounded number in flight.

Bounded so that a continuous run does not queue an endless stream, and so that a
switch or a stop takes effect after at most a window of tasks already handed out.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import CancelledError, Future
from functools import partial
from itertools import islice

from .base import RunContext

# Tasks sent together to a worker process (``chunk_for``) are about this long in all;
# a chunked run keeps ``CHUNK_WINDOW`` chunks a worker in flight, so a switch waits for
# at most that much work (a stop ends the workers at once).
CHUNK_S = 0.01
CHUNK_WINDOW = 3
MAX_CHUNK = 64


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

    A finished future hands its slot back through a ``queue.SimpleQueue`` (one C
    call each side); a ``BoundedSemaphore`` and a ``Condition`` with a second
    done-callback per future, as before, cost the lab about 10 µs a task in Python
    locks and notifications, as much as a bare executor's whole submit.
    """
    window = window_for(ctx)
    returned: queue.SimpleQueue[None] = queue.SimpleQueue()
    finished = ctx.feed.finished

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
            returned.put(None)

    def slot_back() -> bool:
        """Wait until a task in flight has finished; False when the run is stopped."""
        while True:
            try:
                returned.get(timeout=0.05)
                return True
            except queue.Empty:
                if check is not None:
                    check()
                if ctx.stop_event.is_set():
                    return False

    in_flight = 0
    if chunk > 1 and ctx.feed.deps is None:
        window = CHUNK_WINDOW * ctx.workers
        it = iter(ctx.feed)
        items = iter(lambda: tuple(islice(it, chunk)), ())
    else:
        chunk, items = 1, iter(ctx.feed)
    for index in items:
        if in_flight >= window:
            if not slot_back():
                return
            in_flight -= 1
        try:
            fut = submit(index)
        except RuntimeError:
            break  # the executor was shut down by a stop
        in_flight += 1
        fut.add_done_callback(partial(done, index))
    while in_flight > 0:
        if not slot_back():
            return
        in_flight -= 1


def result_or_none(fut: Future):
    try:
        return fut.result()
    except CancelledError:
        return None
