"""What parallelism the machine gives right now, for a self-test that judges a speedup.

A speedup says something about concviz only against what the machine can give: on a
2-core machine whose cores other programs keep busy, no strategy reaches 2x. So the
self-test measures how much two plain processes burning CPU side by side get compared
with one alone, and asks each strategy for a share of *that*:

    P = 2 * t_alone / t_side_by_side        (1.0 = one core to share, 2.0 = two free cores)
    required speedup = 1 + share * (P - 1)

Works frozen too: the burners are ``multiprocessing`` spawn processes, which a
packaged app starts as itself (``multiprocessing.freeze_support``).
"""

from __future__ import annotations

import multiprocessing as mp
import time

MIN_SPARE = 0.3  # P below 1.3: no spare core to judge a speedup against


def _spin(n: int) -> None:
    x = 0
    for i in range(n):
        x += i * i


def _burn(n: int, go, out) -> None:
    """Say ready, wait for ``go`` (every burner started), burn ``n`` loops, send the seconds."""
    out.send("ready")
    go.wait(60)
    t0 = time.perf_counter()
    _spin(n)
    out.send(time.perf_counter() - t0)
    out.close()


def _loops_for(seconds: float) -> int:
    n = 200_000
    while True:
        t0 = time.perf_counter()
        _spin(n)
        took = time.perf_counter() - t0
        if took > 0.05:
            return max(1, int(n * seconds / took))
        n *= 4


def _side_by_side(n: int, copies: int) -> list[float]:
    ctx = mp.get_context("spawn")
    go = ctx.Event()  # set once every burner has started, however long that took
    pipes, procs = [], []
    for _ in range(copies):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_burn, args=(n, go, send), daemon=True)
        p.start()
        send.close()
        pipes.append(recv)
        procs.append(p)
    try:
        for r in pipes:
            r.recv()  # "ready"
        go.set()
        return [r.recv() for r in pipes]
    finally:
        for p in procs:
            p.join(timeout=10)


def machine_parallelism(seconds: float = 0.3) -> float:
    """Cores' worth of CPU two busy processes get right now, between 1 and 2."""
    n = _loops_for(seconds)
    alone = _side_by_side(n, 1)[0]
    together = max(_side_by_side(n, 2))
    return max(1.0, min(2.0, 2.0 * alone / together))


def required_speedup(parallelism: float, share: float) -> float | None:
    """The speedup a strategy realising ``share`` of the spare parallelism reaches, or
    None when the machine has no spare core to judge against."""
    if parallelism - 1.0 < MIN_SPARE:
        return None
    return 1.0 + share * (parallelism - 1.0)
