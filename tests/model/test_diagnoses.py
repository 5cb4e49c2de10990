"""Each diagnosis on a hand-made run object: it fires on its case with its evidence, and a
healthy run gets none."""

from __future__ import annotations

import pytest

from concviz.model import diagnoses as D

MS = 1_000_000


def _tasks(spans: list[tuple[int, float, float]], cpu_share: float = 1.0) -> list[dict]:
    """``(worker, start_ms, end_ms)`` → task dicts as ``run_object`` writes them."""
    return [
        {
            "id": i,
            "worker": w,
            "start_ns": int(s * MS),
            "end_ns": int(e * MS),
            "cpu_ns": int((e - s) * MS * cpu_share),
            "ok": True,
        }
        for i, (w, s, e) in enumerate(spans)
    ]


def _run(**fields) -> dict:
    run = {
        "strategy": "process-pool",
        "workers": 2,
        "wall_s": 0.4,
        "parallelism": 1.9,
        "startup_s": 0.0,
        "interpreter": {"gil_enabled": True},
        "gil_contention": {"busy_workers": 1.9, "value": None},
        "gil": {"source": "estimate", "contention": None, "per_thread": {}},
        "machine_busy_cores": 0.0,
        "waits": [],
        # two workers, four even 100 ms tasks back to back
        "tasks": _tasks([(0, 0, 100), (1, 0, 100), (0, 100, 200), (1, 100, 200)]),
    }
    run.update(fields)
    return run


def _sampled(running, cpu_wait, gil_wait, io_wait, contention=None) -> dict:
    per = {
        "worker-0": {
            "running_s": running,
            "cpu_wait_s": cpu_wait,
            "gil_wait_s": gil_wait,
            "io_wait_s": io_wait,
        }
    }
    return {"source": "sampled", "contention": contention, "per_thread": per}


def codes(run: dict, cores: int = 2, lag_ms=None) -> list[str]:
    return [d["code"] for d in D.diagnose(run, cores=cores, lag_ms=lag_ms)]


def test_a_healthy_run_gets_none():
    assert codes(_run()) == []


def test_gil_fires_on_serialised_threads_with_gil_waits():
    run = _run(
        strategy="threads",
        parallelism=1.0,
        gil_contention={"busy_workers": 2.0},
        gil=_sampled(0.4, 0.0, 0.4, 0.0, contention=0.5),
    )
    (d,) = D.diagnose(run, cores=2)
    assert d["code"] == "gil" and d["evidence"]["gil_wait_share"] == 0.5
    assert d["evidence"]["parallelism"] == 1.0 and d["advice"]
    # the same threads doing I/O, or running in parallel, or on a busy machine: not the GIL
    assert "gil" not in codes({**run, "gil": _sampled(0.05, 0, 0.1, 0.8, contention=0.6)})
    assert "gil" not in codes({**run, "parallelism": 1.9})
    assert "gil" not in codes({**run, "machine_busy_cores": 1.2})
    assert "gil" not in codes({**run, "strategy": "process-pool"})
    assert "gil" not in codes({**run, "interpreter": {"gil_enabled": False}})


def test_oversubscribed_needs_more_busy_workers_than_cores_and_cpu_waits():
    run = _run(gil_contention={"busy_workers": 8.0}, gil=_sampled(0.4, 1.2, 0.0, 0.0))
    (d,) = D.diagnose(run, cores=2)
    assert d["code"] == "oversubscribed" and d["evidence"]["cpu_wait_share"] == 0.75
    assert "oversubscribed" not in codes(run, cores=8)
    assert "oversubscribed" not in codes({**run, "gil": _sampled(1.5, 0.1, 0.0, 0.0)})


def test_uneven_reads_a_stair_step_end():
    # worker 0: 0–300 ms; worker 1: 0–100 ms, then idle: last stretch 200 of 300 ms,
    # idle half of it, busy 300 vs 100 → imbalance (300 − 200)/300 = 1/3
    run = _run(tasks=_tasks([(0, 0, 150), (1, 0, 100), (0, 150, 300)]))
    (d,) = D.diagnose(run, cores=2)
    assert d["code"] == "uneven"
    ev = d["evidence"]
    assert ev["last_stretch_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert ev["idle_share_of_last_stretch"] == pytest.approx(0.5)
    assert ev["imbalance"] == pytest.approx(1 / 3, abs=1e-3)


def test_fine_tasks_on_a_pool_are_too_fine_and_ipc_bound():
    spans = []
    for w in (0, 1):
        for k in range(20):  # 0.05 ms tasks every 0.25 ms: 0.2 ms gaps
            spans.append((w, k * 0.25, k * 0.25 + 0.05))
    run = _run(tasks=_tasks(spans), wall_s=0.005)
    found = {d["code"]: d for d in D.diagnose(run, cores=2)}
    assert set(found) == {"too-fine", "ipc-bound"}
    assert found["too-fine"]["evidence"]["ratio"] == pytest.approx(4.0, rel=0.01)
    # per worker: 19 gaps of 0.2 ms in an active span of 19 × 0.25 + 0.05 = 4.8 ms
    assert found["ipc-bound"]["evidence"]["dispatch_share"] == pytest.approx(3.8 / 4.8, abs=1e-3)
    # threads have no IPC: only too-fine
    assert codes({**run, "strategy": "thread-pool"}) == ["too-fine"]


def test_tasks_handed_over_in_chunks_are_too_fine_by_their_mean_gap():
    # chunks of 10 tasks of 0.05 ms back to back (1 µs apart), 2 ms between chunks:
    # the median gap is 1 µs, but each task costs 0.2 ms of hand-over on average
    spans = []
    for w in (0, 1):
        t = 0.0
        for _chunk in range(4):
            for _k in range(10):
                spans.append((w, t, t + 0.05))
                t += 0.051
            t += 2.0
    run = _run(tasks=_tasks(spans), wall_s=0.01)
    found = {d["code"]: d for d in D.diagnose(run, cores=2)}
    assert "too-fine" in found, found
    # 3 chunk boundaries of 2.001 ms and 36 gaps of 1 µs over 39 gaps per worker
    assert found["too-fine"]["evidence"]["overhead_per_task_ms"] == pytest.approx(
        (3 * 2.001 + 36 * 0.001) / 39, rel=0.01
    )


def test_blocked_loop_from_the_longest_slice():
    run = _run(strategy="asyncio", parallelism=0.9)
    assert codes(run, lag_ms=45.0) == ["blocked-loop"]
    assert codes(run, lag_ms=2.0) == []
    assert codes({**run, "parallelism": 0.004}, lag_ms=45.0) == []  # a loop asleep on I/O


def test_lock_startup_and_busy_machine():
    waits = [{"object": "A", "kind": "lock", "total_s": 0.4, "count": 30, "max_s": 0.05}]
    (d,) = D.diagnose(_run(waits=waits), cores=2)  # 0.4 of 0.4 s × 2 workers = 50 %
    assert d["code"] == "lock-contention" and d["evidence"]["share_of_worker_time"] == 0.5
    assert d["title"] == "Contention on lock A" and "hold it for less time" in d["advice"]
    (d,) = D.diagnose(_run(startup_s=0.6), cores=2)
    assert d["code"] == "startup-dominates" and d["evidence"]["ratio"] == 1.5
    (d,) = D.diagnose(_run(machine_busy_cores=0.8), cores=2)
    assert d["code"] == "machine-busy" and d["evidence"]["other_programs_cores"] == 0.8


def test_every_code_has_its_rule_written_down():
    assert set(D.RULES) == {
        "gil",
        "oversubscribed",
        "uneven",
        "ipc-bound",
        "blocked-loop",
        "too-fine",
        "lock-contention",
        "startup-dominates",
        "machine-busy",
    }


def test_two_tasks_are_too_few_to_judge_dispatch():
    run = _run(tasks=_tasks([(0, 0, 1), (0, 8, 9)]), wall_s=0.01)
    assert codes(run) == []


def test_a_queue_waited_on_is_not_called_a_lock():
    """Producer/consumer: consumers waiting on their queue read "lock contention" with
    a lock's advice; the diagnosis, its advice and its badge now follow the kind."""
    from concviz.ui.diagnosis_badges import badge_text

    waits = [{"object": "jobs", "kind": "queue", "total_s": 0.4, "count": 30, "max_s": 0.05}]
    (d,) = D.diagnose(_run(waits=waits), cores=2)
    assert d["code"] == "lock-contention" and d["title"] == "Waiting on queue jobs"
    assert "producers" in d["advice"] and "hold it" not in d["advice"]
    assert badge_text(d) == "queue waits"
    waits[0]["kind"] = "lock"
    (d,) = D.diagnose(_run(waits=waits), cores=2)
    assert badge_text(d) == "lock contention"
