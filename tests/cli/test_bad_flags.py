"""Bad input to ``concviz run``: exit code 2, one sentence, no traceback, no run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

PYENV = Path.home() / ".pyenv" / "versions"


def concviz(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "concviz", *args], capture_output=True, text=True, timeout=120
    )


def assert_refused(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-1", "60001", "1e12"])
def test_a_task_size_that_is_not_a_finite_minute_or_less_is_refused(value):
    r = concviz("run", "--tasks", "1", "--task-ms", value)
    assert_refused(r, "--task-ms")


@pytest.mark.parametrize("flag", ["--json", "--trace"])
def test_an_output_in_a_missing_folder_is_refused_before_the_run(flag, tmp_path):
    dest = tmp_path / "no" / "such" / "out.json"
    t0 = time.monotonic()
    # 40 tasks of 1 s would take 20 s: refusing first means no lab ever ran them
    r = concviz("run", "-w", "io-sleep", "--tasks", "40", "--task-ms", "1000", flag, str(dest))
    assert time.monotonic() - t0 < 15
    assert_refused(r, flag, "does not exist")
    assert not dest.exists()


@pytest.mark.parametrize("flag", ["--json", "--trace"])
def test_an_output_that_is_a_folder_is_refused(flag, tmp_path):
    r = concviz("run", "-w", "io-sleep", "--tasks", "40", "--task-ms", "1000", flag, str(tmp_path))
    assert_refused(r, flag, "is a folder")


def test_compare_refuses_a_json_path_that_cannot_be_written(tmp_path):
    r = concviz("compare", "--tasks", "1", "--task-ms", "1", "--json", str(tmp_path / "x" / "y"))
    assert_refused(r, "--json")


@pytest.mark.parametrize("minor", ["3.9", "3.8"])
def test_an_interpreter_older_than_3_10_is_named_in_one_sentence(minor):
    found = sorted(PYENV.glob(f"{minor}.*/bin/python{minor}"))
    if not found:
        pytest.skip(f"no Python {minor} under {PYENV}")
    r = concviz("run", "--tasks", "1", "--task-ms", "1", "--interpreter", str(found[-1]))
    assert_refused(r, f"is Python {minor}.", "needs Python 3.10 or newer")


@pytest.mark.parametrize(
    "flags, words",
    [
        (("--json", "-", "--trace", "-"), ("--json -", "--trace -")),
        (("--save", "-"), ("--save",)),
    ],
)
def test_stdout_is_given_to_one_document_only(flags, words):
    r = concviz("run", "-w", "io-sleep", "--tasks", "40", "--task-ms", "1000", *flags)
    assert_refused(r, *words)


def test_a_trace_can_go_to_stdout(tmp_path):
    """``--trace -`` writes the Chrome trace to stdout (it made a file named "-")."""
    import json

    r = subprocess.run(
        [sys.executable, "-m", "concviz", "run", "--tasks", "4", "--task-ms", "1", "--trace", "-"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert sum(1 for e in doc["traceEvents"] if e.get("ph") == "X") >= 4
    assert not (tmp_path / "-").exists()
