"""Submitting tasks to an executor with a bounded number in flight.

Bounded so that a continuous run does not queue an endless stream, and so that a
switch or a stop takes effect after at most a window of tasks already handed out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Future

from .base import RunContext


def window_for(ctx: RunContext) -> int:
    return 2 * ctx.workers if ctx.feed.total is None else 4 * ctx.workers + 16


def submit_windowed(
    ctx: RunContext,
    submit: Callable[[int], Future],
    on_result: Callable[[Future], None] | None = None,
    check: Callable[[], None] | None = None,
) -> None:
    """Submit every task of the feed, at most a window in flight; wait for all.

    ``on_result`` runs for each finished future (on the executor's thread);
    ``check`` runs about 20 times a second while waiting and may raise to end
    the run (a dead worker).
    """
    slots = threading.BoundedSemaphore(window_for(ctx))
    idle = threading.Condition()
    in_flight = 0

    def done(fut: Future) -> None:
        nonlocal in_flight
        try:
            if on_result is not None and not fut.cancelled():
                on_result(fut)
        finally:
            with idle:
                in_flight -= 1
                idle.notify_all()
            slots.release()

    def wait_slot() -> bool:
        while not slots.acquire(timeout=0.05):
            if check is not None:
                check()
            if ctx.stop_event.is_set():
                return False
        return True

    for index in ctx.feed:
        if not wait_slot():
            break
        with idle:
            in_flight += 1
        try:
            fut = submit(index)
        except RuntimeError:
            # the executor was shut down by a stop
            with idle:
                in_flight -= 1
            slots.release()
            break
        fut.add_done_callback(done)
        # a task graph frees the task's dependants once it has ended, however it ended
        fut.add_done_callback(lambda _f, i=index: ctx.feed.finished(i))
    with idle:
        while in_flight > 0:
            idle.wait(timeout=0.05)
            if check is not None:
                check()
            if ctx.stop_event.is_set():
                break


def result_or_none(fut: Future):
    try:
        return fut.result()
    except CancelledError:
        return None
