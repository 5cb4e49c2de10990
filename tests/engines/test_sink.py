"""The engine event sink: rows, relayed batches, and clocks of workers on other hosts."""

from __future__ import annotations

import os
import socket
import threading
import time

import numpy as np
import pytest

from concviz.lab import protocol as P
from concviz.lab import recorder
from concviz.lab.engines import sink as S
from concviz.model.event_store import RECORD_DTYPE


class _Ctx:
    def __init__(self) -> None:
        self.json: list[dict] = []
        self.batches: list[bytes] = []
        self.emit = self.json.append
        self.send_events = self.batches.append


SPEC = {
    "name": "io-sleep",
    "task_ms": 1.0,
    "seed": 0,
    "cpu_fraction": 0.5,
    "jitter": 0.0,
    "user": None,
    "cal": None,
    "port": None,
    "folder": None,
}


def _run_worker(address: str, index: int) -> None:
    """A worker in a thread of its own (a process's link is keyed by pid: drop it after)."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(S.run_task(address, SPEC, index)))
    t.start()
    t.join(10)
    rec, _row = S.forget_link(address)
    rec.close()


def test_a_worker_on_the_same_host_keeps_its_clock_and_gets_a_row():
    ctx = _Ctx()
    sink = S.EventSink(ctx, name="slot {n}")
    try:
        t0 = time.perf_counter_ns()
        _run_worker(sink.worker_address, 7)
        assert sink.wait_ended(1, timeout=5)
        rec = np.frombuffer(b"".join(ctx.batches), dtype=RECORD_DTYPE)
        end = rec[rec["kind"] == P.EV_END][0]
        assert end["task"] == 7 and t0 <= end["t_ns"] <= time.perf_counter_ns()
        assert ctx.json[0]["names"] == {0: "slot 1"}
        assert not sink.offsets_ms and not [j for j in ctx.json if j["type"] == "engine"]
    finally:
        sink.close()


def test_a_worker_on_another_host_is_mapped_onto_the_labs_clock(monkeypatch):
    # this "host" booted 5 days after the lab's: its monotonic clock reads far behind
    behind = 5 * 86400 * 10**9
    monkeypatch.setattr(S, "_clock", lambda: time.perf_counter_ns() - behind)
    monkeypatch.setattr(recorder, "perf_ns", recorder.perf_ns)  # restored after the test
    ctx = _Ctx()
    sink = S.EventSink(ctx)
    try:
        t0 = time.perf_counter_ns()
        _run_worker(sink.worker_address, 3)
        assert sink.wait_ended(1, timeout=5)
        rec = np.frombuffer(b"".join(ctx.batches), dtype=RECORD_DTYPE)
        end = rec[rec["kind"] == P.EV_END][0]
        # on the lab's time axis, within the handshake's error, not five days off
        assert t0 - 10**8 <= end["t0_ns"] <= end["t_ns"] <= time.perf_counter_ns() + 10**8
        shown = [j for j in ctx.json if j["type"] == "engine"][-1]["offsets_ms"]
        assert abs(shown["worker 1"] - behind / 1e6) < 100, shown  # measured and shown
    finally:
        sink.close()


# ------------------------------------------------------------------ who may connect
def _records(row: int, pid: int, /, n: int = 1, **change) -> bytes:
    """``n`` task bars (start + end) for ``row`` and ``pid``; ``change`` overrides end fields."""
    t0 = time.perf_counter_ns()
    out = []
    for task in range(n):
        out.append((P.EV_START, 0, row, task, pid, 1, t0, 0, 0))
        end = {"kind": P.EV_END, "t_ns": t0 + 1_000_000, "cpu_ns": 500_000, "t0_ns": t0}
        end.update(change)
        out.append(
            (end["kind"], 0, change.get("worker", row), task, change.get("pid", pid), 1,
             end["t_ns"], end["cpu_ns"], end["t0_ns"])
        )  # fmt: skip
    return P.pack_records(out)


def _frame(payload: bytes) -> bytes:
    return S.LENGTH.pack(len(payload)) + payload


def _authenticated(sink: S.EventSink, want: int = S.ASSIGN) -> tuple[socket.socket, int]:
    """A worker connection that knows the secret (the real worker side), past its handshake."""
    sock = S.connect(sink.worker_address, want)
    row, _ = S.ROW.unpack(S._recv_exact(sock, S.ROW.size))
    sock.sendall(S.OFFSET.pack(0))
    return sock, row


def _closed_by_lab(sock: socket.socket, timeout: float = 5.0) -> bool:
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    finally:
        sock.close()


def _wait(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_client_without_the_secret_is_refused_and_its_records_never_relayed():
    ctx = _Ctx()
    sink = S.EventSink(ctx)
    try:
        host, port, _ = S.split_address(sink.worker_address)
        assert sink.address == f"{host}:{port}" and "#" not in sink.address  # shown to users
        forged = _frame(_records(0, 4242, n=3))
        for want in (S.ASSIGN, 0, S.CONTROL):
            sock = socket.create_connection((host, port))
            nonce = S._recv_exact(sock, S.NONCE_SIZE)
            hello = S.HELLO.pack(S.MAGIC, want, 4242, 1, 0)
            # a guessed secret, then forged tasks as if it had been accepted
            mac = S._mac(b"guess" * 4, nonce, hello, b"")
            sock.sendall(hello + mac + S.OFFSET.pack(0) + forged)
            assert _closed_by_lab(sock)
        # an old worker (no HMAC), and bytes that are no handshake at all
        for junk in (S.HELLO.pack(b"CVZ2", 0, 4242, 1, 0) + forged, b"GET / HTTP/1.0\r\n\r\n" * 9):
            sock = socket.create_connection((host, port))
            sock.sendall(junk)
            assert _closed_by_lab(sock)
        assert _wait(lambda: sink.refused == 5), sink.problems
        assert not ctx.batches and not sink.rows and not sink.controls
        assert not [j for j in ctx.json if j["type"] == "workers"]
        assert "does not know this run's secret" in sink.problems[0]
        # the sink still serves the real workers
        _run_worker(sink.worker_address, 1)
        assert sink.wait_ended(1, timeout=5) and len(sink.rows) == 1
    finally:
        sink.close()


def test_a_silent_client_is_given_up_after_the_handshake_timeout(monkeypatch):
    monkeypatch.setattr(S, "HANDSHAKE_TIMEOUT_S", 0.3)
    sink = S.EventSink(_Ctx())
    try:
        host, port, _ = S.split_address(sink.worker_address)
        sock = socket.create_connection((host, port))
        t0 = time.monotonic()
        assert _closed_by_lab(sock)
        assert time.monotonic() - t0 < 2.0
        assert _wait(lambda: sink.refused == 1) and "timed out" in sink.problems[0]
    finally:
        sink.close()


def test_only_one_control_link_is_given_and_only_to_a_client_with_the_secret():
    sink = S.EventSink(_Ctx())
    try:
        first = S.control_link(sink.worker_address)
        assert sink.wait_control(5) is not None
        second = S.connect(sink.worker_address, S.CONTROL)
        assert _closed_by_lab(second)
        assert _wait(lambda: sink.refused == 1) and "already open" in sink.problems[0]
        assert len(sink.controls) == 1
        first.close()
    finally:
        sink.close()


BAD_FRAMES = {
    "misaligned": lambda row, pid: _frame(_records(row, pid)[:-7]),
    "huge length": lambda row, pid: S.LENGTH.pack(0xFFFFFFFF) + _records(row, pid),
    "empty": lambda row, pid: S.LENGTH.pack(0),
    "another row": lambda row, pid: _frame(_records(row, pid, worker=row + 1)),
    "another pid": lambda row, pid: _frame(_records(row, pid, pid=pid + 1)),
    "end before start": lambda row, pid: _frame(_records(row, pid, t_ns=1000, t0_ns=2000)),
    "negative cpu": lambda row, pid: _frame(_records(row, pid, cpu_ns=-1)),
    "cpu beyond the cores": lambda row, pid: _frame(_records(row, pid, cpu_ns=10**12)),
    "unknown kind": lambda row, pid: _frame(_records(row, pid, kind=99)),
}


@pytest.mark.parametrize("bad", sorted(BAD_FRAMES))
def test_a_bad_frame_from_an_authenticated_worker_drops_only_that_connection(bad):
    ctx = _Ctx()
    sink = S.EventSink(ctx)
    try:
        pid = os.getpid()
        sock, row = _authenticated(sink)
        good = _records(row, pid, n=2)
        sock.sendall(_frame(good))
        assert sink.wait_ended(2, timeout=5)  # what came before the bad frame is kept
        sock.sendall(BAD_FRAMES[bad](row, pid) + _frame(_records(row, pid, n=5)))
        assert _closed_by_lab(sock)
        assert _wait(lambda: sink.dropped == 1), sink.problems
        assert sink.problems[0].startswith(f"dropped row {row} (pid {pid}"), sink.problems
        assert ctx.batches == [good] and sink.ended == 2  # nothing of or after the bad frame
        # the run goes on: another worker is served as before
        other, row2 = _authenticated(sink)
        assert row2 != row
        other.sendall(_frame(_records(row2, pid, n=1)))
        assert sink.wait_ended(3, timeout=5)
        other.close()
    finally:
        sink.close()


def test_cpu_up_to_every_core_for_the_wall_time_is_sane():
    ctx = _Ctx()
    sink = S.EventSink(ctx)
    try:
        pid = os.getpid()
        sock, row = _authenticated(sink)
        cores = os.cpu_count() or 1
        # 1 ms of wall on every core, plus the 10 ms allowed for the clocks
        most = 1_000_000 * cores + S.CPU_SLACK_NS
        sock.sendall(_frame(_records(row, pid, cpu_ns=most)))
        assert sink.wait_ended(1, timeout=5) and not sink.dropped
        sock.sendall(_frame(_records(row, pid, cpu_ns=most + 1)))
        assert _closed_by_lab(sock) and _wait(lambda: sink.dropped == 1)
    finally:
        sink.close()


def test_the_sink_binds_loopback_or_exactly_the_callback_address():
    for callback in (None, "127.0.0.1", "localhost"):
        sink = S.EventSink(_Ctx(), callback=callback)
        try:
            assert sink._server.getsockname()[0] in ("127.0.0.1", "::1"), callback
        finally:
            sink.close()
    for bad, said in (
        ("0.0.0.0", "wildcard"),
        ("::", "wildcard"),
        ("192.0.2.1", "not an address of this machine"),  # TEST-NET-1: nobody's address
        ("no-such-host.invalid", "does not resolve"),
        ("  ", "must be a host name"),
    ):
        why = S.callback_problem(bad)
        assert why is not None and said in why, (bad, why)
        assert "\n" not in why and why.count(". ") == 0, why
        with pytest.raises(S.Refused):
            S.EventSink(_Ctx(), callback=bad)


def _listening_worker(address: str, report=None, busy_s: float = 0.0) -> None:
    """A worker process that stays on after its tasks (as a loky worker does).

    ``busy_s``: first run 2 ms tasks back to back that long. ``report`` gets the
    names of this process's threads and how often it was asked for its events while
    it was busy."""
    asked = []
    flush = recorder.Recorder.flush

    def counted(self) -> None:
        if threading.current_thread().name == "concviz-lab-watch":
            asked.append(time.perf_counter())
        flush(self)

    recorder.Recorder.flush = counted
    busy = dict(SPEC, task_ms=2.0)
    index, until = 100, time.perf_counter() + busy_s
    while time.perf_counter() < until:
        S.run_task(address, busy, index, exit_with_lab=True)
        index += 1
    busy_asks = len(asked)
    S.run_task(address, SPEC, 3, exit_with_lab=True)
    if report is not None:
        report.put(([t.name for t in threading.enumerate()], busy_asks, index - 100))
    time.sleep(60)


def _fork_worker(address: str, **kwargs):
    import multiprocessing as mp

    fork = mp.get_context("fork")
    report = fork.Queue()
    worker = fork.Process(target=_listening_worker, args=(address, report), kwargs=kwargs)
    worker.start()
    return worker, report


def _ends(ctx: _Ctx) -> list[int]:
    rec = np.frombuffer(b"".join(ctx.batches), dtype=RECORD_DTYPE)
    return [int(t) for t in rec[rec["kind"] == P.EV_END]["task"]]


def test_a_worker_that_stays_on_hands_its_last_end_over_when_the_lab_waits_for_it(monkeypatch):
    """The lab waits for the last task's end before it reports the run. A worker that
    outlives the run (a loky worker) hands it over when the lab asks: when the worker
    has been silent for ``SILENCE_S`` and, asked by ``wait_ended``, at once. Here the
    silence would have to last a minute."""
    monkeypatch.setattr(S, "SILENCE_S", 60.0)
    monkeypatch.setattr(recorder, "INLINE_GAP_NS", 10**15)  # no hand-over at a start
    monkeypatch.setattr(recorder, "FAST_GAP_NS", 10**15)
    ctx = _Ctx()
    sink = S.EventSink(ctx)
    worker, _report = _fork_worker(sink.worker_address)
    try:
        assert _wait(lambda: sink.rows), "the worker never connected"
        time.sleep(0.2)  # its task (1 ms) is long over; its end waits in its buffer
        assert sink.ended == 0
        assert sink.wait_ended(1, timeout=5.0)
        assert _ends(ctx) == [3]
    finally:
        sink.close()
        worker.kill()
        worker.join(5)


def test_an_idle_workers_last_end_arrives_unasked_and_a_busy_worker_is_never_woken():
    """A worker has no flusher thread: its starts hand over what it recorded, and the
    lab asks for the rest once the worker has been silent for ``SILENCE_S``. So the end
    of the task before a worker goes idle reaches the lab without ``wait_ended``,
    while a worker starting 2 ms tasks back to back is not asked at all."""
    ctx = _Ctx()
    sink = S.EventSink(ctx)
    worker, report = _fork_worker(sink.worker_address, busy_s=0.5)
    try:
        threads, busy_asks, busy_tasks = report.get(timeout=30)
        assert busy_tasks >= 20, busy_tasks
        assert "concviz-flusher" not in threads and "concviz-lab-watch" in threads, threads
        # the old flusher woke 12 times in 0.5 s; a machine that stalls the worker for
        # SILENCE_S now and then may earn it a few asks
        assert busy_asks <= 3, f"asked {busy_asks} times while it started {busy_tasks} tasks"
        # the idle worker's last end arrives with no wait_ended (a frame's time and more)
        assert _wait(lambda: 3 in _ends(ctx), timeout=2.0), "the last end never came"
        assert sink.ended == busy_tasks + 1
    finally:
        sink.close()
        worker.kill()
        worker.join(5)


def test_a_workers_task_function_follows_a_spec_that_changes():
    """The last spec's function is reused for an equal spec, never for a changed one
    (the lab changes its spec in place when a switch sets a new task size)."""
    from concviz.lab.engines.sink import task_function
    from concviz.lab.workloads import make_spec

    spec = make_spec("io-sleep", 1.0)
    first = task_function(spec)
    assert task_function(dict(spec)) is first
    spec["task_ms"] = 2.0
    assert task_function(spec) is not first
    spec["task_ms"] = 1.0
    assert task_function(spec) is first


needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="os.fork is missing (Windows): no fork to guard"
)


def _asked_in_a_forked_child(question) -> bytes:
    """What ``question()`` answers in a child forked from this process (which then
    leaves at once)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, question())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    try:
        return os.read(r, 16)
    finally:
        os.close(r)


@needs_fork
def test_a_forked_child_does_not_reuse_its_parents_link():
    # the lookup a task makes has no getpid: a child forked from a worker must still
    # make a link of its own, not write into its parent's connection
    marker = (object(), 99)
    S._links["tcp://parent"] = marker
    try:
        assert S.recorder_for("tcp://parent") is marker  # the parent's own lookup
        found = _asked_in_a_forked_child(lambda: b"kept" if "tcp://parent" in S._links else b"gone")
        assert found == b"gone"
    finally:
        S._links.pop("tcp://parent", None)


@needs_fork
def test_a_child_forked_while_a_thread_links_can_link_itself():
    """A thread of the parent holds the link lock (it is connecting) as another forks:
    the child must not inherit a lock that nobody will ever release."""
    with S._link_lock:  # as a linking thread holds it
        found = _asked_in_a_forked_child(
            lambda: b"free" if S._link_lock.acquire(timeout=2) else b"held"
        )
    assert found == b"free"
