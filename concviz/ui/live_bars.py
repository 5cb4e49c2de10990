"""The moving part of the Gantt: the tasks running now and the bars finished since the
finished bars were last laid out, in a small item of their own.

The Gantt's finished bars sit in a cached item (``GanttItem``, a device-coordinate
pixmap cache) that is repainted only when its layout changes; a frame in which only a
running bar grew repaints this item's rectangle, nothing else of the Gantt. A bar
growing by less than a pixel does not ask for a frame at all.

Threads: every method runs on the GUI thread.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen

from . import theme as T
from .rect_batch import RectBatch

# the live bars are repainted at most this often (a bar grew, started or finished),
# the timeline's own cadence (``timeline.LIVE_INTERVAL_S``)
LIVE_FPS = 20


class LiveBars(pg.GraphicsObject):
    """Running bars (grown to ``now_s``) and recently finished ones, in data coordinates
    (x: seconds since the run's start, y: row). A child of the Gantt item."""

    def __init__(self, parent: pg.GraphicsObject, theme: T.Theme = T.LIGHT) -> None:
        super().__init__(parent)
        self.theme = theme
        self.open: list[tuple[int, int, float]] = []  # (row, task, start_s)
        self.now_s: float | None = None
        self.coroutine_rows: frozenset[int] = frozenset()  # rows whose open bars wait
        # finished since the last layout: start, end (s), row, CPU efficiency step
        self.recent = (np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self.bar_height = 0.7
        self.pen_scale = 1.0
        self._bounds = QRectF()
        self._key: tuple = ()
        self._next_growth = 0.0
        self._batches = [RectBatch() for _ in range(4)]
        # what the batches hold: the recent bars (``_recent_version``), the pixel width
        # and bar height they were filled for; a frame in which only a running bar grew
        # draws them again without refilling
        self._filled: tuple = ()
        # seconds per pixel, kept: Qt asks for the bounding rectangle several times a
        # frame, and pyqtgraph's pixelWidth inverts the device transform each time
        self._pw = 0.0
        self._tools: tuple[list[QBrush], QPen] | None = None
        self._recent_version = 0
        self.paints = 0  # for tests: how often this item was painted
        self.updates_skipped = 0  # frames that asked and needed nothing (sub-pixel growth)

    # -- data
    def set_live(self, open_bars, now_s: float | None, pixel_s: float) -> bool:
        """The running bars and the clock; repaints only when a bar's drawn end moves by
        a pixel (``pixel_s``: seconds per pixel) or the set changed. True if it will."""
        self.open = list(open_bars)
        self.now_s = now_s
        if pixel_s > 0 and math.isfinite(pixel_s):
            self._pw = pixel_s
        px = int(math.floor(now_s / pixel_s)) if now_s is not None and pixel_s > 0 else None
        key = (tuple(self.open), px, len(self.recent[0]))
        if key == self._key:
            self.updates_skipped += 1
            return False
        t = time.perf_counter()
        if t < self._next_growth and self._key and (self._key[1] is not None or px is None):
            # shown at most LIVE_FPS times a second (a frame later at worst; the
            # timeline asks again on its next tick)
            self.updates_skipped += 1
            return False
        self._next_growth = t + 1.0 / LIVE_FPS
        self._key = key
        self._update_bounds()
        self.update()
        return True

    def set_recent(self, s: np.ndarray, e: np.ndarray, row: np.ndarray, step: np.ndarray) -> None:
        """Bars finished since the last layout; drawn from the next ``set_live`` on."""
        self.recent = (s, e, row, step)
        self._recent_version += 1

    def clear_recent(self) -> None:
        """The layout now holds them (the caller's ``set_live`` follows at once)."""
        if len(self.recent[0]):
            self.recent = (np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64))
            self._recent_version += 1
            self._key = ()
            self._next_growth = 0.0

    def set_style(self, theme: T.Theme, bar_height: float, pen_scale: float) -> None:
        self.theme, self.bar_height, self.pen_scale = theme, bar_height, pen_scale
        self._tools = None
        self.update()

    def _brushes_and_pen(self) -> tuple[list[QBrush], QPen]:
        """The bar colours' brushes and the running bars' outline, made once per style."""
        if self._tools is None:
            pen = QPen(QColor(self.theme.running))
            pen.setCosmetic(True)
            pen.setWidthF(2.0 * self.pen_scale)
            self._tools = ([QBrush(QColor(c)) for c in self.theme.bars], pen)
        return self._tools

    def _update_bounds(self) -> None:
        xs: list[float] = []
        rows: list[int] = []
        if self.now_s is not None:
            for row, _task, start in self.open:
                xs += (start, self.now_s)
                rows.append(row)
        s, e, row, _ = self.recent
        if len(s):
            xs += (float(s.min()), float(e.max()))
            rows += (int(row.min()), int(row.max()))
        if xs:
            r = QRectF(
                min(xs), min(rows) - 0.5, max(max(xs) - min(xs), 1e-9), max(rows) - min(rows) + 1
            )
        else:
            r = QRectF()
        if r != self._bounds:
            self.prepareGeometryChange()
            self._bounds = r

    def viewTransformChanged(self) -> None:
        """The view zoomed, panned or was resized: the pixel width is read again."""
        super().viewTransformChanged()
        self._pw = 0.0

    def _pixel_width(self) -> float:
        if not self._pw:
            pw = self.pixelWidth() or 0.0
            self._pw = pw if math.isfinite(pw) else 0.0
        return self._pw

    def boundingRect(self) -> QRectF:
        # a pixel's margin on each side: the cosmetic outline and bars narrower than a pixel
        pw = self._pixel_width()
        return self._bounds.adjusted(-2 * pw, 0, 2 * pw, 0) if pw else QRectF(self._bounds)

    # -- drawing
    def paint(self, p, *args) -> None:
        self.paints += 1
        pw = self._pixel_width()
        if not pw or not math.isfinite(pw):
            return
        h = self.bar_height
        p.setPen(Qt.PenStyle.NoPen)
        brushes, pen = self._brushes_and_pen()
        s, e, row, step = self.recent
        if len(s):
            n = min(len(brushes), len(self._batches))
            key = (self._recent_version, pw, h)
            if key != self._filled:
                self._filled = key
                w = np.maximum(e - s, pw)
                for k in range(n):
                    m = step == k
                    self._batches[k].fill(s[m], row[m] - h / 2, w[m], np.full(int(m.sum()), h))
            for k in range(n):
                if self._batches[k].count:
                    p.setBrush(brushes[k])
                    self._batches[k].draw_filled(p)
        if not self.open or self.now_s is None:
            return
        p.setPen(pen)
        for r, _task, start in self.open:
            # a coroutine's open task holds the loop only in its slices: drawn waiting
            waiting = r in self.coroutine_rows
            p.setBrush(brushes[0 if waiting else 1])
            w = max(self.now_s - start, pw)
            p.drawRect(QRectF(QPointF(start, r - h / 2), QPointF(start + w, r + h / 2)))
        p.setPen(Qt.PenStyle.NoPen)
