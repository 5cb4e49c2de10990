"""Replay in the real window: a finished run played again, bars growing, ending on
exactly the bars the live run drew."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from .conftest import configure


def _gantt(window):
    window.timeline.refresh()
    d = window.timeline.gantt.data
    return {k: np.array(getattr(d, k)) for k in ("row", "task", "kind")}


def test_a_replay_grows_the_bars_and_ends_on_the_live_runs_bars(window, qtbot):
    configure(window, workload="io-sleep", strategy="threads", workers=2, tasks=8, task_ms=60)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    run = window.shown_run
    live = _gantt(window)
    assert len(live["task"]) == 8

    qtbot.keyClick(
        window,
        Qt.Key.Key_R,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.replay.active and window.replay.isVisible()
    seen_partial = []

    def partial() -> bool:
        store = window.timeline.store
        if store is not run.store and 0 < store.bar_count < 8:
            seen_partial.append((store.bar_count, len(store.open_bars())))
        return bool(seen_partial)

    qtbot.waitUntil(partial, timeout=5000)
    done, going = seen_partial[0]
    assert going >= 1  # tasks under way are drawn growing, not missing
    qtbot.waitUntil(lambda: not window.replay.active, timeout=10000)
    assert window.timeline.store is run.store and not window.replay.isVisible()
    again = _gantt(window)
    assert all(np.array_equal(live[k], again[k]) for k in live)


def test_scrubbing_shows_the_run_as_it_was_then(window, qtbot):
    configure(window, workload="io-sleep", strategy="threads", workers=2, tasks=6, task_ms=60)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    assert window.replay_run(speed=0.25)
    bar = window.replay
    bar.play_button.setChecked(False)  # pause, then drag the scrubber
    bar.slider.setSliderPosition(0)
    bar.slider.sliderMoved.emit(0)  # as a drag of the handle reports it
    assert window.timeline.store.bar_count == 0
    bar.slider.sliderMoved.emit(1000)
    assert window.timeline.store.bar_count == 6
    bar.close_button.click()
    assert not bar.active and window.timeline.store is window.shown_run.store
