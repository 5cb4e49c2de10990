"""A run keeps the CPU samples of its span, and a sequential run is its own baseline."""

from __future__ import annotations

import numpy as np

from concviz.model.cpu_series import CpuSeries
from concviz.model.session import Session


def test_a_runs_cpu_samples_round_trip_through_its_span():
    series = CpuSeries(2, capacity=8)
    for i in range(12):  # the ring wraps: the oldest four are gone
        series.append(i * 100, np.array([0.5, 0.25]) * (i % 2 + 1), lab_cores=0.5, own_cores=0.1)
    kept = series.samples_between(700, 1000)
    assert kept.t_ns.tolist() == [700, 800, 900, 1000]
    assert kept.percent.shape == (4, 2) and kept.cores == 2
    assert kept.percent[0].tolist() == [100.0, 50.0]  # i = 7: twice (0.5, 0.25), in percent
    # others = machine - lab - own: 1.5 - 0.5 - 0.1 at i = 7, 0.75 - 0.6 at i = 8
    assert np.allclose(kept.others, [0.9, 0.15, 0.9, 0.15])
    back = CpuSeries.from_samples(kept)
    t, cores, lab = back.snapshot()
    assert t.tolist() == [700, 800, 900, 1000]
    assert np.allclose(cores[0], [1.0, 0.5]) and np.allclose(lab, 0.5)


def _result(strategy: str, wall: float, workers: int = 2) -> dict:
    return {
        "strategy": strategy,
        "workload": "cpu-python",
        "workers": workers,
        "tasks_asked": 6,
        "task_ms": 60.0,
        "ok": True,
        "stopped": False,
        "wall_s": wall,
        "tasks": [],
    }


def test_a_sequential_run_is_its_own_baseline_and_use_as_baseline_marks_the_rest():
    s = Session()
    seq, thr, pool = (s.new_run(None) for _ in range(3))
    s.finish(seq, _result("sequential", 1.2, 1))
    s.finish(thr, _result("threads", 1.0))
    s.finish(pool, _result("process-pool", 0.6))
    assert s.baseline_for(seq) is seq and s.speedup(seq) == (1.0, None)
    assert s.speedup(pool) == (2.0, 1.0)
    assert s.use_as_baseline(thr) == [seq, pool]
    assert s.baseline_for(pool) is thr and s.speedup(pool)[0] == 1.0 / 0.6
    assert s.baseline_for(seq) is thr
    s.remove(thr)  # a removed baseline hands the runs back to the session's choice
    assert s.baseline_for(pool) is seq


def test_take_runs_keeps_a_chosen_baseline_under_the_new_numbers():
    from concviz.lab import protocol as P
    from concviz.model.session import Session

    opened = Session()
    a = opened.new_run(P.Start(workload="cpu-python", strategy="sequential"))
    b = opened.new_run(P.Start(workload="cpu-python", strategy="threads", workers=2))
    opened.set_baseline(b, a)
    here = Session()
    here.new_run(P.Start(workload="io-sleep", strategy="threads", workers=2))  # takes id 1
    moved = here.take_runs(opened)
    assert [r.strategy for r in here.runs] == ["threads", "sequential", "threads"]
    assert moved == here.runs[1:] and opened.runs == []
    assert here.runs[2].baseline_id == here.runs[1].id != 1


def test_the_compare_headings_baseline_is_the_one_the_charts_use():
    """An I/O and a CPU experiment side by side were headed "against #1" though the
    CPU runs used #3; runs with no sequential first were headed "no sequential run"
    beside speedups from a later run's baseline."""
    from concviz.ui.compare_view import speedup_heading

    s = Session()
    blocking, seq = s.new_run(None), s.new_run(None)
    s.finish(blocking, _result("asyncio", 0.5))
    assert speedup_heading(s, [blocking]).startswith("no sequential run")
    s.finish(seq, _result("sequential", 1.2, 1))
    assert speedup_heading(s, [blocking, seq]) == "speedup against #2 sequential (1.20 s)"
    io_seq, io_thr = s.new_run(None), s.new_run(None)
    s.finish(io_seq, {**_result("sequential", 0.8, 1), "workload": "io-sleep"})
    s.finish(io_thr, {**_result("threads", 0.4), "workload": "io-sleep"})
    heading = speedup_heading(s, [io_seq, io_thr, seq, blocking])
    assert heading == "speedup vs own sequential (#3, #2)"


def test_a_lanes_title_leaves_out_the_tag_every_compared_run_shares():
    from concviz.ui.compare_view import lane_name

    s = Session()
    runs = [s.new_run(None) for _ in range(3)]
    runs[0].name, runs[1].name = "unsafe · race-conditions 1", "locked · race-conditions 1"
    assert lane_name(runs[0].name, runs[:2]) == "unsafe"
    runs[2].name = "threads · cpu-python"  # not shared by all: names stay whole
    assert lane_name(runs[0].name, runs) == "unsafe · race-conditions 1"
    assert lane_name("unsafe · race-conditions 1", runs[:1]) == "unsafe · race-conditions 1"
