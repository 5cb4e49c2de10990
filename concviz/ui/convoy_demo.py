"""Convoy demo: the switch interval as a live knob, and how late an I/O thread wakes.

A lab of its own runs CPU-bound Python threads continuously; the lab's sleep probe
is the I/O thread (it sleeps 1 ms, 20 times a second, and must take the GIL to wake).
Moving the knob sends ``Set(switch_interval=s)``; the plot shows each
wake-up's lateness over time with the knob's value drawn beside it, so the class
sees the latency follow the switch interval. The lab's threads are sampled from
outside meanwhile (``WaitSampler``), and a line under the plot says where the I/O
thread's lateness went: waiting for the GIL, or for a CPU that other programs held.

Threads: GUI thread only; the lab's frames are read by a ``LabClient`` QThread.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from concviz.lab import protocol as P
from concviz.model.wait_states import thread_time_split
from concviz.runtime.lab_client import LabClient
from concviz.runtime.lab_process import LabError
from concviz.runtime.wait_sampler import WaitSampler

from . import theme as T
from .plot_style import add_legend, lesson_plot, theme_plots

# knob positions (seconds): log-spaced from 0.5 ms to 50 ms; CPython's default is 5 ms
INTERVALS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
DEFAULT_INDEX = 3


class ConvoyDemo(QWidget):
    """Start → continuous cpu-python threads; the knob changes the switch interval live."""

    def __init__(self, theme: T.Theme = T.LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("concviz — switch interval and the convoy effect")
        self.theme = theme
        self.client = LabClient(None, self)
        self.store = None
        self.t0_ns = time.perf_counter_ns()
        self.knob_log: list[tuple[int, float]] = []  # (t_ns, seconds) confirmed by the lab
        self.running = False
        lay = QVBoxLayout(self)
        big = QFont()
        big.setPointSizeF(T.BASE_POINT_SIZE * 1.5)
        big.setBold(True)
        head = QLabel(
            "The switch interval: how long an I/O thread waits behind busy Python threads"
        )
        head.setFont(big)
        head.setWordWrap(True)
        lay.addWidget(head)
        row = QHBoxLayout()
        self.threads = QSpinBox()
        self.threads.setRange(1, 16)
        self.threads.setValue(2)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.knob = QSlider(Qt.Orientation.Horizontal)
        self.knob.setRange(0, len(INTERVALS) - 1)
        self.knob.setValue(DEFAULT_INDEX)
        self.knob.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.knob.setMinimumWidth(300)
        self.knob_label = QLabel()
        kf = QFont()
        kf.setPointSizeF(T.BASE_POINT_SIZE * 1.3)
        kf.setBold(True)
        self.knob_label.setFont(kf)
        row.addWidget(QLabel("CPU-bound threads"))
        row.addWidget(self.threads)
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        row.addSpacing(20)
        row.addWidget(QLabel("switch interval"))
        row.addWidget(self.knob)
        row.addWidget(self.knob_label)
        row.addStretch(1)
        lay.addLayout(row)
        self.plot = lesson_plot(theme, "ms late", "seconds")
        p = self.plot.getPlotItem()
        add_legend(p, theme, T.BASE_POINT_SIZE, offset=(10, 10))
        self.late_curve = p.plot(
            pen=None, symbol="o", symbolSize=7, symbolPen=None, name="I/O thread woke this late"
        )
        self.knob_curve = p.plot(stepMode=None, name="switch interval")
        self.set_theme(theme)
        lay.addWidget(self.plot, 1)
        self.where = QLabel("")  # where the I/O thread's lateness went (sampled states)
        self.where.setFont(kf)
        self.where.setWordWrap(True)
        lay.addWidget(self.where)
        self.status = QLabel("Press Start, then move the knob.")
        self.status.setFont(kf)
        lay.addWidget(self.status)
        self.sampler: WaitSampler | None = None
        self._next_where = 0.0

        self._show_knob()
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.knob.valueChanged.connect(self._knob_moved)
        self.client.labStarted.connect(self._lab_started)
        self.client.runFinished.connect(self._run_finished)
        self.client.labFailed.connect(lambda msg: self.status.setText(f"The lab failed: {msg}"))
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._pending_start = False
        self.client.start()

    def set_theme(self, theme: T.Theme) -> None:
        """Recolour the plot and its curves (the controls follow the application palette)."""
        self.theme = theme
        theme_plots(self.plot, [self.plot.getPlotItem()], theme)
        self.late_curve.setSymbolBrush(pg.mkBrush(theme.error))
        self.knob_curve.setPen(pg.mkPen(theme.foreground, width=2.5, style=Qt.PenStyle.DashLine))

    def interval(self) -> float:
        return INTERVALS[self.knob.value()]

    def _show_knob(self) -> None:
        self.knob_label.setText(f"{self.interval() * 1000:g} ms")

    def _lab_started(self, _hello: dict) -> None:
        if self._pending_start:
            self.start()

    def start(self) -> None:
        if self.running:
            return
        if not self.client.is_alive():
            self._pending_start = True
            self.status.setText("Starting the lab…")
            return
        self._pending_start = False
        try:
            self.client.send(P.Set(switch_interval=self.interval()))
            self.store = self.client.begin_run(
                P.Start(
                    workload="cpu-python",
                    strategy="threads",
                    workers=int(self.threads.value()),
                    task_ms=50.0,
                    mode="continuous",
                )
            )
        except LabError as exc:
            self.status.setText(f"Cannot start: {exc}.")
            return
        self.t0_ns = time.perf_counter_ns()
        self.knob_log = [(self.t0_ns, self.interval())]
        self.running = True
        self._stop_sampler()
        if self.client.pid and WaitSampler.unavailable_reason(self.client.pid) is None:
            hello = self.client.hello or {}
            self.sampler = WaitSampler(self.client.pid, gil_layout=hello.get("gil_layout"))
            self.sampler.start()
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Running: move the knob and watch the dots follow the dashed line.")

    def stop(self) -> None:
        if self.running:
            self.client.stop_run()

    def _run_finished(self, _obj: dict) -> None:
        self.running = False
        self._stop_sampler()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.status.setText("Stopped.")

    def _knob_moved(self, _index: int) -> None:
        self._show_knob()
        if not self.running:
            return
        try:
            self.client.send(P.Set(switch_interval=self.interval()))
        except LabError as exc:
            self.status.setText(f"The lab is gone: {exc}.")
            return
        self.knob_log.append((time.perf_counter_ns(), self.interval()))

    def refresh(self) -> None:
        store = self.store
        if store is None:
            return
        pr = store.probes()
        if len(pr["t"]):
            self.late_curve.setData((pr["t"] - self.t0_ns) / 1e9, pr["late"] / 1e6)
        if self.knob_log:
            t_end = time.perf_counter_ns() if self.running else max(t for t, _ in self.knob_log)
            xs, ys = [], []
            for i, (t, s) in enumerate(self.knob_log):
                nxt = self.knob_log[i + 1][0] if i + 1 < len(self.knob_log) else t_end
                xs += [(t - self.t0_ns) / 1e9, (nxt - self.t0_ns) / 1e9]
                ys += [s * 1000, s * 1000]
            self.knob_curve.setData(np.array(xs), np.array(ys))
        if self.running and time.monotonic() >= self._next_where:
            self._next_where = time.monotonic() + 1.0
            self._show_where()

    def lateness_split(self, since_ns: int) -> dict[str, float] | None:
        """The I/O thread's time after ``since_ns`` (``thread_time_split``) and its total
        lateness ``late``, in seconds; None when its states were not sampled."""
        store, sampler = self.store, self.sampler
        if store is None or sampler is None or store.probe_thread is None:
            return None
        split = thread_time_split(sampler.samples.view(), store.probe_thread[1], since_ns)
        pr = store.probes()
        split["late"] = float(pr["late"][pr["t"] >= since_ns].sum()) / 1e9
        return split

    def _show_where(self) -> None:
        since = max(self.knob_log[-1][0], time.perf_counter_ns() - 5_000_000_000)
        split = self.lateness_split(since)
        if split is None or split["late"] <= 0:
            self.where.setText("")
            return
        gil = min(1.0, split["gil_wait"] / split["late"])
        cpu = min(1.0, split["cpu_wait"] / split["late"])
        self.where.setText(
            f"The I/O thread's lateness: {gil:.0%} waiting for the GIL, "
            f"{cpu:.0%} waiting for a CPU (sampled from outside the lab)"
        )

    def probe_lateness_ms(self, since_ns: int) -> np.ndarray:
        """Probe lateness (ms) of the samples taken after ``since_ns`` (for tests)."""
        if self.store is None:
            return np.zeros(0)
        pr = self.store.probes()
        return pr["late"][pr["t"] >= since_ns] / 1e6

    def _stop_sampler(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()

    def shutdown(self) -> None:
        self.timer.stop()
        self._stop_sampler()
        self.client.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)
