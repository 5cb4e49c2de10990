"""The control channel, the private frame channel, lifetimes, start methods, interpreters."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from labkit import Session, params, pyenv_python, run, user

from concviz.lab import protocol as P

pytestmark = pytest.mark.usefixtures("shared_labs")  # one lab for the runs of labkit.run


@pytest.mark.timeout(30)
def test_unknown_or_malformed_control_lines_get_an_error_never_a_crash(session):
    lines = [
        b"this is not json\n",
        b"[1, 2, 3]\n",
        b'{"cmd": "bogus"}\n',
        b'{"no_cmd": 1}\n',
        b'{"cmd": "start", "workload": "io-sleep", "strategy": "threads", "workers": "two"}\n',
        b'{"cmd": "switch", "workers": 2}\n',  # no run in progress
        b'{"cmd": "set", "switch_interval": -1}\n',
        b"\xff\xfe\x00 binary garbage\n",
        b'{"cmd": "start", "workload": "io-sleep", "strategy": "threads", "options": 5}\n',
    ]
    for line in lines:
        session.send_raw(line)
        err = session.until_type("error")
        assert err["message"] and "\n" not in err["message"], err
    session.send({"cmd": "ping"})
    session.until_type("pong")
    assert session.lab.proc.poll() is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["threads", "process-pool", "processes"])
def test_print_in_user_code_arrives_as_output_and_never_corrupts_the_stream(strategy):
    store, obj = run(strategy=strategy, workload="user", user=user("chatty"), tasks=5)
    assert obj["ok"], obj["error"]
    assert sorted(t["id"] for t in obj["tasks"]) == list(range(5))
    text = "".join(store.output)
    for i in range(5):
        assert f"hello from task {i}" in text


@pytest.mark.timeout(60)
def test_continuous_mode_switch_emits_a_marker_and_new_workers_appear(session):
    session.send(
        {"cmd": "start", **params(strategy="threads", workers=2, task_ms=5, mode="continuous")}
    )
    session.until_type("run_started")
    session.read_events_until(lambda s: s.bar_count >= 6)
    lab_pid = session.lab.pid
    session.send({"cmd": "switch", "strategy": "process-pool", "workers": 3})
    marker = session.until(lambda o: o.get("type") == "marker" and o.get("kind") == "switch")
    assert marker["from"] == {"strategy": "threads", "workers": 2, "task_ms": 5.0}
    assert marker["to"] == {"strategy": "process-pool", "workers": 3, "task_ms": 5.0}

    def new_workers(s):
        b = s.bars()
        lanes = s.lanes()
        after = b["start"] >= marker["t_ns"]
        return {lanes[i].pid for i in b["lane"][after].tolist()} - {lab_pid}

    session.read_events_until(lambda s: len(new_workers(s)) >= 2)
    assert len(new_workers(session.store)) <= 3
    # before the switch, only the lab's threads worked
    b = session.store.bars()
    lanes = session.store.lanes()
    before = b["end"] <= marker["t_ns"]
    assert {lanes[i].pid for i in b["lane"][before].tolist()} == {lab_pid}
    session.send({"cmd": "stop"})
    done = session.until_type("run_finished")
    assert done["stopped"] and done["ok"] and done["strategy"] == "process-pool"


@pytest.mark.timeout(90)
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_pool_start_methods(method):
    store, obj = run(
        strategy="process-pool",
        workload="cpu-python",
        tasks=6,
        task_ms=5,
        options={"start_method": method},
    )
    assert obj["ok"], obj["error"]
    assert sorted(t["id"] for t in obj["tasks"]) == list(range(6))
    pids = {t["pid"] for t in obj["tasks"]}
    assert store.hello["pid"] not in pids and 1 <= len(pids) <= 2


@pytest.mark.timeout(60)
def test_an_unknown_start_method_is_refused(session):
    session.send(
        {"cmd": "start", **params(strategy="process-pool", options={"start_method": "teleport"})}
    )
    err = session.until_type("error")
    assert "start method 'teleport'" in err["message"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("minor", ["3.10", "3.13"])
def test_the_lab_runs_under_another_interpreter(minor):
    path = pyenv_python(minor)
    if path is None:
        pytest.skip(f"no CPython {minor} under ~/.pyenv/versions")
    for strategy in ("threads", "process-pool", "asyncio"):
        store, obj = run(path, strategy=strategy, tasks=4)
        assert obj["ok"], obj["error"]
        assert sorted(t["id"] for t in obj["tasks"]) == list(range(4))
    assert store.hello["interpreter"]["version"].startswith(minor + ".")
    assert store.hello["interpreter"]["executable"].endswith(f"python{minor}")


# ------------------------------------------------------------------ lifetimes
@pytest.mark.timeout(30)
def test_the_lab_exits_when_its_stdin_closes():
    s = Session()
    try:
        s.send(
            {"cmd": "start", **params(strategy="process-pool", workload="io-sleep", task_ms=5000)}
        )
        s.read_events_until(lambda st: len(st.open_bars()) >= 2)
        family = [psutil.Process(s.lab.pid), *s.children()]
        s.lab.proc.stdin.close()
        assert s.lab.proc.wait(timeout=5) == 0
        _, alive = psutil.wait_procs(family, timeout=3)
        assert not alive, alive
    finally:
        s.close()


@pytest.mark.timeout(30)
def test_the_lab_exits_when_its_parent_dies(tmp_path):
    # a parent that starts a lab, reports its pid, then is killed outright
    code = textwrap.dedent(
        """
        import sys, time
        from concviz.runtime import LabProcess
        lab = LabProcess()
        lab.start()
        lab.send({"cmd": "start", "workload": "io-sleep", "strategy": "process-pool",
                  "workers": 2, "tasks": 4, "task_ms": 10000})
        print(lab.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        lab = psutil.Process(int(parent.stdout.readline()))
        time.sleep(0.5)  # let the workers start
        family = [lab, *lab.children(recursive=True)]
        parent.kill()
        parent.wait()
        _, alive = psutil.wait_procs(family, timeout=3)
        assert not alive, alive
    finally:
        parent.kill()
        parent.stdout.close()


# ------------------------------------------------------------------ frames on the wire
@pytest.mark.timeout(30)
def test_the_stream_starts_with_the_handshake_and_carries_packed_batches(session):
    h = session.hello
    assert h["protocol"] == P.PROTOCOL_VERSION and h["pid"] == session.lab.pid
    assert {"version", "free_threaded", "gil_enabled"} <= h["interpreter"].keys()
    assert {"perf_ns", "time_ns"} <= h["clock"].keys()
    session.send({"cmd": "start", **params(tasks=20, task_ms=0)})
    kinds = []
    while True:
        kind, payload = session.lab.read_frame()
        kinds.append(kind)
        if kind == P.FRAME_EVENTS:
            assert len(payload) % P.RECORD_SIZE == 0
        obj = session.store.add_frame(kind, payload)
        if obj and obj["type"] == "run_finished":
            break
    # 20 tasks x (queued, start, end) = 60 events in far fewer frames: batched
    assert kinds.count(P.FRAME_EVENTS) < 20
    assert session.store.queued()["task"].size == 20
