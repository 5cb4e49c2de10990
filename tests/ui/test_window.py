from __future__ import annotations

import os
import signal

import numpy as np
import psutil
import pytest
from PySide6.QtCore import Qt

from concviz.model.event_store import BAR_SLICE

from .conftest import configure


def _task_bars(win):
    win.timeline.refresh()
    d = win.timeline.gantt.data
    assert d is not None
    serial = np.isin(d.row, d.serial_rows)
    keep = (d.kind != BAR_SLICE) & ~serial
    return d.task[keep]


def test_batch_run_has_one_bar_per_task_and_a_summary(window, qtbot):
    configure(window, strategy="sequential", workers=1, tasks=6, task_ms=20)
    window.run()
    assert window.running
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    assert window.summary.text("speedup") == "1.00×"  # the sequential run is its own baseline
    configure(window, strategy="threads", workers=2, tasks=6, task_ms=20)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    tasks = _task_bars(window)
    assert sorted(tasks.tolist()) == list(range(6))  # exactly one bar per task
    for key in ("wall", "cpu", "parallelism", "speedup", "efficiency"):
        assert window.summary.text(key) not in ("", "—"), key
    assert "vs sequential" in window.summary.notes["speedup"].text()
    # no error (a busy machine, another program beside the suite, is only a warning)
    assert not window.banner.isVisible() or "Other programs used" in window.banner.text()


def _children(pid: int) -> list | None:
    """The lab's descendants; None while one of them exits under the walk (psutil raises)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None if psutil.pid_exists(pid) else []


def test_switch_in_continuous_run_adds_marker_and_rows_and_stop_leaves_no_children(window, qtbot):
    configure(window, strategy="threads", workers=1, task_ms=20, mode="continuous")
    window.run()
    qtbot.waitUntil(lambda: window.timeline.store.bar_count >= 3, timeout=20000)
    window.timeline.refresh()
    rows_before = window.timeline.gantt.data.n_rows
    window.controls.strategy_buttons["process-pool"].click()  # a live switch
    qtbot.waitUntil(lambda: len(window.timeline.store.markers) >= 1, timeout=20000)
    lab_pid = window.client.pid

    def more_rows() -> bool:
        window.timeline._next_rebuild = 0.0
        window.timeline.refresh()
        return window.timeline.gantt.data.n_rows > rows_before

    qtbot.waitUntil(more_rows, timeout=20000)
    labels = [r.label for r in window.timeline.gantt.data.rows]
    assert any(lbl.startswith("process") for lbl in labels), labels
    assert len(window.timeline._marker_lines) == 1
    qtbot.waitUntil(lambda: bool(_children(lab_pid)), timeout=5000)  # the pool is there...
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=10000)
    qtbot.waitUntil(lambda: _children(lab_pid) == [], timeout=10000)
    window.close()
    assert not psutil.pid_exists(lab_pid) or psutil.Process(lab_pid).status() == "zombie"


def test_lab_crash_shows_banner_and_keeps_data(window, qtbot):
    configure(window, strategy="threads", workers=2, task_ms=10, mode="continuous")
    window.run()
    qtbot.waitUntil(lambda: window.timeline.store.bar_count >= 6, timeout=20000)
    lab_pid = window.client.pid
    os.kill(lab_pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    said = window.banner.text()
    assert said.startswith("The lab ended unexpectedly (killed by SIGKILL)"), said
    assert "bars recorded before stay on screen" in said, said
    assert not window.running
    assert len(_task_bars(window)) >= 6  # what was recorded stays on screen
    # the cut-off run is kept with the time it ran, not a wall of 0 s
    run = window.session.runs[-1]
    assert run.result["wall_s"] > 0, run.result
    last_end = max(t["end_ns"] for t in run.result["tasks"])
    first_start = min(t["start_ns"] for t in run.result["tasks"])
    assert run.result["wall_s"] >= (last_end - first_start) / 1e9, run.result
    # nobody pressed Stop: the continuous run's title and the status line say why it ended
    qtbot.waitUntil(lambda: "cut off: the lab ended" in window.segments_panel.title.text())
    assert window.statusBar().currentMessage() == "The run was cut off: the lab ended."
    # Run (Ctrl+R, the Run button) starts a new lab and the run in it: one press
    dead = lab_pid
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.running, timeout=20000)
    assert window.client.is_alive() and window.client.pid != dead
    assert not window.banner.isVisible()
    qtbot.waitUntil(lambda: len(window.session.runs) == 2 and window.timeline.store.bar_count >= 2,
                    timeout=20000)  # fmt: skip
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=10000)


def test_closing_the_window_leaves_no_process(window, qtbot):
    configure(window, strategy="processes", workers=2, task_ms=50, mode="continuous")
    window.run()
    qtbot.waitUntil(lambda: window.timeline.store.bar_count >= 2, timeout=30000)
    lab = psutil.Process(window.client.pid)
    family = [lab, *lab.children(recursive=True)]
    assert len(family) >= 3
    window.close()
    gone, alive = psutil.wait_procs(family, timeout=5)
    assert not alive


def test_presentation_scale_fits_the_screen():
    from concviz.ui.theme import presentation_scale

    assert presentation_scale(1920, 1080) == pytest.approx(1.6)
    assert presentation_scale(1280, 720) == pytest.approx(1.6 * 720 / 1000)
    assert presentation_scale(800, 600) == 1.0


def test_presentation_mode_scales_text(window):
    base = window.font().pointSizeF()
    window.set_presentation(True)
    assert window.presentation_action.isChecked()
    assert window.font().pointSizeF() >= base * 1.5
    assert window.timeline.gantt.bar_height > 0.7
    # the panels added beside the window grow too, however presentation mode came on
    # (--presentation calls this, not the menu action: the sharing line stayed small)
    assert window.sync_panel.scale == window.scale > 1.0
    assert window.badges.scale == window.scale
    window.set_presentation(False)
    assert window.font().pointSizeF() == base >= 12
    assert window.sync_panel.scale == 1.0


def test_export_trace_and_picture(window, qtbot, tmp_path):
    import json

    assert not window.export_trace(str(tmp_path / "empty.json"))  # nothing run yet
    configure(window, workload="io-sleep", strategy="threads", tasks=6, task_ms=10)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    trace = tmp_path / "t.json"
    assert window.export_trace(str(trace))
    events = [e for e in json.loads(trace.read_text())["traceEvents"] if e["ph"] == "X"]
    assert sorted(e["args"]["task"] for e in events) == list(range(6))
    png = tmp_path / "w.png"
    assert window.save_picture(str(png)) and png.stat().st_size > 10_000
    assert not window.save_picture(str(tmp_path / "no" / "such" / "dir.png"))


def test_measure_sequential_gives_the_run_its_own_baseline(window, qtbot):
    configure(window, workload="cpu-python", strategy="threads", workers=2, tasks=8, task_ms=20)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    assert window.summary.text("speedup") == "—"
    assert "no sequential run of this experiment" in window.summary.values["speedup"].toolTip()
    assert window.summary.measure_button.isVisible()
    qtbot.mouseClick(window.summary.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.running, timeout=5000)
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    seq = window.summary.last
    assert seq["strategy"] == "sequential" and len(seq["tasks"]) == 8
    assert "sequential · 1 worker" in window.summary.title.text()
    # one worker has no efficiency (the session's rule, shared with the runs panel)
    assert window.summary.text("efficiency") == "—"
    assert window.summary.text("speedup") == "1.00×"
    assert "threads × 2 was" in window.summary.notes["speedup"].text()
    assert not window.summary.measure_button.isVisible()
    # the threads run again: now it has a baseline of the same experiment
    configure(window, workload="cpu-python", strategy="threads", workers=2, tasks=8, task_ms=20)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    eff = float(window.summary.text("efficiency").rstrip(" %")) / 100
    assert 0 < eff <= 1.15
    # another task size is another experiment: no borrowed baseline
    configure(window, workload="cpu-python", strategy="threads", workers=2, tasks=8, task_ms=25)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    assert window.summary.text("speedup") == "—"


def test_a_busy_machine_is_said_out_loud(window, qtbot):
    import subprocess
    import sys

    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        configure(window, workload="cpu-python", strategy="sequential", tasks=12, task_ms=50)
        window.run()
        qtbot.waitUntil(lambda: not window.running, timeout=30000)
    finally:
        hog.kill()
        hog.wait()
    run = window.summary.last
    assert run["machine_busy_cores"] > 0.5  # a whole core spun beside the run
    assert window.banner.isVisible()
    assert "Other programs used" in window.banner.text()


def test_the_knobs_reach_the_lab_and_the_summary(window, qtbot):
    configure(window, workload="cpu-python", strategy="sequential", tasks=6, task_ms=20)
    qtbot.mouseClick(window.controls.knobs_button, Qt.MouseButton.LeftButton)
    assert window.controls.knobs_box.isVisible()
    window.controls.serial_fraction.setValue(50)
    window.controls.jitter.setValue(20)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    run = window.summary.last
    assert run["serial_fraction"] == 0.5 and run["jitter"] == 0.2
    # Amdahl: the serial step is as long as all the tasks together (50 % of the time)
    assert run["serial_cpu_s"] >= 0.5 * 6 * 0.020 * 0.8
    assert "serial part 50%" in window.summary.title.text()
    assert "jitter 20%" in window.summary.title.text()
    # the serial step's grey bar is named in the legend while a run draws one
    serial_entry = dict(window.legend._entries)["serial"]
    window.timeline.refresh()
    qtbot.waitUntil(lambda: serial_entry[1].isVisible(), timeout=5000)
    assert serial_entry[1].text() == "serial step"
    window.controls.serial_fraction.setValue(0)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    window.timeline.refresh()
    qtbot.waitUntil(lambda: not serial_entry[1].isVisible(), timeout=5000)


def test_strategy_tooltips_say_what_to_expect(window):
    tip = window.controls.strategy_buttons["threads"].toolTip()
    assert "no faster than sequential" in tip and "GIL" in tip
    assert "faster" in window.controls.strategy_buttons["process-pool"].toolTip()


def test_the_shown_run_keeps_its_row_labels_when_the_lab_changes_python(window, qtbot):
    import glob

    others = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[23].*/bin/python3.1[23]")))
    if not others:
        pytest.skip("needs a second CPython (3.12/3.13 under ~/.pyenv/versions)")
    configure(window, workload="io-sleep", strategy="threads", workers=2, tasks=4, task_ms=10)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    store = window.timeline.store
    before = (store.hello["pid"], [r.label for r in window.timeline.gantt.data.rows])
    window.client.interpreter = others[-1]
    with qtbot.waitSignal(window.client.labStarted, timeout=60000):
        window.restart_lab()
    window.timeline.refresh()
    assert window.timeline.store is store  # still the run on screen
    assert store.hello["pid"] == before[0]  # named by the lab that ran it
    assert [r.label for r in window.timeline.gantt.data.rows] == before[1]
