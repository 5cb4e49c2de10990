"""Every strategy runs exactly the tasks asked, on at most the workers asked, honestly."""

from __future__ import annotations

import pytest
from labkit import STRATEGIES, assert_sound, overlaps, python_312_plus, run

from concviz.model import BAR_SLICE

pytestmark = pytest.mark.usefixtures("shared_labs")  # one lab for the runs of labkit.run


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
    assert len({t["tid"] for t in obj["tasks"]}) == 1
    b = store.bars()
    slices = b["kind"] == BAR_SLICE
    assert slices.sum() >= 8  # at least one resume -> suspend slice per coroutine task
    assert any(lane.has_slices for lane in store.lanes())
    # a CPU task never yields: the loop is blocked, so no two slices ever overlap
    order = b["start"][slices].argsort()
    starts, ends = b["start"][slices][order], b["end"][slices][order]
    assert (starts[1:] >= ends[:-1]).all()


@pytest.mark.timeout(60)
def test_asyncio_coroutine_blocked_by_cpu_work_is_recorded_waiting():
    """Two coroutines, CPU work: the second waits for the loop from the moment it is
    created, and its task's bar says so (it starts then, not when it first runs)."""
    store, obj = run(strategy="asyncio", workload="cpu-python", workers=2, tasks=4, task_ms=20)
    assert_sound(obj, 4, 2)
    b = store.bars()
    lanes = store.lanes()
    first_task: dict[int, tuple[int, int]] = {}  # worker -> (start, first slice start)
    for worker in (0, 1):
        mine = [ln.index for ln in lanes if ln.worker == worker]
        assert len(mine) == 1, "both coroutines have a row"
        on = b["lane"] == mine[0]
        tasks = on & (b["kind"] != BAR_SLICE)
        t0 = int(b["start"][tasks].min())
        first_slice = int(b["start"][on & (b["kind"] == BAR_SLICE)].min())
        first_task[worker] = (t0, first_slice)
    # both started together, at creation; the second ran only after the first's CPU
    # work (at least one 20 ms task) had held the loop
    (a0, a_run), (b0, b_run) = first_task[0], first_task[1]
    assert abs(b0 - a0) < 5_000_000
    assert b_run - b0 >= 15_000_000
    assert a_run - a0 < b_run - b0


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
