"""What the app does with arguments that are not its own: one sentence, exit 2, no window."""

from __future__ import annotations

import subprocess
import sys

import pytest

from concviz import frozen
from concviz.cli import UsageError, _Parser
from concviz.ui.app import _qt_options


def _refused(*args: str) -> subprocess.CompletedProcess:
    # a window that opened would outlive the time-out (it stays open until closed)
    r = subprocess.run(
        [sys.executable, "-m", "concviz", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r


def test_python_options_are_refused_instead_of_opening_the_window():
    r = _refused("-m", "pip", "--version")
    assert "'-m pip' is an option of a Python interpreter" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [["--no-such-flag"], ["--presentation", "stray"]])
def test_unknown_window_arguments_are_refused(args):
    r = _refused(*args)
    assert repr(args[-1]) in r.stderr, r.stderr


def test_qt_options_with_their_values_pass_to_qt_and_others_do_not():
    parser = _Parser(prog="concviz")
    assert _qt_options(parser, ["-style", "Fusion", "-reverse"]) == ["-style", "Fusion", "-reverse"]
    for bad in (["-style"], ["-m", "pip"], ["file.txt"]):
        with pytest.raises(UsageError):
            _qt_options(parser, bad)


def test_a_frozen_app_runs_lokys_helpers_and_nothing_else(monkeypatch):
    assert frozen.helper(["-m", frozen.LOKY_WORKER, "--pipe", "5"]) is None  # not frozen here
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert frozen.helper(["-m", frozen.LOKY_WORKER, "--process-name", "x", "--pipe", "5"])
    tracker = "from joblib.externals.loky.backend.resource_tracker import main; main(7, False)"
    assert frozen.helper(["-B", "-s", "-c", tracker])
    assert frozen.helper(["-m", "pip", "--version"]) is None
    assert frozen.helper(["-m", frozen.LOKY_WORKER]) is None  # typed by hand: no pipe to read
    assert frozen.helper(["-c", tracker + "; import os"]) is None
    assert frozen.helper(["-c", "import os"]) is None
    said = frozen.python_option_refusal(["-m", "pip", "install", "joblib"])
    assert "no pip" in said and "Choose the lab's Python" in said, said
    assert frozen.python_option_refusal(["--presentation"]) is None
