"""GIL A/B: the same workload under one shared GIL and without it, on one time scale.

Case A runs threads under the app's Python (one GIL shared by every thread). Case B
runs ``interpreter-pool`` under a 3.12+ Python (one GIL per subinterpreter); case C,
when a free-threaded Python is found, runs threads there with the GIL off. Each case
gets its own lab, one after another so they never compete for cores, and is drawn
as a Gantt (bars pale where a thread waited) over a strip that shows how many
workers were busy and how many cores' worth of Python really ran. If an import turns
the GIL back on in a free-threaded Python, the moment is marked.

Threads: GUI thread only; the runs happen in a ``BatchRunner`` and the discovery in
an ``InterpreterScan``, each on a thread of its own.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from concviz.model import gil
from concviz.model.event_store import EventStore
from concviz.model.rows import ROW_WORKER
from concviz.model.run_result import run_object
from concviz.runtime.batch_runner import BatchRunner, Job
from concviz.runtime.interpreter_scan import InterpreterScan

from . import theme as T
from .gantt_item import GanttData, GanttItem
from .plot_style import theme_plots


@dataclass
class Case:
    """One side of the comparison."""

    key: str  # "A", "B", "C"
    title: str  # what it is, in a teacher's words
    strategy: str
    interpreter: str | None  # None: the app's own Python
    version: str


def plan_cases(
    infos: list[dict], app_executable: str = sys.executable
) -> tuple[list[Case], list[str]]:
    """The cases to run with the interpreters found, and what is missing for the others.

    A: threads under the app's Python. B: interpreter-pool under the app's Python if it
    can, else the newest supported 3.12+ Python found. C: threads under a free-threaded
    Python whose GIL is off.
    """
    ok = [i for i in infos if i.get("supported")]
    app = next((i for i in ok if "this app" in i.get("sources", [])), None)
    if app is None:
        app = next((i for i in ok if i.get("executable") == app_executable), None)
    app_version = app["version"] if app else ".".join(map(str, sys.version_info[:3]))
    cases = [Case("A", "threads sharing ONE GIL", "threads", None, app_version)]
    missing: list[str] = []

    def can_pool(i: dict) -> bool:
        return (i.get("strategies") or {}).get("interpreter-pool", "missing") is None

    pool = app if app is not None and can_pool(app) else None
    if pool is None:
        pool = next((i for i in ok if can_pool(i) and not i.get("free_threaded")), None)
    if pool is None:
        missing.append("B needs Python 3.12 or newer for interpreter-pool; none was found")
    else:
        cases.append(
            Case(
                "B",
                "subinterpreters, ONE GIL EACH",
                "interpreter-pool",
                None if pool is app else pool["path"],
                pool["version"],
            )
        )
    ft = next((i for i in ok if i.get("free_threaded") and not i.get("gil_enabled")), None)
    if ft is None:
        missing.append("C needs a free-threaded Python (python3.13t or newer); none was found")
    else:
        cases.append(Case("C", "threads with NO GIL", "threads", ft["path"], ft["version"] + "t"))
    return cases, missing


def _font(pt: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(pt)
    f.setBold(bold)
    return f


class CasePane(QFrame):
    """One case: a header with its numbers, a Gantt, and a busy-vs-running strip."""

    def __init__(self, case: Case, theme: T.Theme, scale: float = 1.0) -> None:
        super().__init__()
        self.case = case
        self.theme = theme
        self.scale = scale
        self.store: EventStore | None = None
        self.run: dict | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        head = QHBoxLayout()
        self.title = QLabel(f"{case.key}  ·  {case.title}  ·  Python {case.version}")
        self.title.setFont(_font(T.BASE_POINT_SIZE * 1.35 * scale, bold=True))
        self.numbers = QLabel("waiting to run…")
        self.numbers.setFont(_font(T.BASE_POINT_SIZE * 1.1 * scale))
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(self.title)
        head.addStretch(1)
        lay.addLayout(head)
        self.meter = QLabel("")
        self.meter.setFont(_font(T.BASE_POINT_SIZE * 1.7 * scale, bold=True))
        self.meter.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.meter)
        lay.addWidget(self.numbers)

        self.plots = pg.GraphicsLayoutWidget()
        self.gantt_plot = self.plots.addPlot(row=0, col=0, enableMenu=False)
        self.strip = self.plots.addPlot(row=1, col=0, enableMenu=False)
        for p in (self.gantt_plot, self.strip):
            p.setMenuEnabled(False)
            p.hideButtons()
            p.setMouseEnabled(x=True, y=False)
            for name in ("left", "bottom"):
                ax = p.getAxis(name)
                ax.enableAutoSIPrefix(False)
                ax.setStyle(tickFont=_font(T.BASE_POINT_SIZE * scale))
            p.getAxis("left").setWidth(int(130 * scale))
        self.gantt_plot.invertY(True)
        self.gantt_plot.showGrid(x=True, y=False, alpha=0.15)
        self.gantt_plot.getAxis("bottom").setStyle(showValues=False)
        self.gantt = GanttItem(theme)
        self.gantt.set_presentation(True)  # thick bars: this view is for a class
        self.gantt_plot.addItem(self.gantt)
        self.strip.showGrid(x=True, y=True, alpha=0.15)
        self.strip.setLabel("left", "cores", **{"font-size": f"{T.BASE_POINT_SIZE * scale:.0f}pt"})
        self.strip.setLabel(
            "bottom",
            "seconds since the run started",
            **{"font-size": f"{T.BASE_POINT_SIZE * scale:.0f}pt"},
        )
        self.strip.getAxis("bottom").setHeight(int(48 * scale))
        self.busy_curve = self.strip.plot(stepMode="center")
        self.python_curve = self.strip.plot(stepMode="center", fillLevel=0)
        lay_ = self.plots.ci.layout
        lay_.setRowStretchFactor(0, 3)
        lay_.setRowStretchFactor(1, 2)
        lay.addWidget(self.plots, 1)
        self._marker_lines: list[pg.InfiniteLine] = []
        self.set_theme(theme)
        self._empty_axes()

    def set_theme(self, theme: T.Theme) -> None:
        """Recolour the plots, the Gantt, the curves, the markers and the meter."""
        self.theme = theme
        scale = self.scale
        theme_plots(self.plots, [self.gantt_plot, self.strip], theme)
        self.gantt.set_theme(theme)
        self.busy_curve.setPen(
            pg.mkPen(theme.foreground, width=2.5 * scale, style=Qt.PenStyle.DashLine)
        )
        fill = QColor(theme.bars[2])
        fill.setAlpha(150)
        self.python_curve.setPen(pg.mkPen(theme.bars[2], width=3 * scale))
        self.python_curve.setBrush(fill)
        for line in self._marker_lines:
            line.setPen(pg.mkPen(theme.error, width=3 * scale))
            line.label.setColor(theme.error)
        self._show_meter()

    def _show_meter(self) -> None:
        run = self.run
        if run is None:
            return
        colour = (
            self.theme.error if run["gil_contention"]["level"] == "high" else self.theme.bars[2]
        )
        self.meter.setText(
            f"<span style='color:{colour}'>{_meter_sentence(run)}</span> · "
            f"done in {run['wall_s']:.2f} s"
        )

    def _empty_axes(self) -> None:
        """Before a run: time from 0, rows for the workers, 0 to 2 cores — no negatives."""
        self.gantt_plot.setXRange(0.0, 1.0, padding=0)
        self.gantt_plot.setYRange(-0.5, 1.5, padding=0)
        self.gantt_plot.getAxis("left").setTicks([[], []])  # no rows yet: no row labels
        self.strip.setXRange(0.0, 1.0, padding=0)
        self.strip.setYRange(0.0, 2.0, padding=0.05)
        self.strip.getAxis("left").setTicks([[(v, str(v)) for v in (0, 1, 2)], []])

    def show_failed(self, message: str) -> None:
        self.numbers.setText(f"<b>could not run:</b> {message}")

    def show_running(self) -> None:
        self.numbers.setText("running…")

    def show_store(self, store: EventStore) -> None:
        """Draw a finished run and its numbers."""
        self.store = store
        if not store.runs:
            self.show_failed("the lab reported no run")
            return
        run = run_object(store)
        self.run = run
        t0 = int(store.runs[-1].started["t_ns"])
        data = GanttData(store, t0)
        lanes = store.lanes()
        # subinterpreters are named by id; an event loop and its coroutines keep the
        # names model.rows gave them
        for row in data.rows:
            if row.lane < 0 or row.kind != ROW_WORKER:
                continue
            name = lanes[row.lane].name
            if name:
                row.label = name
        self.gantt.set_data(data)
        n = max(data.n_rows, 1)
        self.gantt_plot.setYRange(-0.6, n - 0.4, padding=0)
        self.gantt_plot.getAxis("left").setTicks(
            [[(r, row.label) for r, row in enumerate(data.rows)], []]
        )
        bars = store.task_bars()
        wall = run["wall_s"]
        step = min(max(wall / 120, 0.01), 0.25)  # ~120 steps across the run
        edges = np.arange(0.0, wall + step, step)
        if len(edges) >= 2:
            busy, eff = gil.parallelism_over_time(
                (bars["start"] - t0) / 1e9, (bars["end"] - t0) / 1e9, bars["cpu"] / 1e9, edges
            )
            self.busy_curve.setData(edges, busy)
            self.python_curve.setData(edges, eff)
        top = max(int(run["workers"]), 2)
        self.strip.setYRange(-0.08 * top, top * 1.15, padding=0)
        self.strip.getAxis("left").setTicks([[(float(v), str(v)) for v in range(top + 1)], []])
        for line in self._marker_lines:
            self.gantt_plot.removeItem(line)
        self._marker_lines.clear()
        for m in store.markers:
            if m.get("kind") != "gil_enabled":
                continue
            line = pg.InfiniteLine(
                pos=(m["t_ns"] - t0) / 1e9,
                angle=90,
                pen=pg.mkPen(self.theme.error, width=3 * self.scale),
                label="GIL turned " + ("ON" if m.get("enabled") else "off"),
                labelOpts={"position": 0.08, "color": self.theme.error},
            )
            line.label.setFont(_font(T.BASE_POINT_SIZE * 1.2 * self.scale, bold=True))
            self.gantt_plot.addItem(line)
            self._marker_lines.append(line)
        g = run["gil_contention"]
        ok = "" if run["ok"] else f" · <b>failed:</b> {run['error']}"
        self.numbers.setText(
            f"wall {wall:.2f} s · CPU {run['cpu_s']:.2f} s · "
            f"{len(run['tasks'])} tasks · GIL contention <b>{g['level']}</b>{ok}"
        )
        self._show_meter()

    def wall_s(self) -> float:
        return float(self.run["wall_s"]) if self.run else 0.0


def _meter_sentence(run: dict) -> str:
    g = run["gil_contention"]
    return g["meter"][:1].upper() + g["meter"][1:]


class GilABView(QWidget):
    """The A/B comparison window; ``run_ab()`` starts it, ``abFinished`` ends it.

    Threads: GUI thread only.
    """

    abFinished = Signal()

    WORKLOADS = ("cpu-python", "cpu-native", "mixed", "io-sleep")

    def __init__(
        self,
        theme: T.Theme = T.LIGHT,
        cases: list[Case] | None = None,
        scale: float = 1.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("concviz — the GIL, A/B")
        self.theme = theme
        self.scale = scale
        self.cases: list[Case] | None = cases
        self.missing: list[str] = []
        self.panes: list[CasePane] = []
        self.runner = BatchRunner(self)
        self.scan = InterpreterScan(self)
        self._want_run = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        heading = QLabel("The GIL, A/B: the same work, with one shared GIL and without it")
        heading.setFont(_font(T.BASE_POINT_SIZE * 1.6 * scale, bold=True))
        outer.addWidget(heading)
        bar = QHBoxLayout()
        self.workload = QComboBox()
        self.workload.addItems(self.WORKLOADS)
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(2)
        self.tasks = QSpinBox()
        self.tasks.setRange(1, 10000)
        self.tasks.setValue(8)
        self.task_ms = QSpinBox()
        self.task_ms.setRange(1, 10000)
        self.task_ms.setValue(100)
        self.task_ms.setSuffix(" ms")
        self.run_button = QPushButton("Run A/B")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        for text, w in (
            ("workload", self.workload),
            ("workers", self.workers),
            ("tasks", self.tasks),
            ("task size", self.task_ms),
        ):
            name = QLabel(text)
            name.setObjectName("control")
            bar.addWidget(name)
            bar.addWidget(w)
            bar.addSpacing(10)
        bar.addWidget(self.run_button)
        bar.addWidget(self.stop_button)
        bar.addStretch(1)
        outer.addLayout(bar)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setFont(_font(T.BASE_POINT_SIZE * 1.1 * scale))
        self.legend.setWordWrap(True)
        outer.addWidget(self.legend)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setFont(_font(T.BASE_POINT_SIZE * 1.3 * scale, bold=True))
        self.panes_box = QVBoxLayout()
        outer.addLayout(self.panes_box, 1)
        outer.addWidget(self.status)
        self._set_legend()
        # a stylesheet font would override the labels' own (larger) fonts: controls only
        self.setStyleSheet(
            "QPushButton, QComboBox, QSpinBox, QLabel#control "
            f"{{ font-size: {T.BASE_POINT_SIZE * 1.1 * scale:.0f}pt; }}"
        )

        self.run_button.clicked.connect(self.run_ab)
        self.stop_button.clicked.connect(self.stop)
        self.runner.jobStarted.connect(self._job_started)
        self.runner.jobFinished.connect(self._job_finished)
        self.runner.jobFailed.connect(self._job_failed)
        self.runner.allFinished.connect(self._all_finished)
        self.scan.scanned.connect(self._scanned)
        self.scan.scanFailed.connect(
            lambda msg: self.status.setText(f"Looking for Pythons failed: {msg}")
        )
        if cases is None:
            self.status.setText("Looking for Pythons on this machine…")
            self.scan.start()
        else:
            self._build_panes()

    def set_theme(self, theme: T.Theme) -> None:
        """Recolour the legend and every case's plots (widgets follow the application)."""
        self.theme = theme
        self._set_legend()
        for pane in self.panes:
            pane.set_theme(theme)

    def _set_legend(self) -> None:
        th = self.theme
        sw = "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;"
        self.legend.setText(
            f"<span style='background:{th.bars[2]}'>{sw}</span> running Python "
            f"&nbsp;&nbsp; <span style='background:{th.bars[1]}'>{sw}</span> "
            f"partly waiting (half the time: the GIL) "
            f"&nbsp;&nbsp; <span style='background:{th.bars[0]}'>{sw}</span> "
            f"mostly waiting (for the GIL) &nbsp;&nbsp;&nbsp; strip: "
            f"<b>- - -</b> busy workers, <span style='background:{th.bars[2]}'>{sw}</span> "
            f"cores really running Python"
        )

    # -- cases
    def _scanned(self, infos: list[dict]) -> None:
        self.cases, self.missing = plan_cases(infos)
        self._build_panes()
        if self._want_run:
            self.run_ab()

    def _build_panes(self) -> None:
        for pane in self.panes:
            self.panes_box.removeWidget(pane)
            pane.deleteLater()
        self.panes = [CasePane(c, self.theme, self.scale) for c in self.cases or []]
        for pane in self.panes:
            self.panes_box.addWidget(pane, 1)
        for pane in self.panes[1:]:
            pane.gantt_plot.setXLink(self.panes[0].gantt_plot)
        for pane in self.panes:
            pane.strip.setXLink(self.panes[0].gantt_plot)
        text = "Ready: press Run A/B." if self.cases else ""
        if self.missing:
            text += " Not shown: " + "; ".join(self.missing) + "."
        self.status.setText(text.strip())

    def params(self) -> dict:
        return {
            "workload": self.workload.currentText(),
            "workers": int(self.workers.value()),
            "tasks": int(self.tasks.value()),
            "task_ms": float(self.task_ms.value()),
            "mode": "batch",
        }

    # -- running
    def run_ab(self) -> None:
        """Run every case, one after another (waits for discovery first)."""
        if self.runner.is_running():
            return
        if self.cases is None:
            self._want_run = True
            self.status.setText("Looking for Pythons on this machine… the A/B starts right after.")
            return
        self._want_run = False
        jobs = [
            Job({**self.params(), "strategy": c.strategy}, c.interpreter, c.key) for c in self.cases
        ]
        for pane in self.panes:
            pane.numbers.setText("waiting to run…")
            pane.run = None  # its meter must not come back on a theme switch
            pane.meter.setText("")
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.runner.start(jobs)

    def stop(self) -> None:
        self.runner.stop()

    def _job_started(self, i: int, _run, pid: int) -> None:
        self.panes[i].show_running()
        self.status.setText(f"Running {self.cases[i].key} (lab pid {pid})…")

    def _job_finished(self, i: int, run) -> None:
        self.panes[i].show_store(run.store)
        self._fit()

    def _job_failed(self, i: int, message: str) -> None:
        self.panes[i].show_failed(message)

    def _all_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        walls = [p.wall_s() for p in self.panes if p.run]
        text = "Done."
        if len(walls) >= 2 and min(walls) > 0:
            a = self.panes[0].wall_s()
            others = ", ".join(
                f"{p.case.key} took {p.wall_s() / a:.2f}× as long as A"
                for p in self.panes[1:]
                if p.run
            )
            text = f"Same work, same time scale: {others}."
        if self.missing:
            text += " Not shown: " + "; ".join(self.missing) + "."
        self.status.setText(text)
        self.abFinished.emit()

    def _fit(self) -> None:
        longest = max([p.wall_s() for p in self.panes] + [0.1])
        if self.panes:
            self.panes[0].gantt_plot.setXRange(0, longest * 1.02, padding=0)

    def shutdown(self) -> None:
        """Stop any run and wait for the runner (closing the view)."""
        self.runner.stop()
        self.runner.wait(5000)
        self.scan.wait(30000)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)
