"""Synchronisation made visible in the real window: waits in the Gantt, a deadlock's cycle,
a task graph's critical path and arrows, a queue's depth, and the Chrome export of them."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import QPointF

from concviz.model.sync_view import WAIT_STYLES

from .conftest import configure


def _run(win, qtbot, options: dict | None = None, **params) -> None:
    # the lab lists its workloads after its strategies: until then the sharing
    # workloads are not in the list, and choosing one would keep cpu-python
    combo = win.controls.workload
    qtbot.waitUntil(lambda: combo.findText(params["workload"]) >= 0, timeout=20000)
    configure(win, **params)
    assert combo.currentText() == params["workload"]
    win.run({"options": options} if options else None)
    assert win.running, win.banner.label.text()
    qtbot.waitUntil(lambda: not win.running, timeout=30000)
    win.timeline._next_rebuild = 0.0
    win.timeline._store_version = -1
    win.timeline.refresh()
    win.timeline.zoom_to_fit()
    qtbot.wait(50)


def _hover_text(win, row: int, x: float) -> str:
    """The tooltip the timeline would show with the pointer at (x seconds, row)."""
    from concviz.ui.timeline import describe

    info = win.timeline.gantt.hit(x, float(row))
    return describe(info) if info else ""


def test_contended_lock_waits_are_drawn_named_and_exported(window, qtbot, tmp_path):
    _run(
        window,
        qtbot,
        {"critical_fraction": 0.8},
        workload="contended-lock",
        strategy="threads",
        workers=4,
        tasks=8,
        task_ms=40,
    )
    d = window.timeline.gantt.data
    waits = d.sync_waits
    store = window.timeline.store
    # every wait the store recorded on a drawn row is in the item's data, as a lock wait
    assert len(waits) == len(store.wait_slices()["lane"]) >= 4
    assert waits.count(WAIT_STYLES.index("lock")) == len(waits)
    # and painted: the item drew wait rectangles (merged below a pixel, never none)
    window.timeline.gantt.update()
    window.grab()
    assert window.timeline.gantt.wait_painter.rects_drawn >= 1
    # hovering the middle of the longest wait names the lock and who held it
    i = int(np.argmax(waits.e - waits.s))
    text = _hover_text(window, int(waits.row[i]), float((waits.s[i] + waits.e[i]) / 2))
    assert "for lock 'A'" in text and "waiting" in text, text
    if waits.holder[i] >= 0:
        assert f"held by task {int(waits.holder[i])}" in text
    assert any(h >= 0 for h in waits.holder.tolist())  # a contended lock knows its holder
    # the legend names the style, the panel the time waited per object
    assert window.legend.sharing_row.isVisible()
    assert window.legend._wait_entries[0][1].isVisible()
    assert window.legend._wait_entries[0][1].text() == "waiting on a lock"
    line = window.sync_panel.line.text()
    assert "lock A:" in line and " waits" in line, line
    # the Chrome export: the waits as slices on the workers' tracks
    path = tmp_path / "t.json"
    assert window.export_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    slices = [e for e in events if e.get("cat") == "wait"]
    assert len(slices) == len(waits)
    assert {e["name"] for e in slices} == {"A"}
    task_tracks = {(e["pid"], e["tid"]) for e in events if e.get("cat") == "task"}
    assert {(e["pid"], e["tid"]) for e in slices} <= task_tracks


def test_deadlock_shows_its_cycle(window, qtbot):
    _run(window, qtbot, workload="deadlock", strategy="threads", workers=2, tasks=2, task_ms=50)
    big = window.sync_panel.big
    assert big.isVisible()
    assert "holds lock A and waits for lock B" in big.text(), big.text()
    big.ensurePolished()  # large: at least 1.15 x the window's text
    assert big.font().pointSizeF() >= 1.15 * window.font().pointSizeF(), big.font()
    overlay = window.timeline.graph_overlay
    assert overlay.highlighted()["deadlock"] == [0, 1]
    labels = {(a, b): label for a, b, label in overlay.arrows()}
    assert labels == {(0, 1): "lock B", (1, 0): "lock A"}
    # the waits that never ended are drawn too, on both tasks' rows
    waits = window.timeline.gantt.data.sync_waits
    assert len(set(waits.task.tolist())) == 2


def test_map_reduce_critical_path_and_hover_arrows(window, qtbot, tmp_path):
    _run(
        window,
        qtbot,
        workload="map-reduce",
        strategy="threads",
        workers=4,
        tasks=15,
        task_ms=30,
    )
    overlay = window.timeline.graph_overlay
    graph = overlay.graph
    assert graph is not None and graph.critical[-1] == 14  # the root of the reduction
    assert overlay.highlighted()["critical"] == graph.critical
    # nothing hovered, not all shown: the critical path's own chain of arrows
    chain = list(zip(graph.critical, graph.critical[1:], strict=False))
    assert overlay.arrows() == [(a, b, "") for a, b in chain]
    # hover task 12 (it reduces 8 and 9): its two dependency arrows
    d = window.timeline.gantt.data
    row = int(d.row_of_lane[graph.lane[12]])
    x = (graph.start[12] + graph.end[12]) / 2
    vb = window.timeline.gantt_plot.vb
    scene = vb.mapViewToScene(QPointF(x, row))
    window.timeline._hover(scene)
    hovered = {(8, 12, ""), (9, 12, "")}
    assert set(overlay.arrows()) == hovered | {(a, b, "") for a, b in chain}
    window.arrows_action.trigger()  # View → Show all dependency arrows
    assert len(overlay.arrows()) == 14  # every edge of a 15-task tree
    window.arrows_action.trigger()
    assert "critical path" in window.sync_panel.line.text()
    assert "(this run " in window.sync_panel.line.text()
    path = tmp_path / "mr.json"
    assert window.export_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    starts = {e["id"]: e for e in events if e.get("ph") == "s"}
    ends = {e["id"]: e for e in events if e.get("ph") == "f"}
    assert len(starts) == len(ends) == 14 and starts.keys() == ends.keys()
    for k, s in starts.items():
        assert s["ts"] <= ends[k]["ts"] + 1e-3  # a dependency ends before its task starts


def test_producer_consumer_counter_line(window, qtbot):
    _run(
        window,
        qtbot,
        workload="producer-consumer",
        strategy="threads",
        workers=4,
        tasks=8,
        task_ms=80,
    )
    counters = window.timeline.counters
    assert counters.names == ["queue"]
    assert counters.points() > 10
    x, y = counters.curves[0].getData()
    assert np.nanmax(y) >= 1  # the queue held items at some point
    assert window.timeline.cpu.total.getAxis("right").isVisible()
    assert "'queue'" in window.legend.counter_label.text()
    assert window.legend.counter_label.isVisible()


def test_shared_counter_lost_updates_are_large(window, qtbot):
    _run(
        window, qtbot, workload="shared-counter", strategy="threads", workers=4, tasks=8, task_ms=20
    )
    result = window.timeline.store.runs[-1].finished["workload_result"]
    big = window.sync_panel.big
    assert big.isVisible()
    lost, expected = result["lost_updates"], result["expected"]
    want = f"Lost {lost:,} of {expected:,} updates" if lost else f"Lost none of {expected:,}"
    assert want in big.text(), (big.text(), result)
    big.ensurePolished()
    assert big.font().pointSizeF() >= 1.15 * window.font().pointSizeF()


def test_thousands_of_waits_paint_as_at_most_a_rectangle_per_pixel(qtbot):
    """20,000 waits of 10 us on two rows: merged below a pixel, so a frame draws at most
    a few rectangles per pixel column per row, not one per wait."""
    import pyqtgraph as pg

    from concviz.lab import protocol as P
    from concviz.model.event_store import EventStore
    from concviz.ui.gantt_item import GanttData, GanttItem

    us = 1_000
    store = EventStore()
    store.add_json({"type": "sync_object", "id": 3, "name": "A", "kind": "lock"})
    rec = []
    for w in range(2):
        rec += [(P.EV_START, 0, w, w, 10, 100 + w, 0, 0, 0)]
        rec += [
            (
                P.EV_WAIT,
                1,
                w,
                w,
                10,
                100 + w,
                (k * 20 + 10) * us,
                P.pack_wait(3, 1 - w),
                k * 20 * us,
            )
            for k in range(10_000)
        ]
        rec += [(P.EV_END, 0, w, w, 10, 100 + w, 200_000 * us, 0, 0)]
    store.add_frame(P.FRAME_EVENTS, P.pack_records(rec))
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(600, 200)
    item = GanttItem()
    plot.addItem(item)
    data = GanttData(store, 0)
    assert len(data.sync_waits) == 20_000
    item.set_data(data)
    plot.show()
    plot.setXRange(0, 0.2, padding=0)
    plot.setYRange(-0.5, 1.5, padding=0)
    plot.grab()
    drawn = item.wait_painter.rects_drawn
    assert 2 <= drawn <= 2 * 600, drawn
    # zoomed in on 1 ms, every wait there is its own rectangle again
    plot.setXRange(0.1, 0.101, padding=0)
    plot.grab()
    assert item.wait_painter.rects_drawn >= 2 * 40


def test_the_knobs_row_offers_each_workloads_own_knobs_and_runs_with_them(window, qtbot):
    c = window.controls
    knobs = c.workload_knobs
    qtbot.waitUntil(lambda: c.workload.findText("shared-counter") >= 0, timeout=20000)
    c.knobs_button.setChecked(True)
    c.set_workload("shared-counter")
    assert knobs.sync.isVisible() and not knobs.spins["width"].isVisible()
    assert [knobs.sync.itemText(i) for i in range(knobs.sync.count())] == [
        "none",
        "lock",
        "atomic",
        "local-then-merge",
    ]
    assert c.params()["options"]["sync"] == "none"
    c.set_workload("wavefront")
    assert not knobs.sync.isVisible() and knobs.spins["width"].isVisible()
    knobs.spins["width"].setValue(3)
    assert c.params()["options"] == {"width": 3}
    c.set_workload("contended-lock")
    knobs.spins["critical_fraction"].setValue(80)
    assert c.params()["options"] == {"critical_fraction": 0.8}
    c.set_workload("cpu-python")
    assert not knobs.isVisible() and "sync" not in c.params()["options"]
    # a run with the lock chosen in the window loses nothing
    c.set_workload("shared-counter")
    knobs.sync.setCurrentText("lock")
    _run(window, qtbot, workload="shared-counter", strategy="threads", tasks=4, task_ms=10)
    result = window.timeline.store.runs[-1].finished["workload_result"]
    assert result["sync"] == "lock" and result["lost_updates"] == 0, result
    assert "Lost none" in window.sync_panel.big.text()


def test_knobs_given_on_the_command_line_show_in_the_knobs_row(qtbot):
    from concviz.ui.workload_knobs import WorkloadKnobs

    knobs = WorkloadKnobs()
    qtbot.addWidget(knobs)
    knobs.set_workload("contended-lock")
    knobs.show_values({"critical_fraction": 0.8, "sync": "lock", "width": "wide"})
    assert knobs.options() == {"critical_fraction": 0.8}
    knobs.set_workload("shared-counter")
    knobs.show_values({"sync": "lock"})
    assert knobs.options() == {"sync": "lock"}
    knobs.show_values({"sync": "sometimes"})  # not a mode: left as it was
    assert knobs.options() == {"sync": "lock"}


def test_a_run_of_the_batch_path_shows_its_lost_updates_too(window, qtbot):
    """Compare all, lessons and screenshots run through the driver, not the live lab:
    the run they leave on the timeline says what it lost as a live run does."""
    from .conftest import configure

    # the lab lists its workloads after its strategies: on a busy machine the choice
    # came before the list, the run was cpu-python's and it had no updates to lose
    combo = window.controls.workload
    qtbot.waitUntil(lambda: combo.findText("shared-counter") >= 0, timeout=20000)
    configure(window, workload="shared-counter", strategy="threads", workers=4, tasks=8)
    assert combo.currentText() == "shared-counter"
    assert window.start_compare(["threads"], {}, compare_view=False)
    qtbot.waitUntil(lambda: not window.batch.is_running(), timeout=60000)
    run = window.session.runs[-1]

    def why() -> str:  # what the run left, should the panel stay hidden
        store = run.store
        last = store.runs[-1] if store.runs else None
        return (
            f"banner {window.banner.text()!r}, meta {run.meta}, shown {window.shown_run is run}, "
            f"finished {last.finished if last else None}"
        )

    try:
        qtbot.waitUntil(lambda: window.sync_panel.big.isVisible(), timeout=5000)
    except Exception:
        raise AssertionError(why()) from None
    assert "updates" in window.sync_panel.big.text()
