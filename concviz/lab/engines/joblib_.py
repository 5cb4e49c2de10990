"""joblib ``Parallel`` with its loky (processes) and threading backends.

joblib pulls tasks from the lab's feed lazily (``pre_dispatch``) and batches short
ones automatically, as it does for anyone; concviz only wraps each task so it is
recorded where it runs. loky workers send their events through an ``EventSink``;
threads record straight into the lab's own recorder.
"""

from __future__ import annotations

import itertools
import threading

from ..recorder import execute
from ..strategies.base import RunContext, WorkerDied, strategy
from .common import ABANDONED, install_hint, missing_module, phase, start_up
from .sink import EventSink, run_task, run_task_unrecorded, warm_up


def _joblib_missing() -> str | None:
    return missing_module("joblib", extra="joblib")


def _results(ctx: RunContext, results) -> int:
    """Consume ``(index, row, error)`` results as they come; how many arrived."""
    n = 0
    for index, row, err in results:
        n += 1
        if err:
            ctx.task_error(index, row, err)
    return n


def _discard(executor) -> None:
    """A start-up finished after its run was stopped: end the workers it started."""
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


@strategy(
    "joblib-loky",
    "joblib Parallel, loky backend: N reusable worker processes",
    available=_joblib_missing,
    processes=True,
    group="engines",
    install=install_hint("joblib"),
)
def run_joblib_loky(ctx: RunContext) -> None:
    starting = phase(ctx, "startup", f"starting {ctx.workers} loky worker processes")
    from joblib import Parallel, delayed

    # loky's workers notice a lab killed with SIGKILL only when their idle time-out
    # ends (minutes): exit_with_lab ends them with their connection to the lab instead
    sink = EventSink(ctx, name="loky worker {n}")
    # the workers' address carries the run's secret: loky pickles it over its pipes
    spec, address = ctx.spec, sink.worker_address
    recording = ctx.recorder.recording
    executor = None
    try:
        with Parallel(
            n_jobs=ctx.workers, backend="loky", return_as="generator_unordered"
        ) as parallel:
            try:
                # with the recorder off the workers are not linked to the lab at all
                link = address if recording else None
                warm = delayed(warm_up)(link, spec, exit_with_lab=True)

                def build():
                    list(parallel(warm for _ in range(2 * ctx.workers)))
                    return getattr(parallel._backend, "_workers", None)

                # on a thread of its own: a stop meanwhile kills the workers starting
                # and ends the run at once (the run's thread was stuck in loky's
                # start-up, and the lab was restarted)
                got = start_up(ctx, build, _discard)
                if got is None or got is ABANDONED:
                    return  # stopped during the start-up: no task ran
                executor = got
                if recording:
                    sink.wait_rows(ctx.workers, timeout=10)
            finally:
                starting.end()
            if executor is not None:
                ctx.on_stop(lambda: executor.shutdown(wait=False, kill_workers=True))

            def tasks():
                if not recording:  # the same dispatch, nothing recorded (bench overhead)
                    for index in ctx.feed:
                        yield delayed(run_task_unrecorded)(spec, index)
                    return
                for index in ctx.feed:
                    yield delayed(run_task)(address, spec, index, exit_with_lab=True)

            try:
                done = _results(ctx, parallel(tasks()))
            except Exception as exc:
                if ctx.stop_event.is_set():
                    done = 0  # the stop killed the workers on purpose
                else:
                    raise WorkerDied(f"a loky worker process failed: {exc}") from None
            if recording:
                sink.wait_ended(done)
    finally:
        with phase(ctx, "teardown", "stopping the loky workers"):
            if executor is not None:
                # joblib keeps loky's workers for the next call; concviz leaves none behind
                executor.shutdown(wait=True, kill_workers=ctx.stop_event.is_set())
            sink.close()


@strategy(
    "joblib-threads",
    "joblib Parallel, threading backend: N threads in the lab (the GIL applies)",
    available=_joblib_missing,
    group="engines",
    install=install_hint("joblib"),
)
def run_joblib_threads(ctx: RunContext) -> None:
    starting = phase(ctx, "startup", f"starting joblib's pool of {ctx.workers} threads")
    from joblib import Parallel, delayed

    from ..workloads import task_fn

    fn = task_fn(ctx.spec)
    local = threading.local()
    rows = itertools.count()
    recorder = ctx.recorder

    def task(index: int):
        row = getattr(local, "row", None)
        buf = recorder.buffer()
        if row is None:
            row = local.row = next(rows)
            buf.mark_cpu()
        return index, row, execute(buf, row, index, fn)

    with Parallel(
        n_jobs=ctx.workers, backend="threading", return_as="generator_unordered"
    ) as parallel:
        try:
            list(parallel(delayed(len)("") for _ in range(ctx.workers)))
        finally:
            starting.end()
        _results(ctx, parallel(delayed(task)(index) for index in ctx.feed))
