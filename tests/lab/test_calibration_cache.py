"""A calibration cache that went bad is measured again, never obeyed."""

from __future__ import annotations

import json
import math
import os

import pytest
from labkit import Session

from concviz.lab import protocol as P
from concviz.lab import workloads

GOOD = {"py_iters_per_ms": 9000.0, "native_chunks_per_ms": 5.0, "file_blocks_per_ms": 4.0}


@pytest.mark.parametrize(
    "cal, words",
    [
        ([1, 2, 3], "list"),
        ({**GOOD, "py_iters_per_ms": 0}, "py_iters_per_ms is 0"),
        ({**GOOD, "native_chunks_per_ms": -5.0}, "native_chunks_per_ms is -5.0"),
        ({**GOOD, "py_iters_per_ms": math.nan}, "py_iters_per_ms is nan"),
        ({**GOOD, "file_blocks_per_ms": 1e12}, "file_blocks_per_ms is 1000000000000.0"),
        ({**GOOD, "py_iters_per_ms": True}, "not a number"),
        ({k: v for k, v in GOOD.items() if k != "file_blocks_per_ms"}, "missing"),
    ],
)
def test_what_is_wrong_with_a_calibration_is_named(cal, words):
    why = workloads.calibration_problem(cal)
    assert why is not None and words in why


def test_a_sound_calibration_has_no_problem():
    assert workloads.calibration_problem(GOOD) is None


CORRUPT = {
    "a JSON list": b"[1, 2, 3]",
    "zero": json.dumps({**GOOD, "py_iters_per_ms": 0}).encode(),
    "NaN": b'{"py_iters_per_ms": NaN, "native_chunks_per_ms": 5, "file_blocks_per_ms": 4}',
    "1e12": json.dumps({**GOOD, "py_iters_per_ms": 1e12}).encode(),
    "negative": json.dumps({**GOOD, "native_chunks_per_ms": -1}).encode(),
    "not JSON": b"\x00\xffgarbage{",
    "deeply nested": b"[" * 100_000,
}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("content", CORRUPT.values(), ids=list(CORRUPT))
def test_the_next_run_recalibrates_says_so_and_works(content, tmp_path, monkeypatch):
    monkeypatch.setenv("CONCVIZ_CACHE", str(tmp_path))
    path = tmp_path / os.path.basename(workloads.calibration_path())
    path.write_bytes(content)
    s = Session()
    try:
        s.send(P.Start(workload="cpu-python", strategy="threads", workers=2, tasks=4, task_ms=5))
        notice = s.until_type("notice")
        assert "discarded" in notice["message"] and str(path) in notice["message"], notice
        assert "\n" not in notice["message"]
        started = s.until_type("run_started")
        assert workloads.calibration_problem(started["calibration"]) is None
        done = s.until_type("run_finished")
        assert done["ok"], done
    finally:
        s.close()
    # the cache was replaced with what was measured
    assert workloads.calibration_problem(json.loads(path.read_text())) is None


@pytest.mark.timeout(90)
def test_a_good_cache_is_used_as_is_without_a_notice(tmp_path, monkeypatch):
    monkeypatch.setenv("CONCVIZ_CACHE", str(tmp_path))
    path = tmp_path / os.path.basename(workloads.calibration_path())
    path.write_text(json.dumps(GOOD))
    s = Session()
    try:
        s.send(P.Start(workload="cpu-python", strategy="threads", tasks=2, task_ms=1))
        started = s.until_type("run_started")
        assert started["calibration"] == GOOD
        s.until_type("run_finished")
        assert not [o for o in s.seen if o.get("type") == "notice"]
    finally:
        s.close()


@pytest.mark.timeout(90)
def test_calibrate_measures_again_even_over_a_good_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONCVIZ_CACHE", str(tmp_path))
    path = tmp_path / os.path.basename(workloads.calibration_path())
    stale = {**GOOD, "py_iters_per_ms": 1.5}  # in range, but not this machine's
    path.write_text(json.dumps(stale))
    s = Session()
    try:
        s.send(P.Calibrate())
        answer = s.until_type("calibrate")
    finally:
        s.close()
    assert answer["path"] == str(path)
    assert answer["figures"]["py_iters_per_ms"] > 1.5 * 10
    assert json.loads(path.read_text()) == answer["figures"]
