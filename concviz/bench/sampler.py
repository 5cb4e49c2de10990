"""``concviz bench sampler``: what watching the lab's threads costs the window."""

from __future__ import annotations

import time

DESCRIPTION = (
    "the thread sampler's own CPU while it watches a lab with 64 threads at 20 Hz "
    "(figure sampler_core_fraction, goal <= 0.02 of one core), and the wait sampler's "
    "at 200 Hz beside 8 busy and 64 sleeping worker threads (goals <= 0.03 and <= 0.10)"
)

RATE_HZ = 20
WAITS_HZ = 200


def _loop(seconds: float, work, rate_hz: float = RATE_HZ) -> tuple[float, int]:
    """Call ``work`` at ``rate_hz`` for ``seconds``; CPU seconds it used per wall second."""
    period = 1.0 / rate_hz
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
        idle_200, _ = _loop(min(seconds, 2.0), lambda: None, WAITS_HZ)
        waits_64, _, hz_64 = _waits_fraction(lab.pid, seconds, (lab.hello or {}).get("gil_layout"))
        lab.send(P.Stop())
    finally:
        lab.close()
    waits_8, threads_8, hz_8 = _busy_waits(seconds)
    return {
        "compared": (
            f"ThreadSampler.sample() at {RATE_HZ} Hz vs the same timer loop doing nothing; "
            f"the wait sampler's own loop at {WAITS_HZ} Hz (its thread's CPU) vs a timer "
            f"loop doing nothing at {WAITS_HZ} Hz"
        ),
        "figures": {
            "sampler_core_fraction": fraction,
            "baseline_idle_loop_core_fraction": idle,
            "baseline_idle_loop_200hz_core_fraction": idle_200,
            "threads_seen": max(seen) if seen else 0,
            "samples": samples,
            "sample_ms": fraction / RATE_HZ * 1000.0,
            "wait_sampler_core_fraction_8": waits_8,
            "wait_sampler_threads_8": threads_8,
            "wait_sampler_core_fraction_64": waits_64,
            "wait_sampler_hz_8": hz_8,
            "wait_sampler_hz_64": hz_64,
        },
        "baselines": {
            "sampler_core_fraction": "baseline_idle_loop_core_fraction",
            "wait_sampler_core_fraction_8": "baseline_idle_loop_200hz_core_fraction",
            "wait_sampler_core_fraction_64": "baseline_idle_loop_200hz_core_fraction",
        },
        "goals": {
            "sampler_core_fraction": "<= 0.02",
            "wait_sampler_core_fraction_8": "<= 0.03",
            "wait_sampler_core_fraction_64": "<= 0.10",
        },
    }


def _waits_fraction(
    pid: int, seconds: float, gil_layout: dict | None = None
) -> tuple[float, int, float]:
    """The wait sampler's own loop, on its thread, watching the lab ``pid`` at WAITS_HZ:
    its CPU per wall second, the threads it watched, the rate it kept.

    With the lab's ``gil_layout`` it reads the GIL's holder too, as runs do."""
    from concviz.runtime.wait_sampler import WaitSampler

    sampler = WaitSampler(pid, hz=WAITS_HZ, gil_layout=gil_layout)
    sampler.start()
    try:
        time.sleep(0.5)  # files opened, threads found: a one-off cost, not the steady state
        c0, k0, t0 = sampler.cpu_s, sampler.ticks, time.perf_counter()
        time.sleep(seconds)
        c1, k1, t1 = sampler.cpu_s, sampler.ticks, time.perf_counter()
        threads = sampler.thread_count
    finally:
        sampler.stop()
    return (c1 - c0) / (t1 - t0), threads, (k1 - k0) / (t1 - t0)


def _busy_waits(seconds: float) -> tuple[float, int, float]:
    """The wait sampler beside 8 pure-Python threads handing the GIL to and fro."""
    from concviz.lab import protocol as P
    from concviz.runtime import LabProcess

    lab = LabProcess()
    lab.start()
    try:
        lab.send(
            P.Start(
                workload="cpu-python", strategy="threads", workers=8, task_ms=50, mode="continuous"
            )
        )
        time.sleep(1.0)
        return _waits_fraction(lab.pid, seconds, (lab.hello or {}).get("gil_layout"))
    finally:
        lab.send(P.Stop())
        lab.close()
