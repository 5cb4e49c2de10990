"""The issue's badge cases on real small runs, watched from outside as the window does:
each fires on its case, and none of them on native work in threads or sleeps in asyncio."""

from __future__ import annotations

import pytest
from parallelism import MIN_SPARE, machine_parallelism

from concviz.model import run_object
from concviz.runtime.headless import run_batch

pytestmark = pytest.mark.timeout(120)

CASES = ("gil", "blocked-loop", "too-fine", "oversubscribed")


def _codes(lab, **params) -> tuple[list[str], dict]:
    store = run_batch({"mode": "batch", **params}, lab=lab, observe=True)
    run = run_object(store)
    return [d["code"] for d in run["diagnoses"]], run


def test_cpu_python_in_threads_is_gil(lab):
    machine = machine_parallelism()
    codes, run = _codes(
        lab, workload="cpu-python", strategy="threads", workers=2, tasks=8, task_ms=40
    )
    if "machine-busy" in codes or machine - 1.0 < MIN_SPARE:
        pytest.skip(
            f"other programs held the cores (machine parallelism {machine:.2f}, "
            f"{run['machine_busy_cores'] or 0:.2f} cores busy): a free core is missing to tell the "
            "GIL from a full machine"
        )
    assert "gil" in codes, run["diagnoses"]


def test_cpu_python_in_asyncio_blocks_the_loop(lab):
    codes, run = _codes(
        lab, workload="cpu-python", strategy="asyncio", workers=2, tasks=6, task_ms=60
    )
    assert "blocked-loop" in codes, (run["parallelism"], run["diagnoses"])
    d = next(d for d in run["diagnoses"] if d["code"] == "blocked-loop")
    assert d["evidence"]["loop_lag_ms"] >= 20


def test_a_thousand_tiny_tasks_on_a_process_pool_are_too_fine(lab):
    codes, run = _codes(
        lab, workload="cpu-python", strategy="process-pool", workers=2, tasks=1000, task_ms=0.05
    )
    assert "too-fine" in codes, run["diagnoses"]


def test_eight_cpu_python_processes_on_two_cores_are_oversubscribed(lab):
    import os

    if (os.cpu_count() or 1) > 4:
        pytest.skip("more than 4 cores here: 8 workers are not more than the cores")
    codes, run = _codes(
        lab, workload="cpu-python", strategy="process-pool", workers=8, tasks=16, task_ms=40
    )
    assert "oversubscribed" in codes, (run["gil_contention"], run["diagnoses"])


@pytest.mark.parametrize(
    "params",
    [
        {"workload": "cpu-native", "strategy": "threads", "workers": 2, "tasks": 8, "task_ms": 40},
        {"workload": "io-sleep", "strategy": "asyncio", "workers": 2, "tasks": 8, "task_ms": 40},
    ],
)
def test_none_of_them_on_native_threads_or_sleeping_coroutines(lab, params):
    codes, run = _codes(lab, **params)
    assert not set(codes) & set(CASES), run["diagnoses"]


def test_one_task_too_many_for_the_workers_is_uneven(lab):
    # five 60 ms sleeps on four threads: one worker sleeps twice while three idle
    codes, run = _codes(
        lab, workload="io-sleep", strategy="threads", workers=4, tasks=5, task_ms=60
    )
    assert "uneven" in codes, run["diagnoses"]


def test_a_contended_lock_is_named(lab):
    codes, run = _codes(
        lab,
        workload="contended-lock",
        strategy="threads",
        workers=2,
        tasks=8,
        task_ms=20,
        options={"critical_fraction": 0.9},
    )
    assert "lock-contention" in codes, (run["waits"], run["diagnoses"])
    d = next(d for d in run["diagnoses"] if d["code"] == "lock-contention")
    assert d["evidence"]["kind"] == "lock" and d["evidence"]["share_of_worker_time"] >= 0.2
