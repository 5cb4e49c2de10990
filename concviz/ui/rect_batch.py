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
        self.count = 0  # rectangles kept by the last ``fill``
        self._args: tuple | None = None

    def draw(self, p: QPainter, x, y, w, h) -> None:
        self.fill(x, y, w, h)
        self.draw_filled(p)

    def fill(self, x, y, w, h) -> None:
        """Keep these rectangles for ``draw_filled`` (which may then run many times)."""
        n = len(x)
        self.count = n
        if n == 0:
            self._args = None
            return
        if self._arr is not None:
            self._arr.resize(n)
            mem = self._arr.ndarray()
            mem[:, 0] = x
            mem[:, 1] = y
            mem[:, 2] = w
            mem[:, 3] = h
            self._args = self._arr.drawargs()
        else:
            self._args = (
                [
                    QRectF(*r)
                    for r in zip(x.tolist(), y.tolist(), w.tolist(), h.tolist(), strict=True)
                ],
            )

    def draw_filled(self, p: QPainter) -> None:
        """Draw what ``fill`` kept, with the painter's pen and brush."""
        if self._args is not None:
            p.drawRects(*self._args)
