from __future__ import annotations

import numpy as np

from concviz.model.cpu_series import CpuSeries


def test_ring_keeps_newest_in_time_order():
    s = CpuSeries(2, capacity=3)
    for i in range(5):
        s.append(i * 10, np.array([i / 10, 0.5]), i * 0.1)
    t, cores, lab = s.snapshot()
    assert t.tolist() == [20, 30, 40]
    assert np.allclose(cores[:, 0], [0.2, 0.3, 0.4])
    assert np.allclose(lab, [0.2, 0.3, 0.4])
    machine, lab_mean = s.mean_between(25, 45)
    assert abs(machine - (0.35 + 0.5)) < 1e-6
    assert abs(lab_mean - 0.35) < 1e-6
    assert s.mean_between(100, 200) is None
