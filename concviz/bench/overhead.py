"""What recording costs: bare executors against concviz's recorded strategies, same run.

The recorded side is the lab's real code: the ``thread-pool`` and ``process-pool``
strategies from ``REGISTRY``, with a real ``TaskFeed``, a started ``Recorder`` and
its flusher, and (for processes) the workers' recorders, their ``SimpleQueue`` and
the lab's relay. Only the last hop differs from the lab: the relayed batches go to a
sink that counts their records instead of to the window, so the figure isolates
recording and dispatch, not lab start-up or the window. Both sides run in this
process, on the same calibrated ``cpu-python`` task function, start and shut down
their own pool, and are interleaved over several repeats; ratios are of medians.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

from concviz.lab.protocol import RECORD_SIZE
from concviz.lab.recorder import MAX_BATCH, Recorder, cpu_ns, execute, perf_ns
from concviz.lab.strategies import REGISTRY, RunContext, TaskFeed
from concviz.lab.workloads import make_spec, task_fn

from ._common import median, rotated

DESCRIPTION = (
    "10 000 tasks of 0.2 ms through bare ThreadPoolExecutor / ProcessPoolExecutor and "
    "through concviz's recorded thread-pool / process-pool strategies (2 workers)"
)

WORKERS = 2
TASK_MS = 0.2


class CountingSink:
    """Stands in for the lab's channel: counts the records it is handed."""

    def __init__(self) -> None:
        self.records = 0
        self.batches = 0
        self._lock = threading.Lock()

    def __call__(self, payload: bytes) -> None:
        with self._lock:
            self.records += len(payload) // RECORD_SIZE
            self.batches += 1


# ------------------------------------------------------------------ bare side
_bare: dict = {}


def _bare_init(spec: dict) -> None:
    _bare["fn"] = task_fn(spec)


def _bare_task(index: int) -> None:
    _bare["fn"](index)


def bare_thread_pool(spec: dict, n: int) -> float:
    """What a user writes without concviz: submit every task, wait for all."""
    fn = task_fn(spec)
    t0 = perf_ns()
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        wait([ex.submit(fn, i) for i in range(n)])
    return (perf_ns() - t0) / 1e9


def bare_process_pool(spec: dict, n: int) -> float:
    t0 = perf_ns()
    with ProcessPoolExecutor(max_workers=WORKERS, initializer=_bare_init, initargs=(spec,)) as ex:
        wait([ex.submit(_bare_task, i) for i in range(n)])
    return (perf_ns() - t0) / 1e9


# ------------------------------------------------------------------ recorded side
def recorded(strategy: str, spec: dict, n: int) -> tuple[float, int]:
    """One run of the lab's strategy, as the lab's runner drives it; (seconds, records)."""
    sink = CountingSink()
    recorder = Recorder(sink)
    recorder.start()
    errors: list[dict] = []
    ctx = RunContext(
        spec=spec,
        workers=WORKERS,
        feed=TaskFeed(n, recorder),
        recorder=recorder,
        emit=errors.append,
        send_events=sink,
        options={},
        stop_event=threading.Event(),
        sys_path=[p for p in sys.path if p],
    )
    t0 = perf_ns()
    REGISTRY[strategy].run(ctx)
    recorder.flush()  # the lab flushes before it reports the run finished
    seconds = (perf_ns() - t0) / 1e9
    recorder.close()
    errors = [e for e in errors if e.get("type") == "task_error"]  # not its phases
    if errors:
        raise RuntimeError(f"the {strategy} run reported task errors: {errors[:1]}")
    return seconds, sink.records


# ------------------------------------------------------------------ per event
def record_cost(tasks: int, rounds: int) -> dict[str, float]:
    """ns per event: what a worker pays to record, and what the flusher pays to pack.

    ``record_ns_per_event``: ``execute(buf, w, i, noop)`` (two clock pairs, two
    appends, the hot path of every recorded task) minus a loop calling ``noop(i)``,
    per event. It is timed in chunks smaller than a batch, so the packing is not in
    it; ``pack_ns_per_event`` is the flush that follows each chunk (taking the events
    from the buffer, packing them, handing them to a sink). ``clock_ns_per_event``
    is the floor no recorder avoids: one ``perf_counter_ns`` and one
    ``thread_time_ns`` (a system call) per event.
    """
    sink = CountingSink()
    recorder = Recorder(sink)
    buf = recorder.buffer()
    chunk = min(tasks, MAX_BATCH // 2 - 1)
    chunks = max(1, tasks // chunk)

    def noop(i: int) -> None:
        return None

    def with_recording() -> tuple[int, int]:
        rec_ns = pack_ns = 0
        for _ in range(chunks):
            t0 = time.perf_counter_ns()
            for i in range(chunk):
                execute(buf, 0, i, noop)
            t1 = time.perf_counter_ns()
            recorder.flush()
            rec_ns += t1 - t0
            pack_ns += time.perf_counter_ns() - t1
        return rec_ns, pack_ns

    def empty() -> tuple[int, int]:
        ns = 0
        for _ in range(chunks):
            t0 = time.perf_counter_ns()
            for i in range(chunk):
                noop(i)
            ns += time.perf_counter_ns() - t0
        return ns, 0

    def clocks() -> tuple[int, int]:
        ns = 0
        for _ in range(chunks):
            t0 = time.perf_counter_ns()
            for _i in range(chunk):
                perf_ns()
                cpu_ns()
            ns += time.perf_counter_ns() - t0
        return ns, 0

    runs: dict = {with_recording: [], empty: [], clocks: []}
    for r in range(rounds):
        for which in rotated(list(runs), r):
            runs[which].append(which())
    events = 2 * chunk * chunks
    if sink.records != events * rounds:
        raise RuntimeError(f"recorded {sink.records} events, expected {events * rounds}")
    rec = median([a for a, _ in runs[with_recording]])
    pack = median([b for _, b in runs[with_recording]])
    base = median([a for a, _ in runs[empty]])
    clock = median([a for a, _ in runs[clocks]])
    return {
        "record_ns_per_event": round((rec - base) / events, 1),
        "pack_ns_per_event": round(pack / events, 1),
        "clock_ns_per_event": round((clock - base) / (chunk * chunks), 1),
    }


# ------------------------------------------------------------------ the benchmark
def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(args: argparse.Namespace) -> dict:
    quick = bool(getattr(args, "quick", False))
    n = 600 if quick else 10_000
    repeats = 3 if quick else 5
    spec = make_spec("cpu-python", TASK_MS)
    fn = task_fn(spec)
    fn(0)  # warm up: the first call builds the calibration's closures

    # what one task really costs here (the calibration may be from a busier moment)
    t0 = perf_ns()
    for i in range(200):
        fn(i)
    task_ms = (perf_ns() - t0) / 200 / 1e6

    cases = {
        "tp_bare": lambda: (bare_thread_pool(spec, n), None),
        "tp_rec": lambda: recorded("thread-pool", spec, n),
        "pp_bare": lambda: (bare_process_pool(spec, n), None),
        "pp_rec": lambda: recorded("process-pool", spec, n),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    for r in range(repeats):
        for key in rotated(list(cases), r):
            c0 = _cpu_seconds()
            seconds, records = cases[key]()
            cpu[key].append(_cpu_seconds() - c0)
            times[key].append(seconds)
            if records is not None and records != 3 * n:
                # queued + start + end per task: anything else is a recording bug
                raise RuntimeError(f"{key}: {records} events recorded, expected {3 * n}")

    med = {k: median(v) for k, v in times.items()}
    figures: dict[str, float | int] = {
        "overhead_ratio_thread_pool": round(med["tp_rec"] / med["tp_bare"], 4),
        "overhead_ratio_process_pool": round(med["pp_rec"] / med["pp_bare"], 4),
        **record_cost(4_000 if quick else 100_000, 3 if quick else 7),
        "thread_pool_bare_s": round(med["tp_bare"], 4),
        "thread_pool_recorded_s": round(med["tp_rec"], 4),
        "process_pool_bare_s": round(med["pp_bare"], 4),
        "process_pool_recorded_s": round(med["pp_rec"], 4),
        "thread_pool_ratio_min": round(min(times["tp_rec"]) / min(times["tp_bare"]), 4),
        "process_pool_ratio_min": round(min(times["pp_rec"]) / min(times["pp_bare"]), 4),
        # CPU seconds (this process and its reaped workers): what recording adds in
        # work, less disturbed than wall time when other programs load the machine
        "cpu_ratio_thread_pool": round(median(cpu["tp_rec"]) / median(cpu["tp_bare"]), 4),
        "cpu_ratio_process_pool": round(median(cpu["pp_rec"]) / median(cpu["pp_bare"]), 4),
        "tasks": n,
        "repeats": repeats,
        "task_ms_measured": round(task_ms, 4),
    }
    return {
        "figures": figures,
        "baselines": {
            "thread_pool_recorded_s": "thread_pool_bare_s",
            "process_pool_recorded_s": "process_pool_bare_s",
        },
        "goals": {
            "overhead_ratio_thread_pool": "<= 1.03",
            "overhead_ratio_process_pool": "<= 1.03",
            "record_ns_per_event": "<= 1000",
        },
        "compared": (
            f"{n} cpu-python tasks of {TASK_MS} ms on {WORKERS} workers, {repeats} "
            "interleaved repeats, medians. Bare: ThreadPoolExecutor / ProcessPoolExecutor, "
            "submit every task then wait (what a user writes). Recorded: the lab's "
            "thread-pool / process-pool strategy code in this process (TaskFeed, windowed "
            "dispatch, Recorder + flusher; worker recorders, SimpleQueue and relay), "
            "batches counted instead of sent to a window. Each side starts and shuts down "
            "its own pool. record_ns_per_event: execute() around a no-op task "
            "(perf_counter_ns + thread_time_ns + buffer append) minus an empty loop, per "
            "event; the flusher's packing is pack_ns_per_event."
        ),
        "notes": [f"raw seconds per repeat: {times}"] if not quick else [],
    }
