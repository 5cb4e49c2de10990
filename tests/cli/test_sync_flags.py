"""``concviz run`` with the sync workloads: a deadlock exits 1 naming it; bad knobs exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def concviz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-w", "shared-counter", "--sync", "sometimes"], ["--sync", "none", "sometimes"]),
        (["-w", "contended-lock", "--critical-fraction", "1.5"], ["--critical-fraction"]),
        (["-w", "bounded-pool", "--limit", "0"], ["--limit"]),
        (["-w", "cpu-python", "--sync", "lock"], ["--sync", "cpu-python"]),
        (["-w", "deadlock", "--sync", "lock"], ["deadlock", "ordered"]),
        (["-w", "barrier-phases", "--tasks", "5"], ["multiple of 2"]),
        (["-w", "map-reduce", "--tasks", "64"], ["odd number of tasks"]),
        (["-w", "pipeline", "--width", "5", "--tasks", "12"], ["5 stages", "multiple of 5"]),
        (["-w", "cpu-python", "--width", "3"], ["--width", "cpu-python"]),
        (["-w", "map-reduce", "--width", "3", "--tasks", "7"], ["--width", "--tasks alone"]),
    ],
)
def test_a_bad_knob_is_one_sentence_and_exit_2(args, words):
    r = concviz("run", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def test_a_deadlocked_run_exits_1_with_its_cycle_and_ordered_locks_exit_0(tmp_path):
    out = tmp_path / "run.json"
    r = concviz("run", "-w", "deadlock", "--tasks", "4", "--json", str(out))
    assert r.returncode == 1, r.stderr
    sentence = "deadlock: task 0 holds lock A and waits for lock B; task 1 holds lock B and waits for lock A"
    assert sentence in r.stdout
    run = json.loads(out.read_text())
    assert run["deadlock"]["description"] == sentence
    r = concviz("run", "-w", "deadlock", "--sync", "ordered", "--tasks", "4")
    assert r.returncode == 0, r.stdout + r.stderr


def test_width_shapes_a_pipeline(tmp_path):
    out = tmp_path / "run.json"
    args = ("-w", "pipeline", "--width", "3", "--tasks", "6", "--task-ms", "2")
    r = concviz("run", *args, "--json", str(out))
    assert r.returncode == 0, r.stderr
    deps = [t["deps"] for t in sorted(json.loads(out.read_text())["tasks"], key=lambda t: t["id"])]
    # item 1's stage s needs its own stage s-1 and item 0's stage s
    assert deps == [[], [0], [1], [0], [3, 1], [4, 2]]
