"""Every way a task can end is a recorded task end, and a stop always ends the run.

Issue 19: SystemExit, KeyboardInterrupt, GeneratorExit or a bare BaseException
raised by a task is that task's failure under every strategy (they used to hang
process-pool and threads runs and make asyncio drop tasks while reporting success);
a task calling os.fork() never duplicates tasks; a task that never returns does
not keep a stop from ending the run within a second, and the next run still works.
"""

from __future__ import annotations

import threading
import time

import psutil
import pytest
from labkit import DATA, STRATEGIES, Session, params, python_312_plus, run

from concviz.model import BAR_SLICE, BAR_STOPPED, run_object
from concviz.runtime import LabProcess, run_batch

pytestmark = pytest.mark.usefixtures("shared_labs")  # one lab for the runs of labkit.run

FAULTS = str(DATA / "faultfns.py")

# every strategy of labkit's but the subinterpreters (they need Python 3.12+: own tests)
LOCAL_AND_PROCESS = tuple(s for s in STRATEGIES if s != "interpreter-pool")

ENDINGS = [
    ("sys_exit", "SystemExit: 3"),
    ("keyboard_interrupt", "KeyboardInterrupt"),
    ("base_exception", "BaseException: task 2 went past Exception"),
]


def fault(func: str) -> str:
    return f"{FAULTS}:{func}"


def _assert_one_failure(obj: dict, text: str, took: float) -> None:
    assert took < 10, f"the run took {took:.1f} s"
    assert obj["ok"], obj["error"]  # one task failing does not fail the run
    assert sorted(t["id"] for t in obj["tasks"]) == list(range(6))
    failed = [t for t in obj["tasks"] if not t["ok"]]
    assert [t["id"] for t in failed] == [2], failed
    assert failed[0]["error"] == text


@pytest.mark.timeout(60)
@pytest.mark.parametrize("func,text", ENDINGS)
@pytest.mark.parametrize("strategy", LOCAL_AND_PROCESS)
def test_a_base_exception_from_a_task_is_that_tasks_failure(strategy, func, text):
    t0 = time.monotonic()
    _, obj = run(strategy=strategy, workload="user", user=fault(func), tasks=6)
    _assert_one_failure(obj, text, time.monotonic() - t0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("func,text", ENDINGS)
def test_a_coroutine_raising_a_base_exception_is_its_failure(func, text):
    # asyncio itself carries SystemExit and KeyboardInterrupt out of the event loop
    t0 = time.monotonic()
    _, obj = run(strategy="asyncio", workload="user", user=fault("async_" + func), tasks=6)
    _assert_one_failure(obj, text, time.monotonic() - t0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["threads", "asyncio", "process-pool"])
def test_generator_exit_from_a_task_is_its_failure(strategy):
    t0 = time.monotonic()
    _, obj = run(strategy=strategy, workload="user", user=fault("generator_exit"), tasks=6)
    _assert_one_failure(obj, "GeneratorExit", time.monotonic() - t0)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("func,text", ENDINGS)
def test_a_base_exception_in_a_subinterpreter_is_its_failure(func, text):
    path, why = python_312_plus()
    if path is None:
        pytest.skip(why)
    t0 = time.monotonic()
    _, obj = run(path, strategy="interpreter-pool", workload="user", user=fault(func), tasks=6)
    _assert_one_failure(obj, text, time.monotonic() - t0)


# ------------------------------------------------------------------ fork
@pytest.mark.timeout(60)
@pytest.mark.parametrize("func", ["forks", "forks_and_exits"])
@pytest.mark.parametrize("strategy", ["sequential", "threads", "asyncio", "processes"])
def test_a_task_that_forks_never_duplicates_tasks(session, strategy, func):
    session.send(
        {"cmd": "start", **params(strategy=strategy, workload="user", user=fault(func), tasks=6)}
    )
    done = session.until_type("run_finished")
    assert done["ok"], done["error"]
    # whatever a forked child might still send arrives before the answer to a ping
    time.sleep(0.3)
    session.send({"cmd": "ping"})
    session.until_type("pong")
    b = session.store.bars()
    tasks = sorted(b["task"][b["kind"] != BAR_SLICE].tolist())
    assert tasks == list(range(6)), tasks
    assert sum(1 for o in session.seen if o.get("type") == "run_finished") == 1
    # the child ended at once: nothing of it runs on (an unreaped zombie is no process)
    alive = [
        p
        for p in session.children()
        if _status(p) not in (psutil.STATUS_ZOMBIE, None)
        and "resource_tracker" not in " ".join(_cmdline(p))
    ]
    assert not alive, alive


def _status(p: psutil.Process) -> str | None:
    try:
        return p.status()
    except psutil.NoSuchProcess:
        return None


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return []


# ------------------------------------------------------------------ stop a stuck task
STUCK = [
    ("threads", "sleep_forever"),
    ("thread-pool", "sleep_forever"),
    ("sequential", "sleep_forever"),
    ("asyncio", "async_block_forever"),
    ("asyncio-to-thread", "sleep_forever"),
]


def _task_0_running(store) -> bool:
    return any(task == 0 for _, task, _ in store.open_bars())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy,func", STUCK)
def test_stop_ends_a_run_whose_task_never_returns_within_a_second(strategy, func):
    s = Session()
    try:
        s.send({"cmd": "start", **params(strategy=strategy, workload="user", user=fault(func))})
        s.read_events_until(_task_0_running)
        time.sleep(0.1)
        t0 = time.monotonic()
        s.send({"cmd": "stop"})
        done = s.until_type("run_finished")
        took = time.monotonic() - t0
        assert took < 1.0, f"stop took {took:.2f} s"
        assert done["stopped"] is True and done["ok"] is True
        assert done["stuck"], "the lab must say a thread is still stuck"
        # the task that never returned is a stopped bar, not a failure, not running
        b = s.store.bars()
        stopped = b["task"][b["kind"] == BAR_STOPPED]
        assert 0 in stopped.tolist()
        assert not s.store.open_bars()
        obj = run_object(s.store)
        t0_obj = next(t for t in obj["tasks"] if t["id"] == 0)
        assert t0_obj["stopped"] and not t0_obj["ok"] and t0_obj["error"] is None
        # a lab with a stuck thread still quits at once when asked
        pid = s.lab.pid
        t1 = time.monotonic()
        s.lab.close(timeout=2.0)
        assert time.monotonic() - t1 < 1.5
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
    finally:
        s.close()


@pytest.mark.timeout(60)
def test_a_stop_that_interrupts_builtin_tasks_records_them_as_stopped(session):
    session.send(
        {"cmd": "start", **params(strategy="threads", workload="cpu-python", task_ms=5000)}
    )
    session.read_events_until(lambda st: len(st.open_bars()) >= 2)
    session.send({"cmd": "stop"})
    done = session.until_type("run_finished")
    assert done["stopped"] and not done["stuck"]  # builtin tasks notice the stop
    obj = run_object(session.store)
    assert len(obj["tasks"]) == 2
    assert all(t["stopped"] and t["error"] is None for t in obj["tasks"]), obj["tasks"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy,func", [STUCK[0], STUCK[3]])
def test_the_next_run_through_the_runtime_client_just_works_after_a_stuck_stop(strategy, func):
    lab = LabProcess()
    lab.start()
    try:
        first_pid = lab.pid
        notices: list[str] = []
        store_box: list = []

        def stop_when_stuck() -> None:
            # run_batch reads on this test's thread; the stop comes from another
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                st = store_box[0] if store_box else None
                if st is not None and _task_0_running(st):
                    lab.send({"cmd": "stop"})
                    return
                time.sleep(0.02)

        from concviz.model import EventStore

        store = EventStore()
        store_box.append(store)
        threading.Thread(target=stop_when_stuck, daemon=True).start()
        t0 = time.monotonic()
        run_batch(
            params(strategy=strategy, workload="user", user=fault(func)),
            lab=lab,
            store=store,
            on_notice=notices.append,
        )
        assert time.monotonic() - t0 < 10
        assert store.runs[-1].finished["stuck"]
        assert len(notices) == 1 and "restarted" in notices[0], notices
        assert "\n" not in notices[0]
        assert lab.pid != first_pid  # a fresh lab ...
        assert not psutil.pid_exists(first_pid) or (
            psutil.Process(first_pid).status() == psutil.STATUS_ZOMBIE
        )
        # ... that runs the next batch without anyone restarting it by hand
        obj = run_object(run_batch(params(strategy=strategy, tasks=4), lab=lab))
        assert obj["ok"] and len(obj["tasks"]) == 4 and all(t["ok"] for t in obj["tasks"])
    finally:
        lab.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["processes", "process-pool"])
def test_stop_ends_a_worker_process_that_ignores_sigterm(session, strategy):
    session.send(
        {
            "cmd": "start",
            **params(
                strategy=strategy, workload="user", user=fault("ignore_term_and_sleep_forever")
            ),
        }
    )
    session.read_events_until(_task_0_running)
    time.sleep(0.2)
    workers = session.children()
    t0 = time.monotonic()
    session.send({"cmd": "stop"})
    done = session.until_type("run_finished")
    assert time.monotonic() - t0 < 1.0
    assert done["stopped"] and done["ok"], done
    _, alive = psutil.wait_procs(workers, timeout=1.5)
    assert not [p for p in alive if _status(p) not in (psutil.STATUS_ZOMBIE, None)], alive
    session.send({"cmd": "ping"})  # the control loop never waited on the pool
    session.until_type("pong")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["threads", "asyncio", "process-pool"])
def test_an_exception_whose_str_raises_is_still_the_tasks_failure(strategy):
    t0 = time.monotonic()
    _, obj = run(strategy=strategy, workload="user", user=fault("unprintable"), tasks=6)
    _assert_one_failure(obj, "Unprintable: (its message could not be read)", time.monotonic() - t0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["threads", "asyncio"])
def test_a_task_sending_sigint_to_the_lab_does_not_end_the_run(session, strategy):
    session.send(
        {
            "cmd": "start",
            **params(strategy=strategy, workload="user", user=fault("sigint_own_process")),
        }
    )
    done = session.until_type("run_finished")
    assert done["ok"] and not done["stopped"], done
    obj = run_object(session.store)
    assert sorted(t["id"] for t in obj["tasks"]) == list(range(6))
    assert all(t["ok"] for t in obj["tasks"])
    session.send({"cmd": "ping"})
    session.until_type("pong")
