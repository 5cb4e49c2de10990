"""EventStore's lane lookup: every bar lands on the lane of its own record."""

from __future__ import annotations

import numpy as np

from concviz.lab.protocol import EV_END
from concviz.model.event_store import RECORD_DTYPE, EventStore


def test_event_store_lanes_match_each_record_in_a_mixed_batch():
    # the store's run-length lane lookup must agree with the records, interleaved or not
    rng = np.random.default_rng(0)
    rec = np.zeros(3000, RECORD_DTYPE)
    rec["kind"] = EV_END
    rec["pid"] = rng.integers(1, 4, len(rec))
    rec["tid"] = rng.integers(10, 13, len(rec))
    rec["worker"] = rng.integers(0, 3, len(rec))
    rec["t0_ns"] = np.arange(len(rec))
    rec["t_ns"] = rec["t0_ns"] + 1
    for batch in (rec, np.sort(rec, order=["pid", "tid", "worker"])):
        store = EventStore()
        store.add_events(batch)
        lanes = store.lanes()
        got = [(lanes[i].pid, lanes[i].tid, lanes[i].worker) for i in store.bars()["lane"].tolist()]
        want = list(
            zip(batch["pid"].tolist(), batch["tid"].tolist(), batch["worker"].tolist(), strict=True)
        )
        assert got == want
        assert len(lanes) == len(set(want))
