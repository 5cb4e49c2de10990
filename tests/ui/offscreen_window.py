"""A real main window in a process of its own, on an offscreen screen of a given size:
for tests of what fits the screen (Qt reads the screen's size once, at start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# The window up, its lab answered, in the mode given as the first argument; the body
# that follows prints its findings as JSON on the last line.
WINDOW_UP = r"""
import json, sys, time
from PySide6.QtCore import QPoint, QRect, QSettings
from PySide6.QtWidgets import QApplication
from concviz.ui.main_window import MainWindow

app = QApplication([])
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
win = MainWindow(settings=settings)
win.show()
end = time.monotonic() + 30
while not win.controls.strategy_buttons and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
if sys.argv[1] == "presentation":
    win.set_presentation(True)
"""


def run_window_script(tmp_path, body: str, size: tuple[int, int], mode: str) -> dict:
    """Run ``WINDOW_UP + body`` on a ``size`` screen in ``mode``; its JSON findings."""
    w, h = size
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": w,
        "height": h, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screen}"}
    done = subprocess.run(
        [sys.executable, "-c", WINDOW_UP + body, mode, str(tmp_path / "c.ini")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
