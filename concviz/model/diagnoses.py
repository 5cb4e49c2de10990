"""Plain-language diagnoses of a run, each with the numbers that triggered it. No Qt.

``diagnose(run)`` reads a run object (``run_object``'s dict) and returns
``[{"code", "title", "evidence": {...}, "advice"}]``. Every diagnosis is one pure
function with its formula and threshold documented beside it; each fires only when
its evidence is unambiguous, so a healthy run gets none.

The shared measures:

* **busy workers** ``B = Σ task wall / wall`` (``run.gil_contention.busy_workers``);
* **parallelism** ``P = CPU / wall``;
* the workers' **time split** (sampled thread states): running, waiting for a CPU,
  for the GIL, on I/O — summed over the worker threads;
* **dispatch gaps**: on each worker, the time from one task's end to its next task's
  start (what handing the next task over cost: queueing, pickling, IPC).
"""

from __future__ import annotations

import os
import statistics

import numpy as np

from .event_store import BAR_SLICE, EventStore
from .metrics import BUSY_MACHINE_CORES

# Strategies whose workers are threads of one interpreter (they share one GIL).
THREAD_STRATEGIES = frozenset({"threads", "thread-pool", "asyncio-to-thread", "joblib-threads"})
# Strategies with no worker processes or interpreters to hand tasks to.
NO_IPC = THREAD_STRATEGIES | {"sequential", "asyncio"}

# Thresholds (each explained beside the diagnosis that uses it).
GIL_MAX_PARALLELISM = 1.3
GIL_MIN_PARALLELISM = 0.7
GIL_MIN_BUSY = 1.5
GIL_MIN_WAIT_SHARE = 0.25
GIL_MIN_CPU_WANTING = 0.5
GIL_SHARE_OF_AVAILABLE = 0.65
OVERSUB_EXTRA_BUSY = 0.5
OVERSUB_MIN_CPU_WAIT = 0.25
OVERSUB_MIN_USE = 0.75
UNEVEN_MIN_TAIL = 0.15
UNEVEN_MIN_IDLE = 0.3
UNEVEN_MIN_IMBALANCE = 0.2
IPC_MIN_DISPATCH_SHARE = 0.3
BLOCKED_LOOP_MS = 20.0
BLOCKED_LOOP_MIN_PARALLELISM = 0.05
TOO_FINE_MIN_TASKS_PER_WORKER = 2
MIN_TASKS_FOR_GAPS = 10  # fewer tasks give too few gaps to judge dispatch by
LOCK_MIN_SHARE = 0.2
STARTUP_MIN_S = 0.05


def machine_cores() -> int:
    """The cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def loop_lag_ms(store: EventStore, run: int = -1) -> float | None:
    """The event loop's worst lag in an asyncio run: its longest slice, in ms.

    A coroutine's slice runs from a resume to its next suspension; while it runs the
    loop can serve nothing else, so the longest slice is the longest the loop was
    blocked. None when the run recorded no slices.
    """
    if not store.runs:
        return None
    b = store.bars()
    info = store.runs[run]
    lo = int(info.started["t_ns"])
    hi = int(info.finished["t_ns"]) if info.finished else np.iinfo(np.int64).max
    keep = (b["kind"] == BAR_SLICE) & (b["start"] >= lo) & (b["end"] <= hi)
    if not keep.any():
        return None
    return float((b["end"][keep] - b["start"][keep]).max()) / 1e6


def _ok_tasks(run: dict) -> list[dict]:
    return [t for t in run.get("tasks") or [] if t.get("ok")]


def _per_worker(tasks: list[dict]) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for t in tasks:
        out.setdefault(int(t["worker"]), []).append((int(t["start_ns"]), int(t["end_ns"])))
    for spans in out.values():
        spans.sort()
    return out


def dispatch_gaps_ns(tasks: list[dict]) -> list[int]:
    """Every gap on a worker between a task's end and its next task's start (ns, ≥ 0)."""
    gaps = []
    for spans in _per_worker(tasks).values():
        for (_s0, e0), (s1, _e1) in zip(spans, spans[1:], strict=False):
            gaps.append(max(0, s1 - e0))
    return gaps


def _split_totals(run: dict) -> dict[str, float] | None:
    gil = run.get("gil") or {}
    if gil.get("source") != "sampled" or not gil.get("per_thread"):
        return None
    keys = ("running", "cpu_wait", "gil_wait", "io_wait")
    return {k: sum(t.get(f"{k}_s", 0.0) for t in gil["per_thread"].values()) for k in keys}


def _contention(run: dict) -> float | None:
    gil = run.get("gil") or {}
    if gil.get("contention") is not None:
        return float(gil["contention"])
    value = (run.get("gil_contention") or {}).get("value")
    return None if value is None else float(value)


def _busy(run: dict) -> float:
    return float((run.get("gil_contention") or {}).get("busy_workers") or 0.0)


def _diag(code: str, title: str, evidence: dict, advice: str) -> dict:
    return {"code": code, "title": title, "evidence": evidence, "advice": advice}


def _r(x: float | None, n: int = 3) -> float | None:
    return None if x is None else round(float(x), n)


def gil_serialised(run: dict, cores: int) -> dict | None:
    """``gil``: CPU-bound Python in threads of one interpreter runs one at a time.

    Fires for a thread strategy under a GIL when ``B ≥ 1.5`` workers were busy yet
    ``P ≤ 1.3`` (no more than about one core's worth of CPU), and the threads waited
    for the GIL: where states were sampled, the GIL wait share
    ``gil_wait / (gil_wait + running) ≥ 0.25`` with the workers mostly wanting a CPU
    (``(running + gil_wait + cpu_wait) / Σ parts ≥ 0.5``, so not an I/O run); else
    ``P ≥ 0.7`` (CPU-bound) and the probe's contention, if any, ``≥ 0.25``.

    And only when the cores were there to be had: ``P ≤ 0.65 · min(B, cores − others)``
    (``others``: the cores other programs used). On a machine other programs keep
    busy, threads that could run at once get no more than one core either, and even
    wait for a GIL whose holder was descheduled: the run cannot tell, and
    ``machine-busy`` says so instead.
    """
    if run.get("strategy") not in THREAD_STRATEGIES:
        return None
    interp = run.get("interpreter") or {}
    if interp.get("gil_enabled") is False:
        return None
    p, busy, share = float(run.get("parallelism") or 0.0), _busy(run), _contention(run)
    available = max(0.0, cores - float(run.get("machine_busy_cores") or 0.0))
    if p > GIL_MAX_PARALLELISM or busy < GIL_MIN_BUSY:
        return None
    if p > GIL_SHARE_OF_AVAILABLE * min(busy, available):
        return None
    split = _split_totals(run)
    if split is not None:
        total = sum(split.values())
        wanting = (split["running"] + split["gil_wait"] + split["cpu_wait"]) / total if total else 0
        if share is None or share < GIL_MIN_WAIT_SHARE or wanting < GIL_MIN_CPU_WANTING:
            return None
    elif p < GIL_MIN_PARALLELISM or (share is not None and share < GIL_MIN_WAIT_SHARE):
        return None
    return _diag(
        "gil",
        "Threads serialised by the GIL",
        {
            "parallelism": _r(p, 2),
            "busy_workers": _r(busy, 2),
            "gil_wait_share": _r(share),
            "gil_source": (run.get("gil") or {}).get("source"),
            "cores_available": _r(available, 2),
        },
        "Pure-Python CPU work runs one thread at a time under the GIL: use processes "
        "(process-pool) or subinterpreters (interpreter-pool), or a library that releases "
        "the GIL.",
    )


def oversubscribed(run: dict, cores: int) -> dict | None:
    """``oversubscribed``: more busy workers than cores, so workers queue for a CPU.

    Fires when ``B > cores + 0.5`` and the workers spent a share ``≥ 0.25`` of their
    time waiting for a CPU (``cpu_wait / Σ parts``); where states were not sampled,
    when the cores were nearly full instead (``P ≥ 0.75 · cores``).
    """
    busy = _busy(run)
    if run.get("strategy") == "sequential" or busy <= cores + OVERSUB_EXTRA_BUSY:
        return None
    split = _split_totals(run)
    p = float(run.get("parallelism") or 0.0)
    share = None
    if split is not None:
        total = sum(split.values())
        share = split["cpu_wait"] / total if total > 0 else 0.0
        if share < OVERSUB_MIN_CPU_WAIT:
            return None
    elif p < OVERSUB_MIN_USE * cores:
        return None
    return _diag(
        "oversubscribed",
        "More busy workers than cores",
        {
            "busy_workers": _r(busy, 2),
            "cores": cores,
            "cpu_wait_share": _r(share),
            "parallelism": _r(p, 2),
        },
        f"Only {cores} cores can run at once: the extra workers wait for a CPU and add "
        f"switching. Try {cores} workers for CPU-bound work.",
    )


def uneven(run: dict) -> dict | None:
    """``uneven``: a stair-step end, some workers idle while others finish.

    The **last stretch** runs from the moment the first worker ran out of tasks to
    the end of the last task. Fires when it is ``≥ 0.15`` of the tasks' span, the
    workers were idle ``≥ 0.3`` of it, and the imbalance of the workers' busy times
    ``(max − mean) / max ≥ 0.2``. Not for asyncio (one loop thread) or one worker.
    """
    if run.get("strategy") in ("sequential", "asyncio"):
        return None
    per = _per_worker(_ok_tasks(run))
    if len(per) < 2:
        return None
    t0 = min(s[0][0] for s in per.values())
    t1 = max(s[-1][1] for s in per.values())
    span = t1 - t0
    if span <= 0:
        return None
    first_idle = min(s[-1][1] for s in per.values())
    tail = t1 - first_idle
    busy_in_tail = sum(max(0, min(e, t1) - max(s, first_idle)) for v in per.values() for s, e in v)
    idle = 1.0 - busy_in_tail / (tail * len(per)) if tail > 0 else 0.0
    busy = [sum(e - s for s, e in v) for v in per.values()]
    imbalance = (max(busy) - statistics.fmean(busy)) / max(busy) if max(busy) > 0 else 0.0
    tail_share = tail / span
    if tail_share < UNEVEN_MIN_TAIL or idle < UNEVEN_MIN_IDLE or imbalance < UNEVEN_MIN_IMBALANCE:
        return None
    return _diag(
        "uneven",
        "Uneven work: a stair-step end",
        {
            "last_stretch_s": _r(tail / 1e9, 4),
            "last_stretch_share": _r(tail_share),
            "idle_share_of_last_stretch": _r(idle),
            "imbalance": _r(imbalance),
        },
        "Some workers ran out of tasks while others still worked: use more, smaller "
        "tasks, or hand the longest tasks out first.",
    )


def ipc_bound(run: dict) -> dict | None:
    """``ipc-bound``: a pool of processes or interpreters spends its time handing tasks over.

    **Dispatch share** ``= Σ dispatch gaps / Σ per-worker active span`` (each worker's
    first start to last end, so a stair-step end is not counted). Fires at
    ``≥ 0.3`` for strategies that send tasks to other processes or interpreters, with
    ten tasks or more.
    """
    if run.get("strategy") in NO_IPC:
        return None
    tasks = _ok_tasks(run)
    per = _per_worker(tasks)
    active = sum(v[-1][1] - v[0][0] for v in per.values())
    gaps = dispatch_gaps_ns(tasks)
    if active <= 0 or not gaps or len(tasks) < MIN_TASKS_FOR_GAPS:
        return None
    share = sum(gaps) / active
    if share < IPC_MIN_DISPATCH_SHARE:
        return None
    return _diag(
        "ipc-bound",
        "The pool is busy handing tasks over",
        {
            "dispatch_share": _r(share),
            "dispatch_gap_ms_median": _r(statistics.median(gaps) / 1e6, 4),
            "tasks": len(tasks),
        },
        "Sending each task and its result between processes (pickling, pipes) costs "
        "more than the work: batch tasks (chunksize), send less data, or use threads for "
        "work that releases the GIL.",
    )


def blocked_loop(run: dict, lag_ms: float | None) -> dict | None:
    """``blocked-loop``: CPU work on the asyncio event loop keeps it from serving others.

    **Loop lag**: the longest slice a coroutine ran without yielding (``loop_lag_ms``;
    without slices, the longest task's CPU time). Fires for ``asyncio`` when the lag
    is ``≥ 20 ms`` and the loop did CPU work at least 5 % of the time (``P ≥ 0.05``: a
    loop asleep on I/O uses far less, about 0.005; a busy machine may take most of
    the rest from a loop that computes, and a window's niced lab less still).
    """
    if run.get("strategy") != "asyncio":
        return None
    if lag_ms is None:
        cpus = [min(t["cpu_ns"], t["end_ns"] - t["start_ns"]) for t in _ok_tasks(run)]
        lag_ms = max(cpus) / 1e6 if cpus else 0.0
    p = float(run.get("parallelism") or 0.0)
    if lag_ms < BLOCKED_LOOP_MS or p < BLOCKED_LOOP_MIN_PARALLELISM:
        return None
    return _diag(
        "blocked-loop",
        "The event loop was blocked",
        {"loop_lag_ms": _r(lag_ms, 2), "parallelism": _r(p, 2)},
        "A coroutine ran CPU work without awaiting, so no other coroutine could run: "
        "move the work off the loop (asyncio.to_thread, or run_in_executor with a "
        "process pool).",
    )


def too_fine(run: dict) -> dict | None:
    """``too-fine``: tasks so small that handing each over costs as much as doing it.

    **Per-task overhead**: the mean dispatch gap on a worker (a pool hands tasks over
    in chunks: most gaps are the microseconds between two tasks of one chunk and the
    cost sits at the chunk boundaries, which a median never sees); **task time**: the
    median task wall. Fires when overhead ``≥`` task time, with at least two tasks per
    worker and ten tasks in all (so there are gaps to measure).
    """
    if run.get("strategy") == "sequential":
        return None
    tasks = _ok_tasks(run)
    per = _per_worker(tasks)
    if not per or len(tasks) < max(MIN_TASKS_FOR_GAPS, TOO_FINE_MIN_TASKS_PER_WORKER * len(per)):
        return None
    gaps = dispatch_gaps_ns(tasks)
    if not gaps:
        return None
    overhead = statistics.fmean(gaps)
    task = statistics.median(t["end_ns"] - t["start_ns"] for t in tasks)
    if overhead < task or overhead <= 0:
        return None
    return _diag(
        "too-fine",
        "Tasks too fine for this strategy",
        {
            "overhead_per_task_ms": _r(overhead / 1e6, 4),
            "task_ms_median": _r(task / 1e6, 4),
            "ratio": _r(overhead / task if task > 0 else None, 2),
        },
        "Each task costs more to hand over than to do: make tasks bigger (group work into "
        "chunks) or use a strategy with cheaper dispatch (threads, sequential).",
    )


def lock_contention(run: dict) -> dict | None:
    """``lock-contention``: the workers lost their time waiting on one shared object.

    **Share** ``= waits on the most-waited object / (wall · workers)``; fires at
    ``≥ 0.2`` with two workers or more.
    """
    waits = run.get("waits") or []
    workers = len(_per_worker(_ok_tasks(run)))
    wall = float(run.get("wall_s") or 0.0)
    if not waits or workers < 2 or wall <= 0:
        return None
    top = waits[0]
    share = float(top["total_s"]) / (wall * workers)
    if share < LOCK_MIN_SHARE:
        return None
    kind = str(top["kind"])
    title, advice = WAIT_ADVICE.get(kind, WAIT_ADVICE["lock"])
    return _diag(
        "lock-contention",
        f"{title} {kind} {top['object']}",
        {
            "object": top["object"],
            "kind": kind,
            "waited_s": _r(top["total_s"], 4),
            "share_of_worker_time": _r(share),
            "waits": top["count"],
        },
        advice,
    )


# what the workers' waiting on one object means, by the object's kind: a queue's
# consumers waiting for its producers is not a lock held too long (the producer/
# consumer lesson read "lock contention" for its queue)
_HELD = (
    "Contention on",
    "The workers queue for one object: hold it for less time, split it (one per "
    "worker, merged at the end), or use a lock-free structure.",
)
WAIT_ADVICE = {
    "lock": _HELD,
    "rlock": _HELD,
    "semaphore": (
        "Waiting for a slot of",
        "More workers want the resource than it has slots: fewer workers do as well, "
        "or give the resource more slots if it can take them.",
    ),
    "condition": (
        "Waiting to be notified by",
        "The workers wait for another to signal: make the signalling side faster, or "
        "give the waiters other work meanwhile.",
    ),
    "queue": (
        "Waiting on",
        "One side of the queue waits for the other: consumers for items (add producers "
        "or make them faster) or producers for room (add consumers, or a larger queue).",
    ),
    "barrier": (
        "Waiting at",
        "Each round waits for its slowest worker: even out the work between barriers, "
        "or meet less often.",
    ),
    "event": (
        "Waiting for",
        "The workers wait for an event to be set: set it sooner, or start the work "
        "that does not need it first.",
    ),
    "dependency": (
        "Waiting for results:",
        "Tasks wait for the tasks they depend on: the graph's critical path, not the "
        "number of workers, sets the pace.",
    ),
}


def startup_dominates(run: dict) -> dict | None:
    """``startup-dominates``: starting the engine or pool took longer than the tasks.

    Fires when ``start-up ≥ wall`` (the tasks' wall, start-up left out) and start-up
    is at least 50 ms.
    """
    startup = float(run.get("startup_s") or 0.0)
    wall = float(run.get("wall_s") or 0.0)
    if startup < STARTUP_MIN_S or startup < wall:
        return None
    return _diag(
        "startup-dominates",
        "Start-up took longer than the work",
        {
            "startup_s": _r(startup, 3),
            "wall_s": _r(wall, 3),
            "ratio": _r(startup / wall if wall > 0 else None, 2),
        },
        "Starting the workers cost more than the tasks: reuse one pool for many batches, "
        "or give it more work per start.",
    )


def machine_busy(run: dict) -> dict | None:
    """``machine-busy``: other programs used more than 0.2 cores during the run
    (``machine_busy_cores``, from the per-core CPU watched outside the lab)."""
    others = run.get("machine_busy_cores")
    if others is None or others <= BUSY_MACHINE_CORES:
        return None
    return _diag(
        "machine-busy",
        "Other programs were busy: timings not trustworthy",
        {"other_programs_cores": _r(others, 2)},
        "Close other busy programs and run again; compare runs measured on a quiet machine.",
    )


# When each fires, in one sentence (the window's explanation shows it beside the evidence).
RULES = {
    "gil": "Fires for threads under a GIL when 1.5 or more workers were busy yet the run used "
    "at most 1.3 cores (and at most 65 % of the cores free to it), and the threads waited for "
    "the GIL at least 25 % of their CPU-wanting time.",
    "oversubscribed": "Fires when more workers were busy than there are cores (by half a "
    "worker or more) and they waited for a CPU at least 25 % of their time.",
    "uneven": "Fires when the last stretch (from the first worker running out of tasks to "
    "the end) is 15 % or more of the run, the workers idled 30 % or more of it, and their "
    "busy times differ by 20 % or more.",
    "ipc-bound": "Fires for pools of processes or interpreters when 30 % or more of the "
    "workers' active time passed between one task's end and their next task's start "
    "(ten tasks or more).",
    "blocked-loop": "Fires for asyncio when one coroutine ran 20 ms or more without yielding "
    "and the loop did CPU work at least 5 % of the time (a loop asleep on I/O uses far less).",
    "too-fine": "Fires when the mean gap between a worker's tasks is at least the median "
    "task's own time (two or more tasks per worker, ten or more in all).",
    "lock-contention": "Fires when waiting on the most-waited object took 20 % or more of "
    "the workers' time.",
    "startup-dominates": "Fires when starting the pool or engine took at least as long as "
    "the tasks (and at least 50 ms).",
    "machine-busy": "Fires when other programs used more than 0.2 cores during the run.",
}


def diagnose(run: dict, cores: int | None = None, lag_ms: float | None = None) -> list[dict]:
    """Every diagnosis that fires for ``run`` (a ``run_object``), most fundamental first."""
    cores = cores or machine_cores()
    found = [
        machine_busy(run),
        gil_serialised(run, cores),
        oversubscribed(run, cores),
        blocked_loop(run, lag_ms),
        too_fine(run),
        ipc_bound(run),
        uneven(run),
        lock_contention(run),
        startup_dominates(run),
    ]
    return [d for d in found if d is not None]
