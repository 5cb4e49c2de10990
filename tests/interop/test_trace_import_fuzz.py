"""Generated traces: a malformed one is a BadTrace (one sentence) or a run, never a crash
or a hang; a well-formed one nests its slices as a plain stack would."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concviz.interop.trace_import import BadTrace, load_trace
from concviz.model.session import Session

_DIR = tempfile.TemporaryDirectory(prefix="concviz-fuzz-")
_PATH = Path(_DIR.name) / "trace.json"

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
small_ts = st.floats(min_value=0, max_value=1e6, allow_nan=False) | st.integers(0, 10**6)
ident = st.integers(0, 4) | st.sampled_from(["Node:a", "Worker:b"])


@st.composite
def good_event(draw) -> dict:
    ph = draw(st.sampled_from(["X", "X", "B", "E", "C", "M", "b", "e", "n", "i", "S", "F"]))
    e = {"ph": ph, "pid": draw(ident), "tid": draw(ident), "ts": draw(small_ts)}
    e["name"] = draw(st.sampled_from(["a", "b", "thread_name", "process_name"]))
    if ph == "X":
        e["dur"] = draw(small_ts)
    if ph == "C":
        e["args"] = {draw(st.sampled_from(["value", "k"])): draw(small_ts)}
    if ph == "M":
        e["args"] = {"name": draw(st.text(max_size=4)), "sort_index": draw(st.integers(-3, 3))}
    if ph in "beSFn":
        e["cat"] = draw(st.sampled_from(["c", "d"]))
        e["id"] = draw(st.integers(0, 3) | st.sampled_from(["0x1", "0x2"]))
    return e


@st.composite
def bad_event(draw):
    e = draw(good_event())
    how = draw(st.sampled_from(["drop", "replace", "replace", "ph", "whole"]))
    if how == "drop":
        e.pop(draw(st.sampled_from(sorted(e))))
    elif how == "replace":
        e[draw(st.sampled_from([*sorted(e), "args", "dur", "id2"]))] = draw(junk)
    elif how == "ph":
        e["ph"] = draw(junk)
    else:
        return draw(junk)
    return e


@st.composite
def trace_bytes(draw) -> bytes:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=64))  # garbage
    events = draw(st.lists(good_event(), max_size=6))
    for _ in range(draw(st.integers(0, 3))):
        events.insert(draw(st.integers(0, len(events))), draw(bad_event()))
    doc = {"traceEvents": events} if draw(st.booleans()) else events
    if draw(st.integers(0, 9)) == 0:
        doc = {"traceEvents": draw(junk)}
    data = json.dumps(doc, allow_nan=True).encode()
    if draw(st.integers(0, 5)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # cut off anywhere
    if draw(st.integers(0, 4)) == 0:
        data = gzip.compress(data)
        if draw(st.booleans()):  # a damaged gzip stream
            k = draw(st.integers(2, len(data) - 1))
            data = data[:k] + bytes([data[k] ^ 0x55]) + data[k + 1 :]
    return data


@settings(
    max_examples=400,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(trace_bytes())
@pytest.mark.timeout(300)
def test_a_malformed_trace_is_a_bad_trace_or_a_run(data):
    _PATH.write_bytes(data)
    try:
        session = load_trace(_PATH)
    except BadTrace as exc:
        text = str(exc)
        assert text and "\n" not in text and text.endswith("."), text
        return
    assert isinstance(session, Session) and len(session.runs) == 1
    run = session.runs[0]
    b = run.store.bars()
    assert np.all(b["end"] >= b["start"])
    assert len(run.store.lanes()) == 0 or b["lane"].max(initial=-1) < len(run.store.lanes())


# ------------------------------------------------------------------ nesting, checked by a stack
@st.composite
def nested_thread(draw, depth: int = 0, t0: int = 0, t1: int = 1000) -> list[tuple]:
    """Slices (start, end, depth) strictly inside [t0, t1], in integer µs, each at
    least 1 µs long; siblings may touch (one ends where the next begins). Where two
    slices share an instant in other ways, the format leaves the nesting open (the
    unit test of ``slice_depths`` pins concviz's choice)."""
    out = []
    t = t0
    while t < t1 - 1 and draw(st.integers(0, 3)) and len(out) < 6:
        s = draw(st.integers(t, t1 - 1))
        e = draw(st.integers(s + 1, t1))
        out.append((s, e, depth))
        if depth < 3 and e - s > 2:
            out += draw(nested_thread(depth + 1, s + 1, e - 1))
        t = e
    return out


@settings(max_examples=150, deadline=2000, database=None)
@given(
    st.lists(nested_thread(), min_size=1, max_size=3),
    st.randoms(use_true_random=False),
)
def test_slices_nest_as_a_stack_would(threads, rnd):
    events, expect_top, expect_deep = [], [], []
    for tid, slices in enumerate(threads):
        for k, (s, e, d) in enumerate(slices):
            name = f"s{tid}.{k}"
            if rnd.random() < 0.5:
                events.append(
                    {"ph": "X", "pid": 1, "tid": tid, "ts": s, "dur": e - s, "name": name}
                )
            else:  # a B/E pair: its end must come after whatever nests inside it
                events.append({"ph": "B", "pid": 1, "tid": tid, "ts": s, "name": name})
                events.append({"ph": "E", "pid": 1, "tid": tid, "ts": e})
            (expect_top if d == 0 else expect_deep).append((tid, s * 1000, e * 1000, d, name))
    if not expect_top:
        return
    # any file order: B/E pairs are matched in time order (at one instant an end
    # before a begin), so only the order of one thread's B and E at one instant
    # matters, and the sort below keeps that
    rnd.shuffle(events)
    events.sort(key=lambda ev: (ev["ts"], ev["ph"] != "E"))
    _PATH.write_text(json.dumps(events))
    run = load_trace(_PATH).runs[0]
    names = run.meta["names"]
    lanes = run.store.lanes()
    b = run.store.bars()
    got_top = sorted(
        (lanes[ln].tid, int(s), int(e), names[t])
        for ln, s, e, t in zip(b["lane"], b["start"], b["end"], b["task"], strict=True)
    )
    assert got_top == sorted((tid, s, e, n) for tid, s, e, _d, n in expect_top)
    nested = run.meta["nested"]
    got_deep = sorted(
        (lanes[ln].tid, int(s), int(e), int(d))
        for ln, s, e, d in zip(
            nested["lane"], nested["start"], nested["end"], nested["depth"], strict=True
        )
    )
    assert got_deep == sorted((tid, s, e, d) for tid, s, e, d, _n in expect_deep)
