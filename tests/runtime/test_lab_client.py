from __future__ import annotations

import time

import psutil

from concviz.runtime.cpu_sampler import CpuSampler
from concviz.runtime.lab_client import LabClient


def test_lab_client_runs_a_batch_and_closes_cleanly(qtbot):
    client = LabClient()
    strategies = []
    client.strategiesReceived.connect(strategies.append)
    with qtbot.waitSignal(client.labStarted, timeout=20000):
        client.start()
    qtbot.waitUntil(lambda: bool(strategies), timeout=10000)
    names = {s["name"]: s for s in strategies[0]}
    assert names["threads"]["available"]
    pid = client.pid
    with qtbot.waitSignal(client.runFinished, timeout=30000) as finished:
        store = client.begin_run(
            {"workload": "io-sleep", "strategy": "threads", "workers": 3, "tasks": 9, "task_ms": 10}
        )
    assert finished.args[0]["ok"]
    assert len(store.task_bars()["task"]) == 9
    client.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_coalesced_event_frames_lose_and_repeat_nothing(qtbot):
    """Thousands of tiny tasks: the reader decodes frames that arrive within a few ms
    together, and every task is in the run's store exactly once, before the run's
    end is reported; a second run's events go to its own store."""
    client = LabClient()
    with qtbot.waitSignal(client.labStarted, timeout=20000):
        client.start()
    try:
        stores = []
        for strategy in ("thread-pool", "process-pool"):
            with qtbot.waitSignal(client.runFinished, timeout=60000) as finished:
                store = client.begin_run(
                    {"workload": "cpu-python", "strategy": strategy, "workers": 2,
                     "tasks": 3000, "task_ms": 0.05}
                )  # fmt: skip
            assert finished.args[0]["ok"]
            tasks = store.task_bars()["task"]
            assert len(tasks) == 3000 and len(set(tasks.tolist())) == 3000
            assert not store.open_bars()  # every start met its end
            stores.append(store)
        assert stores[0] is not stores[1] and stores[0].bar_count == 3000
    finally:
        client.close()


def test_lab_client_reports_a_refused_start(qtbot):
    client = LabClient()
    with qtbot.waitSignal(client.labStarted, timeout=20000):
        client.start()
    with qtbot.waitSignal(client.requestRejected, timeout=10000) as rejected:
        client.begin_run({"workload": "no-such", "strategy": "threads"})
    assert "no-such" in rejected.args[0]
    client.close()


def test_lab_client_reports_a_missing_interpreter(qtbot):
    client = LabClient(interpreter="/nonexistent/python")
    with qtbot.waitSignal(client.labFailed, timeout=5000) as failed:
        client.start()
    assert "does not exist" in failed.args[0]


def test_cpu_sampler_fills_per_core_fractions():
    sampler = CpuSampler(hz=20.0)
    sampler.start()
    try:
        time.sleep(0.6)
    finally:
        sampler.stop()
    t, cores, lab = sampler.series.snapshot()
    assert len(t) >= 5
    assert cores.shape[1] == psutil.cpu_count()
    assert (cores >= 0).all() and (cores <= 1).all()
    assert (t[1:] > t[:-1]).all()
    assert (lab == 0).all()  # no lab pid given: nothing attributed to a lab
