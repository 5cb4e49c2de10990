"""Stops, failing tasks, dying workers and bad parameters: the lab stays truthful."""

from __future__ import annotations

import time

import psutil
import pytest
from labkit import DATA, Session, params, run, user

from concviz.runtime import BadInput


# ------------------------------------------------------------------ stop
@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool", "threads"])
def test_stop_ends_a_run_of_long_tasks_within_a_second(session, strategy):
    session.send(
        {"cmd": "start", **params(strategy=strategy, workload="cpu-python", tasks=6, task_ms=5000)}
    )
    session.until_type("run_started")
    # wait until both workers are inside a long task
    session.read_events_until(lambda s: len(s.open_bars()) >= 2)
    workers = {p for p in session.children()}
    t0 = time.monotonic()
    session.send({"cmd": "stop"})
    done = session.until_type("run_finished")
    took = time.monotonic() - t0
    assert done["stopped"] is True
    assert done["ok"] is True, done["error"]  # a stop is not a failure
    assert took < 1.0, f"stop took {took:.2f} s"
    # no worker of the run outlives the stop (helpers such as a fork server may)
    gone, alive = psutil.wait_procs([p for p in workers if _is_worker(p, session)], timeout=1.0)
    assert not alive, f"workers still alive after stop: {alive}"
    # the lab is still usable afterwards
    session.send({"cmd": "ping"})
    session.until_type("pong")


def _is_worker(p: psutil.Process, session: Session) -> bool:
    try:
        return p.ppid() == session.lab.pid and "resource_tracker" not in " ".join(p.cmdline())
    except psutil.NoSuchProcess:
        return True


@pytest.mark.timeout(60)
def test_stop_under_the_3_13_interpreter_pool_within_a_second():
    from labkit import python_312_plus

    path, why = python_312_plus()
    if path is None:
        pytest.skip(why)
    s = Session(path)
    try:
        s.send(
            {
                "cmd": "start",
                **params(strategy="interpreter-pool", workload="cpu-python", tasks=6, task_ms=5000),
            }
        )
        s.read_events_until(lambda st: len(st.open_bars()) >= 2)
        t0 = time.monotonic()
        s.send({"cmd": "stop"})
        done = s.until_type("run_finished")
        assert time.monotonic() - t0 < 1.0
        assert done["stopped"] is True
    finally:
        s.close()


@pytest.mark.timeout(60)
def test_no_child_process_outlives_close():
    s = Session()
    s.send(
        {
            "cmd": "start",
            **params(strategy="process-pool", workload="io-sleep", tasks=8, task_ms=5000),
        }
    )
    s.read_events_until(lambda st: len(st.open_bars()) >= 2)
    family = [psutil.Process(s.lab.pid), *s.children()]
    assert len(family) >= 3  # the lab and its two workers
    s.close()
    _, alive = psutil.wait_procs(family, timeout=2.0)
    assert not alive, alive


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_workers_exit_when_the_lab_is_killed(strategy):
    s = Session()
    try:
        s.send(
            {
                "cmd": "start",
                **params(strategy=strategy, workload="cpu-python", tasks=8, task_ms=5000),
            }
        )
        s.read_events_until(lambda st: len(st.open_bars()) >= 2)
        workers = s.children()
        assert len(workers) >= 2
        s.lab.proc.kill()  # only the lab: its workers must notice on their own
        _, alive = psutil.wait_procs(workers, timeout=3.0)
        assert not alive, alive
    finally:
        s.close()


def _status(p: psutil.Process) -> str:
    try:
        return p.status()
    except psutil.NoSuchProcess:
        return psutil.STATUS_DEAD


# ------------------------------------------------------------------ failing tasks
@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["threads", "asyncio", "processes", "process-pool"])
def test_a_task_that_raises_is_an_error_and_the_run_goes_on(strategy):
    store, obj = run(strategy=strategy, workload="user", user=user("boom"), tasks=8)
    assert obj["ok"], obj["error"]
    assert sorted(t["id"] for t in obj["tasks"]) == list(range(8))
    failed = [t for t in obj["tasks"] if not t["ok"]]
    assert [t["id"] for t in failed] == [2]
    assert failed[0]["error"] == "ValueError: task 2 exploded"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_a_worker_that_exits_ends_the_run_naming_it_and_keeps_what_came_before(
    strategy, tmp_path, monkeypatch
):
    monkeypatch.setenv("CONCVIZ_TEST_FLAGS", str(tmp_path))
    store, obj = run(strategy=strategy, workload="user", user=user("die_late"), tasks=8)
    assert not obj["ok"]
    assert "worker process" in obj["error"] and "exited with code 3" in obj["error"], obj["error"]
    assert "pid" in obj["error"]
    # task 1 ended on the other worker 3 ms before the death, inside one flush
    # interval: the surviving worker still ships it when the pool is torn down
    done = {t["id"] for t in obj["tasks"] if t["ok"]}
    assert 1 in done, sorted(done)
    assert 0 not in done


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_a_death_beside_an_idle_worker_ends_the_run(strategy):
    """The other worker is idle, blocked in the task queue's get() holding its read lock,
    when the death is seen: ending the pool must not wait on that lock. (Ending the
    workers before Pool.terminate, tried here, let the pool start replacements that hung
    it; Pool.terminate stops replacing first.)"""
    store, obj = run(strategy=strategy, workload="user", user=user("die_beside_an_idle_worker"),
                     tasks=2)  # fmt: skip
    assert not obj["ok"]
    assert "exited with code 3" in obj["error"], obj["error"]
    assert {t["id"] for t in obj["tasks"] if t["ok"]} == {1}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_a_death_beside_a_worker_deaf_to_sigterm_ends_the_run_and_the_lab_goes_on(
    strategy, tmp_path, monkeypatch
):
    """Ending the pool after a death SIGTERMs the other worker, which never acts on it
    (it ignores SIGTERM here; under load a SIGTERM that came just before a worker
    blocked on the task queue's lock was lost so, and Pool.terminate joined that
    worker for ever: the lab hung in CI). The lab kills it and the run ends with the
    death; no worker outlives the run, and the lab takes the next run."""
    monkeypatch.setenv("CONCVIZ_TEST_FLAGS", str(tmp_path))
    s = Session()  # after the flag directory is set: the lab passes it to its workers
    try:
        t0 = time.monotonic()
        s.send(
            {
                "cmd": "start",
                **params(
                    strategy=strategy,
                    workload="user",
                    user=user("die_beside_a_worker_deaf_to_sigterm"),
                    tasks=2,
                ),
            }
        )
        while not (tmp_path / "done").exists() and time.monotonic() - t0 < 10:
            time.sleep(0.005)  # the deaf worker is in its task
        workers = [p for p in s.children() if _is_worker(p, s)]
        done = s.until_type("run_finished")
        assert time.monotonic() - t0 < 20  # the deaf worker sleeps 30 s
        assert not done["ok"]
        assert "worker process" in done["error"], done["error"]
        assert "exited with code 3" in done["error"], done["error"]
        # the deaf worker and any replacement the pool started are gone with the run
        workers += [p for p in s.children() if _is_worker(p, s)]
        _, alive = psutil.wait_procs(workers, timeout=2.0)
        alive = [p for p in alive if _status(p) != psutil.STATUS_ZOMBIE]
        assert not alive, f"workers still alive after the run: {alive}"
        s.send({"cmd": "start", **params(strategy=strategy, tasks=3)})
        again = s.until_type("run_finished")
        assert again["ok"], again["error"]
    finally:
        s.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_a_worker_killed_while_idle_ends_the_run(strategy, tmp_path, monkeypatch):
    """A worker killed while it waits for work takes the task queue's read lock with it,
    which Pool.terminate waits for: the lab ends the pool all the same."""
    monkeypatch.setenv("CONCVIZ_TEST_FLAGS", str(tmp_path))
    t0 = time.monotonic()
    store, obj = run(strategy=strategy, workload="user", user=user("kill_the_idle_worker"),
                     tasks=2)  # fmt: skip
    assert time.monotonic() - t0 < 20  # the other worker sleeps 30 s
    assert not obj["ok"]
    assert "worker process" in obj["error"] and "SIGKILL" in obj["error"], obj["error"]
    assert {t["id"] for t in obj["tasks"] if t["ok"]} == {1}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_a_worker_that_segfaults_ends_the_run_naming_it(strategy):
    store, obj = run(strategy=strategy, workload="user", user=user("segv_late"), tasks=8)
    assert not obj["ok"]
    assert "worker process" in obj["error"] and "SIGSEGV" in obj["error"], obj["error"]
    # tasks 1..7 ran on the other worker while task 0 waited 0.3 s to crash
    done = {t["id"] for t in obj["tasks"] if t["ok"]}
    assert set(range(1, 8)) <= done, sorted(done)
    assert store.runs[-1].finished["error"] == obj["error"]


# ------------------------------------------------------------------ bad parameters
BAD = [
    ({"workers": 0}, "workers must be between 1 and 1024, not 0"),
    ({"task_ms": -1}, "task_ms must be at least 0 and at most 60000, not -1"),
    ({"tasks": -3}, "tasks must be between 1 and 1000000, not -3"),
    ({"workload": "nope"}, "unknown workload 'nope'"),
    ({"strategy": "nope"}, "unknown strategy 'nope'"),
    ({"workload": "user", "user": str(DATA / "missing.py") + ":f"}, "does not exist"),
    ({"workload": "user", "user": "{tmp}/syntax_error.py:f"}, "syntax error on line 1"),
    ({"workload": "user", "user": user("nofn")}, "has no function named 'nofn'"),
    (
        {"workload": "user", "user": user("lam"), "strategy": "process-pool"},
        "cannot be pickled for a process strategy",
    ),
    (
        {"workload": "user", "user": user("lam"), "strategy": "processes"},
        "cannot be pickled for a process strategy",
    ),
]


@pytest.mark.timeout(60)
def test_bad_parameters_get_one_clear_sentence(session, tmp_path):
    # a file with a syntax error lives in tmp_path, not in the tree ruff checks
    (tmp_path / "syntax_error.py").write_text("def f(i)\n    return i\n")
    for bad, expected in BAD:
        bad = {
            k: v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v
            for k, v in bad.items()
        }
        with pytest.raises(BadInput) as info:
            from concviz.runtime import run_batch

            run_batch(params(**bad), lab=session.lab)
        text = str(info.value)
        assert expected in text, (bad, text)
        assert "\n" not in text and "Traceback" not in text, text
    # none of it hurt the lab: a good run still works in the same lab
    from concviz.model import run_object
    from concviz.runtime import run_batch

    obj = run_object(run_batch(params(tasks=3), lab=session.lab))
    assert obj["ok"] and len(obj["tasks"]) == 3


@pytest.mark.timeout(60)
def test_a_lambda_is_fine_for_a_thread_strategy():
    _, obj = run(workload="user", user=user("lam"), tasks=4)
    assert obj["ok"] and len(obj["tasks"]) == 4
