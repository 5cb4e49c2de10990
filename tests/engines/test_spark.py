"""Spark (pyspark) in local[N] mode and against a standalone cluster, really running."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import psutil
import pytest
from enginekit import (
    check_engine_run,
    check_stopped_at_once,
    leftovers,
    require,
    run_in_lab,
    stop_during_start_up,
    stopped_continuous_run,
)

from concviz.runtime import LabProcess, run_batch
from concviz.runtime.headless import BadInput


def _gone(pids: set[int]) -> list[int]:
    """The pids in ``pids`` still running (zombies count as gone), after a short wait."""
    deadline = time.monotonic() + 5
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_spark_local_runs_every_task_in_parallel_and_leaves_nothing():
    require("spark-local")
    run, store = check_engine_run("spark-local")
    starts = [p for p in run["phases"] if p["kind"] == "startup"]
    # a JVM and a SparkContext take seconds, never the blink a thread pool takes
    assert starts[0]["seconds"] > 1.0, starts
    assert "JVM" in starts[0]["label"] and "local[2]" in starts[0]["label"], starts
    assert starts[0]["details"]["master"] == "local[2]", starts
    assert starts[0]["details"]["spark"], starts
    assert run["engine"]["master"] == "local[2]", run["engine"]
    assert run["teardown_s"] > 0
    names = {ln.name for ln in store.lanes() if ln.name}
    assert any(n.startswith("Spark task slot") for n in names), names
    # Spark's Python workers are not the lab's children once the JVM is gone: check them
    assert not _gone({t["pid"] for t in run["tasks"]}), "Spark's Python workers outlived the run"


# ------------------------------------------------------------------ a standalone cluster
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_processes(sid: int) -> list[str]:
    found = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getsid(p.pid) == sid and p.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(f"{p.pid} {' '.join(p.info['cmdline'] or [])[:100]}")
        except (OSError, psutil.Error):
            pass
    return found


def _end_session(proc: subprocess.Popen) -> list[str]:
    """Stop a process started in a new session and everything in it; what survived."""
    sid = proc.pid
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(sid, sig)
        except OSError:
            pass
        deadline = time.monotonic() + wait
        while _session_processes(sid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _session_processes(sid):
            break
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    return _session_processes(sid)


@pytest.fixture(scope="module")
def spark_cluster():
    """A standalone master and one 2-core worker on 127.0.0.1: its ``spark://`` URL."""
    require("spark-remote")
    import pyspark

    spark_class = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-class")
    if not os.access(spark_class, os.X_OK):
        pytest.skip(f"pyspark has no runnable spark-class ({spark_class})")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("java is not installed (needed for a standalone master and worker)")
    port, ui = _free_port(), _free_port()
    master = f"spark://127.0.0.1:{port}"
    logs = tempfile.mkdtemp(prefix="concviz-spark-cluster-")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": logs}
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with open(os.path.join(logs, f"{name}.log"), "wb") as log:
            procs.append(
                subprocess.Popen(
                    [spark_class, *args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            )

    def log_tail() -> str:
        out = []
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors="replace") as f:
                out.append(f"--- {name}\n" + "".join(f.readlines()[-15:]))
        return "\n".join(out)

    try:
        start(
            "master",
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)),
        )
        start(
            "worker",
            "org.apache.spark.deploy.worker.Worker",
            master,
            *("--host", "127.0.0.1", "--cores", "2", "--memory", "1g"),
            *("--webui-port", str(_free_port())),
        )
        deadline = time.monotonic() + 90
        while True:  # the master's own status page lists the worker once it registered
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as r:
                    state = json.load(r)
                if any(w.get("state") == "ALIVE" for w in state.get("workers", [])):
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                pytest.fail(f"the standalone master and worker did not come up:\n{log_tail()}")
            time.sleep(0.5)
        yield master
    finally:
        survivors = [s for p in reversed(procs) for s in _end_session(p)]
        shutil.rmtree(logs, ignore_errors=True)
        assert not survivors, f"the test cluster left processes behind: {survivors}"


def test_spark_remote_runs_every_task_on_a_standalone_cluster(spark_cluster):
    run, store, left = run_in_lab("spark-remote", {"spark_master": spark_cluster})
    assert run["ok"], run["error"]
    assert not left, f"left running after the run: {left}"
    ids = sorted(t["id"] for t in run["tasks"])
    assert ids == list(range(16)), f"tasks recorded: {ids}"
    rows = {(t["pid"], t["tid"], t["worker"]) for t in run["tasks"]}
    assert len(rows) >= 2, f"only {len(rows)} row(s): {rows}"
    assert run["engine"]["master"] == spark_cluster, run["engine"]
    assert [p for p in run["phases"] if p["kind"] == "startup"], run["phases"]


def test_spark_remote_without_a_master_is_refused_in_one_sentence():
    require("spark-remote")
    params = {"workload": "cpu-python", "strategy": "spark-remote", "workers": 2, "tasks": 4}
    with pytest.raises(BadInput) as err:
        run_batch({**params, "options": {}})
    assert "spark-remote needs a master: --spark-master spark://host:7077 (in the window" in str(
        err.value
    )
    with pytest.raises(BadInput) as err:
        run_batch({**params, "options": {"spark_master": "localhost:7077"}})
    assert "spark-remote needs a master" in str(err.value), err.value


@pytest.mark.parametrize("after_s", [0.3, 2.0])
def test_a_stop_during_the_jvms_start_up_ends_the_run_at_once(after_s):
    """Before the JVM, and while it starts."""
    require("spark-local")
    finished, took, left, _ = stop_during_start_up("spark-local", after_s, again=False)
    check_stopped_at_once(finished, took, left)


def test_a_stop_once_the_context_is_up_then_a_continuous_run_stopped_in_the_same_lab():
    """A stop as soon as the SparkContext is up (its Python workers warming: Spark's
    orderly stop alone took 0.75 s there, longer than a stop may), then, in the same
    lab, a continuous run that starts Spark again and is stopped after three bars (one
    JVM start-up less for the suite than two tests)."""
    require("spark-local")
    lab = LabProcess()
    lab.start()
    try:
        finished, took, left, _ = stop_during_start_up("spark-local", "engine", False, lab)
        check_stopped_at_once(finished, took, left)
        with stopped_continuous_run("spark-local", 400.0, after_bars=3, lab=lab) as run:
            assert run.finished["stopped"] and run.finished["ok"], run.finished
            assert run.took < 3.0, f"the run ended {run.took:.1f} s after the stop"
            assert not leftovers(run.lab_pid)
            lanes = run.store.lanes()
            pids = {ln.pid for ln in lanes if (ln.name or "").startswith("Spark task")}
            assert pids and not _gone(pids), "Spark's Python workers outlived the run"
    finally:
        lab.close()
