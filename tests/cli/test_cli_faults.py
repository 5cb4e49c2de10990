"""The CLI when tasks fail in every way and when the user presses Ctrl-C (issue 19)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

FAULTS = Path(__file__).parent.parent / "lab" / "data" / "faultfns.py"


def concviz(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "strategy",
    [
        "sequential",
        "threads",
        "thread-pool",
        "asyncio",
        "asyncio-to-thread",
        "processes",
        "process-pool",
    ],
)
def test_a_task_calling_sys_exit_fails_the_run_with_exit_1_and_the_json(strategy, tmp_path):
    out = tmp_path / "run.json"
    r = concviz(
        "run",
        "-w",
        f"{FAULTS}:sys_exit",
        "-s",
        strategy,
        "--tasks",
        "6",
        "--task-ms",
        "10",
        "--json",
        str(out),
        timeout=60,
    )
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "task 2 failed: SystemExit: 3" in r.stdout
    assert "Traceback" not in r.stderr
    run = json.loads(out.read_text())
    assert sorted(t["id"] for t in run["tasks"]) == list(range(6))
    assert [t["id"] for t in run["tasks"] if not t["ok"]] == [2]


@pytest.mark.timeout(60)
def test_compare_exits_1_when_a_task_failed():
    r = concviz(
        "compare", "-w", f"{FAULTS}:keyboard_interrupt", "-s", "threads", "--tasks", "6", timeout=60
    )
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "1 tasks failed" in r.stdout and "KeyboardInterrupt" in r.stdout


@pytest.mark.timeout(60)
def test_a_run_where_every_task_succeeds_exits_0():
    r = concviz("run", "-w", "io-sleep", "-s", "threads", "--tasks", "4", "--task-ms", "5")
    assert r.returncode == 0, r.stderr


def _interrupt_after_start(args: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Start the CLI, wait until its lab runs tasks, send SIGINT: (result, seconds to exit)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "concviz", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    me = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        kids = me.children()
        # the lab has been up long enough to be inside the run
        if kids and time.time() - kids[0].create_time() > 1.5:
            break
        time.sleep(0.05)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    took = time.monotonic() - t0
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "workload,strategy",
    [
        ("cpu-python", "threads"),
        ("cpu-python", "process-pool"),
        (f"{FAULTS}:sleep_forever", "threads"),  # a task the stop cannot end
    ],
)
def test_ctrl_c_ends_a_run_within_a_second_with_130_and_no_traceback(workload, strategy):
    r, took = _interrupt_after_start(
        ["run", "-w", workload, "-s", strategy, "--tasks", "400", "--task-ms", "100"]
    )
    assert r.returncode == 130, (r.returncode, r.stderr)
    assert took < 1.5, f"Ctrl-C took {took:.2f} s"
    assert "Traceback" not in r.stderr and "ProtocolError" not in r.stderr, r.stderr
    assert r.stderr.strip() == "concviz: interrupted", r.stderr


@pytest.mark.timeout(60)
def test_ctrl_c_in_a_dense_event_stream_never_breaks_a_frame():
    # tiny tasks: the reader is almost always inside a frame when the signal lands
    r, took = _interrupt_after_start(
        ["run", "-w", "io-sleep", "-s", "thread-pool", "--tasks", "1000000", "--task-ms", "0"]
    )
    assert r.returncode == 130, (r.returncode, r.stderr)
    assert took < 1.5
    assert "Traceback" not in r.stderr and "frame" not in r.stderr, r.stderr


def test_a_reader_that_stops_early_gets_no_traceback():
    """``concviz run --json - | head -c 100``: the pipe closes under the JSON; the run
    ends quietly with 0, as other command-line tools do."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "concviz", "run", "--workload", "cpu-python", "--strategy",
         "threads", "--tasks", "3000", "--task-ms", "0.05", "--json", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    head = proc.stdout.read(100)
    proc.stdout.close()  # what `head` does once it has its bytes
    _, err = proc.communicate(timeout=120)
    assert head.startswith(b"{")
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()[-500:]
    assert proc.returncode == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", [[], ["--continuous", "--duration", "30"]])
def test_a_lab_killed_mid_run_fails_the_run_in_words_and_keeps_its_json(mode, tmp_path):
    """SIGKILL to the lab (the OOM killer, a user's ``kill -9``): exit 1, one line saying
    what ended it, and the JSON of what ran, with its wall and its last segment's end.
    (A continuous run printed a traceback here and wrote no JSON: the open segment had
    no end to print.)"""
    out = tmp_path / "run.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "concviz", "run", "-s", "process-pool", "--tasks", "2000",
         "--task-ms", "20", "--no-output", "--json", str(out), *mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    me = psutil.Process(proc.pid)
    deadline = time.monotonic() + 30
    lab = None
    while time.monotonic() < deadline and lab is None:
        kids = me.children()
        if kids and time.time() - kids[0].create_time() > 1.5 and kids[0].children():
            lab = kids[0]  # up, and its pool's workers are running tasks
        time.sleep(0.05)
    assert lab is not None, "the lab never started its workers"
    lab.kill()
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1, (proc.returncode, stderr)
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr[-1500:]
    assert "run failed: the lab ended unexpectedly (killed by SIGKILL)" in stdout, stdout
    run = json.loads(out.read_text())
    assert run["ok"] is False and "SIGKILL" in run["error"], run["error"]
    ended = [t["end_ns"] for t in run["tasks"]]
    assert ended, "the tasks that ran before the kill were lost"
    assert run["wall_s"] >= (max(ended) - min(t["start_ns"] for t in run["tasks"])) / 1e9
    if mode:
        assert run["segments"] and run["segments"][-1]["end_s"] is not None, run["segments"]
    else:  # a batch cut short says how many of the tasks asked for never ran
        never = 2000 - len(run["tasks"])
        assert f"({never} of 2000 never ran)" in stdout, stdout
