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
    """Runs specs in a lab and keeps each as a run of ``session``.

    ``post``: how a change reaches the session when it belongs to another thread
    (the window's, whose views listen to it). None changes it at once, on the
    calling thread (the CLI); the window passes a function that queues the change to
    the GUI thread (``BatchRunner``). Changes are posted in order, so a run is
    always added before it is finished or removed.

    ``before_finish(run)`` runs where the session's changes run, just before a run
    is finished: the window keeps the run's per-core CPU from its own sampler there.
    """

    def __init__(
        self,
        session: Session,
        *,
        interpreter: str | None = None,
        lab: LabProcess | None = None,
        observe: bool = False,
        on_json: Callable[[dict], None] | None = None,
        post: Callable[[Callable[[], None]], None] | None = None,
        before_finish: Callable[[Run], None] | None = None,
    ) -> None:
        self.session = session
        self.interpreter = interpreter
        self.lab = lab  # None: each run gets a lab of its own
        self.observe = observe
        self.on_json = on_json
        self.post = post
        self.before_finish = before_finish
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._running: LabProcess | None = None
        # a lab launched ahead (``launch_ahead``) for the next run that starts its own
        # under the same interpreter: it boots while the caller does other work
        self._next_lab: tuple[str | None, LabProcess] | None = None

    def launch_ahead(self, lab: LabProcess, interpreter: str | None = None) -> None:
        """Give the next run that starts a lab of its own under ``interpreter`` this
        one, launched already (``LabProcess.launch``). A run under another interpreter
        closes it and starts its own."""
        self._next_lab = (interpreter, lab)

    def _own_lab(self, interpreter: str | None) -> LabProcess:
        ahead, self._next_lab = self._next_lab, None
        if ahead is not None:
            if ahead[0] == interpreter:
                return ahead[1]
            ahead[1].close(timeout=0.5)
        return LabProcess(interpreter)

    def _change(self, fn: Callable[[], None]) -> None:
        if self.post is None:
            fn()
        else:
            self.post(fn)

    def run(
        self,
        spec: P.Start | dict,
        name: str | None = None,
        *,
        store: EventStore | None = None,
        interpreter: str | None = None,
        on_lab: Callable[[Run, LabProcess], None] | None = None,
        script=None,
        meta: dict | None = None,
    ) -> Run:
        """Run ``spec`` to its end; the run (failed, with the reason, if the lab died).

        ``store``: the store to fill (one the caller already draws), else a new one.
        ``interpreter``: this run's Python when the driver starts its labs (else the
        driver's). ``on_lab(run, lab)`` is called on this thread once the lab is up.
        ``script``: timed messages for a continuous run (``run_batch``). ``meta`` is
        kept on the run from its start (a sweep's tag on each of its points).

        Raises BadInput (one sentence) when the lab refuses the spec: such a run never
        started, and it is not kept.
        """
        start = as_start(spec)
        store = store if store is not None else EventStore()
        cpu = CpuSamples() if self.observe else None  # the run's per-core CPU, kept
        run = Run(id=0, name=name or "", spec=start, store=store, meta=dict(meta or {}))
        session = self.session
        self._change(lambda: session.add_run(run))
        lab = self.lab
        own = lab is None
        try:
            if own:
                lab = self._own_lab(interpreter or self.interpreter)
                lab.start()
            with self._lock:
                self._running = lab
            if self.cancel.is_set():
                raise _Cancelled
            if on_lab is not None:
                on_lab(run, lab)
            # a lab of the driver's own is closed anyway: no need to restart a stuck one
            run_batch(
                start,
                lab=lab,
                store=store,
                on_json=self.on_json,
                observe=self.observe,
                cpu=cpu,
                restart_if_stuck=not own,
                script=script,
            )
            result = run_object(store)
        except _Cancelled:
            self._change(lambda: session.remove(run))
            raise
        except LabError as exc:
            if not store.runs:
                self._change(lambda: session.remove(run))
                raise
            result = run_object(store)
            result["ok"], result["error"] = False, str(exc)
            run.meta["interrupted"] = True
        except BaseException:
            self._change(lambda: session.remove(run))
            raise
        finally:
            with self._lock:
                self._running = None
            if own and lab is not None:
                lab.close(timeout=0.5)
        if cpu is not None:
            run.cpu = cpu

        def finish() -> None:
            if self.before_finish is not None:
                self.before_finish(run)
            session.finish(run, result)

        self._change(finish)
        return run

    def run_all(
        self,
        specs: list[P.Start | dict],
        on_started: Callable[[int, Run], None] | None = None,
        on_finished: Callable[[int, Run], None] | None = None,
    ) -> list[Run]:
        """Run every spec in order until done or cancelled; the runs that finished.

        ``on_started(i, run)`` is called once spec ``i``'s lab is up, and
        ``on_finished(i, run)`` once it ended, both on this thread.
        """
        done: list[Run] = []
        for i, spec in enumerate(specs):
            if self.cancel.is_set():
                break
            hook = None if on_started is None else (lambda run, _lab, i=i: on_started(i, run))
            try:
                run = self.run(spec, on_lab=hook)
            except _Cancelled:
                break
            done.append(run)
            if on_finished is not None:
                on_finished(i, run)
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
