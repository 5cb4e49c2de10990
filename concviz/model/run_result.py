"""One finished run as the object ``concviz run --json`` writes."""

from __future__ import annotations

import numpy as np

from concviz.lab import protocol as P

from . import gil
from .critical_path import critical_path
from .diagnoses import diagnose, loop_lag_ms
from .event_store import BAR_ERROR, BAR_STOPPED, EventStore
from .metrics import measured_task_ms, parallelism
from .segments import run_segments
from .sync_waits import counter_summaries, names_of, run_waits, wait_totals
from .wait_states import PARTS, bar_splits, gil_contention


def recording_overhead_estimate(
    events: int, record_ns_per_event: float | None, cpu_s: float
) -> float | None:
    """What recording a run cost its workers, as a share of the run's CPU time.

    ``events × record_ns_per_event / cpu`` — three events per task (queued, start,
    end) at the per-event cost the lab measured at its start (``hello``). None when
    the lab did not measure it (a trace, an older file) or the run used no CPU.
    Example: 10 000 tasks, 300 ns per event, 2 s of CPU → 30 000 × 300 ns / 2 s = 0.0045.
    """
    if record_ns_per_event is None or cpu_s <= 0:
        return None
    return events * float(record_ns_per_event) / 1e9 / cpu_s


def run_object(store: EventStore, run: int = -1) -> dict:
    """``strategy, workload, workers, interpreter, wall_s, cpu_s, parallelism, tasks[...]``."""
    info = store.runs[run]
    started, finished = info.started, info.finished or {}
    bars = store.task_bars(run)
    if not finished and len(bars["end"]):
        # never finished (its lab died, or it is still going): it has run until its
        # last bar's end so far, not for 0 s
        t0 = int(started.get("t_ns", 0))
        t1 = max(t0, int(bars["end"].max()))
        finished = {"t_ns": t1, "wall_ns": t1 - t0}
    lanes = store.lanes()
    lane_idx = bars["lane"]
    pid = np.array([lanes[i].pid for i in lane_idx.tolist()], dtype=np.int64)
    tid = np.array([lanes[i].tid for i in lane_idx.tolist()], dtype=np.int64)
    worker = np.array([lanes[i].worker for i in lane_idx.tolist()], dtype=np.int64)
    order = np.lexsort((bars["start"], bars["task"]))
    split = _split(store, tid, bars)
    tasks = []
    serial_cpu = 0
    for i in order.tolist():
        if worker[i] == P.WORKER_SERIAL:
            serial_cpu += int(bars["cpu"][i])
            continue
        task = int(bars["task"][i])
        # a stopped task (cut short by a stop, or unfinished when its run ended) is
        # neither ok nor failed: it has no error
        stopped = bool(bars["kind"][i] == BAR_STOPPED)
        ok = bool(bars["kind"][i] != BAR_ERROR) and not stopped
        tasks.append(
            {
                "id": task,
                "worker": int(worker[i]),
                "pid": int(pid[i]),
                "tid": int(tid[i]),
                "start_ns": int(bars["start"][i]),
                "end_ns": int(bars["end"][i]),
                "cpu_ns": int(bars["cpu"][i]),
                "ok": ok,
                "stopped": stopped,
                "error": None if ok or stopped else store.task_errors.get(task, "failed"),
            }
        )
        if split is not None and split["sampled"][i]:
            tasks[-1]["split_ms"] = {k: round(float(split[k][i]) / 1e6, 3) for k in PARTS}
    phases = [
        {
            "kind": ph.get("kind"),
            "strategy": ph.get("strategy"),
            "label": ph.get("label"),
            "t0_ns": int(ph["t0_ns"]),
            "t_ns": int(ph["t_ns"]),
            "seconds": (int(ph["t_ns"]) - int(ph["t0_ns"])) / 1e9,
            "details": ph.get("details") or {},
        }
        for ph in info.phases
        if ph.get("t_ns") is not None  # a phase still going when the run ended has no end
    ]
    startup_s = sum(ph["seconds"] for ph in phases if ph["kind"] == "startup")
    teardown_s = sum(ph["seconds"] for ph in phases if ph["kind"] == "teardown")
    wall_ns = task_wall_ns(started, finished, phases)
    # each worker process's start-up (seconds from its pool's creation to ready)
    worker_startup_s = [
        s
        for ph in phases
        for s in (ph["details"].get("workers_ready_s") or [])
        if ph["kind"] == "startup" and s is not None
    ]
    wall_s = wall_ns / 1e9
    cpu_s = float(bars["cpu"].sum()) / 1e9 if len(bars["cpu"]) else 0.0
    # the lab's and its waited-for workers' CPU, every thread: when it exceeds the
    # tasks' own CPU by more than 10 %, the rest ran in threads no task's clock sees
    # (a library's native threads) and it counts towards parallelism
    process_ns = finished.get("process_cpu_ns")
    # what worker processes spent starting (interpreter, imports) and exiting (freeing
    # their memory) is start-up and teardown, not tasks
    startup_cpu_s = sum(
        float(ph["details"].get("workers_startup_cpu_s") or 0.0)
        + float(ph["details"].get("workers_exit_cpu_s") or 0.0)
        for ph in phases
        if ph["kind"] == "startup"
    )
    process_cpu_s = max(0.0, process_ns / 1e9 - startup_cpu_s) if process_ns is not None else None
    native_s = 0.0  # cpu_s holds every task bar's CPU, the serial step's included
    wall_all = finished.get("wall_ns", 0) / 1e9
    # the lab's own housekeeping (its control, flusher and output threads) stays far
    # below a tenth of a core: more than that beside the tasks is a library's threads
    extra = max(0.1 * cpu_s, 0.1 * wall_all, 0.02)  # 20 ms: the clocks' own granularity
    # an engine's start-up and teardown (a JVM, a Dask cluster, loky's workers) spend
    # CPU in the lab's processes with no figure of their own: the process CPU then mixes
    # that with the tasks' and cannot say what native threads used (it read "6x
    # parallelism" for joblib-loky on two cores)
    unsplit = any(
        ph["kind"] in ("startup", "teardown")
        and "workers_startup_cpu_s" not in ph["details"]
        and not ph["details"].get("before_run")  # a user module's import: outside the run
        for ph in phases
    )
    if process_cpu_s is not None and not unsplit and process_cpu_s - cpu_s > extra:
        native_s = process_cpu_s - cpu_s
    interp = (store.hello or {}).get("interpreter", {})
    probes = store.probes()
    in_run = (probes["t"] >= started["t_ns"]) & (probes["t"] <= finished.get("t_ns", 2**62))
    contention = gil.gil_contention(
        probes["late"][in_run], finished.get("switch_interval") or 0.005
    )
    task_wall = float((bars["end"] - bars["start"]).sum()) if len(bars["end"]) else 0.0
    effective = gil.effective_parallelism(cpu_s * 1e9, wall_ns)
    busy = gil.busy_workers(task_wall, wall_ns)
    probe_cost = finished.get("probe") or {}
    record_ns = (store.hello or {}).get("record_ns_per_event")
    out = {
        "strategy": started["strategy"],
        "workload": started["workload"],
        "user": started.get("user"),
        "workers": started["workers"],
        "task_ms": started["task_ms"],
        "serial_fraction": started.get("serial_fraction", 0.0),
        "tasks_asked": started.get("tasks"),
        "cpu_fraction": started.get("cpu_fraction"),
        "jitter": started.get("jitter"),
        "seed": started.get("seed"),
        "interpreter": {
            "version": interp.get("version"),
            "executable": interp.get("executable"),
            "free_threaded": interp.get("free_threaded"),
            "gil_enabled": interp.get("gil_enabled"),
        },
        "wall_s": wall_s,
        "startup_s": startup_s,
        "worker_startup_s": worker_startup_s,
        "teardown_s": teardown_s,
        "phases": phases,
        "engine": dict(info.engine),
        "cpu_s": cpu_s,
        "serial_cpu_s": serial_cpu / 1e9,
        # a user function's size was never asked for: what its tasks really took
        "task_ms_measured": measured_task_ms(
            [(t["end_ns"] - t["start_ns"]) / 1e6 for t in tasks if t["ok"]]
        )
        if started["workload"] == "user"
        else None,
        "process_cpu_s": process_cpu_s,
        "native_cpu_s": native_s,
        "parallelism": parallelism(cpu_s + native_s, wall_s),
        "recording_overhead_estimate": recording_overhead_estimate(
            3 * len(tasks), record_ns, cpu_s
        ),
        "ok": bool(finished.get("ok", False)),
        "error": finished.get("error"),
        "stopped": bool(finished.get("stopped", False)),
        "gil_contention": {
            "value": contention,
            "level": gil.contention_level(contention),
            "effective_parallelism": effective,
            "busy_workers": busy,
            "meter": gil.gil_meter(
                started["strategy"],
                effective,
                busy,
                bool(interp.get("free_threaded")),
                bool(interp.get("gil_enabled", True)),
            ),
            "probe_samples": int(in_run.sum()),
            "probe_cpu_s": probe_cost.get("cpu_ns", 0) / 1e9,
        },
        "gil": _gil_section(store, split, tid, worker, lanes, lane_idx, contention),
        "machine_busy_cores": store.machine_busy_cores,
        # what watching cost: the window's (or the CLI's) own CPU during the run, in cores
        "observer_core_fraction": store.observer_core_fraction,
        "output": program_output(store),
        "markers": [m for m in store.markers if started["t_ns"] <= m.get("t_ns", 0)],
        **_sync_section(store, started, finished),
        **_graph_section(started, tasks),
        # a continuous run: one entry per setting between live switches (model.segments)
        # a run that never finished: its segments end where its wall does
        "segments": run_segments(store, None if info.finished else finished.get("t_ns"))
        if started.get("mode") == "continuous"
        else [],
        # bars an event budget folded into the aggregate: ``tasks`` and the CPU figures
        # above cover the rest; ``segments`` cover them all
        "bars_aggregated": store.bars_dropped,
        "tasks": tasks,
    }
    # what went wrong, in words, with the numbers that say so (model/diagnoses.py)
    out["diagnoses"] = diagnose(out, lag_ms=loop_lag_ms(store, run))
    return out


def _graph_section(started: dict, tasks: list[dict]) -> dict:
    """A task graph's ``critical_path_s`` (by measured durations); each task gets its ``deps``."""
    deps = started.get("deps")
    if not deps:
        return {"critical_path_s": None, "critical_path": None}
    durations: dict[int, float] = {}
    for t in tasks:
        t["deps"] = list(deps[t["id"]]) if 0 <= t["id"] < len(deps) else []
        durations[t["id"]] = (t["end_ns"] - t["start_ns"]) / 1e9
    length, path = critical_path(durations, {i: d for i, d in enumerate(deps) if d})
    return {"critical_path_s": length, "critical_path": path}


def _sync_section(store: EventStore, started: dict, finished: dict) -> dict:
    """``waits`` per sync object, queue ``counters``, a ``deadlock`` and a shared ``counter``."""
    lo, hi = int(started["t_ns"]), int(finished.get("t_ns", 2**62))
    waits = run_waits(store, lo, hi)
    return {
        "waits": wait_totals(waits, names_of(store, waits["object"])),
        "counters": counter_summaries(store, lo, hi),
        "deadlock": finished.get("deadlock"),
        "counter": finished.get("workload_result"),
    }


def _split(store: EventStore, tid: np.ndarray, bars: dict) -> dict | None:
    """Each bar's wall time split by the sampled thread states, or None when unsampled."""
    if not len(tid):
        return None
    return bar_splits(store, bars["index"])


def _gil_section(store, split, tid, worker, lanes, lane_idx, estimate) -> dict:
    """``gil``: contention from sampled states, per thread; the probe's estimate otherwise."""
    interp = (store.hello or {}).get("interpreter", {})
    if interp.get("free_threaded") and not interp.get("gil_enabled", True):
        return {"source": "no GIL", "contention": None, "per_thread": {}}
    waits = store.waits
    workers = worker != P.WORKER_SERIAL
    if split is None or gil_contention({k: v[workers] for k, v in split.items()}) is None:
        if waits is not None and waits.reason:
            reason = waits.reason
        elif waits is not None and waits.source == "sampled":
            reason = "the tasks were too short for a thread-state sample (200 a second)"
        else:
            reason = "thread states were not sampled for this run"
        return {"source": "estimate", "contention": estimate, "reason": reason, "per_thread": {}}
    per_thread = {}
    for lane in np.unique(lane_idx[workers]).tolist():
        mine = (lane_idx == lane) & workers
        part = {k: v[mine] for k, v in split.items()}
        per_thread[lanes[lane].label] = {
            **{f"{k}_s": round(float(part[k].sum()) / 1e9, 4) for k in PARTS},
            "contention": gil_contention(part),
        }
    return {
        "source": "sampled",
        "contention": gil_contention({k: v[workers] for k, v in split.items()}),
        "per_thread": per_thread,
    }


OUTPUT_LINES = 1000  # what a run object keeps of the program's output


def program_output(store: EventStore, limit: int = OUTPUT_LINES) -> dict:
    """What the user's code printed: the first ``limit`` lines and how many were left out."""
    lines = "".join(store.output).splitlines()
    return {"lines": lines[:limit], "dropped": max(0, len(lines) - limit)}


def task_wall_ns(started: dict, finished: dict, phases: list[dict]) -> int:
    """A run's wall time without its start-up and teardown phases, in nanoseconds.

    An engine's or a pool's start-up and teardown are reported apart, never as task
    time: the wall leaves out what of them lies inside the run (a user module's
    import, made as the run was asked for, lies before it). ``phases`` hold ``kind``,
    ``t0_ns`` and ``t_ns`` (phases without an end left out).
    """
    lo = int(started.get("t_ns", 0))
    hi = int(finished.get("t_ns", lo + finished.get("wall_ns", 0)))
    inside_ns = sum(
        max(0, min(int(ph["t_ns"]), hi) - max(int(ph["t0_ns"]), lo))
        for ph in phases
        if ph.get("kind") in ("startup", "teardown") and ph.get("t_ns") is not None
    )
    return max(0, int(finished.get("wall_ns", 0)) - inside_ns)
