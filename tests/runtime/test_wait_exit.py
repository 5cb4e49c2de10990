"""Closing a lab waits for its exit on a pidfd (where Linux has one), else by polling."""

from __future__ import annotations

import subprocess
import sys

from concviz.runtime.lab_process import _wait_exit


def test_an_exit_is_reaped_and_a_process_that_does_not_exit_is_left_running():
    quick = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    _wait_exit(quick, timeout=10.0)
    assert quick.returncode == 0  # waited for, and reaped
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _wait_exit(slow, timeout=0.3)
        assert slow.returncode is None and slow.poll() is None  # given up on, not killed
    finally:
        slow.kill()
        slow.wait()
    # one already reaped: no pidfd to open, and nothing to wait for
    _wait_exit(quick, timeout=10.0)
    assert quick.returncode == 0
