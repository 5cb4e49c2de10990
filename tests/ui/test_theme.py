"""One theme everywhere: menus, dialogs, tooltips, the output pane and the lenses read in the
dark, and an open lens follows a live switch. Checked on pixels: each test chooses the theme
through the real View → Theme action, grabs what a user would see, and measures the contrast
between the dominant background colour and the text colour found in the picture."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QToolTip, QWidget

from concviz.ui import theme as T

READABLE = 4.5  # WCAG AA for body text


@pytest.fixture(autouse=True)
def _restore_app_look(qapp):
    """Dark is set on the application: give later tests back the look they started with."""
    app = qapp
    palette, sheet, tip = app.palette(), app.styleSheet(), QToolTip.palette()
    yield
    # only what a test changed: setting a stylesheet re-polishes every widget alive
    # (0.6-0.8 s here late in the suite), even when it is the same sheet
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
    if app.palette() != palette:
        app.setPalette(palette)
    QToolTip.setPalette(tip)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def read_colours(image: QImage) -> tuple[str, str, float]:
    """(background, text colour, their contrast ratio) as found in ``image``.

    The background is the most frequent colour. The text colour is the colour of
    highest contrast against it among those covering at least 0.1 % of the picture
    (and 8 pixels): anti-aliased edges and a stray border pixel are too rare to count,
    the solid strokes of a line of text are not.
    """
    img = image.convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    words = np.frombuffer(img.constBits(), np.uint32, count=img.bytesPerLine() // 4 * h)
    pixels = words.reshape(h, -1)[:, :w] & 0xFFFFFF
    values, counts = np.unique(pixels, return_counts=True)
    rgb = np.stack([(values >> 16) & 255, (values >> 8) & 255, values & 255], axis=1)
    lum = _luminance(rgb)
    bg = int(np.argmax(counts))
    ratio = (np.maximum(lum, lum[bg]) + 0.05) / (np.minimum(lum, lum[bg]) + 0.05)
    common = counts >= max(8, 0.001 * pixels.size)
    ratio_common = np.where(common, ratio, 0.0)
    text = int(np.argmax(ratio_common))
    return f"#{values[bg]:06X}", f"#{values[text]:06X}", float(ratio_common[text])


def grab_region(top: QWidget, child: QWidget | None = None, rect: QRect | None = None) -> QImage:
    """What ``top`` shows, cut to ``child`` (or ``rect``): its own background included."""
    image = top.grab().toImage()
    if child is not None:
        rect = QRect(child.mapTo(top, QPoint(0, 0)), child.size())
    return image.copy(rect) if rect is not None else image


def assert_reads(image: QImage, theme: T.Theme, what: str) -> None:
    bg, text, ratio = read_colours(image)
    lum = T.relative_luminance(bg)
    if theme is T.DARK:
        assert lum < 0.1, f"{what}: background {bg} is not dark"
    else:
        assert lum > 0.6, f"{what}: background {bg} is not light"
    assert ratio >= READABLE, f"{what}: text {text} on {bg} reads at only {ratio:.2f}:1"


def choose_theme(window, qtbot, name: str) -> None:
    """View → Theme → ``name``, through the menu's own action."""
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    theme_menu = next(a.menu() for a in view.actions() if a.text() == "&Theme")
    action = next(a for a in theme_menu.actions() if a.text().replace("&", "").lower() == name)
    action.trigger()
    qtbot.wait(50)
    assert window.theme is T.THEMES[name]


def menu_of(window, title: str):
    return next(a.menu() for a in window.menuBar().actions() if a.text() == title)


def run_modal(trigger, inspect) -> None:
    """Trigger something that opens a modal dialog, call ``inspect(dialog)``, then close it."""
    seen = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:  # not up yet
            QTimer.singleShot(20, look)
            return
        try:
            seen.append(inspect(dialog))
        finally:
            dialog.reject()

    QTimer.singleShot(0, look)
    trigger()
    assert seen, "no dialog opened"


# -- the theme itself


def test_contrast_ratio_against_hand_computed_values():
    assert T.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert T.contrast_ratio("#808080", "#808080") == pytest.approx(1.0)
    # #777777: channel 119/255 -> linear 0.1845 -> (1.05 / 0.2345) = 4.48
    assert T.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", [T.LIGHT, T.DARK], ids=lambda t: t.name)
def test_every_text_colour_of_a_theme_reads_on_its_surface(theme):
    pairs = {
        "text on window": (theme.foreground, theme.background),
        "text in inputs": (theme.foreground, theme.base),
        "text on buttons": (theme.foreground, theme.button),
        "selected text": (theme.highlighted_text, theme.highlight),
        "tooltip": (theme.tooltip_text, theme.tooltip_base),
        "secondary text": (theme.muted, theme.background),
        "secondary text in inputs": (theme.muted, theme.base),
        "link": (theme.link, theme.background),
        "warning banner": (theme.warning_text, theme.warning_base),
        "error banner": (theme.error_text, theme.error_base),
    }
    low = {k: round(T.contrast_ratio(*v), 2) for k, v in pairs.items()}
    assert all(r >= READABLE for r in low.values()), low


# -- the application in the dark


def test_dark_theme_reaches_the_menus(window, qtbot):
    choose_theme(window, qtbot, "dark")
    view = menu_of(window, "&View")
    view.popup(window.mapToGlobal(QPoint(40, 40)))
    qtbot.waitUntil(view.isVisible)
    try:
        for action in view.actions():
            if action.isSeparator() or not action.isVisible():
                continue
            row = grab_region(view, rect=view.actionGeometry(action))
            assert_reads(row, T.DARK, f"View menu item {action.text()!r}")
    finally:
        view.hide()
    bar = window.menuBar()
    assert_reads(grab_region(bar), T.DARK, "menu bar")


def test_dark_theme_reaches_the_about_dialog_and_the_file_dialog(window, qtbot):
    choose_theme(window, qtbot, "dark")
    about = next(a for a in menu_of(window, "&Help").actions() if "About" in a.text())

    def about_reads(dialog: QDialog) -> bool:
        labels = [w for w in dialog.findChildren(QWidget) if w.metaObject().className() == "QLabel"]
        texts = [lb for lb in labels if lb.text()]
        assert texts
        for label in texts:
            assert_reads(grab_region(dialog, label), T.DARK, f"About text {label.text()[:30]!r}")
        return True

    run_modal(about.trigger, about_reads)

    def file_dialog_reads(dialog: QDialog) -> bool:
        assert isinstance(dialog, QFileDialog)
        dialog.resize(700, 450)
        assert_reads(grab_region(dialog), T.DARK, "the file dialog")
        return True

    run_modal(window.open_action.trigger, file_dialog_reads)


def test_dark_theme_reaches_tooltips_and_the_program_output(window, qtbot):
    choose_theme(window, qtbot, "dark")
    QToolTip.showText(window.mapToGlobal(QPoint(200, 200)), "a tooltip to read " * 3, window)
    tips = []
    qtbot.waitUntil(
        lambda: bool(
            tips.extend(
                w
                for w in QApplication.topLevelWidgets()
                if w.inherits("QLabel") and w.isVisible() and "tooltip" in w.text()
            )
            or tips
        )
    )
    assert_reads(grab_region(tips[0]), T.DARK, "a tooltip")
    QToolTip.hideText()

    out = window.output
    out.show()
    out.text.appendPlainText("\n".join(f"task {i}: printed a line" for i in range(8)))
    qtbot.waitUntil(out.isVisible)
    assert_reads(grab_region(window, out.text), T.DARK, "Program output")


def test_dark_theme_reaches_a_lens_its_text_and_its_plot(window, qtbot):
    choose_theme(window, qtbot, "dark")
    window.lenses.actions["gil"].trigger()  # Lenses → GIL lens
    lens = window.lenses.open["gil"]
    qtbot.waitUntil(lens.isVisible)
    assert_reads(grab_region(lens, lens.meter), T.DARK, "GIL lens headline")
    assert_reads(grab_region(lens, lens.plot), T.DARK, "GIL lens plot")


def test_an_open_lens_follows_a_live_theme_switch(window, qtbot):
    choose_theme(window, qtbot, "light")
    lenses = {}
    for key in ("gil", "cores", "freeze"):
        window.lenses.actions[key].trigger()
        lenses[key] = window.lenses.open[key]
        qtbot.waitUntil(lenses[key].isVisible)
    gil, cores, freeze = lenses["gil"], lenses["cores"], lenses["freeze"]
    assert_reads(grab_region(gil, gil.meter), T.LIGHT, "GIL lens headline, light")
    assert_reads(grab_region(gil, gil.plot), T.LIGHT, "GIL lens plot, light")

    choose_theme(window, qtbot, "dark")  # with the lenses open
    for name, lens, parts in (
        ("GIL lens", gil, (gil.meter, gil.plot)),
        ("cores", cores, (cores.note, cores.plot)),
        ("GUI freeze", freeze, (freeze.numbers, freeze.plot)),
    ):
        assert lens.theme is T.DARK
        for part in parts:
            assert_reads(grab_region(lens, part), T.DARK, f"{name} after the switch")
    # a legend and a curve follow too, not only the background
    legend = gil.plot.getPlotItem().legend
    assert legend.opts["labelTextColor"].name().upper() == T.DARK.foreground
    assert gil.busy_curve.opts["pen"].color().name().upper() == T.DARK.foreground

    choose_theme(window, qtbot, "light")
    assert_reads(grab_region(gil, gil.plot), T.LIGHT, "GIL lens plot, back to light")
    # a lens opened after the switch starts in the theme of the moment
    window.lenses.actions["convoy"].trigger()
    convoy = window.lenses.open["convoy"]
    qtbot.waitUntil(convoy.isVisible)
    assert convoy.theme is T.LIGHT
    assert_reads(grab_region(convoy, convoy.plot), T.LIGHT, "convoy plot, opened in light")


def test_a_theme_switch_keeps_the_time_axis_in_seconds(window, qtbot):
    """A switch while a 6 ms run is on screen must not relabel it as 6 s."""
    window.timeline.gantt_plot.setXRange(0, 0.006, padding=0)
    qtbot.wait(20)
    choose_theme(window, qtbot, "dark")
    choose_theme(window, qtbot, "light")
    axis = window.timeline.cpu.total.getAxis("bottom")
    # the factor pyqtgraph multiplies tick values by before writing them
    assert axis.autoSIPrefixScale == 1.0
    assert axis.tickStrings([0.002], axis.autoSIPrefixScale * axis.scale, 0.001) == ["0.002"]


@pytest.mark.parametrize("theme", [T.LIGHT, T.DARK], ids=lambda t: t.name)
def test_every_bar_colour_stands_out_from_the_plot(theme):
    """A task bar, however it waited, is a shape on the plot's background: 3:1 at
    least for the dark theme (its 'mostly waiting' blue was 2.2:1, near invisible on a
    projector), and each of the three efficiency steps apart from its neighbour."""
    if theme is T.DARK:
        for colour in (*theme.bars, *theme.waits):
            assert T.contrast_ratio(colour, theme.background) >= 3.0, colour
    steps = [T.contrast_ratio(a, b) for a, b in zip(theme.bars[:-1], theme.bars[1:], strict=True)]
    assert all(r >= 1.5 for r in steps), steps


@pytest.mark.parametrize("theme", [T.LIGHT, T.DARK], ids=["light", "dark"])
def test_the_legends_stopped_swatch_looks_like_a_stopped_bar(qtbot, theme):
    """The legend drew "stopped" as a dashed box; the Gantt draws a stopped task grey
    and hatched. The swatch is the stopped grey crossed by the hatch, at any scale."""
    from PySide6.QtGui import QColor

    from concviz.ui.legend import LegendBar

    legend = LegendBar(theme)
    qtbot.addWidget(legend)
    for scale in (1.0, 1.6):
        legend.set_scale(scale)
        sw = next(s for s, key in legend._swatches if key == "stopped")
        image = sw.pixmap().toImage()
        assert (image.width(), image.height()) == (sw.width(), sw.height())
        colours = {
            image.pixelColor(x, y).name()
            for x in range(image.width())
            for y in range(image.height())
        }
        assert QColor(theme.stopped).name() in colours and len(colours) >= 2, colours
        assert "dashed" not in sw.styleSheet()
