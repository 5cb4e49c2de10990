"""Dask distributed, really running: a LocalCluster the lab starts, and a cluster of
its own (a ``dask scheduler`` and two ``dask worker`` processes) the lab connects to."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time

import psutil
import pytest
from enginekit import (
    TASKS,
    check_engine_run,
    check_stopped_at_once,
    leftovers,
    require,
    run_in_lab,
    stop_during_start_up,
    stopped_continuous_run,
)

from concviz.runtime import LabProcess
from concviz.runtime.headless import BadInput, run_batch


def _gone(pids: set[int], timeout: float = 10.0) -> list[int]:
    """Which of ``pids`` still run after ``timeout`` (a worker orphaned by its nanny too)."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    left = []
    for p in alive:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return left


def test_dask_local_runs_every_task_on_its_workers_with_measured_clocks():
    require("dask-local")
    run, store = check_engine_run("dask-local")
    start = next(p for p in run["phases"] if p["kind"] == "startup")
    offsets = start["details"]["offsets_ms"]
    assert len(offsets) == 2, start["details"]
    assert all(abs(v) < 50 for v in offsets.values()), offsets  # one machine, one clock
    assert start["details"]["scheduler"].startswith("tcp://127.0.0.1:"), start["details"]
    assert run["engine"]["offsets_ms"] == offsets
    assert run["teardown_s"] > 0
    if importlib.util.find_spec("bokeh") is not None:  # the dashboard answered the lab
        assert run["engine"]["dashboard"].startswith("http://127.0.0.1:"), run["engine"]
    # one row per worker thread, each named after its worker, in two worker processes
    names = {ln.name for ln in store.lanes() if ln.name}
    # (on this machine "worker 1", "worker 2": the address says nothing a class needs)
    assert names == {"dask worker 1 · thread 1", "dask worker 2 · thread 1"}, names
    assert len({t["pid"] for t in run["tasks"]}) == 2
    # Dask's own times, mapped onto the lab's clock: after start-up, inside the run
    end = max(t["end_ns"] for t in run["tasks"])
    assert all(start["t_ns"] <= t["start_ns"] < t["end_ns"] <= end for t in run["tasks"])
    assert all(t["cpu_ns"] > 0 for t in run["tasks"])
    assert not _gone({t["pid"] for t in run["tasks"]}), "Dask workers outlived the run"


SITE = sysconfig.get_paths()["purelib"]


def _start(args: list[str], cwd: str) -> subprocess.Popen:
    # -S with only site-packages on the path: distributed imports, concviz (an
    # editable install, found through a .pth file) does not, as on a real cluster
    env = {**os.environ, "PYTHONPATH": SITE}
    return subprocess.Popen(
        [sys.executable, "-S", "-m", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-threaded workers on 127.0.0.1, none with concviz."""
    require("dask-remote")
    from distributed import Client

    with socket.socket() as s:  # a free port, so that all three can start at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    scheduler = ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
    worker = ["distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1"]
    worker += ["--host", "127.0.0.1"]
    procs = []
    try:
        for args in (scheduler, worker, worker):
            procs.append(_start([*args, "--no-dashboard"], str(tmp_path)))
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            workers = dict(client.run(os.getpid))
        yield address, workers, procs
    finally:
        everyone = []
        for p in procs:
            try:
                everyone += [p.pid, *(k.pid for k in psutil.Process(p.pid).children(True))]
            except psutil.NoSuchProcess:
                pass
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        left = _gone(set(everyone), timeout=5)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"Dask processes left after the test: {left}"


def test_dask_remote_uses_every_worker_of_a_running_cluster_and_leaves_it_running(
    dask_cluster,
):
    address, workers, procs = dask_cluster
    run, store, left = run_in_lab("dask-remote", {"dask_address": address})
    assert run["ok"], run["error"]
    assert not left, left
    assert sorted(t["id"] for t in run["tasks"]) == list(range(TASKS))
    rows = {(t["pid"], t["tid"], t["worker"]) for t in run["tasks"]}
    assert len(rows) == 2, rows
    assert {t["pid"] for t in run["tasks"]} == set(workers.values())
    assert run["engine"]["scheduler"] == address
    assert run["engine"]["dashboard"] is None  # started with --no-dashboard
    start = next(p for p in run["phases"] if p["kind"] == "startup")
    # the workers cannot import concviz by themselves: the uploaded sources ran
    assert start["details"]["uploaded"] is True, start["details"]
    assert set(start["details"]["offsets_ms"]) == {a.split("://")[1] for a in workers}
    # the lab closed its client only: the cluster and its workers still run
    assert all(p.poll() is None for p in procs)
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as client:
        assert dict(client.run(os.getpid)) == workers


def test_dask_remote_without_an_address_is_refused_in_one_sentence():
    require("dask-remote")
    params = {
        "workload": "cpu-python",
        "strategy": "dask-remote",
        "workers": 2,
        "tasks": 4,
        "task_ms": 10.0,
        "options": {},
    }
    with pytest.raises(BadInput) as refused:
        run_batch(params)
    text = str(refused.value)
    assert "dask-remote needs the scheduler's address" in text, text
    assert "--dask-address" in text and "Traceback" not in text, text


def test_an_unreachable_scheduler_ends_the_run_with_a_clear_error():
    require("dask-remote")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    run, _, left = run_in_lab("dask-remote", {"dask_address": address}, tasks=4)
    assert not run["ok"] and not run["tasks"]
    assert run["error"].startswith(f"cannot reach the Dask scheduler at {address}"), run["error"]
    assert "Traceback" not in run["error"]
    assert not left


def test_an_address_that_answers_but_is_not_dask_exits_2_in_one_sentence():
    require("dask-remote")
    # something that accepts and then waits for a request (an HTTP server, a database),
    # and something that greets with bytes of its own (an SSH server)
    for greeting in (b"", b"SSH-2.0-OpenSSH_9.6\r\n"):
        with socket.create_server(("127.0.0.1", 0)) as server:
            port = server.getsockname()[1]
            stop = threading.Event()

            def serve(server=server, greeting=greeting, stop=stop) -> None:
                server.settimeout(0.1)
                held = []
                while not stop.is_set():
                    try:
                        conn, _ = server.accept()
                    except TimeoutError:
                        continue
                    held.append(conn)  # never closed while the test runs: no EOF to see
                    if greeting:
                        conn.sendall(greeting)
                for conn in held:
                    conn.close()

            t = threading.Thread(target=serve, daemon=True)
            t.start()
            t0 = time.monotonic()
            try:
                out = subprocess.run(
                    [sys.executable, "-m", "concviz", "run", "-s", "dask-remote",
                     "--dask-address", f"tcp://127.0.0.1:{port}", "--tasks", "2"],
                    capture_output=True, text=True, timeout=60,
                )  # fmt: skip
            finally:
                stop.set()
                t.join(5)
        took = time.monotonic() - t0
        said = (out.stdout + out.stderr).strip()
        assert out.returncode == 2, out
        assert "is not a Dask scheduler" in said and f"127.0.0.1:{port}" in said, said
        assert "Traceback" not in said and "\n" not in said, said
        assert took < 20, f"took {took:.1f} s"


def test_a_stop_before_the_local_cluster_is_up_ends_the_run_at_once():
    require("dask-local")
    finished, took, left, _ = stop_during_start_up("dask-local", 0.3, again=False)
    check_stopped_at_once(finished, took, left)


def test_a_stop_mid_start_up_then_a_continuous_run_stopped_in_the_same_lab():
    """A stop 1.5 s into the LocalCluster's start-up (the harder one), then, in the
    same lab, a continuous run that starts a cluster again and is stopped after two
    bars, leaving no Dask process (one cluster start-up less for the suite)."""
    require("dask-local")
    lab = LabProcess()
    lab.start()
    try:
        finished, took, left, _ = stop_during_start_up("dask-local", 1.5, False, lab)
        check_stopped_at_once(finished, took, left)
        with stopped_continuous_run("dask-local", 200.0, after_bars=2, lab=lab) as run:
            assert run.finished["stopped"] and run.finished["ok"], run.finished
            assert run.took < 5, f"the run took {run.took:.1f} s to end after the stop"
            assert not leftovers(run.lab_pid)
            lanes = run.store.lanes()
            workers = {ln.pid for ln in lanes if ln.name and ln.name.startswith("dask ")}
            assert len(workers) == 2, lanes
            assert not _gone(workers), "Dask workers outlived the stopped run"
    finally:
        lab.close()


def test_a_dask_tasks_result_says_its_times_thread_worker_and_error(monkeypatch):
    """What a Dask task returns (packed in bytes, cheap to fetch) unpacks to what ran."""
    from concviz.lab.engines import dask_

    def failing(i: int) -> None:
        raise ValueError("näive " + "x" * 5000)

    monkeypatch.setattr(dask_, "task_function", lambda spec: failing)
    index, cpu, err, pid, t0, t1, worker, tid = dask_._unpack_result(dask_._dask_task({}, 7))
    assert (index, pid, tid, worker) == (7, os.getpid(), threading.get_ident(), "")
    assert err == "ValueError: näive " + "x" * 5000
    assert 0 <= cpu and 0 < t0 <= t1 <= time.perf_counter_ns()

    monkeypatch.setattr(dask_, "task_function", lambda spec: lambda i: None)
    index, cpu, err, *_ = dask_._unpack_result(dask_._dask_task({}, 2**40))
    assert (index, err) == (2**40, None)


def test_dask_bursts_grow_for_short_tasks_and_shrink_for_long_ones():
    """A burst grows at most twofold while it ends sooner than BURST_S, shrinks at once
    when it lasts longer, and stays between the window and MAX_BURST."""
    from concviz.lab.engines.dask_ import BURST_S, MAX_BURST, next_burst

    size, sizes = 24, []
    for _ in range(8):  # tasks of 0.1 ms: a burst of n lasts n × 0.1 ms
        size = next_burst(size, size * 1e-4, 24)
        sizes.append(size)
    assert sizes[:3] == [48, 96, 192] and sizes[-1] == MAX_BURST
    assert next_burst(MAX_BURST, 4 * BURST_S, 24) == MAX_BURST // 4  # at once
    assert next_burst(48, 10.0, 24) == 24  # long tasks: the window, no less
    assert next_burst(100, BURST_S, 24) == 100 and next_burst(100, 0.0, 24) == 100
