"""The Gantt's layout, without Qt: rows, bars in drawing order, levels of detail.

``GanttData`` is a snapshot of a store arranged for drawing (``model.rows.arrange_rows``
decides the rows and their labels, the one place the window, the exports and the CLI
take them from); ``Layer`` keeps each row's bars and builds coarser levels of
detail on demand, merging bars narrower than a pixel so that 1 M tasks pan as
smoothly as 1 k; ``WaitData`` holds the waits on shared objects in the same order.
Coordinates: x is seconds since ``t0_ns``, y the row. ``ui.gantt_item`` paints it.
"""

from __future__ import annotations

import numpy as np

from .event_store import BAR_ERROR, BAR_SLICE, BAR_STOPPED, EventStore
from .rows import (
    MAX_GROUP_ROWS,
    ROW_COROUTINE,
    ROW_COROUTINES,
    ROW_LOOP,
    ROW_WORKERS,
    Row,
    arrange_rows,
    coroutine_counts,
)
from .sync_view import wait_sentence, wait_styles
from .wait_states import bar_splits

# Level of detail: level k merges bars whose gap is below GAP0 * 4**k seconds.
GAP0 = 1e-6
LEVELS = 16
ROW_OFFSET = 1e7  # seconds; keeps rows apart in one cumulative max


class Level:
    """Bars of every row at one level of detail, sorted by (row, start)."""

    __slots__ = ("s", "e", "emax", "wall", "cpu", "wmax", "waits", "offsets")

    def __init__(self, s, e, wall, cpu, wmax, rows_of, n_rows, waits=None):
        # wall: summed busy time; wmax: the widest member bar (a group of tiny bars
        # stays "tiny", so it keeps merging with its neighbours at coarser levels);
        # waits: (4, n) seconds waiting for a CPU, for the GIL, on I/O, and how much
        # of the wall time was sampled at all (None: no thread states were sampled)
        self.s, self.e, self.wall, self.cpu, self.wmax = s, e, wall, cpu, wmax
        self.waits = waits
        self.emax = row_cummax(e, rows_of)
        self.offsets = np.searchsorted(rows_of, np.arange(n_rows + 1), side="left")


def row_cummax(e: np.ndarray, rows_of: np.ndarray) -> np.ndarray:
    if len(e) == 0:
        return e.copy()
    return np.maximum.accumulate(e + rows_of * ROW_OFFSET) - rows_of * ROW_OFFSET


def group_starts(s, emax, wmax, gap: float, rows_of=None) -> np.ndarray:
    """Where groups begin when neighbours narrower than ``2*gap`` and closer than ``gap``
    merge. Wide bars never merge, so task boundaries stay visible when zoomed in."""
    new = np.empty(len(s), bool)
    new[0] = True
    small = wmax < 2 * gap
    new[1:] = (s[1:] - emax[:-1] > gap) | ~small[1:] | ~small[:-1]
    if rows_of is not None:
        new[1:] |= rows_of[1:] != rows_of[:-1]
    return np.flatnonzero(new)


def _merge(level: Level, rows_of: np.ndarray, gap: float, n_rows: int):
    """Level of detail: merge tiny neighbouring bars of one row (see ``group_starts``)."""
    s = level.s
    if len(s) == 0:
        return level, rows_of
    idx = group_starts(s, level.emax, level.wmax, gap, rows_of)
    if len(idx) == len(s):
        return level, rows_of  # nothing merges at this gap: share the arrays
    merged = Level(
        s[idx],
        np.maximum.reduceat(level.e, idx),
        np.add.reduceat(level.wall, idx),
        np.add.reduceat(level.cpu, idx),
        np.maximum.reduceat(level.wmax, idx),
        rows_of[idx],
        n_rows,
        None if level.waits is None else np.add.reduceat(level.waits, idx, axis=1),
    )
    return merged, rows_of[idx]


class Layer:
    """Non-overlapping bars of each row, with their levels of detail built on demand."""

    def __init__(self, s, e, wall, cpu, rows_of, n_rows, waits=None) -> None:
        self.n_rows = n_rows
        self.raw = Level(s, e, wall, cpu, wall, rows_of, n_rows, waits)
        self.raw_rows = rows_of
        self._levels: dict[int, tuple[Level, np.ndarray]] = {}

    def level(self, k: int) -> Level:
        """Tiny bars merged across gaps below ``GAP0 * 4**k`` (from the level below)."""
        if k < 0:
            return self.raw
        k = min(k, LEVELS - 1)
        if k not in self._levels:
            if k == 0:
                below, rows = self.raw, self.raw_rows
            else:
                below, rows = self.level(k - 1), self._levels[k - 1][1]
            self._levels[k] = _merge(below, rows, GAP0 * 4**k, self.n_rows)
        return self._levels[k][0]


# what each row draws, as small integers for per-bar lookups
KIND_CODE = {ROW_LOOP: 1, ROW_COROUTINE: 2, ROW_COROUTINES: 3, ROW_WORKERS: 4}


class GanttData:
    """A snapshot of the store's bars arranged for drawing (pure numpy).

    Rows come from ``model.rows.arrange_rows``. An asyncio coroutine's slices are
    drawn twice: on its own row (over its task bar, which shows the whole time it had
    work, waiting or not) and on its event loop's row (which shows who held the loop).
    """

    def __init__(
        self, store: EventStore, t0_ns: int, max_group_rows: int | None = MAX_GROUP_ROWS
    ) -> None:
        self.t0_ns = t0_ns
        # the aggregate of bars an event budget dropped (model.history), drawn before them
        self.history = store.history
        b = store.bars()
        lanes = store.lanes()
        lab_pid = (store.hello or {}).get("pid")
        self.rows: list[Row] = arrange_rows(store, lanes, b, lab_pid, max_group_rows)
        self.row_of_lane = np.full(max(len(lanes), 1), -1, np.int64)
        loop_of_lane = np.full(max(len(lanes), 1), -1, np.int64)
        for r, row in enumerate(self.rows):
            if row.lane >= 0:
                self.row_of_lane[row.lane] = r
            if row.kind == ROW_LOOP:
                loop_of_lane[list(row.lanes)] = r
        self.coroutine_of_lane = np.array([ln.worker + 1 for ln in lanes] or [0], np.int64)
        n_rows = len(self.rows)
        self.n_rows = n_rows
        self.row_kind = np.array([KIND_CODE.get(r.kind, 0) for r in self.rows] or [0], np.int8)
        # memory matters at 1 M bars: int32 rows, float32 CPU, arrays shared when
        # nothing is filtered out or added, task ids and kinds looked up in the store
        self._bars = b
        self.n_bars = len(b["start"])  # the store's bars this layout holds (the first ones)
        self.n_lanes = len(lanes)
        lane = b["lane"]
        row = self.row_of_lane[lane].astype(np.int32) if len(lane) else np.zeros(0, np.int32)
        loop_extra = np.zeros(0, np.int64)
        if len(lane) and loop_of_lane.max() >= 0:
            loop_extra = np.flatnonzero((b["kind"] == BAR_SLICE) & (loop_of_lane[lane] >= 0))
        keep = np.flatnonzero(row >= 0)
        if len(keep) == len(row) and not len(loop_extra):
            keep = None
        else:  # a slice's second place: its event loop's row
            row = np.concatenate([row[keep], loop_of_lane[lane[loop_extra]].astype(np.int32)])
            keep = np.concatenate([keep, loop_extra])
        start = (b["start"] if keep is None else b["start"][keep]) - t0_ns
        order = np.lexsort((start, row))
        self.idx = order if keep is None else keep[order]
        self.row = row[order]
        self.s = start[order] / 1e9
        del start
        self.e = (b["end"][self.idx] - t0_ns) / 1e9
        self.cpu = (b["cpu"][self.idx] / 1e9).astype(np.float32)
        kind = b["kind"][self.idx]
        self.is_error = kind == BAR_ERROR
        self.is_stopped = kind == BAR_STOPPED
        self.serial_rows = np.array(
            [r for r, rw in enumerate(self.rows) if rw.label == "serial step"], np.int64
        )
        self.offsets_all = np.searchsorted(self.row, np.arange(n_rows + 1), side="left")
        wall = self.e - self.s
        is_slice = kind == BAR_SLICE
        plain = ~self.is_error & ~is_slice & ~self.is_stopped
        self.waits = _waits(store, lanes, b, self.idx)
        # waits on shared objects (locks, queues...): drawn over their task's bar
        self.sync_waits = WaitData(store, self.row_of_lane, t0_ns)
        # a coroutine's task bar spans the time it had work: it held the loop only in
        # its slices (drawn over it), so the bar itself is drawn waiting, and the loop
        # thread's sampled states (another coroutine's, as often as not) never split it
        on_coroutine = self.row_kind[self.row] == KIND_CODE[ROW_COROUTINE]
        waiting = plain & on_coroutine
        task_cpu = self.cpu
        task_waits = self.waits
        if waiting.any():
            task_cpu = np.where(waiting, np.float32(0), self.cpu)
            if task_waits is not None:
                task_waits = np.where(waiting, np.float32(0), task_waits)
        if plain.all():
            self.layers: list[Layer | None] = [
                Layer(self.s, self.e, wall, task_cpu, self.row, n_rows, task_waits)
            ]
        else:
            self.layers = [self._layer(plain, wall, task_cpu, task_waits)]
        # slices by their coroutine's parity, in two shades, on both of their rows: the
        # loop's row then reads as a hand-over from one coroutine to the next
        self.slice_layers: list[Layer | None] = []
        self.slice_coroutine: list[np.ndarray] = []
        if is_slice.any():
            number = self.coroutine_of_lane[lane[self.idx]] if len(lane) else np.zeros(0)
            for parity in (1, 0):
                mask = is_slice & (number % 2 == parity)
                self.slice_layers.append(self._layer(mask, wall, self.cpu, None))
                self.slice_coroutine.append(number[mask])
        self.raw = self.layers[0].raw if self.layers[0] is not None else None
        self.emax_all = (
            self.raw.emax
            if self.layers[0] is not None and plain.all()
            else row_cummax(self.e, self.row)
        )
        self.err_s = self.s[self.is_error]
        self.err_e = self.e[self.is_error]
        self.err_row = self.row[self.is_error]
        self.stop_s = self.s[self.is_stopped]
        self.stop_e = self.e[self.is_stopped]
        self.stop_row = self.row[self.is_stopped]
        # density rows: how many coroutines wait and run, as step functions in seconds
        self.density: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
        dense = [r for r, rw in enumerate(self.rows) if rw.kind in (ROW_COROUTINES, ROW_WORKERS)]
        if dense:
            open_tasks = store.open_bars()
            t_now = store.t_max
            for r in dense:
                t, alive, running = coroutine_counts(b, self.rows[r].lanes, open_tasks, t_now)
                self.density[r] = ((t - t0_ns) / 1e9, alive, running, len(self.rows[r].lanes))
        if len(self.s):
            self.x_min, self.x_max = float(self.s.min()), float(self.e.max())
        else:
            self.x_min = self.x_max = 0.0

    def _layer(self, mask: np.ndarray, wall, cpu, waits) -> Layer | None:
        if not mask.any():
            return None
        return Layer(
            self.s[mask],
            self.e[mask],
            wall[mask],
            cpu[mask],
            self.row[mask],
            self.n_rows,
            None if waits is None else waits[:, mask],
        )

    def counts_at(self, row: int, x: float) -> tuple[int, int, int] | None:
        """A density row at ``x``: (coroutines waiting, running, of how many)."""
        if row not in self.density:
            return None
        t, alive, running, n = self.density[row]
        k = int(np.searchsorted(t, x, side="right")) - 1
        if k < 0:
            return 0, 0, n
        return int(alive[k] - running[k]), int(running[k]), n

    @property
    def task(self) -> np.ndarray:
        """Task id of every bar, in drawing order."""
        return self._bars["task"][self.idx]

    @property
    def kind(self) -> np.ndarray:
        return self._bars["kind"][self.idx]

    def find(self, x: float, row: int, tol: float) -> int | None:
        """Index of the bar under ``x`` in ``row`` (nearest within ``tol``), or None."""
        if not (0 <= row < self.n_rows):
            return None
        lo, hi = self.offsets_all[row], self.offsets_all[row + 1]
        if lo == hi:
            return None
        s, e = self.s[lo:hi], self.e[lo:hi]
        i1 = int(np.searchsorted(s, x + tol, side="right"))
        i0 = int(np.searchsorted(self.emax_all[lo:hi], x - tol, side="left"))
        if i0 >= i1:
            return None
        cand = np.arange(i0, i1)
        dist = np.maximum(0.0, np.maximum(s[cand] - x, x - e[cand]))
        j = int(cand[np.argmin(dist)])
        return lo + j if dist.min() <= tol else None


def _waits(store: EventStore, lanes, bars, idx: np.ndarray) -> np.ndarray | None:
    """(4, n) float32 seconds per bar in drawing order: CPU, GIL and I/O waits, and the
    wall time of bars whose thread states were sampled; None when none were."""
    if not len(idx):
        return None
    split = bar_splits(store, idx)
    if split is None or not split["sampled"].any():
        return None
    wall = np.maximum(bars["end"][idx] - bars["start"][idx], 0)
    sampled_wall = np.where(split["sampled"], wall, 0)
    return (
        np.stack([split["cpu_wait"], split["gil_wait"], split["io_wait"], sampled_wall]) / 1e9
    ).astype(np.float32)


class WaitData:
    """The store's waits in drawing order: sorted by (row, start), seconds since ``t0_ns``."""

    def __init__(self, store: EventStore, row_of_lane: np.ndarray, t0_ns: int) -> None:
        w = store.wait_slices()
        lane = w["lane"]
        if len(lane):
            ok = (lane >= 0) & (lane < len(row_of_lane))
            row = np.where(ok, row_of_lane[np.where(ok, lane, 0)], -1)
        else:
            row = np.zeros(0, np.int64)
        keep = np.flatnonzero(row >= 0)  # a wait of a lane drawn as a density row: not shown
        start = (w["start"][keep] - t0_ns) / 1e9
        order = np.lexsort((start, row[keep]))
        idx = keep[order]
        self.row = row[idx].astype(np.int64)
        self.s = start[order]
        self.e = (w["end"][idx] - t0_ns) / 1e9
        self.task = w["task"][idx]
        self.object = w["object"][idx]
        self.holder = w["holder"][idx]
        self.kind = w["kind"][idx]
        self.style = wait_styles(self.kind)
        self.names = {int(o): store.sync_name(int(o)) for o in np.unique(self.object).tolist()}
        self.emax = row_cummax(self.e, self.row)
        n_rows = int(len(row_of_lane))
        self.offsets = np.searchsorted(self.row, np.arange(n_rows + 2), side="left")

    def __len__(self) -> int:
        return len(self.s)

    def styles_present(self) -> list[int]:
        return sorted(set(self.style.tolist()))

    def count(self, style: int | None = None) -> int:
        return len(self.s) if style is None else int((self.style == style).sum())

    def visible(self, r0: int, r1: int, x0: float, x1: float) -> np.ndarray:
        """Indices of the waits of rows ``r0..r1`` that overlap ``[x0, x1]``."""
        parts = []
        for r in range(max(r0, 0), min(r1, len(self.offsets) - 2) + 1):
            lo, hi = int(self.offsets[r]), int(self.offsets[r + 1])
            if lo == hi:
                continue
            i0 = lo + int(np.searchsorted(self.emax[lo:hi], x0, side="left"))
            i1 = lo + int(np.searchsorted(self.s[lo:hi], x1, side="right"))
            if i0 < i1:
                parts.append(np.arange(i0, i1))
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def find(self, x: float, row: int, tol: float) -> int | None:
        """The wait under ``x`` in ``row`` (nearest within ``tol``), or None."""
        idx = self.visible(row, row, x - tol, x + tol)
        if not len(idx):
            return None
        dist = np.maximum(0.0, np.maximum(self.s[idx] - x, x - self.e[idx]))
        k = int(np.argmin(dist))
        return int(idx[k]) if dist[k] <= tol else None

    def info(self, i: int) -> dict:
        """One wait for the tooltip: its object, kind, holder, length and sentence."""
        name, kind = self.names.get(
            int(self.object[i]), (f"object {int(self.object[i])}", "object")
        )
        seconds = float(self.e[i] - self.s[i])
        holder = int(self.holder[i])
        return {
            "object": name,
            "kind": kind,
            "holder": holder,
            "task": int(self.task[i]),
            "start": float(self.s[i]),
            "seconds": seconds,
            "text": wait_sentence(seconds, name, kind, holder),
        }
