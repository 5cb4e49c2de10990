"""Speedup is measured against a sequential run of the same experiment, never another's."""

from __future__ import annotations

from concviz.model import Baselines, experiment_key


def _run(**kw) -> dict:
    run = {
        "strategy": "sequential",
        "workload": "cpu-python",
        "user": None,
        "workers": 1,
        "tasks_asked": 16,
        "task_ms": 20.0,
        "serial_fraction": 0.0,
        "cpu_fraction": 0.5,
        "jitter": 0.0,
        "seed": 0,
        "interpreter": {"executable": "/usr/bin/python3.11", "version": "3.11.7"},
        "wall_s": 0.40,
        "ok": True,
        "stopped": False,
    }
    run.update(kw)
    return run


def test_the_same_experiment_under_another_strategy_finds_its_baseline():
    b = Baselines()
    b.add(_run())
    assert b.for_run(_run(strategy="threads", workers=2, wall_s=0.41)) == 0.40


def test_a_311_sequential_run_is_not_the_baseline_of_a_313_run():
    b = Baselines()
    b.add(_run())
    other = _run(
        strategy="interpreter-pool",
        workers=2,
        interpreter={"executable": "/opt/python3.13", "version": "3.13.0"},
    )
    assert b.for_run(other) is None


def test_every_knob_of_the_experiment_counts():
    base = _run()
    for change in (
        {"workload": "cpu-native"},
        {"user": "/x/f.py:work"},
        {"tasks_asked": 17},
        {"task_ms": 21.0},
        {"serial_fraction": 0.2},
        {"cpu_fraction": 0.6},
        {"jitter": 0.1},
        {"seed": 1},
    ):
        assert experiment_key(_run(**change)) != experiment_key(base), change
    assert experiment_key(_run(strategy="threads", workers=8)) == experiment_key(base)


def test_stopped_failed_and_continuous_runs_neither_set_nor_get_a_baseline():
    b = Baselines()
    b.add(_run(stopped=True))
    b.add(_run(ok=False))
    b.add(_run(tasks_asked=None))
    assert b.for_run(_run(strategy="threads")) is None
    b.add(_run())
    assert b.for_run(_run(strategy="threads", stopped=True)) is None
