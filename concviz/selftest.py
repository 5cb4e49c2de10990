"""``concviz self-test``: does everything work here, from source or frozen?

Runs a tiny batch of every available strategy through a real lab (process pools
with each start method this OS has), then the parallel strategies the packaged app
promises (``interpreter-pool``, ``joblib-loky``, ``dask-local``) on real CPU work,
each judged by its speedup over ``sequential`` against the parallelism the machine
gives right then, then the GIL A/B and one frame of the window, offscreen. Each item
passes or fails with a reason. In the packaged app a missing promised strategy fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Item:
    name: str
    ok: bool
    reason: str
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "reason": self.reason, "seconds": self.seconds}


TASKS = 4

# What the packaged app carries and must run (from source each may be missing, e.g.
# interpreter-pool on Python 3.11: then it is reported as skipped, with the reason).
PROMISED = ("interpreter-pool", "joblib-loky", "dask-local")
# the speedup runs: 2 workers, enough work (8 x 80 ms) for a speedup to show over noise
SPEEDUP_RUN = {"workload": "cpu-python", "workers": 2, "tasks": 8, "task_ms": 80, "mode": "batch"}
# the share of the machine's spare parallelism each must realise: 1.3x on two free cores
SHARE = 0.3


def _check_run(params: dict, lab) -> str | None:
    """None when the run recorded every task well, else why not."""
    from concviz.model import run_object
    from concviz.runtime import run_batch

    store = run_batch(params, lab=lab)
    run = run_object(store)
    if not run["ok"]:
        return run["error"] or "the run failed"
    ids = sorted(t["id"] for t in run["tasks"])
    if ids != list(range(params["tasks"])):
        return f"expected tasks 0..{params['tasks'] - 1}, recorded {ids}"
    bad = [t for t in run["tasks"] if not t["ok"]]
    if bad:
        return f"task {bad[0]['id']} failed: {bad[0]['error']}"
    workers = {(t["pid"], t["tid"], t["worker"]) for t in run["tasks"]}
    if len(workers) > params["workers"]:
        return f"{len(workers)} workers recorded, {params['workers']} asked"
    return None


def _timed(name: str, fn: Callable[[], str | None]) -> Item:
    t = time.perf_counter()
    try:
        why = fn()
    except Exception as exc:  # a self-test reports, it does not crash
        why = f"{type(exc).__name__}: {exc}"
    return Item(name, why is None, why or "ok", round(time.perf_counter() - t, 3))


def _wall(params: dict, lab) -> float:
    """The run's wall time without its engine's start-up and teardown (raises if it failed)."""
    from concviz.model import run_object
    from concviz.runtime import run_batch

    run = run_object(run_batch(params, lab=lab))
    if not run["ok"]:
        raise RuntimeError(run["error"] or "the run failed")
    bad = [t for t in run["tasks"] if not t["ok"]]
    if bad:
        raise RuntimeError(f"task {bad[0]['id']} failed: {bad[0]['error']}")
    if len(run["tasks"]) != params["tasks"]:
        raise RuntimeError(f"{len(run['tasks'])} of {params['tasks']} tasks recorded")
    return run["wall_s"]


def _speedups(lab, available: dict[str, str | None], required: bool) -> list[Item]:
    """Each promised strategy's speedup over sequential, judged against the machine.

    Other programs come and go on a shared machine: the parallelism is measured just
    before and just after each pair of runs (sequential, then the strategy) and the
    lower figure is the one the pair had. A pair below its bar is measured once more.
    """
    from concviz.runtime.parallelism import machine_parallelism, required_speedup

    items: list[Item] = []
    todo = []
    for name in PROMISED:
        why = available.get(name, "this lab does not know it")
        if why is None:
            todo.append(name)
        elif required:
            items.append(Item(f"speedup {name}", False, f"missing from the app: {why}"))
        else:
            items.append(Item(f"speedup {name}", True, f"skipped here: {why}"))

    def judge(name: str) -> str:
        """Raises when the runs fail or the speedup stays below its bar; else the figures."""
        for attempt in (1, 2):
            before = machine_parallelism(0.2)
            seq = _wall({**SPEEDUP_RUN, "strategy": "sequential"}, lab)
            wall = _wall({**SPEEDUP_RUN, "strategy": name}, lab)
            parallelism = min(before, machine_parallelism(0.2))
            speedup = seq / wall if wall > 0 else 0.0
            bar = required_speedup(parallelism, SHARE)
            figures = f"{speedup:.2f}x over sequential on a machine giving {parallelism:.2f} cores"
            if bar is None:
                return f"{figures} (not judged: no spare core now)"
            if speedup >= bar:
                again = ", second try" if attempt == 2 else ""
                return f"{figures} (needs {bar:.2f}x{again})"
        raise RuntimeError(f"{figures}, below the {bar:.2f}x it allows (twice)")

    for name in todo:
        said: list[str] = []
        item = _timed(f"speedup {name}", lambda n=name, out=said: out.append(judge(n)))
        if item.ok:
            item.reason = said[0]
        items.append(item)
    return items


def _quiet_offscreen():
    """Keep the offscreen platform's notes about window hints out of the report."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if "does not support propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    return qInstallMessageHandler(handler)


def _render_ab(required: bool) -> str | None:
    """The GIL A/B offscreen: one GIL (threads) beside one GIL each (interpreter-pool)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage

    from concviz.ui.screenshot import render_ab

    with tempfile.TemporaryDirectory(prefix="concviz-selftest-") as d:
        out = os.path.join(d, "ab.png")
        params = {"workload": "cpu-python", "workers": 2, "tasks": 4, "task_ms": 40}
        missing = render_ab(out, params, size=(1000, 700), timeout_s=120)
        no_b = [m for m in missing if m.startswith("B ")]
        if no_b and required:
            return no_b[0]
        img = QImage(out)
        if img.isNull() or img.width() < 200:
            return "the A/B rendered no usable image"
    return None


def _render_frame() -> str | None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage

    from concviz.ui.screenshot import render

    with tempfile.TemporaryDirectory(prefix="concviz-selftest-") as d:
        out = os.path.join(d, "frame.png")
        render(
            out,
            {
                "workload": "io-sleep",
                "strategy": "threads",
                "workers": 2,
                "tasks": 6,
                "task_ms": 20,
            },
            None,
        )
        img = QImage(out)
        if img.isNull() or img.width() < 200 or img.height() < 150:
            return "the window rendered no usable image"
        colours = {
            img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)
        }
        if len(colours) < 8:
            return f"the rendered window is nearly blank ({len(colours)} colours)"
    return None


def run_self_test(window: bool = True, required: bool | None = None) -> list[Item]:
    """Every check; ``required`` (default: in the packaged app) fails a missing promise."""
    from concviz.runtime import LabProcess, query

    if required is None:
        required = bool(getattr(sys, "frozen", False))

    items: list[Item] = []
    lab = LabProcess()
    try:
        hello = lab.start()
    except Exception as exc:
        return [Item("lab starts", False, f"{type(exc).__name__}: {exc}")]
    items.append(
        Item("lab starts", True, f"Python {hello['interpreter']['version']}, pid {hello['pid']}")
    )
    try:
        strategies = query(lab, "strategies")["items"]
        base = {
            "workload": "cpu-python",
            "workers": 2,
            "tasks": TASKS,
            "task_ms": 3,
            "mode": "batch",
        }
        for s in strategies:
            if not s["available"]:
                items.append(Item(f"strategy {s['name']}", True, f"skipped here: {s['reason']}"))
                continue
            if s.get("needs"):
                items.append(Item(f"strategy {s['name']}", True, f"skipped: {s['needs']}"))
                continue
            if s["processes"] and s.get("group", "python") == "python":
                import multiprocessing as mp

                for method in mp.get_all_start_methods():
                    params = {**base, "strategy": s["name"], "options": {"start_method": method}}
                    items.append(
                        _timed(
                            f"strategy {s['name']} ({method})", lambda p=params: _check_run(p, lab)
                        )
                    )
            else:
                params = {**base, "strategy": s["name"]}
                items.append(_timed(f"strategy {s['name']}", lambda p=params: _check_run(p, lab)))
        available = {s["name"]: s["reason"] for s in strategies}
        items.extend(_speedups(lab, available, required))
    finally:
        lab.close()
    if window:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _quiet_offscreen()
        if available.get("interpreter-pool", "missing") is None or required:
            items.append(_timed("GIL A/B renders offscreen", lambda: _render_ab(required)))
        items.append(_timed("window renders offscreen", _render_frame))
    return items
