"""The thread sampler sees which threads burn CPU and where they run."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time

import numpy as np
import pytest

from concviz.model.thread_samples import cpu_rate, migrations
from concviz.runtime.thread_sampler import ThreadSampler


def test_a_spinning_thread_shows_cpu_and_a_waiting_thread_shows_none():
    stop = threading.Event()

    block = bytes(1 << 20)

    def spin() -> None:
        # on a CPU all the time, but in hashlib without the GIL: a pure-Python spinner
        # made every one of the sampler's reads here wait for the GIL (30 s once, with
        # many processes under this one to walk)
        while not stop.is_set():
            hashlib.sha256(block).digest()

    busy = threading.Thread(target=spin)
    idle = threading.Thread(target=stop.wait)
    busy.start()
    idle.start()
    try:
        sampler = ThreadSampler(os.getpid())
        for _ in range(12):
            sampler.sample()
            time.sleep(0.05)
    finally:
        stop.set()
        busy.join()
        idle.join()
        sampler.close()
    b = sampler.samples.thread_series(busy.native_id)
    i = sampler.samples.thread_series(idle.native_id)
    assert len(b["t"]) >= 8  # the first reading is only a baseline
    assert cpu_rate(b["t"], b["cpu_ns"]).mean() > 0.3
    assert cpu_rate(i["t"], i["cpu_ns"]).mean() < 0.05
    if sys.platform.startswith("linux"):
        assert (b["core"] >= 0).all() and (b["core"] < (os.cpu_count() or 1)).all()


def test_rate_and_migrations_by_hand():
    t = np.array([0, 100, 200, 300])
    cpu = np.array([0, 50, 150, 150])
    assert cpu_rate(t, cpu) == pytest.approx([0.5, 1.0, 0.0])
    assert migrations(np.array([0, 0, 1, 1, 0, -1, 0])) == 2
