"""The sleep probe: how late does a lab thread wake up when it asks for 1 ms?

A thread that wakes from ``time.sleep`` must take the GIL before it can run again.
When other threads of the lab hold the GIL (pure-Python work), the wake-up waits
for them to drop it, about one switch interval; when they release it (native work,
I/O) the probe wakes almost on time. The probe runs at 20 Hz and records its own CPU
time so that its cost is visible too.

It also watches ``sys._is_gil_enabled()`` at every tick: on a free-threaded build an
import of an extension that is not marked free-thread safe turns the GIL back on
(with a RuntimeWarning), and the moment is sent as a ``marker`` of kind
``gil_enabled`` so the timeline can show it.

Threads: ``start``/``stop`` from the runner thread; the probe loop on its own thread.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from .protocol import EV_PROBE, WORKER_PROBE
from .recorder import Recorder

SLEEP_NS = 1_000_000
PERIOD_S = 0.05


def gil_enabled() -> bool:
    """Whether the GIL is on now (always True before 3.13, which cannot turn it off)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return bool(check()) if check is not None else True


# the state the window last heard about: the handshake's, then each marker's
_reported_gil = gil_enabled()


class GilProbe:
    def __init__(self, recorder: Recorder, emit=None) -> None:
        self._recorder = recorder
        self._emit = emit  # sends one JSON object to the window (markers)
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
        if self._emit is not None:  # so an observer can tell this thread's states apart
            self._emit(
                {"type": "probe_thread", "pid": os.getpid(), "tid": threading.get_native_id()}
            )
        self.check_gil()
        while not self._done.wait(PERIOD_S):
            self.check_gil()
            t0 = time.perf_counter_ns()
            time.sleep(SLEEP_NS / 1e9)
            t1 = time.perf_counter_ns()
            buf.add(EV_PROBE, WORKER_PROBE, seq, t1, max(0, t1 - t0 - SLEEP_NS), SLEEP_NS)
            seq += 1
        self.samples = seq
        self.cpu_ns = time.thread_time_ns() - c0

    def check_gil(self) -> None:
        """Send a ``gil_enabled`` marker when ``sys._is_gil_enabled()`` changed."""
        global _reported_gil
        now = gil_enabled()
        if now == _reported_gil or self._emit is None:
            return
        _reported_gil = now
        self._emit(
            {
                "type": "marker",
                "kind": "gil_enabled",
                "t_ns": time.perf_counter_ns(),
                "enabled": now,
                "text": "the GIL turned " + ("on" if now else "off"),
            }
        )

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=2)
        self.check_gil()  # an import in the last task still counts
