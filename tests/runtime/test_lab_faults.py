"""The runtime under faults: a lab that never answers, a run stuck in a task (issue 19)."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import psutil
import pytest

from concviz.runtime.lab_client import LabClient
from concviz.runtime.lab_process import BadInterpreter, LabProcess

FAULTS = Path(__file__).parent.parent / "lab" / "data" / "faultfns.py"


def _silent_interpreter(tmp_path: Path) -> tuple[Path, Path]:
    """An "interpreter" that starts a child and never says hello; writes its pids."""
    pids = tmp_path / "pids"
    script = tmp_path / "python-that-hangs"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pids}\nsleep 300\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, pids


@pytest.mark.timeout(30)
def test_a_lab_that_never_completes_the_handshake_is_given_up_with_its_tree(tmp_path):
    script, pids = _silent_interpreter(tmp_path)
    lab = LabProcess(str(script), handshake_timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(BadInterpreter) as info:
        lab.start()
    took = time.monotonic() - t0
    assert 0.9 <= took < 5, took
    text = str(info.value)
    assert "did not answer within 1 s" in text and str(script) in text
    assert "\n" not in text
    shell, child = (int(p) for p in pids.read_text().split())
    _, alive = psutil.wait_procs(
        [psutil.Process(p) for p in (shell, child) if psutil.pid_exists(p)], timeout=2
    )
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive


def test_the_handshake_timeout_is_15_s_unless_told():
    assert LabProcess().handshake_timeout == 15.0


@pytest.mark.timeout(60)
def test_lab_client_restarts_a_lab_left_with_a_stuck_thread(qtbot):
    client = LabClient()
    with qtbot.waitSignal(client.labStarted, timeout=20000):
        client.start()
    first_pid = client.pid
    restarted: list[str] = []
    client.labRestarted.connect(restarted.append)
    store = client.begin_run(
        {
            "workload": "user",
            "user": f"{FAULTS}:sleep_forever",
            "strategy": "threads",
            "workers": 2,
            "tasks": 6,
        }
    )
    qtbot.waitUntil(lambda: any(t == 0 for _, t, _ in store.open_bars()), timeout=20000)
    t0 = time.monotonic()
    with qtbot.waitSignal(client.runFinished, timeout=5000) as finished:
        client.stop_run()
    assert time.monotonic() - t0 < 1.5
    assert finished.args[0]["stopped"] and finished.args[0]["stuck"]
    # the run's store keeps the old lab's handshake and shows the task as stopped
    assert store.hello["pid"] == first_pid
    assert not store.open_bars()
    with qtbot.waitSignal(client.labStarted, timeout=20000):
        pass
    assert len(restarted) == 1 and "restarted" in restarted[0]
    assert client.pid != first_pid
    # the next run just works
    with qtbot.waitSignal(client.runFinished, timeout=30000) as finished:
        store = client.begin_run(
            {"workload": "io-sleep", "strategy": "threads", "workers": 2, "tasks": 4, "task_ms": 5}
        )
    assert finished.args[0]["ok"] and len(store.task_bars()["task"]) == 4
    client.close()


@pytest.mark.timeout(60)
def test_a_run_asked_for_while_the_lab_restarts_starts_in_the_fresh_lab(qtbot):
    client = LabClient()
    with qtbot.waitSignal(client.labStarted, timeout=20000):
        client.start()
    store = client.begin_run(
        {
            "workload": "user",
            "user": f"{FAULTS}:sleep_forever",
            "strategy": "sequential",
            "tasks": 3,
        }
    )
    qtbot.waitUntil(lambda: bool(store.open_bars()), timeout=20000)
    with qtbot.waitSignal(client.labRestarted, timeout=5000):
        client.stop_run()
    # at once, before the fresh lab said hello: held, then sent
    with qtbot.waitSignal(client.runFinished, timeout=30000) as finished:
        store = client.begin_run(
            {"workload": "io-sleep", "strategy": "threads", "workers": 2, "tasks": 3, "task_ms": 5}
        )
    assert finished.args[0]["ok"] and len(store.task_bars()["task"]) == 3
    assert store.hello["pid"] == client.pid
    client.close()
