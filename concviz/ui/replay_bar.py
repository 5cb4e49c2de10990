"""Replay: a finished or saved run played again as it happened, bars growing live.

A bar under the views with play/pause, a speed (0.25× to 4×), a scrubber and the
time. Each frame draws ``model.replay.store_at(run.store, t)`` in the timeline, with
the running tasks grown to ``t``; the CPU panel keeps the run's whole CPU line. When
the replay reaches the end (or the bar is closed) the run is shown whole again.

Threads: GUI thread only.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

from concviz.model.replay import span, store_at
from concviz.model.session import Run

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
FRAME_MS = 33  # about 30 frames a second: a replay is for watching, not measuring
STEPS = 1000  # the scrubber's resolution


class ReplayBar(QWidget):
    """Plays one run into a timeline (``TimelineView.show_frame``)."""

    finished = Signal()  # the replay reached the end or was closed

    def __init__(self, timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.run: Run | None = None
        self.t0 = self.t1 = 0
        self.t = 0
        self._last_tick = 0.0
        self._shown_t: int | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        self.title = QLabel("Replay")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._toggled)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("how fast the run is played back (1× = as it happened)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, STEPS)
        self.slider.sliderMoved.connect(self._scrubbed)
        self.time_label = QLabel("")
        self.close_button = QPushButton("Close replay")
        self.close_button.clicked.connect(lambda _checked=False: self.stop())
        for w in (self.title, self.play_button, self.speed):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.time_label)
        lay.addWidget(self.close_button)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.hide()

    @property
    def active(self) -> bool:
        return self.run is not None

    def start(self, run: Run, speed: float | None = None) -> None:
        """Replay ``run`` from its start (it must have finished)."""
        self.run = run
        self.t0, self.t1 = span(run.store)
        self.t = self.t0
        self._shown_t = None
        if speed is not None:
            self.speed.setCurrentIndex(SPEEDS.index(speed))
        self.title.setText(f"Replay of {run.name}")
        self.show()
        self.timeline.zoom_to_fit()  # the whole run's width: bars grow into it
        self._draw()
        self.play_button.setChecked(True)

    def stop(self, quiet: bool = False) -> None:
        """End the replay; ``finished`` tells the window to show the run whole again
        (``quiet``: the window is showing something else anyway)."""
        if self.run is None:
            return
        self.timer.stop()
        self.run = None
        self.play_button.setChecked(False)
        self.hide()
        if not quiet:
            self.finished.emit()

    def _toggled(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing and self.run is not None:
            if self.t >= self.t1:
                self.t = self.t0  # played to the end: from the start again
            self._last_tick = time.perf_counter()
            self.timer.start()
        else:
            self.timer.stop()

    def _scrubbed(self, value: int) -> None:
        if self.run is None:
            return
        self.t = self.t0 + round((self.t1 - self.t0) * value / STEPS)
        self._draw()

    def _tick(self) -> None:
        now = time.perf_counter()
        step = (now - self._last_tick) * float(self.speed.currentData()) * 1e9
        self._last_tick = now
        self.t = min(self.t1, self.t + round(step))
        self._draw()
        if self.t >= self.t1:
            self.timer.stop()
            self.play_button.setChecked(False)
            self.stop()

    def _draw(self) -> None:
        run = self.run
        if run is None or self.t == self._shown_t:
            return
        self._shown_t = self.t
        self.timeline.show_frame(store_at(run.store, self.t), self.t)
        self.timeline.refresh()
        total = (self.t1 - self.t0) / 1e9
        self.time_label.setText(f"{(self.t - self.t0) / 1e9:.2f} / {total:.2f} s")
        if not self.slider.isSliderDown() and self.t1 > self.t0:
            self.slider.setValue(round(STEPS * (self.t - self.t0) / (self.t1 - self.t0)))
