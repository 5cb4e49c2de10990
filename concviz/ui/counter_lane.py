"""Counters (a queue's depth) as step lines on the CPU panel's time axis, with their own y axis.

The CPU totals plot counts cores; a queue holds items. So the counters get a second
view box over the same plot, x-linked to it, with its scale on the right axis
("items"); each counter is one line, named in the window's legend. Drawn only when
the run has counters.

Threads: GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from . import theme as T

# line styles for a second, third... counter: told apart without a new hue
_DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)


class CounterLane:
    """Counter lines over ``plot`` (the CPU totals), on a right-hand axis of their own."""

    def __init__(self, plot: pg.PlotItem, theme: T.Theme = T.LIGHT) -> None:
        self.plot = plot
        self.theme = theme
        self.width = 2.0
        self.vb = pg.ViewBox(enableMenu=False)
        self.vb.setMouseEnabled(x=False, y=False)
        self._in_scene = False  # added to the plot's scene once it has one
        self.vb.setXLink(plot)
        self.axis = plot.getAxis("right")
        self.axis.linkToView(self.vb)
        self.axis.enableAutoSIPrefix(False)
        self.curves: list[pg.PlotDataItem] = []
        self.names: list[str] = []
        self.series: list[tuple[str, np.ndarray, np.ndarray]] = []
        plot.vb.sigResized.connect(self._follow_geometry)
        self._follow_geometry()

    def _follow_geometry(self, *_args) -> None:
        if not self._in_scene and self.plot.scene() is not None:
            self.plot.scene().addItem(self.vb)
            self._in_scene = True
        self.vb.setGeometry(self.plot.vb.sceneBoundingRect())
        self.vb.linkedViewChanged(self.plot.vb, self.vb.XAxis)

    def set_series(self, series: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """One ``(name, x seconds, value)`` per counter (``model.sync_view.counter_series``)."""
        self.series = series
        for c in self.curves:
            self.vb.removeItem(c)
        self.curves = []
        self.names = [name for name, _x, _y in series]
        if not series:
            self.plot.hideAxis("right")
            return
        self._follow_geometry()
        top = 1.0
        for k, (_name, x, y) in enumerate(series):
            # sample and hold: each value lasts until the next sample
            curve = pg.PlotDataItem(np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1])
            curve.setPen(self._pen(k))
            self.vb.addItem(curve)
            self.curves.append(curve)
            if len(y):
                top = max(top, float(y.max()))
        # the full queue a quarter below the top, where the whole machine's line runs
        # when every core is busy: the two lines stay apart
        self.vb.setYRange(0, top * 1.3, padding=0)
        # the lane is short: 0, the most items, and a middle one if it is a whole number
        ticks = sorted({0, int(top), int(top) // 2} if top >= 4 else {0, int(top)})
        self.axis.setTicks([[(float(v), str(v)) for v in ticks], []])
        self.plot.showAxis("right")
        self.axis.setLabel("items", color=self.theme.sync)
        self.axis.setPen(pg.mkPen(self.theme.sync))
        self.axis.setTextPen(pg.mkPen(self.theme.sync))

    def _pen(self, k: int):
        return pg.mkPen(self.theme.sync, width=self.width + 1, style=_DASHES[k % len(_DASHES)])

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self.set_series(self.series)

    def set_line_width(self, w: float) -> None:
        self.width = w
        for k, c in enumerate(self.curves):
            c.setPen(self._pen(k))

    def points(self) -> int:
        """How many samples the lines hold (for tests)."""
        return sum(len(c.getData()[0] if c.getData()[0] is not None else ()) for c in self.curves)
