"""The Gantt's legend as a row of colour swatches, in widget text (crisp, large).

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from . import theme as T


class LegendBar(QWidget):
    """What a bar's colour means."""

    def __init__(self, theme: T.Theme = T.LIGHT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 8, 0)
        outer.setSpacing(2)
        self._swatches: list[tuple[QLabel, str]] = []
        self._entries: list[tuple[str, tuple[QWidget, ...]]] = []
        self._rows: list[QHBoxLayout] = []
        rows = [
            ("Tasks", [
                ("waits0", "running", "the task's thread was on a CPU (its measured CPU time)"),
                ("waits2", "GIL wait",
                 "asleep until another thread hands over the GIL (sampled 200× a second)"),
                ("waits1", "CPU wait",
                 "ready to run, but another thread or program held the core (the kernel's "
                 "run-queue delay)"),
                ("waits3", "I/O · sleep · lock",
                 "asleep in a system call: reading, writing, sleeping, or on a lock"),
                ("bars2", "computing", "on a CPU for ≥70% of its wall time"),
                ("bars1", "partly waiting", "on a CPU for 30-70%: waiting for the GIL or I/O"),
                ("bars0", "mostly waiting", "on a CPU for <30% of its wall time"),
                ("running", "in progress", "still running: the bar grows"),
                ("error", "failed", "the task raised an exception"),
                ("stopped", "stopped", "the run was stopped before this task ended"),
                ("marker", "switch", "the strategy or worker count changed here"),
            ]),
            ("CPU", [
                ("heat", "per core, idle → busy", "each row is one core of this machine"),
                ("machine", "whole machine", "busy cores, every program included"),
                ("lab", "this lab", "busy cores used by the lab and its worker processes"),
            ]),
        ]  # fmt: skip
        for title, entries in rows:
            lay = QHBoxLayout()
            lay.setSpacing(6)
            head = QLabel(title)
            head.setObjectName("legendHead")
            lay.addWidget(head)
            for key, text, tip in entries:
                sw = QLabel()
                sw.setFixedSize(22, 16)
                sw.setToolTip(tip)
                lay.addWidget(sw)
                lab = QLabel(text)
                lab.setToolTip(tip)
                lay.addWidget(lab)
                gap = QWidget()
                gap.setFixedWidth(12)
                lay.addWidget(gap)
                self._swatches.append((sw, key))
                self._entries.append((key, (sw, lab, gap)))
            lay.addStretch(1)
            outer.addLayout(lay)
            self._rows.append(lay)
        self.set_theme(theme)
        self.set_waits(False)

    def add_trailing(self, widget: QWidget, row: int = 1) -> None:
        """Put ``widget`` at the right end of a row (the CPU row is short: room to spare)."""
        self._rows[row].addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)

    def set_waits(self, sampled: bool) -> None:
        """Name the colours bars are drawn in: the measured wait split, or CPU shares."""
        self.waits = sampled
        shown = {
            key: (key.startswith("waits") == sampled if key.startswith(("waits", "bars")) else True)
            for key, _ in self._entries
        }
        # hide before showing: both sets at once would be wide enough to grow the window
        for key, widgets in sorted(self._entries, key=lambda e: shown[e[0]]):
            for w in widgets:
                w.setVisible(shown[key])

    def set_theme(self, theme: T.Theme) -> None:
        for sw, key in self._swatches:
            if key.startswith("bars"):
                colour = theme.bars[int(key[-1])]
                sw.setStyleSheet(f"background:{colour}; border:none;")
            elif key.startswith("waits"):
                sw.setStyleSheet(f"background:{theme.waits[int(key[-1])]}; border:none;")
            elif key == "running":
                sw.setStyleSheet(f"background:{theme.bars[1]}; border:3px solid {theme.running};")
            elif key == "stopped":
                sw.setStyleSheet(
                    f"background:{theme.stopped}; border:2px dashed {theme.foreground};"
                )
            elif key == "heat":
                import pyqtgraph as pg

                cmap = pg.colormap.get(theme.heatmap)
                stops = ", ".join(
                    f"stop:{t:.2f} {cmap.map(t, mode='qcolor').name()}" for t in (0, 0.5, 1)
                )
                sw.setStyleSheet(
                    f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); border:none;"
                )
                sw.setFixedWidth(44)
            elif key in ("machine", "lab"):
                sw.setStyleSheet(
                    f"background:transparent; border:none; "
                    f"border-bottom:4px solid {getattr(theme, key)}; margin-bottom:6px;"
                )
            elif key == "marker":
                sw.setStyleSheet(
                    f"background:transparent; border-left:4px dashed {theme.marker}; margin-left:9px;"
                )
            else:
                sw.setStyleSheet(f"background:{getattr(theme, key)}; border:none;")

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Never what makes the window wider than the screen: at worst the row is cut."""
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), 320), hint.height())

    def set_scale(self, scale: float) -> None:
        for sw, key in self._swatches:
            sw.setFixedSize(int((44 if key == "heat" else 22) * scale), int(16 * scale))
