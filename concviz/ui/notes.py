"""Notes on the timeline: a teacher drops a labelled note on a run, kept with the run.

Double-click the Gantt (or Run → Add a note…, Ctrl+M, at the pointer's time or the
view's middle) and type a line: the note is a vertical line at that moment with its
text at the foot of the Gantt, stored in the run's ``annotations``
(``{"t_s": seconds since the run's start, "text": ...}``), so it is saved and opened
with the session, and replays with it. Double-clicking a note edits it; an empty text
removes it.

Threads: GUI thread only.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import QInputDialog, QLineEdit

from concviz.model.session import Run

# a double-click this close to a note (in pixels) edits it instead of adding one
NEAR_PX = 6.0
MAX_CHARS = 120


def when(note: dict) -> float | None:
    """A note's moment in seconds, or None for one that is not ours or is malformed (a
    session file from elsewhere may hold anything in its ``annotations``)."""
    t = note.get("t_s") if isinstance(note, dict) else None
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
        return None
    return float(t)


class Notes:
    """The shown run's notes, drawn on the window's timeline, and how they are added."""

    def __init__(self, window) -> None:
        self.window = window
        self.lines: list[pg.InfiniteLine] = []
        self.dialog: QInputDialog | None = None  # the open "note" dialog, if any
        self._pointer_s: float | None = None
        timeline = window.timeline
        timeline.scene().sigMouseClicked.connect(self._clicked)
        timeline.scene().sigMouseMoved.connect(self._moved)
        window.session.listen(self._session_event)

    # -- drawing
    def draw(self, run: Run | None = None) -> None:
        """Draw the notes of ``run`` (default: the shown run) over its Gantt."""
        run = run if run is not None else self.window.shown_run
        plot = self.window.timeline.gantt_plot
        for line in self.lines:
            plot.removeItem(line)
        self.lines.clear()
        if run is None:
            return
        theme = self.window.timeline.theme
        scale = self.window.timeline.scale
        font = self.window.timeline._font(1.0)
        for note in run.annotations:
            t = when(note)
            if t is None:
                continue  # a note of another kind (a trace's), or a malformed one
            line = pg.InfiniteLine(
                pos=t,
                angle=90,
                movable=False,
                pen=pg.mkPen(theme.foreground, width=2.0 * scale, style=Qt.PenStyle.DotLine),
                label=f"✎ {str(note.get('text', ''))[:MAX_CHARS]}",
                labelOpts={
                    "position": 0.93,
                    "color": theme.foreground,
                    "fill": QColor(theme.warning_base),
                    "anchors": [(0, 1), (0, 1)],
                },
            )
            line.label.setFont(font)
            line.setZValue(30)
            plot.addItem(line)
            self.lines.append(line)

    def _session_event(self, event: str, run: Run | None) -> None:
        if run is not None and run is self.window.shown_run and event in ("changed", "finished"):
            self.draw(run)

    # -- adding and editing
    def _moved(self, pos: QPointF) -> None:
        vb = self.window.timeline.gantt_plot.vb
        if vb.sceneBoundingRect().contains(pos):
            self._pointer_s = float(vb.mapSceneToView(pos).x())

    def _clicked(self, event) -> None:
        vb = self.window.timeline.gantt_plot.vb
        pos = event.scenePos()
        if not event.double() or not vb.sceneBoundingRect().contains(pos):
            return
        event.accept()
        self.ask(float(vb.mapSceneToView(pos).x()))

    def ask_here(self) -> None:
        """Run → Add a note…: at the pointer's moment when it is on the view, else the
        middle of the view."""
        (x0, x1), _y = self.window.timeline.gantt_plot.vb.viewRange()
        t = self._pointer_s
        self.ask(t if t is not None and x0 <= t <= x1 else (x0 + x1) / 2)

    def near(self, t_s: float) -> int | None:
        """The index of the shown run's note within NEAR_PX of ``t_s``, or None."""
        run = self.window.shown_run
        if run is None:
            return None
        vb = self.window.timeline.gantt_plot.vb
        (x0, x1), _y = vb.viewRange()
        per_px = (x1 - x0) / max(vb.width(), 1.0)
        best, gap = None, NEAR_PX * per_px
        for i, note in enumerate(run.annotations):
            t = when(note)
            if t is not None and abs(t - t_s) <= gap:
                best, gap = i, abs(t - t_s)
        return best

    def ask(self, t_s: float) -> None:
        """Open the note dialog for moment ``t_s`` of the shown run (a note there: edit)."""
        run = self.window.shown_run
        if run is None:
            self.window.statusBar().showMessage(
                "Run or open something first: notes go on a run.", 4000
            )
            return
        i = self.near(t_s)
        old = run.annotations[i] if i is not None else None
        at = when(old) if old is not None else max(0.0, t_s)
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Edit the note" if old is not None else "Add a note")
        dialog.setLabelText(
            f"A note at {at:.2f} s" + (" (empty: remove it)" if old is not None else "") + ":"
        )
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(str(old.get("text", ""))[:MAX_CHARS] if old is not None else "")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda text: self.put(run, at, text, i))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def put(self, run: Run, t_s: float, text: str, index: int | None = None) -> None:
        """Add (or, with ``index``, replace or, with no text, remove) a note of ``run``."""
        text = " ".join(text.split())[:MAX_CHARS]
        session = self.window.session
        if index is not None:
            session.unannotate(run, index)
        if text:
            session.annotate(run, {"t_s": round(float(t_s), 6), "text": text})
        self.draw()


def install(window, menu=None) -> Notes:
    """The timeline's notes and Run → Add a note… (Ctrl+M)."""
    notes = Notes(window)
    action = QAction("Add a &note…", window)
    action.setShortcut("Ctrl+M")
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip("A labelled note on the timeline, kept with the run (or double-click it)")
    action.triggered.connect(lambda _checked=False: notes.ask_here())
    if menu is not None:
        menu.addAction(action)
    window.addAction(action)  # in full screen too, where the menu bar hides
    window.note_action = action
    return notes
