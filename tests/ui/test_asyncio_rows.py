"""asyncio as it is: one event-loop row, its coroutines under it, waiting drawn as waiting."""

from __future__ import annotations

import numpy as np

from concviz.model.event_store import BAR_SLICE
from concviz.model.rows import ROW_COROUTINE, ROW_COROUTINES, ROW_LOOP
from concviz.ui.control_bar import IO_WORKERS_MAX
from concviz.ui.timeline import describe

from .conftest import configure


def _finished_data(window, qtbot):
    window.run()
    assert window.running
    qtbot.waitUntil(lambda: not window.running, timeout=60000)
    window.timeline._next_rebuild = 0.0
    window.timeline.refresh()
    window.timeline.zoom_to_fit()
    return window.timeline.gantt.data


def test_cpu_work_on_two_coroutines_shows_both_one_waiting(window, qtbot):
    configure(window, workload="cpu-python", strategy="asyncio", workers=2, tasks=4, task_ms=60)
    d = _finished_data(window, qtbot)
    assert [r.kind for r in d.rows] == [ROW_LOOP, ROW_COROUTINE, ROW_COROUTINE]
    assert d.rows[0].label.startswith("event loop (thread ")
    assert [r.label for r in d.rows[1:]] == ["↳ coroutine 1", "↳ coroutine 2"]
    slices = d.kind == BAR_SLICE
    # the loop's row holds the slices of both coroutines, never overlapping
    on_loop = slices & (d.row == 0)
    ran = d.coroutine_of_lane[window.timeline.store.bars()["lane"][d.idx[on_loop]]]
    assert set(ran.tolist()) == {1, 2}
    assert (d.s[on_loop][1:] >= d.e[on_loop][:-1] - 1e-9).all()
    # coroutine 2 was ready from the start but waited while coroutine 1's CPU work held
    # the loop: its task bar begins long before its first slice, and is drawn waiting
    row2 = (d.row == 2) & ~slices
    first_task = d.s[row2].min()
    first_slice = d.s[(d.row == 2) & slices].min()
    assert first_slice - first_task >= 0.05, (first_task, first_slice)
    tasks = d.layers[0].raw
    lo, hi = tasks.offsets[2], tasks.offsets[3]
    assert hi > lo and (tasks.cpu[lo:hi] == 0).all()  # pale: the "mostly waiting" shade
    # hovering the loop row names the coroutine that held it
    i = int(np.flatnonzero(on_loop)[0])
    info = window.timeline.gantt.hit((d.s[i] + d.e[i]) / 2, 0.0)
    assert info is not None and info["coroutine"] in (1, 2)
    assert f"coroutine {info['coroutine']} held the event loop" in describe(info)
    # hovering coroutine 2 while it waited says how long it held the loop and waited
    info = window.timeline.gantt.hit((first_task + first_slice) / 2, 2.0)
    assert info is not None and info["held"] is not None
    assert "waited" in describe(info)
    window.timeline.grab()  # paints, numbers on the loop's slices included
    assert window.timeline.gantt.rects_drawn > 0


def test_io_sleep_on_200_coroutines_draws_one_loop_group(window, qtbot):
    configure(window, workload="io-sleep", strategy="asyncio", workers=200, tasks=400, task_ms=50)
    assert window.controls.workers.maximum() == IO_WORKERS_MAX
    assert window.controls.workers.value() == 200
    d = _finished_data(window, qtbot)
    assert [r.kind for r in d.rows] == [ROW_LOOP, ROW_COROUTINES]
    assert d.rows[1].label == "↳ 200 coroutines"
    # in the middle of the run most of the 200 coroutines are waiting on their sleep
    t, alive, running, n = d.density[1]
    assert n == 200
    mid = (d.x_min + d.x_max) / 2
    waiting, running_now, of = d.counts_at(1, mid)
    assert of == 200 and waiting >= 150 and running_now <= 1
    info = window.timeline.gantt.hit(mid, 1.0)
    assert info is not None and info["density"]
    assert "waiting" in describe(info) and "of 200" in describe(info)
    window.timeline.grab()
    assert window.timeline.gantt.rects_drawn > 0


def test_workers_limit_follows_strategy_and_workload(window):
    c = window.controls
    cores_cap = 2 * c.cores
    configure(window, workload="io-sleep", strategy="threads", workers=500)
    assert c.workers.maximum() == IO_WORKERS_MAX and c.workers.value() == 500
    c.strategy_buttons["processes"].click()  # a CPU pool: back near the cores
    assert c.workers.maximum() == cores_cap and c.workers.value() == cores_cap
    assert c.params()["workers"] == cores_cap
    c.strategy_buttons["asyncio"].click()
    assert c.workers.maximum() == IO_WORKERS_MAX
    c.set_workload("cpu-python")  # CPU work under asyncio gains nothing past the cores
    assert c.workers.maximum() == cores_cap


def test_a_lane_of_many_coroutines_names_a_few_rows_evenly():
    """Twenty coroutines' names piled on a lane's left edge at 720p."""
    from concviz.ui.compare_view import LANE_NAMES_MAX, _thinned

    names = ["loop"] + [f"↳ {i}" for i in range(1, 21)]
    ticks = _thinned(names)
    assert len(ticks) <= LANE_NAMES_MAX
    assert ticks[0] == (0, "loop") and ticks[-1] == (20, "↳ 20")
    gaps = {b[0] - a[0] for a, b in zip(ticks[1:-1], ticks[2:-1], strict=False)}
    assert len(gaps) <= 1  # an even stride among the coroutines named
    assert _thinned(names[:4]) == list(enumerate(names[:4]))
