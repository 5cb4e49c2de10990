"""Which strategies "Compare all" runs: every available one of Python's own, ticked.

Sequential always runs, and first: it is the others' speedup baseline. Engines (joblib,
Dask, Spark, MPI) start clusters and JVMs that take seconds, so they run only when
ticked; a strategy this lab cannot run is shown, greyed, with the reason.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


def default_choice(item: dict) -> bool:
    """Ticked at first: an available strategy of Python's own (not an engine)."""
    return bool(item.get("available", True)) and item.get("group", "python") != "engines"


class CompareDialog(QDialog):
    """Ticks for the strategies to compare; ``chosen()`` lists them, sequential first."""

    def __init__(self, items: list[dict], what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare all strategies")
        self.setObjectName("compareDialog")
        lay = QVBoxLayout(self)
        intro = QLabel(
            f"Run <b>{what}</b> under each ticked strategy, one after another. "
            "Sequential runs first: it is the baseline for every speedup."
        )
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.boxes: dict[str, QCheckBox] = {}
        for group, heading in (("python", "Python's own"), ("engines", "Engines (slow to start)")):
            members = [i for i in items if i.get("group", "python") == group]
            if not members:
                continue
            head = QLabel(f"<b>{heading}</b>")
            lay.addWidget(head)
            grid = QGridLayout()
            for k, item in enumerate(members):
                name = item["name"]
                box = QCheckBox(name)
                box.setObjectName(f"compare-{name}")
                available = bool(item.get("available", True))
                box.setChecked(default_choice(item))
                box.setEnabled(available and name != "sequential")
                if name == "sequential":
                    box.setChecked(available)
                    box.setToolTip("always runs first: the baseline")
                elif not available:
                    box.setToolTip(f"not available: {item.get('reason')}")
                else:
                    box.setToolTip(item.get("description", ""))
                grid.addWidget(box, k // 3, k % 3)
                self.boxes[name] = box
            lay.addLayout(grid)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.run_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.run_button.setText("Run them")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        for box in self.boxes.values():
            box.toggled.connect(lambda _on: self._sync())
        self._sync()

    def set_only(self, names: list[str]) -> None:
        """Tick exactly ``names`` (and sequential): for a quick, scripted comparison."""
        for name, box in self.boxes.items():
            if box.isEnabled():
                box.setChecked(name in names)

    def chosen(self) -> list[str]:
        """The ticked strategies in the lab's order, sequential first."""
        names = [n for n, b in self.boxes.items() if b.isChecked()]
        return sorted(names, key=lambda n: n != "sequential")

    def _sync(self) -> None:
        self.run_button.setEnabled(len(self.chosen()) >= 1)
