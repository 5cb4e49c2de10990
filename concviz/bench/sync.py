"""What an instrumented lock costs when nobody waits: ``sync.Lock`` against ``threading.Lock``.

Both run in this process, in one loop each of acquire/release pairs (and of ``with``
blocks), inside a task as the lab's workers see it (``output.running.task`` set),
interleaved over several repeats; the figure is the difference of the medians, in
nanoseconds per pair. The uncontended path never records anything, so no recorder is
needed for it. The multiprocessing lock is measured the same way beside its bare one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time

from concviz.lab import sync
from concviz.lab.output import running

from ._common import median, rotated

DESCRIPTION = (
    "uncontended acquire/release pairs: concviz's sync.Lock against a bare threading.Lock "
    "(and sync.ProcessLock against multiprocessing.Lock), same run"
)

GOAL_NS = 1000.0


def _pairs(lock, n: int) -> float:
    """ns per explicit acquire/release pair."""
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter_ns()
    for _ in range(n):
        acquire()
        release()
    return (time.perf_counter_ns() - t0) / n


def _withs(lock, n: int) -> float:
    """ns per ``with lock:`` block."""
    t0 = time.perf_counter_ns()
    for _ in range(n):
        with lock:
            pass
    return (time.perf_counter_ns() - t0) / n


def uncontended_pair(n: int, repeats: int) -> dict[str, float]:
    """``sync.Lock`` against a bare ``threading.Lock``, interleaved: ns per pair."""
    cases = {"bare_lock_pair_ns": threading.Lock(), "sync_lock_pair_ns": sync.Lock("bench")}
    samples: dict[str, list[float]] = {k: [] for k in cases}
    running.task, running.worker = 0, 0  # as inside a task: the holder is recorded
    try:
        for r in range(repeats):
            for key in rotated(list(cases), r):
                samples[key].append(_pairs(cases[key], n))
    finally:
        running.task = None
    med = {k: median(v) for k, v in samples.items()}
    return {
        "sync_ns_per_uncontended_pair": med["sync_lock_pair_ns"] - med["bare_lock_pair_ns"],
        **med,
    }


def run(args: argparse.Namespace) -> dict:
    n = 20_000 if args.quick else 300_000
    repeats = 3 if args.quick else 7
    cases = {
        "bare_lock_pair_ns": (_pairs, threading.Lock()),
        "sync_lock_pair_ns": (_pairs, sync.Lock("bench")),
        "bare_lock_with_ns": (_withs, threading.Lock()),
        "sync_lock_with_ns": (_withs, sync.Lock("bench with")),
        "bare_process_lock_pair_ns": (_pairs, multiprocessing.Lock()),
        "sync_process_lock_pair_ns": (_pairs, sync.ProcessLock("bench process")),
    }
    samples: dict[str, list[float]] = {k: [] for k in cases}
    running.task, running.worker = 0, 0  # as inside a task: the holder is recorded
    try:
        for r in range(repeats):
            for key in rotated(list(cases), r):
                fn, lock = cases[key]
                samples[key].append(fn(lock, n))
    finally:
        running.task = None
    med = {k: median(v) for k, v in samples.items()}
    figures = {
        "sync_ns_per_uncontended_pair": med["sync_lock_pair_ns"] - med["bare_lock_pair_ns"],
        "sync_ns_per_uncontended_with": med["sync_lock_with_ns"] - med["bare_lock_with_ns"],
        "sync_process_ns_per_uncontended_pair": med["sync_process_lock_pair_ns"]
        - med["bare_process_lock_pair_ns"],
        **med,
    }
    return {
        "figures": figures,
        "baselines": {
            "sync_lock_pair_ns": "bare_lock_pair_ns",
            "sync_lock_with_ns": "bare_lock_with_ns",
            "sync_process_lock_pair_ns": "bare_process_lock_pair_ns",
        },
        "goals": {
            "sync_ns_per_uncontended_pair": f"<= {GOAL_NS:g} ns extra",
            "sync_ns_per_uncontended_with": f"<= {GOAL_NS:g} ns extra",
        },
        "compared": f"{n:,} pairs per loop, {repeats} interleaved repeats, medians",
    }
