"""Start-up is a phase: a user module's import and worker processes starting are
reported apart from the tasks, never inside one, and left out of the wall time."""

from __future__ import annotations

import pytest

from concviz.model import run_object
from concviz.runtime import LabProcess, run_batch

IMPORT_S = 1.0  # how long the user module below takes to import

MODULE = f"""
import time
time.sleep({IMPORT_S})


def work(i):
    return sum(range(20_000))
"""


def _run(lab: LabProcess, path, method: str) -> dict:
    store = run_batch(
        {
            "workload": "user",
            "user": f"{path}:work",
            "strategy": "process-pool",
            "workers": 2,
            "tasks": 6,
            "options": {"start_method": method},
        },
        lab=lab,
    )
    run = run_object(store)
    assert run["ok"], run["error"]
    return run


def _phase(run: dict, starts_with: str) -> dict:
    found = [
        p for p in run["phases"] if p["kind"] == "startup" and p["label"].startswith(starts_with)
    ]
    assert len(found) == 1, run["phases"]
    return found[0]


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_slow_import_is_a_start_up_phase_outside_every_task(lab, tmp_path, method):
    path = tmp_path / f"slow_{method}.py"  # a module of its own: the lab imports it afresh
    path.write_text(MODULE)
    run = _run(lab, path, method)

    imported = _phase(run, f"import of slow_{method}.py")
    assert IMPORT_S * 0.95 <= imported["seconds"] <= IMPORT_S * 3, imported
    pool = _phase(run, "2 worker processes")
    ready = pool["details"]["workers_ready_s"]
    assert len(ready) == 2 and all(s is not None for s in ready), pool
    if method == "spawn":  # each worker imports the module again
        assert min(ready) >= IMPORT_S * 0.95, pool
    else:  # forked workers inherit the imported module
        assert max(ready) < IMPORT_S / 2, pool
    assert run["worker_startup_s"] == ready
    assert run["startup_s"] == pytest.approx(imported["seconds"] + pool["seconds"])

    # no task holds any of it, and the wall time leaves it out
    first_start = min(t["start_ns"] for t in run["tasks"])
    assert first_start >= pool["t_ns"] >= imported["t_ns"]
    assert run["wall_s"] < IMPORT_S / 2, run["wall_s"]
    # the CPU the workers spent starting and exiting is not counted as the tasks'
    # ("native threads"): each worker's exit is measured apart too
    assert pool["details"]["workers_exit_cpu_s"] >= 0, pool
    assert run["native_cpu_s"] < 0.5 * pool["details"]["workers_startup_cpu_s"] + 0.05, run


def test_a_module_already_imported_has_no_import_phase(lab, tmp_path):
    path = tmp_path / "slow_again.py"
    path.write_text(MODULE)
    _run(lab, path, "fork")
    again = _run(lab, path, "fork")
    assert not [p for p in again["phases"] if p["label"].startswith("import of")], again["phases"]
