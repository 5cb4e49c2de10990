"""What the window's start does not pay for (every Qt class made up front), and the
Workers control that replaced superqt's.

``concviz bench startup`` times the start; these tests check the two causes found
(0.3 s and 0.6 s of a 1.7 s start) stay away, in a process of their own.
"""

from __future__ import annotations

import json
import subprocess
import sys

from PySide6.QtCore import Qt

_PROBE = """
import json, sys
import concviz.ui.main_window  # what the window imports, pyqtgraph among it
import pyqtgraph as pg
import PySide6.QtCore as C
from pyqtgraph.Qt import QtCore, QtWidgets
print(json.dumps({
    "copied": sorted(n for n in vars(QtCore) if n.startswith("Q"))[:50],
    "resolves": [QtCore.QObject is C.QObject, QtWidgets.QWidget.__name__ == "QWidget",
                 pg.QtCore.Signal is C.Signal],
    "pyside_names": len(dir(C)),
    "finders": [type(f).__name__ for f in sys.meta_path],
    "qtpy": "qtpy" in sys.modules,
}))
"""


def test_pyqtgraph_imports_without_copying_every_qt_class():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    found = json.loads(out.stdout.splitlines()[-1])
    # pyqtgraph's mirror of QtCore holds only what pyqtgraph put there itself, not the
    # ~250 classes its copying loop would have made (all of them, with their enums)
    assert len(found["copied"]) < 20, found["copied"]
    assert all(found["resolves"]), found  # yet every name is there when asked for
    assert found["pyside_names"] > 200  # PySide6 lists its names again afterwards
    assert "_Finder" not in found["finders"]  # and the import hook is gone
    assert not found["qtpy"]  # no star import of every class through qtpy either


def test_the_workers_box_and_slider_move_together_and_report_once(qtbot):
    from concviz.ui import app_style
    from concviz.ui import theme as T
    from concviz.ui.control_bar import ControlBar

    bar = ControlBar()
    bar.setStyleSheet(app_style.stylesheet(T.LIGHT))  # the window's style, arrows' room and all
    qtbot.addWidget(bar)
    bar.show()
    chosen: list[int] = []
    bar.workersChosen.connect(chosen.append)
    w = bar.workers
    # typing a count into the box: the slider follows, one choice reaches the window
    w.box.selectAll()
    qtbot.keyClicks(w.box, "3")
    qtbot.keyClick(w.box, Qt.Key.Key_Return)
    assert w.value() == 3 and w.slider.value() == 3
    qtbot.waitUntil(lambda: chosen == [3], timeout=2000)
    # the keyboard on the slider: the box follows; three presses are one choice
    w.slider.setFocus()
    for _ in range(3):
        qtbot.keyClick(w.slider, Qt.Key.Key_Left)
    assert w.box.value() == w.value() == max(1, 3 - 3)
    qtbot.waitUntil(lambda: len(chosen) == 2, timeout=2000)
    qtbot.wait(400)
    assert chosen == [3, w.value()]
    # a range that excludes the value brings it in; the box is as wide as its digits
    narrow = w.box.width()
    w.setRange(1, 1000)
    assert w.maximum() == 1000 and w.box.maximum() >= 1000
    w.setValue(1000)
    qtbot.waitUntil(lambda: w.box.width() > narrow, timeout=2000)  # the layout's next pass
    edit = w.box.lineEdit()  # the digits are seen (the style's arrows once left one pixel)
    assert edit.width() >= edit.fontMetrics().horizontalAdvance("1000"), edit.width()


def test_a_count_typed_in_the_workers_box_is_the_one_return_runs_with(window, qtbot):
    """Return is the window's Run shortcut: a count typed into the box and Return ran
    with the count from before the typing, while the box changed only on Return."""
    c = window.controls
    c.set_workload("io-sleep")
    c.tasks.setValue(4)
    c.task_ms.setValue(5)
    box = c.workers.box
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "3")
    qtbot.keyClick(box, Qt.Key.Key_Return)  # through the shortcut map, as a key press is
    qtbot.waitUntil(lambda: len(window.session.runs) == 1 and not window.running, timeout=20000)
    assert window.session.runs[0].result["workers"] == 3
    assert c.workers.slider.value() == 3
    # past the control's top (2 x the cores for CPU work): 12 typed was cut to its
    # first digit and ran 1 worker; it is now the most allowed
    c.set_workload("cpu-python")
    c.tasks.setValue(2)
    top = c.workers.maximum()
    assert top < 12
    box.selectAll()
    qtbot.keyClicks(box, "12")
    assert box.value() == top and c.workers.value() == top
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.session.runs) == 2 and not window.running, timeout=20000)
    assert window.session.runs[1].result["workers"] == top
