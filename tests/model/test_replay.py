"""Replay's model: a finished run as it was at any moment."""

from __future__ import annotations

import numpy as np
import pytest

from concviz.lab import protocol as P
from concviz.model.replay import span, store_at
from concviz.runtime import run_batch


@pytest.fixture(scope="module")
def store():
    return run_batch(
        P.Start(workload="io-sleep", strategy="threads", workers=2, tasks=8, task_ms=20)
    )


def test_at_the_end_it_is_the_whole_run(store):
    t0, t1 = span(store)
    whole = store_at(store, t1)
    a, b = store.bars(), whole.bars()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert whole.runs[-1].finished == store.runs[-1].finished
    assert whole.output == store.output


def test_midway_ended_tasks_are_bars_and_started_ones_are_open(store):
    t0, t1 = span(store)
    bars = store.bars()
    mid = int(np.median(bars["start"])) + 1
    then = store_at(store, mid)
    b = then.bars()
    assert len(b["task"]) == int((bars["end"] <= mid).sum()) < len(bars["task"])
    assert (b["end"] <= mid).all()
    going = (bars["start"] <= mid) & (bars["end"] > mid)
    open_tasks = sorted(task for _lane, task, _start in then.open_bars())
    assert open_tasks == sorted(bars["task"][going].tolist())
    assert then.runs[-1].finished is None and then.t_max == mid
    assert store.bar_count == len(bars["task"])  # the original is untouched


def test_before_the_first_task_nothing_has_happened(store):
    t0, _ = span(store)
    first = int(store.bars()["start"].min())
    early = store_at(store, (t0 + first) // 2 if first > t0 else t0)
    assert early.bar_count == 0 and early.open_bars() == []
