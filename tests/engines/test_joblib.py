"""joblib's loky and threading backends, really running, on the same timeline."""

from __future__ import annotations

import pytest
from enginekit import (
    check_engine_run,
    check_stopped_at_once,
    leftovers,
    require,
    run_in_lab,
    stop_during_start_up,
    stopped_continuous_run,
)

from concviz.runtime import LabProcess, query


def test_joblib_loky_runs_every_task_in_parallel_and_leaves_nothing():
    require("joblib-loky")
    run, store = check_engine_run("joblib-loky")
    names = {ln.name for ln in store.lanes() if ln.name}
    assert any(n.startswith("loky worker") for n in names), names
    assert run["teardown_s"] > 0


def test_joblib_threads_has_a_row_per_thread_and_no_speedup_for_python_code():
    require("joblib-threads")
    run, _ = check_engine_run("joblib-threads", process_based=False)
    assert len({t["pid"] for t in run["tasks"]}) == 1  # all in the lab process


def test_stop_ends_a_loky_run_and_kills_its_workers():
    require("joblib-loky")
    with stopped_continuous_run("joblib-loky", 400.0) as run:
        assert run.finished["stopped"] and run.finished["ok"], run.finished
        assert not leftovers(run.lab_pid)


def test_engine_strategies_are_listed_with_their_group_and_install_hint():
    lab = LabProcess()
    lab.start()
    try:
        items = {s["name"]: s for s in query(lab, "strategies")["items"]}
    finally:
        lab.close()
    for name in (
        "joblib-loky",
        "joblib-threads",
        "dask-local",
        "dask-remote",
        "spark-local",
        "spark-remote",
        "mpi",
    ):
        assert items[name]["group"] == "engines", name
        if not items[name]["available"] and "package is not installed" in items[name]["reason"]:
            assert "concviz[" in items[name]["install"], items[name]
    assert items["threads"]["group"] == "python"


def _bare_python() -> str:
    """A Python with none of the engines installed (pyenv's 3.12 or 3.13 here)."""
    import glob
    import os

    for pattern in (
        "~/.pyenv/versions/3.12*/bin/python3.12",
        "~/.pyenv/versions/3.13*/bin/python3.13",
    ):
        found = sorted(glob.glob(os.path.expanduser(pattern)))
        if found:
            return found[-1]
    pytest.skip("no second Python without the engines (pyenv's 3.12 or 3.13) is installed")


def test_a_missing_engine_is_unavailable_with_the_reason_and_refused_in_one_sentence():
    import subprocess
    import sys

    bare = _bare_python()
    probe = subprocess.run([bare, "-c", "import joblib"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip(f"{bare} has joblib installed, so nothing is missing there")
    lab = LabProcess(bare)
    lab.start()
    try:
        items = {s["name"]: s for s in query(lab, "strategies")["items"]}
    finally:
        lab.close()
    for name in ("joblib-loky", "dask-local", "spark-local", "mpi"):
        assert not items[name]["available"], name
        assert "not installed" in items[name]["reason"], items[name]
        assert items[name]["install"].startswith("pip install 'concviz["), items[name]
    out = subprocess.run(
        [sys.executable, "-m", "concviz", "run", "-s", "dask-local", "--interpreter", bare],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out
    text = (out.stdout + out.stderr).strip()
    assert "dask-local is not available" in text and "Traceback" not in text, text
    assert "concviz[dask]" in text, text
    listed = subprocess.run(
        [sys.executable, "-m", "concviz", "strategies", "--interpreter", bare],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed
    assert "engines (optional extras)" in listed.stdout
    assert "install: pip install 'concviz[spark]'" in listed.stdout, listed.stdout
    assert f"{bare} -m pip install mpi4py mpich" in listed.stdout, listed.stdout


def test_the_chrome_trace_carries_the_engine_start_up_on_a_track_of_its_own():
    require("joblib-threads")
    from concviz.interop.chrome_trace import trace_events

    run, store, _ = run_in_lab("joblib-threads", tasks=4, task_ms=5.0)
    engine = [e for e in trace_events(store) if e.get("cat") == "engine"]
    assert [e["name"] for e in engine] == ["joblib-threads startup"]
    assert engine[0]["dur"] == pytest.approx(run["startup_s"] * 1e6, rel=1e-6)


@pytest.mark.parametrize("after_s", [0.3])
def test_a_stop_during_the_loky_workers_start_up_ends_the_run_at_once(after_s):
    """A stop while loky starts its workers ends the run within moments, with nothing
    left and no lab restart; the same lab then runs loky again."""
    require("joblib-loky")
    finished, took, left, again = stop_during_start_up("joblib-loky", after_s)
    check_stopped_at_once(finished, took, left)
    assert again is not None and again["ok"] and len(again["tasks"]) == 4, again
