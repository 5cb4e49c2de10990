"""Your own code reached the way a user reaches it: the File menu, Ctrl+O, a dropped file,
and ``concviz screenshot -w file.py:function``."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog


def _marking_file(tmp_path, name: str = "marks.py") -> tuple[str, str]:
    """A workload file whose ``mark`` leaves a file per task, so a run of it is visible."""
    marks = tmp_path / "marks"
    marks.mkdir(exist_ok=True)
    f = tmp_path / name
    f.write_text(
        "import os\n"
        "def helper(i):\n    pass\n"
        f"def mark(i):\n    open(os.path.join({str(marks)!r}, str(i)), 'w').close()\n"
    )
    return str(f), str(marks)


def _run_and_wait(window, qtbot) -> dict:
    window.controls.tasks.setValue(4)
    window.controls.set_strategy("threads")
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    return window.summary.last


def test_the_open_action_asks_for_a_file_and_a_function_and_runs_it(
    window, qtbot, tmp_path, monkeypatch
):
    path, marks = _marking_file(tmp_path)
    asked: list[str] = []

    def choose_file(*args, **kwargs):
        asked.append("file")
        return path, "Python files (*.py)"

    def choose_function(parent, title, label, items, current, editable):
        asked.append("function")
        assert items == ["helper", "mark"]
        return "mark", True

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose_file))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(choose_function))
    window.open_action.trigger()  # the real action: `checked` must not become the path
    assert asked == ["file", "function"]
    assert window.controls.workload.currentText() == "marks.py:mark"
    run = _run_and_wait(window, qtbot)
    assert run is not None and all(t["ok"] for t in run["tasks"])
    assert sorted(os.listdir(marks)) == ["0", "1", "2", "3"]


def test_ctrl_o_opens_the_file_dialog(window, qtbot, monkeypatch):
    asked: list[bool] = []
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        staticmethod(lambda *a, **k: (asked.append(True), ("", ""))[1]),
    )
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    assert window.banner.text() == "" or not window.banner.isVisible()  # cancelled: no error


def test_a_dropped_python_file_becomes_the_workload(window, qtbot, tmp_path, monkeypatch):
    path, marks = _marking_file(tmp_path)
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("mark", True)))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    pos = QPointF(window.width() / 2, window.height() / 2)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, drop)
    assert window.controls.workload.currentText() == "marks.py:mark"
    _run_and_wait(window, qtbot)
    assert sorted(os.listdir(marks)) == ["0", "1", "2", "3"]
    # anything but one .py file is refused at the door
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    refused = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, other, buttons, mods)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_screenshot_runs_the_named_user_function(tmp_path):
    path, marks = _marking_file(tmp_path)
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "concviz", "screenshot", str(out), "-w", f"{path}:mark",
         "-s", "threads", "--tasks", "3"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 10_000
    assert sorted(os.listdir(marks)) == ["0", "1", "2"]
