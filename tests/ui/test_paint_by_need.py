"""The observer paints only what changed (issue 24).

A timeline with a synthetic live run (no lab): finished bars on two workers and a
task still running. Frames in which only the running bar grows repaint the live item
and never the finished bars; bars finished meanwhile are drawn by the live item at
once and laid out with the rest within ``LIVE_LAYOUT_S``; a sub-pixel growth asks for
no frame at all; and appending a batch (with a new worker) keeps every existing row
where it was, with its bars in the same order.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtWidgets import QApplication

from concviz.lab import protocol as P
from concviz.model import EventStore
from concviz.model.cpu_series import CpuSeries
from concviz.model.event_store import RECORD_DTYPE
from concviz.model.gantt_layout import GanttData
from concviz.ui import timeline as tl
from concviz.ui.timeline import TimelineView

MS = 1_000_000


def _finished(worker: int, starts_ms, t0: int, pid: int = 100) -> np.ndarray:
    rec = np.zeros(len(starts_ms), RECORD_DTYPE)
    rec["kind"], rec["worker"], rec["pid"], rec["tid"] = P.EV_END, worker, pid, 10 + worker
    rec["task"] = np.arange(len(starts_ms)) + 1000 * worker
    rec["t0_ns"] = t0 + np.asarray(starts_ms, np.int64) * MS
    rec["t_ns"] = rec["t0_ns"] + 18 * MS
    rec["cpu_ns"] = 18 * MS
    return rec


def _started(worker: int, task: int, t_ns: int) -> np.ndarray:
    rec = np.zeros(1, RECORD_DTYPE)
    rec["kind"], rec["worker"], rec["pid"], rec["tid"] = P.EV_START, worker, 100, 10 + worker
    rec["task"], rec["t_ns"], rec["t0_ns"] = task, t_ns, t_ns
    return rec


def _store(t0: int, starts_ms=range(0, 400, 20)) -> EventStore:
    store = EventStore()
    store.add_json({"type": "hello", "pid": 100})
    store.add_json({"type": "run_started", "t_ns": t0, "strategy": "threads", "workers": 2,
                    "workload": "cpu-python", "task_ms": 20.0, "mode": "batch"})  # fmt: skip
    for w in range(2):
        store.add_events(_finished(w, starts_ms, t0))
    return store


def _view(qtbot, store: EventStore, t0: int) -> TimelineView:
    view = TimelineView(CpuSeries(2))
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_store(store, t0)
    view.running = True
    return view


def _frame(qtbot, view: TimelineView) -> None:
    view.refresh()
    for _ in range(3):  # the scene's dirty items, then the paint event Qt posts for them
        QApplication.processEvents()


def test_growth_repaints_only_the_live_item(qtbot, monkeypatch):
    monkeypatch.setattr(tl, "LIVE_LAYOUT_S", 3600.0)  # no layout until asked for below
    t0 = time.perf_counter_ns() - 500 * MS
    store = _store(t0)
    store.add_events(_started(0, 99, time.perf_counter_ns() - 20 * MS))
    view = _view(qtbot, store, t0)
    view.follow = False  # the view stays put (a followed view steps at 0.9 s)
    view.gantt_plot.setXRange(0, 2, padding=0)
    _frame(qtbot, view)
    gantt, live = view.gantt, view.gantt.live
    assert gantt.data is not None and len(gantt.data.s) == 40
    assert [row for row, _task, _s in live.open] == [0]
    finished, grown = gantt.paints, live.paints
    assert finished >= 1 and grown >= 1
    for _ in range(8):  # the running bar grows by many pixels each time
        time.sleep(0.05)
        _frame(qtbot, view)
    assert live.paints >= grown + 6
    assert gantt.paints == finished, (
        "a frame in which only a running bar grew repainted the finished bars"
    )

    # a task finishes: drawn at once by the live item, laid out with the rest soon after
    store.add_events(_finished(1, [450], t0))
    time.sleep(1 / 25)
    _frame(qtbot, view)
    assert len(live.recent[0]) == 1 and gantt.paints == finished
    monkeypatch.setattr(tl, "LIVE_LAYOUT_S", 0.25)
    deadline = time.monotonic() + 5
    while len(gantt.data.s) != 41 and time.monotonic() < deadline:
        time.sleep(0.02)
        _frame(qtbot, view)
    assert len(gantt.data.s) == 41 and len(live.recent[0]) == 0
    assert gantt.paints == finished + 1


def _gantt_pixels(view: TimelineView) -> np.ndarray:
    vb = view.gantt_plot.vb
    rect = vb.mapRectToScene(vb.boundingRect())
    img = view.grab().toImage()
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), -1).copy()
    top, bottom = int(rect.top()) + 2, int(rect.bottom()) - 2
    left, right = int(rect.left()) + 2, int(rect.right()) - 2
    return a[top:bottom, 4 * left : 4 * right]


def test_a_live_layout_repaints_only_from_its_new_bars_on(qtbot, monkeypatch):
    """A layout that adds the bars finished meanwhile redraws the cached picture from
    the first of them on (and the bars whose wait split may still change), not the
    whole Gantt; what is on screen then is what drawing it all afresh shows."""
    monkeypatch.setattr(tl, "LIVE_LAYOUT_S", 3600.0)
    t0 = time.perf_counter_ns() - 6000 * MS
    store = _store(t0, range(0, 4000, 100))
    view = _view(qtbot, store, t0)
    view.follow = False
    view.gantt_plot.setXRange(0, 8, padding=0)
    _frame(qtbot, view)
    gantt = view.gantt
    monkeypatch.setattr(tl, "LIVE_LAYOUT_S", 0.0)

    def laid_out(n: int) -> None:
        deadline = time.monotonic() + 5
        while len(gantt.data.s) != n and time.monotonic() < deadline:
            time.sleep(0.02)
            _frame(qtbot, view)
        assert len(gantt.data.s) == n
        _frame(qtbot, view)

    # the first live layout sets the item's rectangle (a whole repaint), steps ahead of
    # its bars: the next ones fall inside it
    store.add_events(_finished(1, [4800], t0))
    laid_out(81)
    painted = gantt.paints
    store.add_events(_finished(0, [4500, 4700], t0))
    store.add_events(_finished(1, [4600], t0))
    laid_out(84)
    assert gantt.paints > painted and gantt.last_exposed is not None
    # the bars of 0-4.2 s ended over a second before now: settled, not redrawn (Qt
    # asks for a margin of one unit, here a second, around what was updated)
    assert gantt.last_exposed.left() > 3.0, gantt.last_exposed
    partly = _gantt_pixels(view)
    gantt.update()  # the whole picture drawn afresh
    for _ in range(3):
        QApplication.processEvents()
    assert gantt.last_exposed.left() <= 0.0
    a, b = partly, _gantt_pixels(view)
    assert a.shape == b.shape
    # every column holds the same ink: no bar missing, none left over (the strip is
    # drawn through a shifted painter, which rounds a bar's edge pixel now and then)
    ink_a = (a.reshape(a.shape[0], -1, 4)[:, :, :3] < 200).any(axis=2).sum(axis=0)
    ink_b = (b.reshape(b.shape[0], -1, 4)[:, :, :3] < 200).any(axis=2).sum(axis=0)
    assert ink_b.sum() > 1000 and np.abs(ink_a - ink_b).max() <= 2


def test_sub_pixel_growth_asks_for_no_frame(qtbot):
    t0 = time.perf_counter_ns() - 500 * MS
    store = _store(t0)
    store.add_events(_started(0, 99, time.perf_counter_ns() - 20 * MS))
    view = _view(qtbot, store, t0)
    view.follow = False
    view.gantt_plot.setXRange(0, 3600, padding=0)  # an hour across 900 px: 4 s a pixel
    _frame(qtbot, view)
    time.sleep(1 / 25)
    _frame(qtbot, view)  # the zoom is known now: the bar's pixel is where it is drawn
    live = view.gantt.live
    painted = live.paints
    for _ in range(5):
        time.sleep(1 / 25)
        assert view.gantt.set_live(view._open_rows(store), view.now_s()) is False
        for _ in range(3):
            QApplication.processEvents()
    assert live.paints == painted


def test_follow_moves_the_view_by_steps(qtbot):
    t0 = time.perf_counter_ns()
    view = _view(qtbot, _store(t0), t0)
    ranges = set()
    for now in np.arange(0.0, 8.0, 0.05):
        view._follow(float(now))
        lo, hi = view.gantt_plot.vb.viewRange()[0]
        assert lo <= now <= hi
        ranges.add((round(lo, 9), round(hi, 9)))
    # 160 frames, 7 views (spans of 1, 1.5, 2, 3, 5, 7.5 and 10 s): not one per frame
    assert len(ranges) == len([x for x in tl.FOLLOW_SPANS if x < 8 / 0.9]) + 1, ranges
    view._follow(tl.FOLLOW_WINDOW_S * 2)
    lo, hi = view.gantt_plot.vb.viewRange()[0]
    assert abs(hi - lo - tl.FOLLOW_WINDOW_S) < 1e-9 and lo < tl.FOLLOW_WINDOW_S * 2 < hi
    pixel = (hi - lo) / view.gantt_plot.vb.width()
    assert abs(lo / pixel - round(lo / pixel)) < 1e-6  # its left edge on a whole pixel


def test_an_appended_batch_keeps_rows_and_their_order():
    t0 = 0
    store = _store(t0)
    before = GanttData(store, t0)
    labels = [r.label for r in before.rows]
    per_row = {r: before.task[before.row == r].tolist() for r in range(before.n_rows)}
    store.add_events(_finished(1, [500, 520], t0))
    store.add_events(_finished(0, [510], t0))
    store.add_events(_finished(2, [505], t0))  # a third worker appears
    after = GanttData(store, t0)
    assert [r.label for r in after.rows][: len(labels)] == labels
    for r, tasks in per_row.items():
        now = after.task[after.row == r].tolist()
        assert now[: len(tasks)] == tasks
    assert after.n_rows == before.n_rows + 1


def test_panning_by_fractions_of_a_pixel_leaves_no_seams(qtbot):
    """The cached picture is scrolled only by whole pixels: 40 pans of ~19.7 px on
    dense rows must look exactly like the same view drawn afresh (Qt's scroll of a
    fraction left a dark seam at every uncovered strip)."""
    import pyqtgraph as pg

    from concviz.ui.gantt_item import GanttItem

    from .test_dense_rows import _store as dense_store

    data = GanttData(dense_store(), 0)

    def view():
        w = pg.PlotWidget()
        qtbot.addWidget(w)
        w.resize(800, 300)
        w.getPlotItem().invertY(True)
        item = GanttItem()
        item.set_data(data)
        w.addItem(item)
        w.setYRange(-0.6, data.n_rows - 0.4, padding=0)
        w.show()
        QApplication.processEvents()
        return w

    def pixels(w):
        img = w.viewport().grab().toImage()
        return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), -1).copy()

    panned = view()
    span = data.x_max / 4
    for k in range(40):
        panned.setXRange(k * span / 40, k * span / 40 + span, padding=0)
        panned.viewport().repaint()
    fresh = view()
    fresh.setXRange(39 * span / 40, 39 * span / 40 + span, padding=0)
    fresh.viewport().repaint()
    assert (pixels(panned) != pixels(fresh)).sum() == 0


def test_new_cpu_samples_redraw_only_the_panels_tail(qtbot, monkeypatch):
    """A CPU sample drawn while a run goes on updates the tail items (the newest
    samples, a few pixels wide), not the history's image and curves across the view;
    the history takes the tail over in one redraw once it spans ``TAIL_S``, seamlessly."""
    from concviz.ui import cpu_panel

    monkeypatch.setattr(cpu_panel, "SAMPLES_HZ", 1e9)  # every refresh draws new samples
    t0 = time.perf_counter_ns() - 500 * MS
    view = _view(qtbot, _store(t0), t0)
    view.follow = False
    view.gantt_plot.setXRange(0, 8, padding=0)
    panel, series = view.cpu, view.cpu.series
    period = 66 * MS

    def add(n: int) -> None:
        for _ in range(n):
            k = len(series)
            series.append(t0 + k * period, np.array([0.25 + 0.5 * (k % 2), 0.5]), 0.75)

    def points(curve) -> int:
        return 0 if curve.xData is None else len(curve.xData)

    add(30)
    _frame(qtbot, view)
    assert points(panel.machine_curve) == 30 and points(panel.machine_tail) == 0
    history_calls = []
    for item in (panel.machine_curve, panel.lab_curve, panel.image):
        setter = "setData" if item is not panel.image else "setImage"
        orig = getattr(item, setter)
        monkeypatch.setattr(
            item, setter, lambda *a, _o=orig, **k: (history_calls.append(1), _o(*a, **k))[1]
        )
    for _ in range(3):  # 0.66 s of new samples: under TAIL_S
        add(5)
        _frame(qtbot, view)
    assert history_calls == [], "a new sample redrew the history's image or curves"
    assert len(panel.machine_tail.xData) == 16  # from the history's last sample on
    assert panel.machine_tail.xData[0] == panel.machine_curve.xData[-1]
    assert panel.tail_image.image.shape[1] == 15
    history = panel.image.mapRectToParent(panel.image.boundingRect())
    tail = panel.tail_image.mapRectToParent(panel.tail_image.boundingRect())
    assert abs(tail.left() - history.right()) < 1e-9  # the tail's columns join the history's

    add(int(cpu_panel.TAIL_S * 1e9 / period) + 1)  # the tail outgrows TAIL_S
    _frame(qtbot, view)
    assert history_calls, "the history never took the tail over"
    assert points(panel.machine_curve) == len(series) and points(panel.machine_tail) == 0
