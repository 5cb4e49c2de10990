"""Subinterpreters, each with its own GIL: really parallel threads in one process.

3.14+: ``concurrent.futures.InterpreterPoolExecutor``. 3.12 and 3.13: the standard
library's low-level ``_xxsubinterpreters`` / ``_interpreters`` module, one thread
driving each subinterpreter; the driving thread is the one executing the
subinterpreter's code, so its wall and CPU clocks measure the task itself.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from ..protocol import EV_END, EV_ERROR, EV_START, EV_STOPPED
from ..recorder import cpu_ns, perf_ns
from .base import RunContext, strategy
from .local import thread_indexer


def available() -> str | None:
    if sys.version_info < (3, 12):
        return (
            f"subinterpreters with their own GIL need Python 3.12 or newer "
            f"(this is {sys.version_info[0]}.{sys.version_info[1]})"
        )
    if sys.version_info >= (3, 14):
        try:
            from concurrent.futures import InterpreterPoolExecutor  # noqa: F401
        except ImportError:
            return "this Python has no concurrent.futures.InterpreterPoolExecutor"
        return None
    try:
        _lowlevel()
    except ImportError:
        return "this Python has no _interpreters / _xxsubinterpreters module"
    return None


def _lowlevel():
    """(create, run(iid, code) -> error text or None, destroy) for 3.12 / 3.13."""
    if sys.version_info >= (3, 13):
        import _interpreters as m

        def run(iid, code: str) -> str | None:
            exc = m.exec(iid, code)
            if exc is None:
                return None
            formatted = getattr(exc, "formatted", None)
            return formatted or str(getattr(exc, "msg", exc))

        return m.create, run, m.destroy
    import _xxsubinterpreters as m

    def run(iid, code: str) -> str | None:
        try:
            m.run_string(iid, code)
        except m.RunFailedError as exc:
            return str(exc)
        return None

    return m.create, run, m.destroy


def _end_kind(err: str | None, stopping: bool) -> int:
    """How a task in a subinterpreter ended, from the error text it came back with.

    Only text crosses back; a workload's stop check raises ``Stopped``, which is a
    stop, not a failure, when the run is stopping.
    """
    if not err:
        return EV_END
    if stopping and "Stopped" in _last_line(err):
        return EV_STOPPED
    return EV_ERROR


def _last_line(err: str | None) -> str:
    """The error's last line as ``Type: message`` (3.12 writes ``<class 'Type'>: message``)."""
    lines = (err or "").strip().splitlines()
    if not lines:
        return "failed"
    name, sep, message = lines[-1].partition(":")
    if name.startswith("<class '") and name.endswith("'>"):
        name = name[len("<class '") : -2]
    message = message.strip()
    return f"{name}: {message}" if sep and message else name


def _setup_code(ctx: RunContext, stop_fd: int) -> str:
    return (
        "import sys\n"
        # first: in a packaged app even the standard library comes from this path
        f"sys.path[:0] = [p for p in {ctx.sys_path!r} if p not in sys.path]\n"
        "import json\n"
        "from concviz.lab import workloads as _w\n"
        f"_w.set_stop_fd({stop_fd})\n"
        f"_fn = _w.task_fn(json.loads({json.dumps(ctx.spec)!r}))\n"
    )


@strategy("interpreter-pool", "N subinterpreters, each with its own GIL", available)
def run_interpreter_pool(ctx: RunContext) -> None:
    if sys.version_info >= (3, 14):
        return _run_executor(ctx)
    create, run, destroy = _lowlevel()
    stop_r, stop_w = os.pipe()
    ctx.on_stop(lambda: os.write(stop_w, b"x"))
    failure: list[str] = []

    def drive(worker: int) -> None:
        iid = create()
        ctx.emit(
            {
                "type": "workers",
                "pid": os.getpid(),
                "tid": threading.get_native_id(),
                "names": {worker: f"interpreter {int(iid)}"},
            }
        )
        try:
            err = run(iid, _setup_code(ctx, stop_r))
            if err:
                failure.append(f"a subinterpreter could not load the workload: {err}")
                ctx.feed.stop()
                return
            buf = ctx.recorder.buffer()
            while (index := ctx.feed.next()) is not None:
                t0 = perf_ns()
                c0 = cpu_ns()
                buf.add(EV_START, worker, index, t0, 0, 0)
                err = run(iid, f"_fn({index})")
                c1 = cpu_ns()
                kind = _end_kind(err, ctx.stop_event.is_set())
                buf.add(kind, worker, index, perf_ns(), c1 - c0, t0)
                if kind == EV_ERROR:
                    ctx.task_error(index, worker, _last_line(err))
                ctx.feed.finished(index)  # a task graph frees the task's dependants
        finally:
            destroy(iid)

    threads = [
        threading.Thread(target=drive, args=(w,), name=f"interp-{w}", daemon=True)
        for w in range(ctx.workers)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.close(stop_r)
        os.close(stop_w)
    if failure:
        raise RuntimeError(failure[0])


def _interp_task(spec_json: str, index: int):
    """Runs inside a subinterpreter of InterpreterPoolExecutor (3.14+)."""
    from concviz.lab import workloads

    fn = workloads.task_fn(json.loads(spec_json))
    t0 = time.perf_counter_ns()
    c0 = time.thread_time_ns()
    err = None
    try:
        fn(index)
    except BaseException as exc:  # noqa: BLE001 - SystemExit & co. are the task's failure
        err = f"{type(exc).__name__}: {exc}"
    return t0, time.perf_counter_ns(), time.thread_time_ns() - c0, threading.get_native_id(), err


def _run_executor(ctx: RunContext) -> None:
    # Untested here (no 3.14 on these machines): the times are still measured inside
    # the subinterpreter, but its start event reaches the lab only when the task ends.
    from concurrent.futures import InterpreterPoolExecutor

    from .dispatch import submit_windowed

    spec_json = json.dumps(ctx.spec)
    buf = ctx.recorder.buffer()
    workers_by_tid: dict[int, int] = {}
    next_worker = thread_indexer()

    def on_result(fut) -> None:
        if fut.cancelled():
            return
        t0, t1, cpu, tid, err = fut.result()
        w = workers_by_tid.setdefault(tid, next_worker())
        buf.add(EV_START, w, fut.index, t0, 0, 0)
        kind = _end_kind(err, ctx.stop_event.is_set())
        buf.add(kind, w, fut.index, t1, cpu, t0)
        if kind == EV_ERROR:
            ctx.task_error(fut.index, w, err)

    with InterpreterPoolExecutor(max_workers=ctx.workers) as ex:
        ctx.on_stop(lambda: ex.shutdown(wait=False, cancel_futures=True))

        def submit(index: int):
            fut = ex.submit(_interp_task, spec_json, index)
            fut.index = index
            return fut

        submit_windowed(ctx, submit, on_result)
