"""One run driver: executes run specs one after another and feeds a Session.

The CLI's ``run`` and ``compare``, the window's Compare all (through ``BatchRunner``),
and later sweeps and lessons all run a list of :class:`~concviz.lab.protocol.Start`
specs the same way: each becomes a :class:`~concviz.model.session.Run` the moment
it starts (listeners see it grow), and is finished with its result when the lab
reports its end, or with the reason when the lab died. Sessions are also fed by
the other sources, which need no lab: a saved session (``interop.session_file``)
and a trace another tool wrote (``interop.trace_import``), through ``Session.add_run``.

Threads: ``run`` and ``run_all`` block; call them from the CLI's main thread or a
worker thread (``BatchRunner``), never the GUI thread. ``cancel`` may be set from
any thread: the run going on is stopped and no further one starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from concviz.lab import protocol as P
from concviz.model import run_object
from concviz.model.event_store import EventStore
from concviz.model.session import CpuSamples, Run, Session

from .headless import as_start, run_batch
from .lab_process import LabError, LabProcess


class RunDriver:
    """Runs specs in a lab and keeps each as a run of ``session``."""

    def __init__(
        self,
        session: Session,
        *,
        interpreter: str | None = None,
        lab: LabProcess | None = None,
        observe: bool = False,
        on_json: Callable[[dict], None] | None = None,
    ) -> None:
        self.session = session
        self.interpreter = interpreter
        self.lab = lab  # None: each run gets a lab of its own
        self.observe = observe
        self.on_json = on_json
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._running: LabProcess | None = None

    def run(self, spec: P.Start | dict, name: str | None = None) -> Run:
        """Run ``spec`` to its end; the run (failed, with the reason, if the lab died).

        Raises BadInput (one sentence) when the lab refuses the spec: such a run never
        started, and it is not kept.
        """
        start = as_start(spec)
        store = EventStore()
        cpu = CpuSamples() if self.observe else None  # the run's per-core CPU, kept
        run = self.session.new_run(start, store, name=name)
        lab = self.lab
        own = lab is None
        try:
            if own:
                lab = LabProcess(self.interpreter)
                lab.start()
            with self._lock:
                self._running = lab
            if self.cancel.is_set():
                raise _Cancelled
            run_batch(
                start, lab=lab, store=store, on_json=self.on_json, observe=self.observe, cpu=cpu
            )
            result = run_object(store)
        except _Cancelled:
            self.session.remove(run)
            raise
        except LabError as exc:
            if not store.runs:
                self.session.remove(run)
                raise
            result = run_object(store)
            result["ok"], result["error"] = False, str(exc)
        except BaseException:
            self.session.remove(run)
            raise
        finally:
            with self._lock:
                self._running = None
            if own and lab is not None:
                lab.close()
        if cpu is not None:
            run.cpu = cpu
        self.session.finish(run, result)
        return run

    def run_all(
        self,
        specs: list[P.Start | dict],
        on_started: Callable[[int, Run], None] | None = None,
        on_finished: Callable[[int, Run], None] | None = None,
    ) -> list[Run]:
        """Run every spec in order until done or cancelled; the runs that finished."""
        done: list[Run] = []
        unlisten = None
        if on_started is not None:
            index = [0]

            def started(event: str, run: Run | None) -> None:
                if event == "added" and run is not None:
                    on_started(index[0], run)

            unlisten = self.session.listen(started)
        try:
            for i, spec in enumerate(specs):
                if self.cancel.is_set():
                    break
                if on_started is not None:
                    index[0] = i
                try:
                    run = self.run(spec)
                except _Cancelled:
                    break
                done.append(run)
                if on_finished is not None:
                    on_finished(i, run)
        finally:
            if unlisten is not None:
                unlisten()
        return done

    def stop(self) -> None:
        """Stop the run going on and start no other (any thread)."""
        self.cancel.set()
        with self._lock:
            lab = self._running
        if lab is not None:
            try:
                lab.send(P.Stop())
            except (OSError, LabError):
                pass


class _Cancelled(Exception):
    """The driver was stopped before a run began."""
