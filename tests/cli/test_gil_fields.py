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
    g_cpu, g_io = cpu["gil_contention"], io["gil_contention"]
    assert g_cpu["probe_samples"] > 0 and g_io["probe_samples"] > 0
    # a waking thread waits most of a switch interval behind two Python spinners
    assert g_cpu["level"] == "high", g_cpu
    assert g_io["level"] == "low", g_io
    assert g_cpu["meter"].startswith("Python is running on")
    assert 0.6 <= g_cpu["effective_parallelism"] <= 1.3
    assert g_io["effective_parallelism"] < 0.2
