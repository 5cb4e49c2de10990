"""Rectangles of one colour drawn with one ``drawRects`` call, filled from numpy."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

try:  # pyqtgraph's packed-array path for drawRects (no Python object per rect)
    from pyqtgraph.Qt.internals import PrimitiveArray as _PrimitiveArray
except ImportError:  # pragma: no cover - older/newer pyqtgraph
    _PrimitiveArray = None


class RectBatch:
    """Rectangles of one colour, filled from numpy and drawn with one call."""

    def __init__(self) -> None:
        self._arr = _PrimitiveArray(QRectF, 4) if _PrimitiveArray is not None else None

    def draw(self, p: QPainter, x, y, w, h) -> None:
        n = len(x)
        if n == 0:
            return
        if self._arr is not None:
            self._arr.resize(n)
            mem = self._arr.ndarray()
            mem[:, 0] = x
            mem[:, 1] = y
            mem[:, 2] = w
            mem[:, 3] = h
            p.drawRects(*self._arr.drawargs())
        else:
            p.drawRects(
                [
                    QRectF(*r)
                    for r in zip(x.tolist(), y.tolist(), w.tolist(), h.tolist(), strict=True)
                ]
            )
