"""CPU no task's clock sees (a library's native threads) is counted and named; a user
function's task size is measured, not the --task-ms nobody used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from parallelism import machine_parallelism, required_speedup

MATMUL = """
import numpy as np

_a = np.random.default_rng(0).random((700, 700))


def work(i):
    for _ in range(4):
        _a @ _a
"""


def test_blas_threads_cpu_is_counted_and_named(tmp_path, run_cli):
    pytest.importorskip("numpy")
    f = tmp_path / "mm.py"
    f.write_text(MATMUL)
    machine = machine_parallelism()
    # BLAS spreads each product over the cores: of the CPU the machine can give beside
    # one thread, at least half shows up outside the task's own thread
    need = required_speedup(machine, 0.5)
    env_free = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, "-m", "concviz", "run", "-w", f"{f}:work", "-s", "sequential",
         "--tasks", "6", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=180, env=env_free,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = json.loads((tmp_path / "r.json").read_text())
    assert run["process_cpu_s"] >= need * run["cpu_s"], (
        machine,
        run["process_cpu_s"],
        run["cpu_s"],
    )
    assert run["native_cpu_s"] > 0
    assert run["parallelism"] > run["cpu_s"] / run["wall_s"]  # the native CPU counts
    assert "native threads used" in done.stdout


def test_pure_python_has_no_native_cpu(tmp_path, run_cli):
    _, run = run_cli("-w", "cpu-python", "-s", "sequential", "--tasks", "8",
                  "--task-ms", "40")  # fmt: skip
    assert run["native_cpu_s"] == 0.0
    assert run["process_cpu_s"] > 0


def test_a_user_functions_task_size_is_measured(tmp_path, run_cli):
    f = tmp_path / "naps.py"
    f.write_text("import time\ndef nap(i):\n    time.sleep(0.02 + 0.01 * (i % 2))\n")
    done, run = run_cli("-w", f"{f}:nap", "-s", "threads", "-n", "2", "--tasks", "6",
                     "--task-ms", "999")  # fmt: skip
    m = run["task_ms_measured"]
    assert 18 <= m["min"] <= m["median"] <= m["max"] <= 60, m
    assert "999" not in done.stdout.splitlines()[0]  # the size nobody used is not shown
    assert "ms (median;" in done.stdout.splitlines()[0]
