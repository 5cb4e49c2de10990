"""The sweep formulas against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from concviz.model import scaling as sc


def test_speedup_and_efficiency():
    # T(1) = 8 s, T(4) = 2.5 s: S = 3.2, E = 0.8
    assert sc.speedup(8.0, 2.5) == pytest.approx(3.2)
    assert sc.efficiency(3.2, 4) == pytest.approx(0.8)
    # weak: 4× the work in 2.5 s against 8 s for one share: 4 · 8 / 2.5 = 12.8
    assert sc.scaled_speedup(8.0, 2.5, 4) == pytest.approx(12.8)
    assert sc.speedup(1.0, 0.0) == 0.0


def test_amdahl_and_gustafson():
    # f = 0.25, p = 4: 1 / (0.25 + 0.75/4) = 1 / 0.4375 = 2.2857…
    assert sc.amdahl(0.25, 4) == pytest.approx(1 / 0.4375)
    assert sc.amdahl(0.0, 8) == pytest.approx(8.0)
    # Gustafson: 4 − 0.25 · 3 = 3.25
    assert sc.gustafson(0.25, 4) == pytest.approx(3.25)


def test_karp_flatt():
    # S = 1.6 at p = 2: (1/1.6 − 1/2) / (1 − 1/2) = (0.625 − 0.5) / 0.5 = 0.25
    assert sc.karp_flatt(1.6, 2) == pytest.approx(0.25)
    # Amdahl's own curve gives back its f at every p
    for p in (2, 3, 8):
        assert sc.karp_flatt(sc.amdahl(0.1, p), p) == pytest.approx(0.1)
    assert sc.karp_flatt(1.0, 1) is None


def test_fit_amdahl_finds_f_exactly_on_its_curve():
    ps = [1, 2, 4, 8]
    f, err = sc.fit_amdahl(ps, [sc.amdahl(0.2, p) for p in ps])
    assert f == pytest.approx(0.2)
    assert err == pytest.approx(0.0, abs=1e-12)


def test_fit_amdahl_hand_case_with_error():
    # two repeats at p = 2: S = 1.6 and 4/3.  x = 1/2 for both;
    # y = 1/1.6 − 1/2 = 0.125 and 3/4 − 1/2 = 0.25; f = Σxy/Σx² = (0.0625 + 0.125)/0.5 = 0.375
    # residuals 0.125 − 0.1875 = −0.0625 and 0.25 − 0.1875 = 0.0625: rss = 0.0078125
    # se = √(0.0078125 / 1 / 0.5) = 0.125
    f, err = sc.fit_amdahl([2, 2], [1.6, 4 / 3])
    assert f == pytest.approx(0.375)
    assert err == pytest.approx(0.125)
    # one point: no error; none with p > 1: nothing
    assert sc.fit_amdahl([1, 2], [1.0, 1.6]) == (pytest.approx(0.25), None)
    assert sc.fit_amdahl([1], [1.0]) == (None, None)


def test_fit_gustafson():
    ps = [1, 2, 4]
    assert sc.fit_gustafson(ps, [sc.gustafson(0.3, p) for p in ps]) == pytest.approx(0.3)


def test_break_even_interpolates_on_a_log_scale():
    # S = 0.5 at 0.1 ms, 2.0 at 10 ms: t = (1 − 0.5)/(2 − 0.5) = 1/3 of the way from
    # log 0.1 to log 10, i.e. 10^(−1 + 2/3) = 10^(−1/3)
    assert sc.break_even([0.1, 10.0], [0.5, 2.0]) == pytest.approx(10 ** (-1 / 3))
    assert sc.break_even([1.0, 10.0], [1.5, 2.0]) == 1.0  # already wins at the smallest
    assert sc.break_even([1.0, 10.0], [0.5, 0.9]) is None  # never


def test_sweep_object_workers():
    walls = {("p", 1): [4.0, 4.0], ("p", 2): [2.5, 2.5], ("p", 4): [1.6, 1.6]}
    out = sc.sweep_object("workers", walls)
    pts = {pt["workers"]: pt for pt in out["points"]}
    assert pts[2]["speedup"] == pytest.approx(1.6)
    assert pts[4]["efficiency"] == pytest.approx(2.5 / 4)
    assert pts[2]["karp_flatt"] == pytest.approx(0.25)
    # p = 4: 1/2.5 − 1/4 = 0.15 over 0.75 → 0.2
    assert pts[4]["karp_flatt"] == pytest.approx(0.2)
    assert 0.2 <= out["amdahl_serial_fraction"] <= 0.25
    assert out["amdahl_serial_fraction_err"] > 0
    assert pts[1]["wall_s_spread"] == 0.0


def test_sweep_object_task_size():
    walls = {("pp", 0.1): [2.0], ("pp", 10.0): [0.25], ("tp", 0.1): [0.8], ("tp", 10.0): [0.3]}
    base = {0.1: [1.0], 10.0: [0.5]}
    out = sc.sweep_object("task_size", walls, base, workers=2)
    assert out["break_even_task_ms"]["pp"] == pytest.approx(10 ** (-1 / 3))
    assert out["break_even_task_ms"]["tp"] == pytest.approx(0.1)
    pp10 = next(p for p in out["points"] if p["strategy"] == "pp" and p["task_ms"] == 10.0)
    assert pp10["speedup"] == pytest.approx(2.0) and pp10["efficiency"] == pytest.approx(1.0)
    assert math.isfinite(out["break_even_task_ms"]["pp"])


def test_points_past_the_cores_stay_out_of_the_fit():
    # on 2 cores, p = 4 is no faster than p = 2: the machine's limit, not a serial part
    walls = {("p", 1): [4.0], ("p", 2): [2.0], ("p", 4): [2.0]}
    assert sc.sweep_object("workers", walls, cores=2)["amdahl_serial_fraction"] == 0.0
    assert sc.sweep_object("workers", walls)["amdahl_serial_fraction"] > 0.2


def test_default_workers():
    assert sc.default_workers(2) == [1, 2, 3, 4]
