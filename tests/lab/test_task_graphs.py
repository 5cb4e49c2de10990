"""Task graphs: a task starts only after every task it depends on has ended."""

from __future__ import annotations

import pytest

from concviz.lab.dags import build
from concviz.lab.lab import strategies_info
from concviz.model import run_object
from concviz.runtime import BadInput, run_batch


def graph_run(lab, workload: str, strategy: str, tasks: int, **options) -> dict:
    params = {"workload": workload, "strategy": strategy, "workers": 2, "tasks": tasks}
    params.update(task_ms=5, options=options)
    return run_object(run_batch(params, lab=lab))


def assert_deps_respected(run: dict) -> None:
    by_id = {t["id"]: t for t in run["tasks"]}
    for t in run["tasks"]:
        for d in t["deps"]:
            assert t["start_ns"] >= by_id[d]["end_ns"], (t["id"], d)


def require(strategy: str) -> None:
    """Skip, naming what is missing, when ``strategy`` cannot run here."""
    info = {s["name"]: s for s in strategies_info()}[strategy]
    if not info["available"]:
        pytest.skip(f"{strategy} is not available: {info['reason']}")


@pytest.mark.parametrize("strategy", ["threads", "process-pool", "asyncio", "dask-local"])
def test_a_map_reduce_of_64_leaves_waits_for_its_inputs(lab, strategy):
    require(strategy)
    run = graph_run(lab, "map-reduce", strategy, 127)
    assert run["ok"], run["error"]
    assert len(run["tasks"]) == 127 and all(t["ok"] for t in run["tasks"])
    assert sum(1 for t in run["tasks"] if not t["deps"]) == 64
    assert_deps_respected(run)
    # 6 levels of reductions above the leaves: the critical path is 7 tasks long
    assert len(run["critical_path"]) == 7
    assert run["wall_s"] >= 0.3  # 127 tasks of 5 ms on 2 workers
    assert run["wall_s"] >= run["critical_path_s"]


@pytest.mark.parametrize(
    ("workload", "strategy", "tasks"),
    [
        ("pipeline", "thread-pool", 16),
        ("wavefront", "processes", 16),
        ("random-dag", "asyncio-to-thread", 24),
        ("map-reduce", "sequential", 7),
    ],
)
def test_every_graph_shape_runs_in_dependency_order(lab, workload, strategy, tasks):
    run = graph_run(lab, workload, strategy, tasks)
    assert run["ok"], run["error"]
    assert len(run["tasks"]) == tasks
    assert_deps_respected(run)
    assert run["critical_path_s"] > 0


def test_shapes_are_what_they_say():
    assert build("map-reduce", 7, None, 0) == [[], [], [], [], [0, 1], [2, 3], [4, 5]]
    # a 2-wide wavefront: each cell needs the one to its left and the one above
    assert build("wavefront", 4, 2, 0) == [[], [0], [0], [2, 1]]
    a, b = build("random-dag", 12, 3, seed=5), build("random-dag", 12, 3, seed=5)
    assert a == b and all(0 < len(d) <= 2 for d in a[3:])


def test_a_task_count_the_graph_cannot_take_is_refused(lab):
    with pytest.raises(BadInput, match="odd number of tasks"):
        graph_run(lab, "map-reduce", "threads", 8)
    with pytest.raises(BadInput, match="multiple of 4"):
        graph_run(lab, "pipeline", "threads", 10)


@pytest.mark.parametrize("strategy", ["joblib-threads", "spark-local", "mpi"])
def test_an_engine_without_task_graphs_refuses_one_in_one_sentence(lab, strategy):
    require(strategy)  # (an engine that is missing is refused as unavailable instead)
    with pytest.raises(BadInput) as refused:
        graph_run(lab, "wavefront", strategy, 8, width=4)
    text = str(refused.value)
    assert text.startswith(f"{strategy} cannot run the wavefront task graph: "), text
    assert "dask-local" in text and text.count(". ") == 0 and "Traceback" not in text, text


def test_subinterpreters_run_a_graph_in_dependency_order():
    import glob
    import os

    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[23]*/bin/python3.1[23]")))
    if not found:
        pytest.skip("no pyenv Python 3.12 or 3.13 (interpreter-pool needs 3.12+)")
    from concviz.runtime import LabProcess

    lab = LabProcess(found[-1])
    lab.start()
    try:
        run = graph_run(lab, "wavefront", "interpreter-pool", 16)
    finally:
        lab.close()
    assert run["ok"], run["error"]
    assert len(run["tasks"]) == 16
    assert_deps_respected(run)
