"""One look for the lenses' small plots: readable axes, a grid, no pyqtgraph menus."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

from . import theme as T


def lesson_plot(theme: T.Theme, left: str, bottom: str, label_scale: float = 1.1) -> pg.PlotWidget:
    """A plot with labelled axes in large text, a faint grid and the theme's colours."""
    plot = pg.PlotWidget(background=theme.background)
    p = plot.getPlotItem()
    p.setMenuEnabled(False)
    p.hideButtons()
    p.showGrid(x=True, y=True, alpha=0.15)
    size = {"font-size": f"{T.BASE_POINT_SIZE * label_scale:.0f}pt", "color": theme.foreground}
    p.setLabel("left", left, **size)
    p.setLabel("bottom", bottom, **size)
    style_axes(p, theme)
    return plot


def style_axes(p: pg.PlotItem, theme: T.Theme) -> None:
    """Left and bottom axes in the base text size and the theme's foreground colour."""
    tick = QFont()
    tick.setPointSizeF(T.BASE_POINT_SIZE)
    for name in ("left", "bottom"):
        ax = p.getAxis(name)
        ax.setStyle(tickFont=tick)
        ax.setPen(pg.mkPen(theme.foreground))
        ax.setTextPen(pg.mkPen(theme.foreground))
