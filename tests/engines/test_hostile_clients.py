"""Clients that are not the run's workers, during real engine runs: they get nothing in.

A foreign client (no secret) knocks on the lab's event sink while a ``joblib-loky``
or ``mpi`` run goes: it tries to open the control link, to take a rank's row and to
send forged tasks. A client that does know the secret (read, as its user may, from
an MPI rank's environment) sends malformed frames. The run must hold exactly the
tasks asked for, the lab must keep answering, and the sink must say, on the lab's
stderr, what it refused and dropped.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import psutil
from enginekit import require

from concviz.lab import protocol as P
from concviz.lab.engines import sink as S
from concviz.model import EventStore, run_object
from concviz.runtime import LabProcess, run_batch

TASKS = 24
FORGED_TASK = 9999
FORGED_PID = 4242


def _forged_frame(row: int) -> bytes:
    t0 = time.perf_counter_ns()
    records = [
        (P.EV_START, 0, row, FORGED_TASK, FORGED_PID, 1, t0, 0, 0),
        (P.EV_END, 0, row, FORGED_TASK, FORGED_PID, 1, t0 + 10**6, 10**5, t0),
    ]
    payload = P.pack_records(records)
    return S.LENGTH.pack(len(payload)) + payload


def _closed_by_lab(sock: socket.socket, timeout: float = 8.0) -> bool:
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except OSError:
        return False
    finally:
        sock.close()


class Intruder(threading.Thread):
    """Knocks on every port the lab listens on while the run goes (its own thread).

    ``with_secret``: also connect as a real worker would, with the secret found in a
    rank's environment, and send one malformed frame per connection.
    """

    BAD = {
        "misaligned": lambda row: S.LENGTH.pack(P.RECORD_SIZE + 7) + b"\1" * (P.RECORD_SIZE + 7),
        "length 0xFFFFFFFF": lambda row: S.LENGTH.pack(0xFFFFFFFF) + b"\0" * 64,
        "rank 0's row": lambda row: _forged_frame(0),
        "end before start": lambda row: (
            S.LENGTH.pack(P.RECORD_SIZE)
            + P.RECORD.pack(P.EV_END, 0, row, FORGED_TASK, psutil.Process().pid, 1, 5, 0, 9)
        ),
    }

    def __init__(self, lab_pid: int, with_secret: bool = False) -> None:
        super().__init__(daemon=True)
        self.lab = psutil.Process(lab_pid)
        self.with_secret = with_secret
        self.done = threading.Event()
        self.listening: set[str] = set()  # addresses the lab listened on
        self.attacked: set[int] = set()
        self.outcomes: list[tuple[str, bool]] = []  # (what, closed by the lab)
        self.secret_used = False

    def run(self) -> None:
        while not self.done.is_set():
            try:
                conns = self.lab.net_connections(kind="inet")
            except psutil.Error:
                return
            for c in conns:
                if c.status == psutil.CONN_LISTEN:
                    self.listening.add(c.laddr.ip)
                    if c.laddr.port not in self.attacked:
                        self.attacked.add(c.laddr.port)
                        self._knock(c.laddr.ip, c.laddr.port)
            if self.with_secret and not self.secret_used:
                address = self._secret_address()
                if address is not None:
                    self.secret_used = True
                    for what, bad in self.BAD.items():
                        self._malformed(address, what, bad)
            time.sleep(0.01)

    def _knock(self, ip: str, port: int) -> None:
        # the control link first: it is what a rank 0 impostor would want
        for want in (S.CONTROL, 0, S.ASSIGN):
            try:
                sock = socket.create_connection((ip, port), timeout=5)
                nonce = S._recv_exact(sock, S.NONCE_SIZE)
                hello = S.HELLO.pack(S.MAGIC, want, FORGED_PID, 1, 0)
                mac = S._mac(b"not the secret", nonce, hello, b"")
                tail = b'{"ready":true,"size":2}\n' if want == S.CONTROL else S.OFFSET.pack(0)
                sock.sendall(hello + mac + tail + _forged_frame(max(want, 0)))
            except OSError:
                continue
            self.outcomes.append((f"no secret, want {want}", _closed_by_lab(sock)))
        try:
            sock = socket.create_connection((ip, port), timeout=5)
            sock.sendall(b"\xff" * 7)  # the 7 bytes that crashed the CLI before
            sock.shutdown(socket.SHUT_WR)  # and no more: the lab must not wait for the rest
            self.outcomes.append(("7 bytes", _closed_by_lab(sock)))
        except OSError:
            pass

    def _secret_address(self) -> str | None:
        for proc in psutil.process_iter():
            try:
                raw = proc.environ().get("CONCVIZ_MPI")
            except psutil.Error:
                continue
            if raw:
                address = json.loads(raw)["address"]
                if address.startswith(tuple(f"{ip}:" for ip in self.listening)):
                    return address
        return None

    def _malformed(self, address: str, what: str, bad) -> None:
        try:
            sock = S.connect(address)  # the real worker side: it knows the secret
            row, _ = S.ROW.unpack(S._recv_exact(sock, S.ROW.size))
            sock.sendall(S.OFFSET.pack(0) + bad(row))
        except OSError:
            self.outcomes.append((f"secret, {what}: refused at the handshake", False))
            return
        self.outcomes.append((f"secret, {what}", _closed_by_lab(sock)))


def _run_with(intruder_args: dict, strategy: str, options: dict | None = None):
    lab = LabProcess()
    lab.start()
    intruder = Intruder(lab.proc.pid, **intruder_args)
    intruder.start()
    try:
        store = run_batch(
            {
                "workload": "cpu-python",
                "strategy": strategy,
                "workers": 2,
                "tasks": TASKS,
                "task_ms": 100.0,
                "options": options or {},
            },
            lab=lab,
        )
        intruder.done.set()
        intruder.join(30)
        # the lab still reads and answers its control lines
        lab.send(P.Ping())
        seen = EventStore()
        deadline = time.monotonic() + 10
        pong = False
        while time.monotonic() < deadline:
            frame = lab.read_frame()
            assert frame is not None, lab.died_reason()
            obj = seen.add_frame(*frame)
            if obj and obj.get("type") == "pong":
                pong = True
                break
        stderr = lab.stderr_tail()
    finally:
        intruder.done.set()
        lab.close()
    return run_object(store), intruder, pong, stderr


def _check(run: dict, intruder: Intruder, pong: bool, stderr: list[str], knocks: int) -> None:
    assert run["ok"], run["error"]
    assert sorted(t["id"] for t in run["tasks"]) == list(range(TASKS))
    assert FORGED_PID not in {t["pid"] for t in run["tasks"]}
    assert pong, "the lab did not answer ping after the run"
    assert intruder.outcomes and all(closed for _, closed in intruder.outcomes), intruder.outcomes
    refused = [ln for ln in stderr if "event sink: refused" in ln]
    assert len(refused) >= knocks, stderr
    assert not [ln for ln in stderr if "Traceback" in ln], stderr


def test_a_foreign_client_gets_nothing_into_a_joblib_loky_run():
    require("joblib-loky")
    run, intruder, pong, stderr = _run_with({}, "joblib-loky")
    _check(run, intruder, pong, stderr, knocks=4)
    assert intruder.listening == {"127.0.0.1"}, intruder.listening


def test_a_foreign_client_cannot_take_the_mpi_control_link_or_forge_tasks():
    require("mpi")
    run, intruder, pong, stderr = _run_with({}, "mpi")
    _check(run, intruder, pong, stderr, knocks=4)
    assert len({(t["pid"], t["worker"]) for t in run["tasks"]}) == 2  # the two real ranks
    assert intruder.listening == {"127.0.0.1"}, intruder.listening


def test_with_a_callback_host_the_lab_listens_on_that_address_only():
    require("mpi")
    run, intruder, pong, stderr = _run_with({}, "mpi", {"callback_host": "127.0.0.1"})
    _check(run, intruder, pong, stderr, knocks=4)
    # never the wildcard (0.0.0.0 or ::), which every interface would reach
    assert intruder.listening == {"127.0.0.1"}, intruder.listening
    start = next(p for p in run["phases"] if p["kind"] == "startup")
    assert start["details"]["events_to"].startswith("127.0.0.1:")
    assert "#" not in start["details"]["events_to"]  # the secret is never shown


def test_malformed_frames_from_a_client_with_the_secret_drop_it_and_the_run_completes():
    require("mpi")
    run, intruder, pong, stderr = _run_with({"with_secret": True}, "mpi")
    assert intruder.secret_used, "no rank's environment was found during the run"
    _check(run, intruder, pong, stderr, knocks=4)
    dropped = [ln for ln in stderr if "event sink: dropped" in ln]
    assert len(dropped) == len(Intruder.BAD), stderr
    # every task ran on one of the two ranks, none came from the intruder's connections
    assert len({(t["pid"], t["worker"]) for t in run["tasks"]}) == 2
    assert psutil.Process().pid not in {t["pid"] for t in run["tasks"]}
