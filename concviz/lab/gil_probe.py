"""The sleep probe: how late does a lab thread wake up when it asks for 1 ms?

A thread that wakes from ``time.sleep`` must take the GIL before it can run again.
When other threads of the lab hold the GIL (pure-Python work), the wake-up waits
for them to drop it, about one switch interval; when they release it (native work,
I/O) the probe wakes almost on time. The probe runs at 20 Hz and records its own CPU
time so that its cost is visible too.

Threads: ``start``/``stop`` from the runner thread; the probe loop on its own thread.
"""

from __future__ import annotations

import threading
import time

from .protocol import EV_PROBE, WORKER_PROBE
from .recorder import Recorder

SLEEP_NS = 1_000_000
PERIOD_S = 0.05


class GilProbe:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="concviz-gil-probe", daemon=True)
        self.cpu_ns = 0
        self.samples = 0

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        buf = self._recorder.buffer()
        c0 = time.thread_time_ns()
        seq = 0
        while not self._done.wait(PERIOD_S):
            t0 = time.perf_counter_ns()
            time.sleep(SLEEP_NS / 1e9)
            t1 = time.perf_counter_ns()
            buf.add(EV_PROBE, WORKER_PROBE, seq, t1, max(0, t1 - t0 - SLEEP_NS), SLEEP_NS)
            seq += 1
        self.samples = seq
        self.cpu_ns = time.thread_time_ns() - c0

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=2)
