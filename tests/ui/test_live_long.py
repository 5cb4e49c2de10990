"""A live run of 5 s with redraws: guards the PySide6 6.12 / Python 3.11 signal crash
(it aborts when the reader thread emits a signal)."""

from __future__ import annotations

from .conftest import configure


def test_live_update_run_of_5_seconds_completes(window, qtbot):
    configure(window, strategy="thread-pool", workers=2, task_ms=5, mode="continuous")
    arrived = []
    window.client.eventsArrived.connect(lambda: arrived.append(1))
    window.record_frames = True
    window.run()
    qtbot.wait(5_000)
    assert window.running
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=10000)
    assert len(arrived) > 50  # the reader thread kept signalling the whole time
    assert len(window.frame_times) > 5 * 5  # and the GUI kept ticking (loose: 2 noisy cores)
    assert window.timeline.store.bar_count > 500
