"""The switch-interval knob changes the I/O thread's wake-up latency live."""

from __future__ import annotations

import time

import numpy as np


def test_knob_moves_the_probe_latency(qtbot):
    from concviz.ui.convoy_demo import INTERVALS, ConvoyDemo

    demo = ConvoyDemo()
    qtbot.addWidget(demo)
    demo.knob.setValue(INTERVALS.index(0.001))
    qtbot.waitUntil(demo.client.is_alive, timeout=20000)
    demo.start()
    assert demo.running
    qtbot.wait(1500)
    low = demo.probe_lateness_ms(demo.t0_ns + 300_000_000)
    t_switch = time.perf_counter_ns()
    demo.knob.setValue(INTERVALS.index(0.02))
    qtbot.wait(2000)
    high = demo.probe_lateness_ms(t_switch + 200_000_000)
    print(f"median lateness: 1 ms interval {np.median(low):.2f} ms, 20 ms {np.median(high):.2f} ms")
    assert len(low) >= 5 and len(high) >= 5
    assert np.median(high) > 3 * np.median(low), (np.median(low), np.median(high))
    with qtbot.waitSignal(demo.client.runFinished, timeout=5000):
        demo.stop()
    demo.shutdown()


def test_the_io_threads_lateness_is_mostly_waiting_for_the_gil(qtbot):
    """Sampled from outside: of the time the I/O thread woke late behind two busy
    Python threads, most was spent asleep on the GIL, not queueing for a CPU."""
    import pytest

    from concviz.runtime.wait_sampler import WaitSampler
    from concviz.ui.convoy_demo import INTERVALS, ConvoyDemo

    demo = ConvoyDemo()
    qtbot.addWidget(demo)
    demo.knob.setValue(INTERVALS.index(0.005))
    qtbot.waitUntil(demo.client.is_alive, timeout=20000)
    why = WaitSampler.unavailable_reason(demo.client.pid)
    if why is not None:
        demo.shutdown()
        pytest.skip(why)
    demo.start()
    since = time.perf_counter_ns() + 300_000_000  # the threads are under way
    qtbot.waitUntil(lambda: "waiting for the GIL" in demo.where.text(), timeout=10000)
    qtbot.wait(1500)
    split = demo.lateness_split(since)
    with qtbot.waitSignal(demo.client.runFinished, timeout=5000):
        demo.stop()
    demo.shutdown()
    assert split is not None and split["late"] > 0.02, split  # >= 20 wake-ups, ~5 ms late
    assert split["gil_wait"] >= 0.5 * split["late"], split
    assert split["gil_wait"] > split["cpu_wait"], split
