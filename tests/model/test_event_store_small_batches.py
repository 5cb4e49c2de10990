"""EventStore's two decoders: a few records at a time (record by record, what a live
run of long tasks sends) and many (columnar) leave the same store."""

from __future__ import annotations

import numpy as np
import pytest

from concviz.lab import protocol as P
from concviz.model import event_store as ES
from concviz.model.event_store import RECORD_DTYPE, EventStore

KINDS = [
    P.EV_QUEUED,
    P.EV_START,
    P.EV_END,
    P.EV_ERROR,
    P.EV_SLICE_START,
    P.EV_SLICE_END,
    P.EV_PROBE,
    P.EV_STOPPED,
    P.EV_WAIT,
    P.EV_COUNTER,
]


def _stream(seed: int, n: int = 4000) -> np.ndarray:
    """Records as a lab sends them: per lane, starts and ends in time order, with
    queued, probe, wait and counter records from the special workers between."""
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, RECORD_DTYPE)
    kind = rng.choice(KINDS, n, p=[0.08, 0.3, 0.25, 0.03, 0.04, 0.04, 0.1, 0.02, 0.08, 0.06])
    rec["kind"] = kind
    worker = rng.integers(0, 4, n)
    worker[kind == P.EV_QUEUED] = P.WORKER_DISPATCH
    worker[kind == P.EV_PROBE] = P.WORKER_PROBE
    worker[kind == P.EV_COUNTER] = P.WORKER_COUNTER
    rec["worker"] = worker
    rec["pid"] = 100 + worker % 2
    rec["tid"] = 7 + worker
    rec["flags"] = rng.integers(0, 4, n)
    rec["task"] = rng.integers(0, 500, n)
    t = np.cumsum(rng.integers(0, 3, n)) + 1_000  # equal times happen
    rec["t_ns"] = t
    rec["t0_ns"] = t - rng.integers(0, 50, n)
    rec["cpu_ns"] = rng.integers(0, 1 << 40, n)
    return rec


def _state(store: EventStore) -> dict:
    lanes = [(ln.pid, ln.tid, ln.worker, ln.has_slices) for ln in store.lanes()]
    out = {
        "lanes": lanes,
        "open": [store._open_start.tolist(), store._open_task.tolist(), store._last_end.tolist()],
        "open_bars": store.open_bars(),
        "t": (store.t_min, store.t_max),
        "version": store.version,
    }
    for name, view in (
        ("bars", store.bars()),
        ("queued", store.queued()),
        ("probes", store.probes()),
        ("waits", store.wait_slices()),
        ("counters", store.counters()),
    ):
        for col, values in view.items():
            out[f"{name}.{col}"] = values.tolist()
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_stream_decoded_a_few_records_at_a_time_leaves_the_store_the_columnar_path_does(
    seed, monkeypatch
):
    rec = _stream(seed)
    rng = np.random.default_rng(seed + 10)
    cuts = np.cumsum(rng.integers(1, ES.SMALL_BATCH + 1, len(rec)))
    cuts = cuts[cuts < len(rec)]
    batches = np.split(rec, cuts)
    assert max(len(b) for b in batches) <= ES.SMALL_BATCH

    few, columnar = EventStore(), EventStore()
    for b in batches:
        few.add_events(b)
        with monkeypatch.context() as m:
            m.setattr(ES, "SMALL_BATCH", 0)  # through the columnar path
            columnar.add_events(b)
        # which task each lane runs, after every batch
        assert few.open_bars() == columnar.open_bars()

    got, want = _state(few), _state(columnar)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], key
    # the stream exercised what it compares
    assert len(want["bars.start"]) > 1000 and len(want["waits.start"]) > 100
    assert any(s for *_, s in want["lanes"]) and want["open_bars"]


def test_a_few_records_open_and_close_a_task_and_make_its_bar():
    rec = np.zeros(2, RECORD_DTYPE)
    rec["kind"] = [P.EV_START, P.EV_END]
    rec["worker"], rec["pid"], rec["tid"], rec["task"] = 0, 5, 9, 42
    rec["t_ns"] = [100, 250]
    rec["t0_ns"] = [0, 100]
    rec["cpu_ns"] = [0, 120]
    store = EventStore()
    store.add_events(rec[:1])
    assert store.open_bars() == [(0, 42, 100)]
    store.add_events(rec[1:])
    assert store.open_bars() == []
    bars = store.bars()
    assert bars["start"].tolist() == [100] and bars["end"].tolist() == [250]
    assert bars["cpu"].tolist() == [120] and bars["task"].tolist() == [42]
    assert (store.t_min, store.t_max) == (100, 250)
