"""``concviz sweep``: the JSON shape, the CSV, the session file, and bad flags in one
sentence with exit code 2; ``run --json`` carries its diagnoses."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(180)

POINT_KEYS = {"strategy", "wall_s", "wall_s_spread", "speedup", "efficiency", "karp_flatt"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args], capture_output=True, text=True, timeout=170
    )


def test_workers_sweep_json_csv_and_session(tmp_path):
    out, table, saved = tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.concviz"
    done = _cli(
        "sweep", "-w", "cpu-python", "-s", "threads", "--workers", "1,2", "--repeats", "2",
        "--tasks", "4", "--task-ms", "5", "--serial-fraction", "0.3",
        "--json", str(out), "--csv", str(table), "--save", str(saved),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sweep = json.loads(out.read_text())
    assert sweep["kind"] == "workers"
    assert [p["workers"] for p in sweep["points"]] == [1, 2]
    for p in sweep["points"]:
        assert POINT_KEYS <= set(p) and len(p["walls_s"]) == 2
    assert sweep["points"][0]["speedup"] == 1.0 and sweep["points"][0]["karp_flatt"] is None
    assert 0.0 <= sweep["amdahl_serial_fraction"] <= 1.0
    assert sweep["amdahl_serial_fraction_err"] is not None
    assert sweep["break_even_task_ms"] == {}
    rows = list(csv.DictReader(table.open()))
    assert [r["workers"] for r in rows] == ["1", "2"] and rows[1]["karp_flatt"]
    assert "Amdahl fit" in done.stdout
    info = json.loads(_cli("info", str(saved), "--json").stdout)
    assert len(info["runs"]) == 4  # every point's every repeat is a run of the session


def test_task_size_sweep_json(tmp_path):
    out = tmp_path / "g.json"
    done = _cli(
        "sweep", "-w", "cpu-python", "-s", "threads,process-pool", "--task-ms", "1,20",
        "--total-ms", "40", "--repeats", "1", "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sweep = json.loads(out.read_text())
    assert sweep["kind"] == "task_size"
    assert {(p["strategy"], p["task_ms"]) for p in sweep["points"]} == {
        (s, x) for s in ("threads", "process-pool") for x in (1.0, 20.0)
    }
    assert set(sweep["break_even_task_ms"]) == {"threads", "process-pool"}
    assert [p["task_ms"] for p in sweep["sequential"]] == [1.0, 20.0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--workers", "1,x"], "--workers takes whole numbers"),
        (["--workers", "0,2"], "worker counts must be 1 to"),
        (["-s", "threads,process-pool", "--workers", "1,2"], "one strategy"),
        (["--task-ms", "1,0"], "task sizes must be above 0"),
        (["--task-ms", "1,2", "--weak"], "--weak belongs"),
        (["--repeats", "0"], "repeats must be 1 to 50"),
        (["-s", "no-such-strategy", "--workers", "1"], "no-such-strategy"),
        (["--serial-fraction", "2"], "--serial-fraction"),
        (["--json", "/no/such/dir/x.json"], "cannot be written"),
    ],
)
def test_bad_flags_are_one_sentence_and_exit_2(args, words):
    done = _cli("sweep", "-w", "cpu-python", "--tasks", "2", "--task-ms", "1", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert words in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_run_json_carries_diagnoses(tmp_path):
    out = tmp_path / "r.json"
    done = _cli(
        "run", "-w", "cpu-python", "-s", "asyncio", "-n", "2", "--tasks", "4",
        "--task-ms", "60", "--json", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text())
    assert isinstance(run["diagnoses"], list)
    for d in run["diagnoses"]:
        assert set(d) == {"code", "title", "evidence", "advice"}
    assert "blocked-loop" in [d["code"] for d in run["diagnoses"]]
    assert "diagnosis [blocked-loop]" in done.stdout
