from __future__ import annotations

import numpy as np
import pytest

from concviz.model.frame_stats import frame_intervals_ms, interval_stats


def test_intervals_and_percentiles_by_hand():
    ticks = np.array([0.0, 0.016, 0.032, 0.132])  # two 16 ms frames and one of 100 ms
    iv = frame_intervals_ms(ticks)
    assert iv == pytest.approx([16.0, 16.0, 100.0])
    s = interval_stats(iv)
    assert s["p50"] == pytest.approx(16.0)
    assert s["max"] == pytest.approx(100.0)
    assert s["p99"] == pytest.approx(16.0 + 0.98 * 84.0)  # linear between the 2nd and 3rd
    assert interval_stats(np.zeros(0))["n"] == 0
