"""The pipes event batches cross hold whole batches, and at full speed every event
arrives once: two recording worker processes, the lab's relay, frames, the store."""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from concviz.bench import transport
from concviz.lab.protocol import RECORD_SIZE, widen_pipe
from concviz.lab.recorder import MAX_BATCH
from concviz.lab.strategies.processes import event_queue
from concviz.runtime.lab_process import LabProcess

fcntl = pytest.importorskip("fcntl", reason="pipe sizes are a POSIX fcntl's (not Windows)")

BATCH_BYTES = RECORD_SIZE * MAX_BATCH

linux_only = pytest.mark.skipif(
    not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes can be read and set on Linux only"
)


def _size(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


@linux_only
def test_a_widened_pipe_holds_several_batches_from_either_end():
    r, w = os.pipe()
    try:
        assert _size(w) < BATCH_BYTES  # what a pipe holds by default: less than a batch
        assert widen_pipe(r) >= 2 * BATCH_BYTES
        assert _size(w) == _size(r) >= 2 * BATCH_BYTES
    finally:
        os.close(r)
        os.close(w)


def test_widen_pipe_on_a_file_changes_nothing_and_says_0(tmp_path):
    with open(tmp_path / "f", "wb") as f:
        assert widen_pipe(f.fileno()) == 0


@linux_only
def test_the_workers_queue_and_the_labs_channel_are_widened():
    queue = event_queue(mp.get_context())
    try:
        assert _size(queue._writer.fileno()) >= 2 * BATCH_BYTES
    finally:
        queue.close()
    lab = LabProcess()
    lab.start()
    try:
        assert _size(lab.proc.stdout.fileno()) >= 2 * BATCH_BYTES
    finally:
        lab.close()


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="the bench forks")
def test_every_event_arrives_once_at_full_speed():
    # 2 workers x 400 000 events, as fast as they record: the path raises when the
    # frames' records or the store's bars are fewer or more than were sent, or when a
    # worker's task is there twice
    seconds, received = transport.concviz_path(400_000)
    assert received == 800_000
    assert seconds > 0
