"""On a 720p projector the lessons dock beside the timeline: nothing of the window is
under the panel, the window stays on the screen, and the parameter line comes back
when the panel closes. (Floating over the window, the panel hid Run, Stop and the
summary's speedup and efficiency.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from .offscreen_window import run_window_script

SCRIPT = r"""  # after WINDOW_UP (offscreen_window.py): the window up, in the mode asked
def settle():
    for _ in range(30):
        app.processEvents(); time.sleep(0.01)
settle()
win.lessons_action.trigger()  # F1, as the menu and the key do
settle()
panel = win.lessons_panel
screen = win.screen().geometry()
def rect(w):
    return QRect(w.mapToGlobal(QPoint(0, 0)), w.size())
def clear(w):
    r = rect(w)
    return {"visible": w.isVisible(), "inside": screen.contains(r),
            "under_panel": r.intersects(rect(panel))}
opened = {
    "floating": panel.isFloating(), "panel_inside": screen.contains(rect(panel)),
    "window_inside": screen.contains(win.frameGeometry()), "frame": win.frameGeometry().getRect(), "min": win.minimumSizeHint().width(), "panel_rect": rect(panel).getRect(),
    "params_shown": win.controls.params_box.isVisible(),
    "run": clear(win.controls.run_button), "stop": clear(win.controls.stop_button),
    "summary": clear(win.summary), "timeline": clear(win.timeline),
    # the legend's lines and the view tabs: whole, not under the timeline
    "legend_under_timeline": rect(win.legend).intersects(rect(win.pages)),
    "tabs_under_timeline": rect(win.view_tabs).intersects(rect(win.pages)),
    "tabs": clear(win.view_tabs),
}
# the step's runs, shown in the compare view; then the Timeline tab: the summary's
# notes name the lesson's baseline at length (one line each floated the panel)
panel.run_step()
end = time.monotonic() + 90
while panel._pending is not None and time.monotonic() < end:
    app.processEvents(); time.sleep(0.02)
settle()
win.view_tabs.setCurrentIndex(0)
settle()
after_step = {"floating": panel.isFloating(), "window_inside": screen.contains(win.frameGeometry()),
              "speedup_note": win.summary.notes["speedup"].text(),
              "summary": clear(win.summary)}
sweep = win.pages.widget(win.pages.count() - 1)
win.show_page(sweep)
settle()
on_sweep = {"window_inside": screen.contains(win.frameGeometry()), "floating": panel.isFloating(),
            "plots_inside": rect(win.sweep_view.view).right() < rect(panel).left(),
            "panel_inside": screen.contains(rect(panel))}
win.show_page(win.timeline_page)
panel.close()
settle()
print(json.dumps({"opened": opened, "sweep": on_sweep, "after_step": after_step,
                  "closed_params_shown": win.controls.params_box.isVisible()}))
win.close(); win.shutdown()
"""


@pytest.mark.parametrize("mode", ["normal", "presentation"])
def test_lessons_dock_beside_the_timeline_on_a_720p_screen(tmp_path, mode):
    got = run_window_script(tmp_path, SCRIPT, (1280, 720), mode)
    opened = got["opened"]
    assert not opened["floating"], opened
    assert opened["panel_inside"] and opened["window_inside"], opened
    # the lesson's Run this sets the parameters: their line gives the panel its room
    assert not opened["params_shown"], opened
    # the legend took a line more for the tabs as the panel opened, and the timeline
    # stayed where it was, over the CPU row and the tabs (1280x720, presentation)
    assert not opened["legend_under_timeline"] and not opened["tabs_under_timeline"], opened
    for part in ("run", "stop", "summary", "timeline", "tabs"):
        assert opened[part]["visible"] and opened[part]["inside"], (part, opened[part])
        assert not opened[part]["under_panel"], (part, opened[part])
    after = got["after_step"]
    assert after["speedup_note"], after  # the step's run is shown, against its baseline
    assert not after["floating"] and after["window_inside"], after
    assert after["summary"]["visible"] and not after["summary"]["under_panel"], after
    # a wider page (the sweep's fields) never pushes the window past the screen
    assert got["sweep"]["window_inside"] and got["sweep"]["panel_inside"], got["sweep"]
    # the sweep's fields take two rows rather than float the panel over the plots
    assert not got["sweep"]["floating"] and got["sweep"]["plots_inside"], got["sweep"]
    assert got["closed_params_shown"], got


RUNS_PANEL = r"""  # after WINDOW_UP: compare beside the lessons at full HD, then close them
import pathlib
def settle():
    for _ in range(30):
        app.processEvents(); time.sleep(0.01)
win.runs_action.setChecked(True)
win.lessons_action.trigger(); settle()
rec = pathlib.Path(RECORDING)
win.files.open_path(str(rec))
end = time.monotonic() + 20
while (len(win.session.runs) < 2 or win.files.busy) and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
win.compare_runs([r.id for r in win.session.runs]); settle()
beside = {"runs_panel": win.runs_panel.isVisible(), "docked": not win.lessons_panel.isFloating(),
          "columns": win.compare_view.chart_columns}
win.lessons_panel.close(); settle()
print(json.dumps({"beside": beside, "closed_runs_panel": win.runs_panel.isVisible()}))
win.close(); win.shutdown()
"""


def test_the_compare_view_beside_the_lessons_takes_the_runs_panels_room(tmp_path):
    """At 1920×1080 in presentation mode the compare view's four charts stood in one
    narrow column between the lessons dock and the runs list: beside the lessons the
    runs list gives its room (the compare view names and colours its runs itself)."""
    recording = Path(__file__).resolve().parents[2] / "resources/lessons/recordings"
    script = RUNS_PANEL.replace("RECORDING", repr(str(recording / "race-conditions-1.concviz")))
    got = run_window_script(tmp_path, script, (1920, 1080), "presentation")
    assert got["beside"] == {"runs_panel": False, "docked": True, "columns": 2}, got
    assert got["closed_runs_panel"], got
