"""The legend's Tasks line never cuts its words: entries that do not fit the width go
on a line of their own (beside the lessons on a 720p projector they read "computin")."""

from __future__ import annotations

from concviz.ui import theme as T
from concviz.ui.legend import LegendBar


def _whole(legend: LegendBar) -> list[str]:
    """The visible Tasks labels whose text is cut (narrower than the text needs)."""
    cut = []
    for widgets in legend._task_widgets():
        label = widgets[1]
        if label.isVisible() and label.width() < label.sizeHint().width():
            cut.append(label.text())
    return cut


def _lines(legend: LegendBar) -> set[int]:
    return {w[1].mapTo(legend, w[1].rect().topLeft()).y() for w in legend._task_widgets()
            if w[1].isVisible()}  # fmt: skip


def test_a_narrow_legend_wraps_instead_of_cutting_words(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    holder = QWidget()  # in a layout, as in the window: the legend may get narrow
    qtbot.addWidget(holder)
    legend = LegendBar(T.LIGHT)
    QVBoxLayout(holder).addWidget(legend)
    legend.set_scale(1.6)  # presentation mode's swatches
    holder.resize(1800, 200)
    holder.show()
    qtbot.waitExposed(holder)
    qtbot.wait(50)
    assert len(_lines(legend)) == 1 and not _whole(legend)
    holder.resize(600, 200)
    qtbot.waitUntil(lambda: len(_lines(legend)) == 2, timeout=2000)
    qtbot.wait(50)
    assert not _whole(legend), _whole(legend)
    # every entry is still shown, in its order, and the line comes back when there is room
    texts = [w[1].text() for w in legend._task_widgets() if w[1].isVisible()]
    assert texts[:3] == ["computing", "partly waiting", "mostly waiting"], texts
    holder.resize(1800, 200)
    qtbot.waitUntil(lambda: len(_lines(legend)) == 1, timeout=2000)


def test_the_view_tabs_move_below_rather_than_be_cut(qtbot):
    """The page tabs at the CPU row's end: whole on a line of their own when the row is
    short (beside the lessons dock at 1280×720 the third tab read "Sw"), back on the
    CPU row when there is room; never over another entry of the legend."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QLabel, QTabBar, QVBoxLayout, QWidget

    holder = QWidget()
    qtbot.addWidget(holder)
    legend = LegendBar(T.LIGHT)
    lay = QVBoxLayout(holder)
    lay.addWidget(legend)
    lay.addStretch(1)  # the legend as tall as it needs, as in the window
    tabs = QTabBar()
    tabs.setUsesScrollButtons(False)
    for name in ("Timeline", "Compare", "Sweep"):
        tabs.addTab(name)
    legend.add_trailing(tabs)
    legend.set_scale(1.6)
    holder.resize(1800, 300)
    holder.show()
    qtbot.waitExposed(holder)
    qtbot.wait(50)
    cpu = legend._rows[1].itemAt(0).widget()

    def whole_and_clear() -> bool:
        rect = tabs.geometry()
        over = [
            w.text()
            for w in legend.findChildren(QLabel)
            if w.isVisible()
            and w.text()
            and QRect(w.mapTo(legend, w.rect().topLeft()), w.size()).intersects(rect)
        ]
        return (
            tabs.isVisible()
            and tabs.width() >= tabs.sizeHint().width()
            and rect.right() < legend.width()
            and not over
        )

    def on_cpu_row() -> bool:
        return abs(tabs.geometry().center().y() - cpu.geometry().center().y()) < cpu.height()

    assert whole_and_clear() and on_cpu_row(), (tabs.geometry(), cpu.geometry())
    holder.resize(700, 300)
    qtbot.waitUntil(lambda: not on_cpu_row(), timeout=2000)
    qtbot.wait(50)
    assert whole_and_clear(), (tabs.geometry(), tabs.sizeHint(), legend.width())
    holder.resize(1800, 300)
    qtbot.waitUntil(on_cpu_row, timeout=2000)
    # an Amdahl run's "serial step" entry fills the overflow line at 720p beside the
    # lessons: the tabs take a line of their own rather than be cut
    holder.resize(700, 300)
    qtbot.wait(50)
    legend.set_sharing([], [], False, serial=True)
    qtbot.wait(50)
    assert dict(legend._entries)["serial"][1].isVisible()
    qtbot.waitUntil(whole_and_clear, timeout=2000)
    assert not [t for t in _whole(legend)], _whole(legend)
    legend.set_sharing([], [], False, serial=False)
    holder.resize(1800, 300)
    qtbot.waitUntil(on_cpu_row, timeout=2000)
