"""For ``concviz bench startup``: report the moment the window is first painted, then quit.

Active only when ``CONCVIZ_STARTUP_PROBE`` is set; prints ``first-paint-ns N`` where N
is ``time.perf_counter_ns()`` (one system-wide monotonic clock), so the launcher can
subtract the moment it started the process.
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
        QApplication.instance().quit()


def install(window: QWidget) -> None:
    if os.environ.get(ENV):
        window.installEventFilter(_FirstPaint(window))
