"""Notes on the timeline: a real double-click drops one, it is drawn, saved and reopened."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from .conftest import configure


def _double_click_at(window, qtbot, t_s: float) -> None:
    """A double-click on the Gantt at ``t_s`` seconds, half-way down its rows, as a
    window system sends it: press, release, double-click, release. (QTest's own
    double-click sends a second press before the double-click, which X11 does not.)"""
    timeline = window.timeline
    vb = timeline.gantt_plot.vb
    (_x, (y0, y1)) = vb.viewRange()
    where = timeline.mapFromScene(vb.mapViewToScene(QPointF(t_s, (y0 + y1) / 2)))
    vp, left = timeline.viewport(), Qt.MouseButton.LeftButton
    qtbot.mousePress(vp, left, pos=where)
    qtbot.mouseRelease(vp, left, pos=where)
    local = QPointF(where)
    double = QMouseEvent(
        QEvent.Type.MouseButtonDblClick,
        local,
        vp.mapToGlobal(local),
        left,
        left,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(vp, double)
    qtbot.mouseRelease(vp, left, pos=where)


def _answer(window, qtbot, text: str) -> None:
    qtbot.waitUntil(lambda: window.notes.dialog is not None, timeout=3000)
    dialog = window.notes.dialog
    dialog.setTextValue(text)
    dialog.accept()
    QApplication.processEvents()


def test_a_double_click_drops_a_note_that_is_saved_and_reopened(window, qtbot, tmp_path):
    configure(window, strategy="threads", workers=2, tasks=6, task_ms=30)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    run = window.shown_run
    assert run is not None and run.finished
    window.timeline.zoom_to_fit()
    (x0, x1), _y = window.timeline.gantt_plot.vb.viewRange()
    t = x0 + (x1 - x0) * 0.4

    _double_click_at(window, qtbot, t)
    _answer(window, qtbot, "  both threads   start here ")
    assert len(run.annotations) == 1
    note = run.annotations[0]
    assert note["text"] == "both threads start here"
    per_px = (x1 - x0) / window.timeline.gantt_plot.vb.width()
    assert abs(note["t_s"] - t) < 3 * per_px, (note, t)
    assert [line.label.toPlainText() for line in window.notes.lines] == [
        "✎ both threads start here"
    ]
    assert window.isWindowModified()

    # a double-click on the note edits it; an empty text removes it
    _double_click_at(window, qtbot, note["t_s"])
    assert window.notes.dialog.textValue() == "both threads start here"
    _answer(window, qtbot, "edited")
    assert [n["text"] for n in run.annotations] == ["edited"]
    window.note_action.trigger()  # Run → Add a note…, at the pointer or the middle
    _answer(window, qtbot, "second")
    assert sorted(n["text"] for n in run.annotations) == ["edited", "second"]

    # saved and opened again: the notes come back, drawn
    from concviz.interop.session_file import load_session, save_session

    path = tmp_path / "notes.concviz"
    save_session(window.session, path)
    again = load_session(path)
    assert [n["text"] for n in again.runs[-1].annotations] == [n["text"] for n in run.annotations]
    window.show_run(None)
    assert window.notes.lines == []
    window.show_run(run)
    assert len(window.notes.lines) == 2

    i = next(k for k, n in enumerate(run.annotations) if n["text"] == "edited")
    _double_click_at(window, qtbot, run.annotations[i]["t_s"])
    _answer(window, qtbot, "")
    assert [n["text"] for n in run.annotations] == ["second"]
    assert len(window.notes.lines) == 1


def test_malformed_notes_from_a_file_are_left_undrawn_not_a_crash(window, qtbot):
    configure(window, strategy="sequential", workers=1, tasks=2, task_ms=10)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    run = window.shown_run
    run.annotations[:] = [
        {"t_s": "soon", "text": 3},
        {"t_s": float("nan")},
        {"t_s": True, "text": "a bool is not a time"},
        {"kind": "from a trace"},
        {"t_s": 0.01, "text": "x" * 500},
    ]
    window.show_run(run)
    assert [len(line.label.toPlainText()) for line in window.notes.lines] == [2 + 120]
    assert window.notes.near(0.01) == 4 and window.notes.near(5.0) is None
