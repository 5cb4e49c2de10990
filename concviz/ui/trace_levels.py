"""For a trace from another tool: which slices are the bars (top level, a depth, a name).

A small bar under the views, shown only while a trace run is on screen.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QHBoxLayout, QLabel, QWidget

from concviz.model.session import Run
from concviz.model.trace_levels import TOP, choices, store_for


class TraceLevelBar(QWidget):
    def __init__(self, timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.run: Run | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.addWidget(QLabel("Bars of this trace:"))
        self.combo = QComboBox()
        self.combo.setToolTip(
            "a profiler's trace nests calls: show its top level, any depth, "
            "or every call of one function as the bars"
        )
        self.combo.setMinimumContentsLength(24)
        self.combo.setEditable(True)  # type part of a function's name to find it
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.combo.completer()
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.combo.currentIndexChanged.connect(self._chosen)
        lay.addWidget(self.combo, 1)
        lay.addStretch(2)
        self.hide()

    def show_for(self, run: Run | None) -> None:
        """Offer the levels of ``run`` when it is a trace; hide otherwise."""
        if run is self.run and run is not None:
            return
        self.run = run
        if run is None or run.source != "trace":
            self.hide()
            return
        with QSignalBlocker(self.combo):  # filling the list is not a choice
            self.combo.clear()
            for label, key in choices(run):
                self.combo.addItem(label, key)
        self.setVisible(self.combo.count() > 1)

    def choose(self, key: tuple[str, int]) -> None:
        for i in range(self.combo.count()):
            if tuple(self.combo.itemData(i)) == tuple(key):
                self.combo.setCurrentIndex(i)
                return
        raise KeyError(key)

    def _chosen(self, index: int) -> None:
        run = self.run
        if run is None or index < 0:
            return
        key = tuple(self.combo.itemData(index))
        vb = self.timeline.gantt_plot.vb
        x_range = vb.viewRange()[0]
        store = store_for(run, key if key != TOP else TOP)
        self.timeline.set_store(store, self.timeline.t0_ns)
        self.timeline.refresh()
        vb.setXRange(*x_range, padding=0)  # the same time span: only the bars change
