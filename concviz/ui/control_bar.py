"""The control bar: workload, strategy toggles, workers, tasks, task size, mode, Run/Stop.

It holds no logic beyond its widgets: it reports what the user chose with past-tense
signals, and the window decides what to send to the lab. Values set from code are
written with signals blocked, so they never echo back as user choices.

Threads: GUI thread only.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .expectations import tooltip
from .labeled_slider import LabeledSlider

# workloads that need more than the bar offers (a file path) are left to the CLI
_HIDDEN_WORKLOADS = {"user"}
_DEFAULT_WORKLOADS = {
    "cpu-python": "pure-Python arithmetic; holds the GIL",
    "cpu-native": "hashlib/zlib on large buffers; releases the GIL",
    "io-sleep": "time.sleep; waits without CPU",
}

# Threads and coroutines that wait on I/O cost little while they wait, so a thousand
# of them is a real design (a server's connections); CPU work gains nothing past the
# cores, and a process or subinterpreter each costs megabytes: those stay near them.
IO_WORKERS_MAX = 1000
_IO_STRATEGIES = {"asyncio", "asyncio-to-thread", "threads", "thread-pool"}


def workers_limit(strategy: str, workload: str, cores: int) -> int:
    """The most workers the control offers for ``strategy`` running ``workload``."""
    if strategy in _IO_STRATEGIES and workload.startswith("io-"):
        return IO_WORKERS_MAX
    return 2 * max(cores, 1)


class ControlBar(QWidget):
    """Choices for the next run, and live switches during a continuous one."""

    runClicked = Signal()
    stopClicked = Signal()
    strategyChosen = Signal(str)
    workersChosen = Signal(int)
    unavailableChosen = Signal(str)  # the sentence saying why, and how to install it
    engineSettingsClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cores = os.cpu_count() or 1
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)

        # the strategy buttons: two grids (Python's own, engines); in compact mode
        # (presentation on a small screen) one combo box in the parameter row instead
        self.strategy_line = QWidget()
        row1 = QHBoxLayout(self.strategy_line)
        row1.setContentsMargins(0, 0, 0, 0)
        self.strategy_label = QLabel("Strategy")
        row1.addWidget(self.strategy_label)
        self.strategy_row = QGridLayout()
        self.strategy_row.setSpacing(4)
        self._columns = 8
        row1.addLayout(self.strategy_row, 1)
        outer.addWidget(self.strategy_line)
        # engines from the field (joblib, Dask, Spark, MPI): a group of their own
        self.engine_line = QWidget()
        row_e = QHBoxLayout(self.engine_line)
        row_e.setContentsMargins(0, 0, 0, 0)
        self.engine_label = QLabel("Engines")
        row_e.addWidget(self.engine_label)
        self.engine_row = QGridLayout()
        self.engine_row.setSpacing(4)
        row_e.addLayout(self.engine_row, 1)
        self.engine_settings = QPushButton("Engine settings…")
        self.engine_settings.setToolTip(
            "Dask scheduler address, Spark master, MPI hostfile, threads per Dask worker"
        )
        self.engine_settings.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.engine_settings.clicked.connect(self.engineSettingsClicked)
        self.engine_settings.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.engine_line.hide()
        outer.addWidget(self.engine_line)
        self.engine_options: dict = {}  # sent with every run (see EngineSettingsDialog)
        self._groups: dict[str, str] = {}
        self.strategy_group = QButtonGroup(self)
        self.strategy_group.setExclusive(True)
        self.strategy_buttons: dict[str, QPushButton] = {}
        self.strategy_group.buttonClicked.connect(self._on_strategy_clicked)
        self._wanted_strategy = "threads"

        # the run's parameters, then its actions; the two go on separate lines when the
        # window is too narrow for one (a 720p projector), see resizeEvent
        self.params_box = QWidget()
        row2 = QHBoxLayout(self.params_box)
        row2.setContentsMargins(0, 0, 0, 0)
        self.strategy_combo_label = QLabel("Strategy")
        self.strategy_combo = QComboBox()
        self.strategy_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.strategy_combo.activated.connect(self._on_strategy_combo)
        row2.addWidget(self.strategy_combo_label)
        row2.addWidget(self.strategy_combo)
        self.strategy_combo_label.hide()
        self.strategy_combo.hide()
        self.compact = False
        self.lesson_mode = False
        row2.addWidget(QLabel("Workload"))
        self.workload = QComboBox()
        # as wide as "cpu-python", not as the longest name ("producer-consumer" would push
        # a 720p projector's window off the screen); the open list shows every name whole
        self.workload.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.workload.setMinimumContentsLength(10)
        self.workload.view().setTextElideMode(Qt.TextElideMode.ElideNone)
        self.set_workloads(_DEFAULT_WORKLOADS)
        row2.addWidget(self.workload)

        row2.addSpacing(12)
        row2.addWidget(QLabel("Workers"))
        self.workers = LabeledSlider()
        self.workers.setRange(1, 2 * self.cores)
        self.workers.setValue(min(2, 2 * self.cores))
        self.workers.setMinimumWidth(160)
        # a drag across eight values is one choice: sent 300 ms after the last move
        self._workers_settled = QTimer(self)
        self._workers_settled.setSingleShot(True)
        self._workers_settled.setInterval(300)
        self._workers_settled.timeout.connect(self._workers_debounced)
        self.workers.valueChanged.connect(lambda _v: self._workers_settled.start())
        row2.addWidget(self.workers, 1)
        self.workload.currentIndexChanged.connect(lambda _i: self._sync_workers_limit())

        row2.addSpacing(12)
        row2.addWidget(QLabel("Tasks"))
        self.tasks = QSpinBox()
        self.tasks.setRange(1, 1_000_000)
        self.tasks.setValue(40)
        self.tasks.setToolTip("how many tasks a batch run has")
        row2.addWidget(self.tasks)

        row2.addWidget(QLabel("Task size"))
        self.task_ms = QSpinBox()
        self.task_ms.setRange(1, 10_000)
        self.task_ms.setValue(50)
        self.task_ms.setSuffix(" ms")
        self.task_ms.setToolTip("the time one task takes when it runs alone")
        row2.addWidget(self.task_ms)

        self.actions_box = QWidget()
        row3 = QHBoxLayout(self.actions_box)
        row3.setContentsMargins(0, 0, 0, 0)
        self.mode_group = QButtonGroup(self)
        self.batch_button = QPushButton("Batch")
        self.batch_button.setToolTip("run the given number of tasks, then stop")
        self.continuous_button = QPushButton("Continuous")
        self.continuous_button.setToolTip(
            "keep running until Stop; change strategy or workers while it runs"
        )
        for b in (self.batch_button, self.continuous_button):
            b.setCheckable(True)
            self.mode_group.addButton(b)
            row3.addWidget(b)
        self.batch_button.setChecked(True)
        self.mode_group.buttonToggled.connect(lambda *_: self._sync_mode())

        row3.addSpacing(12)
        self.run_button = QPushButton("▶ Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setToolTip("Run (Return or Space)")
        self.run_button.clicked.connect(self.runClicked)
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop (Esc)")
        self.stop_button.clicked.connect(self.stopClicked)
        self.stop_button.setEnabled(False)
        row3.addWidget(self.run_button)
        row3.addWidget(self.stop_button)
        # the knobs the CLI has: Amdahl's serial fraction, the mixed workload's CPU share,
        # and uneven tasks; hidden behind "Knobs" until a lesson or a teacher wants them
        self.knobs_button = QPushButton("Knobs")
        self.knobs_button.setCheckable(True)
        self.knobs_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.knobs_button.setToolTip(
            "serial fraction (Amdahl), CPU fraction, jitter, and the workload's own knobs "
            "(--sync, critical part, queue size, graph width...)"
        )
        row3.insertWidget(0, self.knobs_button)
        self.knobs_box = QWidget()
        knobs = QHBoxLayout(self.knobs_box)
        knobs.setContentsMargins(0, 0, 0, 0)
        self.serial_fraction = self._percent_box(
            knobs,
            "Serial part",
            95,
            "share of the sequential time that cannot run in parallel (Amdahl's law): "
            "a step before the tasks",
        )
        self.cpu_fraction = self._percent_box(
            knobs, "CPU share (mixed)", 100, "the mixed workload: computing share of each task"
        )
        self.cpu_fraction.setValue(50)
        self.jitter = self._percent_box(
            knobs, "Jitter", 99, "uneven work: each task's size varies by up to this much"
        )
        from .workload_knobs import WorkloadKnobs

        # the sharing workloads' and task graphs' own knobs (--sync, --width...)
        self.workload_knobs = WorkloadKnobs()
        knobs.addWidget(self.workload_knobs)
        self.workload.currentIndexChanged.connect(lambda _i: self._workload_knobs())
        knobs.addStretch(1)
        self.knobs_box.hide()
        self.knobs_button.toggled.connect(self.knobs_box.setVisible)
        self.run_line = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.run_line.setSpacing(12)
        self.run_line.addWidget(self.params_box, 1)
        self.run_line.addWidget(self.actions_box, 0, Qt.AlignmentFlag.AlignRight)
        outer.addLayout(self.run_line)
        outer.addWidget(self.knobs_box)
        for b in (self.run_button, self.stop_button, self.batch_button, self.continuous_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # Space belongs to the Run shortcut
        self.running = False
        self._sync_mode()
        self._sync_workers_limit()
        self._workload_knobs()

    # -- filled from the lab
    def set_strategies(self, items: list[dict]) -> None:
        for b in list(self.strategy_buttons.values()):
            self.strategy_group.removeButton(b)
            b.deleteLater()
        self.strategy_buttons.clear()
        self._groups.clear()
        for item in items:
            b = QPushButton(item["name"])
            # may shrink below the text's width on a narrow screen (the tooltip has it all)
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            b.setMinimumWidth(40)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            b.setProperty("strategy", item["name"])
            group = item.get("group", "python")
            self._groups[item["name"]] = group
            if item.get("available", True):
                b.setCheckable(True)
                b.setToolTip(tooltip(item["name"], item.get("description", "")))
                self.strategy_group.addButton(b)
            elif group == "engines":
                # an engine that is not installed stays clickable: it says how to get it
                why = f"{item['name']} is not available: {item.get('reason')}"
                hint = item.get("install")
                if hint:  # a command line, or (in the packaged app) what to do instead
                    why += (
                        f". Install it with: {hint}"
                        if hint.startswith(("pip ", "uv "))
                        else f". To use it, {hint}"
                    )
                b.setProperty("unavailable", True)
                b.setToolTip(why)
                b.clicked.connect(lambda _=False, why=why: self.unavailableChosen.emit(why))
            else:
                b.setEnabled(False)
                b.setToolTip(f"Not available: {item.get('reason')}")
            self.strategy_buttons[item["name"]] = b
        self.engine_line.setVisible(self._has_engines() and not self.compact)
        self._place_strategies()
        self._fill_strategy_combo(items)
        self.set_strategy(self._wanted_strategy)

    def set_columns(self, n: int) -> None:
        """Strategy buttons per row (fewer in presentation mode, where text is large)."""
        self._columns = max(1, n)
        self._place_strategies()

    def _grouped(self) -> tuple[list[QPushButton], list[QPushButton]]:
        python, engines = [], []
        for name, b in self.strategy_buttons.items():
            (engines if self._groups.get(name) == "engines" else python).append(b)
        return python, engines

    def _fitting_columns(self) -> int:
        """As many buttons per row as fit with their whole text, at most ``_columns``."""
        buttons = list(self.strategy_buttons.values())
        if not buttons:
            return self._columns
        fm = buttons[0].fontMetrics()
        # text + the stylesheet's side padding (10 px each side, scaled) + border + spacing
        need = max(fm.horizontalAdvance(b.text()) for b in buttons) + fm.height() * 2 + 8
        label = max(fm.horizontalAdvance("Strategy"), fm.horizontalAdvance("Engines"))
        avail = max(1, self.width() - label - 40)
        n = max(1, min(self._columns, avail // need))
        python, _ = self._grouped()
        rows = -(-max(1, len(python)) // n)
        return -(-max(1, len(python)) // rows)  # balance the rows: 8 on 2 rows -> 4 + 4

    def _place_strategies(self) -> None:
        for b in self.strategy_buttons.values():
            self.strategy_row.removeWidget(b)
            self.engine_row.removeWidget(b)
        columns = self._fitting_columns()
        self._placed_columns = columns
        python, engines = self._grouped()
        for i, b in enumerate(python):
            self.strategy_row.addWidget(b, i // columns, i % columns)
        # engines in the strategy buttons' columns, the settings button in the last cell
        self.engine_row.removeWidget(self.engine_settings)
        for i, b in enumerate([*engines, self.engine_settings]):
            self.engine_row.addWidget(b, i // columns, i % columns)
        # both labels as wide as the wider one, so the two grids line up
        width = max(self.strategy_label.sizeHint().width(), self.engine_label.sizeHint().width())
        self.strategy_label.setFixedWidth(width)
        self.engine_label.setFixedWidth(width)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._reflow()
        if self.strategy_buttons and self._fitting_columns() != getattr(self, "_placed_columns", 0):
            self._place_strategies()

    def _params_width(self, hint: str) -> int:
        """The parameter line's width (0 while a lesson has taken its room)."""
        if self.lesson_mode:
            return 0
        box = self.params_box
        return (box.sizeHint() if hint == "size" else box.minimumSizeHint()).width()

    def _one_line_width(self) -> int:
        m = self.layout().contentsMargins()
        return (
            self._params_width("size")
            + self.actions_box.sizeHint().width()
            + self.run_line.spacing()
            + m.left()
            + m.right()
        )

    @staticmethod
    def _percent_box(layout: QHBoxLayout, name: str, top: int, tip: str) -> QSpinBox:
        label = QLabel(name)
        box = QSpinBox()
        box.setRange(0, top)
        box.setSuffix(" %")
        for w in (label, box):
            w.setToolTip(tip)
        layout.addWidget(label)
        layout.addWidget(box)
        layout.addSpacing(12)
        box.setProperty("label", label)  # shown and hidden with its box
        return box

    def _reflow(self) -> None:
        """Parameters and actions on one line when they fit, else on two."""
        one_line = self.width() >= self._one_line_width()
        want = QBoxLayout.Direction.LeftToRight if one_line else QBoxLayout.Direction.TopToBottom
        if self.run_line.direction() != want:
            self.run_line.setDirection(want)
            self.updateGeometry()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Narrow enough for a 1280 px screen: the run line wraps rather than widen the window."""
        hint = super().minimumSizeHint()
        m = self.layout().contentsMargins()
        narrow = (
            max(self._params_width("minimum"), self.actions_box.sizeHint().width())
            + m.left()
            + m.right()
        )
        return QSize(min(hint.width(), narrow), hint.height())

    def set_lesson_mode(self, on: bool) -> None:
        """A lesson's Run this sets the strategy, the workload and the knobs: beside its
        panel on a narrow screen (a 720p projector) the parameter line gives the panel
        its room, and Run, Stop and the mode stay. Closing the panel brings it back."""
        if on == self.lesson_mode:
            return
        self.lesson_mode = on
        self.params_box.setVisible(not on)
        if on and self.knobs_button.isChecked():
            self.knobs_button.setChecked(False)
        self._reflow()
        self.updateGeometry()

    def set_compact(self, on: bool) -> None:
        """Compact: one strategy combo box in the parameter line instead of the button grids."""
        if on == self.compact:
            return
        self.compact = on
        self.strategy_line.setVisible(not on)
        self.engine_line.setVisible(not on and self._has_engines())
        self.strategy_combo_label.setVisible(on)
        self.strategy_combo.setVisible(on)
        self._reflow()

    def _has_engines(self) -> bool:
        return any(g == "engines" for g in self._groups.values())

    def _fill_strategy_combo(self, items: list[dict]) -> None:
        from PySide6.QtGui import QStandardItemModel

        combo = self.strategy_combo
        with QSignalBlocker(combo):
            combo.clear()
            python = [i for i in items if i.get("group", "python") != "engines"]
            engines = [i for i in items if i.get("group", "python") == "engines"]
            for group in (python, engines):
                if group is engines and engines and combo.count():
                    combo.insertSeparator(combo.count())
                for item in group:
                    combo.addItem(item["name"], item["name"])
                    row = combo.count() - 1
                    b = self.strategy_buttons.get(item["name"])
                    if b is not None:
                        combo.setItemData(row, b.toolTip(), Qt.ItemDataRole.ToolTipRole)
                    model = combo.model()
                    if not item.get("available", True) and group is python:
                        if isinstance(model, QStandardItemModel):
                            model.item(row).setEnabled(False)

    def _on_strategy_combo(self, index: int) -> None:
        name = self.strategy_combo.itemData(index)
        b = self.strategy_buttons.get(name) if isinstance(name, str) else None
        if b is None:
            return
        if b.property("unavailable"):
            b.click()  # says why and how to install it
            self.set_strategy(self._wanted_strategy)  # the combo goes back to what runs
            return
        if b.isCheckable():
            b.setChecked(True)
            self._on_strategy_clicked(b)

    def set_workloads(self, items: dict[str, str]) -> None:
        current = self.workload.currentText()
        users = [
            (self.workload.itemText(i), self.workload.itemData(i))
            for i in range(self.workload.count())
            if isinstance(self.workload.itemData(i), str)
        ]
        self.workload.blockSignals(True)
        self.workload.clear()
        for name, desc in items.items():
            if name in _HIDDEN_WORKLOADS:
                continue
            self.workload.addItem(name)
            self.workload.setItemData(self.workload.count() - 1, desc, Qt.ItemDataRole.ToolTipRole)
        for text, ref in users:
            self.workload.addItem(text, ref)
        if current:
            self.set_workload(current)
        self.workload.blockSignals(False)
        self._workload_knobs()
        view = self.workload.view()  # the open list: every name whole
        view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth() + 24)
        self._sync_workers_limit()

    # -- values
    def set_strategy(self, name: str) -> None:
        self._wanted_strategy = name
        b = self.strategy_buttons.get(name)
        if b is None or not b.isCheckable():
            b = next((x for x in self.strategy_buttons.values() if x.isCheckable()), None)
        if b is not None:
            with QSignalBlocker(self.strategy_group):
                b.setChecked(True)
            i = self.strategy_combo.findData(b.property("strategy"))
            if i >= 0:
                with QSignalBlocker(self.strategy_combo):
                    self.strategy_combo.setCurrentIndex(i)
        self._sync_workers_limit()

    def _sync_workers_limit(self) -> None:
        """The workers control's range follows the strategy and the workload; a value
        past a smaller limit comes down to it (silently: whoever changed the strategy
        or the workload sends the count with it)."""
        if not hasattr(self, "workers"):
            return  # the workload list is filled before the workers control exists
        top = workers_limit(self.strategy(), self.workload.currentText(), self.cores)
        if top == self.workers.maximum():
            return
        with QSignalBlocker(self.workers):
            self.workers.setRange(1, top)
        what = "threads or coroutines waiting on I/O" if top > 2 * self.cores else "workers"
        self.workers.setToolTip(
            f"1 to {top} {what} (this machine has {self.cores} cores)"
            + ("" if top > 2 * self.cores else "; I/O work under threads or asyncio goes to 1000")
        )

    def strategy(self) -> str:
        b = self.strategy_group.checkedButton()
        return b.property("strategy") if b is not None else self._wanted_strategy

    def _workload_knobs(self) -> None:
        """The Knobs row holds the chosen workload's own knobs."""
        if not hasattr(self, "workload_knobs"):
            return  # the workload list is filled before the knobs exist
        name = self.workload.currentText()
        self.workload_knobs.set_workload(name)
        # the mixed workload's CPU share means nothing to the others (and its room on
        # the row goes to their own knobs)
        mixed = name == "mixed"
        self.cpu_fraction.setVisible(mixed)
        self.cpu_fraction.property("label").setVisible(mixed)

    def set_workload(self, name: str) -> None:
        i = self.workload.findText(name)
        if i >= 0:
            self.workload.setCurrentIndex(i)

    def set_workers(self, n: int) -> None:
        """Show ``n`` workers. A count past the control's range (a lesson's eight
        threads of a task graph, a run opened from a file) widens it, so the bar shows
        what runs; the next choice of strategy or workload sets the range again."""
        self.workers.blockSignals(True)
        if n > self.workers.maximum():
            self.workers.setRange(1, n)
        self.workers.setValue(max(1, n))
        self.workers.blockSignals(False)

    def continuous(self) -> bool:
        return self.continuous_button.isChecked()

    def set_continuous(self, on: bool) -> None:
        (self.continuous_button if on else self.batch_button).setChecked(True)

    def add_user_workload(self, ref: str) -> None:
        """Offer ``path.py:function`` in the workload list (shown by file name) and pick it."""
        from .user_workload import workload_label

        i = self.workload.findData(ref)
        if i < 0:
            self.workload.addItem(workload_label(ref), ref)
            i = self.workload.count() - 1
            self.workload.setItemData(i, f"your function: {ref}", Qt.ItemDataRole.ToolTipRole)
        self.workload.setCurrentIndex(i)

    def params(self) -> dict:
        """The lab's ``start`` message (without ``cmd``) for the current choices."""
        ref = self.workload.currentData()
        if isinstance(ref, str) and ":" in ref:  # a user workload carries its path:function
            base = {"workload": "user", "user": ref}
        else:
            base = {"workload": self.workload.currentText()}
        return {
            **base,
            "strategy": self.strategy(),
            "workers": int(self.workers.value()),
            "tasks": int(self.tasks.value()),
            "task_ms": float(self.task_ms.value()),
            "mode": "continuous" if self.continuous() else "batch",
            "serial_fraction": self.serial_fraction.value() / 100.0,
            "cpu_fraction": self.cpu_fraction.value() / 100.0,
            "jitter": self.jitter.value() / 100.0,
            "options": {**self.engine_options, **self.workload_knobs.options()},
        }

    def set_running(self, running: bool) -> None:
        self.running = running
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for w in (
            self.workload,
            self.tasks,
            self.task_ms,
            self.serial_fraction,
            self.cpu_fraction,
            self.jitter,
            self.batch_button,
            self.continuous_button,
        ):
            w.setEnabled(not running)
        self.workload_knobs.set_enabled(not running)

    def _sync_mode(self) -> None:
        self.tasks.setEnabled(not self.continuous() and not self.running)

    # -- user actions
    def _on_strategy_clicked(self, button: QPushButton) -> None:
        self._wanted_strategy = button.property("strategy")
        self._sync_workers_limit()  # first: a live switch carries the count it allows
        self.strategyChosen.emit(self._wanted_strategy)

    def _workers_debounced(self) -> None:
        self.workersChosen.emit(int(self.workers.value()))
