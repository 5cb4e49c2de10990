"""``concviz bench session``: saving and opening a session of a million task bars."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from concviz.interop.session_file import load_session, save_session
from concviz.lab import protocol as P
from concviz.model.event_store import RECORD_DTYPE, EventStore
from concviz.model.run_result import run_object
from concviz.model.session import CpuSamples, Session

DESCRIPTION = (
    "save and open a .concviz session of 1 M task bars (figures save_s_1m, open_s_1m, "
    "goal <= 1.5 s; bytes_per_task, goal <= 40); with trace_import, a 1 M-event Chrome "
    "trace opened (import_s_1m_chrome) beside json.load of it (json_load_s_1m)"
)

WORKERS = 8


def synthetic_store(n_tasks: int, seed: int = 1) -> EventStore:
    """A finished thread-pool run of ``n_tasks`` tasks as the lab reports it.

    Eight workers take tasks in turn; each task lasts 50 µs to 2 ms (log-normal), CPU
    time a random share of it, a small gap before the next; about one task in a
    thousand fails. Records go in as the lab's frames would bring them: batches of
    start and end records per worker.
    """
    rng = np.random.default_rng(seed)
    t0 = 1_000_000_000_000
    pid = 4242
    tids = 5000 + np.arange(WORKERS)
    store = EventStore()
    store.add_json(
        {
            "type": "hello",
            "pid": pid,
            "interpreter": {"version": "3.13.1", "executable": "/usr/bin/python3"},
        }
    )
    started = {
        "type": "run_started",
        "t_ns": t0,
        "strategy": "thread-pool",
        "workload": "cpu-python",
        "workers": WORKERS,
        "task_ms": 1.0,
        "tasks": n_tasks,
    }
    store.add_json(started)
    worker = np.arange(n_tasks) % WORKERS
    dur = np.clip(rng.lognormal(np.log(400e3), 0.8, n_tasks), 50e3, 2e6).astype(np.int64)
    gap = rng.integers(2_000, 20_000, n_tasks)
    start = np.empty(n_tasks, np.int64)
    end = np.empty(n_tasks, np.int64)
    for w in range(WORKERS):
        mine = np.flatnonzero(worker == w)
        span = dur[mine] + gap[mine]
        start[mine] = t0 + 100_000 + np.concatenate([[0], np.cumsum(span)[:-1]])
        end[mine] = start[mine] + dur[mine]
    cpu = (dur * rng.uniform(0.85, 1.0, n_tasks)).astype(np.int64)
    failed = rng.random(n_tasks) < 1e-3
    batch = 50_000
    for lo in range(0, n_tasks, batch):
        idx = np.arange(lo, min(n_tasks, lo + batch))
        idx = idx[np.lexsort((idx, worker[idx]))]  # each thread's records together
        rec = np.zeros(2 * len(idx), RECORD_DTYPE)
        rec["kind"][0::2] = P.EV_START
        rec["kind"][1::2] = np.where(failed[idx], P.EV_ERROR, P.EV_END)
        for field, value in (("task", idx), ("worker", worker[idx]), ("pid", pid)):
            rec[field][0::2] = value
            rec[field][1::2] = value
        rec["tid"][0::2] = tids[worker[idx]]
        rec["tid"][1::2] = tids[worker[idx]]
        rec["t_ns"][0::2] = start[idx]
        rec["t_ns"][1::2] = end[idx]
        rec["t0_ns"][1::2] = start[idx]
        rec["cpu_ns"][1::2] = cpu[idx]
        store.add_events(rec)
    for task in np.flatnonzero(failed)[:50].tolist():
        store.add_json({"type": "task_error", "task": task, "error": "ValueError: bad input"})
    t_end = int(end.max()) + 50_000
    store.add_json(
        {
            "type": "run_finished",
            "t_ns": t_end,
            "wall_ns": t_end - t0,
            "ok": True,
            "process_cpu_ns": int(cpu.sum()),
        }
    )
    return store


def synthetic_session(n_tasks: int) -> Session:
    """One finished run of ``n_tasks`` tasks with its result and 10 Hz CPU samples."""
    store = synthetic_store(n_tasks)
    session = Session()
    spec = P.Start(workload="cpu-python", strategy="thread-pool", workers=WORKERS, tasks=n_tasks)
    info = store.runs[-1]
    t = np.arange(info.started["t_ns"], info.finished["t_ns"], 100_000_000, dtype=np.int64)
    rng = np.random.default_rng(2)
    cpu = CpuSamples(
        t_ns=t,
        percent=rng.uniform(0, 100, (len(t), WORKERS)).astype(np.float32),
        others=rng.uniform(0, 0.2, len(t)).astype(np.float32),
    )
    run = session.new_run(spec, store, cpu=cpu)
    session.finish(run, run_object(store))
    return session


def _chrome_trace(n: int, path: Path) -> None:
    """A Chrome trace of ``n`` complete events on eight threads, as other tools write."""
    rng = np.random.default_rng(3)
    dur = rng.integers(50, 2000, n)
    ts = np.cumsum(dur // WORKERS + 5)
    tid = np.arange(n) % WORKERS
    with open(path, "w") as f:
        f.write('{"traceEvents":[')
        for i in range(n):
            f.write(
                f'{"," if i else ""}{{"ph":"X","name":"task {i}","pid":1,"tid":{int(tid[i])},'
                f'"ts":{int(ts[i])},"dur":{int(dur[i])}}}'
            )
        f.write("]}")


def run(args) -> dict:
    n = 50_000 if args.quick else 1_000_000
    repeats = 3
    session = synthetic_session(n)
    result = session.runs[0].result
    figures: dict = {}
    notes = [
        f"{n:,} task bars, one run, 8 worker lanes, its result's {n:,} task dicts included; "
        f"median of {repeats} (spread: max - min)"
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.concviz"
        saves, opens, open_cpu = [], [], []
        loaded = None
        for _ in range(repeats):
            t = time.perf_counter()
            save_session(session, path)
            saves.append(time.perf_counter() - t)
            loaded = None  # freeing the last one (a million dicts) is not part of opening
            t, c = time.perf_counter(), time.process_time()
            loaded = load_session(path)
            opens.append(time.perf_counter() - t)
            open_cpu.append(time.process_time() - c)
        size = os.path.getsize(path)
        if loaded.runs[0].result != result:
            raise AssertionError("the session did not come back as it was saved")
        loaded = None
        suffix = "" if n == 1_000_000 else f"_{n // 1000}k"
        figures[f"save_s_1m{suffix}"] = statistics.median(saves)
        figures[f"open_s_1m{suffix}"] = statistics.median(opens)
        # this process's own CPU time: what opening costs when the machine is shared
        figures[f"open_cpu_s_1m{suffix}"] = statistics.median(open_cpu)
        figures["bytes_per_task"] = size / n
        figures["save_spread_s"] = max(saves) - min(saves)
        figures["open_spread_s"] = max(opens) - min(opens)
        out: dict = {"figures": figures, "notes": notes}
        try:
            from concviz.interop import trace_import  # noqa: F401 - written on another branch
        except ImportError:
            out["import"] = "trace_import not available"
            notes.append("trace_import not available: import_s_1m_chrome not measured")
        else:
            trace = Path(tmp) / "trace.json"
            _chrome_trace(n, trace)
            loads, imports = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                with open(trace) as f:
                    json.load(f)
                loads.append(time.perf_counter() - t)
                t = time.perf_counter()
                trace_import.load_trace(trace)
                imports.append(time.perf_counter() - t)
            figures[f"import_s_1m_chrome{suffix}"] = statistics.median(imports)
            figures[f"json_load_s_1m{suffix}"] = statistics.median(loads)
    if n != 1_000_000:
        notes.append("--quick: figures are for 50k tasks (suffix _50k), not the goal's 1 M")
    out["baselines"] = {f"import_s_1m_chrome{suffix}": f"json_load_s_1m{suffix}"}
    out["goals"] = {
        f"open_s_1m{suffix}": "<= 1.5 s",
        "bytes_per_task": "<= 40",
    }
    out["compared"] = "save_session / load_session of a synthetic session (.concviz zip)"
    return out
