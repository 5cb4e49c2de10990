"""What the run's tasks waited for: totals per sync object, and counter summaries.

Pure functions over the event store's wait and counter columns (no Qt): the run
JSON's ``waits`` and ``counters``, and the summary line's time waiting per object.
"""

from __future__ import annotations

import numpy as np

from .event_store import EventStore


def wait_totals(waits: dict[str, np.ndarray], names: dict[int, tuple[str, str]]) -> list[dict]:
    """``[{"object", "kind", "total_s", "count", "max_s"}]`` per object, most waited first.

    ``total_s`` is the sum of the waits' lengths (end - start) over every task: two
    tasks waiting 1 s at once count 2 s, as worker time lost to the object.
    """
    if not len(waits["object"]):
        return []
    lengths = (waits["end"] - waits["start"]).astype(np.float64)
    objects, inverse = np.unique(waits["object"], return_inverse=True)
    totals = np.bincount(inverse, weights=lengths, minlength=len(objects))
    counts = np.bincount(inverse, minlength=len(objects))
    longest = np.zeros(len(objects))
    np.maximum.at(longest, inverse, lengths)
    out = []
    for k in np.argsort(-totals, kind="stable").tolist():
        name, kind = names.get(int(objects[k]), (f"object {int(objects[k])}", "object"))
        out.append(
            {
                "object": name,
                "kind": kind,
                "total_s": round(float(totals[k]) / 1e9, 9),
                "count": int(counts[k]),
                "max_s": round(float(longest[k]) / 1e9, 9),
            }
        )
    return out


def run_waits(store: EventStore, lo: int, hi: int) -> dict[str, np.ndarray]:
    """The store's waits that ended inside ``[lo, hi]`` (one run's span)."""
    w = store.wait_slices()
    keep = (w["end"] >= lo) & (w["end"] <= hi)
    return {k: v[keep] for k, v in w.items()}


def names_of(store: EventStore, objects) -> dict[int, tuple[str, str]]:
    return {int(o): store.sync_name(int(o)) for o in np.unique(objects).tolist()}


def counter_summaries(store: EventStore, lo: int, hi: int) -> list[dict]:
    """``[{"object", "samples", "max", "mean"}]`` per counter sampled in ``[lo, hi]``.

    ``mean`` is the time-weighted mean: each sample holds until the next one.
    """
    c = store.counters()
    keep = (c["t"] >= lo) & (c["t"] <= hi)
    obj, t, value = c["object"][keep], c["t"][keep], c["value"][keep]
    out = []
    for o in np.unique(obj).tolist():
        mine = obj == o
        ts, vs = t[mine], value[mine].astype(np.float64)
        order = np.argsort(ts, kind="stable")
        ts, vs = ts[order], vs[order]
        held = np.diff(np.r_[ts, ts[-1]]).astype(np.float64)
        mean = float((vs * held).sum() / held.sum()) if held.sum() > 0 else float(vs.mean())
        out.append(
            {
                "object": store.sync_name(o)[0],
                "samples": int(len(ts)),
                "max": int(vs.max()),
                "mean": round(mean, 3),
            }
        )
    return out


def total_wait_s(waits: dict[str, np.ndarray]) -> float:
    return float((waits["end"] - waits["start"]).sum()) / 1e9 if len(waits["end"]) else 0.0
