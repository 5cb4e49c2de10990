"""The real window on a real X server (Xvfb): a short run, then a screenshot that is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = """
import sys
from concviz.ui.screenshot import render
render(sys.argv[1], {"workload": "cpu-python", "strategy": "threads", "workers": 2,
                     "tasks": 8, "task_ms": 20})
"""


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_real_window_under_xvfb_renders_a_run(tmp_path):
    out = tmp_path / "shot.png"
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # the real xcb platform, on Xvfb's display
    env.pop("DISPLAY", None)
    proc = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-c", SCRIPT, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert img.width() >= 800 and img.height() >= 600
    # not blank: many distinct colours, and the bars' blue is among them
    colours = set()
    for y in range(0, img.height(), 7):
        for x in range(0, img.width(), 7):
            colours.add(img.pixel(x, y))
    assert len(colours) > 20
