"""The window's connection to the lab: a reader ``QThread`` feeding an ``EventStore``.

The reader starts the lab (so the GUI never waits for its handshake), decodes every
frame into the current store, and reports with a few coarse, past-tense signals.
The window redraws from the store on its own timer; it never gets a signal per event.
"""

from __future__ import annotations

import os
import threading
import time

from PySide6.QtCore import QObject, QThread, Signal

from concviz.lab import protocol as P
from concviz.model.event_store import EventStore

from .headless import as_start
from .lab_process import LabError, LabProcess

# the reader tells the GUI about new events at most this often (the GUI polls anyway)
_EVENTS_SIGNAL_PERIOD_S = 0.05
# event frames arriving within this of the first undecoded one are decoded with it: a
# decode costs a fixed ~0.1-0.3 ms, and a 2-worker run of 50 ms tasks sends ~65 frames
# a second, of 1 ms tasks ~240. With the lab's relay (``COALESCE_S``, 4 ms) a finished
# task is in the store within 16 ms, one display frame (at most four windows while
# frames flood in)
_EVENTS_COALESCE_S = 0.012


def _lower_priority(pid: int | None, nice: int) -> None:
    """Make the lab (and the workers it will start, which inherit it) yield to the window."""
    if pid is None:
        return
    try:
        import psutil

        proc = psutil.Process(pid)
        if os.name == "posix":
            proc.nice(max(proc.nice(), nice))
        else:
            proc.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
    except Exception:  # a platform or permission that refuses: the window just works harder
        pass
    # Linux with autogroups: the lab leads a session of its own, so the scheduler weighs
    # its whole group against the window's and a process's nice value alone changes
    # nothing between them; the group's nice value does.
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass


class _Reader(QThread):
    """Starts the lab and reads its frames until the stream ends.

    Threads: ``run`` runs on this QThread; everything else on the GUI thread.
    """

    def __init__(self, client: LabClient) -> None:
        super().__init__()
        self.setObjectName("concviz-lab-reader")
        self._client = client

    def run(self) -> None:
        c = self._client
        lab = c._lab
        try:
            hello = lab.start()
        except LabError as exc:
            if not c._closing.is_set():
                c.labFailed.emit(str(exc))
            return
        except Exception as exc:  # a broken interpreter path etc.: tell the user, not stderr
            if not c._closing.is_set():
                c.labFailed.emit(f"could not start the lab: {exc}")
            return
        if c._closing.is_set():
            lab.close(timeout=0.5)
            return
        if c.lab_nice:
            _lower_priority(lab.pid, c.lab_nice)
        if c._store.runs:
            # the shown run keeps the handshake of the lab that ran it: its rows are
            # named by that lab's pid and Python, not by the fresh lab's
            c._store = EventStore()
        c._store.add_json(hello)
        c.labStarted.emit(hello)
        try:
            lab.send(P.Strategies())
            lab.send(P.Workloads())
            pending = c._take_pending()
            if pending is not None:  # a run asked for while this lab was starting
                lab.send(pending)
        except LabError as exc:  # closed meanwhile (a second restart), or it died
            if not c._closing.is_set():
                c.labFailed.emit(str(exc))
            return
        last_emit = 0.0
        pending = False
        # event frames are decoded together: a frame costs the store a fixed few
        # hundred microseconds of numpy, and at 2 000 tasks a second the lab sends 250
        events: list[bytes] = []
        events_store: EventStore | None = None
        events_since = 0.0

        def add_events() -> None:
            nonlocal events, events_store
            if events:
                payload = events[0] if len(events) == 1 else b"".join(events)
                events_store.add_frame(P.FRAME_EVENTS, payload)
                events, events_store = [], None

        while True:
            if events:
                # the frames that come within the window are decoded with these: sleep
                # it out (they wait in the pipe: one wake-up, where waking for each frame
                # cost the reader more than decoding them), then take what has come
                left = _EVENTS_COALESCE_S - (time.monotonic() - events_since)
                if left > 0 and c._store is events_store:
                    time.sleep(left)
                if (
                    c._store is not events_store
                    or time.monotonic() - events_since > 4 * _EVENTS_COALESCE_S
                    or not lab.readable(0)
                ):
                    add_events()
                    now = time.monotonic()
                    if now - last_emit >= _EVENTS_SIGNAL_PERIOD_S:
                        last_emit, pending = now, False
                        c.eventsArrived.emit()
                    else:
                        pending = True
                    continue
            try:
                frame = lab.read_frame()
            except (P.ProtocolError, OSError, ValueError) as exc:
                add_events()
                if not c._closing.is_set():
                    c.labFailed.emit(f"the lab's stream broke: {exc}")
                return
            if frame is None:
                add_events()
                if not c._closing.is_set():
                    c.labFailed.emit(lab.died_reason())
                return
            if frame[0] == P.FRAME_EVENTS:
                if not events:
                    events_store, events_since = c._store, time.monotonic()
                events.append(frame[1])
                continue
            add_events()  # what came before a message is in the store before it
            obj = c._store.add_frame(*frame)
            if obj is None:
                pending = True
                continue
            if pending:
                pending = False
                c.eventsArrived.emit()
            kind = obj.get("type")
            if kind == "strategies":
                c.strategiesReceived.emit(obj.get("items", []))
            elif kind == "workloads":
                c.workloadsReceived.emit(obj.get("items", {}))
            elif kind == "run_started":
                c.runStarted.emit(obj)
            elif kind == "run_finished":
                c.runFinished.emit(obj)
                if obj.get("stuck"):
                    # a thread of the lab is still stuck in a task: the lab is not
                    # clean any more; the GUI thread restarts it
                    c._stuckReported.emit(list(obj["stuck"]))
            elif kind == "marker":
                c.markerArrived.emit(obj)
            elif kind == "error":
                c.requestRejected.emit(str(obj.get("message", "the lab refused a request")))
            elif kind == "notice":
                c.noticeArrived.emit(str(obj.get("message", "")))


class LabClient(QObject):
    """Starts one lab process, sends it control messages, and exposes what it reports.

    Threads: every public method runs on the GUI thread (the thread that created the
    client). Signals are emitted from the reader QThread and delivered queued.
    ``store`` is written by the reader thread and read by anyone (it locks).
    """

    labStarted = Signal(object)  # the handshake dict
    strategiesReceived = Signal(object)  # list of {name, description, available, reason}
    workloadsReceived = Signal(object)  # {name: description}
    runStarted = Signal(object)
    eventsArrived = Signal()
    markerArrived = Signal(object)
    runFinished = Signal(object)
    requestRejected = Signal(str)
    noticeArrived = Signal(str)  # one line worth showing (e.g. a calibration measured again)
    labFailed = Signal(str)
    # the lab was restarted on its own, with one sentence saying why
    labRestarted = Signal(str)
    _stuckReported = Signal(object)  # reader -> GUI thread: names of the stuck threads

    def __init__(
        self, interpreter: str | None = None, parent: QObject | None = None, lab_nice: int = 0
    ) -> None:
        super().__init__(parent)
        self.interpreter = interpreter
        # > 0: the lab runs at a lower priority so a saturated machine still redraws
        self.lab_nice = lab_nice
        self._lab: LabProcess | None = None
        self._reader: _Reader | None = None
        self._closing = threading.Event()
        self._store = EventStore()
        # a run asked for while the lab restarts; the new reader sends it
        self._pending: P.Start | None = None
        self._pending_lock = threading.Lock()
        self._lab_ready = False
        self._restarting = False
        self.labStarted.connect(self._started)
        self._stuckReported.connect(self._restart_stuck)

    @property
    def store(self) -> EventStore:
        return self._store

    @property
    def hello(self) -> dict | None:
        return self._lab.hello if self._lab else None

    @property
    def pid(self) -> int | None:
        return self._lab.pid if self._lab else None

    def start(self) -> None:
        """Start the lab in the background; ``labStarted`` or ``labFailed`` follows."""
        if self._reader is not None and self._reader.isRunning():
            return
        self._closing.clear()
        with self._pending_lock:
            self._lab_ready = False
        try:
            self._lab = LabProcess(self.interpreter)
        except LabError as exc:
            self.labFailed.emit(str(exc))
            return
        self._reader = _Reader(self)
        self._reader.start()

    def restart(self) -> None:
        """Close the lab (if any) and start a fresh one; the current store is kept."""
        self.close()
        self.start()

    def is_alive(self) -> bool:
        return (
            self._reader is not None
            and self._reader.isRunning()
            and self._lab is not None
            and self._lab.hello is not None
        )

    def _started(self, _hello: dict) -> None:
        self._restarting = False

    def _restart_stuck(self, stuck: list) -> None:
        """GUI thread: the last run left a thread stuck in a task; start a clean lab."""
        if self._closing.is_set() and self._reader is None:
            return  # closed meanwhile
        # the finished run's store keeps its lab's handshake (its rows are named by it)
        self._store = EventStore()
        self._restarting = True
        self.restart()
        self.labRestarted.emit(
            f"A task would not stop (stuck in {', '.join(map(str, stuck))}), so the lab "
            "was restarted; the next run starts in a fresh one."
        )

    def _take_pending(self) -> P.Start | None:
        """Reader thread, once the lab is up (and close): the held run, if any."""
        with self._pending_lock:
            pending, self._pending = self._pending, None
            self._lab_ready = True
        return pending

    def begin_run(self, params: P.Start | dict) -> EventStore:
        """Send ``start`` with ``params`` into a fresh store (returned).

        Raises LabError when the lab is gone, BadInput when ``params`` is malformed.
        While the lab restarts on its own (after a stuck task), the run is held and
        sent as soon as the fresh lab is up.
        """
        start = as_start(params)
        if self._restarting and self._reader is not None and self._reader.isRunning():
            with self._pending_lock:
                if not self._lab_ready:  # the reader sends it when the lab is up
                    store = EventStore()
                    self._store = store
                    self._pending = start
                    return store
        if not self.is_alive():
            raise LabError("the lab is not running")
        store = EventStore()
        if self._lab is not None and self._lab.hello is not None:
            store.add_json(self._lab.hello)
        self._store = store  # the reader picks up the new store with its next frame
        self._lab.send(start)
        return store

    def send(self, msg: P.Message) -> None:
        """Send one control message; raises LabError when the lab is gone."""
        if self._lab is None:
            raise LabError("the lab is not running")
        self._lab.send(msg)

    def stop_run(self) -> None:
        try:
            self.send(P.Stop())
        except LabError:
            pass

    def close(self) -> None:
        """Stop the lab and every process it started, then let the reader end."""
        self._closing.set()
        self._take_pending()
        if self._lab is not None:
            self._lab.close(timeout=0.5)
        if self._reader is not None:
            self._reader.wait(3000)
            self._reader = None
