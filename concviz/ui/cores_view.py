"""Cores view: which worker thread ran on which core over time, and how often it moved.

Each worker is a row; each thread sample is a short block coloured by the core the
thread last ran on (``/proc/<pid>/task/<tid>/stat`` field 39), so a migration shows
as a change of colour. The row label counts the migrations seen. Linux only: other
systems do not say which core a thread is on, and the view says so.

Threads: GUI thread only; it reads a ``ThreadSamples`` the GIL lens's watch fills.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from concviz.model.event_store import EventStore
from concviz.model.thread_samples import ThreadSamples, migrations

from . import theme as T
from .gil_lens import LabThreadWatch, worker_tids
from .plot_style import style_axes, theme_plots

CORE_COLOURS = [
    T.OKABE_ITO[k]
    for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")
]
LINUX = sys.platform.startswith("linux")


def core_colour(core: int, n_cores: int, theme: T.Theme = T.LIGHT) -> QColor:
    """The colour of ``core`` of ``n_cores``; Okabe-Ito's black is the theme's text colour,
    so the eighth core does not vanish into a dark background."""
    if core < 0:
        return QColor(theme.muted)
    if n_cores <= len(CORE_COLOURS):
        colour = CORE_COLOURS[core % len(CORE_COLOURS)]
        return QColor(theme.foreground if colour == T.OKABE_ITO["black"] else colour)
    return pg.colormap.get("cividis").map(core / max(n_cores - 1, 1), mode="qcolor")


class _CoreBlocks(pg.GraphicsObject):
    """Rows of sample blocks coloured by core, one ``drawRects`` per core."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: dict[int, list[QRectF]] = {}
        self.n_cores = 1
        self.theme = T.LIGHT
        self._bounds = QRectF()

    def set_blocks(self, blocks: dict[int, list[QRectF]], n_cores: int, bounds: QRectF) -> None:
        self.prepareGeometryChange()
        self.blocks, self.n_cores, self._bounds = blocks, n_cores, bounds
        self.informViewBoundsChanged()  # so the view's auto-range follows new samples
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(self._bounds)

    def paint(self, p: QPainter, *args) -> None:
        try:
            p.setPen(pg.mkPen(None))
            for core, rects in self.blocks.items():
                p.setBrush(QBrush(core_colour(core, self.n_cores, self.theme)))
                p.drawRects(rects)
        except Exception:  # an exception escaping paint() takes the app down
            import traceback

            traceback.print_exc()


class CoresView(QWidget):
    """Rows per worker thread, coloured by core; refreshed at 5 Hz."""

    def __init__(
        self,
        source: Callable[[], tuple[EventStore | None, int | None]],
        watch: LabThreadWatch | None = None,
        theme: T.Theme = T.LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("concviz — cores")
        self.source = source
        self.watch = watch if watch is not None else LabThreadWatch(parent=self)
        self.migrations: dict[str, int] = {}
        lay = QVBoxLayout(self)
        f = QFont()
        f.setPointSizeF(T.BASE_POINT_SIZE * 1.2)
        self.note = QLabel(
            "Which core each worker thread ran on (colour = core); a change of colour is a "
            "migration."
            if LINUX
            else "Cores view: Linux only — this system does not say which core a thread is on."
        )
        self.note.setFont(f)
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.legend = QLabel("")
        self.legend.setFont(f)
        lay.addWidget(self.legend)
        self.theme = theme
        self.plot = pg.PlotWidget(background=theme.background, enableMenu=False)
        pi = self.plot.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.invertY(True)
        pi.setMouseEnabled(x=True, y=False)
        size = {"font-size": f"{T.BASE_POINT_SIZE:.0f}pt", "color": theme.foreground}
        pi.setLabel("bottom", "seconds since the run started", **size)
        style_axes(pi, theme)
        pi.getAxis("bottom").enableAutoSIPrefix(False)  # seconds, never "(x0.001)"
        self.blocks = _CoreBlocks()
        pi.addItem(self.blocks)
        lay.addWidget(self.plot, 1)
        self.n_cores = 1
        self._cores_seen: list[int] = []
        self._key: tuple = ()
        self.set_theme(theme)
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def set_theme(self, theme: T.Theme) -> None:
        """Recolour the plot, the blocks and the core legend."""
        self.theme = theme
        self.blocks.theme = theme
        self.blocks.update()
        theme_plots(self.plot, [self.plot.getPlotItem()], theme)
        self._show_legend()

    def _show_legend(self) -> None:
        self.legend.setText(
            "  ".join(
                f"<span style='background:{core_colour(c, self.n_cores, self.theme).name()}'>"
                f"&nbsp;&nbsp;&nbsp;&nbsp;</span> core {c}"
                for c in self._cores_seen
            )
        )

    def refresh(self) -> None:
        store, pid = self.source()
        self.watch.watch(pid)
        samples: ThreadSamples = self.watch.samples
        if store is None or not store.runs:
            return
        waits = store.waits if store.waits is not None and len(store.waits) else None
        key = (id(store), store.version, samples.version, waits.version if waits else -1)
        if key == self._key:
            return
        self._key = key
        t0 = int(store.runs[-1].started["t_ns"])
        tids = worker_tids(store)
        if waits is not None:
            # sampled beside every run, so a lens opened after the run still shows it
            w = waits.view()
            known = w["core"] >= 0
            v = {"t": w["t"][known], "tid": w["tid"][known], "core": w["core"][known]}
        else:
            v = samples.view()
        self.n_cores = int((store.hello or {}).get("cores") or 1)
        blocks: dict[int, list[QRectF]] = {}
        ticks = []
        x_max = 0.0
        self.migrations = {}
        for row, (tid, label) in enumerate(sorted(tids.items(), key=lambda kv: kv[1])):
            sel = (v["tid"] == tid) & (v["t"] >= t0)
            t = (v["t"][sel] - t0) / 1e9
            core = v["core"][sel]
            if not len(t):
                continue
            moves = migrations(core)
            self.migrations[label] = moves
            ticks.append((row, f"{label} · {moves} move{'' if moves == 1 else 's'}"))
            right = np.r_[t[1:], t[-1] + (np.median(np.diff(t)) if len(t) > 1 else 0.05)]
            for x0, x1, c in zip(t.tolist(), right.tolist(), core.tolist(), strict=True):
                blocks.setdefault(int(c), []).append(QRectF(x0, row - 0.35, x1 - x0, 0.7))
            x_max = max(x_max, float(right[-1]))
        n = max(len(ticks), 1)
        self.blocks.set_blocks(blocks, self.n_cores, QRectF(0, -0.5, max(x_max, 1e-3), n))
        pi = self.plot.getPlotItem()
        pi.getAxis("left").setTicks([ticks, []])
        pi.setYRange(-0.6, n - 0.4, padding=0)
        self._cores_seen = sorted(c for c in blocks if c >= 0)
        self._show_legend()
