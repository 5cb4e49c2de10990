"""asyncio strategies: N coroutines on one event loop, and asyncio.to_thread.

For ``asyncio`` every resume -> suspend slice of each task's coroutine is recorded,
so the interleaving on the loop's single thread can be drawn; a CPU-bound task never
suspends, so it blocks every other coroutine, and the timeline shows exactly that.
Each coroutine takes its first task when it is created, and the task's start is
recorded then: a coroutine that waits for the loop (because another one blocks it)
has a bar from the moment it was ready, not from the moment it first ran.
"""

from __future__ import annotations

# asyncio itself is imported where a run needs it: it is a fifth of the lab's start
# (45 ms), and most labs never run a coroutine
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from ..output import running
from ..protocol import EV_END, EV_ERROR, EV_SLICE_END, EV_SLICE_START, EV_START, EV_STOPPED
from ..recorder import Buffer, Stopped, cpu_ns, describe_error, execute, leave_if_forked, perf_ns
from ..workloads import async_task_fn, task_fn
from .base import RunContext, strategy
from .local import thread_indexer


class _Traced:
    """Awaitable that drives a coroutine and records each of its slices.

    Whatever ends the coroutine ends its task record: a return, any exception
    (``SystemExit`` and ``KeyboardInterrupt`` too, which asyncio would otherwise
    carry out of the event loop, ending the run with tasks never recorded), or the
    run's stop (cancellation), recorded as stopped.
    """

    __slots__ = ("coro", "buf", "worker", "task", "stopping", "t_start")

    def __init__(
        self, coro, buf: Buffer, worker: int, task: int, stopping, t_start: int | None = None
    ) -> None:
        self.coro, self.buf, self.worker, self.task = coro, buf, worker, task
        self.stopping = stopping
        self.t_start = t_start  # set when the task's start was recorded before it ran

    def __await__(self):
        import asyncio

        coro, buf, w, i = self.coro, self.buf, self.worker, self.task
        t_start = self.t_start
        if t_start is None:
            t_start = perf_ns()
            buf.add(EV_START, w, i, t_start, 0, 0)
        cpu_total = 0
        value = None
        exc: BaseException | None = None
        kind = EV_END
        try:
            while True:
                s0 = perf_ns()
                c0 = cpu_ns()
                buf.add(EV_SLICE_START, w, i, s0, 0, 0)
                # the coroutines share one thread: name the one running now, for what
                # it prints and for the sync objects it waits on
                running.task, running.worker = i, w
                try:
                    if exc is not None:
                        yielded = coro.throw(exc)
                    else:
                        yielded = coro.send(value)
                except StopIteration:
                    return None
                finally:
                    running.task = None
                    leave_if_forked(buf.pid)  # a child forked by the coroutine stops here
                    c1 = cpu_ns()
                    buf.add(EV_SLICE_END, w, i, perf_ns(), c1 - c0, s0)
                    cpu_total += c1 - c0
                try:
                    value = yield yielded
                    exc = None
                except BaseException as e:  # cancellation reaches the coroutine this way
                    value, exc = None, e
        except asyncio.CancelledError as e:
            if self.stopping():
                kind = EV_STOPPED
                raise  # the stop cancelled the worker: let it end
            kind = EV_ERROR
            return describe_error(e)
        except Stopped:
            kind = EV_STOPPED
            return None
        except BaseException as e:  # noqa: BLE001 - a failing task is data, not a crash
            kind = EV_ERROR
            return describe_error(e)
        finally:
            buf.add(kind, w, i, perf_ns(), cpu_total, t_start)


@strategy("asyncio", "N coroutines on one event loop thread (asyncio.gather)")
def run_asyncio(ctx: RunContext) -> None:
    import asyncio

    afn = async_task_fn(ctx.spec)
    if ctx.feed.deps is not None:
        _run_graph(ctx, afn, ctx.feed.deps)
        return

    async def main() -> None:
        buf = ctx.recorder.buffer()
        loop = asyncio.get_running_loop()

        async def worker(w: int, first: int, t_first: int) -> None:
            index: int | None = first
            t_start: int | None = t_first
            while index is not None:
                begun.add(w)
                err = await _Traced(afn(index), buf, w, index, ctx.stop_event.is_set, t_start)
                if err:
                    ctx.task_error(index, w, err)
                index, t_start = ctx.feed.next(), None

        def never_ran(w: int, index: int, t_start: int):
            """A coroutine cancelled before it first ran never reaches its own
            bookkeeping: its task, recorded as started, is recorded as stopped here."""

            def done(_task: asyncio.Task) -> None:
                if w not in begun:
                    buf.add(EV_STOPPED, w, index, perf_ns(), 0, t_start)

            return done

        # each coroutine takes its first task now, when it is created and ready to run,
        # so the time it waits for the loop (another coroutine holding it) is on record
        begun: set[int] = set()
        firsts: list[tuple[int, int]] = []
        for w in range(ctx.workers):
            index = ctx.feed.next()
            if index is None:
                break  # more coroutines than tasks: the rest would have nothing to do
            t = perf_ns()
            buf.add(EV_START, w, index, t, 0, 0)
            firsts.append((index, t))
        tasks = []
        for w, (index, t) in enumerate(firsts):
            task = asyncio.create_task(worker(w, index, t), name=f"worker-{w}")
            task.add_done_callback(never_ran(w, index, t))
            tasks.append(task)
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
    import asyncio

    fn = task_fn(ctx.spec)
    worker_index = thread_indexer()
    local = threading.local()

    def one(index: int) -> str | None:
        w = worker_index()
        buf = getattr(local, "buf", None) or ctx.recorder.buffer()
        local.buf = buf
        err = execute(buf, w, index, fn)
        ctx.feed.finished(index)
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


def _run_graph(ctx: RunContext, afn, deps: list[list[int]]) -> None:
    """A task graph on the loop: each task's coroutine gathers its dependencies' first.

    N worker slots (a queue of their indices) bound how many run at once; a task
    takes a slot only when every task it needs has ended.
    """
    import asyncio

    async def main() -> None:
        buf = ctx.recorder.buffer()
        loop = asyncio.get_running_loop()
        slots: asyncio.Queue[int] = asyncio.Queue()
        for w in range(ctx.workers):
            slots.put_nowait(w)
        nodes: list[asyncio.Task] = []

        async def node(i: int) -> None:
            if deps[i]:
                await asyncio.gather(*(nodes[d] for d in deps[i]), return_exceptions=True)
            w = await slots.get()
            try:
                if ctx.stop_event.is_set():
                    return
                ctx.feed.claim(i)
                err = await _Traced(afn(i), buf, w, i, ctx.stop_event.is_set)
                if err:
                    ctx.task_error(i, w, err)
            finally:
                slots.put_nowait(w)

        for i in range(len(deps)):
            nodes.append(asyncio.create_task(node(i), name=f"task-{i}"))
        ctx.on_stop(lambda: loop.call_soon_threadsafe(lambda: [t.cancel() for t in nodes]))
        await asyncio.gather(*nodes, return_exceptions=True)

    asyncio.run(main())
