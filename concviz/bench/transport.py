"""How many events per second reach the reader from worker processes, same run as a baseline.

concviz's path, with the lab's own pieces: two worker processes record with the
real ``Recorder`` (``Buffer.add``, packed batches) into one ``SimpleQueue``; a
"lab" process relays the batches with the process strategies' relay onto the lab's
``Channel`` (length-prefixed frames on a pipe); this process reads the frames with
``protocol.read_frame`` and decodes them into an ``EventStore`` (numpy). Baseline:
the same two workers put one tuple per event on a ``multiprocessing.Queue`` that
this process reads. Each side is timed from the moment the workers are told to go
until the reader holds every event; repeats are interleaved, medians reported.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os

from concviz.lab.lab import Channel
from concviz.lab.protocol import (
    EV_END,
    EV_START,
    FRAME_EVENTS,
    RECORD_SIZE,
    pack_records,
    read_frame,
    widen_pipe,
)
from concviz.lab.recorder import MAX_BATCH, Recorder, perf_ns
from concviz.lab.strategies.processes import _Relay, event_queue
from concviz.model.event_store import EventStore

from ._common import median, rotated

DESCRIPTION = (
    "events per second from 2 worker processes into the reader: concviz's packed "
    "batches (worker -> lab relay -> frames -> numpy EventStore) vs a multiprocessing.Queue "
    "of one tuple per event"
)

WORKERS = 2


def _context() -> mp.context.BaseContext:
    # fork: the lab process hands its pipe's descriptor to nobody else, it inherits it
    if "fork" not in mp.get_all_start_methods():
        raise SystemExit("concviz bench transport: needs the fork start method (POSIX).")
    return mp.get_context("fork")


# ------------------------------------------------------------------ concviz path
def _producer(events, go, worker: int, n: int, prepacked: bool = False) -> None:
    """A worker process: records ``n`` events (start/end pairs) with the real Recorder.

    ``prepacked``: send one batch packed in advance over and over instead, to measure
    the transport without the cost of recording.
    """
    if prepacked:
        pid, put = os.getpid(), events.put
        batch = pack_records(
            [(EV_END, 0, worker, i, pid, 0, 2 * i + 1, 1, 2 * i) for i in range(MAX_BATCH)]
        )
        go.wait()
        for _ in range(n // MAX_BATCH):
            put(batch)
        return
    rec = Recorder(events.put)
    buf = rec.buffer()
    rec.start()
    add = buf.add
    go.wait()
    for task in range(n // 2):
        t = perf_ns()
        add(EV_START, worker, task, t, 0, 0)
        add(EV_END, worker, task, t + 1000, 900, t)
    rec.close()


def _lab(write_fd: int, read_fd: int, go, n: int, prepacked: bool) -> None:
    """The lab process: starts the workers and relays their batches as frames."""
    os.close(read_fd)
    ctx = _context()
    channel = Channel(write_fd)
    events = event_queue(ctx)
    relay = _Relay(events, channel.events)
    workers = [
        ctx.Process(target=_producer, args=(events, go, w, n, prepacked), daemon=True)
        for w in range(WORKERS)
    ]
    for p in workers:
        p.start()
    for p in workers:
        p.join()
    relay.close()
    os.close(write_fd)


def concviz_path(n_per_worker: int, prepacked: bool = False) -> tuple[float, int]:
    """(seconds from go to the last event decoded, events in the store)."""
    ctx = _context()
    r, w = os.pipe()
    widen_pipe(r)  # as the window's end of the lab's stdout is (runtime.lab_process)
    go = ctx.Event()
    # not a daemon: a daemonic process may not start the workers
    lab = ctx.Process(target=_lab, args=(w, r, go, n_per_worker, prepacked))
    lab.start()
    os.close(w)
    store = EventStore()
    received = 0
    try:
        with os.fdopen(r, "rb", buffering=1 << 20) as stream:
            t0 = perf_ns()
            go.set()
            while (fr := read_frame(stream.read)) is not None:
                kind, payload = fr
                if kind == FRAME_EVENTS:
                    received += len(payload) // RECORD_SIZE
                store.add_frame(kind, payload)
            seconds = (perf_ns() - t0) / 1e9
    finally:
        lab.join(timeout=10)
        if lab.exitcode is None:
            lab.kill()
            lab.join()
    if prepacked:
        expected = WORKERS * (n_per_worker // MAX_BATCH) * MAX_BATCH
        bars = expected
    else:
        expected = WORKERS * (n_per_worker // 2) * 2
        bars = expected // 2
    if received != expected or store.bar_count != bars:
        raise RuntimeError(
            f"transport lost events: {received} received, {store.bar_count} bars, {expected} sent"
        )
    if not prepacked:  # (the prepacked side sends one batch again and again)
        import numpy as np

        b = store.bars()
        once = np.unique((b["lane"].astype(np.int64) << 40) | b["task"].astype(np.int64))
        if len(once) != bars:
            raise RuntimeError(f"transport repeated events: {bars - len(once)} bars twice")
    return seconds, received


# ------------------------------------------------------------------ baseline
def _tuple_producer(q, go, worker: int, n: int) -> None:
    pid, tid = os.getpid(), 0
    go.wait()
    for task in range(n // 2):
        t = perf_ns()
        q.put((EV_START, 0, worker, task, pid, tid, t, 0, 0))
        q.put((EV_END, 0, worker, task, pid, tid, t + 1000, 900, t))


def mp_queue_path(n_per_worker: int) -> tuple[float, int]:
    ctx = _context()
    q = ctx.Queue()
    go = ctx.Event()
    workers = [
        ctx.Process(target=_tuple_producer, args=(q, go, w, n_per_worker), daemon=True)
        for w in range(WORKERS)
    ]
    for p in workers:
        p.start()
    expected = WORKERS * (n_per_worker // 2) * 2
    get = q.get
    t0 = perf_ns()
    go.set()
    for _ in range(expected):
        get()
    seconds = (perf_ns() - t0) / 1e9
    for p in workers:
        p.join()
    return seconds, expected


# ------------------------------------------------------------------ the benchmark
def run(args: argparse.Namespace) -> dict:
    quick = bool(getattr(args, "quick", False))
    n_fast = 100_000 if quick else 2_000_000  # events per worker, concviz path
    n_base = 10_000 if quick else 150_000  # events per worker, baseline (much slower)
    repeats = 2 if quick else 3
    fast: list[float] = []
    packed: list[float] = []
    base: list[float] = []
    cases = {
        "concviz": lambda: fast.append(_rate(*concviz_path(n_fast))),
        "prepacked": lambda: packed.append(_rate(*concviz_path(n_fast, prepacked=True))),
        "baseline": lambda: base.append(_rate(*mp_queue_path(n_base))),
    }
    for r in range(repeats):
        for key in rotated(list(cases), r):
            cases[key]()
    figures = {
        "events_per_s": round(median(fast)),
        "baseline_mp_queue_events_per_s": round(median(base)),
        "speedup_vs_mp_queue": round(median(fast) / median(base), 2),
        "events_per_s_min": round(min(fast)),
        "transport_only_events_per_s": round(median(packed)),
        "events_per_run": WORKERS * n_fast,
        "baseline_events_per_run": WORKERS * n_base,
        "repeats": repeats,
    }
    return {
        "figures": figures,
        "baselines": {"events_per_s": "baseline_mp_queue_events_per_s"},
        "goals": {"events_per_s": ">= 2000000"},
        "compared": (
            f"{WORKERS} worker processes each recording {n_fast:,} events with the lab's "
            "Recorder -> SimpleQueue -> lab process relay -> Channel frames on a pipe -> "
            "read_frame + EventStore (numpy) in this process; baseline: the same workers "
            f"putting {n_base:,} one-tuple-per-event items each on a multiprocessing.Queue "
            f"read here. {repeats} interleaved repeats, medians; timed from go to the last "
            "event held by the reader. transport_only_events_per_s: the same path with "
            "workers sending a batch packed in advance (no recording cost)."
        ),
    }


def _rate(seconds: float, events: int) -> float:
    return events / seconds
