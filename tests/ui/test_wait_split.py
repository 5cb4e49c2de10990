"""Why a bar is pale, measured: running, waiting for the GIL, for a CPU, on I/O — drawn."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QColor

from concviz.model import run_object
from concviz.runtime.wait_sampler import WaitSampler

from .conftest import configure

pytestmark = pytest.mark.skipif(
    WaitSampler.unavailable_reason(os.getpid()) is not None,
    reason="thread states are read from /proc/PID/task/TID/syscall (Linux, readable here)",
)


def _run(window, qtbot, **params) -> dict:
    configure(window, **params)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=60000)
    window.timeline.refresh()
    return run_object(window.timeline.store)


def _totals(run: dict) -> dict:
    threads = run["gil"]["per_thread"].values()
    return {k: sum(t[f"{k}_s"] for t in threads) for k in ("running", "gil_wait", "cpu_wait",
                                                           "io_wait")}  # fmt: skip


def _has_colour(window, colour: str) -> bool:
    img = window.timeline.grab().toImage()
    want = QColor(colour).rgb() & 0xFFFFFF
    return any(
        img.pixel(x, y) & 0xFFFFFF == want
        for y in range(0, img.height(), 3)
        for x in range(0, img.width(), 3)
    )


def test_python_threads_wait_for_the_gil_and_the_picture_says_so(window, qtbot):
    run = _run(window, qtbot, workload="cpu-python", strategy="threads", workers=2, tasks=12,
               task_ms=40)  # fmt: skip
    assert run["gil"]["source"] == "sampled"
    t = _totals(run)
    assert t["gil_wait"] > 0.5 * t["running"], t  # they take turns: about as long waiting
    assert t["gil_wait"] > 3 * t["io_wait"], t
    assert window.legend.waits  # the legend names the wait colours
    assert _has_colour(window, window.theme.waits[2])  # orange: waiting for the GIL
    # the tooltip gives the split in ms
    d = window.timeline.gantt.data
    info = window.timeline.gantt.hit(float(d.s[0] + d.e[0]) / 2, float(d.row[0]))
    assert info is not None and info["split"] is not None
    from concviz.ui.timeline import describe

    assert "waiting for the GIL" in describe(info)


def test_sleeping_threads_wait_on_io(window, qtbot):
    run = _run(window, qtbot, workload="io-sleep", strategy="threads", workers=2, tasks=10,
               task_ms=40)  # fmt: skip
    t = _totals(run)
    assert t["io_wait"] > 5 * (t["gil_wait"] + t["running"]), t
    assert run["gil"]["contention"] < 0.15


def test_a_cpu_hog_beside_a_sequential_run_shows_cpu_wait_and_the_banner(window, qtbot):
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    # two hogs on two cores: the run's thread must queue for a core. The window's lab
    # is niced, so each 40 ms task waited 0.1 to 4 s (10 tasks took 2 to 24 s): 5 do
    try:
        run = _run(window, qtbot, workload="cpu-python", strategy="sequential", workers=1,
                   tasks=5, task_ms=40)  # fmt: skip
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    t = _totals(run)
    assert t["cpu_wait"] > 0.2 * t["running"], t
    assert t["cpu_wait"] > t["gil_wait"], t
    assert "Other programs used" in window.banner.text()
