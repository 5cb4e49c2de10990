"""``concviz self-test``: does everything work here, from source or frozen?

Runs a tiny batch of every available strategy through a real lab (process pools
with each start method this OS has), then renders one offscreen frame of the
window. Each item passes or fails with a reason.
"""

from __future__ import annotations

import os
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


def run_self_test(window: bool = True) -> list[Item]:
    from concviz.runtime import LabProcess, query

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
    finally:
        lab.close()
    if window:
        items.append(_timed("window renders offscreen", _render_frame))
    return items
