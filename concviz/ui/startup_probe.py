"""For ``concviz bench startup``: report the moment the window is first painted, and the
moment it can run (its lab answered and the strategies are shown), then quit.

Active only when ``CONCVIZ_STARTUP_PROBE`` is set; prints ``first-paint-ns N`` and
``ready-ns N`` where N is ``time.perf_counter_ns()`` (one system-wide monotonic clock),
so the launcher can subtract the moment it started the process. A lab that never
answers gives no ready line: the probe quits 30 s after the first paint.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

ENV = "CONCVIZ_STARTUP_PROBE"


class _FirstPaint(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._done = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            t = time.perf_counter_ns()
            # after this paint has finished, report and leave
            QTimer.singleShot(0, lambda: self._report(t))
        return False

    def _report(self, t: int) -> None:
        sys.stdout.write(f"first-paint-ns {t}\n")
        sys.stdout.flush()
        self._give_up = time.monotonic() + 30.0
        self._wait_ready()

    def _wait_ready(self) -> None:
        controls = getattr(self.parent(), "controls", None)
        if controls is not None and controls.strategy_buttons:
            sys.stdout.write(f"ready-ns {time.perf_counter_ns()}\n")
            sys.stdout.flush()
        elif time.monotonic() < self._give_up:
            QTimer.singleShot(5, self._wait_ready)
            return
        QApplication.instance().quit()


def install(window: QWidget) -> None:
    if os.environ.get(ENV):
        window.installEventFilter(_FirstPaint(window))
