"""On a 720p projector the lessons dock beside the timeline: nothing of the window is
under the panel, the window stays on the screen, and the parameter line comes back
when the panel closes. (Floating over the window, the panel hid Run, Stop and the
summary's speedup and efficiency.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, sys, time
from PySide6.QtCore import QPoint, QRect, QSettings
from PySide6.QtWidgets import QApplication
from concviz.ui.main_window import MainWindow

app = QApplication([])
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
settings.setValue("lessons/welcomed", True)
win = MainWindow(settings=settings)
win.show()
end = time.monotonic() + 30
while not win.controls.strategy_buttons and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
if sys.argv[1] == "presentation":
    win.set_presentation(True)
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
}
sweep = win.pages.widget(win.pages.count() - 1)
win.show_page(sweep)
settle()
on_sweep = {"window_inside": screen.contains(win.frameGeometry()),
            "panel_inside": screen.contains(rect(panel))}
win.show_page(win.timeline_page)
panel.close()
settle()
print(json.dumps({"opened": opened, "sweep": on_sweep,
                  "closed_params_shown": win.controls.params_box.isVisible()}))
win.close(); win.shutdown()
"""


@pytest.mark.parametrize("mode", ["normal", "presentation"])
def test_lessons_dock_beside_the_timeline_on_a_720p_screen(tmp_path, mode):
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": 1280,
        "height": 720, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screen}"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(tmp_path / "c.ini")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    opened = got["opened"]
    assert not opened["floating"], opened
    assert opened["panel_inside"] and opened["window_inside"], opened
    # the lesson's Run this sets the parameters: their line gives the panel its room
    assert not opened["params_shown"], opened
    for part in ("run", "stop", "summary", "timeline"):
        assert opened[part]["visible"] and opened[part]["inside"], (part, opened[part])
        assert not opened[part]["under_panel"], (part, opened[part])
    # a wider page (the sweep's fields) never pushes the window past the screen
    assert got["sweep"]["window_inside"] and got["sweep"]["panel_inside"], got["sweep"]
    assert got["closed_params_shown"], got
