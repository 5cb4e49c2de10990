"""The compare view keeps its charts inside the view at the widths a 720p projector
leaves beside the lessons dock (the chart column ran 120 px off the right edge: the
layout kept the width of the placeholder line it had shown before the runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from concviz.interop.session_file import load_session
from concviz.ui.compare_view import CompareView

RECORDING = (
    Path(__file__).resolve().parents[2]
    / "resources/lessons/recordings/concurrency-vs-parallelism-1.concviz"
)


@pytest.mark.parametrize("width", [600, 820, 1200])
def test_every_chart_and_lane_is_inside_the_view(qtbot, width):
    session = load_session(RECORDING)
    view = CompareView(session)
    qtbot.addWidget(view)
    view.resize(width, 470)
    view.show()
    qtbot.waitExposed(view)
    view.set_runs([r.id for r in session.runs])  # after the placeholder was shown
    qtbot.wait(300)  # the resize's rebuild has settled
    assert len(view.lanes) == len(session.runs) == 3
    edge = view.canvas.viewport().width()
    for name, plot in [*view.charts.items(), *(("lane", ln.plot) for ln in view.lanes)]:
        rect = plot.sceneBoundingRect()
        assert 0 <= rect.left() and rect.right() <= edge, (name, rect, edge)
    # beside the dock (820 px) the charts stand in two columns; narrower, in one
    assert view.chart_columns == (1 if width < 640 else 2)
    # each bar's value label stays within its chart (one column's charts are short)
    for plot in view.charts.values():
        top = plot.viewRange()[1][1]
        bar = max(plot.listDataItems()[0].opts["height"])
        assert bar <= top * (0.5 if view.chart_columns == 1 else 0.78) + 1e-9, (bar, top)
