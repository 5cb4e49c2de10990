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


@pytest.mark.parametrize(
    "width, scale, recording",
    [
        (600, 1.0, RECORDING),
        (820, 1.0, RECORDING),
        (1200, 1.0, RECORDING),
        # presentation mode's larger text beside the dock and the runs list at 1920×1080:
        # two columns of charts did not fit beside the lanes and slid under the runs list
        (1000, 1.5, RECORDING.with_name("pools-2.concviz")),
        (1000, 1.5, RECORDING.with_name("dask-1.concviz")),
    ],
)
def test_every_chart_and_lane_is_inside_the_view(qtbot, width, scale, recording):
    session = load_session(recording)
    view = CompareView(session)
    qtbot.addWidget(view)
    view.resize(width, 470)
    view.show()
    view.set_scale(scale)
    qtbot.waitExposed(view)
    view.set_runs([r.id for r in session.runs])  # after the placeholder was shown
    qtbot.wait(300)  # the resize's rebuild has settled
    assert len(view.lanes) == len(session.runs) >= 2
    edge = view.canvas.viewport().width()
    for name, plot in [*view.charts.items(), *(("lane", ln.plot) for ln in view.lanes)]:
        rect = plot.sceneBoundingRect()
        assert 0 <= rect.left() and rect.right() <= edge, (name, rect, edge)
    # beside the dock (820 px) the charts stand in two columns; narrower, in one
    if scale == 1.0:
        assert view.chart_columns == (1 if width < 640 else 2)
    # the lanes' time axis title is whole: within the lanes' plot
    axis = view.lanes[-1].plot.getAxis("bottom")
    title = axis.label.mapRectToScene(axis.label.boundingRect())
    assert title.left() >= 0 and title.right() <= edge, (title, axis.labelText)
    # each bar's value label stays within its chart (one column's charts are short)
    for plot in view.charts.values():
        top = plot.viewRange()[1][1]
        bar = max(plot.listDataItems()[0].opts["height"])
        assert bar <= top * (0.5 if view.chart_columns == 1 else 0.78) + 1e-9, (bar, top)


def _compared(qtbot, name: str, width: int = 820):
    """A shipped recording's runs in a compare view ``width`` px wide, shown."""
    session = load_session(RECORDING.with_name(name))
    view = CompareView(session)
    qtbot.addWidget(view)
    view.resize(width, 470)
    view.show()
    view.set_runs([r.id for r in session.runs])
    return session, view


def test_charts_without_a_baseline_say_so(qtbot):
    """Runs with no sequential run of their experiment (a race, a deadlock): the speedup
    and efficiency charts say why they are empty instead of a row of floating dashes."""
    _session, view = _compared(qtbot, "race-conditions-1.concviz")
    for key in ("speedup", "efficiency"):
        texts = [i.toPlainText() for i in view.charts[key].items if hasattr(i, "toPlainText")]
        assert texts == ["no sequential run"], (key, texts)
    walls = [i.toPlainText() for i in view.charts["wall"].items if hasattr(i, "toPlainText")]
    assert len(walls) == 2 and "no sequential run" not in walls


def test_the_legend_names_what_the_compared_lanes_draw(window, qtbot):
    """A producer/consumer run shown on the timeline (its queue's waits and depth), then
    the deadlock's two runs compared: the legend names lock waits, not the queue; back
    on the timeline it names what the timeline draws."""
    from concviz.model.sync_view import WAIT_STYLES

    lock, queue = WAIT_STYLES.index("lock"), WAIT_STYLES.index("queue")
    assert window.files.open_path(str(RECORDING.with_name("producer-consumer-1.concviz")))
    qtbot.waitUntil(lambda: bool(window.session.runs) and not window.files.busy, timeout=20000)
    produced = window.session.runs[-1]
    assert window.files.open_path(str(RECORDING.with_name("deadlock-1.concviz")), add=True)
    qtbot.waitUntil(lambda: len(window.session.runs) >= 3 and not window.files.busy, timeout=20000)
    window.show_run(produced)  # the timeline draws the producer/consumer run
    qtbot.waitUntil(lambda: queue in window.legend.sharing[0], timeout=5000)
    assert window.legend.sharing[1], window.legend.sharing  # the queue's depth
    deadlocked = [r.id for r in window.session.runs if "deadlock" in r.name]
    assert deadlocked, [r.name for r in window.session.runs]
    window.compare_runs(deadlocked)
    window.show_page(window.compare_view)
    styles, counters, _graph, _serial = window.legend.sharing
    assert lock in styles and queue not in styles and counters == [], window.legend.sharing
    # the lanes draw no CPU panel: its legend entries go, the view tabs stay
    machine = dict(window.legend._entries)["machine"][1]
    assert not machine.isVisible() and window.view_tabs.isVisible()
    window.show_page(window.timeline_page)  # what the timeline draws, again
    qtbot.waitUntil(lambda: window.legend.sharing == window.timeline.sharing, timeout=5000)
    assert machine.isVisible()


def test_compared_runs_each_say_what_they_lost(window, qtbot):
    """The race's two runs compared: the large line under the views names each run's
    lost updates (it said the locked run's "lost none", beside a lesson saying the other
    lost hundreds)."""
    assert window.files.open_path(str(RECORDING.with_name("race-conditions-1.concviz")))
    qtbot.waitUntil(lambda: len(window.session.runs) == 2 and not window.files.busy, timeout=20000)
    window.compare_runs([r.id for r in window.session.runs])
    said = window.sync_panel.big.text()
    assert said.startswith("unsafe: lost ") and "locked: lost none of" in said, said
    assert window.sync_panel.isVisibleTo(window) and window.sync_panel.bad
    window.show_page(window.timeline_page)  # one run's again, the timeline's
    assert " · " not in window.sync_panel.big.text(), window.sync_panel.big.text()


def test_an_event_loops_lane_names_its_rows(qtbot):
    """asyncio's lane has the loop's row over its coroutines' rows: without names its two
    dark rows read as two things computing at once on one thread (a lesson walk)."""
    session, view = _compared(qtbot, "concurrency-vs-parallelism-2.concviz")
    named = {}
    for lane in view.lanes:
        run = session.get(lane.run_id)
        axis = lane.plot.getAxis("left")
        named[run.strategy] = [t for _v, t in (axis._tickLevels or [[]])[0]]
    assert named["asyncio"][0] == "loop" and named["asyncio"][1:] == ["↳ 1", "↳ 2"], named
    assert named["sequential"] == [] and named["process-pool"] == [], named
    # every lane as wide on the left, so one time scale lines up
    assert len({ln.plot.getAxis("left").width() for ln in view.lanes}) == 1


def test_a_dask_steps_timeline_opens_on_its_tasks(window, qtbot):
    """The Dask task-graph step: a 3 s cluster start-up left the fifteen tasks and their
    arrows 50 px wide at 720p. ``view: tasks`` opens the timeline on the tasks."""
    assert window.files.open_path(str(RECORDING.with_name("dask-2.concviz")))
    qtbot.waitUntil(lambda: bool(window.session.runs) and not window.files.busy, timeout=20000)
    run = window.session.runs[-1]
    window.show_run(run)
    window.show_page(window.timeline_page)
    timeline = window.timeline
    timeline.zoom_to_fit()
    whole = timeline.gantt_plot.vb.viewRange()[0]
    d = timeline.gantt.data
    assert whole[0] <= 0.0 and whole[1] - whole[0] > 3 * (d.x_max - d.x_min)  # start-up
    timeline.zoom_to_tasks()
    x0, x1 = timeline.gantt_plot.vb.viewRange()[0]
    assert x0 <= d.x_min and x1 >= d.x_max  # every task in view
    assert x1 - x0 < 1.1 * (d.x_max - d.x_min)  # and little else
