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
import multiprocessing as mp
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait

import psutil

from concviz.lab.engines.sink import task_function
from concviz.lab.protocol import RECORD_SIZE
from concviz.lab.recorder import MAX_BATCH, Recorder, cpu_ns, execute, perf_ns
from concviz.lab.strategies import REGISTRY, RunContext, TaskFeed
from concviz.lab.workloads import make_spec, task_fn

from . import BadArgument
from ._common import median, rotated
from .sync import uncontended_pair

DESCRIPTION = (
    "what recording costs: tasks of 0.05, 0.2 and 2 ms on thread-pool, process-pool, "
    "processes, joblib-loky and dask-local, bare / same dispatch unrecorded / recorded"
)

WORKERS = 2


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
# What a user writes without concviz, one function per strategy: ``(spec, n, clock)``
# -> seconds. ``clock`` is a ``Window``: the engines start their pool or cluster
# outside it (the recorded side leaves its start-up phase out too).
_bare: dict = {}


def _bare_init(spec: dict) -> None:
    _bare["fn"] = task_fn(spec)


def _bare_task(index: int) -> None:
    _bare["fn"](index)


def _engine_task(spec: dict, index: int) -> None:
    task_function(spec)(index)


def bare_thread_pool(spec: dict, n: int, clock: Window) -> None:
    """Submit every task, wait for all."""
    fn = task_fn(spec)
    clock.begin()
    with ThreadPoolExecutor(max_workers=WORKERS) as ex:
        wait([ex.submit(fn, i) for i in range(n)])
    clock.end()


def bare_process_pool(spec: dict, n: int, clock: Window) -> None:
    clock.begin()
    with ProcessPoolExecutor(max_workers=WORKERS, initializer=_bare_init, initargs=(spec,)) as ex:
        wait([ex.submit(_bare_task, i) for i in range(n)])
    clock.end()


def bare_processes(spec: dict, n: int, clock: Window) -> None:
    """``multiprocessing.Pool.map``: its default chunks are what a user gets."""
    clock.begin()
    with mp.Pool(WORKERS, initializer=_bare_init, initargs=(spec,)) as pool:
        pool.map(_bare_task, range(n))
        pool.close()
        pool.join()
    clock.end()


def bare_joblib_loky(spec: dict, n: int, clock: Window) -> None:
    """``Parallel(n_jobs)(delayed(f)(i) ...)`` on workers already started."""
    from joblib import Parallel, delayed

    with Parallel(n_jobs=WORKERS, backend="loky") as parallel:
        parallel(delayed(_engine_task)(spec, 0) for _ in range(2 * WORKERS))  # start them
        executor = getattr(parallel._backend, "_workers", None)
        clock.begin()
        parallel(delayed(_engine_task)(spec, i) for i in range(n))
        clock.end()
    if executor is not None:
        executor.shutdown(wait=True)


def bare_dask_local(spec: dict, n: int, clock: Window) -> None:
    """``client.gather(client.map(f, range(n)))`` on a LocalCluster already up."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    from concviz.lab.engines.dask_ import _quiet_logs

    _quiet_logs()
    # as the dask-local strategy runs its workers (it measures tasks itself)
    dask.config.set({"distributed.worker.profile.enabled": False})
    with (
        LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # as the strategy does
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        client.wait_for_workers(WORKERS)
        client.gather(client.map(_engine_task, [spec] * 4, range(4), pure=False))
        clock.begin()
        client.gather(client.map(_engine_task, [spec] * n, range(n), pure=False))
        clock.end()


BARE: dict[str, Callable[[dict, int, Window], None]] = {
    "thread-pool": bare_thread_pool,
    "process-pool": bare_process_pool,
    "processes": bare_processes,
    "joblib-loky": bare_joblib_loky,
    "dask-local": bare_dask_local,
}
# strategies whose start-up (workers that outlive one call, a cluster) is left out of
# the figure on every side; the others start and end their pool inside it
ENGINES = ("joblib-loky", "dask-local")
# engines whose workers are this process's children, reaped when the run ends (Dask's
# are its nanny's): their wake-ups are counted over the whole run
REAPED_AT_TEARDOWN = ("joblib-loky",)


class Window:
    """The timed part of one run: wall seconds and CPU seconds of this process tree.

    CPU is this process's and its children's (live ones through psutil, reaped ones
    through ``os.times``), read at ``begin`` and ``end``; a reading takes about a
    millisecond and falls outside the wall time.
    """

    def __init__(self) -> None:
        self.t0 = self.t1 = 0
        self.c0 = self.c1 = 0.0
        self.s0 = self.s1 = (0, 0)

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in psutil.Process().children(recursive=True):
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except psutil.Error:
                pass
        return total

    @staticmethod
    def _switches() -> tuple[int, int]:
        """Voluntary context switches (a thread blocked, then was woken) of this
        process's threads, ended ones too, and of its reaped children."""
        me = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
        return me, resource.getrusage(resource.RUSAGE_CHILDREN).ru_nvcsw

    def begin(self) -> None:
        self.c0 = self._cpu()
        self.s0 = self._switches()
        self.t0 = perf_ns()

    def end(self) -> None:
        self.t1 = perf_ns()
        self.s1 = self._switches()
        self.c1 = self._cpu()

    @property
    def wakeups(self) -> tuple[int, int]:
        """(this process's, its reaped children's) voluntary switches in the window."""
        return self.s1[0] - self.s0[0], self.s1[1] - self.s0[1]

    @property
    def seconds(self) -> float:
        return (self.t1 - self.t0) / 1e9

    @property
    def cpu(self) -> float:
        return self.c1 - self.c0


# ------------------------------------------------------------------ recorded side
def recorded(
    strategy: str, spec: dict, n: int, clock: Window, recording: bool = True
) -> tuple[int, int]:
    """One run of the lab's strategy, as the lab's runner drives it; (records, frames).

    ``recording=False`` is the same dispatch with the recorder switched off. For an
    engine the clock runs from the end of its start-up phase to the start of its
    teardown, read as the phases are said.
    """
    sink = CountingSink()
    recorder = Recorder(sink, recording=recording)
    recorder.start()
    errors: list[dict] = []
    engine = strategy in ENGINES

    def emit(msg: dict) -> None:
        if msg.get("type") == "task_error":
            errors.append(msg)
        elif engine and msg.get("type") == "phase":
            if msg["kind"] == "startup" and msg["t_ns"] is not None and not clock.t0:
                clock.begin()
            elif msg["kind"] == "teardown" and msg["t_ns"] is None and not clock.t1:
                clock.end()

    ctx = RunContext(
        spec=spec,
        workers=WORKERS,
        feed=TaskFeed(n, recorder),
        recorder=recorder,
        emit=emit,
        send_events=sink,
        options={"_strategy": strategy},
        stop_event=threading.Event(),
        sys_path=[p for p in sys.path if p],
    )
    if not engine:
        clock.begin()
    REGISTRY[strategy].run(ctx)
    recorder.flush()  # the lab flushes before it reports the run finished
    if not engine:
        clock.end()
    recorder.close()
    if errors:
        raise RuntimeError(f"the {strategy} run reported task errors: {errors[:1]}")
    return sink.records, sink.batches


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
STRATEGIES = ("thread-pool", "process-pool", "processes", "joblib-loky", "dask-local")
QUICK_STRATEGIES = ("thread-pool", "process-pool")
TASK_SIZES_MS = (0.05, 0.2, 2.0)
WORK_S = 0.6  # task time per run (over all workers): ~0.3 s of wall on 2 workers
QUICK_WORK_S = 0.03
MAX_TASKS = {"dask-local": 2000}  # Dask spends ~0.5 ms of its own per task


def tasks_for(strategy: str, task_ms: float, quick: bool) -> int:
    work = QUICK_WORK_S if quick else WORK_S
    n = int(round(work / (task_ms / 1e3)))
    return max(40, min(n, MAX_TASKS.get(strategy, 12_000)))


def spread(values: list[float]) -> float:
    """(max − min) ÷ median of the repeats: how far one repeat may be from another."""
    m = median(values)
    return round((max(values) - min(values)) / m, 4) if m > 0 else 0.0


def measure_cell(strategy: str, task_ms: float, n: int, repeats: int) -> dict:
    """Bare, same dispatch and recorded, interleaved over ``repeats``; medians."""
    spec = make_spec("cpu-python", task_ms)
    task_fn(spec)(0)  # the calibration's closures, built before any side is timed
    sides = {
        "bare": lambda clock: BARE[strategy](spec, n, clock),
        "same": lambda clock: recorded(strategy, spec, n, clock, recording=False),
        "rec": lambda clock: recorded(strategy, spec, n, clock),
    }
    wall: dict[str, list[float]] = {k: [] for k in sides}
    cpu: dict[str, list[float]] = {k: [] for k in sides}
    frames: list[int] = []
    wakes: dict[str, list[tuple[int, int]]] = {k: [] for k in sides}
    for r in range(repeats):
        for key in rotated(list(sides), r):
            clock = Window()
            reaped = Window._switches()[1]
            records, batches = sides[key](clock) or (None, 0)
            if key == "rec":
                frames.append(batches)
            lab_wakes, worker_wakes = clock.wakeups
            if strategy in REAPED_AT_TEARDOWN:
                # their workers are reaped at the teardown, after the clock stopped: the
                # whole run's, start-up and teardown included
                worker_wakes = Window._switches()[1] - reaped
            wakes[key].append((lab_wakes, worker_wakes))
            if key == "rec" and records != 3 * n:
                # queued + start + end per task: anything else is a recording bug
                raise RuntimeError(f"{strategy}: {records} events recorded, expected {3 * n}")
            if key == "same" and records:
                raise RuntimeError(f"{strategy}: {records} events with the recorder off")
            wall[key].append(clock.seconds)
            cpu[key].append(clock.cpu)
    med = {k: median(v) for k, v in wall.items()}
    mcpu = {k: median(v) for k, v in cpu.items()}
    return {
        "strategy": strategy,
        "task_ms": task_ms,
        "tasks": n,
        "bare_s": round(med["bare"], 4),
        "same_dispatch_s": round(med["same"], 4),
        "recorded_s": round(med["rec"], 4),
        "wall_ratio": round(med["rec"] / med["same"], 4),
        "cpu_ratio": round(mcpu["rec"] / mcpu["same"], 4) if mcpu["same"] > 0 else None,
        "user_ratio": round(med["rec"] / med["bare"], 4),
        "user_cpu_ratio": round(mcpu["rec"] / mcpu["bare"], 4) if mcpu["bare"] > 0 else None,
        "spread": max(spread(v) for v in wall.values()),
        # what the window would decode: frames of events per 1000 tasks
        "frames_per_1k_tasks": round(median(frames) * 1000 / n, 1),
        # wake-ups (voluntary context switches) per 1000 tasks, in the lab's process and
        # in its worker processes (reaped within the run; joblib-loky's over the whole
        # run, start-up and teardown included; none for Dask, whose nanny reaps them)
        **{
            f"{side}_lab_wakeups_per_1k": round(median([a for a, _ in wakes[key]]) * 1000 / n)
            for side, key in (("same", "same"), ("rec", "rec"))
        },
        **(
            {}
            if strategy in ENGINES and strategy not in REAPED_AT_TEARDOWN
            else {
                f"{side}_worker_wakeups_per_1k": round(
                    median([b for _, b in wakes[key]]) * 1000 / n
                )
                for side, key in (("same", "same"), ("rec", "rec"))
            }
        ),
        "_raw": wall,
    }


def parts(row: dict) -> dict[str, float]:
    """Per task, in µs: what concviz's way of dispatching adds to what a user writes,
    and what recording adds to that dispatch (negative when within the noise)."""
    n = row["tasks"]
    return {
        "dispatch_us_per_task": round((row["same_dispatch_s"] - row["bare_s"]) / n * 1e6, 2),
        "recording_us_per_task": round((row["recorded_s"] - row["same_dispatch_s"]) / n * 1e6, 2),
    }


def _key(strategy: str) -> str:
    return strategy.replace("-", "_")


def run(args: argparse.Namespace) -> dict:
    quick = bool(getattr(args, "quick", False))
    repeats = 2 if quick else 5
    only = [s.strip() for s in (getattr(args, "only", None) or "").split(",") if s.strip()]
    unknown = [s for s in only if s not in STRATEGIES]
    if unknown:
        raise BadArgument(
            f"--only names {', '.join(unknown)}, which bench overhead does not measure; "
            f"choose from: {', '.join(STRATEGIES)}."
        )
    chosen = only or (QUICK_STRATEGIES if quick else STRATEGIES)
    strategies = [s for s in chosen if REGISTRY[s].available() is None]
    skipped = [s for s in chosen if s not in strategies]
    table = []
    failed = []
    for strategy in strategies:
        for task_ms in TASK_SIZES_MS:
            n = tasks_for(strategy, task_ms, quick)
            try:
                table.append(measure_cell(strategy, task_ms, n, repeats))
            except Exception as exc:  # one cell failing must not hide the others
                failed.append(f"{strategy} at {task_ms:g} ms failed: {exc}")
    raw = {f"{r['strategy']} {r['task_ms']} ms": r.pop("_raw") for r in table}
    at = {(r["strategy"], r["task_ms"]): r for r in table}
    figures: dict = {}
    for name in ("thread-pool", "process-pool"):
        row = at.get((name, 0.2))
        if row is not None:
            key = _key(name)
            figures[f"overhead_ratio_{key}"] = row["user_ratio"]
            figures[f"{key}_bare_s"] = row["bare_s"]
            figures[f"{key}_recorded_s"] = row["recorded_s"]
            # CPU seconds (this process and its workers): what recording adds in work,
            # less disturbed than wall time when other programs load the machine
            figures[f"cpu_ratio_{key}"] = row["user_cpu_ratio"]
    figures.update(record_cost(4_000 if quick else 100_000, 3 if quick else 7))
    figures.update(
        {
            # what a wait costs the workloads that share objects when nobody waits: an
            # instrumented lock's acquire/release pair beside a bare threading.Lock's
            **{
                k: round(v, 1)
                for k, v in uncontended_pair(20_000 if quick else 300_000, repeats).items()
            },
            "repeats": repeats,
            "table": table,
        }
    )
    # per part, at the smallest tasks (where they show most): regressions point here
    for row in table:
        if row["task_ms"] == TASK_SIZES_MS[0]:
            for name, value in parts(row).items():
                figures[f"{_key(row['strategy'])}_{name}"] = value
    goals = {
        "overhead_ratio_thread_pool": "<= 1.03",
        "overhead_ratio_process_pool": "<= 1.03",
        "record_ns_per_event": "<= 1000",
        "sync_ns_per_uncontended_pair": "<= 1000",
    }
    for row in table:
        limit = 1.10 if row["task_ms"] < 0.1 else 1.03
        row["goal"] = f"<= {limit:.2f}"
        row["met"] = row["wall_ratio"] <= limit and row["user_ratio"] <= limit
    figures["table_goals_met"] = sum(row["met"] for row in table)
    figures["table_cells"] = len(table)
    return {
        "figures": figures,
        "baselines": {
            "thread_pool_recorded_s": "thread_pool_bare_s",
            "process_pool_recorded_s": "process_pool_bare_s",
            "sync_lock_pair_ns": "bare_lock_pair_ns",
            "table.recorded_s": "table.same_dispatch_s and table.bare_s",
        },
        "goals": {
            **goals,
            "table wall_ratio and user_ratio": "<= 1.03 at 0.2 and 2 ms, <= 1.10 at 0.05 ms",
        },
        "compared": (
            f"cpu-python tasks of {', '.join(f'{t:g}' for t in TASK_SIZES_MS)} ms on {WORKERS} "
            f"workers (about {QUICK_WORK_S if quick else WORK_S:g} s of task time per run; "
            f"at most {MAX_TASKS['dask-local']} tasks on Dask), {repeats} interleaved repeats "
            "of three sides, medians. bare: what a user writes (ThreadPoolExecutor / "
            "ProcessPoolExecutor: submit every task then wait; multiprocessing.Pool.map; "
            "joblib Parallel(n_jobs) alone; Dask client.gather(client.map)). same dispatch: "
            "the lab's strategy code with the recorder switched off (Recorder(recording="
            "False): no event, no flusher; loky without its event sink; Dask without reading "
            "the task stream). recorded: the lab's strategy code as it runs in the lab "
            "(TaskFeed, windowed dispatch, Recorder + flusher; worker recorders, queue and "
            "relay), batches counted instead of sent to a window. Pools start and end inside "
            "each run; joblib-loky and dask-local leave their start-up and teardown out on "
            "every side (the strategy's phases, or the pool warmed up before the clock). "
            "wall_ratio = recorded / same dispatch; user_ratio = recorded / bare; cpu_ratio "
            "and user_cpu_ratio the same for CPU seconds of this process and its workers; "
            "spread = the largest (max - min) / median of the three sides' repeats. "
            "record_ns_per_event: execute() around a no-op task minus an empty loop, per "
            "event; the flusher's packing is pack_ns_per_event. *_dispatch_us_per_task / "
            "*_recording_us_per_task: at 0.05 ms, (same - bare) / tasks and (recorded - same) "
            "/ tasks. sync_ns_per_uncontended_pair: concviz's sync.Lock acquire/release minus "
            "a bare threading.Lock's (concviz bench sync has more)."
        ),
        "notes": ([f"raw seconds per repeat: {raw}"] if not quick else [])
        + ([f"not available here, so not measured: {', '.join(skipped)}"] if skipped else [])
        + failed,
    }
