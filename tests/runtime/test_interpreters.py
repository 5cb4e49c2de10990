"""Interpreter discovery reads what each Python is by running it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from concviz.runtime.interpreters import discover, find_free_threaded, probe

PYENV = Path.home() / ".pyenv" / "versions"


def pyenv_versions() -> list[str]:
    if not PYENV.is_dir():
        return []
    return sorted(p.name for p in PYENV.iterdir() if p.name.startswith("3.1"))


@pytest.mark.skipif(not pyenv_versions(), reason=f"no CPython 3.1x installed under {PYENV}")
def test_cli_lists_every_pyenv_python_with_facts_read_by_running_it():
    r = subprocess.run(
        [sys.executable, "-m", "concviz", "interpreters", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    infos = json.loads(r.stdout)
    by_version = {i.get("version"): i for i in infos}
    for version in pyenv_versions():
        info = by_version.get(version)
        assert info is not None, f"pyenv's {version} was not listed"
        assert isinstance(info["free_threaded"], bool)
        assert isinstance(info["gil_enabled"], bool)
        if info["supported"]:
            assert "threads" in info["strategies"]
            sub_ok = info["strategies"]["interpreter-pool"] is None
            assert sub_ok == (tuple(map(int, version.split(".")[:2])) >= (3, 12))


def test_probe_reports_this_interpreter_truthfully():
    info = probe(sys.executable)
    assert info["supported"]
    assert info["version"] == ".".join(map(str, sys.version_info[:3]))
    gil_check = getattr(sys, "_is_gil_enabled", None)
    assert info["gil_enabled"] == (bool(gil_check()) if gil_check else True)


def test_a_path_that_is_not_python_is_reported_not_usable(tmp_path):
    fake = tmp_path / "python3.99t"  # a name that says free-threaded; running it says otherwise
    fake.write_text("#!/bin/sh\necho not python\n")
    fake.chmod(0o755)
    infos = discover([str(fake)])
    mine = [i for i in infos if i["path"] == str(fake.resolve())]
    assert mine and not mine[0]["supported"]
    assert "free_threaded" not in mine[0] or mine[0]["free_threaded"] is False


def test_free_threaded_build_reports_no_gil():
    ft = find_free_threaded()
    if ft is None:
        pytest.skip(
            "no free-threaded CPython (python3.13t/3.14t) found on PATH, in pyenv or uv, "
            "and CONCVIZ_FT_PYTHON is not set"
        )
    assert ft["free_threaded"] is True
    assert ft["gil_enabled"] is False
