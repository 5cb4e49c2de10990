"""A continuous run as segments: one per setting between live switches, each with figures.

A segment starts where the lab said so (its ``segment`` message: strategy, workers,
task size) and ends at the next one or at the run's end. A task belongs to the segment
in which it *ended*. Per segment:

- ``tasks_per_s = tasks / seconds`` (seconds without any engine start-up or teardown
  that lies inside it, as the run's wall leaves them out);
- ``work_rate = tasks_per_s * task_ms / 1000``: seconds of asked work done per second,
  the figure that compares segments of different task sizes;
- ``parallelism = cpu_s / seconds`` (the tasks' CPU over the segment's time);
- ``mean_task_ms`` (wall per task) and the wait split's shares (running, waiting for a
  CPU, for the GIL, on I/O), from the sampled thread states when there are some;
- ``speedup = work_rate / work_rate(reference)``: the reference is a sequential
  segment of the same run when there is one (the same workload by construction),
  else the first segment.

``SegmentTracker`` folds bars in as they arrive, by absolute bar number
(``store.bars_dropped`` + index), so a segment keeps its figures after an event
budget (``model.history``) dropped its bars. The rolling rate (the last 2 s) reads the
newest bars, which the budget always keeps.

Threads: any one thread at a time (the window's GUI thread, or a CLI's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from concviz.lab import protocol as P

from .event_store import BAR_SLICE, BAR_STOPPED, EventStore

ROLLING_S = 2.0
# tasks that ended per bin of this width since the run's start: the throughput lane
THROUGHPUT_BIN_NS = 250_000_000
# a bar's wait split is read once the samples around its end have surely arrived
SETTLE_NS = 500_000_000
PART_NAMES = ("running", "cpu_wait", "gil_wait", "io_wait")


@dataclass
class Segment:
    """One setting of a continuous run and what it did (times in the lab's ns)."""

    index: int
    strategy: str
    workers: int
    task_ms: float
    start_ns: int
    end_ns: int | None = None  # None: still going
    tasks: int = 0
    busy_ns: int = 0  # the tasks' summed wall time
    cpu_ns: int = 0
    parts_ns: np.ndarray = field(default_factory=lambda: np.zeros(4))  # PART_NAMES
    sampled_ns: float = 0.0  # wall time of the tasks whose split was sampled
    excluded_ns: int = 0  # engine start-up and teardown inside it

    @property
    def label(self) -> str:
        return setting_label(self.strategy, self.workers)

    def seconds(self, now_ns: int | None = None) -> float:
        end = self.end_ns if self.end_ns is not None else now_ns
        if end is None:
            return 0.0
        return max(0.0, (end - self.start_ns - self.excluded_ns) / 1e9)

    def tasks_per_s(self, now_ns: int | None = None) -> float | None:
        s = self.seconds(now_ns)
        return self.tasks / s if s > 0 else None

    def work_rate(self, now_ns: int | None = None) -> float | None:
        rate = self.tasks_per_s(now_ns)
        return None if rate is None else rate * self.task_ms / 1000.0

    def parallelism(self, now_ns: int | None = None) -> float | None:
        s = self.seconds(now_ns)
        return self.cpu_ns / 1e9 / s if s > 0 else None

    def mean_task_ms(self) -> float | None:
        return self.busy_ns / self.tasks / 1e6 if self.tasks else None

    def wait_shares(self) -> dict[str, float] | None:
        """Share of the sampled tasks' time in each state (None: nothing was sampled)."""
        total = float(self.parts_ns.sum())
        if self.sampled_ns <= 0 or total <= 0:
            return None
        return {k: float(v) / total for k, v in zip(PART_NAMES, self.parts_ns, strict=True)}


def setting_label(strategy: str, workers: int) -> str:
    return "sequential" if strategy == "sequential" else f"{strategy} × {workers}"


def speedup(seg: Segment, ref: Segment | None, now_ns: int | None = None) -> float | None:
    """``S = work_rate(seg) / work_rate(ref)``; None when either has no rate yet."""
    if ref is None:
        return None
    a, b = seg.work_rate(now_ns), ref.work_rate(now_ns)
    if a is None or not b:
        return None
    return a / b


class SegmentTracker:
    """The segments of a store's last run, brought up to date by ``update``."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.segments: list[Segment] = []
        self._counted = 0  # absolute number of the next bar to count
        self._split = 0  # absolute number of the next bar whose split is folded in
        self._run: dict | None = None  # the run_started message the segments belong to
        self.ended = np.zeros(0, np.int64)  # tasks ended per THROUGHPUT_BIN_NS bin
        self.bins_t0 = 0  # where the first bin starts (the run's start)

    # -- reading
    def reference(self, seg: Segment | None = None) -> Segment | None:
        """What ``seg``'s speedup compares with: a sequential segment, else the first."""
        for s in self.segments:
            if s.strategy == "sequential" and s is not seg:
                return s
        return self.segments[0] if self.segments else None

    def speedup(self, seg: Segment, now_ns: int | None = None) -> float | None:
        ref = self.reference(seg)
        if ref is seg:
            return 1.0 if seg.work_rate(now_ns) else None
        return speedup(seg, ref, now_ns)

    def rolling_tasks_per_s(self, now_ns: int, window_s: float = ROLLING_S) -> float | None:
        """Tasks that ended in the last ``window_s`` (or since the current segment began,
        when that is shorter), per second."""
        if not self.segments:
            return None
        lo = max(now_ns - int(window_s * 1e9), self.segments[-1].start_ns)
        span = (now_ns - lo) / 1e9
        if span <= 0.05:
            return None
        b = self.store.bars()
        tail = slice(max(0, len(b["end"]) - 200_000), None)  # the newest bars, in arrival order
        end, kind = b["end"][tail], b["kind"][tail]
        n = int(np.count_nonzero((end >= lo) & (end <= now_ns) & (kind != BAR_SLICE)))
        return n / span

    def rows(self, now_ns: int | None = None) -> list[dict]:
        """Each segment as the run JSON's ``segments`` entries (seconds from the run's start)."""
        t0 = int(self._run["t_ns"]) if self._run else 0
        out = []
        first = self.segments[0] if self.segments else None
        for seg in self.segments:
            end = seg.end_ns if seg.end_ns is not None else now_ns
            shares = seg.wait_shares()
            out.append(
                {
                    "strategy": seg.strategy,
                    "workers": seg.workers,
                    "task_ms": seg.task_ms,
                    "start_s": round((seg.start_ns - t0) / 1e9, 6),
                    "end_s": None if end is None else round((end - t0) / 1e9, 6),
                    "tasks": seg.tasks,
                    "tasks_per_s": _round(seg.tasks_per_s(now_ns)),
                    "work_rate": _round(seg.work_rate(now_ns)),
                    "parallelism": _round(seg.parallelism(now_ns)),
                    "mean_task_ms": _round(seg.mean_task_ms()),
                    "wait_split": None
                    if shares is None
                    else {k: round(v, 4) for k, v in shares.items()},
                    "speedup_vs_first": _round(speedup(seg, first, now_ns)),
                    "speedup": _round(self.speedup(seg, now_ns)),
                }
            )
        return out

    def throughput(self, now_ns: int) -> np.ndarray:
        """Tasks ended per THROUGHPUT_BIN_NS bin from ``bins_t0`` up to ``now_ns``."""
        n = max(0, int((now_ns - self.bins_t0) // THROUGHPUT_BIN_NS) + 1)
        out = np.zeros(n, np.int64)
        k = min(n, len(self.ended))
        out[:k] = self.ended[:k]
        return out

    # -- writing
    def update(self, settle_upto: int | None = None) -> None:
        """Take in the segments and bars that arrived since the last call.

        A bar's wait split is folded in once the samples around its end have arrived
        (SETTLE_NS), or at once for bars numbered below ``settle_upto`` (the run is
        over, or those bars are about to be dropped).
        """
        store = self.store
        if not store.runs:
            return
        info = store.runs[-1]
        if self._run is not info.started:
            self.__init__(store)  # a new run in the same store: start again
            self._run = info.started
            self.bins_t0 = int(info.started["t_ns"])
        self._sync_boundaries(info)
        if not self.segments:
            return
        b = store.bars()
        base = store.bars_dropped
        n = base + len(b["end"])
        if self._counted < base:  # dropped before they were seen: cannot happen via history
            self._counted = base
        if self._counted < n:
            self._count(b, self._counted - base, n - base)
            self._counted = n
        newest = self._newest_sample()
        if self._split < base:
            self._split = base
        if self._split < n:
            k0 = self._split - base
            if newest is None:
                k1 = n - base
            else:  # up to the first bar that ended too recently for its samples
                recent = np.flatnonzero(b["end"][k0:] > newest - SETTLE_NS)
                k1 = k0 + (int(recent[0]) if len(recent) else n - base - k0)
            if settle_upto is not None:
                k1 = max(k1, min(n, settle_upto) - base)
            if k1 > k0:
                self._fold_splits(b, k0, k1)
                self._split = base + k1

    def _sync_boundaries(self, info) -> None:
        segs = info.segments
        started = info.started
        for msg in segs[len(self.segments) :]:
            if self.segments and self.segments[-1].end_ns is None:
                self.segments[-1].end_ns = int(msg["t_ns"])
            self.segments.append(
                Segment(
                    index=len(self.segments),
                    strategy=str(msg.get("strategy")),
                    workers=int(msg.get("workers") or 1),
                    task_ms=float(msg.get("task_ms", started.get("task_ms", 0.0))),
                    start_ns=int(msg["t_ns"]),
                )
            )
        if info.finished is not None and self.segments and self.segments[-1].end_ns is None:
            self.segments[-1].end_ns = int(info.finished["t_ns"])
        for seg in self.segments:
            seg.excluded_ns = _phase_overlap(info.phases, seg.start_ns, seg.end_ns)

    def _segment_of(self, t: np.ndarray) -> np.ndarray:
        starts = np.array([s.start_ns for s in self.segments], np.int64)
        return np.searchsorted(starts, t, side="right") - 1

    def _tasks(self, b: dict, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (within k0:k1) of task bars and their segment (-1: before the first)."""
        kind = b["kind"][k0:k1]
        lanes = self.store.lanes()
        serial = np.array([ln.worker == P.WORKER_SERIAL for ln in lanes], bool)
        lane = b["lane"][k0:k1]
        keep = (kind != BAR_SLICE) & (kind != BAR_STOPPED)  # a stopped task never ended
        if len(serial):
            keep &= ~serial[np.clip(lane, 0, len(serial) - 1)]
        idx = np.flatnonzero(keep)
        seg = self._segment_of(b["end"][k0:k1][idx])
        return idx, seg

    def _count(self, b: dict, k0: int, k1: int) -> None:
        idx, seg = self._tasks(b, k0, k1)
        ok = seg >= 0
        idx, seg = idx[ok], seg[ok]
        if not len(idx):
            return
        end = b["end"][k0:k1][idx]
        bins = np.maximum((end - self.bins_t0) // THROUGHPUT_BIN_NS, 0)
        per_bin = np.bincount(bins)
        if len(per_bin) > len(self.ended):
            grown = np.zeros(max(len(per_bin), 2 * len(self.ended)), np.int64)
            grown[: len(self.ended)] = self.ended
            self.ended = grown
        self.ended[: len(per_bin)] += per_bin
        m = len(self.segments)
        wall = (b["end"][k0:k1][idx] - b["start"][k0:k1][idx]).astype(np.int64)
        cpu = b["cpu"][k0:k1][idx].astype(np.int64)
        count = np.bincount(seg, minlength=m)
        busy = np.bincount(seg, weights=wall, minlength=m)
        cpus = np.bincount(seg, weights=cpu, minlength=m)
        for j in np.flatnonzero(count).tolist():
            s = self.segments[j]
            s.tasks += int(count[j])
            s.busy_ns += int(busy[j])
            s.cpu_ns += int(cpus[j])

    def _fold_splits(self, b: dict, k0: int, k1: int) -> None:
        from .wait_states import bar_splits

        idx, seg = self._tasks(b, k0, k1)
        ok = seg >= 0
        idx, seg = idx[ok], seg[ok]
        if not len(idx):
            return
        split = bar_splits(self.store, idx + k0)
        if split is None:
            return
        sampled = split["sampled"]
        if not sampled.any():
            return
        seg = seg[sampled]
        m = len(self.segments)
        wall = (b["end"][k0:k1][idx] - b["start"][k0:k1][idx])[sampled].astype(float)
        sums = [np.bincount(seg, weights=split[k][sampled], minlength=m) for k in PART_NAMES]
        walls = np.bincount(seg, weights=wall, minlength=m)
        for j in np.flatnonzero(walls).tolist():
            s = self.segments[j]
            s.parts_ns = s.parts_ns + np.array([x[j] for x in sums])
            s.sampled_ns += float(walls[j])

    def _newest_sample(self) -> int | None:
        waits = self.store.waits
        if waits is None or waits.source != "sampled":
            return None
        t = waits.view()["t"]
        return int(t[-1]) if len(t) else None


def tracker_for(store: EventStore) -> SegmentTracker:
    """The store's one tracker (made on first use), shared by its views and its budget."""
    tracker = store.segment_tracker
    if tracker is None:
        tracker = store.segment_tracker = SegmentTracker(store)
    return tracker


def run_segments(store: EventStore, end_ns: int | None = None) -> list[dict]:
    """The ``segments`` of the store's last run, for its run JSON (the run has ended).

    ``end_ns``: where a run that never finished (its lab died) ended, as its result
    says (``run_object``): its last segment ends there, not nowhere.
    """
    if not store.runs:
        return []
    tracker = tracker_for(store)
    tracker.update(settle_upto=2**62)
    return tracker.rows(end_ns)


def switch_label(
    before: Segment, after: Segment, now_ns: int | None = None, names: bool = True
) -> str:
    """A switch marker's words: "threads × 2 → process-pool × 2: 200 → 390 tasks/s, 1.9×";
    without ``names`` only the figures (where the view has no room for the rest: the
    segments table names them)."""
    what = f"{before.label} → {after.label}"
    if before.task_ms != after.task_ms:
        what += f" ({before.task_ms:g} → {after.task_ms:g} ms tasks)"
    a, b = before.tasks_per_s(now_ns), after.tasks_per_s(now_ns)
    if a is None or b is None:
        return what
    ratio = speedup(after, before, now_ns)
    rates = f"{rate_text(a)} → {rate_text(b)} tasks/s"
    text = f"{what}: {rates}" if names else rates
    if ratio is not None:
        text += f", {ratio:.1f}×"
    return text


def rate_text(rate: float) -> str:
    """Tasks per second as a person reads them: 3 significant figures, no false precision."""
    if rate >= 100:
        return f"{rate:,.0f}"
    if rate >= 10:
        return f"{rate:.1f}"
    return f"{rate:.2f}"


def _phase_overlap(phases: list[dict], lo: int, hi: int | None) -> int:
    total = 0
    for ph in phases:
        if ph.get("kind") not in ("startup", "teardown") or ph.get("t_ns") is None:
            continue
        top = int(ph["t_ns"]) if hi is None else min(int(ph["t_ns"]), hi)
        total += max(0, top - max(int(ph["t0_ns"]), lo))
    return total


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)
