"""asyncio strategies: N coroutines on one event loop, and asyncio.to_thread.

For ``asyncio`` every resume -> suspend slice of each task's coroutine is recorded,
so the interleaving on the loop's single thread can be drawn; a CPU-bound task never
suspends, so it blocks every other coroutine, and the timeline shows exactly that.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from ..protocol import EV_END, EV_ERROR, EV_SLICE_END, EV_SLICE_START, EV_START
from ..recorder import Buffer, cpu_ns, describe_error, execute, perf_ns
from ..workloads import async_task_fn, task_fn
from .base import RunContext, strategy
from .local import thread_indexer


class _Traced:
    """Awaitable that drives a coroutine and records each of its slices."""

    __slots__ = ("coro", "buf", "worker", "task")

    def __init__(self, coro, buf: Buffer, worker: int, task: int) -> None:
        self.coro, self.buf, self.worker, self.task = coro, buf, worker, task

    def __await__(self):
        coro, buf, w, i = self.coro, self.buf, self.worker, self.task
        t_start = perf_ns()
        buf.add(EV_START, w, i, t_start, 0, 0)
        cpu_total = 0
        value = None
        exc: BaseException | None = None
        err: str | None = None
        try:
            while True:
                s0 = perf_ns()
                c0 = cpu_ns()
                buf.add(EV_SLICE_START, w, i, s0, 0, 0)
                try:
                    if exc is not None:
                        yielded = coro.throw(exc)
                    else:
                        yielded = coro.send(value)
                except StopIteration:
                    return None
                finally:
                    c1 = cpu_ns()
                    buf.add(EV_SLICE_END, w, i, perf_ns(), c1 - c0, s0)
                    cpu_total += c1 - c0
                try:
                    value = yield yielded
                    exc = None
                except BaseException as e:  # cancellation reaches the coroutine this way
                    value, exc = None, e
        except asyncio.CancelledError:
            err = "CancelledError: the run was stopped"
            raise
        except Exception as e:
            err = describe_error(e)
            return err
        finally:
            buf.add(EV_ERROR if err else EV_END, w, i, perf_ns(), cpu_total, t_start)


@strategy("asyncio", "N coroutines on one event loop thread (asyncio.gather)")
def run_asyncio(ctx: RunContext) -> None:
    afn = async_task_fn(ctx.spec)

    async def main() -> None:
        buf = ctx.recorder.buffer()
        loop = asyncio.get_running_loop()

        async def worker(w: int) -> None:
            while (index := ctx.feed.next()) is not None:
                err = await _Traced(afn(index), buf, w, index)
                if err:
                    ctx.task_error(index, w, err)

        tasks = [asyncio.create_task(worker(w), name=f"worker-{w}") for w in range(ctx.workers)]
        ctx.emit(
            {
                "type": "workers",
                "pid": os.getpid(),
                "tid": threading.get_native_id(),
                "names": {w: f"asyncio task {t.get_name()}" for w, t in enumerate(tasks)},
            }
        )
        ctx.on_stop(lambda: loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks]))
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


@strategy(
    "asyncio-to-thread",
    "N coroutines each awaiting asyncio.to_thread (a pool of N threads does the work)",
)
def run_asyncio_to_thread(ctx: RunContext) -> None:
    fn = task_fn(ctx.spec)
    worker_index = thread_indexer()
    local = threading.local()

    def one(index: int) -> str | None:
        w = worker_index()
        buf = getattr(local, "buf", None) or ctx.recorder.buffer()
        local.buf = buf
        err = execute(buf, w, index, fn)
        if err:
            ctx.task_error(index, w, err)
        return err

    async def main() -> None:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=ctx.workers, thread_name_prefix="to_thread")
        loop.set_default_executor(executor)

        async def caller() -> None:
            while (index := ctx.feed.next()) is not None:
                await asyncio.to_thread(one, index)

        tasks = [asyncio.create_task(caller(), name=f"caller-{c}") for c in range(ctx.workers)]
        ctx.on_stop(lambda: loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks]))
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
