"""Keeping a class-long continuous run flat: an event budget and an aggregate of the past.

A continuous run of 1 ms tasks makes two thousand bars a second. The window keeps
full detail for the newest ``EventBudget.bars`` bars only; older ones are folded into
a ``History``: per worker lane, fixed time bins holding how long the lane was busy
and how that time split into running, waiting for a CPU, for the GIL and on I/O
(``STATES``), and how many tasks ended in each. When the bins would pass
``MAX_BINS`` their width doubles (neighbours merge), so the aggregate has a fixed
size however long the run lasts. Segment figures are folded in before the bars go
(``model.segments``), so every segment keeps its numbers.

``column_mix`` is the one integration both use: how much of each pixel column (or
bin) a row's bars covered, state by state, exactly (a bar's time is spread evenly
over its span). The Gantt draws dense rows with it.

Threads: the caller's (the window's GUI thread, or a bench's).
"""

from __future__ import annotations

import numpy as np

from .event_store import BAR_SLICE, EventStore

# busy wall time, then its split: running, waiting for a CPU, for the GIL, on I/O
STATES = ("busy", "running", "cpu_wait", "gil_wait", "io_wait")
MAX_BINS = 16_384  # per lane; the width doubles rather than pass it
FIRST_BIN_NS = 5_000_000  # 5 ms


def column_mix(s: np.ndarray, e: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Per column between ``edges``, the sum over bars of each weight times the share of
    the bar inside the column. ``s``/``e``: one row's bars, sorted and not overlapping;
    ``weights``: (m, n), one row per quantity spread over each bar.

    With ``C(x) = Σ_full w + w_j · (x − s_j)/(e_j − s_j)`` (the bars that ended before
    ``x``, and the one ``x`` falls in), a column gets ``C(right) − C(left)``.
    """
    weights = np.atleast_2d(np.asarray(weights, float))
    m, n = weights.shape
    if n == 0 or len(edges) < 2:
        return np.zeros((m, max(len(edges) - 1, 0)))
    s = np.asarray(s, float)
    e = np.maximum(np.asarray(e, float), s)
    emax = np.maximum.accumulate(e)
    cum = np.zeros((m, n + 1))
    np.cumsum(weights, axis=1, out=cum[:, 1:])
    x = np.asarray(edges, float)
    j = np.searchsorted(emax, x, side="right")  # bars wholly before x
    jj = np.minimum(j, n - 1)
    span = e[jj] - s[jj]
    inside = (j < n) & (s[jj] < x)
    frac = np.where(inside & (span > 0), (x - s[jj]) / np.where(span > 0, span, 1.0), 0.0)
    c = cum[:, j] + weights[:, jj] * frac
    return np.diff(c, axis=1)


class History:
    """Older bars of one run, aggregated per lane into time bins (see the module)."""

    def __init__(self, t0_ns: int, bin_ns: int = FIRST_BIN_NS) -> None:
        self.t0_ns = int(t0_ns)
        self.bin_ns = int(bin_ns)
        self.data = np.zeros((0, len(STATES), 0), np.float32)  # lanes, states, bins (ns)
        self.tasks = np.zeros((0, 0), np.float32)  # lanes, bins: tasks that ended there
        self.end_ns = self.t0_ns  # the newest moment folded in
        self.bars = 0  # how many bars were folded in
        self.version = 0
        self.first_ns: dict[int, int] = {}  # per lane: its first folded bar's start

    @property
    def n_bins(self) -> int:
        return self.data.shape[2]

    def nbytes(self) -> int:
        return self.data.nbytes + self.tasks.nbytes

    def add(self, bars: dict[str, np.ndarray], split: dict[str, np.ndarray] | None) -> None:
        """Fold dropped bars in (``split``: their wait split, ns, or None when unsampled)."""
        keep = bars["kind"] != BAR_SLICE
        if not keep.any():
            return
        lane = bars["lane"][keep].astype(np.int64)
        s, e = bars["start"][keep], bars["end"][keep]
        wall = np.maximum(e - s, 0).astype(float)
        cpu = np.minimum(np.maximum(bars["cpu"][keep], 0), wall).astype(float)
        if split is not None:
            parts = [np.asarray(split[k], float)[keep] for k in STATES[1:]]
            sampled = np.asarray(split["sampled"], bool)[keep]
            # unsampled bars: their CPU time runs, the rest is a wait of unknown kind (I/O)
            parts[0] = np.where(sampled, parts[0], cpu)
            parts[3] = np.where(sampled, parts[3], wall - cpu)
            for k in (1, 2):
                parts[k] = np.where(sampled, parts[k], 0.0)
        else:
            parts = [cpu, np.zeros_like(wall), np.zeros_like(wall), wall - cpu]
        weights = np.vstack([wall, *parts])
        hi = int(e.max())
        self._grow(int(lane.max()) + 1, hi)
        b = self.bin_ns
        for ln in np.unique(lane).tolist():
            mine = np.flatnonzero(lane == ln)
            order = mine[np.argsort(s[mine], kind="stable")]
            ss, ee = s[order], e[order]
            self.first_ns[ln] = min(self.first_ns.get(ln, int(ss[0])), int(ss[0]))
            lo_bin = max(0, int((ss.min() - self.t0_ns) // b))
            hi_bin = min(self.n_bins - 1, int((ee.max() - self.t0_ns) // b))
            edges = self.t0_ns + np.arange(lo_bin, hi_bin + 2, dtype=np.int64) * b
            mix = column_mix(ss, ee, weights[:, order], edges)
            self.data[ln, :, lo_bin : hi_bin + 1] += mix.astype(np.float32)
            done = np.clip((ee - self.t0_ns) // b, 0, self.n_bins - 1)
            self.tasks[ln] += np.bincount(done, minlength=self.n_bins).astype(np.float32)
        self.end_ns = max(self.end_ns, hi)
        self.bars += int(keep.sum())
        self.version += 1

    def _grow(self, n_lanes: int, hi_ns: int) -> None:
        need = int((hi_ns - self.t0_ns) // self.bin_ns) + 1
        while need > MAX_BINS:  # coarser bins: neighbours merge, the size stays fixed
            self._halve()
            need = int((hi_ns - self.t0_ns) // self.bin_ns) + 1
        lanes, states, bins = self.data.shape
        if n_lanes > lanes or need > bins:
            new_bins = max(bins, min(MAX_BINS, max(need, 2 * bins, 256)))
            grown = np.zeros((max(lanes, n_lanes), states, new_bins), np.float32)
            grown[:lanes, :, :bins] = self.data
            tasks = np.zeros((max(lanes, n_lanes), new_bins), np.float32)
            tasks[:lanes, :bins] = self.tasks
            self.data, self.tasks = grown, tasks

    def _halve(self) -> None:
        lanes, states, bins = self.data.shape
        even = bins + (bins % 2)
        d = np.zeros((lanes, states, even), np.float32)
        d[:, :, :bins] = self.data
        t = np.zeros((lanes, even), np.float32)
        t[:, :bins] = self.tasks
        self.data = d.reshape(lanes, states, even // 2, 2).sum(axis=3)
        self.tasks = t.reshape(lanes, even // 2, 2).sum(axis=2)
        self.bin_ns *= 2

    def columns(self, lane: int, t0_ns: int, edges_s: np.ndarray) -> np.ndarray:
        """(len(STATES), columns): ns of each state inside each column between ``edges_s``
        (seconds since ``t0_ns``), read from the bins (each bin's time spread evenly)."""
        cols = max(len(edges_s) - 1, 0)
        if lane >= self.data.shape[0] or cols == 0 or self.n_bins == 0:
            return np.zeros((len(STATES), cols))
        b = self.bin_ns
        n = self.n_bins
        # the bins as touching bars of width b: column_mix integrates them exactly
        starts = self.t0_ns + np.arange(n, dtype=np.int64) * b
        x = np.asarray(edges_s, float) * 1e9 + t0_ns
        lo = max(0, int((x[0] - self.t0_ns) // b) - 1)
        hi = min(n, int((x[-1] - self.t0_ns) // b) + 2)
        if hi <= lo:
            return np.zeros((len(STATES), cols))
        w = self.data[lane, :, lo:hi].astype(float)
        return column_mix(starts[lo:hi], starts[lo:hi] + b, w, x)


class EventBudget:
    """Keeps a store's bars at most ``bars`` (the newest), and with ``keep_s`` only those
    that ended in its last ``keep_s`` seconds; older ones go to its History.

    Over the count, ``apply`` drops the oldest quarter of the budget more, so it copies
    rarely; by age, it waits until a tenth of the bars are due.
    """

    def __init__(self, bars: int = 400_000, keep_s: float | None = None) -> None:
        self.bars = int(bars)
        self.keep_s = keep_s

    def due(self, store: EventStore) -> int:
        """How many of the oldest bars ``apply`` would fold in now."""
        n = store.bar_count
        k = n - self.bars + self.bars // 4 if n > self.bars else 0
        if self.keep_s is not None and n and store.t_max is not None:
            end = store.bars()["end"]
            cutoff = store.t_max - int(self.keep_s * 1e9)
            recent = np.flatnonzero(end >= cutoff)
            old = int(recent[0]) if len(recent) else n  # arrival order is about time order
            if old >= max(1, n // 10):
                k = max(k, old)
        return min(k, n)

    def apply(self, store: EventStore) -> int:
        """Fold the oldest bars into ``store.history`` when due; how many went."""
        if not store.runs:
            return 0
        k = self.due(store)
        if k <= 0:
            return 0
        from .segments import tracker_for
        from .wait_states import bar_splits, bound_samples

        # the segments take in every bar that goes (their figures stay whole)
        tracker_for(store).update(settle_upto=store.bars_dropped + k)
        if store.waits is not None:
            bound_samples(store)  # freeze the splits the samples still give
        split = bar_splits(store, np.arange(k))
        if store.history is None:
            store.history = History(int(store.runs[-1].started["t_ns"]))
        gone = store.drop_oldest_bars(k)
        store.history.add(gone, split)
        return len(gone["start"])


# a row draws its occupancy per pixel column when its tasks are narrower than this
DENSE_PX = 2.0


def dense_mix(
    s: np.ndarray,
    e: np.ndarray,
    wall: np.ndarray,
    cpu: np.ndarray,
    waits: np.ndarray | None,
    edges: np.ndarray,
) -> tuple[np.ndarray, bool]:
    """Per column between ``edges``, the share of its time a row's bars spent running,
    waiting for a CPU, for the GIL and on I/O: ``(4, columns)``, each column summing to
    its occupancy (0..1). ``waits``: the Gantt's (4, n) per-bar waits (CPU, GIL, I/O,
    sampled wall) or None. Bars without a sampled split count their CPU time as
    running and the rest as a wait of unknown kind (the fourth share); the flag says
    whether any bar was sampled.
    """
    wall = np.maximum(np.asarray(wall, float), 0.0)
    run = np.minimum(np.maximum(np.asarray(cpu, float), 0.0), wall)
    parts = np.vstack([run, np.zeros_like(wall), np.zeros_like(wall), wall - run])
    sampled = False
    if waits is not None:
        split = waits[3] >= 0.5 * wall
        if split.any():
            sampled = True
            measured = np.vstack([run, waits[:3].astype(float)])[:, split]
            total = np.maximum(measured.sum(axis=0), 1e-12)
            parts[:, split] = measured / total * wall[split]
    width = np.diff(np.asarray(edges, float))
    mix = column_mix(s, e, parts, edges)
    return np.clip(mix / np.where(width > 0, width, 1.0), 0.0, 1.0), sampled
