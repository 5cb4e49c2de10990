"""What parallelism the machine gives right now, for tests that judge a speedup.

A speedup test judges concviz's code, not the machine: on a 2-core machine where
other programs keep the cores busy, no strategy can reach 2x, and a fixed bar would
fail the suite for the machine's sake. So a physics test measures, next to its own
runs, how much two plain processes burning CPU side by side get compared with one
alone, and asks the strategy for a share of *that*.

    P = 2 * t_alone / t_side_by_side        (1.0 = one core to share, 2.0 = two free cores)

A strategy that realises a share ``k`` of the extra parallelism reaches a speedup of
``1 + k * (P - 1)``; ``required_speedup`` gives that bar. Below ``MIN_SPARE`` extra
parallelism a parallel run cannot be told from a serial one, and the test skips,
naming what is missing (a free core).
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

MIN_SPARE = 0.3  # P below 1.3: no spare core to judge a speedup against

_BURN = """
import sys, time
n, start_at = int(sys.argv[1]), float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.002)
t0 = time.perf_counter()
x = 0
for i in range(n):
    x += i * i
print(time.perf_counter() - t0)
"""


def _loops_for(seconds: float) -> int:
    n = 200_000
    while True:
        t0 = time.perf_counter()
        x = 0
        for i in range(n):
            x += i * i
        took = time.perf_counter() - t0
        if took > 0.05:
            return max(1, int(n * seconds / took))
        n *= 4


def _burn(n: int, copies: int) -> list[float]:
    """Start ``copies`` processes that burn ``n`` loops at the same moment; their times."""
    start_at = time.time() + 0.25  # after every interpreter has started
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BURN, str(n), repr(start_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(copies)
    ]
    out = [p.communicate(timeout=60)[0] for p in procs]
    return [float(s) for s in out]


def machine_parallelism(seconds: float = 0.3) -> float:
    """Cores' worth of CPU two busy processes get right now, between about 1 and 2."""
    n = _loops_for(seconds)
    alone = _burn(n, 1)[0]
    side_by_side = max(_burn(n, 2))
    return max(1.0, min(2.0, 2.0 * alone / side_by_side))


def required_speedup(parallelism: float, share: float) -> float:
    """The speedup a strategy realising ``share`` of the machine's spare parallelism reaches.

    Skips the test when the machine has no spare core to judge against.
    """
    if parallelism - 1.0 < MIN_SPARE:
        pytest.skip(
            f"the machine gave only {parallelism:.2f} cores' worth of parallelism right now "
            "(other programs hold the cores): a free second core is missing to judge a speedup"
        )
    return 1.0 + share * (parallelism - 1.0)
