"""A profiler's trace of a thread pool, made in the test with VizTracer, opened in the
window: one row per thread, and the pool's tasks shown as bars on demand."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import threading
from concurrent.futures import ThreadPoolExecutor

def work(i):
    return sum(k * k for k in range(20000))

with ThreadPoolExecutor(3) as ex:
    list(ex.map(work, range(12)))
"""


def test_a_viztracer_thread_pool_shows_its_tasks_on_the_gantt(window, qtbot, tmp_path):
    pytest.importorskip("viztracer", reason="viztracer (a test dependency) is not installed")
    prog = tmp_path / "pool.py"
    prog.write_text(PROGRAM)
    out = tmp_path / "pool.json"
    subprocess.run(
        [sys.executable, "-m", "viztracer", "-o", str(out), str(prog)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert window.open_file(str(out))
    qtbot.waitUntil(lambda: not window.files.busy, timeout=30000)
    run = window.shown_run
    assert run is not None and run.source == "trace"
    bar = window.trace_levels
    assert bar.isVisible()
    labels = [bar.combo.itemText(i) for i in range(bar.combo.count())]
    work = next(i for i, text in enumerate(labels) if text.startswith("work (") and "× 12" in text)
    bar.combo.setCurrentIndex(work)  # as choosing it from the list does
    window.timeline.refresh()
    data = window.timeline.gantt.data
    assert len(data.task) == 12  # every call of work(), a bar each
    rows = set(data.row.tolist())
    assert 1 <= len(rows) <= 3  # on the pool's threads
    bar.combo.setCurrentIndex(0)  # back to the top level
    window.timeline.refresh()
    assert window.timeline.store is run.store
