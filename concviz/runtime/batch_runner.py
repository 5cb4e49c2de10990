"""Batch runs in labs of their own, one after another, off the GUI thread.

The window's Compare all and the GIL lenses (A/B, the GUI-freeze demo) run the
same workload under several strategies and interpreters. The jobs go through the
one run driver (``runtime.driver.RunDriver``): each starts a fresh lab under its
interpreter, runs one batch into its run's ``EventStore`` and closes the lab; jobs
run one at a time so that they never compete for the cores they are measuring.

Threads: ``start``, ``stop`` and ``is_running`` run on the GUI thread (the owner's);
``_Worker.run`` runs the driver on the runner's QThread. Signals are emitted from
that thread and delivered queued; so are the driver's session changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QThread, Signal

from concviz.model.event_store import EventStore
from concviz.model.session import Run, Session

from .driver import RunDriver, _Cancelled
from .headless import BadInput
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
        driver = r._driver
        for i, job in enumerate(self._jobs):
            if driver.cancel.is_set():
                break

            def started(run: Run, lab: LabProcess, i: int = i) -> None:
                r.jobStarted.emit(i, run, lab.pid or 0)

            try:
                run = driver.run(
                    job.params,
                    store=job.store,
                    interpreter=job.interpreter,
                    on_lab=started,
                )
            except _Cancelled:
                break
            except (LabError, BadInput) as exc:
                r.jobFailed.emit(i, str(exc))
                continue
            r.jobFinished.emit(i, run)
        r.allFinished.emit()


class BatchRunner(QObject):
    """Runs a list of ``Job``s in order through a ``RunDriver``, into ``session``.

    Each job becomes a run of ``session`` (a private one when None), added and
    finished on the GUI thread: the driver posts its changes here, so the session's
    listeners (the runs panel, the compare view) only ever hear from the GUI thread.
    ``before_finish(run)`` runs there just before a run is finished.
    """

    jobStarted = Signal(int, object, int)  # job index, its Run, the lab's pid
    jobFinished = Signal(int, object)  # job index, its finished Run
    jobFailed = Signal(int, str)  # job index, one sentence
    allFinished = Signal()
    _change = Signal(object)  # a session change posted by the driver's thread

    def __init__(
        self,
        parent: QObject | None = None,
        session: Session | None = None,
        before_finish: Callable[[Run], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._own_session = session is None  # a lens's: its runs are dropped at each start
        self.session = session if session is not None else Session()
        self._change.connect(self._apply, Qt.ConnectionType.QueuedConnection)
        self._driver = RunDriver(self.session, post=self._change.emit, before_finish=before_finish)
        self._worker: _Worker | None = None

    def _apply(self, fn) -> None:
        fn()

    def is_running(self) -> bool:
        return self._worker is not None and self._worker.isRunning()

    def start(self, jobs: list[Job]) -> None:
        if self.is_running():
            raise RuntimeError("a batch is already running")
        self._driver.cancel.clear()
        if self._own_session:
            self.session.clear()
        self._worker = _Worker(self, list(jobs))
        self._worker.start()

    def stop(self) -> None:
        """Ask the current job to stop (the lab ends its run within 1 s) and skip the rest."""
        self._driver.stop()

    def wait(self, ms: int = 5000) -> bool:
        """Block until the worker ended (for shutdown and tests, never from a GUI slot)."""
        return self._worker.wait(ms) if self._worker is not None else True
