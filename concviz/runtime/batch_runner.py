"""Batch runs in labs of their own, one after another, off the GUI thread.

The GIL lenses (A/B, the GUI-freeze demo) run the same workload under several
interpreters and strategies. Each job starts a fresh lab under its interpreter,
runs one batch into a new ``EventStore`` and closes the lab; jobs run one at a time
so that they never compete for the cores they are measuring.

Threads: ``start``, ``stop`` and ``is_running`` run on the GUI thread (the owner's);
``_Worker.run`` runs on the runner's QThread. Signals are emitted from that thread
and delivered queued.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal

from concviz.lab import protocol as P
from concviz.model.event_store import EventStore

from .headless import BadInput, run_batch
from .lab_process import LabError, LabProcess


@dataclass
class Job:
    """One batch: the lab's ``start`` parameters and the interpreter to run it under."""

    params: dict
    interpreter: str | None = None
    label: str = ""
    extra: dict = field(default_factory=dict)  # anything the caller wants back
    # the store to fill (made on the caller's thread, so it can draw the run live);
    # None: a new one, handed over with ``jobFinished``
    store: EventStore | None = None


class _Worker(QThread):
    def __init__(self, runner: BatchRunner, jobs: list[Job]) -> None:
        super().__init__()
        self.setObjectName("concviz-batch-runner")
        self._runner = runner
        self._jobs = jobs

    def run(self) -> None:
        r = self._runner
        for i, job in enumerate(self._jobs):
            if r._stop.is_set():
                break
            store = job.store if job.store is not None else EventStore()
            try:
                lab = LabProcess(job.interpreter)
                with r._lock:
                    r._lab = lab
                lab.start()
                if r._stop.is_set():
                    lab.close(timeout=0.5)
                    break
                r.jobStarted.emit(i, lab.pid or 0)
                # a stuck task's lab is closed below; no need to restart it first
                run_batch(job.params, lab=lab, store=store, on_json=None, restart_if_stuck=False)
            except (LabError, BadInput) as exc:
                r.jobFailed.emit(i, str(exc))
                continue
            finally:
                with r._lock:
                    lab_now, r._lab = r._lab, None
                if lab_now is not None:
                    lab_now.close(timeout=0.5)
            r.jobFinished.emit(i, store)
        r.allFinished.emit()


class BatchRunner(QObject):
    """Runs a list of ``Job``s in order; a finished job's store arrives with ``jobFinished``."""

    jobStarted = Signal(int, int)  # job index, lab pid
    jobFinished = Signal(int, object)  # job index, EventStore
    jobFailed = Signal(int, str)  # job index, one sentence
    allFinished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: _Worker | None = None
        self._lab: LabProcess | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def is_running(self) -> bool:
        return self._worker is not None and self._worker.isRunning()

    def start(self, jobs: list[Job]) -> None:
        if self.is_running():
            raise RuntimeError("a batch is already running")
        self._stop.clear()
        self._worker = _Worker(self, list(jobs))
        self._worker.start()

    def stop(self) -> None:
        """Ask the current job to stop (the lab ends its run within 1 s) and skip the rest."""
        self._stop.set()
        with self._lock:
            lab = self._lab
        if lab is not None:
            try:
                lab.send(P.Stop())
            except LabError:
                pass

    def wait(self, ms: int = 5000) -> bool:
        """Block until the worker ended (for shutdown and tests, never from a GUI slot)."""
        return self._worker.wait(ms) if self._worker is not None else True
