"""A task's wall time split into running, CPU wait, GIL wait and I/O wait (hand-computed)."""

from __future__ import annotations

import numpy as np
import pytest

from concviz.model.wait_states import (
    STATE_GIL,
    STATE_IO,
    STATE_LOCK,
    STATE_USER,
    gil_contention,
    split_tasks,
)

MS = 1_000_000


def _samples(rows):
    """rows: (t_ms, tid, state, delay_ms)."""
    a = np.array(rows, dtype=np.int64)
    return {
        "t": a[:, 0] * MS,
        "tid": a[:, 1],
        "state": a[:, 2].astype(np.uint8),
        "delay_ns": a[:, 3] * MS,
    }


def test_a_task_is_split_by_cpu_run_queue_delay_and_sampled_waits():
    # one task on thread 7 from 0 to 100 ms with 40 ms of CPU; the run-queue delay grows
    # 10 ms over it; of the 8 samples in it, 4 wait for the GIL, 1 on I/O, 3 run
    states = [STATE_USER, STATE_GIL, STATE_GIL, STATE_USER, STATE_GIL, STATE_IO, STATE_GIL,
              STATE_USER]  # fmt: skip
    rows = [(t, 7, s, 10 * t // 100) for t, s in zip(range(5, 100, 12), states, strict=True)]
    rows = [(0, 7, STATE_USER, 0)] + rows + [(100, 7, STATE_USER, 10)]
    split = split_tasks(
        np.array([7]), np.array([0]), np.array([100 * MS]), np.array([40 * MS]), _samples(rows)
    )
    assert split["running"][0] == pytest.approx(40 * MS)
    assert split["cpu_wait"][0] == pytest.approx(10 * MS)
    # 50 ms off CPU, 4 of 5 wait samples on the GIL
    assert split["gil_wait"][0] == pytest.approx(40 * MS)
    assert split["io_wait"][0] == pytest.approx(10 * MS)
    assert split["sampled"][0]


def test_one_thread_alone_reads_no_contention_and_two_sharing_read_half():
    alone = _samples([(t, 1, STATE_USER, 0) for t in range(0, 101, 5)])
    s1 = split_tasks(np.array([1]), np.array([0]), np.array([100 * MS]), np.array([99 * MS]), alone)
    assert gil_contention(s1) == pytest.approx(0.0, abs=0.02)
    shared = _samples(
        [(t, 1, STATE_USER if (t // 5) % 2 else STATE_GIL, 0) for t in range(0, 101, 5)]
        + [(t, 2, STATE_GIL if (t // 5) % 2 else STATE_USER, 0) for t in range(0, 101, 5)]
    )
    s2 = split_tasks(
        np.array([1, 2]),
        np.array([0, 0]),
        np.array([100 * MS, 100 * MS]),
        np.array([50 * MS, 50 * MS]),
        shared,
    )
    assert gil_contention(s2) == pytest.approx(0.5, abs=0.01)


def test_a_task_too_short_for_a_wait_sample_takes_its_threads_share():
    rows = [(0, 3, STATE_LOCK, 0), (10, 3, STATE_LOCK, 0), (20, 3, STATE_GIL, 0),
            (30, 3, STATE_GIL, 0), (40, 3, STATE_USER, 0)]  # fmt: skip
    split = split_tasks(
        np.array([3]), np.array([41 * MS]), np.array([44 * MS]), np.array([1 * MS]), _samples(rows)
    )
    assert not split["sampled"][0]
    assert split["gil_wait"][0] == pytest.approx(1 * MS)  # half of the 2 ms off CPU
    assert split["io_wait"][0] == pytest.approx(1 * MS)
    assert gil_contention(split) is None  # nothing sampled inside it: no figure


def test_a_long_runs_samples_stay_bounded_and_old_bars_keep_their_split():
    from concviz.lab import protocol as P
    from concviz.model import EventStore
    from concviz.model.wait_states import WaitSamples, bar_splits, bound_samples

    store = EventStore()
    store.add_json({"type": "hello", "pid": 1, "interpreter": {}})
    store.add_json({"type": "run_started", "t_ns": 0, "strategy": "threads", "workers": 1,
                    "workload": "cpu-python", "tasks": None, "task_ms": 50.0})  # fmt: skip
    s = 1_000_000_000
    # one worker thread (tid 7), a 1 s task every second for 300 s, half of it GIL wait
    records = []
    for k in range(300):
        t0 = k * s
        records.append((P.EV_START, 0, 0, k, 1, 7, t0, 0, 0))
        records.append((P.EV_END, 0, 0, k, 1, 7, t0 + s - 1000, s // 2, t0))
    store.add_frame(P.FRAME_EVENTS, P.pack_records(records))
    waits = WaitSamples()
    store.waits = waits
    t = np.arange(0, 300 * s, 5 * MS)
    n = len(t)
    waits.append_rows(np.stack([t, np.ones(n), np.full(n, 7),
                                np.where((t // (5 * MS)) % 2, STATE_GIL, STATE_USER),
                                np.zeros(n), np.zeros(n), np.full(n, -1)], axis=1).astype(np.int64))  # fmt: skip
    before = bar_splits(store)
    dropped = bound_samples(store, keep_s=60.0)
    assert dropped > 0 and len(waits) <= 60 * 200 + 1
    after = bar_splits(store)
    assert after["sampled"].all()
    np.testing.assert_allclose(after["gil_wait"], before["gil_wait"], rtol=1e-5)
    assert after["gil_wait"][0] == pytest.approx(0.5 * s, rel=0.02)


def test_threads_that_hardly_want_python_are_not_called_contended():
    # 1 ms of Python and 6 ms of GIL wait in 807 ms of sleeping tasks: the wanting time
    # counts as a tenth of the time, 80.7 ms, so contention is 6 / 80.7, not 6 / 7
    split = {
        "running": np.array([1.0 * MS]),
        "cpu_wait": np.array([0.0]),
        "gil_wait": np.array([6.0 * MS]),
        "io_wait": np.array([800.0 * MS]),
        "sampled": np.array([True]),
    }
    assert gil_contention(split) == pytest.approx(6 / 80.7)


def test_thread_time_split_holds_each_sample_until_the_next():
    from concviz.model.wait_states import STATE_GIL, STATE_IO, STATE_USER, thread_time_split

    ms = 1_000_000
    samples = {
        "t": np.array([0, 5, 10, 15, 20, 30], np.int64) * ms,
        "tid": np.array([7, 7, 9, 7, 7, 7]),
        "state": np.array([STATE_IO, STATE_GIL, STATE_USER, STATE_GIL, STATE_USER, STATE_IO]),
        "delay_ns": np.array([100, -1, 0, 400, -1, 900], np.int64),
        "cpu_ns": np.array([0, -1, 0, 2 * ms, -1, 6 * ms], np.int64),
    }
    split = thread_time_split(samples, 7, since_ns=0)
    # thread 7 at 0 io, 5 gil, 15 gil, 20 user, 30 io: io 5 ms, gil 10 + 5, user 10
    assert split["io_wait"] == pytest.approx(0.005)
    assert split["gil_wait"] == pytest.approx(0.015)
    assert split["user"] == pytest.approx(0.010)
    assert split["span"] == pytest.approx(0.030)
    assert split["cpu_wait"] == pytest.approx(800e-9)
    assert split["running"] == pytest.approx(0.006)
    assert thread_time_split(samples, 7, since_ns=25 * ms)["span"] == 0.0  # one sample only


def test_the_split_does_not_depend_on_the_order_the_samples_come_in():
    # the sampler's rows come in time order, and each thread's are picked out without a
    # sort; the same samples shuffled (sorted instead) must split every task the same
    from concviz.model.wait_states import STATE_HOLDING, STATE_NATIVE

    rng = np.random.default_rng(3)
    threads = [11, 12, 13]
    n_ticks = 4000  # 20 s at 200 Hz
    t = np.repeat(np.arange(n_ticks) * 5 * MS, len(threads))
    tid = np.tile(threads, n_ticks)
    keep = rng.random(len(t)) > 0.2  # idle threads are read less often
    t, tid = t[keep], tid[keep]
    states = [STATE_USER, STATE_GIL, STATE_IO, STATE_LOCK, STATE_HOLDING, STATE_NATIVE]
    samples = {
        "t": t,
        "tid": tid,
        "state": rng.choice(states, len(t)).astype(np.uint8),
        # the counters are cumulative per thread, read every other tick (-1 between)
        "delay_ns": np.where(rng.random(len(t)) < 0.5, -1, t // 4),
        "sys_ns": np.where(rng.random(len(t)) < 0.1, t // 8, -1),
    }
    n_tasks = 600
    task_tid = rng.choice(threads + [14], n_tasks)  # 14: a thread with no samples
    start = rng.integers(0, n_ticks * 5 * MS, n_tasks)
    end = start + rng.integers(0, 300 * MS, n_tasks)
    cpu = rng.integers(0, 300 * MS, n_tasks)
    in_order = split_tasks(task_tid, start, end, cpu, samples)
    shuffle = rng.permutation(len(t))
    shuffled = split_tasks(task_tid, start, end, cpu, {k: v[shuffle] for k, v in samples.items()})
    for part in in_order:
        np.testing.assert_array_equal(in_order[part], shuffled[part], err_msg=part)
    assert in_order["sampled"].sum() > n_tasks // 2
    assert (in_order["gil_wait"] > 0).any() and (in_order["native"] > 0).any()


def test_a_task_begun_before_its_thread_was_first_read_takes_the_threads_delay_rate():
    # thread 5 is first read at 40 ms (a worker process found into its first task);
    # over its readings its run-queue delay grows 3 ms every 10 ms. A task from 0 to
    # 40 ms with 28 ms of CPU: 12 ms off CPU, of which 40 ms x 0.3 = 12 ms, at that
    # rate, were waits for a CPU (counted as none, all 12 read as I/O waits)
    rows = [(t, 5, STATE_USER, 3 * (t - 40) // 10) for t in range(40, 101, 10)]
    split = split_tasks(
        np.array([5]), np.array([0]), np.array([40 * MS]), np.array([28 * MS]), _samples(rows)
    )
    assert split["cpu_wait"][0] == pytest.approx(12 * MS)
    assert split["io_wait"][0] == pytest.approx(0.0)
    # a task after the last reading likewise, never past its own time off CPU
    late = split_tasks(
        np.array([5]), np.array([100 * MS]), np.array([120 * MS]), np.array([18 * MS]),
        _samples(rows),
    )  # fmt: skip
    assert late["cpu_wait"][0] == pytest.approx(2 * MS)
