"""Interpreter discovery off the GUI thread: probing each Python takes seconds.

Threads: ``start`` and ``results`` run on the GUI thread; the scan itself runs on a
QThread of its own and reports with ``scanned`` (queued).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal

from .interpreters import discover


class _Scan(QThread):
    def __init__(self, owner: InterpreterScan, extra: list[str]) -> None:
        super().__init__()
        self.setObjectName("concviz-interpreter-scan")
        self._owner = owner
        self._extra = extra

    def run(self) -> None:
        try:
            infos = discover(self._extra)
        except Exception as exc:  # a scan that breaks must not take the window down
            self._owner.scanFailed.emit(f"{type(exc).__name__}: {exc}")
            return
        self._owner.scanned.emit(infos)


class InterpreterScan(QObject):
    """Runs ``interpreters.discover`` in the background; ``scanned`` carries the list."""

    scanned = Signal(object)  # list[dict] as ``discover`` returns it
    scanFailed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _Scan | None = None
        self.results: list[dict] | None = None
        self.scanned.connect(self._keep)

    def _keep(self, infos: list[dict]) -> None:
        self.results = infos

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, extra: list[str] | None = None) -> None:
        if self.is_running():
            return
        self._thread = _Scan(self, list(extra or []))
        self._thread.start()

    def wait(self, ms: int = 30000) -> bool:
        """Block until the scan ended (shutdown and tests only)."""
        return self._thread.wait(ms) if self._thread is not None else True
