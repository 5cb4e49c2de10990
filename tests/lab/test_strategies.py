"""Every strategy runs exactly the tasks asked, on at most the workers asked, honestly."""

from __future__ import annotations

import pytest
from labkit import STRATEGIES, assert_sound, overlaps, python_312_plus, run

from concviz.model import BAR_SLICE


def _interpreter_for(strategy: str) -> str | None:
    if strategy != "interpreter-pool":
        return None
    path, why = python_312_plus()
    if path is None:
        pytest.skip(why)
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize("workload", ["cpu-python", "io-sleep"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_task_once_no_overlap_on_a_worker(strategy, workload):
    interpreter = _interpreter_for(strategy)
    workers, tasks = 3, 9
    store, obj = run(
        interpreter, strategy=strategy, workload=workload, workers=workers, tasks=tasks, task_ms=8
    )
    assert_sound(obj, tasks, 1 if strategy == "sequential" else workers)
    assert obj["strategy"] == strategy and obj["workers"] == workers
    assert store.runs[-1].finished["tasks_handed_out"] == tasks
    lab_pid = store.hello["pid"]
    pids = {t["pid"] for t in obj["tasks"]}
    if strategy in ("processes", "process-pool"):
        assert lab_pid not in pids  # the work really ran in worker processes
        assert len(pids) <= workers
    else:
        assert pids == {lab_pid}
    if strategy == "interpreter-pool":
        assert store.hello["interpreter"]["version"] >= "3.12"


@pytest.mark.timeout(60)
def test_asyncio_with_cpu_work_never_overlaps_and_records_slices():
    store, obj = run(strategy="asyncio", workload="cpu-python", workers=4, tasks=8, task_ms=10)
    assert_sound(obj, 8, 4)
    assert overlaps(obj["tasks"]) == 0  # a CPU task never yields: the loop is blocked
    assert len({t["tid"] for t in obj["tasks"]}) == 1
    slices = store.bars()["kind"] == BAR_SLICE
    assert slices.sum() >= 8  # at least one resume -> suspend slice per coroutine task
    assert any(lane.has_slices for lane in store.lanes())


@pytest.mark.timeout(60)
def test_asyncio_with_io_interleaves_tasks_on_one_thread():
    store, obj = run(strategy="asyncio", workload="io-sleep", workers=4, tasks=8, task_ms=40)
    assert_sound(obj, 8, 4)
    assert len({t["tid"] for t in obj["tasks"]}) == 1  # one thread ...
    assert overlaps(obj["tasks"]) >= 4  # ... yet tasks in flight together
    b = store.bars()
    slices = b["kind"] == BAR_SLICE
    # each awaiting task shows at least two slices: before and after its sleep
    assert slices.sum() >= 2 * 8
    # slices themselves never overlap: one thread runs one coroutine at a time
    order = b["start"][slices].argsort()
    starts, ends = b["start"][slices][order], b["end"][slices][order]
    assert (starts[1:] >= ends[:-1]).all()
