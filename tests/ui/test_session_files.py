"""The window's files, driven as a user would: runs saved with Ctrl+S / Save as, opened
again in another window exactly, recent files, the title's unsaved mark, the question
before unsaved runs are lost, a trace opened on the Gantt, a bad file refused."""

from __future__ import annotations

import gzip
import json

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from .conftest import configure


def _run_and_wait(window, qtbot, **params) -> None:
    configure(window, **params)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)


def _wait_files(window, qtbot) -> None:
    qtbot.waitUntil(lambda: not window.files.busy, timeout=30000)


def _same_store(a, b) -> None:
    info_a, cols_a = a.state()
    info_b, cols_b = b.state()
    # the frozen wait split is a cache a window fills as it draws (either may have it)
    cols_a.pop("waits.frozen", None)
    cols_b.pop("waits.frozen", None)
    assert info_a == info_b
    assert cols_a.keys() == cols_b.keys()
    for name in cols_a:
        assert np.array_equal(cols_a[name], cols_b[name], equal_nan=True), name


def _second_window(qtbot, tmp_path):
    from concviz.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "second.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, start_lab=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    return win


def test_saved_runs_reopen_identical_in_another_window(window, qtbot, tmp_path, monkeypatch):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=4, task_ms=20)
    _run_and_wait(window, qtbot, strategy="threads", workers=2, tasks=4, task_ms=20)
    qtbot.wait(800)  # a run keeps the CPU samples of the half second after its end
    assert window.isWindowModified() and "untitled" in window.windowTitle()
    path = tmp_path / "lesson.concviz"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "lesson"), ""))
    )
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # no file yet: asks
    _wait_files(window, qtbot)
    assert path.exists() and window.session.path == str(path)
    assert not window.isWindowModified() and window.windowTitle().startswith("lesson.concviz")

    window.session.rename(window.session.runs[0], "the baseline")  # a change marks the title
    assert window.isWindowModified()
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # same file
    _wait_files(window, qtbot)
    assert not window.isWindowModified()

    other = _second_window(qtbot, tmp_path)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    other.open_action.trigger()  # File → Open, the real action
    _wait_files(other, qtbot)
    before, after = window.session.runs, other.session.runs
    assert [r.name for r in after] == ["the baseline", before[1].name]
    for a, b in zip(before, after, strict=True):
        _same_store(a.store, b.store)
        assert a.result == b.result and a.spec == b.spec
        assert np.array_equal(a.cpu.percent, b.cpu.percent)
    assert other.session.speedup(after[1]) == window.session.speedup(before[1])
    assert other.shown_run is after[1]  # the last run is on screen, with its bars
    other.timeline.refresh()
    assert other.timeline.gantt.data is not None and len(other.timeline.gantt.data.task) >= 4
    assert other.windowTitle().startswith("lesson.concviz") and not other.isWindowModified()
    assert other.files.recent()[0] == str(path)
    other.close()
    other.shutdown()


def test_recent_files_open_and_a_missing_one_is_taken_off(window, qtbot, tmp_path):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=3, task_ms=10)
    path = tmp_path / "kept.concviz"
    assert window.files.save_as(str(path))
    _wait_files(window, qtbot)
    gone = tmp_path / "gone.concviz"
    window.files._remember(str(gone))
    menu = window.files.recent_menu
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert any("gone.concviz" in t for t in texts) and any("kept.concviz" in t for t in texts)
    next(a for a in menu.actions() if "gone.concviz" in a.text()).trigger()
    assert "not there any more" in window.banner.text()
    assert str(gone) not in window.files.recent()
    window.session.remove(window.session.runs[0])
    menu.aboutToShow.emit()
    next(a for a in menu.actions() if "kept.concviz" in a.text()).trigger()
    _wait_files(window, qtbot)
    assert len(window.session.runs) == 1 and window.session.path == str(path)


def _answer_next_question(button) -> None:
    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)


def test_closing_with_unsaved_runs_asks_first(window, qtbot):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=3, task_ms=10)
    window.files.ask = True  # the offscreen platform skips the question otherwise
    _answer_next_question(QMessageBox.StandardButton.Cancel)
    window.close()
    assert window.isVisible() and window.session.runs  # Cancel: nothing lost
    _answer_next_question(QMessageBox.StandardButton.Discard)
    window.close()
    assert not window.isVisible()


def test_a_trace_from_another_tool_opens_on_the_gantt(window, qtbot, tmp_path):
    events = [
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 11, "args": {"name": "MainThread"}},
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 12, "args": {"name": "worker-a"}},
    ]
    for tid in (11, 12):
        for k in range(5):
            events.append(
                {"ph": "X", "name": f"job{k}", "pid": 1, "tid": tid, "ts": k * 1000, "dur": 800}
            )
            events.append(  # nested: kept, but not a bar of its own
                {"ph": "X", "name": "inner", "pid": 1, "tid": tid, "ts": k * 1000 + 10, "dur": 50}
            )
    path = tmp_path / "trace.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"traceEvents": events}).encode()))
    assert window.open_file(str(path))
    _wait_files(window, qtbot)
    run = window.shown_run
    assert run is not None and run.source == "trace" and window.session.runs == [run]
    window.timeline.refresh()
    data = window.timeline.gantt.data
    assert len(data.task) == 10  # the top-level slices only
    labels = [r.label for r in data.rows]
    assert any("worker-a" in label for label in labels), labels
    assert window.session.path is None and not window.isWindowModified()


def test_a_bad_file_is_one_sentence_and_keeps_the_session(window, qtbot, tmp_path):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=3, task_ms=10)
    bad = tmp_path / "broken.concviz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    assert window.open_file(str(bad))
    _wait_files(window, qtbot)
    text = window.banner.text()
    assert text.startswith("Cannot open broken.concviz:") and "Traceback" not in text
    assert len(window.session.runs) == 1  # nothing was replaced
