"""What every benchmark shares: the machine's description, robust statistics, and the
real main window the window benchmarks measure."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def machine() -> dict:
    """The facts a figure depends on: cores, interpreter, platform."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def rotated(items: list, shift: int) -> list:
    """``items`` rotated by ``shift``: interleaved repeats change who goes first."""
    k = shift % len(items)
    return items[k:] + items[:k]


@contextmanager
def bench_window(app, width: int, height: int, lab_timeout_s: float = 30.0) -> Iterator:
    """The real main window with settings of its own (a temporary file), shown at
    ``width`` × ``height`` once its lab has answered; closed and its lab ended after."""
    from PySide6.QtCore import QEventLoop, QSettings

    from concviz.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(os.path.join(tmp, "c.ini"), QSettings.Format.IniFormat)
        win = MainWindow(settings=settings)
        win.files.ask = False  # a benchmark's runs are not the user's to save
        win.resize(width, height)
        win.show()
        try:
            end = time.monotonic() + lab_timeout_s
            while not win.controls.strategy_buttons and time.monotonic() < end:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
                time.sleep(0.002)
            if not win.controls.strategy_buttons:
                raise RuntimeError(f"the lab did not start within {lab_timeout_s:.0f} s")
            yield win
        finally:
            win.close()
            win.shutdown()
