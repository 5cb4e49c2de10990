"""A stopped task has its own colour in the Gantt and the legend (issue 19)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor

from .conftest import configure

FAULTS = Path(__file__).parent.parent / "lab" / "data" / "faultfns.py"


def _gantt_colours(timeline) -> set[int]:
    """The colours painted inside the Gantt's own view box (not the CPU panels')."""
    img = timeline.grab().toImage()
    box = timeline.mapFromScene(timeline.gantt_plot.vb.sceneBoundingRect()).boundingRect()
    box = box.intersected(img.rect())
    return {
        img.pixel(x, y) & 0xFFFFFF
        for x in range(box.left(), box.right(), 2)
        for y in range(box.top(), box.bottom())
    }


def test_a_stuck_task_is_drawn_stopped_and_the_lab_restarts_by_itself(window, qtbot):
    configure(window, strategy="threads", workers=2, tasks=6, task_ms=10)
    first_pid = window.client.pid
    window.run({"workload": "user", "user": f"{FAULTS}:sleep_forever"})
    store = window.timeline.store
    qtbot.waitUntil(lambda: any(t == 0 for _, t, _ in store.open_bars()), timeout=20000)
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=2000)
    window.timeline.refresh()
    d = window.timeline.gantt.data
    assert d is not None
    stopped_tasks = d.task[d.is_stopped].tolist()
    assert 0 in stopped_tasks  # the task that never returned: stopped, not failed
    assert not d.is_error[d.task == 0].any()
    stopped = QColor(window.theme.stopped).rgb() & 0xFFFFFF
    assert stopped in _gantt_colours(window.timeline)
    # the lab had a thread stuck: the window restarted it and said so in one line
    qtbot.waitUntil(
        lambda: window.client.is_alive() and window.client.pid != first_pid, timeout=20000
    )
    assert "restarted" in window.banner.text()
    # and the next run just works
    configure(window, strategy="threads", workers=2, tasks=4, task_ms=5, workload="io-sleep")
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    window.timeline.refresh()
    d = window.timeline.gantt.data
    assert sorted(d.task[~d.is_stopped & (d.kind == 0)].tolist()) == [0, 1, 2, 3]
    assert not np.any(d.is_stopped)


def test_the_legend_names_the_stopped_colour(window):
    from concviz.ui.legend import LegendBar

    legend = window.findChild(LegendBar)
    assert legend is not None
    keys = [key for _, key in legend._swatches]
    assert "stopped" in keys
    sw = next(sw for sw, key in legend._swatches if key == "stopped")
    # drawn as a stopped bar is: the stopped grey under a hatch
    image = sw.pixmap().toImage()
    colours = {image.pixelColor(x, image.height() // 2).name() for x in range(image.width())}
    assert window.theme.stopped.lower() in colours and len(colours) >= 2, colours
