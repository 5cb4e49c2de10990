from __future__ import annotations

import numpy as np
import pytest

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


def test_others_are_the_machine_minus_the_lab_and_the_sampler_itself():
    import numpy as np

    from concviz.model.cpu_series import CpuSeries
    from concviz.model.metrics import busy_machine_warning

    s = CpuSeries(2, capacity=16)
    for i in range(4):  # 2 busy cores: the lab 1.0, the window 0.25, others 0.75
        s.append(100 + i, np.array([1.0, 1.0], np.float32), 1.0, 0.25)
    s.append(200, np.array([0.1, 0.0], np.float32), 0.5, 0.0)  # floored at 0, outside below
    assert s.others_between(100, 103) == pytest.approx(0.75)
    assert s.others_between(100, 200) == pytest.approx(0.6)
    assert s.others_between(300, 400) is None
    assert busy_machine_warning(0.75).startswith("Other programs used 0.8 cores")
    assert busy_machine_warning(0.2) is None and busy_machine_warning(None) is None
