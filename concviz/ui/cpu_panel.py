"""Per-core CPU on the Gantt's time axis: a cores × time heatmap and a total line.

The total plot shows the whole machine and the lab's own process tree side by side
(in cores), so load from other programs is visible rather than mistaken for the run.

Threads: every method runs on the GUI thread; it reads the sampler's ``CpuSeries``.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from concviz.model.cpu_series import CpuSeries

from . import theme as T

# new samples are drawn at most this often (a panel that moved is redrawn at once): a
# system monitor's pace
SAMPLES_HZ = 5.0
# the newest samples are drawn by tail items of their own until they span this long,
# then handed to the history items in one redraw: between, a new sample repaints the
# tail's few pixels, not the whole image and both curves across the view
TAIL_S = 2.0


class CpuPanel:
    """Two plots (heatmap, totals) that the timeline stacks under the Gantt."""

    def __init__(self, series: CpuSeries, theme: T.Theme = T.LIGHT) -> None:
        self.series = series
        self.t0_ns = 0
        self._version = -1
        self._next_samples = 0.0
        self.theme = theme
        n = series.n_cores

        self.heat = pg.PlotItem(enableMenu=False)
        self.heat.setMenuEnabled(False)
        self.heat.hideButtons()
        self.heat.setMouseEnabled(x=True, y=False)
        self.heat.invertY(True)
        self.heat.setLabel("left", "cores")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.tail_image = pg.ImageItem(axisOrder="row-major")
        for image in (self.image, self.tail_image):
            image.setLevels((0.0, 1.0))
            self.heat.addItem(image)

        self.total = pg.PlotItem(enableMenu=False)
        self.total.setMenuEnabled(False)
        self.total.hideButtons()
        self.total.setMouseEnabled(x=True, y=False)
        self.total.setLabel("left", "busy")
        self._cores = 0
        self._set_cores(n)
        # named in the window's legend bar
        self.machine_curve = self.total.plot()
        self.lab_curve = self.total.plot()
        for curve in (self.machine_curve, self.lab_curve):
            curve.setClipToView(True)  # a long session holds ~15 samples a second
        # the tails change 5 times a second: plain curves, whose setData is a seventh
        # of a PlotDataItem's (the history's, clipped to the view, change every 2 s)
        self.machine_tail = pg.PlotCurveItem()
        self.lab_tail = pg.PlotCurveItem()
        for curve in (self.machine_tail, self.lab_tail):
            self.total.addItem(curve)
        self._drawn: tuple[float, float] | None = None  # the x span last drawn
        # where the history items end (the time of their last sample, s) and the image's
        # column width there; None: the next refresh draws the history again
        self._split: float | None = None
        self._dt = 0.066
        self.set_theme(theme)
        self.set_line_width(2.0)

    def _set_cores(self, n: int) -> None:
        if n == self._cores:
            return
        self._cores = n
        self.heat.setYRange(0, n, padding=0)
        ticks = (
            [(i + 0.5, str(i)) for i in range(n)]
            if n <= 16
            else [(i + 0.5, str(i)) for i in range(0, n, max(1, n // 8))]
        )
        self.heat.getAxis("left").setTicks([ticks, []])
        self.total.setYRange(0, n * 1.08, padding=0)
        self.total.getAxis("left").setTicks([[(float(v), str(v)) for v in _nice_ticks(n)], []])

    def set_series(self, series: CpuSeries) -> None:
        """Draw ``series`` from now on: the sampler's live one, or a past run's own."""
        if series is self.series:
            return
        self.series = series
        self._set_cores(series.n_cores)
        self._version = -1
        self._redraw_all()
        if len(series) < 2:  # a run with no samples kept: nothing, not the last run's
            self.image.clear()
            self.machine_curve.setData([], [])
            self.lab_curve.setData([], [])

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        for image in (self.image, self.tail_image):
            image.setColorMap(pg.colormap.get(theme.heatmap))
        self.set_line_width(self._width())
        self._version = -1
        self._redraw_all()

    def _width(self) -> float:
        return getattr(self, "_line_width", 2.0)

    def set_line_width(self, w: float) -> None:
        self._line_width = w
        for curve in (self.machine_curve, self.machine_tail):
            curve.setPen(pg.mkPen(self.theme.machine, width=w))
        for curve in (self.lab_curve, self.lab_tail):
            curve.setPen(pg.mkPen(self.theme.lab, width=w + 1))

    def set_origin(self, t0_ns: int) -> None:
        self.t0_ns = t0_ns
        self._version = -1
        self._redraw_all()

    def _redraw_all(self) -> None:
        """The next refresh draws everything into the history items, the tail empty."""
        self._drawn = None
        self._split = None
        self._clear_tail()

    def _clear_tail(self) -> None:
        self.tail_image.clear()
        self.machine_tail.setData([], [])
        self.lab_tail.setData([], [])

    def refresh(self) -> bool:
        """Redraw if new samples arrived or the view left what was drawn; True if redrawn.

        Only the samples within three view widths around the view are drawn, so the
        cost of a frame does not grow with how long the window has been open.
        """
        v = self.series.version
        x0, x1 = self.total.viewRange()[0]
        drawn = self._drawn
        in_view = drawn is not None and drawn[0] <= x0 and x1 <= drawn[1]
        if v == self._version and in_view:
            return False
        t = time.perf_counter()
        if in_view and t < self._next_samples:
            return False  # new samples are shown SAMPLES_HZ times a second
        self._next_samples = t + 1.0 / SAMPLES_HZ
        self._version = v
        t, cores, lab = self.series.snapshot()
        if len(t) < 2:
            return True
        x = (t - self.t0_ns) / 1e9
        split = self._split
        if in_view and split is not None and split <= x[-1] <= split + TAIL_S:
            self._draw_tail(x, cores, lab, split)
            return True
        width = max(x1 - x0, 1e-3)
        lo, hi = x0 - width, x1 + width
        i0, i1 = np.searchsorted(x, [lo, hi])
        i0, i1 = max(0, int(i0) - 1), min(len(x), int(i1) + 1)
        if i1 - i0 < 2:
            i0, i1 = max(0, len(x) - 2), len(x)
        x, cores, lab = x[i0:i1], cores[i0:i1], lab[i0:i1]
        self._drawn = (lo, hi)
        # the image is uniform in time: one column per sample, spaced by the mean period
        dt = float(np.median(np.diff(x))) if len(x) > 1 else 0.066
        self.image.setImage(cores.T, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(x[0] - dt / 2, 0, x[-1] - x[0] + dt, self.series.n_cores))
        self.machine_curve.setData(x, cores.sum(axis=1))
        self.lab_curve.setData(x, lab)
        self._split, self._dt = float(x[-1]), dt
        self._clear_tail()
        return True

    def _draw_tail(self, x: np.ndarray, cores: np.ndarray, lab: np.ndarray, split: float) -> None:
        """The samples after ``split`` into the tail items, joined to the history: the
        curves from the history's last sample, the image's columns from its edge."""
        k = int(np.searchsorted(x, split))  # the history's last sample
        if k >= len(x) - 1:
            return
        x, cores, lab = x[k:], cores[k:], lab[k:]
        edge = split + self._dt / 2
        self.tail_image.setImage(cores[1:].T, autoLevels=False, levels=(0.0, 1.0))
        self.tail_image.setRect(
            QRectF(edge, 0, max(x[-1] + self._dt / 2 - edge, 1e-6), self.series.n_cores)
        )
        self.machine_tail.setData(x, cores.sum(axis=1))
        self.lab_tail.setData(x, lab)


def _nice_ticks(n: int) -> list[int]:
    """A few whole-core ticks from 0 to ``n``."""
    step = max(1, int(np.ceil(n / 4)))
    ticks = list(range(0, n + 1, step))
    if ticks[-1] != n:
        ticks.append(n)
    return ticks
