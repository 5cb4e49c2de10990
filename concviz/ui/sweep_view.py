"""The Sweep view: how far a strategy scales, and from what task size parallelism pays.

A page beside the timeline and the compare view (View → Sweep, Ctrl+3). Two kinds:

* **Workers** — one strategy at 1, 2, 3 … workers, each point repeated: speedup
  beside the ideal line and Amdahl's fitted curve (strong scaling) or Gustafson's line
  (weak scaling); efficiency and Karp–Flatt's ``e`` on the right.
* **Task size** — several strategies at task sizes on a log scale, fixed total work:
  wall time, and efficiency with each strategy's break-even task size marked.

Every point is a run of the window's session (saved with it). The sweep runs on a
thread of its own through the run driver into a private session; a timer on the GUI
thread moves each finished run into the window's session and redraws (no signal
crosses threads). Cancel stops the run going on and starts no other.

Threads: GUI thread only, except ``_Worker.run`` (the sweep's thread).
"""

from __future__ import annotations

import math
import queue
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, QSignalBlocker, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from concviz.lab import protocol as P
from concviz.model import scaling
from concviz.model.session import Session

from . import theme as T
from .compare_view import save_view

WORKLOADS = ("cpu-python", "cpu-native", "io-sleep", "mixed")
GRANULARITY_DEFAULT = ("thread-pool", "process-pool", "interpreter-pool")
# strategies a sweep offers (engines start clusters: too slow to sweep from here)
SWEEPABLE = (
    "threads",
    "thread-pool",
    "processes",
    "process-pool",
    "interpreter-pool",
    "asyncio",
    "asyncio-to-thread",
)
# one colour and one marker per strategy line (the Okabe–Ito hues the theme uses)
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
MARKERS = ("o", "s", "t", "d", "t1", "p", "h")


def parse_list(text: str, kind) -> list:
    """``"1, 2,4"`` → ``[1, 2, 4]``; raises ValueError naming the bad item."""
    out = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(kind(part))
        except ValueError:
            raise ValueError(part) from None
    return out


class _Worker:
    """Runs one sweep on its own thread; the GUI polls ``events``."""

    def __init__(self, spec, interpreter: str | None) -> None:
        from concviz.runtime.driver import RunDriver

        self.spec = spec
        self.session = Session()  # private: its runs move to the window's on the GUI thread
        self.driver = RunDriver(self.session, interpreter=interpreter, observe=True)
        self.events: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self.run, name="concviz-sweep", daemon=True)

    def run(self) -> None:  # the sweep's thread
        from concviz.runtime.sweep import run_sweep

        try:
            result = run_sweep(
                self.driver, self.spec, lambda d, t, r: self.events.put(("point", d, t, r))
            )
            self.events.put(("done", result))
        except Exception as exc:  # a refused spec, a lab that cannot start: one sentence
            self.events.put(("failed", str(exc) or type(exc).__name__))

    def cancel(self) -> None:  # any thread
        self.driver.stop()


class _MsBox(QDoubleSpinBox):
    """A task size as people write it: "40 ms", "0.05 ms" (not "40.00 ms")."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:g}"


class SweepView(QWidget):
    """Controls, progress and two plots of a sweep (see the module's docstring)."""

    def __init__(self, session: Session, theme: T.Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepView")
        self.session = session
        self.theme = theme
        self.scale = 1.0
        self.interpreter: str | None = None
        self.available: list[str] = list(SWEEPABLE)
        self.sweep: dict | None = None  # the sweep drawn
        self.worker: _Worker | None = None
        self.banner_fn = None  # the window's banner, for a sentence about bad input

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(2)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        lay.addLayout(grid)

        self.kind = QComboBox()
        self.kind.addItem("Workers", "workers")
        self.kind.addItem("Task sizes", "task_size")
        self.kind.setToolTip("Sweep the number of workers, or the size of each task")
        self.workload = QComboBox()
        for w in WORKLOADS:
            self.workload.addItem(w, w)
        self.strategy = QComboBox()
        self.strategy.setToolTip("The strategy whose scaling is measured")
        self.strategies = QLineEdit(",".join(GRANULARITY_DEFAULT))
        self.strategies.setToolTip("Strategies to compare at every task size, comma-separated")
        from concviz.model.diagnoses import machine_cores

        # 1, 2, 3 … up to twice the cores: past the cores is where it stops paying
        self.workers_list = QLineEdit(",".join(map(str, scaling.default_workers(machine_cores()))))
        self.workers_list.setToolTip("Worker counts, comma-separated (1 is always measured)")
        self.sizes = QLineEdit("0.05,0.2,1,5,20,100")
        self.sizes.setToolTip("Task sizes in ms, comma-separated (0.05 to 100 is the lesson)")
        self.tasks = QSpinBox()
        self.tasks.setRange(1, 10_000)
        self.tasks.setValue(16)
        self.tasks.setToolTip("Tasks per run (weak scaling: per worker)")
        self.task_ms = _MsBox()
        self.task_ms.setRange(0.01, 5_000)
        self.task_ms.setValue(40.0)
        self.task_ms.setSuffix(" ms")
        self.total_ms = QDoubleSpinBox()
        self.total_ms.setRange(1, 100_000)
        self.total_ms.setDecimals(0)
        self.total_ms.setValue(400.0)
        self.total_ms.setSuffix(" ms")
        self.total_ms.setToolTip("Total work per point: tasks = total ÷ task size")
        self.run_workers = QSpinBox()
        self.run_workers.setRange(1, 64)
        self.run_workers.setValue(2)
        self.serial = QSpinBox()
        self.serial.setRange(0, 95)
        self.serial.setSuffix(" %")
        self.serial.setToolTip(
            "Serial fraction: this share of the work runs alone before the tasks "
            "(Amdahl's ceiling: speedup can never pass 1 ÷ this)"
        )
        self.weak = QCheckBox("Weak scaling")
        self.weak.setToolTip("The work grows with the workers (Gustafson) instead of staying fixed")
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 20)
        self.repeats.setValue(3)
        self.repeats.setToolTip("Runs per point: the spread is drawn as an error bar")

        for edit in (self.strategies, self.workers_list, self.sizes):
            edit.editingFinished.connect(lambda e=edit: e.setCursorPosition(0))
        for edit in (self.workers_list, self.sizes):  # an empty plot's axes follow them
            edit.editingFinished.connect(self._fields_edited)
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("0" * 8))
        self.labels: dict[str, QLabel] = {}
        fields = [
            ("Sweep", self.kind),
            ("Workload", self.workload),
            ("Strategy", self.strategy),
            ("Strategies", self.strategies),
            ("Workers", self.workers_list),
            ("Task sizes", self.sizes),
            ("Tasks", self.tasks),
            ("Task", self.task_ms),
            ("Total work", self.total_ms),
            ("Workers", self.run_workers),
            ("Serial", self.serial),
            ("Repeats", self.repeats),
        ]
        self.fields = fields
        self.grid = grid
        for i, (text, w) in enumerate(fields):
            label = QLabel(text)
            label.setBuddy(w)
            self.labels[str(i)] = label

        row = QHBoxLayout()
        self.run_button = QPushButton("Run sweep")
        self.run_button.setObjectName("sweepRun")
        self.run_button.clicked.connect(lambda _c=False: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sweepCancel")
        self.cancel_button.setToolTip("Stop the run going on; no further point starts")
        self.cancel_button.clicked.connect(lambda _c=False: self.cancel())
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("sweepProgress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("no sweep yet")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.fit_label = QLabel("Choose what to sweep and press Run sweep.")
        self.fit_label.setObjectName("sweepFit")
        self.fit_label.setWordWrap(True)
        self.fit_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setToolTip("Save the sweep's points as CSV")
        self.csv_button.clicked.connect(lambda _c=False: self.export_csv())
        self.picture_button = QPushButton("PNG/SVG…")
        self.picture_button.setToolTip("Save the plots as PNG or SVG")
        self.picture_button.clicked.connect(lambda _c=False: self.export_picture())
        row.addWidget(self.weak)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.csv_button)
        row.addWidget(self.picture_button)
        lay.addLayout(row)
        lay.addWidget(self.fit_label)

        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("sweepPlots")
        self.left = self.view.addPlot(row=0, col=0, enableMenu=False)
        self.right = self.view.addPlot(row=0, col=1, enableMenu=False)
        self._legends: list[pg.LegendItem] = []
        self._relegend = QTimer(self)
        self._relegend.setSingleShot(True)
        self._relegend.setInterval(120)
        self._relegend.timeout.connect(self._fill_legends)
        lay.addWidget(self.view, 1)

        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._poll)
        self.set_strategies([{"name": s, "available": True} for s in SWEEPABLE])
        self._kind_changed()
        self.set_theme(theme)

    # ------------------------------------------------------------ settings
    def set_strategies(self, items: list[dict]) -> None:
        """The lab's strategies: the sweepable ones that are available here."""
        names = [
            str(i["name"]) for i in items if i.get("available", True) and i["name"] in SWEEPABLE
        ]
        self.available = names or list(SWEEPABLE)
        current = self.strategy.currentData() or "process-pool"
        self.strategy.clear()
        for n in self.available:
            self.strategy.addItem(n, n)
        k = self.strategy.findData(current)
        self.strategy.setCurrentIndex(max(0, k))
        chosen = [s for s in GRANULARITY_DEFAULT if s in self.available]
        self.strategies.setText(",".join(chosen))
        self.strategies.setCursorPosition(0)  # the list's start, not its cut-off end

    def _kind_changed(self) -> None:
        workers = self.kind.currentData() == "workers"
        show = {
            self.strategy: workers,
            self.strategies: not workers,
            self.workers_list: workers,
            self.sizes: not workers,
            self.tasks: workers,
            self.task_ms: workers,
            self.total_ms: not workers,
            self.run_workers: not workers,
            self.serial: True,
            self.weak: workers,
        }
        for i, (_text, w) in enumerate(self.fields):
            visible = show.get(w, True)
            w.setVisible(visible)
            self.labels[str(i)].setVisible(visible)
        self._columns = 0
        self._place_fields()
        self.weak.setVisible(workers)
        if self.sweep is None or self.sweep.get("kind") != self.kind.currentData():
            self._draw_empty(self.kind.currentData())

    def _shown_fields(self) -> list[tuple[QLabel, QWidget]]:
        return [
            (self.labels[str(i)], w) for i, (_t, w) in enumerate(self.fields) if not w.isHidden()
        ]

    def _fields_width(self, columns: int) -> int:
        """The width the shown fields need at ``columns`` a row (the widest row)."""
        shown = self._shown_fields()
        widths = [max(lab.sizeHint().width(), w.minimumSizeHint().width()) for lab, w in shown]
        rows = [widths[k : k + columns] for k in range(0, len(widths), max(1, columns))]
        spacing = self.grid.horizontalSpacing()
        m = self.layout().contentsMargins()
        return (
            max((sum(r) + spacing * (len(r) - 1) for r in rows), default=0) + m.left() + m.right()
        )

    def _place_fields(self) -> None:
        """The shown fields side by side, labels above: one row pair where the page is
        wide enough (the plots keep their height), two where not (beside the lessons
        dock on a 720p projector one row pair was 1250 px and floated the dock)."""
        shown = self._shown_fields()
        n = len(shown)
        columns = n if self.width() >= self._fields_width(n) else (n + 1) // 2
        if columns == self._columns:
            return
        self._columns = columns
        for i, (_t, w) in enumerate(self.fields):  # hidden ones too: no cell kept
            self.grid.removeWidget(self.labels[str(i)])
            self.grid.removeWidget(w)
        for c in range(len(self.fields)):
            self.grid.setColumnStretch(c, 0)
        for k, (label, w) in enumerate(shown):
            row, col = 2 * (k // columns), k % columns
            self.grid.addWidget(label, row, col)
            self.grid.addWidget(w, row + 1, col)
            # the lists take what width there is; the numbers keep theirs
            if isinstance(w, QLineEdit):
                self.grid.setColumnStretch(col, 3)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._place_fields()
        if self._legends and self.view.width() != getattr(self, "_legend_width", 0):
            self._relegend.start()  # once the resize has settled

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """As narrow as the fields on two row pairs: the page takes its width from the
        window, not the window from one row of fields."""
        hint = super().minimumSizeHint()
        n = len(self._shown_fields())
        return QSize(min(hint.width(), max(self._fields_width((n + 1) // 2), 320)), hint.height())

    def spec(self):
        """The ``SweepSpec`` the controls ask for; ValueError with one sentence if bad."""
        from concviz.runtime.sweep import BadSweep, SweepSpec

        kind = self.kind.currentData()
        try:
            workers = parse_list(self.workers_list.text(), int)
        except ValueError as exc:
            raise ValueError(f"Workers takes whole numbers such as 1,2,4, not {exc}") from None
        try:
            sizes = parse_list(self.sizes.text(), float)
        except ValueError as exc:
            raise ValueError(
                f"Task sizes takes numbers of ms such as 0.05,5,50, not {exc}"
            ) from None
        if kind == "workers":
            strategies = (self.strategy.currentData(),)
        else:
            strategies = tuple(s.strip() for s in self.strategies.text().split(",") if s.strip())
            unknown = [s for s in strategies if s not in self.available and s != "sequential"]
            if unknown:
                raise ValueError(f"{unknown[0]} is not available to sweep under this Python")
        try:
            base = P.Start(
                workload=self.workload.currentData(),
                strategy=strategies[0] if strategies else "threads",
                workers=self.run_workers.value() if kind == "task_size" else 1,
                tasks=self.tasks.value(),
                task_ms=self.task_ms.value() if kind == "workers" else (sizes or [1.0])[0],
                serial_fraction=self.serial.value() / 100.0,
            )
            return SweepSpec(
                kind=kind,
                base=base,
                strategies=strategies,
                workers=tuple(workers),
                task_ms=tuple(sizes),
                repeats=self.repeats.value(),
                weak=self.weak.isChecked() and kind == "workers",
                total_ms=self.total_ms.value(),
            )
        except (BadSweep, P.ControlError) as exc:
            text = str(exc)
            raise ValueError(text[:1].upper() + text[1:]) from None

    # ------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> bool:
        """Start the sweep the controls ask for; False (and a sentence) if they are bad."""
        if self.running:
            return False
        try:
            spec = self.spec()
        except ValueError as exc:
            self._say(str(exc), "error")
            return False
        self.worker = _Worker(spec, self.interpreter)
        self.sweep = None
        total = len(spec.plan())
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m runs")
        self.fit_label.setText(f"Sweeping: {total} runs…")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.thread.start()
        self.timer.start()
        self._draw_empty(spec.kind)
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.fit_label.setText("Cancelling: the run going on stops within a second…")

    def shutdown(self) -> None:
        """The window is closing: stop the sweep and wait (3 s at most) for its lab to end."""
        w = self.worker
        if w is not None:
            w.cancel()
            w.thread.join(timeout=3.0)
        self.timer.stop()

    def _poll(self) -> None:
        w = self.worker
        if w is None:
            self.timer.stop()
            return
        while True:
            try:
                ev = w.events.get_nowait()
            except queue.Empty:
                break
            if ev[0] == "point":
                _kind, done, total, run = ev
                w.session.runs = [r for r in w.session.runs if r is not run]
                self.session.add_run(run)  # the window's session: saved with it
                self.progress.setValue(done)
                self._redraw_partial(w.spec)
            elif ev[0] == "done":
                self._finish(ev[1])
            else:
                self._finish(None, ev[1])

    def _finish(self, result: dict | None, error: str | None = None) -> None:
        self.worker = None
        self.timer.stop()
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if error:
            self._say(f"The sweep stopped: {error}", "error")
            self.fit_label.setText(f"The sweep stopped: {error}")
            return
        if result is not None:
            self.show_sweep(result)

    def _redraw_partial(self, spec) -> None:
        from concviz.runtime.sweep import sweep_from_runs

        partial = sweep_from_runs(self.session.runs, spec.id)
        if partial and partial.get("points"):
            self.show_sweep(partial, final=False)

    def _say(self, text: str, level: str) -> None:
        if self.banner_fn is not None:
            self.banner_fn(text, level)
        self.fit_label.setText(text)

    def show_latest(self) -> bool:
        """Draw the session's latest sweep (one opened from a file, say); False if none."""
        from concviz.runtime.sweep import sweep_from_runs

        if self.running:
            return False
        latest = sweep_from_runs(self.session.runs)
        if not latest or not latest.get("points"):
            return False
        if self.sweep is not None and self.sweep.get("id") == latest["id"]:
            return True
        with QSignalBlocker(self.kind):
            self.kind.setCurrentIndex(self.kind.findData(latest["kind"]))
        self._show_settings_of(latest)
        self.sweep = latest
        self._kind_changed()
        self.show_sweep(latest)
        return True

    def _show_settings_of(self, sweep: dict) -> None:
        """The controls say what the shown sweep measured (one opened from a file
        showed the app's own settings beside another workload's plots)."""
        mine = [
            r for r in self.session.runs if (r.meta.get("sweep") or {}).get("id") == sweep.get("id")
        ]
        if not mine:
            return
        tags = [r.meta["sweep"] for r in mine]
        spec = next((r.spec for r in mine if r.spec is not None), None)
        # a strong workers sweep (a lesson's, say): its runs' sizes (weak: they grew)
        if spec is not None and sweep["kind"] == "workers" and not tags[0].get("weak"):
            self.tasks.setValue(int(spec.tasks))
            self.task_ms.setValue(float(spec.task_ms))
        i = self.workload.findData(sweep.get("workload"))
        if i >= 0:
            self.workload.setCurrentIndex(i)
        self.serial.setValue(int(round(100 * float(sweep.get("serial_fraction") or 0.0))))
        self.repeats.setValue(max(1, len({t.get("repeat") for t in tags})))
        xs = sorted({float(t["x"]) for t in tags if t.get("x") is not None})
        strategies = list(dict.fromkeys(t.get("strategy") for t in tags if t.get("strategy")))
        strategies = [s for s in strategies if s != "sequential"]
        if sweep["kind"] == "workers":
            self.workers_list.setText(",".join(str(int(x)) for x in xs))
            if strategies:
                j = self.strategy.findText(strategies[0])
                if j >= 0:
                    self.strategy.setCurrentIndex(j)
        else:
            self.sizes.setText(",".join(f"{x:g}" for x in xs))
            self.strategies.setText(",".join(strategies))
        self.progress.setRange(0, len(tags))
        self.progress.setValue(len(tags))
        # short: beside the lessons at 720p a longer text wrapped and was cut top and bottom
        self.progress.setFormat(f"{len(tags)} runs shown")
        self.progress.setToolTip(f"{len(tags)} runs of the session's sweep")

    # ------------------------------------------------------------ drawing
    _empty_pending: str | None = None

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._empty_pending is not None:  # asked for while hidden, and not drawn over
            self._draw_empty(self._empty_pending)

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self.view.setBackground(theme.background)
        self._redraw()

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        f = QFont(self.fit_label.font())
        f.setPointSizeF(T.BASE_POINT_SIZE * scale * 1.15)
        f.setBold(True)
        self.fit_label.setFont(f)
        self._redraw()

    def _redraw(self) -> None:
        if self.sweep is not None:
            self.show_sweep(self.sweep, final=not self.running)
        else:
            self._draw_empty(self.kind.currentData())

    def _font(self, factor: float = 1.0) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(T.BASE_POINT_SIZE * self.scale * factor)
        return f

    def _prepare(self, plot: pg.PlotItem, title: str, left: str, bottom: str, log_x: bool) -> None:
        plot.clear()
        if plot.legend is not None:
            plot.legend.scene() and plot.legend.scene().removeItem(plot.legend)
            plot.legend = None
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLogMode(x=log_x, y=False)
        plot.getAxis("bottom").setTicks(None)  # a sweep drawn before set its own
        fg = self.theme.foreground
        size = f"{T.BASE_POINT_SIZE * self.scale * 1.1:.0f}pt"
        plot.setTitle(title, color=fg, size=f"{T.BASE_POINT_SIZE * self.scale * 1.25:.0f}pt")
        plot.setLabel("left", left, color=fg, **{"font-size": size})
        plot.setLabel("bottom", bottom, color=fg, **{"font-size": size})
        for name in ("left", "bottom"):
            ax = plot.getAxis(name)
            ax.enableAutoSIPrefix(False)
            ax.setStyle(tickFont=self._font(1.0), tickTextOffset=int(4 * self.scale))
            ax.setPen(pg.mkPen(fg))
            ax.setTextPen(pg.mkPen(fg))

    def _fill_legends(self) -> None:
        """Each plot's named curves in a legend under it, two to a row: the curves keep
        the whole plot (a legend inside covered them at 720 p)."""
        layout = self.view.ci
        for legend in self._legends:
            layout.removeItem(legend)
        self._legends = []
        for col, plot in enumerate((self.left, self.right)):
            legend = pg.LegendItem(
                colCount=2,
                labelTextColor=self.theme.foreground,
                labelTextSize=f"{T.BASE_POINT_SIZE * self.scale * 0.95:.0f}pt",
            )
            for item in plot.listDataItems():
                if item.name():
                    legend.addItem(item, item.name())
            # one to a row where two do not fit under the plot (beside the lessons
            # dock at 1280×720 the legends pushed the efficiency plot off the view)
            if legend.boundingRect().width() > self.view.width() / 2 - 12:
                legend.setColumnCount(1)
            layout.addItem(legend, row=1, col=col)
            self._legends.append(legend)
        self._legend_width = self.view.width()
        layout.setGeometry(QRectF(self.view.viewport().rect()))  # as wide as the view

    def _draw_empty(self, kind: str) -> None:
        if not self.isVisible():
            # the page is hidden at the window's start, where its theme, scale and
            # kind each drew it (30 ms a time): drawn once, when it is first shown
            self._empty_pending = kind
            return
        self._empty_pending = None
        if kind == "workers":
            self._prepare(self.left, "Speedup", "speedup (×)", "workers", False)
            self._prepare(self.right, "Efficiency", "share (0 to 1)", "workers", False)
        else:
            self._prepare(self.left, "Wall time", "wall (s)", "task size (ms, log scale)", True)
            self._prepare(self.right, "Efficiency", "efficiency", "task size (ms, log scale)", True)
        self._empty_axes(kind)

    def _fields_edited(self) -> None:
        kind = self.kind.currentData()
        if self.sweep is None or self.sweep.get("kind") != kind:
            self._draw_empty(kind)

    def _empty_axes(self, kind: str) -> None:
        """Before a sweep, the axes it will have: the worker counts or task sizes in the
        fields as ticks (an empty plot's own ticks read 0.2, 0.4 … workers)."""
        try:
            values = parse_list(
                self.workers_list.text() if kind == "workers" else self.sizes.text(),
                int if kind == "workers" else float,
            )
        except ValueError:
            values = []
        values = sorted({v for v in values if v > 0})
        if not values:
            return
        if kind == "workers":
            values = sorted({1, *values})
            for plot in (self.left, self.right):
                _ticks(plot, values)
                plot.setXRange(0.8, values[-1] + 0.2, padding=0)
            self.left.setYRange(0, values[-1] * 1.05, padding=0)
            self.right.setYRange(0, 1.1, padding=0)
            return
        self._size_axes(values)
        self.left.setYRange(0, 1, padding=0)
        self.right.setYRange(0, 1.1, padding=0)

    def _size_axes(self, sizes: list[float]) -> None:
        """Both plots' log x axes over ``sizes`` (ascending), ticked at the sizes
        themselves: pyqtgraph's own log ticks crowd into unreadable minor labels on a
        wide plot."""
        ticks = [[(math.log10(x), f"{x:g}") for x in sizes]]
        lo, hi = math.log10(sizes[0]), math.log10(sizes[-1])
        pad = max(0.15, 0.06 * (hi - lo))
        for plot in (self.left, self.right):
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(lo - pad, hi + pad, padding=0)

    def show_sweep(self, sweep: dict, final: bool = True) -> None:
        """Draw ``sweep`` (``runtime.sweep.sweep_from_runs``) and say its fits in words."""
        self.sweep = sweep
        self._empty_pending = None
        if sweep["kind"] == "workers":
            self._draw_workers(sweep)
        else:
            self._draw_sizes(sweep)
        self._fill_legends()
        text = fit_text(sweep)
        busy = int(sweep.get("busy_runs") or 0)
        if busy:
            text += (
                f" ⚠ other programs were busy during {busy} of the runs: "
                "their timings are not trustworthy"
            )
        if sweep.get("cancelled"):
            text = "Cancelled: the points measured so far. " + text
        elif not final:
            text = "So far: " + text
        self.fit_label.setText(text)

    def _lw(self) -> float:
        return 2.0 * self.scale

    def _draw_workers(self, sweep: dict) -> None:
        pts = sweep["points"]
        self._draw_empty("workers")
        if not pts:
            return
        ps = np.array([p["workers"] for p in pts], float)
        s = np.array([p["speedup"] if p["speedup"] is not None else np.nan for p in pts])
        pmax = max(2.0, float(ps.max()))
        grid = np.linspace(1.0, pmax, 100)
        fg = self.theme.foreground
        weak = bool(sweep.get("weak"))
        self.left.plot(
            grid,
            grid,
            pen=pg.mkPen(self.theme.muted, width=self._lw(), style=Qt.PenStyle.DashLine),
            name="ideal (speedup = workers)",
        )
        f = sweep.get("amdahl_serial_fraction")
        g = sweep.get("gustafson_serial_fraction")
        if weak and g is not None:
            self.left.plot(
                grid,
                [scaling.gustafson(g, p) for p in grid],
                pen=pg.mkPen(LINE_COLOURS[1], width=self._lw()),
                name=f"Gustafson, serial {g:.2f}",
            )
        elif f is not None:
            self.left.plot(
                grid,
                [scaling.amdahl(f, p) for p in grid],
                pen=pg.mkPen(LINE_COLOURS[1], width=self._lw()),
                name=f"Amdahl fit, serial {f:.2f}",
            )
            if f > 0:
                ceiling = 1.0 / f
                if ceiling <= pmax * 1.2:
                    line = pg.InfiniteLine(
                        pos=ceiling,
                        angle=0,
                        pen=pg.mkPen(
                            LINE_COLOURS[1], width=1.2 * self.scale, style=Qt.PenStyle.DotLine
                        ),
                        label=f"ceiling 1/f = {ceiling:.2f}×",
                        labelOpts={"position": 0.15, "color": fg, "anchors": [(0, 1), (0, 1)]},
                    )
                    line.label.setFont(self._font(0.95))
                    self.left.addItem(line)
        # each repeat as a faint dot, the median as a marker with its spread as a bar
        t1 = {p["strategy"]: p["wall_s"] for p in pts if p["workers"] == 1}
        rep_x, rep_y = [], []
        for p in pts:
            base = t1.get(p["strategy"])
            for w in p.get("walls_s") or []:
                if base and w > 0:
                    rep_x.append(p["workers"])
                    rep_y.append(base / w * (p["workers"] if weak else 1))
        colour = LINE_COLOURS[0]
        if rep_x:
            self.left.plot(
                rep_x,
                rep_y,
                pen=None,
                symbol="o",
                symbolSize=6 * self.scale,
                symbolBrush=pg.mkBrush(colour + "60"),
                symbolPen=None,
            )
        lo, hi = _speedup_band(pts, t1, weak)
        ok = ~np.isnan(s)
        if ok.any():
            bars = pg.ErrorBarItem(
                x=ps[ok],
                y=s[ok],
                top=hi[ok] - s[ok],
                bottom=s[ok] - lo[ok],
                beam=0.12,
                pen=pg.mkPen(colour, width=1.5 * self.scale),
            )
            self.left.addItem(bars)
            self.left.plot(
                ps[ok],
                s[ok],
                pen=pg.mkPen(colour, width=self._lw()),
                symbol="o",
                symbolSize=12 * self.scale,
                symbolBrush=pg.mkBrush(colour),
                symbolPen=pg.mkPen(fg),
                name=f"measured ({pts[0]['strategy']}, median)",
            )
        self.left.setXRange(0.8, pmax + 0.2, padding=0)
        top = max(pmax, float(np.nanmax(hi)) if ok.any() else 1.0)
        self.left.setYRange(0, top * 1.05, padding=0)
        _ticks(self.left, [int(x) for x in sorted(set(ps.tolist()))])
        # right: efficiency and Karp–Flatt's e
        eff = np.array([p["efficiency"] if p["efficiency"] is not None else np.nan for p in pts])
        kf = np.array([p["karp_flatt"] if p["karp_flatt"] is not None else np.nan for p in pts])
        self.right.plot(
            [1, pmax],
            [1, 1],
            pen=pg.mkPen(self.theme.muted, width=self._lw(), style=Qt.PenStyle.DashLine),
            name="ideal efficiency",
        )
        ok = ~np.isnan(eff)
        if ok.any():
            self.right.plot(
                ps[ok],
                eff[ok],
                pen=pg.mkPen(colour, width=self._lw()),
                symbol="o",
                symbolSize=12 * self.scale,
                symbolBrush=pg.mkBrush(colour),
                symbolPen=pg.mkPen(fg),
                name="efficiency = speedup ÷ workers",
            )
        ok = ~np.isnan(kf)
        if ok.any():
            self.right.plot(
                ps[ok],
                kf[ok],
                pen=pg.mkPen(LINE_COLOURS[2], width=self._lw()),
                symbol="t",
                symbolSize=13 * self.scale,
                symbolBrush=pg.mkBrush(LINE_COLOURS[2]),
                symbolPen=pg.mkPen(fg),
                name="Karp–Flatt e (serial share)",
            )
        top = max(1.1, float(np.nanmax(np.concatenate([eff, kf, [1.0]])))) * 1.08
        self.right.setYRange(0, top, padding=0)
        self.right.setXRange(0.8, pmax + 0.2, padding=0)
        _ticks(self.right, [int(x) for x in sorted(set(ps.tolist()))])

    def _draw_sizes(self, sweep: dict) -> None:
        self._draw_empty("task_size")
        pts = sweep["points"]
        seq = sweep.get("sequential") or []
        fg = self.theme.foreground
        workers = int(sweep.get("workers_per_run") or 1)
        if seq:
            self.left.plot(
                [p["task_ms"] for p in seq],
                [p["wall_s"] for p in seq],
                pen=pg.mkPen(fg, width=self._lw(), style=Qt.PenStyle.DashLine),
                symbol="x",
                symbolSize=12 * self.scale,
                symbolPen=pg.mkPen(fg, width=2),
                symbolBrush=pg.mkBrush(fg),
                name="sequential",
            )
        strategies = sorted({p["strategy"] for p in pts}, key=_strategy_order)
        walls_max = [p["wall_s"] for p in pts] + [p["wall_s"] for p in seq]
        even = 1.0 / workers
        self.right.plot(
            [
                min(p["task_ms"] for p in pts or seq or [{"task_ms": 1}]),
                max(p["task_ms"] for p in pts or seq or [{"task_ms": 1}]),
            ],
            [even, even],
            pen=pg.mkPen(fg, width=self._lw(), style=Qt.PenStyle.DashLine),
            name=f"= sequential (1/{workers})",
        )
        for k, strategy in enumerate(strategies):
            colour = LINE_COLOURS[k % len(LINE_COLOURS)]
            mine = sorted((p for p in pts if p["strategy"] == strategy), key=lambda p: p["task_ms"])
            xs = [p["task_ms"] for p in mine]
            pen = pg.mkPen(colour, width=self._lw())
            sym = MARKERS[k % len(MARKERS)]
            self.left.plot(
                xs,
                [p["wall_s"] for p in mine],
                pen=pen,
                symbol=sym,
                symbolSize=12 * self.scale,
                symbolBrush=pg.mkBrush(colour),
                symbolPen=pg.mkPen(fg),
                name=strategy,
            )
            effs = [p["efficiency"] for p in mine]
            if all(e is not None for e in effs):
                be = (sweep.get("break_even_task_ms") or {}).get(strategy)
                label = (
                    f"{strategy}: pays from {be:.3g} ms" if be else f"{strategy}: never pays here"
                )
                self.right.plot(
                    xs,
                    effs,
                    pen=pen,
                    symbol=sym,
                    symbolSize=12 * self.scale,
                    symbolBrush=pg.mkBrush(colour),
                    symbolPen=pg.mkPen(fg),
                    name=label,
                )
                if be:
                    line = pg.InfiniteLine(
                        pos=math.log10(be),
                        angle=90,
                        pen=pg.mkPen(colour, width=1.5 * self.scale, style=Qt.PenStyle.DashLine),
                    )
                    self.right.addItem(line)
        if walls_max:
            self.left.setYRange(0, max(walls_max) * 1.08, padding=0)
        sizes = sorted({p["task_ms"] for p in pts} | {p["task_ms"] for p in seq})
        if sizes:
            self._size_axes(sizes)
        effs = [p["efficiency"] for p in pts if p["efficiency"] is not None]
        self.right.setYRange(0, max([1.1, *effs]) * 1.08, padding=0)

    # ------------------------------------------------------------ export
    def export_csv(self, path: str | None = None) -> bool:
        """The sweep's points as CSV (asks where when ``path`` is None)."""
        from concviz.interop.sweep_csv import sweep_csv

        if self.sweep is None:
            self._say("No sweep yet: run one first, then export it.", "warning")
            return False
        if path is None:
            path, _f = QFileDialog.getSaveFileName(
                self, "Save the sweep as CSV", "sweep.csv", "CSV (*.csv)"
            )
            if not path:
                return False
        import os

        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(sweep_csv(self.sweep))
            os.replace(tmp, path)
        except OSError as exc:
            self._say(f"Could not write {path}: {exc.strerror or exc}", "error")
            return False
        return True

    def export_picture(self, path: str | None = None) -> bool:
        """The plots as PNG or SVG (by the name's ending; asks where when None)."""
        if path is None:
            path, _f = QFileDialog.getSaveFileName(
                self, "Save the sweep's plots", "sweep.png", "PNG (*.png);;SVG (*.svg)"
            )
            if not path:
                return False
        if not save_view(self.view, path):
            self._say(f"Could not write {path}", "error")
            return False
        return True


def _strategy_order(name: str) -> int:
    order = ("threads", "thread-pool", "processes", "process-pool", "interpreter-pool")
    return order.index(name) if name in order else len(order)


def _speedup_band(pts: list[dict], t1: dict, weak: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each point's lowest and highest speedup over its repeats (the error bar)."""
    lo, hi = [], []
    for p in pts:
        base = t1.get(p["strategy"])
        ws = [w for w in p.get("walls_s") or [] if w > 0]
        if not base or not ws:
            lo.append(np.nan)
            hi.append(np.nan)
            continue
        k = p["workers"] if weak else 1
        lo.append(base / max(ws) * k)
        hi.append(base / min(ws) * k)
    return np.array(lo, float), np.array(hi, float)


def _ticks(plot: pg.PlotItem, values: list[int]) -> None:
    plot.getAxis("bottom").setTicks([[(v, str(v)) for v in values]])


def fit_text(sweep: dict) -> str:
    """The sweep's fits in one line of words."""
    if not sweep.get("points"):
        return "No point finished yet."
    if sweep["kind"] == "workers":
        if sweep.get("weak"):
            g = sweep.get("gustafson_serial_fraction")
            return (
                f"Weak scaling: Gustafson's serial fraction {g:.2f}"
                if g is not None
                else "Weak scaling"
            )
        f, err = sweep.get("amdahl_serial_fraction"), sweep.get("amdahl_serial_fraction_err")
        best = max((p["speedup"] or 0.0) for p in sweep["points"])
        if f is None:
            return f"Best speedup {best:.2f}× (one worker only: nothing to fit)"
        pm = f" ± {err:.2f}" if err is not None else ""
        ceiling = "no ceiling" if f <= 0.005 else f"never past {1 / f:.1f}×"
        asked = sweep.get("serial_fraction") or 0.0
        told = f" (serial part asked: {asked:.0%})" if asked else ""
        cores = sweep.get("fit_max_workers")
        past = cores is not None and max(p["workers"] for p in sweep["points"]) > cores
        fitted = f" (fitted up to {cores} workers, the cores)" if past else ""
        return (
            f"Amdahl fit: serial fraction {f:.2f}{pm}{told}{fitted} → {ceiling} · "
            f"best speedup {best:.2f}×"
        )
    parts = []
    for strategy, ms in sorted(
        (sweep.get("break_even_task_ms") or {}).items(), key=lambda kv: _strategy_order(kv[0])
    ):
        parts.append(
            f"{strategy} pays from {ms:.3g} ms" if ms else f"{strategy} never beats sequential here"
        )
    return "Break-even task size: " + " · ".join(parts) if parts else "No strategy point yet."


def install(window) -> SweepView:
    """Add the Sweep page, its tab, View → Sweep (Ctrl+3) and the presentation scale."""
    view = SweepView(window.session, window.theme)
    view.interpreter = getattr(window.client, "interpreter", None)
    view.banner_fn = window.banner.show_message
    window.pages.addWidget(view)
    index = window.view_tabs.addTab("Sweep")
    window.view_tabs.setTabToolTip(
        index, "How far a strategy scales, and from what task size (Ctrl+3)"
    )

    def page_chosen(_i: int) -> None:
        # a sweep has figures of its own: it takes the summary's height too
        if window.pages.currentWidget() is view:
            view.show_latest()  # a session opened from a file brings its sweeps
            window.summary.setVisible(False)
            if window.width() < 1500:  # a 720p projector: the plots need the runs' width
                window.runs_panel.setVisible(False)

    window.view_tabs.currentChanged.connect(page_chosen)

    class _Resized(QObject):
        # the window shows the runs panel again on every resize: hide it after that
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Resize and window.pages.currentWidget() is view:
                QTimer.singleShot(0, lambda: page_chosen(0))
            return False

    view._resize_filter = _Resized(view)
    window.installEventFilter(view._resize_filter)
    action = QAction("S&weep (scaling and task size)", window)
    action.setShortcut(QKeySequence("Ctrl+3"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda _checked=False: window.show_page(view))
    view_menu = next(
        (a.menu() for a in window.menuBar().actions() if a.text() == "&View" and a.menu()), None
    )
    if view_menu is not None:
        view_menu.addAction(action)
    window.addAction(action)  # in full screen too, where the menu bar hides
    window.sweep_action = action
    window.client.strategiesReceived.connect(view.set_strategies)
    app = QApplication.instance()
    if app is not None:  # a sweep going on when the window closes ends with it
        app.aboutToQuit.connect(view.cancel)

    def look(*_args) -> None:
        view.set_scale(window.scale)

    window.presentationChanged.connect(look)
    for a in window.theme_actions.values():
        a.triggered.connect(lambda _c=False: view.set_theme(window.theme))
    look()
    return view
