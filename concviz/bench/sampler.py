"""``concviz bench sampler``: what watching the lab's threads costs the window."""

from __future__ import annotations

import time

DESCRIPTION = (
    "the thread sampler's own CPU while it watches a lab with 64 threads at 20 Hz "
    "(figure sampler_core_fraction, goal <= 0.02 of one core)"
)

RATE_HZ = 20


def _loop(seconds: float, work) -> tuple[float, int]:
    """Call ``work`` at RATE_HZ for ``seconds``; CPU seconds it used per wall second."""
    period = 1.0 / RATE_HZ
    c0 = time.thread_time()
    t0 = time.perf_counter()
    n = 0
    next_at = t0
    while (now := time.perf_counter()) - t0 < seconds:
        if now < next_at:
            time.sleep(next_at - now)
            continue
        work()
        n += 1
        next_at += period
    return (time.thread_time() - c0) / (time.perf_counter() - t0), n


def run(args) -> dict:
    from concviz.lab import protocol as P
    from concviz.runtime import LabProcess
    from concviz.runtime.thread_sampler import ThreadSampler

    seconds = 2.0 if args.quick else 10.0
    lab = LabProcess()
    lab.start()
    try:
        lab.send(
            P.Start(
                workload="io-sleep",
                strategy="threads",
                workers=64,
                task_ms=200,
                mode="continuous",
            )
        )
        time.sleep(1.0)  # let all 64 workers start
        sampler = ThreadSampler(lab.pid)
        seen = []
        fraction, samples = _loop(seconds, lambda: seen.append(sampler.sample()))
        idle, _ = _loop(min(seconds, 2.0), lambda: None)
        lab.send(P.Stop())
    finally:
        lab.close()
    return {
        "compared": f"ThreadSampler.sample() at {RATE_HZ} Hz vs the same timer loop doing nothing",
        "figures": {
            "sampler_core_fraction": fraction,
            "baseline_idle_loop_core_fraction": idle,
            "threads_seen": max(seen) if seen else 0,
            "samples": samples,
            "sample_ms": fraction / RATE_HZ * 1000.0,
        },
        "baselines": {"sampler_core_fraction": "baseline_idle_loop_core_fraction"},
        "goals": {"sampler_core_fraction": "<= 0.02"},
    }
