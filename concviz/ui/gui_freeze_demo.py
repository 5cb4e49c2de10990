"""Why a Python GUI freezes: CPU-bound Python in a QThread of the window, then in the lab.

This is the one place where the window runs a workload itself (see ARCHITECTURE.md,
"One deliberate exception"): pure-Python arithmetic in ``QThread``s *inside this
process*, sharing the window's GIL. The window's own redraw tick is timed throughout
and plotted live; then the same work runs in the lab (another process, another GIL)
and the window stays smooth. Both phases stop within 1 s on request.

Threads: ``FreezeDemo`` methods run on the GUI thread; ``_PythonSpinner.run`` runs on
its own QThread (the deliberate exception) and only reads a ``threading.Event``.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThread, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from concviz.model.frame_stats import frame_intervals_ms, interval_stats
from concviz.runtime.batch_runner import BatchRunner, Job

from . import theme as T
from .plot_style import add_legend, lesson_plot, theme_plots

FRAME_MS = 16
LAB_TASK_MS = 100


class _PythonSpinner(QThread):
    """Pure-Python arithmetic for ``seconds`` of wall time, or until ``stop`` is set.

    It checks the stop flag every few hundred microseconds of work, so a stop takes
    effect at once. Deliberately runs in the window's process: that is the lesson.
    """

    def __init__(self, seconds: float, stop: threading.Event) -> None:
        super().__init__()
        self.setObjectName("concviz-freeze-demo-spinner")
        self._seconds = seconds
        self._stop = stop

    def run(self) -> None:
        end = time.perf_counter() + self._seconds
        x = 0
        while not self._stop.is_set() and time.perf_counter() < end:
            for i in range(2000):  # ~0.1-0.3 ms of bytecode per check
                x = (x * 31 + i) % 1_000_003


class FreezeDemo(QWidget):
    """Two phases, "window" then "lab"; ``phaseFinished(name, stats)`` after each.

    Threads: GUI thread only (the spinners and the lab runner have their own).
    """

    phaseFinished = Signal(str, object)  # "window" or "lab", interval_stats dict
    demoFinished = Signal()

    PHASE_NAMES = {
        "window": "work in a QThread INSIDE this window",
        "lab": "the same work in the lab (another process)",
    }

    def __init__(
        self,
        theme: T.Theme = T.LIGHT,
        seconds: float = 3.0,
        threads: int = 2,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("concviz — why a Python GUI freezes")
        self.theme = theme
        self.seconds = seconds
        self.threads = threads
        self.phase: str | None = None
        self.ticks: dict[str, list[float]] = {"window": [], "lab": []}
        self.stats: dict[str, dict] = {}
        self._phase_t0 = 0.0
        self._queue: list[str] = []
        self._first_phase: str | None = None
        self._stop = threading.Event()
        self._spinners: list[_PythonSpinner] = []
        self.runner = BatchRunner(self)

        lay = QVBoxLayout(self)
        big = QFont()
        big.setPointSizeF(T.BASE_POINT_SIZE * 1.5)
        big.setBold(True)
        head = QLabel("Why a Python GUI freezes")
        head.setFont(big)
        lay.addWidget(head)
        warn = QLabel(
            "⚠ Phase 1 runs CPU-bound Python in QThreads INSIDE this window's own process, "
            "on purpose: they share the window's GIL. concviz never does this otherwise. "
            "Phase 2 runs the same work in the lab, a separate process with its own GIL."
        )
        warn.setWordWrap(True)
        warn.setObjectName("warning")  # the application stylesheet colours it per theme
        lay.addWidget(warn)
        row = QHBoxLayout()
        self.window_button = QPushButton("1 · Work inside this window")
        self.lab_button = QPushButton("2 · Same work in the lab")
        self.both_button = QPushButton("Run both")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        for b in (self.window_button, self.lab_button, self.both_button, self.stop_button):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)

        self.plot = lesson_plot(
            theme, "ms between the window's frames", "seconds since the phase started"
        )
        p = self.plot.getPlotItem()
        add_legend(p, theme, T.BASE_POINT_SIZE * 1.2, offset=(-10, 10))
        self.smooth_line = pg.InfiniteLine(pos=1000 / 60, angle=0)  # a 60 Hz frame
        p.addItem(self.smooth_line)
        self.curves = {
            "window": p.plot(
                symbol="o", symbolSize=9, symbolPen=None, name=self.PHASE_NAMES["window"]
            ),
            "lab": p.plot(name=self.PHASE_NAMES["lab"]),
        }
        p.setYRange(0, 60)
        self._y_top = 60.0
        lay.addWidget(self.plot, 1)
        self.numbers = QLabel(
            "Press a button: the line shows how long each frame of this window took."
        )
        nf = QFont()
        nf.setPointSizeF(T.BASE_POINT_SIZE * 1.2)
        self.numbers.setFont(nf)
        self.numbers.setWordWrap(True)
        lay.addWidget(self.numbers)

        self.setStyleSheet(f"QPushButton {{ font-size: {T.BASE_POINT_SIZE * 1.1:.0f}pt; }}")
        self.set_theme(theme)
        self.window_button.clicked.connect(lambda: self.start(["window"]))
        self.lab_button.clicked.connect(lambda: self.start(["lab"]))
        self.both_button.clicked.connect(lambda: self.start(["window", "lab"]))
        self.stop_button.clicked.connect(self.stop)
        self.runner.jobStarted.connect(self._lab_started)
        self.runner.allFinished.connect(self._end_phase)
        self.runner.jobFailed.connect(
            lambda _i, msg: self.numbers.setText(f"The lab failed: {msg}")
        )

        self.timer = QTimer(self)
        self.timer.setTimerType(pg.QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def set_theme(self, theme: T.Theme) -> None:
        """Recolour the plot, its curves and the 60 Hz line (widgets follow the application)."""
        self.theme = theme
        theme_plots(self.plot, [self.plot.getPlotItem()], theme)
        self.smooth_line.setPen(pg.mkPen(theme.grid, width=2, style=pg.QtCore.Qt.DashLine))
        # the window phase is the bad news (error colour); the lab phase the bars' strong blue
        self.curves["window"].setPen(pg.mkPen(theme.error, width=2.5))
        self.curves["window"].setSymbolBrush(pg.mkBrush(theme.error))
        self.curves["lab"].setPen(pg.mkPen(theme.bars[2], width=2.5))

    # -- control
    def is_running(self) -> bool:
        return bool(self.phase or self._queue)

    def start(self, phases: list[str]) -> None:
        if self.is_running():
            return
        self._queue = list(phases)
        self._first_phase = phases[0] if phases else None
        self._set_buttons(True)
        self._next_phase()

    def stop(self) -> None:
        """Stop now: the spinners see the flag within a millisecond, the lab within 1 s."""
        self._queue.clear()
        self._stop.set()
        self.runner.stop()

    def _set_buttons(self, running: bool) -> None:
        for b in (self.window_button, self.lab_button, self.both_button):
            b.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _next_phase(self) -> None:
        if not self._queue:
            self.phase = None
            self._set_buttons(False)
            self.demoFinished.emit()
            return
        name = self._queue.pop(0)
        self._stop.clear()
        self.ticks[name] = []
        self.curves[name].setData([], [])
        if name == self._first_phase:
            self._y_top = 60.0
            self.plot.getPlotItem().setYRange(0, self._y_top, padding=0)
        if name == "window":
            self._begin(name)
            self._spinners = [_PythonSpinner(self.seconds, self._stop) for _ in range(self.threads)]
            for s in self._spinners:
                s.finished.connect(self._spinner_done)
                s.start()
        else:
            self.phase = "starting-lab"
            self.numbers.setText("Starting the lab…")
            tasks = max(1, int(round(self.seconds * 1000 / LAB_TASK_MS)))
            params = {
                "workload": "cpu-python",
                "strategy": "threads",
                "workers": self.threads,
                "tasks": tasks,
                "task_ms": float(LAB_TASK_MS),
                "mode": "batch",
            }
            self.runner.start([Job(params, None, "lab")])

    def _begin(self, name: str) -> None:
        self.phase = name
        self._phase_t0 = time.perf_counter()
        # the phase's start and end count as frame times: a window that drew no frame
        # at all while the work ran was frozen for all of it, not "no data"
        self.ticks[name] = [self._phase_t0]
        self.numbers.setText(f"Running: {self.PHASE_NAMES[name]}… (watch the line)")

    def _lab_started(self, _i: int, _run, _pid: int) -> None:
        if self.phase == "starting-lab":
            self._begin("lab")

    def _spinner_done(self) -> None:
        if self._spinners and all(s.isFinished() for s in self._spinners):
            self._spinners = []
            self._end_phase()

    def _end_phase(self) -> None:
        name = self.phase
        if name in self.ticks:
            if self.ticks[name]:
                self.ticks[name].append(time.perf_counter())
            st = interval_stats(frame_intervals_ms(np.array(self.ticks[name])))
            self.stats[name] = st
            self._show_numbers()
            self.phaseFinished.emit(name, st)
        self.phase = None
        if self._stop.is_set():
            self._queue.clear()
        self._next_phase()

    def _show_numbers(self) -> None:
        parts = []
        for name in ("window", "lab"):
            st = self.stats.get(name)
            if st and st["n"]:
                parts.append(
                    f"<b>{self.PHASE_NAMES[name]}</b>: typical frame {st['p50']:.0f} ms, "
                    f"worst 1 in 100 <b>{st['p99']:.0f} ms</b>"
                )
        self.numbers.setText("<br>".join(parts) + "<br>(a smooth window draws a frame every 17 ms)")

    # -- the window's own frame clock
    def _tick(self) -> None:
        if self.phase not in self.ticks:
            return
        now = time.perf_counter()
        ticks = self.ticks[self.phase]
        ticks.append(now)
        if len(ticks) >= 2:
            t = np.array(ticks)
            iv = np.diff(t) * 1000.0
            self.curves[self.phase].setData(t[1:] - self._phase_t0, iv)
            top = float(iv.max()) * 1.1
            if top > self._y_top:  # grow to show the worst frame, never shrink mid-demo
                self._y_top = min(top, 5000.0)
                self.plot.getPlotItem().setYRange(0, self._y_top, padding=0)

    def shutdown(self) -> None:
        """Stop both phases and wait for the threads (closing the demo)."""
        self.stop()
        for s in self._spinners:
            s.wait(2000)
        self.runner.wait(5000)
        self.timer.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)
