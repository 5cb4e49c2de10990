"""Events from an engine's worker processes to the lab, over a TCP connection each.

An engine (loky, Spark's Python workers, MPI ranks) starts its processes itself, so
they cannot inherit the lab's queue. Instead the lab listens on a local port; each
worker process connects once, says hello, gets its row number back, and then sends
the packed batches its ``Recorder`` flushes (every few ms, never a call per event).
The lab relays those batches unchanged, like a worker process's, and counts their
end records (one byte per record) so it knows when a task's end has arrived.

Wire format, worker to lab: ``HELLO`` (magic, wanted row or ``ASSIGN``/``CONTROL``,
pid, native tid, name length) + name; lab to worker: ``ROW`` (the row and the lab's
clock); worker to lab: ``OFFSET`` (its clock's offset to the lab's, measured from that
round trip and applied to every timestamp it sends when it is on another host), then
frames of ``<I`` length + payload. A ``CONTROL`` connection instead carries JSON lines both
ways (the MPI driver uses one to hand rank 0 its rounds of tasks).

Threads: ``EventSink`` is built and closed on the run's thread; it accepts on a
thread of its own and reads each connection on another. Worker side: ``run_task`` on
whichever thread the engine calls it.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import struct
import threading
import time

from ..protocol import EV_END, EV_ERROR, RECORD_SIZE
from ..recorder import Recorder, execute, perf_ns

MAGIC = b"CVZ2"
HELLO = struct.Struct("<4siIQH")
LENGTH = struct.Struct("<I")
ROW = struct.Struct("<iq")  # the row, and the lab's perf_counter_ns as it answered
OFFSET = struct.Struct("<q")  # the worker's clock offset to the lab's, as it applies it
# Processes on one host share one monotonic clock, so what the handshake measures there
# is only its own error (half a round trip); another host's clock is off by seconds or
# days (they booted at other times). Only an offset beyond this is applied and shown.
OTHER_HOST_NS = 1_000_000_000
ASSIGN = -1
CONTROL = -2


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class ControlLink:
    """JSON lines over one connection (lab side and worker side alike)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._file = sock.makefile("rb")
        self._lock = threading.Lock()

    def send(self, obj: dict) -> None:
        data = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            self.sock.sendall(data)

    def receive(self) -> dict | None:
        """The next message, or None when the other side closed the connection."""
        line = self._file.readline()
        if not line:
            return None
        return json.loads(line)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class EventSink:
    """The lab's end: accepts worker connections and relays their batches."""

    def __init__(
        self,
        ctx,
        name: str = "worker {n}",
        host: str = "127.0.0.1",
        advertise: str | None = None,
    ) -> None:
        self._ctx = ctx
        self._name = name
        self._server = socket.create_server((host, 0))
        self._server.settimeout(0.2)
        port = self._server.getsockname()[1]
        self.address = f"{advertise or host}:{port}"
        self._lock = threading.Condition()
        self._next_row = 0
        self._taken: set[int] = set()
        self.rows: dict[int, tuple[int, int, str]] = {}  # row -> (pid, tid, name)
        self.offsets_ms: dict[str, float] = {}  # workers on other hosts: their clock offset
        self.ended = 0
        self.controls: list[ControlLink] = []
        self._conns: list[socket.socket] = []
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        accept = threading.Thread(target=self._accept, name="concviz-sink", daemon=True)
        accept.start()
        self._threads.append(accept)

    # -- accept thread
    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads.append(t)
            t.start()

    def _row_for(self, want: int) -> int:
        with self._lock:
            if want < 0 or want in self._taken:
                while self._next_row in self._taken:
                    self._next_row += 1
                want = self._next_row
            self._taken.add(want)
            return want

    # -- one thread per connection
    def _serve(self, conn: socket.socket) -> None:
        try:
            magic, want, pid, tid, name_len = HELLO.unpack(_recv_exact(conn, HELLO.size))
            if magic != MAGIC:
                conn.close()
                return
            name = _recv_exact(conn, name_len).decode("utf-8", "replace")
            if want == CONTROL:
                conn.sendall(ROW.pack(0, perf_ns()))
                with self._lock:
                    self.controls.append(ControlLink(conn))
                    self._lock.notify_all()
                return
            row = self._row_for(want)
            conn.sendall(ROW.pack(row, perf_ns()))
            (offset,) = OFFSET.unpack(_recv_exact(conn, OFFSET.size))
            label = name or self._name.format(n=row + 1, i=row)
            self._ctx.emit({"type": "workers", "pid": pid, "tid": tid, "names": {row: label}})
            with self._lock:
                self.rows[row] = (pid, tid, label)
                if offset:
                    self.offsets_ms[label] = round(offset / 1e6, 3)
                    offsets = dict(self.offsets_ms)
                self._lock.notify_all()
            if offset:  # a worker on another host: its clock was mapped onto the lab's
                self._ctx.emit({"type": "engine", "t_ns": perf_ns(), "offsets_ms": offsets})
            send = self._ctx.send_events
            while True:
                (length,) = LENGTH.unpack(_recv_exact(conn, LENGTH.size))
                payload = _recv_exact(conn, length)
                kinds = payload[0::RECORD_SIZE]
                ends = kinds.count(EV_END) + kinds.count(EV_ERROR)
                send(payload)
                if ends:
                    with self._lock:
                        self.ended += ends
                        self._lock.notify_all()
        except (EOFError, OSError, struct.error):
            return

    # -- run thread
    def wait_rows(self, n: int, timeout: float) -> bool:
        """Wait until ``n`` worker processes have connected."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.rows) >= n, timeout)

    def wait_control(self, timeout: float) -> ControlLink | None:
        with self._lock:
            self._lock.wait_for(lambda: bool(self.controls), timeout)
            return self.controls[0] if self.controls else None

    def wait_ended(self, n: int, timeout: float = 2.0) -> bool:
        """Wait until ``n`` tasks' end records have been relayed (bounded)."""
        with self._lock:
            return self._lock.wait_for(lambda: self.ended >= n, timeout)

    def close(self) -> None:
        self._closed.set()
        try:
            self._server.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


# ------------------------------------------------------------------ worker side
_clock = time.perf_counter_ns  # this process's clock (another host's, for a remote worker)
_links: dict[tuple[str, int], tuple[Recorder, int]] = {}
_fns: dict[str, object] = {}
_link_lock = threading.Lock()


def connect(address: str, want: int = ASSIGN, name: str = "") -> socket.socket:
    host, port = address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.settimeout(None)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw = name.encode()
    sock.sendall(HELLO.pack(MAGIC, want, os.getpid(), threading.get_native_id(), len(raw)) + raw)
    return sock


def recorder_for(address: str, want: int = ASSIGN, name: str = "") -> tuple[Recorder, int]:
    """This process's recorder sending to the lab at ``address``, and its row."""
    key = (address, os.getpid())  # a forked worker must not share its parent's link
    with _link_lock:
        got = _links.get(key)
        if got is not None:
            return got
        t1 = _clock()
        sock = connect(address, want, name)
        row, lab_ns = ROW.unpack(_recv_exact(sock, ROW.size))
        t2 = _clock()
        offset = lab_ns - (t1 + t2) // 2
        if abs(offset) > OTHER_HOST_NS:
            _shift_clock(offset)
        else:
            offset = 0  # the same host's clock: nothing to map
        sock.sendall(OFFSET.pack(offset))
        lock = threading.Lock()

        def sink(payload: bytes) -> None:
            with lock:
                sock.sendall(LENGTH.pack(len(payload)) + payload)

        rec = Recorder(sink)
        rec.start()
        atexit.register(rec.close)
        _links[key] = (rec, row)
        return rec, row


def _shift_clock(offset: int) -> None:
    """Record this process's times on the lab's clock (a worker on another host)."""
    from .. import recorder

    base = _clock
    recorder.perf_ns = lambda: base() + offset


def control_link(address: str) -> ControlLink:
    sock = connect(address, CONTROL)
    _recv_exact(sock, ROW.size)
    return ControlLink(sock)


def task_function(spec: dict):
    """``task_fn(spec)``, built once per process and spec."""
    from ..workloads import task_fn

    key = json.dumps(spec, sort_keys=True)
    fn = _fns.get(key)
    if fn is None:
        fn = _fns[key] = task_fn(spec)
    return fn


def warm_up(address: str, spec: dict, want: int = ASSIGN, name: str = "") -> int:
    """Connect this worker and build its task function before any task is timed."""
    import time

    recorder_for(address, want, name)
    task_function(spec)
    time.sleep(0.05)  # hold this worker, so the engine hands the next warm-up to another
    return os.getpid()


def run_task(address: str, spec: dict, index: int, want: int = ASSIGN, name: str = ""):
    """Run task ``index`` in this engine worker, recording it; ``(index, row, error)``."""
    rec, row = recorder_for(address, want, name)
    buf = rec.buffer()
    return index, row, execute(buf, row, index, task_function(spec))
