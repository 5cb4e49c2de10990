"""The window fits a 720p projector and a full-HD screen, in normal and presentation mode:
the time axis, the CPU panel, Run and Stop are on the screen, at a readable size."""

from __future__ import annotations

import pytest

from .offscreen_window import run_window_script

SCRIPT = r"""  # after WINDOW_UP (offscreen_window.py): the window up, in the mode asked
# after a run too: the summary, the legend (the measured wait colours) and the status
# line fill up, and none of it may widen the window past the screen
c = win.controls
c.set_workload("cpu-python"); c.set_strategy("threads"); c.tasks.setValue(6); c.task_ms.setValue(20)
win.run()
end = time.monotonic() + 60
while win.running and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
for _ in range(50):
    app.processEvents(); time.sleep(0.01)
screen = win.screen().geometry()

def on_screen(widget, rect=None):
    rect = rect or widget.rect()
    top_left = widget.mapToGlobal(rect.topLeft())
    g = QRect(top_left, rect.size())
    return {"inside": screen.contains(g), "visible": widget.isVisible(), "h": g.height(),
            "w": g.width()}

def item_on_screen(item):
    view = win.timeline
    r = view.mapFromScene(item.sceneBoundingRect()).boundingRect()
    out = on_screen(view, r)
    out["inside"] = out["inside"] and view.rect().contains(r)
    return out

frame = win.frameGeometry()
print(json.dumps({
    "window": {"inside": screen.contains(frame), "w": frame.width(), "h": frame.height()},
    # the axis's title, the last line of it: all of it must be readable
    "time_axis": item_on_screen(win.timeline.cpu.total.getAxis("bottom").label),
    "cpu_heat": item_on_screen(win.timeline.cpu.heat),
    "cpu_total": item_on_screen(win.timeline.cpu.total),
    "run": on_screen(win.controls.run_button),
    "stop": on_screen(win.controls.stop_button),
    "strategy": on_screen(win.controls.strategy_combo) if win.controls.compact
                else on_screen(win.controls.strategy_line),
    # the runs panel: its list, its newest row and its Compare all button
    "runs": on_screen(win.runs_panel.view),
    "runs_row": on_screen(win.runs_panel.view.viewport(),
                          win.runs_panel.view.visualRect(win.runs_panel.model.index(0, 2))),
    "compare_all": on_screen(win.runs_panel.compare_all_button),
}))
win.close(); win.shutdown()
"""


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
@pytest.mark.parametrize("mode", ["normal", "presentation"])
def test_the_window_fits_the_screen(tmp_path, size, mode):
    got = run_window_script(tmp_path, SCRIPT, size, mode)
    assert got["window"]["inside"], got["window"]
    parts = ("time_axis", "cpu_heat", "cpu_total", "run", "stop", "strategy", "runs", "runs_row",
             "compare_all")  # fmt: skip
    for part in parts:
        assert got[part]["visible"] and got[part]["inside"], f"{part}: {got[part]}"
    # not squeezed to a sliver: the CPU heatmap and the axis keep a readable height
    assert got["cpu_heat"]["h"] >= 50, got["cpu_heat"]
    assert got["time_axis"]["h"] >= 12, got["time_axis"]


SHORT = r"""
win.banner.show_message("Other programs used 1.1 cores during this run.", "warning")
win.resize(1097, 400)  # dragged short, or restored so from an earlier sitting
for _ in range(30):
    app.processEvents(); time.sleep(0.01)
v = win.timeline
axis = v.mapFromScene(v.cpu.total.getAxis("bottom").label.sceneBoundingRect()).boundingRect()
print(json.dumps({
    "pages_min": win.pages.minimumSizeHint().height(), "view_min": v.minimumHeight(),
    "view_h": v.height(), "axis_in_view": v.rect().contains(axis),
    "window_inside": win.screen().geometry().contains(win.frameGeometry()),
}))
win.close(); win.shutdown()
"""


@pytest.mark.parametrize("mode", ["normal", "presentation"])
def test_a_window_made_short_keeps_the_time_axis(tmp_path, mode):
    """A window dragged (or restored from an earlier sitting) shorter than the timeline
    needs is held at the height its three plots need, so the busy plot and the time
    axis stay in the view. The view pages' minimum once left the timeline's own out:
    under X11 a window of 526 px showed the workers and the cores, no busy plot and
    no axis (the window's minimum knew nothing of the plots' 284 px)."""
    got = run_window_script(tmp_path, SHORT, (1280, 720), mode)
    assert got["pages_min"] >= got["view_min"], got
    assert got["view_h"] >= got["view_min"] and got["axis_in_view"], got
    assert got["window_inside"], got


CONTINUOUS = r"""
win.banner.show_message("Other programs used 1.1 cores during this run.", "warning")
c = win.controls
c.set_workload("cpu-python"); c.set_strategy("threads"); c.task_ms.setValue(20)
c.set_continuous(True)
before = win.frameGeometry().getRect()
win.run()
end = time.monotonic() + 30
while not win.segments_panel.isVisible() and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
for _ in range(30):
    app.processEvents(); time.sleep(0.01)
got = {"panel": win.segments_panel.isVisible(), "summary": win.summary.isVisible(),
       "before": before, "during": win.frameGeometry().getRect(),
       "inside": win.screen().geometry().contains(win.frameGeometry())}
win.stop()
end = time.monotonic() + 20
while win.running and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
print(json.dumps(got))
win.close(); win.shutdown()
"""


def test_a_continuous_run_keeps_the_window_on_a_720p_screen(tmp_path):
    """A continuous run swaps the summary for its segments panel. Shown before the
    summary went, the panel asked the window for both at once, and Qt grew the window
    past the screen's bottom, where it stayed (1097x751 on a 1280x720 projector, with a
    banner up; the summary and the last line under the screen's edge)."""
    got = run_window_script(tmp_path, CONTINUOUS, (1280, 720), "normal")
    assert got["panel"] and not got["summary"], got
    assert got["inside"], got
    assert got["during"][3] <= got["before"][3], got  # no taller than before the run
