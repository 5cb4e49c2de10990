"""Fixtures for the CLI's tests: ``concviz run`` in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture
def run_cli(tmp_path):
    """``run_cli(*args)``: ``concviz run ARGS --json FILE``, which must exit 0; (process, JSON)."""

    def run(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
        out = tmp_path / "run.json"
        done = subprocess.run(
            [sys.executable, "-m", "concviz", "run", *args, "--json", str(out)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        return done, json.loads(out.read_text())

    return run
