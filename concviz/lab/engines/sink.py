"""Events from an engine's worker processes to the lab, over an authenticated TCP connection each.

An engine (loky, Spark's Python workers, MPI ranks) starts its processes itself, so
they cannot inherit the lab's queue. Instead the lab listens on a port; each worker
process connects once, proves it knows the run's secret, gets its row number back,
and then sends the packed batches its ``Recorder`` flushes (every few ms, never a
call per event). The lab checks every batch (see ``_check_frame``) and relays it
unchanged, like a worker process's, and counts its end records so it knows when a
task's end has arrived.

Who may connect. The port is open to every local user (and, with a callback host,
to the network), so nothing a connection says is believed before it proves it holds
the secret the lab made for this run. The secret travels to the workers only inside
``worker_address`` (``host:port#hexsecret``), which the engines hand over through
channels other users cannot read: loky's pickled task arguments (pipes), Spark's
task closures, the MPI ranks' environment (``/proc/PID/environ`` is private to the
user; the mpiexec command line, which ``ps`` shows, never carries it).

Wire format. Lab to worker: a fresh ``NONCE``. Worker to lab: ``HELLO`` (magic,
wanted row or ``ASSIGN``/``CONTROL``, pid, native tid, name length) + name +
``HMAC-SHA256(secret, nonce + hello + name)``. Lab to worker: ``ROW`` (the row and the
lab's clock). Worker to lab: ``OFFSET`` (its clock's offset to the lab's, measured from
that round trip and applied to every timestamp it sends when it is on another host),
then frames of ``<I`` length + payload. A ``CONTROL`` connection (one per run: the MPI
driver's rank 0) instead carries JSON lines both ways after ``ROW``.

Threads: ``EventSink`` is built and closed on the run's thread; it accepts on a
thread of its own and reads each connection on another. Worker side: ``run_task`` on
whichever thread the engine calls it.
"""

from __future__ import annotations

import atexit
import copy
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time

from ..protocol import (
    EV_END,
    EV_ERROR,
    EV_SLICE_END,
    EV_STOPPED,
    EVENT_NAMES,
    RECORD,
    RECORD_SIZE,
    WORKER_PROBE,
)
from ..recorder import Recorder, describe_error, execute, perf_ns

MAGIC = b"CVZ3"  # 3: the HELLO is followed by an HMAC over the lab's nonce
HELLO = struct.Struct("<4siIQH")
LENGTH = struct.Struct("<I")
ROW = struct.Struct("<iq")  # the row, and the lab's perf_counter_ns as it answered
OFFSET = struct.Struct("<q")  # the worker's clock offset to the lab's, as it applies it
NONCE_SIZE = 16
MAC_SIZE = hashlib.sha256().digest_size
SECRET_SIZE = 32
# Processes on one host share one monotonic clock, so what the handshake measures there
# is only its own error (half a round trip); another host's clock is off by seconds or
# days (they booted at other times). Only an offset beyond this is applied and shown.
OTHER_HOST_NS = 1_000_000_000
ASSIGN = -1
CONTROL = -2
BYE = b"\x00"  # lab to worker, once, on an event connection it closes on purpose
# lab to worker: hand over what is recorded now. A worker's recorder has no flusher
# thread of its own: a starting task hands over what is buffered (recorder.py), and
# what no start carries (the last task's end before the worker goes idle, the end of
# a long task) the lab asks for when the worker has been silent for ``SILENCE_S``, and
# at once when it waits for a run's last end. A worker busy with short tasks hands
# over at its starts and is never woken: a thread waking on a timer in a worker takes
# the GIL from its task thread (about 25 a second, each a hand-over of the GIL on
# cores the workers already fill).
FLUSH = b"\x01"
SILENCE_S = 0.04  # the old flusher's round (recorder.FLUSH_INTERVAL_S): the same latency

HANDSHAKE_TIMEOUT_S = 5.0  # a client that says nothing cannot hold a thread longer
MAX_PENDING = 32  # connections still in their handshake; more are refused at once
MAX_NAME = 256  # bytes of a worker's name in its HELLO
MAX_FRAME = 4 << 20  # bytes of one batch (a Recorder flushes far less: every few ms)
# Rows the lab gives out: a worker index is 16 bits and the top few are reserved
# (serial step, dispatcher, GIL probe).
MAX_ROW = WORKER_PROBE - 1
# CPU time an interval may claim beyond what its wall time allows on every core, for
# the two clocks' granularity (thread_time vs perf_counter) and the read between them.
CPU_SLACK_NS = 10_000_000
_INTERVALS = frozenset((EV_END, EV_ERROR, EV_SLICE_END, EV_STOPPED))
_KINDS = frozenset(EVENT_NAMES)


def _recv_exact(sock: socket.socket, n: int, patient: bool = False) -> bytes:
    """``n`` bytes. ``patient``: the socket's time-out only makes it look again (the
    relay's socket times out to ask a silent worker; a frame's rest is on its way)."""
    chunks = []
    while n:
        try:
            chunk = sock.recv(min(n, 1 << 20))
        except TimeoutError:
            if patient:
                continue
            raise
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv_frame_head(sock: socket.socket) -> bytes:
    """The next frame's length, on a socket whose time-out is ``SILENCE_S``: each time the
    worker has been silent that long, it is asked (``FLUSH``) to hand over what it holds."""
    while True:
        try:
            first = sock.recv(LENGTH.size)
        except TimeoutError:
            try:
                sock.send(FLUSH)
            except TimeoutError:
                pass  # a worker that reads nothing (stopped): asked again later
            continue
        if not first:
            raise EOFError("connection closed")
        return first + _recv_exact(sock, LENGTH.size - len(first), patient=True)


def _mac(secret: bytes, nonce: bytes, hello: bytes, name: bytes) -> bytes:
    return hmac.new(secret, nonce + hello + name, hashlib.sha256).digest()


class Refused(Exception):
    """A connection the sink will not serve; the message says why (logged, never raised out)."""


def callback_problem(host: object) -> str | None:
    """None when ``host`` names an address of this machine, else one sentence saying why not."""
    try:
        resolve_callback(host)
    except Refused as exc:
        return str(exc)
    return None


def resolve_callback(host: object) -> str:
    """The one address of this machine that the callback ``host`` names (raises Refused).

    The sink binds exactly that address: workers on other hosts reach it there, and
    nothing else on the machine is opened. A wildcard (``0.0.0.0``, ``::``) would
    open every interface, so it is refused like a name that is not this machine's.
    Whether an address is this machine's is asked of the kernel: binding to it
    succeeds only then.
    """
    if not isinstance(host, str) or not host.strip():
        raise Refused(f"the callback host must be a host name or address, not {host!r}")
    name = host.strip().strip("[]")
    try:
        infos = socket.getaddrinfo(name, 0, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise Refused(
            f"the callback host {name} does not resolve ({why}); name this machine's "
            "address that the workers can reach"
        ) from None
    tried = []
    for family, _, _, _, sockaddr in infos:
        ip = sockaddr[0]
        if ipaddress.ip_address(ip.split("%", 1)[0]).is_unspecified:
            raise Refused(
                f"the callback host {name} is the wildcard address {ip}, which would accept "
                "events on every interface; name the one address the workers can reach"
            )
        tried.append(ip)
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.bind((ip, 0))
        except OSError:
            continue
        return ip
    raise Refused(
        f"the callback host {name} ({', '.join(dict.fromkeys(tried))}) is not an address of "
        "this machine; name this machine's address that the workers can reach"
    )


def _recv_by(sock: socket.socket, n: int, deadline: float) -> bytes:
    """``n`` bytes, all of them before ``deadline`` (a client trickling bytes gains nothing)."""
    chunks = []
    while n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        sock.settimeout(left)
        chunk = sock.recv(min(n, 1 << 16))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class ControlLink:
    """JSON lines over one connection (lab side and worker side alike)."""

    MAX_LINE = 1 << 20  # a round's task list; a longer line is not one of ours

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
        line = self._file.readline(self.MAX_LINE)
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
    """The lab's end: authenticates worker connections, checks and relays their batches.

    ``callback`` is the host workers on other machines reach the lab at (None: this
    machine only, bound to 127.0.0.1); it must name an address of this machine
    (``resolve_callback``), and exactly that address is bound.
    ``address`` (host:port) is what users are shown; ``worker_address`` also carries
    the run's secret and is for the workers only.
    """

    def __init__(self, ctx, name: str = "worker {n}", callback: str | None = None) -> None:
        self._ctx = ctx
        self._name = name
        host = "127.0.0.1" if callback is None else resolve_callback(callback)
        self._server = socket.create_server(
            (host, 0), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        self._server.settimeout(0.2)
        port = self._server.getsockname()[1]
        self.address = f"{host}:{port}"
        self._secret = secrets.token_bytes(SECRET_SIZE)
        self.worker_address = f"{self.address}#{self._secret.hex()}"
        # No set of threads can use more CPU than the cores give in the same wall time.
        self._cores = os.cpu_count() or 1
        self._lock = threading.Condition()
        self._pending = threading.BoundedSemaphore(MAX_PENDING)
        self._next_row = 0
        self._taken: set[int] = set()
        self._control_taken = False
        self.rows: dict[int, tuple[int, int, str]] = {}  # row -> (pid, tid, name)
        self.offsets_ms: dict[str, float] = {}  # workers on other hosts: their clock offset
        self.ended = 0
        self.refused = 0  # connections that failed the handshake (never given a row)
        self.dropped = 0  # authenticated connections ended for a bad frame
        self.problems: list[str] = []  # why, the latest few (also on the lab's stderr)
        self.controls: list[ControlLink] = []
        self._conns: list[socket.socket] = []
        self._events: list[socket.socket] = []  # authenticated event connections
        self._closed = threading.Event()
        self._accepter = threading.Thread(target=self._accept, name="concviz-sink", daemon=True)
        self._accepter.start()

    # -- accept thread
    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, peer = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            who = _peer(peer)
            if not self._pending.acquire(blocking=False):
                conn.close()
                self._problem(
                    "refused", f"a connection from {who}: {MAX_PENDING} still in handshake"
                )
                continue
            t = threading.Thread(
                target=self._serve, args=(conn, who), name="concviz-sink-conn", daemon=True
            )
            with self._lock:
                self._conns.append(conn)
            t.start()

    def _row_for(self, want: int) -> int:
        with self._lock:
            if want < 0 or want in self._taken:
                while self._next_row in self._taken:
                    self._next_row += 1
                want = self._next_row
            if want > MAX_ROW:
                raise Refused(f"no rows left (at most {MAX_ROW + 1})")
            self._taken.add(want)
            return want

    def _problem(self, what: str, text: str) -> None:
        """Count a refused or dropped connection and say why on the lab's stderr."""
        with self._lock:
            if what == "refused":
                self.refused += 1
            else:
                self.dropped += 1
            self.problems = [*self.problems[-19:], f"{what} {text}"]
        try:
            sys.stderr.write(f"concviz event sink: {what} {text}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    # -- one thread per connection
    def _serve(self, conn: socket.socket, who: str) -> None:
        try:
            try:
                hello = self._handshake(conn)
            finally:
                self._pending.release()
        except Refused as exc:
            self._end(conn)
            self._problem("refused", f"a connection from {who}: {exc}")
            return
        except (EOFError, OSError, struct.error) as exc:
            self._end(conn)
            if not self._closed.is_set():
                why = "handshake timed out" if isinstance(exc, TimeoutError) else "closed"
                self._problem("refused", f"a connection from {who}: {why} in its handshake")
            return
        if hello is None:
            return  # the control link: its reader is the engine's
        row, pid = hello
        try:
            self._relay(conn, row, pid)
        except Refused as exc:
            self._end(conn)
            self._problem("dropped", f"row {row} (pid {pid}, from {who}): {exc}")
        except (EOFError, OSError):
            return  # the worker ended, or the sink is closing

    def _handshake(self, conn: socket.socket) -> tuple[int, int] | None:
        """Check the client knows the secret, then give it a row (or the control link).

        ``(row, pid)`` of an event connection, None for the control link.
        """
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT_S
        nonce = secrets.token_bytes(NONCE_SIZE)
        conn.settimeout(HANDSHAKE_TIMEOUT_S)
        conn.sendall(nonce)
        hello = _recv_by(conn, HELLO.size, deadline)
        magic, want, pid, tid, name_len = HELLO.unpack(hello)
        if magic != MAGIC:
            raise Refused(f"not a concviz worker of this version (it began {hello[:4]!r})")
        if name_len > MAX_NAME:
            raise Refused(f"a name of {name_len} bytes (at most {MAX_NAME})")
        raw = _recv_by(conn, name_len, deadline)
        mac = _recv_by(conn, MAC_SIZE, deadline)
        # before anything the client said is believed or answered
        if not hmac.compare_digest(mac, _mac(self._secret, nonce, hello, raw)):
            raise Refused("it does not know this run's secret")
        if want == CONTROL:
            with self._lock:
                if self._control_taken:
                    raise Refused("the control link is already open (one per run)")
                self._control_taken = True
            conn.sendall(ROW.pack(0, perf_ns()))
            conn.settimeout(None)
            with self._lock:
                self.controls.append(ControlLink(conn))
                self._lock.notify_all()
            return None
        if not ASSIGN <= want <= MAX_ROW:
            raise Refused(f"it asked for row {want}")
        row = self._row_for(want)
        conn.sendall(ROW.pack(row, perf_ns()))
        (offset,) = OFFSET.unpack(_recv_by(conn, OFFSET.size, deadline))
        conn.settimeout(None)
        label = raw.decode("utf-8", "replace") or self._name.format(n=row + 1, i=row)
        self._ctx.emit({"type": "workers", "pid": pid, "tid": tid, "names": {row: label}})
        with self._lock:
            self._events.append(conn)
            self.rows[row] = (pid, tid, label)
            if offset:
                self.offsets_ms[label] = round(offset / 1e6, 3)
                offsets = dict(self.offsets_ms)
            self._lock.notify_all()
        if offset:  # a worker on another host: its clock was mapped onto the lab's
            self._ctx.emit({"type": "engine", "t_ns": perf_ns(), "offsets_ms": offsets})
        return row, pid

    def _relay(self, conn: socket.socket, row: int, pid: int) -> None:
        """Check and relay one worker's frames until it closes (raises Refused on a bad one)."""
        send = self._ctx.send_events
        conn.settimeout(SILENCE_S)
        while True:
            (length,) = LENGTH.unpack(_recv_frame_head(conn))
            if not 0 < length <= MAX_FRAME:
                raise Refused(f"a frame of {length} bytes (1 to {MAX_FRAME} allowed)")
            if length % RECORD_SIZE:
                raise Refused(f"a frame of {length} bytes, not a whole number of records")
            payload = _recv_exact(conn, length, patient=True)
            ends = self._check_frame(payload, row, pid)
            send(payload)
            if ends:
                with self._lock:
                    self.ended += ends
                    self._lock.notify_all()

    def _check_frame(self, payload: bytes, row: int, pid: int) -> int:
        """Raise Refused unless every record is this worker's and sane; its end records.

        An interval's CPU time is bounded by its wall time on every core of the
        machine (no set of threads can use more CPU than the cores give), plus
        ``CPU_SLACK_NS`` for the granularity of the two clocks.
        """
        cores = self._cores
        ends = 0
        for kind, _, worker, task, rpid, _, t, cpu, t0 in RECORD.iter_unpack(payload):
            if kind not in _KINDS:
                raise Refused(f"a record of unknown kind {kind}")
            if worker != row:
                raise Refused(f"a record for row {worker}, not its own")
            if rpid != pid:
                raise Refused(f"a record of pid {rpid}, not its own")
            if kind in _INTERVALS:
                if t < t0:
                    raise Refused(f"task {task} ends {t0 - t} ns before it starts")
                if cpu < 0 or cpu > (t - t0) * cores + CPU_SLACK_NS:
                    raise Refused(
                        f"task {task} claims {cpu} ns of CPU in {t - t0} ns on {cores} cores"
                    )
                if kind == EV_END or kind == EV_ERROR:
                    ends += 1
        return ends

    def _end(self, conn: socket.socket) -> None:
        with self._lock:  # a flood of refused clients must not pile up here
            if conn in self._conns:
                self._conns.remove(conn)
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()

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
        """Wait until ``n`` tasks' end records have been relayed (bounded).

        Every worker is asked to hand over what it holds at once, not after
        ``SILENCE_S``.
        """
        with self._lock:
            if self.ended >= n:
                return True
            events = list(self._events)
        for conn in events:
            try:
                conn.send(FLUSH)
            except OSError:
                pass  # that worker is gone; what it sent is in
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
            events = set(self._events)
        for c in conns:
            if c in events:
                try:
                    c.send(BYE)  # a deliberate close, not the lab's death (_listen)
                except OSError:
                    pass
            self._end(c)
        accept = self._accepter
        if accept is not threading.current_thread():
            accept.join(timeout=1.0)


def _peer(peer) -> str:
    try:
        return f"{peer[0]}:{peer[1]}"
    except (IndexError, TypeError):
        return str(peer)


# ------------------------------------------------------------------ worker side
_clock = time.perf_counter_ns  # this process's clock (another host's, for a remote worker)
# This process's links to labs, by address. A child forked from this process empties
# the table: it must not share its parent's link, and makes one of its own. So each
# task's lookup needs no ``getpid`` and no lock (0.41 -> 0.09 us a task).
_links: dict[str, tuple[Recorder, int]] = {}
_fns: dict[str, object] = {}
_link_lock = threading.Lock()


def _forked() -> None:
    """In a child just forked: no link of the parent's, and a lock nobody holds (a
    thread of the parent that held it while linking does not exist in the child)."""
    global _link_lock
    _links.clear()
    _link_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forked)


def forget_link(address: str) -> tuple[Recorder, int] | None:
    """Drop this process's link to ``address`` (the caller closes its recorder)."""
    with _link_lock:
        return _links.pop(address, None)


LAB_GONE_EXIT = 75  # a worker's exit status when its lab went away (never a task's doing)


def split_address(worker_address: str) -> tuple[str, int, bytes]:
    """``(host, port, secret)`` from a ``host:port#hexsecret`` worker address."""
    where, sep, key = worker_address.partition("#")
    host, _, port = where.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError("a worker address is host:port#secret (EventSink.worker_address)")
    return host.strip("[]"), int(port), bytes.fromhex(key)


def connect(address: str, want: int = ASSIGN, name: str = "") -> socket.socket:
    """Connect to the lab's sink at the worker ``address`` and prove the run's secret.

    Returns with the lab's ``ROW`` answer still to be read (it comes only when the
    proof holds; a refused connection is closed instead).
    """
    host, port, secret = split_address(address)
    sock = socket.create_connection((host, port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    nonce = _recv_exact(sock, NONCE_SIZE)
    raw = name.encode()[:MAX_NAME]
    hello = HELLO.pack(MAGIC, want, os.getpid(), threading.get_native_id(), len(raw))
    sock.sendall(hello + raw + _mac(secret, nonce, hello, raw))
    return sock


def recorder_for(
    address: str, want: int = ASSIGN, name: str = "", exit_with_lab: bool = False
) -> tuple[Recorder, int]:
    """This process's recorder sending to the lab at ``address``, and its row.

    ``exit_with_lab``: end this process the moment its lab goes away (the lab writes
    only ``FLUSH`` and ``BYE`` on this connection after the handshake, so its end of
    file without a ``BYE`` is the lab's end). For processes that no one else would
    end: MPI ranks, whose mpiexec and hydra proxies live in sessions of their own.
    """
    got = _links.get(address)
    if got is not None:
        return got
    with _link_lock:
        got = _links.get(address)  # made meanwhile by another thread
        if got is not None:
            return got
        t1 = _clock()
        sock = connect(address, want, name)
        row, lab_ns = ROW.unpack(_recv_exact(sock, ROW.size))
        t2 = _clock()
        sock.settimeout(None)
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

        # never started, so no flusher thread: the lab asks for what no start carried
        rec = Recorder(sink)
        atexit.register(rec.close)
        threading.Thread(
            target=_listen, args=(sock, rec, exit_with_lab), name="concviz-lab-watch", daemon=True
        ).start()
        _links[address] = (rec, row)
        return rec, row


def _listen(sock: socket.socket, rec: Recorder, exit_with_lab: bool) -> None:
    """Hand over what this process has recorded each time the lab asks (``FLUSH``),
    until the lab's end of ``sock`` closes; then, ``exit_with_lab``, end this process.

    Blocked in ``recv`` between asks, so it costs the task threads nothing. A sink
    that closes on purpose says ``BYE`` first: the engine ends its workers itself
    then, and a process that outlives one run (a reused pool) lives on.
    """
    try:
        while (said := sock.recv(1)) == FLUSH:
            rec.flush()
        if said == BYE or not exit_with_lab:
            return
    except OSError:
        if not exit_with_lab:
            return
    os._exit(LAB_GONE_EXIT)


def _shift_clock(offset: int) -> None:
    """Record this process's times on the lab's clock (a worker on another host)."""
    from .. import recorder

    base = _clock
    recorder.perf_ns = lambda: base() + offset


def control_link(address: str) -> ControlLink:
    sock = connect(address, CONTROL)
    _recv_exact(sock, ROW.size)
    sock.settimeout(None)
    return ControlLink(sock)


_last_fn: tuple = (None, None)  # the spec asked for last, and its function


def task_function(spec: dict):
    """``task_fn(spec)``, built once per process and spec.

    An engine sends the spec with every task, so each call gets a fresh copy of the
    same dict: it is compared with the last one first (about 0.3 µs) before it is
    written out as a key (about 8 µs, a sixth of a 0.05 ms task).
    """
    global _last_fn
    last, fn = _last_fn
    if spec == last:
        return fn
    from ..workloads import task_fn

    key = json.dumps(spec, sort_keys=True)
    fn = _fns.get(key)
    if fn is None:
        fn = _fns[key] = task_fn(spec)
    # a copy: the lab changes its spec in place when a switch sets a new task size;
    # one assignment, so that threads read a matching pair
    _last_fn = (copy.deepcopy(spec), fn)
    return fn


def warm_up(
    address: str | None,
    spec: dict,
    want: int = ASSIGN,
    name: str = "",
    exit_with_lab: bool = False,
) -> int:
    """Connect this worker and build its task function before any task is timed.

    ``address`` None: no link to the lab (nothing recorded: ``bench overhead``'s same
    dispatch, whose workers must not carry a recording's link either).
    """
    if address is not None:
        recorder_for(address, want, name, exit_with_lab)
    task_function(spec)
    time.sleep(0.05)  # hold this worker, so the engine hands the next warm-up to another
    return os.getpid()


def run_task_unrecorded(spec: dict, index: int, worker: int = 0):
    """``run_task`` with the recorder switched off (``bench overhead``'s same dispatch)."""
    fn = task_function(spec)
    try:
        fn(index)
    except BaseException as exc:  # noqa: BLE001 - a failing task is data, not a crash
        return index, worker, describe_error(exc)
    return index, worker, None


def run_task(
    address: str,
    spec: dict,
    index: int,
    want: int = ASSIGN,
    name: str = "",
    exit_with_lab: bool = False,
):
    """Run task ``index`` in this engine worker, recording it; ``(index, row, error)``.

    ``address`` is the sink's ``worker_address`` (it carries the run's secret).
    """
    rec, row = recorder_for(address, want, name, exit_with_lab)
    buf = rec.buffer()
    return index, row, execute(buf, row, index, task_function(spec))
