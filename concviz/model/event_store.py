"""The columnar store of one lab session's events: bars, lanes, markers, errors.

Decoded batches are appended as numpy columns (no Python object per event). A *bar*
is a finished interval: a task (start -> end or error) or, for asyncio, one
resume -> suspend slice of a coroutine. A *lane* is one worker: a (pid, native
thread id, worker index) triple, so rows can be grouped process -> thread -> worker.

Threads: ``add_frame`` and the ``add_*`` methods run on the reader thread; readers
(``bars``, ``lanes``, ``open_bars``...) run on any thread and get consistent copies
or read-only views taken under the store's lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from concviz.lab import protocol as P

RECORD_DTYPE = np.dtype(list(P.RECORD_FIELDS))
assert RECORD_DTYPE.itemsize == P.RECORD_SIZE

BAR_TASK = 0
BAR_ERROR = 1
BAR_SLICE = 2
# A task the run's stop cut short, or one still running when its run ended: neither
# a success nor a failure, and drawn apart from both.
BAR_STOPPED = 3

BAR_FIELDS = (
    ("lane", np.int32),
    ("task", np.int64),
    ("start", np.int64),
    ("end", np.int64),
    ("cpu", np.int64),
    ("kind", np.uint8),
)


# A task blocked on a synchronisation object (lab/sync.py): the object's id (named in
# ``EventStore.sync_objects``), the task that held it (-1: none or unknown), its kind.
WAIT_FIELDS = (
    ("lane", np.int32),
    ("task", np.int64),
    ("start", np.int64),
    ("end", np.int64),
    ("object", np.int64),
    ("holder", np.int64),
    ("kind", np.uint8),
)
# Samples of a counter (a queue's depth) over time.
COUNTER_FIELDS = (("object", np.int64), ("t", np.int64), ("value", np.int64))


class _Columns:
    """Growable numpy columns (amortised doubling)."""

    def __init__(self, fields, capacity: int = 1024) -> None:
        self.fields = fields
        self.n = 0
        self.cols = {name: np.empty(capacity, dtype) for name, dtype in fields}

    def append(self, **values: np.ndarray) -> None:
        k = len(next(iter(values.values())))
        if k == 0:
            return
        need = self.n + k
        cap = len(next(iter(self.cols.values())))
        if need > cap:
            new_cap = max(need, cap * 2)
            for name, col in self.cols.items():
                grown = np.empty(new_cap, col.dtype)
                grown[: self.n] = col[: self.n]
                self.cols[name] = grown
        for name, v in values.items():
            self.cols[name][self.n : need] = v
        self.n = need

    def view(self) -> dict[str, np.ndarray]:
        out = {}
        for name, col in self.cols.items():
            v = col[: self.n]
            v.flags.writeable = False
            out[name] = v
        return out


@dataclass
class Lane:
    """One worker row of the timeline."""

    index: int
    pid: int
    tid: int
    worker: int
    has_slices: bool = False
    name: str | None = None  # what the strategy calls it: an asyncio task, an interpreter

    @property
    def label(self) -> str:
        if self.worker == P.WORKER_SERIAL:
            return "serial step"
        if self.name:
            return self.name
        return f"worker {self.worker + 1}"  # from 1, as people count


@dataclass
class RunInfo:
    """What the lab said about one run (``run_started`` .. ``run_finished``)."""

    started: dict
    finished: dict | None = None
    segments: list[dict] = field(default_factory=list)
    phases: list[dict] = field(default_factory=list)  # an engine's start-up and teardown
    engine: dict = field(default_factory=dict)  # what an engine said (dashboard, offsets)


# per event kind (a lookup, not a chain of comparisons per batch): whether it closes a
# bar, and the bar's kind
_N_KINDS = 256
_DONE_KINDS = [P.EV_END, P.EV_ERROR, P.EV_SLICE_END, P.EV_STOPPED]
_IS_DONE = np.zeros(_N_KINDS, bool)
_IS_DONE[_DONE_KINDS] = True
_IS_TASK_END = np.zeros(_N_KINDS, bool)  # ends a task (a slice's end does not)
_IS_TASK_END[[P.EV_END, P.EV_ERROR, P.EV_STOPPED]] = True
_BAR_KIND = np.full(_N_KINDS, BAR_TASK, np.uint8)
_BAR_KIND[P.EV_SLICE_END] = BAR_SLICE
_BAR_KIND[P.EV_ERROR] = BAR_ERROR
_BAR_KIND[P.EV_STOPPED] = BAR_STOPPED
# the same lookups for ``EventStore._add_few``, which reads records as Python tuples
_DONE_SET = frozenset(_DONE_KINDS)
_TASK_END_SET = frozenset((P.EV_END, P.EV_ERROR, P.EV_STOPPED))
_BAR_KIND_OF = {k: int(_BAR_KIND[k]) for k in _DONE_KINDS}
_NOT_WORK = frozenset((P.WORKER_DISPATCH, P.WORKER_PROBE, P.WORKER_COUNTER))
# a batch of at most this many records is decoded record by record (``_add_few``):
# warm, the two ways cost the same at about 128 records (70 µs); at 2 records 8 µs
# against 57 µs, and in a reader thread woken for each batch 40 µs against 300 µs
SMALL_BATCH = 64


def _columns(fields, rows: list[tuple]) -> dict[str, list]:
    """Rows of tuples as one list per field, named as ``fields``."""
    return {name: list(col) for (name, _), col in zip(fields, zip(*rows, strict=True), strict=True)}


class EventStore:
    """Everything one lab session reported, in numpy columns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bars = _Columns(BAR_FIELDS)
        self._queued = _Columns((("task", np.int64), ("t", np.int64)))
        self._probes = _Columns((("t", np.int64), ("late", np.int64)))
        self._waits = _Columns(WAIT_FIELDS)
        self._counters = _Columns(COUNTER_FIELDS)
        self.sync_objects: dict[int, dict] = {}  # id -> {"name", "kind"}
        self._lanes: list[Lane] = []
        self._lane_of: dict[tuple[int, int, int], int] = {}
        self._names: dict[tuple[int, int, int], str] = {}
        # open task per lane: start time (or -1) and task id
        self._open_start = np.full(0, -1, np.int64)
        self._open_task = np.full(0, -1, np.int64)
        self._last_end = np.full(0, -1, np.int64)
        self.hello: dict | None = None
        self.runs: list[RunInfo] = []
        self.markers: list[dict] = []
        self.task_errors: dict[int, str] = {}
        self.errors: list[dict] = []
        self.output: list[str] = []
        self.other: list[dict] = []
        self.version = 0  # bumped on every change, so a view can skip redrawing
        self.t_min: int | None = None
        self.t_max: int | None = None
        # what the worker threads were doing, sampled from outside (model.wait_states),
        # and the cores other programs used during the run: set by whoever observed it
        self.waits = None
        self.machine_busy_cores: float | None = None
        # the watcher's own CPU over the run (the window's or the CLI's), in cores
        self.observer_core_fraction: float | None = None
        self.probe_thread: tuple[int, int] | None = None  # the sleep probe's (pid, tid)
        # a long continuous run: how many of the oldest bars an event budget dropped
        # (``model.history``, which keeps their aggregate), and its segments' figures
        self.bars_dropped = 0
        self.history = None  # model.history.History of the dropped bars, or None
        self.segment_tracker = None  # model.segments.SegmentTracker, made on first use

    # ------------------------------------------------------------ writing
    def add_frame(self, kind: int, payload: bytes) -> dict | None:
        """Take one frame from the lab; returns the JSON object for JSON frames."""
        if kind == P.FRAME_EVENTS:
            self.add_events(np.frombuffer(payload, dtype=RECORD_DTYPE))
            return None
        if kind == P.FRAME_OUTPUT:
            with self._lock:
                self.output.append(payload.decode("utf-8", "replace"))
                self.version += 1
            return None
        import json

        obj = json.loads(payload)
        self.add_json(obj)
        return obj

    def add_json(self, obj: dict) -> None:
        kind = obj.get("type")
        with self._lock:
            if kind == "hello":
                self.hello = obj
            elif kind == "run_started":
                self.runs.append(RunInfo(started=obj))
                self._extend_time(obj["t_ns"], obj["t_ns"])
            elif kind == "segment" and self.runs:
                self.runs[-1].segments.append(obj)
            elif kind == "phase" and self.runs:
                self._add_phase(self.runs[-1], obj)
            elif kind == "engine" and self.runs:
                self.runs[-1].engine.update({k: v for k, v in obj.items() if k != "type"})
            elif kind == "run_finished" and self.runs:
                self.runs[-1].finished = obj
                self._close_open_as_stopped(int(obj["t_ns"]))
                self._extend_time(obj["t_ns"], obj["t_ns"])
            elif kind == "marker":
                self.markers.append(obj)
            elif kind == "probe_thread":
                self.probe_thread = (int(obj["pid"]), int(obj["tid"]))
            elif kind == "sync_object":
                self.sync_objects[int(obj["id"])] = {
                    "name": str(obj.get("name")),
                    "kind": str(obj.get("kind")),
                }
            elif kind == "task_error":
                self.task_errors[int(obj["task"])] = str(obj["error"])
            elif kind == "error":
                self.errors.append(obj)
            elif kind == "workers":
                for worker, name in obj.get("names", {}).items():
                    key = (int(obj["pid"]), int(obj["tid"]), int(worker))
                    self._names[key] = str(name)
                    if key in self._lane_of:
                        self._lanes[self._lane_of[key]].name = str(name)
            else:
                self.other.append(obj)
            self.version += 1

    def phases(self) -> list[dict]:
        """Every engine phase of every run, oldest first (an open one has ``t_ns`` None)."""
        with self._lock:
            return [dict(ph) for run in self.runs for ph in run.phases]

    def _add_phase(self, run: RunInfo, obj: dict) -> None:
        """A phase arrives when it begins (``t_ns`` None) and again when it ends."""
        for i, ph in enumerate(run.phases):
            if ph["t0_ns"] == obj["t0_ns"] and ph["kind"] == obj["kind"]:
                run.phases[i] = obj
                break
        else:
            run.phases.append(obj)
        self._extend_time(obj["t0_ns"], obj["t_ns"] or obj["t0_ns"])

    def add_events(self, rec: np.ndarray) -> None:
        if len(rec) == 0:
            return
        if len(rec) <= SMALL_BATCH:
            self._add_few(rec)
            return
        with self._lock:
            lanes = self._lanes_for(rec)
            kind = rec["kind"]
            # which kinds the batch holds, once: a small batch's cost is its numpy calls
            present = np.bincount(kind, minlength=_N_KINDS)
            if present[_DONE_KINDS].any():
                done = _IS_DONE[kind]
                bk = _BAR_KIND[kind[done]]
                self._bars.append(
                    lane=lanes[done],
                    task=rec["task"][done],
                    start=rec["t0_ns"][done],
                    end=rec["t_ns"][done],
                    cpu=rec["cpu_ns"][done],
                    kind=bk,
                )
            if present[P.EV_QUEUED]:
                queued = kind == P.EV_QUEUED
                self._queued.append(task=rec["task"][queued], t=rec["t_ns"][queued])
            if present[P.EV_PROBE]:
                probes = kind == P.EV_PROBE
                self._probes.append(t=rec["t_ns"][probes], late=rec["cpu_ns"][probes])
            if present[P.EV_WAIT]:
                waits = kind == P.EV_WAIT
                packed = rec["cpu_ns"][waits]
                self._waits.append(
                    lane=lanes[waits],
                    task=rec["task"][waits],
                    start=rec["t0_ns"][waits],
                    end=rec["t_ns"][waits],
                    object=packed >> P.HOLDER_BITS,
                    holder=(packed & P.HOLDER_MASK) - 1,
                    kind=rec["flags"][waits],
                )
            if present[P.EV_COUNTER]:
                counters = kind == P.EV_COUNTER
                self._counters.append(
                    object=rec["task"][counters],
                    t=rec["t_ns"][counters],
                    value=rec["cpu_ns"][counters],
                )
            self._update_open(rec, lanes, kind, present)
            self._extend_time(int(rec["t_ns"].min()), int(rec["t_ns"].max()))
            self.version += 1

    def _add_few(self, rec: np.ndarray) -> None:
        """``add_events`` for a batch of a few records, record by record in Python.

        A live run of long tasks sends a frame of two or three events at a time, and
        the reader thread decodes it between sleeps: each numpy call then runs cold,
        and the forty of the columnar path cost about 300 µs a batch (a hundredth of
        a core at 30 batches a second, measured following a run of 50 ms tasks). The
        same result (``tests/model/test_event_store_small_batches.py``), from one
        ``tolist``."""
        done_kind, bar_kind, task_end = _DONE_SET, _BAR_KIND_OF, _TASK_END_SET
        not_work = _NOT_WORK
        bars: list[tuple] = []
        queued: list[tuple] = []
        probes: list[tuple] = []
        waits: list[tuple] = []
        counters: list[tuple] = []
        starts: dict[int, tuple[int, int]] = {}  # lane -> its latest start (t, task)
        ends: dict[int, int] = {}  # lane -> its latest task end
        slices: set[int] = set()
        with self._lock:
            lane_of = self._lane_of
            t_lo = t_hi = None
            for kind, flags, worker, task, pid, tid, t, cpu, t0 in rec.tolist():
                if t_lo is None or t < t_lo:
                    t_lo = t
                if t_hi is None or t > t_hi:
                    t_hi = t
                if worker in not_work:
                    lane = -1
                else:
                    lane = lane_of.get((pid, tid, worker))
                    if lane is None:
                        lane = self._lane(pid, tid, worker)
                    if kind == P.EV_SLICE_START or kind == P.EV_SLICE_END:
                        slices.add(lane)
                if kind in done_kind:
                    bars.append((lane, task, t0, t, cpu, bar_kind[kind]))
                    if kind in task_end and t > ends.get(lane, -(1 << 63)):
                        ends[lane] = t
                elif kind == P.EV_START:
                    # the latest start per lane wins; of equal times, the later record
                    if t >= starts.get(lane, (-(1 << 63), 0))[0]:
                        starts[lane] = (t, task)
                elif kind == P.EV_QUEUED:
                    queued.append((task, t))
                elif kind == P.EV_PROBE:
                    probes.append((t, cpu))
                elif kind == P.EV_WAIT:
                    waits.append(
                        (lane, task, t0, t, cpu >> P.HOLDER_BITS, (cpu & P.HOLDER_MASK) - 1, flags)
                    )
                elif kind == P.EV_COUNTER:
                    counters.append((task, t, cpu))
            for lane in slices:
                self._lanes[lane].has_slices = True
            self._grow_open()
            for cols, rows in (
                (self._bars, bars),
                (self._queued, queued),
                (self._probes, probes),
                (self._waits, waits),
                (self._counters, counters),
            ):
                if rows:
                    cols.append(**_columns(cols.fields, rows))
            open_start, open_task, last_end = self._open_start, self._open_task, self._last_end
            for lane, (t, task) in starts.items():
                if t > open_start[lane]:
                    open_start[lane] = t
                    open_task[lane] = task
            for lane, t in ends.items():
                if t > last_end[lane]:
                    last_end[lane] = t
            for lane in starts.keys() | ends.keys():
                if last_end[lane] >= open_start[lane]:
                    open_start[lane] = -1
                    open_task[lane] = -1
            self._extend_time(t_lo, t_hi)
            self.version += 1

    def _grow_open(self) -> None:
        """One open-task slot per lane."""
        n = len(self._lanes)
        if len(self._open_start) < n:
            grow = n - len(self._open_start)
            self._open_start = np.concatenate([self._open_start, np.full(grow, -1, np.int64)])
            self._open_task = np.concatenate([self._open_task, np.full(grow, -1, np.int64)])
            self._last_end = np.concatenate([self._last_end, np.full(grow, -1, np.int64)])

    def _lanes_for(self, rec: np.ndarray) -> np.ndarray:
        out = np.full(len(rec), -1, np.int32)
        is_work = (
            (rec["worker"] != P.WORKER_DISPATCH)
            & (rec["worker"] != P.WORKER_PROBE)
            & (rec["worker"] != P.WORKER_COUNTER)
        )
        if not is_work.any():
            return out
        work = rec[is_work]
        pid, tid, worker = work["pid"], work["tid"], work["worker"]
        # A batch holds each thread's events contiguously, so its keys come in a few
        # runs: look up one lane per run (np.unique over rows sorted every batch and
        # cost more than the rest of decoding).
        change = np.flatnonzero(
            (pid[1:] != pid[:-1]) | (tid[1:] != tid[:-1]) | (worker[1:] != worker[:-1])
        )
        starts = np.concatenate(([0], change + 1))
        if len(starts) <= 256:
            keys = zip(
                pid[starts].tolist(), tid[starts].tolist(), worker[starts].tolist(), strict=True
            )
            ids = np.fromiter((self._lane(*key) for key in keys), np.int32, len(starts))
            out[is_work] = np.repeat(ids, np.diff(np.concatenate((starts, [len(work)]))))
        else:
            keys3 = np.stack(
                [pid.astype(np.int64), tid.astype(np.int64), worker.astype(np.int64)], axis=1
            )
            uniq, inverse = np.unique(keys3, axis=0, return_inverse=True)
            ids = np.fromiter((self._lane(*key) for key in uniq.tolist()), np.int32, len(uniq))
            out[is_work] = ids[inverse.reshape(-1)]
        slices = is_work & ((rec["kind"] == P.EV_SLICE_START) | (rec["kind"] == P.EV_SLICE_END))
        for lane in np.unique(out[slices]).tolist():
            self._lanes[lane].has_slices = True
        self._grow_open()
        return out

    def _lane(self, pid: int, tid: int, worker: int) -> int:
        lane = self._lane_of.get((pid, tid, worker))
        if lane is None:
            lane = len(self._lanes)
            self._lanes.append(
                Lane(lane, pid, tid, worker, name=self._names.get((pid, tid, worker)))
            )
            self._lane_of[(pid, tid, worker)] = lane
        return lane

    def _update_open(
        self, rec: np.ndarray, lanes: np.ndarray, kind: np.ndarray, present: np.ndarray
    ) -> None:
        if present[P.EV_START]:
            # the latest start per lane wins (records of one lane arrive in order)
            starts = kind == P.EV_START
            lane_s, t_s, task_s = lanes[starts], rec["t_ns"][starts], rec["task"][starts]
            order = np.lexsort((t_s, lane_s))
            lane_s, t_s, task_s = lane_s[order], t_s[order], task_s[order]
            last = np.concatenate((lane_s[1:] != lane_s[:-1], [True]))
            later = t_s[last] > self._open_start[lane_s[last]]
            self._open_start[lane_s[last][later]] = t_s[last][later]
            self._open_task[lane_s[last][later]] = task_s[last][later]
        if present[P.EV_END] or present[P.EV_ERROR] or present[P.EV_STOPPED]:
            ends = _IS_TASK_END[kind]
            np.maximum.at(self._last_end, lanes[ends], rec["t_ns"][ends])
        closed = self._last_end >= self._open_start
        self._open_start[closed] = -1
        self._open_task[closed] = -1

    def _close_open_as_stopped(self, t_ns: int) -> None:
        """The run ended: every task still open is a stopped bar ending then.

        A task the stop could not end (stuck in a thread the lab abandoned) or one
        cut off by a failing run never sends its end; without this it would stay
        "running" for ever.
        """
        idx = np.flatnonzero(self._open_start >= 0)
        if not len(idx):
            return
        start = self._open_start[idx]
        self._bars.append(
            lane=idx.astype(np.int32),
            task=self._open_task[idx],
            start=start,
            end=np.maximum(start, t_ns),
            cpu=np.zeros(len(idx), np.int64),
            kind=np.full(len(idx), BAR_STOPPED, np.uint8),
        )
        self._last_end[idx] = np.maximum(self._last_end[idx], t_ns)
        self._open_start[idx] = -1
        self._open_task[idx] = -1

    def _extend_time(self, lo: int, hi: int) -> None:
        self.t_min = lo if self.t_min is None else min(self.t_min, lo)
        self.t_max = hi if self.t_max is None else max(self.t_max, hi)

    # ------------------------------------------------------------ reading
    def bars(self) -> dict[str, np.ndarray]:
        """Read-only views of every finished bar (arrival order)."""
        with self._lock:
            return self._bars.view()

    def queued(self) -> dict[str, np.ndarray]:
        with self._lock:
            return self._queued.view()

    def probes(self) -> dict[str, np.ndarray]:
        """GIL sleep-probe samples: wake-up time and how late it was (ns)."""
        with self._lock:
            return self._probes.view()

    def wait_slices(self) -> dict[str, np.ndarray]:
        """Read-only views of every recorded wait on a sync object (``WAIT_FIELDS``)."""
        with self._lock:
            return self._waits.view()

    def counters(self) -> dict[str, np.ndarray]:
        """Read-only views of every counter sample (a queue's depth): object, t, value."""
        with self._lock:
            return self._counters.view()

    def sync_name(self, obj: int) -> tuple[str, str]:
        """(name, kind) of a sync object id; a placeholder for one never named."""
        info = self.sync_objects.get(int(obj))
        if info is None:
            return f"object {int(obj)}", "object"
        return info["name"], info["kind"]

    def lanes(self) -> list[Lane]:
        with self._lock:
            return list(self._lanes)

    def open_bars(self) -> list[tuple[int, int, int]]:
        """(lane, task, start_ns) for each task running now."""
        with self._lock:
            idx = np.nonzero(self._open_start >= 0)[0]
            return [
                (int(i), int(self._open_task[i]), int(self._open_start[i])) for i in idx.tolist()
            ]

    @property
    def bar_count(self) -> int:
        return self._bars.n

    def task_bars(self, run: int = -1) -> dict[str, np.ndarray]:
        """Finished task bars (not slices) of one run, within its time span."""
        b = self.bars()
        keep = b["kind"] != BAR_SLICE
        if self.runs:
            info = self.runs[run]
            lo = info.started["t_ns"]
            hi = info.finished["t_ns"] if info.finished else np.iinfo(np.int64).max
            keep &= (b["start"] >= lo) & (b["end"] <= hi)
        out = {k: v[keep] for k, v in b.items()}
        out["index"] = np.flatnonzero(keep)  # where each is in bars(): for per-bar data
        return out

    def drop_oldest_bars(self, k: int) -> dict[str, np.ndarray]:
        """Remove the ``k`` oldest bars (arrival order) and their queued times; returns
        the removed bars. Bars are numbered from ``bars_dropped`` afterwards, and a wait
        split frozen per bar (``waits.frozen``) moves with them."""
        with self._lock:
            v = self._bars.view()
            k = max(0, min(int(k), len(v["start"])))
            gone = {name: col[:k].copy() for name, col in v.items()}
            if k == 0:
                return gone
            rest = {name: col[k:] for name, col in v.items()}
            fresh = _Columns(BAR_FIELDS, capacity=max(1024, 2 * len(rest["start"])))
            fresh.append(**rest)
            self._bars = fresh
            if len(gone["start"]):
                q = self._queued.view()
                keep = q["t"] >= int(gone["start"].max())
                if not keep.all():
                    kept = _Columns(
                        (("task", np.int64), ("t", np.int64)),
                        capacity=max(1024, 2 * int(keep.sum())),
                    )
                    kept.append(**{name: col[keep] for name, col in q.items()})
                    self._queued = kept
            self.bars_dropped += k
            self.version += 1
        waits = self.waits
        if waits is not None and waits.frozen is not None:
            waits.frozen = waits.frozen[:, k:].copy() if waits.frozen.shape[1] > k else None
        return gone

    # ------------------------------------------------------------ imported traces
    def add_imported(
        self,
        lanes: list[tuple[int, int, str]],
        *,
        lane: np.ndarray,
        task: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        kind: int | np.ndarray = BAR_TASK,
        cpu: np.ndarray | None = None,
    ) -> None:
        """Add a trace's rows and finished bars at once (``interop.trace_import``).

        ``lanes`` are (pid, tid, name) in row order; lane ``k`` gets worker index
        ``k`` (small and unique, so rows sort as given). ``lane`` indexes that list.
        """
        n = len(lane)
        with self._lock:
            base = len(self._lanes)
            for k, (pid, tid, name) in enumerate(lanes):
                key = (int(pid), int(tid), base + k)
                self._lane_of[key] = base + k
                self._names[key] = str(name)
                self._lanes.append(Lane(base + k, key[0], key[1], key[2], name=str(name)))
            grow = len(self._lanes) - len(self._open_start)
            if grow > 0:
                self._open_start = np.concatenate([self._open_start, np.full(grow, -1, np.int64)])
                self._open_task = np.concatenate([self._open_task, np.full(grow, -1, np.int64)])
                self._last_end = np.concatenate([self._last_end, np.full(grow, -1, np.int64)])
            if n:
                self._bars.append(
                    lane=np.asarray(lane, np.int32) + base,
                    task=np.asarray(task, np.int64),
                    start=np.asarray(start, np.int64),
                    end=np.asarray(end, np.int64),
                    cpu=np.zeros(n, np.int64) if cpu is None else np.asarray(cpu, np.int64),
                    kind=np.broadcast_to(np.asarray(kind, np.uint8), (n,)),
                )
                self._extend_time(int(np.min(start)), int(np.max(end)))
            self.version += 1

    # ------------------------------------------------------------ saving
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Everything this store holds, to save it: ``(JSON-able dict, numpy columns)``.

        ``EventStore.from_state(*store.state())`` rebuilds it exactly (its bars, lanes,
        open tasks, runs, markers, output, wait samples); the session file
        (``interop/session_file.py``) writes the two parts as JSON and ``.npy`` members.
        """
        with self._lock:
            cols: dict[str, np.ndarray] = {}
            for group, columns in (
                ("bars", self._bars),
                ("queued", self._queued),
                ("probes", self._probes),
                ("sync_waits", self._waits),
                ("counters", self._counters),
            ):
                for name, col in columns.view().items():
                    cols[f"{group}.{name}"] = col.copy()
            cols["open.start"] = self._open_start.copy()
            cols["open.task"] = self._open_task.copy()
            cols["open.last_end"] = self._last_end.copy()
            info = {
                "hello": self.hello,
                "runs": [
                    {
                        "started": r.started,
                        "finished": r.finished,
                        "segments": r.segments,
                        "phases": r.phases,
                        "engine": r.engine,
                    }
                    for r in self.runs
                ],
                "lanes": [
                    {
                        "pid": lane.pid,
                        "tid": lane.tid,
                        "worker": lane.worker,
                        "has_slices": lane.has_slices,
                        "name": lane.name,
                    }
                    for lane in self._lanes
                ],
                # names announced for workers that never ran a task (yet)
                "names": [[*key, name] for key, name in self._names.items()],
                "markers": self.markers,
                "task_errors": [[task, error] for task, error in self.task_errors.items()],
                "errors": self.errors,
                "output": self.output,
                "other": self.other,
                "t_min": self.t_min,
                "t_max": self.t_max,
                "machine_busy_cores": self.machine_busy_cores,
                "observer_core_fraction": self.observer_core_fraction,
                "sync_objects": [[k, v["name"], v["kind"]] for k, v in self.sync_objects.items()],
                "probe_thread": list(self.probe_thread) if self.probe_thread else None,
                "waits": None,
            }
            waits = self.waits
        if waits is not None:
            info["waits"] = {"source": waits.source, "reason": waits.reason}
            for name, col in waits.view().items():
                cols[f"waits.{name}"] = col.copy()
            if waits.frozen is not None:
                cols["waits.frozen"] = waits.frozen.copy()
        return info, cols

    @classmethod
    def from_state(cls, info: dict, cols: dict[str, np.ndarray]) -> EventStore:
        """The store that ``state()`` described; ValueError (one sentence) if inconsistent.

        The columns are checked (present, one-dimensional, integer, lengths that agree,
        lanes and kinds in range) so that nothing read later can index out of range.
        The JSON part's types are the caller's to check (``interop.session_file``).
        """
        from .wait_states import FIELDS as SAMPLE_FIELDS
        from .wait_states import WaitSamples

        store = cls()
        lanes = info["lanes"]
        n_lanes = len(lanes)

        def column(name: str, dtype, length: int | None) -> np.ndarray:
            col = cols.get(name)
            if col is None:
                raise ValueError(f"the column {name} is missing")
            if col.ndim != 1 or col.dtype.kind not in "iub":
                raise ValueError(f"the column {name} is not a list of whole numbers")
            if length is not None and len(col) != length:
                raise ValueError(f"the column {name} has {len(col)} values, not {length}")
            out = col.astype(dtype)
            if not np.array_equal(out, col):
                raise ValueError(f"the column {name} has values out of range")
            return out

        def group(prefix: str, fields, columns: _Columns) -> dict[str, np.ndarray]:
            first = cols.get(f"{prefix}.{fields[0][0]}")
            n = len(first) if first is not None and first.ndim == 1 else None
            values = {name: column(f"{prefix}.{name}", dt, n) for name, dt in fields}
            columns.append(**values)
            return values

        bars = group("bars", BAR_FIELDS, store._bars)
        if len(bars["lane"]) and (bars["lane"].min() < 0 or bars["lane"].max() >= n_lanes):
            raise ValueError("a bar names a worker lane that does not exist")
        if len(bars["kind"]) and bars["kind"].max() > BAR_STOPPED:
            raise ValueError("a bar has an unknown kind")
        group("queued", (("task", np.int64), ("t", np.int64)), store._queued)
        group("probes", (("t", np.int64), ("late", np.int64)), store._probes)
        if "sync_waits.lane" in cols:  # files from before waits were recorded have none
            waits = group("sync_waits", WAIT_FIELDS, store._waits)
            if len(waits["lane"]) and (waits["lane"].min() < 0 or waits["lane"].max() >= n_lanes):
                raise ValueError("a wait names a worker lane that does not exist")
        if "counters.object" in cols:
            group("counters", COUNTER_FIELDS, store._counters)
        store._open_start = column("open.start", np.int64, n_lanes)
        store._open_task = column("open.task", np.int64, n_lanes)
        store._last_end = column("open.last_end", np.int64, n_lanes)
        for i, lane in enumerate(lanes):
            key = (int(lane["pid"]), int(lane["tid"]), int(lane["worker"]))
            if key in store._lane_of:
                raise ValueError(f"the worker lane {key} appears twice")
            store._lanes.append(Lane(i, *key, bool(lane["has_slices"]), lane["name"]))
            store._lane_of[key] = i
        for pid, tid, worker, name in info["names"]:
            store._names[(int(pid), int(tid), int(worker))] = str(name)
        store.hello = info["hello"]
        store.runs = [
            RunInfo(
                started=r["started"],
                finished=r["finished"],
                segments=list(r["segments"]),
                phases=list(r["phases"]),
                engine=dict(r["engine"]),
            )
            for r in info["runs"]
        ]
        store.markers = list(info["markers"])
        store.task_errors = {int(task): str(error) for task, error in info["task_errors"]}
        store.errors = list(info["errors"])
        store.output = list(info["output"])
        store.other = list(info["other"])
        store.t_min, store.t_max = info["t_min"], info["t_max"]
        store.machine_busy_cores = info["machine_busy_cores"]
        store.observer_core_fraction = info.get("observer_core_fraction")
        for obj_id, name, kind in info.get("sync_objects") or []:
            store.sync_objects[int(obj_id)] = {"name": str(name), "kind": str(kind)}
        probe = info.get("probe_thread")
        store.probe_thread = (int(probe[0]), int(probe[1])) if probe else None
        if info.get("waits") is not None:
            waits = store.waits = WaitSamples()
            waits.source = str(info["waits"]["source"])
            waits.reason = info["waits"]["reason"]
            if "waits.t" in cols and "waits.sys_ns" not in cols:  # saved before it was read
                cols = {**cols, "waits.sys_ns": np.full(len(cols["waits.t"]), -1, np.int64)}
            group("waits", SAMPLE_FIELDS, waits._cols)
            frozen = cols.get("waits.frozen")
            if frozen is not None:
                if frozen.ndim != 2 or frozen.shape[0] not in (4, 5) or frozen.dtype.kind != "f":
                    raise ValueError("the frozen wait split is not four or five rows of numbers")
                waits.frozen = frozen.astype(np.float32)
        store.version = 1
        return store
