"""The Gantt's legend as a row of colour swatches, in widget text (crisp, large).

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from concviz.model.sync_view import WAIT_STYLES

from . import theme as T
from .wait_rects import legend_swatch

_WAIT_TIPS = (
    "blocked acquiring a lock held by another task (hover a wait: which lock, held by whom)",
    "blocked on a semaphore: every slot was taken",
    "blocked putting into a full queue or taking from an empty one",
    "waiting at a barrier for the other workers to arrive",
    "waiting for an event or a condition to be set",
    "waiting for another task's result (a dependency)",
)


def stopped_swatch(theme: T.Theme, w: int, h: int) -> QPixmap:
    """A stopped task's look (``GanttItem._paint_stopped``): the stopped grey under the
    foreground's diagonal hatch."""
    pm = QPixmap(max(w, 1), max(h, 1))
    pm.fill(QColor(theme.stopped))
    p = QPainter(pm)
    hatch = QColor(theme.foreground)
    hatch.setAlphaF(0.45)
    p.fillRect(0, 0, w, h, QBrush(hatch, Qt.BrushStyle.BDiagPattern))
    p.end()
    return pm


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
                ("serial", "serial step",
                 "the run's part that no worker count shortens (Amdahl's serial fraction): "
                 "one thread alone, before the tasks"),
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
            if title == "Tasks":
                self._task_keys = [key for key, _text, _tip in entries]
                # the Tasks row's last entries, when the row is wider than the window
                # (a 720p projector beside the lessons): on a line of their own rather
                # than cut to "computin" and "partly wa"
                self.overflow = QHBoxLayout()
                self.overflow.setSpacing(6)
                self._overflow_indent = QWidget()
                self.overflow.addWidget(self._overflow_indent)
                self.overflow.addStretch(1)
                outer.addLayout(self.overflow)
        # the window's layout placed again once a reflow's pass is over (see _reflow); a
        # timer of the bar's own, which goes with it
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)
        self._relayout.timeout.connect(self._relayout_parent)
        self._split = len(self._task_keys)  # task entries on the first line
        self._trailing: tuple[QWidget, QHBoxLayout] | None = None  # see add_trailing
        self._trailing_in: QHBoxLayout | None = None
        # the trailing widget's own line, under the CPU row, when neither its row nor
        # the overflow line has room (at 720p beside the lessons, an Amdahl run's
        # "serial step" entry filled the overflow line and cut the view tabs)
        self.own_line = QHBoxLayout()
        self.own_line.addStretch(1)
        outer.addLayout(self.own_line)
        self._build_sharing_row(outer)
        self.set_theme(theme)
        self.set_waits(False)
        self.set_sharing([], [])

    def _build_sharing_row(self, outer: QVBoxLayout) -> None:
        """A third row, shown only for a run with waits on shared objects or counters."""
        self.sharing_row = QWidget()
        lay = QHBoxLayout(self.sharing_row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        head = QLabel("Sharing")
        head.setObjectName("legendHead")
        lay.addWidget(head)
        self._wait_entries: list[tuple[QLabel, QLabel, QWidget]] = []
        names = (
            "waiting on a lock",
            "waiting on a semaphore",
            "waiting on a queue",
            "waiting at a barrier",
            "waiting on an event",
            "waiting for a task's result",
        )
        for _style, name, tip in zip(WAIT_STYLES, names, _WAIT_TIPS, strict=True):
            sw, lab, gap = QLabel(), QLabel(name), QWidget()
            sw.setToolTip(tip)
            lab.setToolTip(tip)
            gap.setFixedWidth(12)
            for w in (sw, lab, gap):
                lay.addWidget(w)
            self._wait_entries.append((sw, lab, gap))
        self.counter_swatch, self.counter_label = QLabel(), QLabel()
        self.counter_label.setToolTip("how many items a queue held over time (right-hand axis)")
        lay.addWidget(self.counter_swatch)
        lay.addWidget(self.counter_label)
        self.critical_swatch = QLabel()
        self.critical_label = QLabel("critical path")
        self.critical_label.setToolTip(
            "the longest chain of dependencies by measured time: no number of workers "
            "finishes sooner"
        )
        self.arrow_label = QLabel("→ dependency (hover a task; Ctrl+D: all)")
        self.arrow_label.setToolTip(
            "from a dependency's end to the start of the task that needed it"
        )
        self._graph_gap = QWidget()
        self._graph_gap.setFixedWidth(12)
        for w in (self.critical_swatch, self.critical_label, self._graph_gap, self.arrow_label):
            lay.addWidget(w)
        lay.addStretch(1)
        outer.addWidget(self.sharing_row)
        self._scale = 1.0

    def set_sharing(
        self, styles: list[int], counters: list[str], graph: bool = False, serial: bool = False
    ) -> None:
        """Name the wait styles the Gantt draws now, the counters on the CPU panel, a
        task graph's outlines and arrows, and an Amdahl serial step's grey bar."""
        self.sharing = (list(styles), list(counters), graph, serial)
        self.serial_shown = serial
        self.set_waits(self.waits)  # the Tasks row's entries, the serial step's among them
        for w in (self.critical_swatch, self.critical_label, self._graph_gap, self.arrow_label):
            w.setVisible(graph)
        for k, widgets in enumerate(self._wait_entries):
            for w in widgets:
                w.setVisible(k in styles)
        self.counter_label.setText(
            "depth of " + ", ".join(f"'{n}'" for n in counters) + " (right axis)"
        )
        self.counter_swatch.setVisible(bool(counters))
        self.counter_label.setVisible(bool(counters))
        self.sharing_row.setVisible(bool(styles) or bool(counters) or graph)
        self._reflow()  # the serial step's entry may have come or gone from the Tasks row

    def _paint_sharing(self, theme: T.Theme) -> None:
        s = getattr(self, "_scale", 1.0)
        w, h = int(30 * s), int(16 * s)
        for k, (sw, _lab, _gap) in enumerate(self._wait_entries):
            sw.setFixedSize(w, h)
            sw.setPixmap(legend_swatch(k, theme, w, h, s))
        self.critical_swatch.setFixedSize(int(22 * s), int(16 * s))
        self.critical_swatch.setStyleSheet(
            f"background:{theme.bars[0]}; border:{max(2, int(3 * s))}px solid {theme.foreground};"
        )
        self.counter_swatch.setFixedSize(int(22 * s), int(16 * s))
        self.counter_swatch.setStyleSheet(
            f"background:transparent; border:none; "
            f"border-bottom:{max(3, int(3 * s))}px solid {theme.sync}; margin-bottom:6px;"
        )

    def set_cpu_shown(self, shown: bool) -> None:
        """The CPU row's entries, for a page that draws the CPU panel (the compare view
        and the Sweep page draw none: the legend named lines no one could find). The
        row itself stays: the view tabs may sit at its end."""
        self.cpu_shown = shown
        self._rows[1].itemAt(0).widget().setVisible(shown)  # the row's "CPU" head
        self.set_waits(self.waits)  # which entries show is decided there, in one place
        self._reflow()

    def add_trailing(self, widget: QWidget, row: int = 1) -> None:
        """Put ``widget`` at the right end of a row (the CPU row is short: room to spare);
        where the row is too short for it (beside the lessons dock on a 720p projector
        the view tabs were cut to "Sw"), at the right end of the line below the Tasks."""
        self._trailing = (widget, self._rows[row])
        self._trailing_in = self._rows[row]
        self._rows[row].addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)
        self._reflow()

    def set_waits(self, sampled: bool) -> None:
        """Name the colours bars are drawn in: the measured wait split, or CPU shares."""
        self.waits = sampled
        shown = {
            key: (key.startswith("waits") == sampled if key.startswith(("waits", "bars")) else True)
            for key, _ in self._entries
        }
        shown["serial"] = getattr(self, "serial_shown", False)
        for key in ("heat", "machine", "lab"):
            shown[key] = getattr(self, "cpu_shown", True)
        # hide before showing: both sets at once would be wide enough to grow the window
        for key, widgets in sorted(self._entries, key=lambda e: shown[e[0]]):
            for w in widgets:
                w.setVisible(shown[key])
        if hasattr(self, "_split"):
            self._reflow()

    def set_theme(self, theme: T.Theme) -> None:
        self._theme = theme
        self._paint_sharing(theme)
        for sw, key in self._swatches:
            if key.startswith("bars"):
                colour = theme.bars[int(key[-1])]
                sw.setStyleSheet(f"background:{colour}; border:none;")
            elif key.startswith("waits"):
                sw.setStyleSheet(f"background:{theme.waits[int(key[-1])]}; border:none;")
            elif key == "running":
                sw.setStyleSheet(f"background:{theme.bars[1]}; border:3px solid {theme.running};")
            elif key == "stopped":  # as the Gantt draws it: grey, hatched (a dashed
                # box matched nothing on the timeline)
                sw.setStyleSheet("border:none;")
                sw.setPixmap(stopped_swatch(theme, sw.width(), sw.height()))
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
            if key == "stopped":
                sw.setPixmap(
                    stopped_swatch(getattr(self, "_theme", T.LIGHT), sw.width(), sw.height())
                )
        self._scale = scale
        self._paint_sharing(getattr(self, "_theme", T.LIGHT))
        self._reflow()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._reflow()

    def _task_widgets(self) -> list[tuple[QWidget, ...]]:
        found = dict(self._entries)
        return [found[key] for key in self._task_keys]

    def _reflow(self) -> None:
        """As many Tasks entries on the first line as fit its width; the rest below."""
        before = self.minimumSizeHint().height()
        self._flow()
        if self.minimumSizeHint().height() != before:
            # a line came or went while the window's layout was placing this bar (a
            # resize: the lessons dock opening beside it). The bar's own layout grew it,
            # but the window's layout had already placed the timeline under its old
            # height and did not place it again: the timeline covered the CPU row and
            # the view tabs (1280x720, presentation mode, F1). Place them all again
            # once this pass is over.
            self._relayout.start()

    def _relayout_parent(self) -> None:
        self.updateGeometry()
        parent = self.parentWidget()
        lay = parent.layout() if parent is not None else None
        if lay is not None:
            lay.invalidate()
            lay.activate()

    def _flow(self) -> None:
        entries = self._task_widgets()
        row = self._rows[0]
        head = row.itemAt(0).widget()
        spacing = row.spacing()
        m = self.layout().contentsMargins()
        room = self.width() - m.left() - m.right()
        used = head.sizeHint().width() + spacing
        split = len(entries)
        for i, widgets in enumerate(entries):
            if not widgets[0].isVisibleTo(self):
                continue
            # a swatch and a gap have fixed widths (their size hints say less)
            need = sum(max(w.sizeHint().width(), w.minimumWidth()) for w in widgets)
            need += spacing * len(widgets)
            if used + need > room and i > 0:
                split = i
                break
            used += need
        if split != self._split:
            self._split = split
            self._place_tasks(entries, split)
        self._place_trailing(room)
        shown = split < len(entries) or self._trailing_in is self.overflow
        self._overflow_indent.setFixedWidth(head.sizeHint().width())
        self._overflow_indent.setVisible(shown)

    def _place_trailing(self, room: int) -> None:
        """The trailing widget on its row when the row has room for it, else below."""
        trailing = self._trailing
        if trailing is None:
            return
        widget, home = trailing

        def need(line: QHBoxLayout, extra: int = 0) -> int:
            others = [line.itemAt(i).widget() for i in range(line.count())]
            # a swatch and a gap have fixed widths (their size hints say less)
            return (
                extra
                + widget.sizeHint().width()
                + sum(
                    max(w.sizeHint().width(), w.minimumWidth()) + line.spacing()
                    for w in others
                    if w not in (None, widget, self._overflow_indent) and w.isVisibleTo(self)
                )
            )

        head = self._rows[0].itemAt(0).widget().sizeHint().width() + self.overflow.spacing()
        if need(home) <= room:
            target = home
        elif need(self.overflow, head) <= room:
            target = self.overflow
        else:
            target = self.own_line
        if target is self._trailing_in:
            return
        self._trailing_in.removeWidget(widget)
        target.addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)
        self._trailing_in = target

    def _place_tasks(self, entries: list[tuple[QWidget, ...]], split: int) -> None:
        row = self._rows[0]
        for i, widgets in enumerate(entries):
            target, index = (row, 1 + 3 * i) if i < split else (self.overflow, None)
            for k, w in enumerate(widgets):
                row.removeWidget(w)  # from whichever line holds it
                self.overflow.removeWidget(w)
                if index is not None:
                    target.insertWidget(index + k, w)
                else:  # before the overflow line's stretch
                    self.overflow.insertWidget(self._stretch_index(), w)

    def _stretch_index(self) -> int:
        """Where the overflow line's stretch is (the trailing widget may follow it)."""
        lay = self.overflow
        return next(i for i in range(lay.count()) if lay.itemAt(i).spacerItem() is not None)
