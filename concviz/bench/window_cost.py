"""``concviz bench window-cost``: what following a run live costs, window against CLI.

The same batch run, a 2-worker ``cpu-python`` process pool of about 10 s (2 s with
``--quick``), is run in turns: followed live by the real main window (offscreen,
1920×1080, the timeline page, in a Qt event loop as the app runs it: polling
``processEvents`` added a tenth to the figure), and headless through the run
driver with the same outside observers as ``concviz run`` (the baseline). Each side's
own CPU over the run is the run's ``observer_core_fraction`` (the process's CPU
clock, every thread, ÷ the wall); ``window_own_core_fraction`` is what the window adds
to the observers both sides run (the CPU and thread-state samplers), the window's
figure less the headless one of the same repeat; ``slowdown_ratio`` is the window's
wall ÷ the headless wall, medians over interleaved repeats.
"""

from __future__ import annotations

import os
import time

from ._common import bench_window, median, rotated

DESCRIPTION = (
    "the window's own CPU while it follows a 2-worker cpu-python process-pool run live "
    "(offscreen 1920x1080), against the same run headless; and the run's slowdown"
)

WORKERS = 2
TASK_MS = 50


def _spec(seconds: float) -> dict:
    tasks = max(WORKERS, int(seconds * 1000 / TASK_MS) * WORKERS)
    return {
        "workload": "cpu-python",
        "strategy": "process-pool",
        "workers": WORKERS,
        "tasks": tasks,
        "task_ms": TASK_MS,
        "mode": "batch",
    }


def _headless(spec: dict) -> tuple[float, float]:
    from concviz.model.session import Session
    from concviz.runtime.driver import RunDriver

    run = RunDriver(Session(), observe=True).run(spec)
    if not run.result.get("ok"):
        raise RuntimeError(f"the headless run failed: {run.result.get('error')}")
    return float(run.result["wall_s"]), float(run.result["observer_core_fraction"])


def _windowed(app, win, spec: dict, timeout_s: float) -> tuple[float, float]:
    c = win.controls
    c.set_workload(spec["workload"])
    c.set_strategy(spec["strategy"])
    c.set_workers(spec["workers"])
    c.tasks.setValue(spec["tasks"])
    c.task_ms.setValue(spec["task_ms"])
    c.set_continuous(False)
    before = len(win.session.runs)
    win.run()
    if not win.running:
        raise RuntimeError(win.banner.text() or "the window's run did not start")
    # a real event loop, as the app runs (processEvents polled 200 times a second
    # cost the window a tenth of its figure); a coarse timer looks for the run's end
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    end = time.monotonic() + timeout_s

    def done() -> bool:
        runs = win.session.runs
        return len(runs) > before and runs[-1].finished and not win.running

    def check() -> None:
        if done() or time.monotonic() >= end:
            loop.quit()

    timer = QTimer()
    timer.setInterval(100)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if not done():
        raise RuntimeError("the window's run did not finish in time")
    result = win.session.runs[-1].result
    if not result.get("ok") or result.get("observer_core_fraction") is None:
        raise RuntimeError("the window's run did not finish cleanly")
    return float(result["wall_s"]), float(result["observer_core_fraction"])


def run(args=None) -> dict:
    quick = bool(getattr(args, "quick", False))
    seconds = 2.0 if quick else 10.0
    repeats = 1 if quick else 3
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["concviz-bench"])
    spec = _spec(seconds)
    walls: dict[str, list[float]] = {"window": [], "headless": []}
    cores: dict[str, list[float]] = {"window": [], "headless": []}
    with bench_window(app, 1920, 1080) as win:
        for r in range(repeats):
            for side in rotated(["window", "headless"], r):
                if side == "window":
                    wall, core = _windowed(app, win, spec, 20 * seconds + 30)
                else:
                    wall, core = _headless(spec)
                walls[side].append(wall)
                cores[side].append(core)
    figures = {
        "window_core_fraction": round(median(cores["window"]), 4),
        "baseline_cli_core_fraction": round(median(cores["headless"]), 4),
        # what the window adds to the observers both sides run (the samplers)
        "window_own_core_fraction": round(
            median([w - h for w, h in zip(cores["window"], cores["headless"], strict=True)]), 4
        ),
        "slowdown_ratio": round(median(walls["window"]) / median(walls["headless"]), 4),
        "window_wall_s": round(median(walls["window"]), 3),
        "headless_wall_s": round(median(walls["headless"]), 3),
        "window_core_fraction_spread": round(max(cores["window"]) - min(cores["window"]), 4),
        "slowdown_ratio_spread": round(
            (max(walls["window"]) - min(walls["window"])) / median(walls["headless"]), 4
        ),
        "repeats": repeats,
        "run_s": seconds,
    }
    text = (
        f"following a {seconds:.0f} s {WORKERS}-worker cpu-python process-pool run live\n"
        f"  window  : {figures['window_core_fraction']:.3f} of a core, wall "
        f"{figures['window_wall_s']:.2f} s\n"
        f"  headless: {figures['baseline_cli_core_fraction']:.3f} of a core, wall "
        f"{figures['headless_wall_s']:.2f} s\n"
        f"  the window's own: {figures['window_own_core_fraction']:.3f} of a core "
        f"(window − headless, per repeat)\n"
        f"  slowdown: {figures['slowdown_ratio']:.3f}× (goal ≤ 1.05); window goal ≤ 0.10 core"
    )
    return {
        "figures": figures,
        "text": text,
        "raw": {"walls": walls, "core_fractions": cores},
        "compared": (
            f"{spec['tasks']} cpu-python tasks of {TASK_MS} ms on a {WORKERS}-worker process "
            f"pool, followed by the real window (offscreen 1920x1080) vs headless through "
            f"the run driver with the CLI's observers; {repeats} interleaved repeats, medians"
        ),
        "baselines": {
            "window_core_fraction": "baseline_cli_core_fraction",
            "window_wall_s": "headless_wall_s",
        },
        "goals": {"window_core_fraction": "<= 0.10", "slowdown_ratio": "<= 1.05"},
    }
