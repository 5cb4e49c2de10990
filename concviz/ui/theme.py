"""Colours and sizes: a colour-blind-safe palette (Okabe-Ito), light and dark, and text scale.

Bars encode how much of a task's wall time was spent on a CPU, in three steps of
one hue (blue), so the legend reads "solid = computing, pale = waiting". Errors are
vermillion, the serial step and markers are neutral: all distinguishable in the
common colour-vision deficiencies.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

BASE_POINT_SIZE = 12.0
PRESENTATION_SCALE = 1.6


def presentation_scale(width: int, height: int) -> float:
    """Presentation mode's text scale on a ``width`` × ``height`` screen.

    × 1.6 needs about 1700 × 1000 pixels; a smaller screen (a 720p projector) gets
    as much as still fits, never less than × 1.
    """
    fit = min(height / 1000.0, width / 1700.0)
    return max(1.0, min(PRESENTATION_SCALE, PRESENTATION_SCALE * fit))


# CPU-efficiency steps (cpu / wall) and their names in the legend
EFFICIENCY_EDGES = (0.3, 0.7)
EFFICIENCY_NAMES = ("mostly waiting (<30% CPU)", "partly waiting", "computing (≥70% CPU)")


@dataclass(frozen=True)
class Theme:
    """Every colour the window draws with."""

    name: str
    background: str
    foreground: str
    grid: str
    band: str  # alternate process bands behind Gantt rows
    bars: tuple[str, str, str]  # waiting -> computing
    running: str  # outline of a task still running
    error: str
    serial: str
    marker: str
    machine: str  # whole-machine CPU line
    lab: str  # lab's own CPU line
    heatmap: str  # pyqtgraph colormap name
    # a task the stop cut short or left unfinished: grey, hatched (told apart from the
    # serial step's solid grey by its texture, not by hue alone)
    stopped: str = "#BDBDBD"
    # where a task's time went (model.wait_states.PARTS): running, waiting for a CPU,
    # for the GIL, on I/O/sleep/locks: four hues, not shades of one
    waits: tuple[str, str, str, str] = ("#0072B2", "#CC79A7", "#E69F00", "#B9DCF4")

    def qcolor(self, name: str) -> QColor:
        return QColor(getattr(self, name))


LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    foreground="#1A1A1A",
    grid="#D0D0D0",
    band="#F1F4F8",
    bars=("#B9DCF4", "#56B4E9", "#0072B2"),
    running="#E69F00",
    error=OKABE_ITO["vermillion"],
    serial="#6E6E6E",
    marker=OKABE_ITO["purple"],
    machine="#1A1A1A",
    lab=OKABE_ITO["orange"],
    heatmap="cividis",
    stopped="#BDBDBD",
)

DARK = Theme(
    name="dark",
    background="#15181C",
    foreground="#EDEDED",
    grid="#3A3F45",
    band="#1E2329",
    bars=("#2C5470", "#3D95CC", "#8FD0F5"),
    running="#F0B400",
    error="#FF7A2F",
    serial="#A0A0A0",
    marker=OKABE_ITO["purple"],
    machine="#EDEDED",
    lab=OKABE_ITO["orange"],
    heatmap="cividis",
    stopped="#5F656D",
    waits=("#56B4E9", "#CC79A7", "#F0B400", "#2C5470"),
)

THEMES = {"light": LIGHT, "dark": DARK}


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    try:
        scheme = QGuiApplication.styleHints().colorScheme()
    except AttributeError:  # Qt < 6.5
        return QGuiApplication.palette().window().color().lightness() < 128
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().window().color().lightness() < 128


def resolve(choice: str) -> Theme:
    """``light``, ``dark`` or ``system`` (follow the desktop) -> a Theme."""
    if choice in THEMES:
        return THEMES[choice]
    return DARK if system_prefers_dark() else LIGHT


def efficiency_step(eff):
    """0, 1 or 2 for each CPU efficiency (numpy array or float)."""
    import numpy as np

    return np.searchsorted(np.asarray(EFFICIENCY_EDGES), eff, side="right")
