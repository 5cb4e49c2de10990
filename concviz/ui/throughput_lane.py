"""Tasks per second on the CPU totals' time axis, so a live switch reads as a step.

The CPU totals plot counts busy cores (the machine's and the lab's); this lane adds the
tasks that ended per second, smoothed over ``SMOOTH_S``, on a right-hand axis of its
own ("tasks/s") in the green the cores' lines and the bars do not use (the rate's
colour in the segments panel too). While it shows, the CPU totals get more of the
height than the per-core strip, so the step is tall enough to see from the back. A queue's depth (the counter
lane) needs the same axis: when a run has counters, they keep it and this lane hides.

Threads: GUI thread only.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

from concviz.model.segments import THROUGHPUT_BIN_NS

from . import theme as T

SMOOTH_S = 1.0


class ThroughputLane:
    """A tasks/s line over ``plot`` (the CPU totals), on the right-hand axis."""

    def __init__(self, plot: pg.PlotItem, theme: T.Theme = T.LIGHT, layout=None) -> None:
        self.plot = plot
        self.layout = layout  # the timeline's grid: rows 0 Gantt, 1 per-core, 2 totals
        self.theme = theme
        self.width = 2.0
        self.vb = pg.ViewBox(enableMenu=False)
        self.vb.setMouseEnabled(x=False, y=False)
        self.vb.setXLink(plot)
        self._in_scene = False
        self.curve = pg.PlotDataItem()
        self.vb.addItem(self.curve)
        self.axis = plot.getAxis("right")
        self.shown = False
        self.top = 0.0
        plot.vb.sigResized.connect(self._follow_geometry)

    def _follow_geometry(self, *_args) -> None:
        if self.shown and self.top:
            self._ticks()  # as many labels as the lane's new height has room for
        if not self._in_scene and self.plot.scene() is not None:
            self.plot.scene().addItem(self.vb)
            self._in_scene = True
        self.vb.setGeometry(self.plot.vb.sceneBoundingRect())
        self.vb.linkedViewChanged(self.plot.vb, self.vb.XAxis)

    def set_counts(self, counts: np.ndarray | None, t0_ns: int, first_bin_ns: int) -> None:
        """``counts``: tasks ended per THROUGHPUT_BIN_NS bin from ``first_bin_ns`` on
        (None: hide the lane)."""
        if counts is None or not len(counts):
            self.hide()
            return
        k = max(1, int(SMOOTH_S * 1e9 / THROUGHPUT_BIN_NS))
        per_s = counts.astype(float) / (THROUGHPUT_BIN_NS / 1e9)
        if len(per_s) >= k:  # a trailing mean: the step is as sharp as the smoothing allows
            c = np.cumsum(np.r_[0.0, per_s])
            smooth = np.empty_like(per_s)
            smooth[k - 1 :] = (c[k:] - c[:-k]) / k
            smooth[: k - 1] = c[1:k] / np.arange(1, k)
        else:
            smooth = per_s
        x = (first_bin_ns - t0_ns + (np.arange(len(smooth)) + 1) * THROUGHPUT_BIN_NS) / 1e9
        # the newest bin is still filling: leave it out
        x, smooth = x[:-1], smooth[:-1]
        if not len(x):
            self.hide()
            return
        self.curve.setData(x, smooth)
        top = float(smooth.max()) if len(smooth) else 1.0
        if not self.shown or top > self.top or top < 0.6 * self.top:
            self.top = max(top, 1.0)
            self.vb.setYRange(0, self.top * 1.15, padding=0)
            self._ticks()
        if not self.shown:
            self.show()

    def _ticks(self) -> None:
        top = self.top
        step = 10 ** np.floor(np.log10(max(top, 1.0)))
        if top / step < 2.5:
            step /= 2
        ticks = [float(v) for v in np.arange(0, top * 1.1, step)][:4]
        # a short lane (a 720p projector with a banner) has room for two labels only
        line_px = QFontMetricsF(self.axis.style.get("tickFont") or self.axis.font()).height()
        room = max(2, int(self.plot.vb.height() / (1.5 * max(line_px, 8))))
        if len(ticks) > room:
            ticks = [ticks[0], ticks[-1]]
        self.axis.setTicks([[(v, f"{v:,.0f}") for v in ticks], []])

    def _stretch(self, shown: bool) -> None:
        lay = self.layout
        if lay is not None:
            lay.setRowStretchFactor(0, 4 if shown else 6)
            lay.setRowStretchFactor(1, 1 if shown else 2)
            lay.setRowStretchFactor(2, 4 if shown else 2)

    def show(self) -> None:
        self._stretch(True)
        self._follow_geometry()
        self.axis.linkToView(self.vb)
        self.axis.enableAutoSIPrefix(False)
        self.plot.showAxis("right")
        self.axis.setLabel("tasks/s", color=self.theme.sync)
        self.axis.setPen(pg.mkPen(self.theme.sync))
        self.axis.setTextPen(pg.mkPen(self.theme.sync))
        self.curve.setPen(self._pen())
        self.curve.show()
        self.shown = True

    def hide(self) -> None:
        if self.shown:
            self.curve.hide()
            self.curve.setData([], [])
            self.plot.hideAxis("right")
            self._stretch(False)
            self.shown = False
            self.top = 0.0

    def _pen(self):
        return pg.mkPen(self.theme.sync, width=self.width + 1.5, style=Qt.PenStyle.SolidLine)

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        if self.shown:
            self.show()

    def set_line_width(self, w: float) -> None:
        self.width = w
        self.curve.setPen(self._pen())
