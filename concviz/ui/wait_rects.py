"""Waits on shared objects drawn inside their worker's Gantt row: hatched, outlined, one style each.

``WaitData`` arranges the store's wait slices (``EventStore.wait_slices``) by row and
start, like the Gantt's bars; ``paint_waits`` draws the visible ones over the bars
in device pixels (so a hatch is as fine at any zoom), merging waits closer than a
pixel, with two ``drawRects`` calls per style (a pale fill with an outline, then the
hatch). ``hatch_pixmap`` is the same texture for the legend's swatches.

Threads: GUI thread only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap

from concviz.model.gantt_layout import WaitData, row_cummax
from concviz.model.sync_view import WAIT_STYLES

from . import theme as T

_ROW_OFFSET = 1e7  # seconds: keeps rows apart in one cumulative max


_HATCH = {
    0: "/",  # lock
    1: "x",  # semaphore
    2: "-",  # queue
    3: "|",  # barrier
    4: ".",  # event
    5: "\\",  # task result
}


def hatch_pixmap(style: int, colour: str, scale: float = 1.0, fill: str | None = None) -> QPixmap:
    """A seamless tile of ``style``'s hatch in ``colour`` (on ``fill``, else transparent)."""
    size = max(6, int(round(9 * scale)))
    pm = QPixmap(size, size)
    pm.fill(QColor(fill) if fill else Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(QColor(colour))
    pen.setWidthF(max(1.5, 1.6 * scale))
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    p.setPen(pen)
    kind = _HATCH[style]
    s = float(size)
    if kind in ("/", "x"):
        for k in (-1, 0, 1):  # neighbouring tiles' lines too, so the pattern joins up
            p.drawLine(QPointF(k * s, s), QPointF(k * s + s, 0))
    if kind in ("\\", "x"):
        for k in (-1, 0, 1):
            p.drawLine(QPointF(k * s, 0), QPointF(k * s + s, s))
    if kind == "-":
        p.drawLine(QPointF(0, s / 2), QPointF(s, s / 2))
    if kind == "|":
        p.drawLine(QPointF(s / 2, 0), QPointF(s / 2, s))
    if kind == ".":
        p.setBrush(QColor(colour))
        p.setPen(Qt.PenStyle.NoPen)
        r = max(1.4, 1.5 * scale)
        p.drawEllipse(QPointF(s / 2, s / 2), r, r)
    p.end()
    return pm


class WaitPainter:
    """Paints ``WaitData`` with per-style brushes cached for one theme and scale."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._hatches: list[QBrush] = []
        self.rects_drawn = 0

    def _brushes(self, theme: T.Theme, scale: float) -> list[QBrush]:
        key = (theme.name, theme.sync, scale)
        if key != self._key:
            self._key = key
            self._hatches = [
                QBrush(hatch_pixmap(k, theme.sync, scale)) for k in range(len(WAIT_STYLES))
            ]
        return self._hatches

    def paint(
        self, p: QPainter, d: WaitData, r0, r1, x0, x1, pw, h, theme: T.Theme, scale, batch
    ) -> int:
        """Draw the visible waits of rows ``r0..r1``; returns how many rectangles."""
        idx = d.visible(r0, r1, x0, x1)
        if not len(idx):
            self.rects_drawn = 0
            return 0
        style, row, s, e = d.style[idx], d.row[idx], d.s[idx], d.e[idx]
        # group by (style, row), keeping start order inside each: then merge neighbours
        # closer than a pixel, so a thousand tiny waits are a few rectangles
        order = np.lexsort((s, row, style))
        style, row, s, e = style[order], row[order], s[order], e[order]
        key = style.astype(np.int64) * (int(row.max()) + 1) + row
        emax = row_cummax(e, key)
        new = np.ones(len(s), bool)
        new[1:] = (key[1:] != key[:-1]) | (s[1:] > emax[:-1] + pw)
        starts = np.flatnonzero(new)
        s, style, row = s[starts], style[starts], row[starts]
        e = np.maximum.reduceat(e, starts)
        s = np.maximum(s, x0 - pw)
        e = np.minimum(e, x1 + pw)
        # to device pixels: the view has no rotation, only scale and offset
        tr = p.transform()
        sx, dx, sy, dy = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        px0, px1 = s * sx + dx, e * sx + dx
        left, width = np.minimum(px0, px1), np.maximum(np.abs(px1 - px0), 2.0)
        ya, yb = (row - h / 2) * sy + dy, (row + h / 2) * sy + dy
        top, height = np.minimum(ya, yb), np.abs(yb - ya)
        hatches = self._brushes(theme, scale)
        p.save()
        p.resetTransform()
        fill = QColor(theme.sync_fill)
        outline = QPen(QColor(theme.sync))
        outline.setWidthF(max(1.0, 1.5 * scale))
        outline.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        for k in range(len(WAIT_STYLES)):
            m = style == k
            if not m.any():
                continue
            args = (left[m], top[m], width[m], height[m])
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(fill))
            batch.draw(p, *args)
            p.setBrush(hatches[k])
            p.setBrushOrigin(0, 0)
            batch.draw(p, *args)
            # the outline last and inset half a pen, so neighbours keep their edges
            p.setPen(outline)
            p.setBrush(Qt.BrushStyle.NoBrush)
            inset = outline.widthF() / 2
            batch.draw(
                p,
                left[m] + inset,
                top[m] + inset,
                np.maximum(width[m] - 2 * inset, 0.5),
                np.maximum(height[m] - 2 * inset, 0.5),
            )
        p.restore()
        self.rects_drawn = len(s)
        return len(s)


def legend_swatch(style: int, theme: T.Theme, w: int, h: int, scale: float = 1.0) -> QPixmap:
    """The legend's picture of one wait style: the fill, the hatch and the outline."""
    pm = QPixmap(w, h)
    pm.fill(QColor(theme.sync_fill))
    p = QPainter(pm)
    p.fillRect(0, 0, w, h, QBrush(hatch_pixmap(style, theme.sync, scale)))
    pen = QPen(QColor(theme.sync))
    pen.setWidthF(max(1.0, 1.5 * scale))
    p.setPen(pen)
    inset = pen.widthF() / 2
    p.drawRect(QRectF(inset, inset, w - 2 * inset, h - 2 * inset))
    p.end()
    return pm
