"""Strategies that run tasks on threads of the lab process itself: sequential, threads, thread-pool."""

from __future__ import annotations

import itertools
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from ..recorder import execute
from ..workloads import task_fn
from .base import RunContext, strategy
from .dispatch import submit_windowed


@strategy("sequential", "one task after another on one thread: the baseline")
def run_sequential(ctx: RunContext) -> None:
    fn = task_fn(ctx.spec)
    buf = ctx.recorder.buffer()
    buf.mark_cpu()  # this runner thread did other work before
    for index in ctx.feed:
        err = execute(buf, 0, index, fn)
        ctx.feed.finished(index)
        if err:
            ctx.task_error(index, 0, err)


@strategy("threads", "N threading.Thread workers pulling task indices from a queue.Queue")
def run_threads(ctx: RunContext) -> None:
    fn = task_fn(ctx.spec)
    tasks: queue.Queue[int | None] = queue.Queue(maxsize=2 * ctx.workers)

    def work(worker: int) -> None:
        buf = ctx.recorder.buffer()
        buf.mark_cpu()
        while (index := tasks.get()) is not None:
            if ctx.stop_event.is_set():
                continue  # drain what was queued without running it
            err = execute(buf, worker, index, fn)
            ctx.feed.finished(index)
            if err:
                ctx.task_error(index, worker, err)

    threads = [
        threading.Thread(target=work, args=(w,), name=f"worker-{w}", daemon=True)
        for w in range(ctx.workers)
    ]
    for t in threads:
        t.start()
    for index in ctx.feed:
        tasks.put(index)
    for _ in threads:
        tasks.put(None)
    for t in threads:
        t.join()


def thread_indexer():
    """``worker()`` gives each pool thread a stable index, in order of first use."""
    local = threading.local()
    counter = itertools.count()

    def worker() -> int:
        w = getattr(local, "w", None)
        if w is None:
            w = local.w = next(counter)
        return w

    return worker


@strategy("thread-pool", "concurrent.futures.ThreadPoolExecutor with N threads")
def run_thread_pool(ctx: RunContext) -> None:
    fn = task_fn(ctx.spec)
    worker_index = thread_indexer()

    def one(index: int) -> None:
        w = worker_index()
        err = execute(ctx.recorder.buffer(), w, index, fn)
        if err:
            ctx.task_error(index, w, err)

    with ThreadPoolExecutor(max_workers=ctx.workers, thread_name_prefix="pool") as ex:
        ctx.on_stop(lambda: ex.shutdown(wait=False, cancel_futures=True))
        submit_windowed(ctx, lambda i: ex.submit(one, i))
