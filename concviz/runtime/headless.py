"""Running the lab without a window: one batch run into an EventStore (CLI, tests, benches)."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from concviz.lab import protocol as P
from concviz.model.event_store import EventStore
from concviz.model.metrics import ObserverClock
from concviz.model.session import CpuSamples

from .lab_process import BadInput, LabError, LabProcess


def as_start(params: P.Start | dict) -> P.Start:
    """The typed start message for ``params``; raises BadInput naming a bad field."""
    if isinstance(params, P.Start):
        return params
    try:
        return P.Start.from_params(params)
    except P.ControlError as exc:
        raise BadInput(str(exc)) from None


def run_batch(
    params: P.Start | dict,
    interpreter: str | None = None,
    lab: LabProcess | None = None,
    store: EventStore | None = None,
    on_json: Callable[[dict], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    restart_if_stuck: bool = True,
    observe: bool = False,
    cpu: CpuSamples | None = None,
    script: Sequence[tuple[float, P.Message]] | None = None,
) -> EventStore:
    """Start a run with ``params`` (the lab's ``start`` message) and read it to the end.

    Uses ``lab`` when given (left running), else starts and closes a lab of its own.
    Raises BadInput when the parameters are malformed or the lab refuses them,
    LabError when it dies (the store read so far on the exception's ``store``),
    KeyboardInterrupt after a Ctrl-C has stopped the run.

    ``observe`` also watches the run from outside, as the window does: every lab
    thread's state at 200 Hz (``store.waits``: the GIL, CPU and I/O waits) and the
    cores other programs used meanwhile (``store.machine_busy_cores``); with ``cpu``
    given, the per-core CPU samples of the run's span are put there too (for a session).

    ``script``: messages to send at set times after the run started (a continuous
    run's live switches and its stop, ``runtime.continuous``).

    A run that ends with a thread stuck in a task (the lab abandoned it) leaves that
    lab unclean: a lab given by the caller is restarted at once (unless
    ``restart_if_stuck`` is False: the caller closes it anyway), and ``on_notice``
    (stderr by default) gets one line saying so, so the next run just works.
    """
    start = as_start(params)  # before a lab is started for nothing
    own = lab is None
    if lab is None:
        lab = LabProcess(interpreter)
        lab.start()
    store = store if store is not None else EventStore()
    if store.hello is None and lab.hello is not None:
        store.add_json(lab.hello)
    finished: dict | None = None
    observer = _Observer(lab.pid, store, cpu) if observe and lab.pid else None
    if observer is not None and observer.sampled and "gil_probe" not in start.options:
        # read from outside: the probe thread would only take the GIL from the workers
        start = dataclasses.replace(start, options={**start.options, "gil_probe": False})
    watching = ObserverClock()
    player = None
    if script:
        from .continuous import ScriptPlayer

        player = ScriptPlayer(script, lab.send)
    try:
        with _StopOnInterrupt(lab) as interrupt:
            lab.send(start)
            while True:
                frame = lab.read_frame()
                if frame is None:
                    if interrupt.fired:
                        raise KeyboardInterrupt
                    raise LabError(lab.died_reason())
                obj = store.add_frame(*frame)
                if obj is None:
                    continue
                if on_json is not None:
                    on_json(obj)
                if obj.get("type") == "error" and obj.get("cmd") == "start":
                    raise BadInput(obj["message"])
                if obj.get("type") == "run_started":
                    watching = ObserverClock()  # from the run's start, not the lab's
                    if player is not None:
                        player.start()
                if obj.get("type") == "run_finished":
                    finished = obj
                    store.observer_core_fraction = watching.core_fraction()
                    break
        if interrupt.fired:
            raise KeyboardInterrupt
    except LabError as exc:
        exc.store = store  # type: ignore[attr-defined] - what was recorded stays usable
        raise
    except KeyboardInterrupt:
        if own:
            lab.close(timeout=0.2)  # the user is waiting: no tidy shutdown
        raise
    finally:
        if player is not None:
            player.close()
        if observer is not None:
            observer.close()
        if own:
            lab.close()
    if finished is not None and finished.get("stuck") and not own and restart_if_stuck:
        stuck = ", ".join(finished["stuck"])
        lab.restart()
        (on_notice or _to_stderr)(
            f"concviz: a task would not stop (stuck in {stuck}); the lab was restarted"
        )
    return store


class _Observer:
    """The window's two outside views of a run, for a headless one (see ``run_batch``)."""

    def __init__(self, lab_pid: int, store: EventStore, cpu: CpuSamples | None = None) -> None:
        from concviz.model.wait_states import WaitSamples

        from .cpu_sampler import CpuSampler
        from .wait_sampler import WaitSampler

        self.store = store
        self.cpu_out = cpu
        store.waits = WaitSamples()
        self.waits = WaitSampler(
            lab_pid, samples=store.waits, gil_layout=(store.hello or {}).get("gil_layout")
        )
        self.sampled = WaitSampler.unavailable_reason(lab_pid) is None
        self.cpu = CpuSampler(hz=10.0, capacity_s=3600)
        self.cpu.set_lab_pid(lab_pid)
        self.waits.start()
        self.cpu.start()

    def close(self) -> None:
        self.waits.stop()
        self.cpu.stop()
        if self.store.runs and self.store.runs[-1].finished:
            info = self.store.runs[-1]
            span = int(info.started["t_ns"]), int(info.finished["t_ns"])
            self.store.machine_busy_cores = self.cpu.series.others_between(*span)
            if self.cpu_out is not None:
                kept = self.cpu.series.samples_between(*span)
                out = self.cpu_out
                out.t_ns, out.percent, out.others, out.lab = (
                    kept.t_ns,
                    kept.percent,
                    kept.others,
                    kept.lab,
                )


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr)


class _StopOnInterrupt:
    """While a run is read: Ctrl-C sends ``stop`` instead of raising mid-frame.

    A KeyboardInterrupt raised inside a frame read left half a frame in the pipe,
    and the next read took payload bytes for a header (``unknown frame kind``). The
    handler only asks for the stop (from a thread, as the interrupted code may hold
    the send lock) and the read goes on to ``run_finished``. The lab ends a stop
    within a second; should it not, the lab is killed so the read ends anyway. A
    second Ctrl-C does not wait at all. Only the main thread can take signals: in
    other threads this does nothing.
    """

    GIVE_UP_S = 1.5

    def __init__(self, lab: LabProcess) -> None:
        self._lab = lab
        self._previous = None
        self._installed = False
        self._late: threading.Timer | None = None
        self.fired = False

    def __enter__(self) -> _StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
        if self._late is not None:
            self._late.cancel()  # the run ended in time: the lab lives on

    def _on_sigint(self, signum, frame) -> None:
        lab = self._lab
        if self.fired:  # the second Ctrl-C: end the lab now, the read sees its end
            threading.Thread(target=lab.kill, daemon=True).start()
            return
        self.fired = True

        def stop() -> None:
            try:
                lab.send(P.Stop())
            except LabError:
                pass

        threading.Thread(target=stop, name="concviz-stop", daemon=True).start()
        self._late = threading.Timer(self.GIVE_UP_S, lab.kill)
        self._late.daemon = True
        self._late.start()


def query(lab: LabProcess, cmd: str, on_json: Callable[[dict], None] | None = None) -> dict:
    """Ask the lab one question (``strategies``, ``workloads``, ``calibrate``); its answer.

    ``on_json`` sees every other JSON message meanwhile (notices, a refusal).
    """
    lab.send(P.MESSAGES[cmd]())
    while True:
        frame = lab.read_frame()
        if frame is None:
            raise LabError(lab.died_reason())
        kind, payload = frame
        if kind == P.FRAME_JSON:
            obj = json.loads(payload)
            if obj.get("type") == cmd:
                return obj
            if obj.get("type") == "error" and obj.get("cmd") == cmd:
                raise BadInput(str(obj.get("message")))
            if on_json is not None:
                on_json(obj)
