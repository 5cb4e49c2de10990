"""The engine event sink: rows, relayed batches, and clocks of workers on other hosts."""

from __future__ import annotations

import threading
import time

import numpy as np

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
    rec, _row = S._links.pop((address, __import__("os").getpid()))
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
