"""What a run cost beyond its tasks: recording (per-event cost) and watching (the observer)."""

from __future__ import annotations

import pytest

from concviz.lab.recorder import measure_record_ns
from concviz.model.run_result import recording_overhead_estimate


def test_the_estimate_is_events_times_cost_over_cpu():
    # 10 000 tasks → 30 000 events; 300 ns each is 9 ms; over 2 s of CPU: 0.0045
    assert recording_overhead_estimate(30_000, 300.0, 2.0) == pytest.approx(0.0045)
    # twice the events, twice the share; twice the CPU, half of it
    assert recording_overhead_estimate(60_000, 300.0, 2.0) == pytest.approx(0.009)
    assert recording_overhead_estimate(30_000, 300.0, 4.0) == pytest.approx(0.00225)


def test_no_estimate_without_a_measured_cost_or_any_cpu():
    assert recording_overhead_estimate(30_000, None, 2.0) is None  # a trace, an old file
    assert recording_overhead_estimate(30_000, 300.0, 0.0) is None


def test_the_lab_measures_a_positive_per_event_cost():
    ns = measure_record_ns(300)
    # two clock readings and two appends per task: more than nothing, far below 1 ms
    assert 0 < ns < 1_000_000


def test_the_observer_clock_counts_this_process_cpu_over_wall():
    import time

    from concviz.model.metrics import ObserverClock

    clock = ObserverClock()
    end = time.perf_counter() + 0.05
    while time.perf_counter() < end:  # busy: about one core's worth
        pass
    busy = clock.core_fraction()
    clock = ObserverClock()
    time.sleep(0.05)  # idle: next to nothing
    idle = clock.core_fraction()
    assert busy is not None and idle is not None
    assert idle < 0.5 < busy or busy > 2 * idle  # a loaded machine may halve the busy one
