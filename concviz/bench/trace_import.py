"""How fast a big Chrome trace opens: ``load_trace`` beside ``json.load`` of the same file.

The trace is generated in a temporary folder: ``n_events`` events in two processes of
four threads each, every top-level slice with three nested calls under it (as a
tracer like VizTracer writes), one slice in ten as a ``B``/``E`` pair, a counter
every hundred events. ``import_s_1m_chrome`` is the median time of ``load_trace``
(reading, parsing and building the run); ``json_load_s_1m`` the median time of
``json.load`` alone on the same file, the floor any importer in Python stands on;
``spread`` is (slowest - fastest) / median of the import's repeats.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from ._common import median

DESCRIPTION = (
    "opening a generated 1 M-event Chrome trace (import_s_1m_chrome) beside json.load "
    "of the same file (json_load_s_1m)"
)


def make_trace(path: Path, n_events: int) -> int:
    """Write a trace of about ``n_events`` events; returns how many it holds."""
    events: list[dict] = []
    for pid in (1000, 2000):
        events.append({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": f"p{pid}"}})
        for tid in range(4):
            events.append(
                {
                    "ph": "M",
                    "name": "thread_name",
                    "pid": pid,
                    "tid": pid + tid,
                    "args": {"name": f"worker {tid}"},
                }
            )
    threads = [(pid, pid + tid) for pid in (1000, 2000) for tid in range(4)]
    clock = dict.fromkeys(threads, 0.0)
    k = 0
    while len(events) < n_events:
        pid, tid = threads[k % len(threads)]
        t = clock[(pid, tid)]
        name = f"task_{k % 97}"
        if k % 10 == 0:
            events.append({"ph": "B", "name": name, "pid": pid, "tid": tid, "ts": t})
        else:
            events.append({"ph": "X", "name": name, "pid": pid, "tid": tid, "ts": t, "dur": 40.0})
        for depth in range(1, 4):
            events.append(
                {
                    "ph": "X",
                    "name": f"call_{depth}_{k % 13}",
                    "pid": pid,
                    "tid": tid,
                    "ts": t + 2.0 * depth,
                    "dur": 40.0 - 4.0 * depth,
                    "args": {"line": depth},
                }
            )
        if k % 10 == 0:
            events.append({"ph": "E", "pid": pid, "tid": tid, "ts": t + 40.0})
        if k % 25 == 0:
            events.append(
                {"ph": "C", "name": "queue", "pid": pid, "ts": t, "args": {"size": k % 7}}
            )
        clock[(pid, tid)] = t + 50.0
        k += 1
    path.write_text(json.dumps({"traceEvents": events}))
    return len(events)


def figures(n_events: int = 1_000_000, repeats: int = 3) -> dict:
    """``import_s_1m_chrome``, ``json_load_s_1m`` and ``spread`` (see the module)."""
    from concviz.interop.trace_import import load_trace

    with tempfile.TemporaryDirectory(prefix="concviz-bench-trace-") as tmp:
        path = Path(tmp) / "big.json"
        count = make_trace(path, n_events)
        imports, loads = [], []
        bars = 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            with path.open("rb") as fh:
                json.load(fh)
            loads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            session = load_trace(path)
            imports.append(time.perf_counter() - t0)
            bars = session.runs[0].store.bar_count
            del session
    mid = median(imports)
    return {
        "import_s_1m_chrome": mid,
        "json_load_s_1m": median(loads),
        "spread": (max(imports) - min(imports)) / mid if mid > 0 else 0.0,
        "events": count,
        "top_level_bars": bars,
    }


def run(args) -> dict:
    n = 100_000 if getattr(args, "quick", False) else 1_000_000
    return {
        "figures": figures(n_events=n),
        "notes": [
            f"a generated Chrome trace of {n} events; the import's ratio to json.load is "
            "what it adds to parsing"
        ],
    }
