"""The timeline's rows: which lanes get a row, in what order, and what each is called.

The one place that names rows, so the window, the GIL A/B and a Chrome trace agree.
Lanes are grouped process -> thread -> worker. The coroutines of one asyncio event
loop share a thread, so they are not drawn as parallel workers: the loop's thread
gets one row (its bars are the slices in which some coroutine held the loop), and
its coroutines hang under it as sub-rows, or, when there are more of them than can
be read, as one density row counting how many wait and run over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from concviz.lab import protocol as P

from .event_store import BAR_SLICE, EventStore, Lane

# What a row shows.
ROW_WORKER = "worker"  # one thread or process of a strategy: its task bars
ROW_LOOP = "loop"  # an event loop's thread: the slices in which its coroutines ran
ROW_COROUTINE = "coroutine"  # one coroutine under its loop: its tasks, waiting or running
ROW_COROUTINES = "coroutines"  # every coroutine of a loop at once: how many wait, over time
ROW_WORKERS = "workers"  # every thread (or process) of a group at once: how many are busy
DENSITY_ROWS = (ROW_COROUTINES, ROW_WORKERS)

# More coroutines than this under one loop, or threads or processes in one group, are
# drawn as one density row: 40 rows already leave a few pixels each in a window's
# Gantt, and 1000 would be noise.
MAX_GROUP_ROWS = 40


@dataclass
class Row:
    """One timeline row: what it shows and its label."""

    lane: int  # the store's lane it draws; -1 for a loop or density row (many lanes)
    label: str
    pid: int
    group: int  # index of its process group (for the alternating bands)
    kind: str = ROW_WORKER
    lanes: tuple[int, ...] = field(default=())  # a loop's or density row's coroutine lanes
    tid: int = 0


def coroutine_number(lane: Lane) -> int:
    """A coroutine's number as shown: from 1, like every row a person reads."""
    return lane.worker + 1


def loop_label(tid: int) -> str:
    return f"event loop (thread {tid})"


# Row labels are drawn right-aligned, where leading spaces would not show: a sub-row
# of an event loop says so with an arrow from the row above.
SUB_ROW = "↳ "


def coroutine_label(lane: Lane) -> str:
    return f"{SUB_ROW}coroutine {coroutine_number(lane)}"


def arrange_rows(
    store: EventStore,
    lanes: list[Lane] | None = None,
    bars: dict[str, np.ndarray] | None = None,
    lab_pid: int | None = None,
    max_group_rows: int | None = MAX_GROUP_ROWS,
) -> list[Row]:
    """Rows grouped process -> thread: serial step first, then each process in order
    of appearance, its lanes ordered by run segment then worker index; an event loop's
    coroutines under its thread's row. Past ``max_group_rows`` (None: never) a loop's
    coroutines, or a group's workers, become one density row."""
    lanes = store.lanes() if lanes is None else lanes
    bars = store.bars() if bars is None else bars
    if lab_pid is None:
        lab_pid = (store.hello or {}).get("pid")
    if not lanes:
        return []
    big = np.iinfo(np.int64).max
    first = np.full(len(lanes), big, np.int64)
    if len(bars["lane"]):
        np.minimum.at(first, bars["lane"], bars["start"])
    for lane, _task, start in store.open_bars():
        if lane < len(first):  # a lane the reader added after ``lanes`` was taken
            first[lane] = min(first[lane], start)
    history = getattr(store, "history", None)
    if history is not None:  # lanes whose bars an event budget aggregated keep their rows
        for lane, start in history.first_ns.items():
            if lane < len(first):
                first[lane] = min(first[lane], start)
    seg_t = [s["t_ns"] for s in store.runs[-1].segments] if store.runs else []
    seg_t_arr = np.array(seg_t or [0], np.int64)
    # a thread with coroutine slices runs an event loop: all its lanes are coroutines
    # (one that has not run yet has no slice of its own, but it is waiting on the loop)
    loops = {(ln.pid, ln.tid) for ln in lanes if ln.has_slices and ln.worker != P.WORKER_SERIAL}
    placed: list[tuple[int, Lane]] = []
    # a process's place in its segment: its lowest worker number, so "worker 1" comes
    # before "worker 2" whichever reported first (and a process's rows stay together)
    lowest: dict[tuple[int, int], int] = {}
    for ln in lanes:
        if first[ln.index] == big:
            continue  # a lane with nothing to draw yet (queued only)
        seg = int(np.searchsorted(seg_t_arr, first[ln.index], side="right")) - 1
        placed.append((seg, ln))
        if ln.worker != P.WORKER_SERIAL:
            key = (seg, ln.pid)
            lowest[key] = min(lowest.get(key, ln.worker), ln.worker)
    # one item per row group: a single lane, or an event loop with its coroutines
    items: list[tuple[tuple, list[Lane], int]] = []
    loop_items: dict[tuple[int, int], int] = {}
    for seg, ln in placed:
        if ln.worker == P.WORKER_SERIAL:
            items.append(((-1, 0, 0, 0, 0), [ln], seg))
            continue
        key = (seg, lowest[(seg, ln.pid)], ln.pid, ln.worker, ln.index)
        if (ln.pid, ln.tid) in loops:
            at = loop_items.get((ln.pid, ln.tid))
            if at is not None:  # the loop sits where its first coroutine would
                old_key, members, old_seg = items[at]
                items[at] = (min(old_key, key), [*members, ln], min(old_seg, seg))
                continue
            loop_items[(ln.pid, ln.tid)] = len(items)
        items.append((key, [ln], seg))
    items.sort(key=lambda it: it[0])
    rows: list[Row] = []
    groups: dict[tuple[int, int], int] = {}
    for _key, members, seg in items:
        ln = members[0]
        g = groups.setdefault((seg, ln.pid), len(groups))
        if (ln.pid, ln.tid) in loops and ln.worker != P.WORKER_SERIAL:
            members = sorted(members, key=lambda m: (m.worker, m.index))
            ids = tuple(m.index for m in members)
            rows.append(Row(-1, loop_label(ln.tid), ln.pid, g, ROW_LOOP, ids, ln.tid))
            if max_group_rows is not None and len(members) > max_group_rows:
                label = f"{SUB_ROW}{len(members)} coroutines"
                rows.append(Row(-1, label, ln.pid, g, ROW_COROUTINES, ids, ln.tid))
            else:
                for m in members:
                    rows.append(
                        Row(m.index, coroutine_label(m), m.pid, g, ROW_COROUTINE, (), m.tid)
                    )
            continue
        rows.append(Row(ln.index, worker_label(ln, lab_pid), ln.pid, g, ROW_WORKER, (), ln.tid))
    return rows if max_group_rows is None else _merge_big_groups(rows, max_group_rows, lab_pid)


def _merge_big_groups(rows: list[Row], most: int, lab_pid: int | None) -> list[Row]:
    """A group of more than ``most`` worker rows becomes one density row, where its
    first row was."""
    members: dict[int, list[Row]] = {}
    for row in rows:
        if row.kind == ROW_WORKER and row.label != "serial step":
            members.setdefault(row.group, []).append(row)
    big = {g: rs for g, rs in members.items() if len(rs) > most}
    if not big:
        return rows
    out: list[Row] = []
    for row in rows:
        group = big.get(row.group) if row.kind == ROW_WORKER else None
        if group is None or row.label == "serial step":
            out.append(row)
        elif row is group[0]:
            what = "threads" if lab_pid is not None and row.pid == lab_pid else "workers"
            ids = tuple(r.lane for r in group)
            out.append(Row(-1, f"{len(group)} {what}", row.pid, row.group, ROW_WORKERS, ids))
    return out


def worker_label(ln: Lane, lab_pid: int | None) -> str:
    """The label of a lane that is a worker of its own (not a coroutine)."""
    if ln.worker == P.WORKER_SERIAL:
        return "serial step"
    if ln.name:  # what the strategy calls it, e.g. "interpreter 3"
        return ln.name
    # rows number from 1, as people count workers (the lab's index is from 0)
    if lab_pid is not None and ln.pid == lab_pid:
        return f"thread {ln.worker + 1}"
    return f"process {ln.worker + 1}"


def coroutine_counts(
    bars: dict[str, np.ndarray],
    lanes: tuple[int, ...],
    open_tasks: list[tuple[int, int, int]] = (),
    t_now: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How many of a loop's coroutines have a task (``alive``) and how many of those
    hold the loop (``running``) over time, as step functions.

    Returns ``(t, alive, running)``: each count holds from ``t[k]`` until ``t[k+1]``;
    a coroutine that is alive but not running waits (for I/O, or for the loop while
    another coroutine holds it). ``open_tasks`` are (lane, task, start) still going,
    counted until ``t_now``. Each count is a running sum of +1 at a start and -1 at
    an end, over every task (or slice) of ``lanes``.
    """
    lane_ids = np.asarray(lanes, np.int64)
    on = np.isin(bars["lane"], lane_ids)
    is_slice = bars["kind"] == BAR_SLICE
    task = on & ~is_slice
    run = on & is_slice
    starts = [bars["start"][task], bars["start"][run]]
    ends = [bars["end"][task], bars["end"][run]]
    extra = [s for lane, _t, s in open_tasks if lane in set(lanes)]
    if extra and t_now is not None:
        starts[0] = np.r_[starts[0], np.asarray(extra, np.int64)]
        ends[0] = np.r_[ends[0], np.full(len(extra), t_now, np.int64)]
    t = np.concatenate([starts[0], ends[0], starts[1], ends[1]]).astype(np.int64)
    d_alive = np.concatenate(
        [np.ones(len(starts[0])), -np.ones(len(ends[0])), np.zeros(2 * len(starts[1]))]
    )
    d_run = np.concatenate(
        [np.zeros(2 * len(starts[0])), np.ones(len(starts[1])), -np.ones(len(ends[1]))]
    )
    if not len(t):
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    # at one instant ends come before starts, so a hand-over never counts double
    order = np.lexsort((d_alive + d_run, t))
    t, d_alive, d_run = t[order], d_alive[order], d_run[order]
    alive = np.cumsum(d_alive).astype(np.int32)
    running = np.cumsum(d_run).astype(np.int32)
    # one value per distinct time: the last one (after every change at that instant)
    last = np.r_[t[1:] != t[:-1], True]
    return t[last], alive[last], running[last]
