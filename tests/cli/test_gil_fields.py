"""The GIL fields the window uses are in the headless run object too."""

from __future__ import annotations

import json
import subprocess
import sys


def run_json(workload: str) -> dict:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "concviz",
            "run",
            "-w",
            workload,
            "-s",
            "threads",
            "-n",
            "2",
            "--tasks",
            "8",
            "--task-ms",
            "80",
            "--json",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_cpu_python_threads_show_high_contention_io_sleep_low():
    cpu = run_json("cpu-python")
    io = run_json("io-sleep")
    assert all("cpu_ns" in t for t in cpu["tasks"])
    # the GIL read from outside: two Python spinners take turns, sleepers never queue
    assert cpu["gil"]["source"] == io["gil"]["source"] == "sampled"
    assert cpu["gil"]["contention"] >= 0.3, cpu["gil"]
    assert io["gil"]["contention"] < 0.15, io["gil"]
    assert set(cpu["gil"]["per_thread"]) == {"worker 1", "worker 2"}
    g_cpu, g_io = cpu["gil_contention"], io["gil_contention"]
    assert g_cpu["meter"].startswith("Python is running on")
    assert g_cpu["effective_parallelism"] <= 1.3  # one GIL: one core of Python at most
    assert g_io["effective_parallelism"] < 0.2
    assert io["native_cpu_s"] == 0.0  # the lab's own threads are not "native CPU"


def test_every_run_says_what_recording_and_watching_cost():
    run = run_json("cpu-python")
    estimate = run["recording_overhead_estimate"]
    # 8 tasks of 80 ms: 24 events are a vanishing share of 0.6 s of CPU
    assert estimate is not None and 0 < estimate < 0.01
    # and what watching it cost the CLI: some CPU (it read every frame), under a core
    watching = run["observer_core_fraction"]
    assert watching is not None and 0 < watching < 1.0
