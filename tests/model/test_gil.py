"""GIL formulas against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from concviz.model import gil


def test_contention_is_median_lateness_over_switch_interval():
    late = np.array([1_000_000, 5_000_000, 6_000_000], dtype=np.int64)  # median 5 ms
    assert gil.gil_contention(late, 0.010) == pytest.approx(0.5)
    assert gil.gil_contention(late, 0.002) == 1.0  # clipped
    assert gil.gil_contention(np.array([], np.int64), 0.005) is None


def test_levels():
    assert gil.contention_level(0.9) == "high"
    assert gil.contention_level(0.2) == "medium"
    assert gil.contention_level(0.01) == "low"
    assert gil.contention_level(None) == "unknown"


def test_parallelism_and_busy_workers():
    # two tasks of 1 s wall each, 0.5 s CPU each, in a 1 s run
    assert gil.effective_parallelism(1e9, 1e9) == pytest.approx(1.0)
    assert gil.busy_workers(2e9, 1e9) == pytest.approx(2.0)
    assert gil.effective_parallelism(1e9, 0) == 0.0


def test_meter_words():
    assert gil.gil_meter("threads", 1.0, 4.0) == "Python is running on 1.0 of 4.0 busy threads"
    assert gil.gil_meter("threads", 1.9, 2.0, True, False).startswith("no GIL")
    assert gil.gil_meter("interpreter-pool", 1.8, 2.0).startswith("one GIL per interpreter")


def test_parallelism_over_time_by_hand():
    # two bars: [0, 2) with 1 s of CPU (rate 0.5) and [1, 3) with 2 s of CPU (rate 1)
    start = np.array([0.0, 1.0])
    end = np.array([2.0, 3.0])
    cpu = np.array([1.0, 2.0])
    busy, eff = gil.parallelism_over_time(start, end, cpu, np.array([0.0, 1.0, 2.0, 3.0, 4.0]))
    assert busy == pytest.approx([1.0, 2.0, 1.0, 0.0])
    assert eff == pytest.approx([0.5, 1.5, 1.0, 0.0])
    # a bin that cuts bars in half
    busy, eff = gil.parallelism_over_time(start, end, cpu, np.array([0.5, 1.5]))
    assert busy == pytest.approx([1.5])  # 1 s of bar 0 + 0.5 s of bar 1
    assert eff == pytest.approx([1.0])  # 0.5 + 0.5
    empty = gil.parallelism_over_time(np.array([]), np.array([]), np.array([]), np.arange(3.0))
    assert empty[0].tolist() == [0.0, 0.0]
