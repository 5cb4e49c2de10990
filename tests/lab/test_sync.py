"""Synchronisation made visible: lost updates, deadlocks found and named, lock waits recorded."""

from __future__ import annotations

import time

import pytest
from labkit import DATA

from concviz.model import run_object
from concviz.runtime import run_batch


def one(lab, workload: str, strategy: str, **kw) -> dict:
    options = kw.pop("options", {})
    params = {"workload": workload, "strategy": strategy, "workers": 2, "tasks": 4}
    params.update({"task_ms": 10, "options": options, **kw})
    return run_object(run_batch(params, lab=lab))


@pytest.mark.parametrize("strategy", ["threads", "process-pool", "asyncio"])
def test_an_unsynchronised_counter_really_loses_updates(lab, strategy):
    run = one(lab, "shared-counter", strategy, options={"sync": "none"})
    c = run["counter"]
    assert run["ok"] and c["complete"]
    assert c["expected"] == 4 * 200
    assert c["lost_updates"] > 0, c
    assert c["final"] + c["lost_updates"] == c["expected"]


def test_a_locked_atomic_or_merged_counter_loses_none_in_ten_runs(lab):
    cases = [
        ("threads", "lock"),
        ("process-pool", "lock"),
        ("threads", "atomic"),
        ("process-pool", "atomic"),
        ("threads", "local-then-merge"),
        ("processes", "local-then-merge"),
        ("asyncio", "lock"),
        ("thread-pool", "lock"),
        ("processes", "lock"),
        ("asyncio", "atomic"),
    ]
    for strategy, mode in cases:
        run = one(lab, "shared-counter", strategy, options={"sync": mode})
        assert run["counter"]["lost_updates"] == 0, (strategy, mode, run["counter"])
        assert run["counter"]["final"] == 800
    # a locked counter under two threads contends: its waits are recorded and named
    run = one(lab, "shared-counter", "threads", options={"sync": "lock"})
    assert run["waits"] and run["waits"][0]["object"] == "counter lock"
    assert run["waits"][0]["count"] > 0


@pytest.mark.parametrize("strategy", ["threads", "processes", "process-pool", "asyncio"])
def test_a_deadlock_ends_the_run_within_seconds_naming_the_cycle(lab, strategy):
    t0 = time.monotonic()
    run = one(lab, "deadlock", strategy, task_ms=50)
    took = time.monotonic() - t0
    assert took < 5.0, took
    assert not run["ok"]
    cycle = run["deadlock"]["cycle"]
    assert sorted(c["task"] for c in cycle) == [0, 1]
    sentence = "deadlock: task 0 holds lock A and waits for lock B; task 1 holds lock B and waits for lock A"
    assert run["deadlock"]["description"] == sentence
    assert run["error"] == sentence
    # the two waits that never ended were recorded, cut at the stop
    assert {w["object"] for w in run["waits"]} == {"A", "B"}


@pytest.mark.parametrize("strategy", ["threads", "processes", "asyncio"])
def test_locks_taken_in_one_order_finish(lab, strategy):
    run = one(lab, "deadlock", strategy, task_ms=50, options={"sync": "ordered"})
    assert run["ok"], run["error"]
    assert run["deadlock"] is None
    assert sum(t["ok"] for t in run["tasks"]) == 4


def _lock_wait_share(run: dict) -> float:
    worker_s = sum(t["end_ns"] - t["start_ns"] for t in run["tasks"]) / 1e9
    return sum(w["total_s"] for w in run["waits"] if w["object"] == "A") / worker_s


@pytest.mark.slow
def test_a_contended_lock_makes_workers_wait(lab):
    """The lock serialises its critical sections: N workers, each with fraction f of
    its work W inside them, need N f W of lock time, so once N f > 1 the run lasts at
    least N f W and each worker waits at least 1 - 1/(N f) of its time.

    The issue asks for 30 % at f = 0.5 on 2 workers. There N f = 1: the lock is just
    saturated, the bound is 0, and equal sections fall into alternation after the
    first collision (one holds the lock while the other computes outside it). Measured
    on this 2-core machine, 3 runs each: 0.04-0.17 under threads, processes and
    process-pool (0.18-0.22 with sections made uneven by --jitter 0.9), against 0.36-0.54
    at f = 0.9 and 0.36-0.46 at f = 0.5 on 4 workers. Only Amdahl's model, where every
    worker stops for the serial part at the same moment, gives 1/3 at f = 0.5; a lock
    lets one worker's critical section overlap the other's outside work. So the
    issue's 30 % is asserted where a lock must give it: f = 0.9 on 2 workers
    (bound 44 %), and f = 0.5 on 4 (bound 50 %)."""
    high = one(
        lab, "contended-lock", "threads", tasks=12, task_ms=60, options={"critical_fraction": 0.9}
    )
    low = one(
        lab, "contended-lock", "threads", tasks=8, task_ms=60, options={"critical_fraction": 0.5}
    )
    crowded = one(
        lab,
        "contended-lock",
        "process-pool",
        workers=4,
        tasks=8,
        task_ms=60,
        options={"critical_fraction": 0.5},
    )
    assert high["ok"] and low["ok"] and crowded["ok"]
    assert high["cpu_s"] >= 0.3  # the work itself (the calibrated task size varies)
    # the critical sections ran one at a time: 90 % of the work, end to end
    assert high["wall_s"] >= 0.8 * 0.9 * high["cpu_s"], (high["wall_s"], high["cpu_s"])
    assert _lock_wait_share(high) >= 0.30, high["waits"]
    assert _lock_wait_share(crowded) >= 0.30, crowded["waits"]
    assert 0 < _lock_wait_share(low) < _lock_wait_share(high)


def test_a_bounded_pool_lets_only_its_limit_in(lab):
    run = one(lab, "bounded-pool", "threads", workers=4, tasks=8, task_ms=60, options={"limit": 2})
    assert run["ok"], run["error"]
    # 8 sleeps of 60 ms, 2 at a time: at least 4 rounds, though 4 threads ran
    assert run["wall_s"] >= 4 * 0.06 * 0.95
    slots = run["waits"][0]
    assert slots["object"] == "pool slots" and slots["kind"] == "semaphore"
    # two threads beyond the limit wait while the first three rounds run (a thread
    # that releases may take a slot straight back, so fewer, longer waits are fine)
    assert slots["count"] >= 2
    assert slots["total_s"] >= 2 * 3 * 0.06 * 0.8


def test_a_producer_consumer_queue_is_sampled_and_its_waits_recorded(lab):
    run = one(lab, "producer-consumer", "threads", tasks=4, task_ms=40, options={"queue_size": 2})
    assert run["ok"], run["error"]
    depth = run["counters"][0]
    assert depth["object"] == "queue" and depth["samples"] == 2 * 2 * 8  # a put and a get each
    assert 1 <= depth["max"] <= 2  # never past its bound
    assert run["waits"][0]["object"] == "queue"


def test_barrier_phases_wait_for_the_slowest(lab):
    run = one(lab, "barrier-phases", "threads", tasks=6, task_ms=40)
    assert run["ok"], run["error"]
    barrier = run["waits"][0]
    assert barrier["object"] == "phase barrier" and barrier["count"] == 6


def test_a_user_workload_imports_sync_and_its_waits_are_named(lab):
    run = one(lab, "user", "threads", user=f"{DATA / 'syncfns.py'}:sync_user", tasks=4, task_ms=0)
    assert run["ok"], run["error"]
    named = {w["object"]: w for w in run["waits"]}
    assert "user totals" in named and named["user totals"]["count"] >= 1


def test_a_knob_the_workload_does_not_take_is_refused(lab):
    from concviz.runtime import BadInput

    with pytest.raises(BadInput, match="does not apply to the deadlock workload"):
        one(lab, "deadlock", "threads", options={"limit": 3})
    # an engine: refused for the workload ("runs under ..."), or, where Dask is not
    # installed (a clone without the extras), as unavailable; one sentence either way
    with pytest.raises(BadInput, match="runs under|is not available here"):
        one(lab, "deadlock", "dask-local")
