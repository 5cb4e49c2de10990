"""A live toggle in the window, without the mouse: Run-menu actions, segments, labels."""

from __future__ import annotations

from .conftest import configure


def test_keyboard_toggle_makes_a_segment_with_its_own_figures(window, qtbot):
    configure(window, workload="io-sleep", strategy="threads", workers=2, task_ms=5)
    window.controls.set_continuous(False)
    window.continuous_action.trigger()  # Run → Continuous mode, as its shortcut does
    assert window.controls.continuous() and window.continuous_action.isChecked()
    window.run()
    qtbot.waitUntil(lambda: window.timeline.store.bar_count > 20, timeout=20000)
    window.continuous_action.trigger()  # the mode of a running run cannot change
    assert window.controls.continuous()
    window.next_strategy_action.trigger()
    window.next_strategy_action.trigger()
    window.previous_strategy_action.trigger()  # three presses: one switch, to the next one
    wanted = window.controls.strategy()
    assert wanted != "threads"
    store = window.timeline.store
    qtbot.waitUntil(lambda: any(m.get("kind") == "switch" for m in store.markers), timeout=10000)
    switches = [m for m in store.markers if m.get("kind") == "switch"]
    assert len(switches) == 1 and switches[0]["to"]["strategy"] == wanted

    # the status line says the switch happened, no longer that it is coming
    qtbot.waitUntil(
        lambda: window.segments_tick() or "Switched to" in window.statusBar().currentMessage(),
        timeout=5000,
    )
    assert f"Switched to {wanted} × 2 at " in window.statusBar().currentMessage()

    def labelled() -> bool:
        window.segments_tick()
        lines = window.timeline._marker_lines
        return bool(lines) and "tasks/s" in lines[0].label.format

    qtbot.waitUntil(labelled, timeout=10000)
    label = window.timeline._marker_lines[0].label.format
    # on one line, or the names over the figures where one line has no room
    assert label.split(": ")[0].split("\n")[0] == f"threads × 2 → {wanted} × 2", label
    assert label.count("tasks/s") == 1
    _label_stays_in_view_above_the_rows(window, qtbot)
    panel = window.segments_panel

    def rate_shown() -> bool:  # the new segment's first tasks have ended
        window.segments_tick()
        return "tasks/s" in panel.rate.text()

    qtbot.waitUntil(rate_shown, timeout=10000)
    assert panel.isVisible() and not window.summary.isVisible()
    assert wanted in panel.title.text()
    assert "threads × 2" in panel.table.text() and wanted in panel.table.text()
    assert window.throughput_lane.shown  # the tasks/s line on the CPU totals
    # its scale narrows the CPU totals: the plots above narrow as much, so a moment
    # is at one x in all three (the busy line ended 0.3 s short of the bars above)
    qtbot.waitUntil(lambda: _edges_agree(window.timeline), timeout=3000)
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=10000)
    window.segments_tick()
    assert "stopped" in panel.title.text()
    result = window.session.runs[-1].result
    assert [s["strategy"] for s in result["segments"]] == ["threads", wanted]
    # the runs list names the run for its path, not for its first strategy alone
    model = window.runs_panel.model
    shown = model.data(model.index(model.rowCount() - 1, 0))
    assert shown.startswith(f"#1 threads ×2 → {wanted} ×2"), shown


def _edges_agree(tl) -> bool:
    rects = [p.vb.sceneBoundingRect() for p in (tl.gantt_plot, tl.cpu.heat, tl.cpu.total)]
    return all(
        abs(r.left() - rects[0].left()) <= 1 and abs(r.right() - rects[0].right()) <= 1
        for r in rects
    )


def _label_stays_in_view_above_the_rows(window, qtbot) -> None:
    """Wherever the switch sits in the view, its label is whole inside the view (the
    figures alone, or elided, where the whole label has no room) and above the first
    row: at the view's edge a label once read "ds × 2 → …" and hid the row's bars."""
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QApplication

    tl = window.timeline
    tl.follow = False
    line = tl._marker_lines[0]
    vb = tl.gantt_plot.vb
    x = line.value()
    for share in (0.03, 0.5, 0.97):  # the line near the left edge, the middle, the right
        span = 2.0
        tl.gantt_plot.setXRange(x - share * span, x + (1 - share) * span, padding=0)
        window.segments_tick()
        for _ in range(3):
            QApplication.processEvents()
        box = line.label.sceneBoundingRect()
        view = vb.sceneBoundingRect()
        assert view.left() - 1 <= box.left() and box.right() <= view.right() + 1, (share, box, view)
        first_row_top = vb.mapViewToScene(QPointF(x, -0.5)).y()
        assert box.bottom() <= first_row_top + 1, (share, box.bottom(), first_row_top)
        assert "tasks/s" in line.label.format or "…" in line.label.format


def test_a_live_continuous_run_lays_its_bars_out_about_once_a_second_not_every_tick(
    window, qtbot, monkeypatch
):
    # the panel's figures change at every tick (2.5 a second); its bars are laid out and
    # repainted calmly, at once when the user moves the view
    configure(window, workload="io-sleep", strategy="threads", workers=2, task_ms=5)
    window.controls.set_continuous(True)
    window.run()
    qtbot.waitUntil(lambda: window.timeline.store.bar_count > 20, timeout=20000)
    tl = window.timeline
    calls = []
    real = tl.refresh
    monkeypatch.setattr(tl, "refresh", lambda **kw: calls.append(1) or real(**kw))
    window.segments_tick()  # may be due
    calls.clear()
    for _ in range(5):  # ticks in quick succession: none due yet
        window.segments_tick()
    assert calls == []
    tl.follow = False
    x0, x1 = tl.gantt_plot.vb.viewRange()[0]
    tl.gantt_plot.setXRange(x0 - 1.0, x1 - 1.0, padding=0)  # the user pans
    window.segments_tick()
    assert calls == [1]
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=10000)


def test_the_segments_panel_stacks_when_narrow_and_never_widens_the_window(window, qtbot):
    # at 720p in presentation mode with the lessons open, the figures beside the table
    # asked for 1 630 px and pushed the window off the screen
    configure(window, workload="io-sleep", strategy="threads", workers=2, task_ms=5)
    window.controls.set_continuous(True)
    window.run()
    qtbot.waitUntil(lambda: window.timeline.store.bar_count > 20, timeout=20000)
    panel = window.segments_panel
    window.presentation_action.trigger()  # F11: the larger type of a projector

    def shown() -> bool:
        window.segments_tick()
        return "tasks/s" in panel.rate.text() and panel.table.text() != ""

    qtbot.waitUntil(shown, timeout=10000)
    # its layout's needs are not the window's minimum (an explicit one is: the window
    # gives it the width it has), and stacked it needs far less than side by side
    assert panel.minimumWidth() <= 1
    panel.resize(2400, panel.height())
    assert panel.side_by_side()
    wide_needs = panel.minimumSizeHint().width()
    panel.resize(500, panel.height())
    assert not panel.side_by_side()
    assert panel.minimumSizeHint().width() < 0.7 * wide_needs
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=10000)
