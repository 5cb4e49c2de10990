"""``concviz calibrate`` and a run over a calibration cache that went bad."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from concviz.lab import workloads


def concviz(*args: str, cache) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONCVIZ_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CONCVIZ_CACHE", str(tmp_path))
    return tmp_path / os.path.basename(workloads.calibration_path())


def test_calibrate_prints_the_figures_and_saves_them(tmp_path, monkeypatch):
    path = cache_file(tmp_path, monkeypatch)
    r = concviz("calibrate", cache=tmp_path)
    assert r.returncode == 0, r.stderr
    assert str(path) in r.stdout and "loop steps per ms" in r.stdout
    saved = json.loads(path.read_text())
    assert workloads.calibration_problem(saved) is None
    assert f"{saved['py_iters_per_ms']:.1f}" in r.stdout


def test_calibrate_json(tmp_path, monkeypatch):
    cache_file(tmp_path, monkeypatch)
    r = concviz("calibrate", "--json", cache=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert workloads.calibration_problem(data["figures"]) is None
    assert data["interpreter"]["version"]


def test_a_run_over_a_corrupt_cache_says_so_in_one_line_and_succeeds(tmp_path, monkeypatch):
    path = cache_file(tmp_path, monkeypatch)
    path.write_text(json.dumps({"py_iters_per_ms": 1e12}))
    r = concviz("run", "--tasks", "2", "--task-ms", "5", cache=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "calibration" in ln]
    assert len(lines) == 1 and "discarded" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert workloads.calibration_problem(json.loads(path.read_text())) is None
