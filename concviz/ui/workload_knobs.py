"""The knobs of the workloads that share objects or form a task graph, in the window.

The CLI's ``--sync``, ``--critical-fraction``, ``--limit``, ``--queue-size``,
``--producer-ms`` and ``--width``: each shown only while a workload that takes it is
chosen, and sent in the start's options. The lab checks every value again.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

# the --sync modes each workload takes, its default first
SYNC_MODES: dict[str, tuple[str, ...]] = {
    "shared-counter": ("none", "lock", "atomic", "local-then-merge"),
    "deadlock": ("opposite", "ordered"),
}
# which numeric knob (an option's name) each workload shows
NUMERIC: dict[str, tuple[str, ...]] = {
    "contended-lock": ("critical_fraction",),
    "bounded-pool": ("limit",),
    "producer-consumer": ("queue_size", "producer_ms"),
    **{g: ("width",) for g in ("pipeline", "wavefront", "random-dag")},
}
_SYNC_TIPS = {
    "none": "read, then write: updates between the two are lost",
    "lock": "the read and the write under one lock: nothing lost, tasks wait",
    "atomic": "one indivisible step per add (nothing runs between read and write)",
    "local-then-merge": "each task counts on its own and adds its total once",
    "opposite": "two tasks take locks A and B in opposite orders: a deadlock",
    "ordered": "every task takes A before B: no cycle, the run finishes",
}


class WorkloadKnobs(QWidget):
    """A row of the chosen workload's knobs (empty, and hidden, for the others)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.sync_label = QLabel("Sync")
        self.sync = QComboBox()
        self.sync.setToolTip("how the tasks share the object (--sync)")
        lay.addWidget(self.sync_label)
        lay.addWidget(self.sync)
        self.spins: dict[str, QSpinBox] = {}
        self.labels: dict[str, QLabel] = {}
        specs = (
            ("critical_fraction", "Critical part", 0, 100, 50, " %",
             "contended-lock: share of each task's work done holding the lock"),
            ("limit", "Limit", 1, 1000, 2, "", "bounded-pool: tasks let in at once"),
            ("queue_size", "Queue size", 1, 10_000, 4, "",
             "producer-consumer: how many items the queue holds at most"),
            ("producer_ms", "Producer", 0, 10_000, 0, " ms",
             "producer-consumer: ms to make one item (default: twice as fast as a consumer "
             "takes one, so the queue fills)"),
            ("width", "Width", 1, 256, 4, "",
             "a task graph's width: pipeline stages, wavefront columns, random-dag layer"),
        )  # fmt: skip
        for key, name, lo, hi, default, suffix, tip in specs:
            label, box = QLabel(name), QSpinBox()
            box.setRange(lo, hi)
            box.setValue(default)
            box.setSuffix(suffix)
            if key == "producer_ms":
                box.setSpecialValueText("default")
            for w in (label, box):
                w.setToolTip(tip)
                lay.addWidget(w)
            self.spins[key], self.labels[key] = box, label
        self.workload = ""
        self.set_workload("")

    def set_workload(self, name: str) -> None:
        """Show the knobs ``name`` takes (keeping a value already chosen for it)."""
        modes = SYNC_MODES.get(name, ())
        if name != self.workload:
            self.sync.clear()
            for mode in modes:
                self.sync.addItem(mode)
                self.sync.setItemData(self.sync.count() - 1, _SYNC_TIPS[mode], 3)  # tooltip
        self.workload = name
        for w in (self.sync_label, self.sync):
            w.setVisible(bool(modes))
        shown = NUMERIC.get(name, ())
        for key in self.spins:
            self.spins[key].setVisible(key in shown)
            self.labels[key].setVisible(key in shown)
        self.setVisible(self.has_knobs())

    def has_knobs(self) -> bool:
        return bool(SYNC_MODES.get(self.workload) or NUMERIC.get(self.workload))

    def options(self) -> dict:
        """The start's options for the chosen workload's knobs."""
        out: dict = {}
        mode = self.sync.currentText()
        # the deadlock's default ("opposite") is what it does without the option
        if self.workload in SYNC_MODES and mode and mode != "opposite":
            out["sync"] = mode
        for key in NUMERIC.get(self.workload, ()):
            value = self.spins[key].value()
            if key == "critical_fraction":
                out[key] = value / 100.0
            elif key == "producer_ms":
                if value > 0:
                    out[key] = float(value)
            else:
                out[key] = value
        return out

    def show_values(self, knobs: dict) -> None:
        """Set the widgets from ``--knob`` values given to the window (those they show)."""
        for key, value in knobs.items():
            if key == "sync" and self.sync.findText(str(value)) >= 0:
                self.sync.setCurrentText(str(value))
            elif key in self.spins and isinstance(value, (int, float)):
                box = self.spins[key]
                box.setValue(round(value * 100 if key == "critical_fraction" else value))

    def set_enabled(self, on: bool) -> None:
        self.sync.setEnabled(on)
        for box in self.spins.values():
            box.setEnabled(on)
