"""The runs panel drives the real window: runs listed, a past run shown with its own bars
and CPU, rename / remove / baseline through the session, reflected in list and summary."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from concviz.model.event_store import BAR_SLICE

from .conftest import configure


def _run_and_wait(window, qtbot, **params) -> None:
    configure(window, **params)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)


def _cell(window, row: int, col: int) -> str:
    m = window.runs_panel.model
    return m.data(m.index(row, col))


def _click_row(window, qtbot, row: int) -> None:
    view = window.runs_panel.view
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _worker_rows(window) -> set[int]:
    """The Gantt rows that hold task bars (one per worker that ran one)."""
    d = window.timeline.gantt.data
    serial = np.isin(d.row, d.serial_rows)
    return set(d.row[(d.kind != BAR_SLICE) & ~serial].tolist())


def _shown_tasks(window) -> list[int]:
    window.timeline.refresh()
    d = window.timeline.gantt.data
    serial = np.isin(d.row, d.serial_rows)
    return sorted(d.task[(d.kind != BAR_SLICE) & ~serial].tolist())


def test_runs_are_listed_and_a_past_run_is_shown_with_its_own_bars_and_cpu(window, qtbot):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=5, task_ms=30)
    _run_and_wait(window, qtbot, strategy="threads", workers=3, tasks=5, task_ms=30)
    panel, session = window.runs_panel, window.session
    seq, thr = session.runs
    assert panel.model.rowCount() == 2
    assert _cell(window, 0, 0) == seq.name and "sequential" in seq.name
    assert _cell(window, 1, 1) == f"{thr.wall_s:.2f} s"
    # the newest run is the selected one, and the list and the summary agree on speedup
    assert panel.view.currentIndex().row() == 1 and window.shown_run is thr
    speedup, _eff = session.speedup(thr)
    assert _cell(window, 1, 2) == f"{speedup:.2f}×"
    assert window.summary.text("speedup") == f"{speedup:.2f}×"
    assert _cell(window, 0, 2) == "1.00× ⚑"  # the sequential run: the others' baseline

    _click_row(window, qtbot, 0)  # a past run: its bars, its CPU, its figures
    assert window.shown_run is seq
    assert window.timeline.store is seq.store
    assert _shown_tasks(window) == list(range(5))
    assert len(_worker_rows(window)) == 1  # one worker
    started = int(seq.store.runs[-1].started["t_ns"])

    def covered() -> bool:  # the samples after a short run's end arrive within 0.65 s
        t = window.timeline.cpu.series.snapshot()[0]
        return len(t) >= 2 and t[-1] >= started

    qtbot.waitUntil(covered, timeout=3000)
    cpu = window.timeline.cpu.series
    assert cpu is not window.sampler.series
    t, _cores, _lab = cpu.snapshot()
    assert t[0] <= started + 200_000_000 and t[-1] >= started  # the run's own span
    assert "sequential · 1 worker" in window.summary.title.text()
    assert window.summary.text("wall") == f"{seq.wall_s:.2f} s"

    _click_row(window, qtbot, 1)
    assert window.shown_run is thr and _shown_tasks(window) == list(range(5))
    assert len(_worker_rows(window)) >= 2


def test_rename_remove_and_baseline_reach_list_and_summary(window, qtbot):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=4, task_ms=30)
    _run_and_wait(window, qtbot, strategy="threads", workers=2, tasks=4, task_ms=30)
    _run_and_wait(window, qtbot, strategy="thread-pool", workers=2, tasks=4, task_ms=30)
    panel, session = window.runs_panel, window.session
    seq, thr, pool = session.runs
    view = panel.view

    # rename with F2 in the list: through session.rename, and Return does not start a run
    _click_row(window, qtbot, 1)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = view.focusWidget()
    assert editor is not view
    editor.selectAll()
    qtbot.keyClicks(editor, "my threads")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: thr.name == "my threads", timeout=3000)  # committed queued
    assert thr.name == "my threads" and _cell(window, 1, 0) == "my threads"
    assert not window.running and len(session.runs) == 3
    # a rename in the model reaches the view too
    session.rename(seq, "the baseline")
    assert _cell(window, 0, 0) == "the baseline"

    # mark the threads run as the baseline: the summary of the pool run says so
    panel.baseline_action.trigger()  # the context menu's action, on the current run
    assert session.baseline_for(pool) is thr and session.baseline_for(seq) is thr
    assert _cell(window, 1, 2).endswith("⚑")
    _click_row(window, qtbot, 2)
    assert "my threads" in window.summary.notes["speedup"].text()
    expected = thr.wall_s / pool.wall_s
    assert window.summary.text("speedup") == f"{expected:.2f}×" == _cell(window, 2, 2)
    panel.auto_baseline_action.trigger()  # back to the latest sequential run
    assert session.baseline_for(pool) is seq
    assert "vs sequential" in window.summary.notes["speedup"].text()

    # remove the shown run with the Delete key: the list shrinks, another run is shown
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert pool not in session.runs and panel.model.rowCount() == 2
    assert window.shown_run is thr and window.timeline.store is thr.store
    # removing the baseline: the threads run has none left, and says so
    _click_row(window, qtbot, 0)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert [r.name for r in session.runs] == ["my threads"]
    assert _cell(window, 0, 2) == "—"
    assert window.summary.text("speedup") == "—" and window.summary.measure_button.isVisible()


def test_a_live_run_keeps_drawing_when_selected_again(window, qtbot):
    _run_and_wait(window, qtbot, strategy="sequential", workers=1, tasks=3, task_ms=20)
    configure(window, strategy="threads", workers=2, task_ms=20, mode="continuous")
    window.run_action.trigger()
    live = window.session.runs[-1]
    assert window.runs_panel.view.currentIndex().row() == 1  # a new run is selected
    qtbot.waitUntil(lambda: live.store.bar_count >= 4, timeout=20000)
    _click_row(window, qtbot, 0)
    assert window.timeline.store is not live.store and not window.timeline.running
    _click_row(window, qtbot, 1)
    assert window.timeline.store is live.store and window.timeline.running
    assert window.timeline.cpu.series is window.sampler.series
    seen = len(_shown_tasks(window))

    def grew() -> bool:
        window.timeline._next_rebuild = 0.0
        return len(_shown_tasks(window)) > seen + 2

    qtbot.waitUntil(grew, timeout=20000)
    assert "s…" in _cell(window, 1, 1)  # the list says how long it has been going
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: live.finished, timeout=20000)
    assert _cell(window, 1, 1) == f"{live.wall_s:.2f} s"
    assert len(live.cpu.t_ns) >= 2 and live.cpu.percent.shape[1] == window.sampler.series.n_cores


def test_the_runs_panel_toggles_from_the_view_menu(window, qtbot):
    dock = window.runs_panel
    assert dock.isVisible()
    window.runs_action.trigger()
    assert not dock.isVisible()
    window.runs_action.trigger()
    assert dock.isVisible()


def test_run_colours_stand_out_on_both_themes():
    """Swatches and compare bars are graphics: WCAG's 3:1 against the background."""
    from concviz.ui import theme as T

    for theme in (T.LIGHT, T.DARK):
        assert len(set(theme.runs)) == len(theme.runs) >= 6
        for colour in theme.runs:
            assert T.contrast_ratio(colour, theme.background) >= 3.0, (theme.name, colour)
            assert T.contrast_ratio(colour, theme.base) >= 3.0, (theme.name, colour)


def test_a_live_runs_ticking_wall_reads_no_other_row_and_is_never_elided(qtbot, monkeypatch):
    """A live run's wall time ticks 4 times a second: the table redraws that cell only
    (it measured every row's cells at each tick, 3.7 ms with 50 runs), and the column
    is already as wide as the ticking text."""
    from concviz.model.session import Session
    from concviz.ui import runs_panel
    from concviz.ui.runs_panel import WALL, RunsPanel, wall_text

    session = Session()
    for i in range(50):
        done = session.new_run(None, source="saved", name=f"run {i}")
        done.result = {"ok": True, "wall_s": 100.0 + i, "cpu_s": 1.0}
    live = session.new_run(None, source="live", name="live")
    panel = RunsPanel(session)
    qtbot.addWidget(panel)
    panel.resize(320, 2400)  # every row visible
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)  # its first paint reads every row
    rows_read: set[int] = set()
    data = panel.model.data

    def counting(index, role=Qt.ItemDataRole.DisplayRole):
        rows_read.add(index.row())
        return data(index, role)

    panel.model.data = counting
    for _ in range(5):
        session.updated(live)
        qtbot.wait(5)
    assert rows_read <= {panel.model.row_of(live.id)}
    fm = panel.view.fontMetrics()
    assert panel.view.columnWidth(WALL) > fm.horizontalAdvance(wall_text(live))
    # a wall text that outgrows the column (a run past 100 s) widens it at that tick
    narrow = panel.view.columnWidth(WALL)
    panel.model.data = data
    monkeypatch.setattr(runs_panel, "wall_text", lambda run: "1234.5 s…" if run is live else "-")
    panel.model.data = lambda index, role=Qt.ItemDataRole.DisplayRole: (
        "1234.5 s…"
        if index.row() == panel.model.row_of(live.id)
        and index.column() == WALL
        and role == Qt.ItemDataRole.DisplayRole
        else data(index, role)
    )
    session.updated(live)
    assert panel.view.columnWidth(WALL) > max(narrow, fm.horizontalAdvance("1234.5 s…"))


def test_a_name_cut_short_keeps_its_run_number(qtbot):
    from PySide6.QtGui import QFont, QFontMetrics

    from concviz.ui.runs_panel import elide_keeping_number

    fm = QFontMetrics(QFont())
    name = "#12 threads ×4 · cpu-python"
    assert elide_keeping_number(name, fm, fm.horizontalAdvance(name)) == name
    for chars in ("#12 thr", "#12 ", "#1"):
        cut = elide_keeping_number(name, fm, fm.horizontalAdvance(chars))
        assert cut.startswith("#12") and cut.endswith("…"), (chars, cut)
    # a renamed run has no number to keep: cut from the right as before
    assert elide_keeping_number("my big run", fm, fm.horizontalAdvance("my b")).endswith("…")


def test_the_name_column_keeps_the_number_and_strategy_in_the_narrowest_window(window, qtbot):
    from concviz.ui.runs_panel import NAME, NAME_MIN_TEXT, WALL

    _run_and_wait(window, qtbot, strategy="threads", workers=2, tasks=4, task_ms=20)
    # the panel dragged as narrow as it goes (it was 225 pixels so, at 1280×720)
    window.splitter.setSizes([10_000, 1])
    qtbot.wait(50)
    assert window.splitter.sizes()[1] == window.runs_panel.minimumWidth()
    view = window.runs_panel.view
    needed = view.iconSize().width() + view.fontMetrics().horizontalAdvance(NAME_MIN_TEXT)
    assert view.columnWidth(NAME) >= needed, (view.columnWidth(NAME), needed)
    assert view.columnWidth(WALL) >= view.sizeHintForColumn(WALL)  # and the figures whole
    # the least width is the same while a run goes and once it ended (no jump at its end)
    least = window.runs_panel.minimumWidth()
    configure(window, strategy="threads", workers=2, tasks=40, task_ms=20)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: window.running, timeout=10000)
    qtbot.wait(600)  # its wall ticks ("0.5 s…")
    assert window.runs_panel.minimumWidth() == least
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    assert window.runs_panel.minimumWidth() == least
