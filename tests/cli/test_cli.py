"""The headless CLI as a user runs it: a real lab, real output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PY310 = Path.home() / ".pyenv/versions/3.10.13/bin/python3.10"


def concviz(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_json_has_every_field_and_one_entry_per_task(tmp_path):
    out = tmp_path / "run.json"
    r = concviz(
        "run",
        "-w",
        "io-sleep",
        "-s",
        "thread-pool",
        "-n",
        "3",
        "--tasks",
        "9",
        "--task-ms",
        "20",
        "--json",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert "parallelism" in r.stdout
    run = json.loads(out.read_text())
    for key in (
        "strategy",
        "workload",
        "workers",
        "interpreter",
        "wall_s",
        "cpu_s",
        "parallelism",
        "tasks",
    ):
        assert key in run
    assert run["strategy"] == "thread-pool" and run["workers"] == 3
    assert set(run["interpreter"]) >= {"version", "free_threaded", "gil_enabled"}
    assert sorted(t["id"] for t in run["tasks"]) == list(range(9))
    for t in run["tasks"]:
        assert set(t) >= {
            "id",
            "worker",
            "pid",
            "tid",
            "start_ns",
            "end_ns",
            "cpu_ns",
            "ok",
            "error",
        }
        assert t["start_ns"] < t["end_ns"] and t["ok"] and t["cpu_ns"] >= 0
    assert run["parallelism"] == pytest.approx(run["cpu_s"] / run["wall_s"])


def test_json_to_stdout_is_pure_json():
    r = concviz(
        "run",
        "-w",
        "cpu-python",
        "-s",
        "sequential",
        "--tasks",
        "3",
        "--task-ms",
        "5",
        "--json",
        "-",
    )
    assert r.returncode == 0, r.stderr
    run = json.loads(r.stdout)
    assert len(run["tasks"]) == 3
    assert sum(t["cpu_ns"] for t in run["tasks"]) > 0


def test_trace_has_a_track_per_worker_and_an_event_per_task(tmp_path):
    trace = tmp_path / "t.json"
    r = concviz(
        "run",
        "-w",
        "io-sleep",
        "-s",
        "threads",
        "-n",
        "2",
        "--tasks",
        "6",
        "--task-ms",
        "10",
        "--trace",
        str(trace),
    )
    assert r.returncode == 0, r.stderr
    events = json.loads(trace.read_text())["traceEvents"]
    tasks = [e for e in events if e["ph"] == "X"]
    assert sorted(e["args"]["task"] for e in tasks) == list(range(6))
    assert len({e["tid"] for e in tasks}) == 2
    assert all(e["dur"] > 0 for e in tasks)


def test_compare_adds_speedup_and_efficiency():
    r = concviz(
        "compare",
        "-w",
        "io-sleep",
        "-s",
        "threads,asyncio",
        "-n",
        "4",
        "--tasks",
        "8",
        "--task-ms",
        "40",
        "--json",
        "-",
    )
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)
    assert [x["strategy"] for x in runs] == ["sequential", "threads", "asyncio"]
    assert runs[0]["speedup"] == pytest.approx(1.0)
    for run in runs[1:]:
        assert run["speedup"] > 1.5  # 4 sleepers at once: far faster than one by one
        assert run["efficiency"] == pytest.approx(run["speedup"] / 4)


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "-n", "0"], "workers"),
        (["run", "--task-ms", "-5"], "--task-ms"),
        (["run", "-s", "warp-drive"], "unknown strategy"),
        (["run", "-w", "quantum"], "unknown workload"),
        (["run", "--tasks", "many"], "invalid int"),
        (["run", "--interpreter", "/no/such/python"], "does not exist"),
        (["run", "-w", "/no/such/file.py:work"], "does not exist"),
        (
            ["run", "--json", "/no/such/dir/x.json", "--tasks", "1", "--task-ms", "1"],
            "cannot be written",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(args, words):
    r = concviz(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not PY310.exists(), reason=f"needs pyenv's Python 3.10 at {PY310}")
def test_strategies_under_another_interpreter_say_why_not():
    r = concviz("strategies", "--interpreter", str(PY310), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["interpreter"]["version"].startswith("3.10")
    by_name = {s["name"]: s for s in data["strategies"]}
    assert by_name["threads"]["available"]
    assert not by_name["interpreter-pool"]["available"]
    assert "3.12" in by_name["interpreter-pool"]["reason"]
