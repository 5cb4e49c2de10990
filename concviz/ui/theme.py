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
    """Every colour the application draws with: widgets, menus, dialogs, plots and bars.

    Nothing else names a colour for text or a surface; ``ui/app_style.py`` turns these
    into the application's palette and stylesheet, and each plot reads them directly.
    """

    name: str
    background: str  # windows, dialogs, menus and plot backgrounds
    foreground: str  # text on ``background``, axes and their labels
    base: str  # behind text the user edits or reads in bulk: inputs, tables, output
    button: str
    highlight: str  # a selection, a checked button, the menu item under the pointer
    highlighted_text: str  # text on ``highlight``
    tooltip_base: str
    tooltip_text: str
    muted: str  # disabled and secondary text
    link: str
    warning_base: str  # banners: a warning ...
    warning_text: str
    warning_border: str
    error_base: str  # ... and an error
    error_text: str
    error_border: str
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
    # one colour per run of a session (the runs list's swatches, the compare view's
    # bars), in turn: Okabe-Ito hues, darkened where needed for 3:1 on the background
    runs: tuple[str, ...] = (
        "#0072B2",
        "#D55E00",
        "#009E73",
        "#B8437F",
        "#8A6D00",
        "#7B3FA0",
        "#1A1A1A",
    )
    # a wait on a shared object (a lock, a queue...): hatched in ``sync`` on ``sync_fill``,
    # a green no other bar uses; ``sync`` reads at 4.5:1 on the fill and the background
    sync: str = "#00715A"
    sync_fill: str = "#DDF2EA"

    def qcolor(self, name: str) -> QColor:
        return QColor(getattr(self, name))

    def run_colour(self, index: int) -> str:
        """The colour of a run whose ``Run.colour`` is ``index``."""
        return self.runs[index % len(self.runs)]


LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    foreground="#1A1A1A",
    base="#FFFFFF",
    button="#EEF0F3",
    highlight="#0072B2",
    highlighted_text="#FFFFFF",
    tooltip_base="#F4F6F8",
    tooltip_text="#1A1A1A",
    muted="#5C5C5C",
    link="#0072B2",
    warning_base="#FFF3C4",
    warning_text="#1A1A1A",
    warning_border=OKABE_ITO["orange"],
    error_base="#F9D5C2",
    error_text="#1A1A1A",
    error_border=OKABE_ITO["vermillion"],
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
    base="#1F2328",
    button="#2A3038",
    highlight="#22608F",  # white on the bars' blue would read at only 3.3:1
    highlighted_text="#FFFFFF",
    tooltip_base="#2A3038",
    tooltip_text="#EDEDED",
    muted="#9AA0A6",
    link="#8FD0F5",
    warning_base="#4A3B00",
    warning_text="#FFF3C4",
    warning_border="#F0B400",
    error_base="#5A2410",
    error_text="#FFD9C7",
    error_border="#FF7A2F",
    grid="#3A3F45",
    band="#1E2329",
    # the dimmest bar (mostly waiting) still 3:1 on the background: a projector washes
    # dark colours out, and an I/O-bound run is all of it
    bars=("#3A6A8C", "#3D95CC", "#8FD0F5"),
    running="#F0B400",
    error="#FF7A2F",
    serial="#A0A0A0",
    marker=OKABE_ITO["purple"],
    machine="#EDEDED",
    lab=OKABE_ITO["orange"],
    heatmap="cividis",
    stopped="#5F656D",
    waits=("#56B4E9", "#CC79A7", "#F0B400", "#3A6A8C"),
    runs=("#56B4E9", "#E69F00", "#3CC89F", "#CC79A7", "#F0E442", "#D9A0FF", "#EDEDED"),
    sync="#5BD6AC",
    sync_fill="#14352B",
)

THEMES = {"light": LIGHT, "dark": DARK}


# The desktop's own window colour, read before concviz first replaces the application
# palette: afterwards the palette is ours and would make "system" follow itself.
_system_window_lightness: int | None = None


def remember_system_palette() -> None:
    """Note the desktop's palette once, before the first theme is applied."""
    global _system_window_lightness
    if _system_window_lightness is None and QGuiApplication.instance() is not None:
        _system_window_lightness = QGuiApplication.palette().window().color().lightness()


def system_prefers_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    remember_system_palette()
    dark_palette = (_system_window_lightness or 255) < 128
    try:
        scheme = QGuiApplication.styleHints().colorScheme()
    except AttributeError:  # Qt < 6.5
        return dark_palette
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return dark_palette


def contrast_ratio(a: str | QColor, b: str | QColor) -> float:
    """WCAG 2 contrast ratio of two colours, 1 (same) to 21 (black on white).

    (L1 + 0.05) / (L2 + 0.05) with L the relative luminance of the lighter (L1) and
    darker (L2) colour: L = 0.2126 R + 0.7152 G + 0.0722 B of the linearised sRGB
    channels, c / 12.92 when c <= 0.04045, else ((c + 0.055) / 1.055) ** 2.4.
    Text reads comfortably at 4.5 or more (WCAG AA).
    """
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def relative_luminance(colour: str | QColor) -> float:
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    c = QColor(colour)

    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def resolve(choice: str) -> Theme:
    """``light``, ``dark`` or ``system`` (follow the desktop) -> a Theme."""
    if choice in THEMES:
        return THEMES[choice]
    return DARK if system_prefers_dark() else LIGHT


def efficiency_step(eff):
    """0, 1 or 2 for each CPU efficiency (numpy array or float)."""
    import numpy as np

    return np.searchsorted(np.asarray(EFFICIENCY_EDGES), eff, side="right")
