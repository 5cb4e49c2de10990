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
