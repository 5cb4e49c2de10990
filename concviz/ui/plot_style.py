"""One look for the lenses' small plots: readable axes, a grid, no pyqtgraph menus.

``theme_plots`` recolours a plot after it was made (a live theme switch): background,
axes, grid, axis labels and legend. Curves and markers are each lens's own.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

from . import theme as T


def lesson_plot(theme: T.Theme, left: str, bottom: str, label_scale: float = 1.1) -> pg.PlotWidget:
    """A plot with labelled axes in large text, a faint grid and the theme's colours."""
    plot = pg.PlotWidget(background=theme.background, enableMenu=False)
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
        colour_axis(ax, theme)


def colour_axis(ax: pg.AxisItem, theme: T.Theme) -> None:
    """An axis, its ticks, its grid lines and its label in the theme's foreground."""
    # setPen also recolours the axis label (and the grid, drawn with the axis pen)
    ax.setPen(pg.mkPen(theme.foreground))
    ax.setTextPen(pg.mkPen(theme.foreground))


def add_legend(p: pg.PlotItem, theme: T.Theme, size_pt: float, offset: tuple) -> pg.LegendItem:
    """A legend in the theme's colours (``theme_plots`` recolours it later)."""
    return p.addLegend(
        offset=offset,
        labelTextColor=theme.foreground,
        labelTextSize=f"{size_pt:.0f}pt",
        brush=pg.mkBrush(theme.background),
    )


def theme_plots(view: pg.GraphicsView, plots: list[pg.PlotItem], theme: T.Theme) -> None:
    """Recolour ``view``'s background and each plot's axes and legend for ``theme``."""
    view.setBackground(theme.background)
    for p in plots:
        for name in ("left", "bottom", "right", "top"):
            if p.getAxis(name).isVisible():
                colour_axis(p.getAxis(name), theme)
        legend = p.legend
        if legend is not None:
            legend.setBrush(pg.mkBrush(theme.background))
            legend.setLabelTextColor(theme.foreground)
            for _sample, label in legend.items:
                label.setText(label.text)  # a label keeps its old colour until redrawn
