"""Chrome Trace Event JSON in: a trace from VizTracer, py-spy, Ray, Perfetto or concviz.

``load_trace(path)`` turns a trace file into a :class:`~concviz.model.session.Session`
holding one :class:`~concviz.model.session.Run` (source ``"trace"``). The file may be
plain or gzip (told by its magic bytes), the object form ``{"traceEvents": [...]}``
or the bare array form, even one cut short before its closing ``]`` (the format
allows it: a tracer that dies mid-write still leaves a readable trace).

Mapping, one pass over the events and numpy after it (no object per event):

- ``X`` (complete) events and ``B``/``E`` pairs (matched per process and thread,
  last begun first ended) are *slices*. One lane per process -> thread, named by
  its ``thread_name`` metadata (else its tid). The slices at depth 0 of a lane are
  the store's bars (``BAR_TASK``, ``task`` = the index of the slice's name in
  ``run.meta["names"]``); deeper slices go to ``run.meta["nested"]`` as columns.
- Async ``b``/``e`` (nestable) and ``S``/``F`` (legacy) events: a lane of their own
  per (process, category, id); ``n`` is an instant (a zero-length slice) on it.
- ``C`` (counter) events: ``run.counters[series] = (t_ns, values)``, one series
  per counter name and argument key (``name`` alone for the key ``value``).
- ``M`` metadata: thread and process names and sort indices. Process names are in
  ``run.meta["process_names"]`` (pid -> name).
- Non-integer pids and tids (Ray writes ``"Node:…"`` and ``"Worker:…"``) get
  integers of their own (negative, so they never meet a real pid) and keep their
  text as the lane's or process's name.

Times are microseconds (``ts``, ``dur``), kept as nanoseconds (int64) without
shifting. A malformed event raises :class:`BadTrace` naming its index.
"""

from __future__ import annotations

import gzip
import json
import math
import operator
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from concviz.model.event_store import BAR_TASK, EventStore
from concviz.model.session import Session

# |ts| and dur in microseconds: 4e15 µs is 127 years, room for epoch-based clocks,
# and ts + dur in nanoseconds still fits an int64 (9.2e18)
_TIME_LIMIT_US = 4e15
_NUMBER = (int, float)
_ASYNC_BEGIN = {"b": 1, "S": 1, "e": -1, "F": -1, "n": 0}


class BadTrace(Exception):
    """A trace file concviz cannot read; its message is one sentence for a person."""


# the name ``interop.open_any`` looks for, so a bad trace becomes its BadSessionFile
BadTraceFile = BadTrace


# ------------------------------------------------------------------ reading the file
def read_events(path: str | os.PathLike) -> tuple[list, dict]:
    """The trace's event list and the rest of its top-level object (``{}`` for an array)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise BadTrace(f"Cannot read {p.name}: {exc.strerror or exc}.") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadTrace(f"{p.name} looks gzip-compressed but is damaged ({exc}).") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadTrace(
            f"{p.name} is not a JSON trace: byte {exc.start} is not UTF-8 text."
        ) from None
    doc = _parse_json(text, p.name)
    if isinstance(doc, list):
        return doc, {}
    if isinstance(doc, dict):
        events = doc.get("traceEvents")
        if not isinstance(events, list):
            raise BadTrace(f"{p.name} is a JSON object without a traceEvents list.")
        return events, doc
    raise BadTrace(
        f"{p.name} is not a Chrome trace: expected a list of events or an object with traceEvents."
    )


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        first = exc
    body = text.rstrip()
    if body.startswith("[") and not body.endswith("]"):
        # the array form may end without its "]" (and after a trailing comma)
        try:
            return json.loads(body.rstrip(",") + "]")
        except (ValueError, RecursionError):
            pass
    where = f" at character {first.pos}" if isinstance(first, json.JSONDecodeError) else ""
    reason = first.msg if isinstance(first, json.JSONDecodeError) else "nested too deeply"
    raise BadTrace(f"{name} is not valid JSON{where}: {reason}.") from None


# ------------------------------------------------------------------ checking events
def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def _float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf


def _check_time(i: int, e: dict, key: str, duration: bool = False) -> None:
    if key not in e:
        raise BadTrace(f"Event {i} (ph {e.get('ph')!r}) has no {key}.")
    v = e[key]
    if not _is_number(v):
        raise BadTrace(f"Event {i} has a {key} that is not a number ({type(v).__name__}).")
    f = _float(v)
    if not math.isfinite(f) or abs(f) > _TIME_LIMIT_US or (duration and f < 0):
        what = "negative" if duration and f < 0 else "out of range"
        raise BadTrace(f"Event {i} has a {key} that is {what} ({v!r}).")


def _check_ids(i: int, e: dict) -> None:
    for key in ("pid", "tid"):
        v = e.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise BadTrace(f"Event {i} has a {key} that is neither a number nor a name.")


def _check_event(i: int, e: Any) -> None:
    """Raise BadTrace if event ``i`` is malformed (the slow path that names it)."""
    if not isinstance(e, dict):
        what = {
            int: "a number",
            float: "a number",
            str: "text",
            list: "a list",
            bool: "true or false",
        }
        raise BadTrace(f"Event {i} is {what.get(type(e), 'null')}, not a JSON object.")
    ph = e.get("ph")
    if not isinstance(ph, str):
        raise BadTrace(f"Event {i} has no phase (ph).")
    name = e.get("name", "")
    if ph in ("X", "B", "b", "S", "n", "C", "M") and not isinstance(name, (str, int, float)):
        raise BadTrace(f"Event {i} has a name that is not text.")
    if ph in ("X", "B", "E", "C", "b", "e", "n", "S", "F"):
        _check_time(i, e, "ts")
        _check_ids(i, e)
    if ph == "X":
        _check_time(i, e, "dur", duration=True)
    if ph in _ASYNC_BEGIN:
        ident = e.get("id", e.get("id2"))
        try:
            hash(_async_id(ident))
            hash(e.get("cat", ""))
        except TypeError:
            raise BadTrace(f"Event {i} has an async id or category that is not text.") from None
    if ph in ("C", "M"):
        args = e.get("args", {})
        if not isinstance(args, dict):
            raise BadTrace(f"Event {i} has args that are not a JSON object.")
        if ph == "C":
            for key, v in args.items():
                if not _is_number(v) or not math.isfinite(_float(v)):
                    raise BadTrace(f"Event {i} has a counter value {key!r} that is not a number.")
    if ph == "M":
        _check_ids(i, e)


def _find_bad(events: list, indices: list[int] | None = None) -> BadTrace:
    """The first malformed event, as a BadTrace (after a fast check failed)."""
    for i in indices if indices is not None else range(len(events)):
        try:
            _check_event(i, events[i])
        except BadTrace as exc:
            return exc
    return BadTrace("The trace has a malformed event that could not be located.")


def _async_id(ident: Any) -> Any:
    if isinstance(ident, dict):  # id2: {"local": ...} or {"global": ...}
        return tuple(sorted((str(k), str(v)) for k, v in ident.items()))
    return ident


# ------------------------------------------------------------------ the one pass
class _Scan:
    """The events' fields, column by column, as Python lists (one pass)."""

    def __init__(self) -> None:
        # complete (X) and duration (B/E) slices share the thread lanes
        self.x = {k: [] for k in ("i", "ts", "dur", "pid", "tid", "name")}
        self.be = {k: [] for k in ("i", "ts", "pid", "tid", "name", "sign")}
        self.asy = {k: [] for k in ("i", "ts", "pid", "key", "name", "sign")}
        self.counters: dict[tuple, tuple[list, list, int]] = {}
        self.thread_names: dict[tuple, str] = {}
        self.process_names: dict[Any, str] = {}
        self.thread_sort: dict[tuple, float] = {}
        self.process_sort: dict[Any, float] = {}
        self.ignored = 0


def _scan(events: list) -> _Scan:
    """Sort the events by phase and pull out their fields, one column at a time.

    The columns are read with ``map`` over ``itemgetter``/``methodcaller`` (a loop in
    C); only the rare phases (counters, metadata, async) get a Python loop.
    """
    s = _Scan()
    try:
        phs = list(map(_PH, events))
    except (KeyError, TypeError):
        raise _find_bad(events) from None
    if not set(map(type, phs)) <= {str}:
        raise _find_bad(events)
    ph = np.array(phs, dtype=object)
    del phs
    is_x = ph == "X"
    is_be = (ph == "B") | (ph == "E")
    for key, where in (("x", is_x), ("be", is_be)):
        idx = np.flatnonzero(where)
        chosen = _pick(events, idx)
        col = getattr(s, key)
        col["i"] = idx.tolist()
        try:
            col["ts"] = list(map(_TS, chosen))
            if key == "x":
                col["dur"] = list(map(_DUR, chosen))
        except (KeyError, TypeError):
            raise _find_bad(events, col["i"]) from None
        col["pid"] = list(map(_PID, chosen))
        col["tid"] = list(map(_TID, chosen))
        col["name"] = list(map(_NAME, chosen))
        if key == "be":
            col["sign"] = np.where(ph[idx] == "B", 1, -1).astype(np.int8)
    rare = np.flatnonzero(~(is_x | is_be))
    i = -1
    try:
        for i in rare.tolist():
            e = events[i]
            p = e["ph"]
            if p == "C":
                _scan_counter(s, i, e)
            elif p == "M":
                _scan_meta(s, i, e)
            elif p in _ASYNC_BEGIN:
                _scan_async(s, i, e)
            else:
                s.ignored += 1  # instants, flows, samples, objects: nothing to draw
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
        raise _find_bad(events, [j for j in rare.tolist() if j >= i]) from None
    return s


_PH = operator.itemgetter("ph")
_TS = operator.itemgetter("ts")
_DUR = operator.itemgetter("dur")
_PID = operator.methodcaller("get", "pid", 0)
_TID = operator.methodcaller("get", "tid", 0)
_NAME = operator.methodcaller("get", "name", "")


def _pick(events: list, idx: np.ndarray) -> list:
    if len(idx) == 0:
        return []
    if len(idx) == len(events):
        return events
    if len(idx) == 1:
        return [events[int(idx[0])]]
    return list(operator.itemgetter(*idx.tolist())(events))


def _scan_counter(s: _Scan, i: int, e: dict) -> None:
    args = e.get("args", {})
    name = str(e.get("name", ""))
    if "id" in e:
        name = f"{name} {e['id']}"
    ts = e["ts"]
    pid = e.get("pid", 0)
    hash(pid)
    for key, v in args.items():  # AttributeError when args is not an object
        if not _is_number(v):
            raise ValueError(key)
        series = s.counters.get((pid, name, key))
        if series is None:
            series = s.counters[(pid, name, key)] = ([], [], [])
        series[0].append(ts)
        series[1].append(v)
        series[2].append(i)


def _scan_meta(s: _Scan, i: int, e: dict) -> None:
    what = e.get("name")
    args = e.get("args", {})
    if not isinstance(args, dict):
        raise ValueError("args")
    pid, tid = e.get("pid", 0), e.get("tid", 0)
    hash((pid, tid))
    if what == "thread_name" and "name" in args:
        s.thread_names[(pid, tid)] = str(args["name"])
    elif what == "process_name" and "name" in args:
        s.process_names[pid] = str(args["name"])
    elif what == "thread_sort_index" and _is_number(args.get("sort_index")):
        s.thread_sort[(pid, tid)] = _float(args["sort_index"])
    elif what == "process_sort_index" and _is_number(args.get("sort_index")):
        s.process_sort[pid] = _float(args["sort_index"])


def _scan_async(s: _Scan, i: int, e: dict) -> None:
    ident = _async_id(e.get("id", e.get("id2")))
    key = (e.get("pid", 0), e.get("cat", ""), ident)
    hash(key)
    a = s.asy
    a["i"].append(i)
    a["ts"].append(e["ts"])
    a["pid"].append(key[0])
    a["key"].append(key)
    a["name"].append(e.get("name", ""))
    a["sign"].append(_ASYNC_BEGIN[e["ph"]])


# ------------------------------------------------------------------ columns
def _times_ns(values: list, where: list[int], events: list, duration: bool = False) -> np.ndarray:
    """Microsecond numbers -> int64 ns, checked as a column (the slow scan names a bad one).

    Whole and fractional microseconds are converted apart, so an epoch-based time
    (1.7e15 µs) keeps every digit it was written with.
    """
    if not values:
        return np.zeros(0, np.int64)
    types = set(map(type, values))
    if not types <= {int, float}:
        raise _find_bad(events, where)
    if types == {int}:
        try:
            us_int = np.asarray(values, np.int64)
        except OverflowError:
            raise _find_bad(events, where) from None
        bad = np.abs(us_int) > int(_TIME_LIMIT_US)
        if duration:
            bad |= us_int < 0
        if bad.any():
            raise _find_bad(events, [where[int(np.argmax(bad))]])
        return us_int * 1000
    try:
        us = np.asarray(values, np.float64)
    except OverflowError:
        raise _find_bad(events, where) from None
    bad = ~np.isfinite(us) | (np.abs(us) > _TIME_LIMIT_US)
    if duration:
        bad |= us < 0
    if bad.any():
        raise _find_bad(events, [where[int(np.argmax(bad))]])
    whole = np.floor(us)
    return whole.astype(np.int64) * 1000 + np.rint((us - whole) * 1000.0).astype(np.int64)


def _codes(values: list, table: dict, where: list[int], events: list) -> np.ndarray:
    """Each value's index in ``table`` (extended, in order of first appearance)."""
    try:
        for v in dict.fromkeys(values):  # the distinct values, found in C
            table.setdefault(v, len(table))
    except TypeError:
        raise _find_bad(events, where) from None
    return np.fromiter(map(table.__getitem__, values), np.int64, len(values))


def _check_id_types(values: list, where: list[int], events: list) -> None:
    if values and not set(map(type, values)) <= {int, str}:
        raise _find_bad(events, where)


def _match_pairs(
    lane: np.ndarray, ts: np.ndarray, sign: np.ndarray, order_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match begins (+1) with ends (-1) per lane, last begun first ended.

    Events are taken per lane in time order (file order at equal times). The begin
    depth is a running sum of the signs, reflected at zero so that an end with nothing
    open is dropped: for ±1 steps the reflected walk is ``raw - min(0, running min of
    raw)``. A begin at depth ``d`` ends at the next end that leaves depth ``d``; a
    begin never ended is returned with end index -1. Returns (begin, end, sign) row
    indices into the inputs for each pair, and the kept instants (sign 0) apart.
    """
    n = len(lane)
    order = np.lexsort((order_key, ts, lane))
    ln, sg = lane[order], sign[order]
    raw = np.cumsum(sg)
    first = np.r_[True, ln[1:] != ln[:-1]]
    lane_rank = np.cumsum(first) - 1
    base = (raw - sg)[first]  # the sum before each lane's first event
    local = raw - base[lane_rank]
    big = 2 * n + 4
    shifted = local - lane_rank * big  # one running minimum for all lanes at once
    run_min = np.minimum.accumulate(shifted) + lane_rank * big
    floor = np.minimum(run_min, 0)
    level = local - floor  # the reflected walk, after each event
    is_begin = sg > 0
    is_end = sg < 0
    prev_floor = np.where(first, 0, np.r_[0, floor[:-1]])
    dropped = is_end & (local < prev_floor)
    depth = np.where(is_begin, level, level + 1)
    keep = np.flatnonzero(is_begin | (is_end & ~dropped))
    grp = np.lexsort((keep, depth[keep], ln[keep]))
    k = keep[grp]
    nxt = np.r_[k[1:], -1]
    same = np.r_[(ln[k][1:] == ln[k][:-1]) & (depth[k][1:] == depth[k][:-1]), False]
    begins = is_begin[k]
    paired = begins & same & np.r_[is_end[k][1:], False]
    b = k[begins]
    e = np.where(paired[begins], nxt[begins], -1)
    b_rows = order[b]
    e_rows = np.where(e >= 0, order[np.maximum(e, 0)], -1)
    instants = order[sg == 0]
    return b_rows, e_rows, instants


def slice_depths(lane: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each slice's nesting depth in its lane (0: top level), by interval containment.

    The depth of slice ``i`` is the number of slices still open when it starts: the
    begins before it minus the ends before it, over one sorted sweep of every begin
    and end. Order at one instant: ends of slices that had length, then begins (the
    longer first, then in input order), then ends of zero-length slices, so that
    back-to-back slices are siblings and a zero-length one sits inside whatever is
    open there.
    """
    n = len(lane)
    if n == 0:
        return np.zeros(0, np.int32)
    idx = np.arange(n)
    zero = end == start
    t = np.concatenate([start, end])
    ln = np.concatenate([lane, lane])
    kind = np.concatenate([np.ones(n, np.int8), np.where(zero, 2, 0).astype(np.int8)])
    longer = np.concatenate([-(end - start), np.zeros(n, np.int64)])
    tie = np.concatenate([idx, idx])
    order = np.lexsort((tie, longer, kind, t, ln))
    is_start = (kind == 1)[order].astype(np.int32)
    open_before = np.cumsum(2 * is_start - 1) - (2 * is_start - 1)
    depth = np.empty(n, np.int32)
    starts = order[is_start.astype(bool)]
    depth[starts] = open_before[is_start.astype(bool)]
    return depth


# ------------------------------------------------------------------ the run
def load_trace(path: str | os.PathLike) -> Session:
    """Open a Chrome Trace Event file as a session of one run (source ``"trace"``)."""
    p = Path(path)
    events, top = read_events(p)
    session = Session()
    build_run(session, events, top, name=_run_name(p), path=str(p))
    return session


def _run_name(p: Path) -> str:
    name = p.name
    for suffix in (".gz", ".json"):
        name = name.removesuffix(suffix)
    return name or p.name


def guess_tool(events: list, top: dict) -> str:
    """Which tool wrote the trace, from what each writes that the others do not."""
    if "viztracer_metadata" in top:
        return "viztracer"
    other = top.get("otherData")
    if isinstance(other, dict) and other.get("tool") == "concviz":
        return "concviz"
    if "systemTraceEvents" in top:
        return "perfetto"
    for e in events[:64]:
        if not isinstance(e, dict):
            break
        if e.get("cat") == "py-spy":
            return "py-spy"
        pid = e.get("pid")
        if isinstance(pid, str) and pid.lower().startswith("node"):
            return "ray"
    return "chrome-trace"


def build_run(session: Session, events: list, top: dict, name: str, path: str = ""):
    """Add the trace's run to ``session`` and return it."""
    s = _scan(events)
    x, be, asy = s.x, s.be, s.asy
    # ---- columns, checked as columns
    x_ts = _times_ns(x["ts"], x["i"], events)
    x_dur = _times_ns(x["dur"], x["i"], events, duration=True)
    be_ts = _times_ns(be["ts"], be["i"], events)
    a_ts = _times_ns(asy["ts"], asy["i"], events)
    _check_id_types(asy["pid"], asy["i"], events)
    names: dict[Any, int] = {}
    x_name = _codes(x["name"], names, x["i"], events)
    be_name = _codes(be["name"], names, be["i"], events)
    a_name = _codes(asy["name"], names, asy["i"], events)
    # ---- thread lanes: one per (pid, tid) that has a slice
    pid_table: dict[Any, int] = {}
    tid_table: dict[Any, int] = {}
    slice_at = x["i"] + be["i"]
    pids = _codes(x["pid"] + be["pid"], pid_table, slice_at, events)
    tids = _codes(x["tid"] + be["tid"], tid_table, slice_at, events)
    # the distinct ids are few: checking their types there is checking every event's
    _check_id_types(list(pid_table), slice_at, events)
    _check_id_types(list(tid_table), slice_at, events)
    pair = pids * max(len(tid_table), 1) + tids
    uniq, thread_lane = np.unique(pair, return_inverse=True)
    thread_lane = thread_lane.reshape(-1)
    pid_of = list(pid_table)
    tid_of = list(tid_table)
    thread_keys = [
        (pid_of[int(k) // max(len(tid_table), 1)], tid_of[int(k) % max(len(tid_table), 1)])
        for k in uniq.tolist()
    ]
    async_table: dict[Any, int] = {}
    a_key = _codes(asy["key"], async_table, asy["i"], events)
    async_keys = list(async_table)
    # ---- slices: X as they are, B/E and async b/e matched into pairs
    nx = len(x_ts)
    lane_parts = [thread_lane[:nx]]
    start_parts, end_parts, name_parts = [x_ts], [x_ts + x_dur], [x_name]
    unclosed = 0
    t_hi = _max_time(x_ts + x_dur, be_ts, a_ts)
    if len(be_ts):
        be_lane = thread_lane[nx:]
        b, e, _ = _match_pairs(
            be_lane, be_ts, np.asarray(be["sign"], np.int8), np.asarray(be["i"], np.int64)
        )
        ends = _ends_of(b, e, be_lane, be_ts, t_hi)
        unclosed += int((e < 0).sum())
        lane_parts.append(be_lane[b])
        start_parts.append(be_ts[b])
        end_parts.append(ends)
        name_parts.append(be_name[b])
    n_thread_lanes = len(thread_keys)
    if len(a_ts):
        a_lane = a_key + n_thread_lanes
        b, e, inst = _match_pairs(
            a_lane, a_ts, np.asarray(asy["sign"], np.int8), np.asarray(asy["i"], np.int64)
        )
        ends = _ends_of(b, e, a_lane, a_ts, t_hi)
        unclosed += int((e < 0).sum())
        lane_parts += [a_lane[b], a_lane[inst]]
        start_parts += [a_ts[b], a_ts[inst]]
        end_parts += [ends, a_ts[inst]]
        name_parts += [a_name[b], a_name[inst]]
    lane = np.concatenate(lane_parts).astype(np.int64)
    start = np.concatenate(start_parts)
    end = np.concatenate(end_parts)
    name_id = np.concatenate(name_parts).astype(np.int64)
    if not len(lane) and not s.counters:
        raise BadTrace("The trace holds no slices or counters to show.")
    depth = slice_depths(lane, start, end)
    # ---- lanes in the order the trace asks for: process, then thread sort indices
    first_start = np.full(n_thread_lanes + len(async_keys), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first_start, lane, start)
    lanes_info = _lane_table(s, thread_keys, async_keys, a_key, a_name, names, first_start)
    order = sorted(range(len(lanes_info)), key=lambda k: lanes_info[k]["sort"])
    new_index = np.empty(max(len(lanes_info), 1), np.int64)
    new_index[order] = np.arange(len(order))
    lane = new_index[lane] if len(lane) else lane
    top_level = depth == 0
    by_time = np.lexsort((start[top_level], lane[top_level]))
    store = EventStore()
    store.add_imported(
        [(lanes_info[k]["pid"], lanes_info[k]["tid"], lanes_info[k]["name"]) for k in order],
        lane=lane[top_level][by_time],
        task=name_id[top_level][by_time],
        start=start[top_level][by_time],
        end=end[top_level][by_time],
        kind=BAR_TASK,
        # a trace records time in a function, not CPU: drawn as busy (the summary says so)
        cpu=(end[top_level] - start[top_level])[by_time],
    )
    deep = ~top_level
    nested_order = np.lexsort((start[deep], lane[deep]))
    nested = {
        "lane": lane[deep][nested_order].astype(np.int32),
        "start": start[deep][nested_order],
        "end": end[deep][nested_order],
        "depth": depth[deep][nested_order],
        "name": name_id[deep][nested_order],
    }
    name_list = [str(k) for k in names]
    counters = _counter_series(s, events)
    if store.t_min is None and counters:
        lo = min(int(t[0]) for t, _ in counters.values() if len(t))
        hi = max(int(t[-1]) for t, _ in counters.values() if len(t))
        store.t_min, store.t_max = lo, hi
    tool = guess_tool(events, top)
    process_names = {}
    for info in lanes_info:
        if info["process_name"] is not None:
            process_names[info["pid"]] = info["process_name"]
    meta = {
        "tool": tool,
        "path": path,
        "names": name_list,
        "nested": nested,
        "process_names": process_names,
        "events": len(events),
        "ignored_events": s.ignored,
        "unclosed_slices": unclosed,
    }
    span = ((store.t_max or 0) - (store.t_min or 0)) / 1e9
    result = {
        "strategy": tool,
        "workload": "",
        "workers": len(store.lanes()),
        "wall_s": span,
        "source": "trace",
        "slices": int(len(lane)),
    }
    return session.new_run(
        None,
        store,
        name=name,
        source="trace",
        meta=meta,
        counters=counters,
        result=result,
    )


def _max_time(*cols: np.ndarray) -> int:
    his = [int(c.max()) for c in cols if len(c)]
    return max(his) if his else 0


def _ends_of(b: np.ndarray, e: np.ndarray, lane: np.ndarray, ts: np.ndarray, t_hi: int):
    """End times of matched pairs; a begin never ended ends when the trace does."""
    ends = np.where(e >= 0, ts[np.maximum(e, 0)], t_hi)
    return np.maximum(ends, ts[b])


def _ident_ints(values: list) -> dict[Any, int]:
    """An integer for every pid (or tid): itself, or a new negative one for a name."""
    ints = [v for v in values if isinstance(v, int)]
    low = min([0, *ints])
    out: dict[Any, int] = {}
    for v in values:
        if isinstance(v, int):
            out[v] = v
        elif v not in out:
            low -= 1
            out[v] = low
    return out


def _sort_value(v: Any) -> tuple:
    return (0, v, "") if isinstance(v, int) else (1, 0, str(v))


def _lane_table(s, thread_keys, async_keys, a_key, a_name, names, first_start) -> list[dict]:
    """pid, tid, name, process name and sort key of every lane.

    Processes in order of their sort index, then pid; in a process, its threads (by
    sort index, then first slice, then tid), then its async lanes.
    """
    pid_ints = _ident_ints(
        sorted({k[0] for k in thread_keys} | {k[0] for k in async_keys}, key=_sort_value)
    )
    tid_ints: dict[Any, dict[Any, int]] = {}
    for pid, _tid in thread_keys:
        tid_ints.setdefault(pid, {})
    for pid, table in tid_ints.items():
        table.update(_ident_ints(sorted({t for p, t in thread_keys if p == pid}, key=_sort_value)))
    out = []
    for k, (pid, tid) in enumerate(thread_keys):
        name = s.thread_names.get((pid, tid))
        if name is None:
            name = tid if isinstance(tid, str) else f"thread {tid}"
        out.append(
            {
                "pid": pid_ints[pid],
                "tid": tid_ints[pid][tid],
                "name": name,
                "process_name": _process_name(s, pid),
                "sort": (
                    s.process_sort.get(pid, 0.0),
                    _sort_value(pid),
                    0,
                    s.thread_sort.get((pid, tid), 0.0),
                    int(first_start[k]),
                    _sort_value(tid),
                ),
            }
        )
    if async_keys:
        names_list = list(names)
        first_name: dict[int, int] = {}
        for k, nm in zip(a_key.tolist(), a_name.tolist(), strict=True):
            first_name.setdefault(k, nm)
        for k, (pid, cat, ident) in enumerate(async_keys):
            tids = [t for t in tid_ints.get(pid, {}).values()]
            fake_tid = min([0, *tids]) - 1 - k
            label = str(names_list[first_name[k]]) if k in first_name else str(cat)
            ident_text = ident if not isinstance(ident, tuple) else ",".join(v for _, v in ident)
            out.append(
                {
                    "pid": pid_ints[pid],
                    "tid": fake_tid,
                    "name": f"{label} (async {ident_text})",
                    "process_name": _process_name(s, pid),
                    "sort": (
                        s.process_sort.get(pid, 0.0),
                        _sort_value(pid),
                        1,
                        0.0,
                        (0, k, str(cat)),
                    ),
                }
            )
    return out


def _process_name(s: _Scan, pid: Any) -> str | None:
    if pid in s.process_names:
        return s.process_names[pid]
    return pid if isinstance(pid, str) else None


def _counter_series(s: _Scan, events: list) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One (t_ns, values) series per counter name and key, in time order."""
    pids_of: dict[tuple, set] = {}
    for pid, name, key in s.counters:
        pids_of.setdefault((name, key), set()).add(pid)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for (pid, name, key), (ts, values, where) in s.counters.items():
        t = _times_ns(ts, where, events)
        try:
            v = np.asarray(values, np.float64)
        except OverflowError:
            raise _find_bad(events, where) from None
        if not np.isfinite(v).all():
            raise _find_bad(events, [where[int(np.argmax(~np.isfinite(v)))]])
        order = np.argsort(t, kind="stable")
        series = name if key == "value" else f"{name} {key}"
        if len(pids_of[(name, key)]) > 1:
            series = f"{series} (pid {pid})"
        out[series] = (t[order], v[order])
    return out
