"""Dense rows say something: per pixel column, the mix of states, and the aggregated past.

A synthetic continuous run (no lab): two GIL-bound threads, then two processes, 1 ms
tasks, each with a measured split. Zoomed out so tasks are far narrower than a pixel,
the threads' rows must show the GIL colour and the processes' rows the running colour
instead of one merged bar of one colour; then an event budget folds the older half
into the aggregate and the drawing still shows both, with the aggregate said in words.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QImage, QPainter

from concviz.lab import protocol as P
from concviz.model import EventStore
from concviz.model.event_store import RECORD_DTYPE
from concviz.model.gantt_layout import GanttData
from concviz.model.history import EventBudget
from concviz.model.wait_states import WaitSamples
from concviz.ui import theme as T
from concviz.ui.gantt_item import GanttItem

MS = 1_000_000
S = 1_000_000_000


def _lane(tid: int, worker: int, start: int, stop: int, pid: int = 100) -> np.ndarray:
    t0 = np.arange(start, stop, MS, dtype=np.int64)
    rec = np.zeros(len(t0), RECORD_DTYPE)
    rec["kind"], rec["worker"], rec["pid"], rec["tid"] = P.EV_END, worker, pid, tid
    rec["task"] = np.arange(len(t0))
    rec["t0_ns"], rec["t_ns"] = t0, t0 + MS
    rec["cpu_ns"] = MS // 2 if pid == 100 else MS
    return rec


def _store() -> EventStore:
    store = EventStore()
    store.add_json({"type": "hello", "pid": 100})
    store.add_json({"type": "run_started", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "workload": "cpu-python", "task_ms": 1.0, "mode": "continuous"})  # fmt: skip
    store.add_json({"type": "segment", "t_ns": 0, "strategy": "threads", "workers": 2,
                    "task_ms": 1.0, "index": 0})  # fmt: skip
    for k in range(2):  # two threads of the lab: each 1 ms task, half of it waiting for the GIL
        store.add_events(_lane(11 + k, k, 0, 2 * S))
    store.add_json({"type": "segment", "t_ns": 2 * S, "strategy": "process-pool",
                    "workers": 2, "task_ms": 1.0, "index": 1})  # fmt: skip
    for k in range(2):  # two worker processes: running all the time
        store.add_events(_lane(21 + k, k, 2 * S, 4 * S, pid=200 + k))
    b = store.bars()
    n = len(b["start"])
    threads = b["lane"] < 2
    frozen = np.zeros((4, n), np.float32)  # cpu wait, GIL wait, I/O wait, sampled wall
    frozen[1] = np.where(threads, MS // 2, 0)
    frozen[3] = MS
    store.waits = WaitSamples()
    store.waits.frozen = frozen
    return store


def _render(store: EventStore, theme: T.Theme) -> tuple[QImage, GanttItem, GanttData]:
    data = GanttData(store, 0)
    item = GanttItem(theme)
    item.set_data(data)
    plot = pg.PlotWidget()
    plot.resize(800, 300)
    plot.addItem(item)
    plot.getPlotItem().invertY(True)
    plot.setXRange(0, 4, padding=0)  # 4,000 tasks per row over ~750 px: far below a pixel
    plot.setYRange(-0.6, data.n_rows - 0.4, padding=0)
    plot.show()
    img = QImage(plot.size(), QImage.Format.Format_RGB32)
    img.fill(QColor(theme.background))
    painter = QPainter(img)
    plot.render(painter)
    painter.end()
    plot.close()
    return img, item, data


def _share(img: QImage, colour: str, x0: int, x1: int, y0: int, y1: int) -> float:
    want = QColor(colour).rgb() & 0xFFFFFF
    hits = total = 0
    for y in range(y0, y1, 2):
        for x in range(x0, x1, 3):
            total += 1
            hits += (img.pixel(x, y) & 0xFFFFFF) == want
    return hits / max(total, 1)


def _rows_y(img: QImage, data: GanttData) -> list[tuple[int, int]]:
    """Pixel bands of each row (the plot maps rows evenly over its height)."""
    h = img.height()
    per = h / (data.n_rows + 0.2)
    return [(int((r + 0.2) * per + 0.2 * per), int((r + 0.2) * per + 0.8 * per))
            for r in range(data.n_rows)]  # fmt: skip


def test_threads_and_processes_draw_different_state_mixes_when_dense(qtbot):
    theme = T.LIGHT
    img, item, data = _render(_store(), theme)
    assert item.dense_rows == data.n_rows  # every row drew columns, not merged bars
    running, gil = theme.waits[0], theme.waits[2]
    w = img.width()
    thread_rows = [r for r, row in enumerate(data.rows) if row.label.startswith("thread")]
    process_rows = [r for r, row in enumerate(data.rows) if row.label.startswith("process")]
    assert thread_rows and process_rows
    bands = _rows_y(img, data)
    y0, y1 = bands[thread_rows[0]]
    gil_threads = _share(img, gil, int(w * 0.15), int(w * 0.45), y0, y1)
    y0, y1 = bands[process_rows[0]]
    gil_procs = _share(img, gil, int(w * 0.6), int(w * 0.95), y0, y1)
    run_procs = _share(img, running, int(w * 0.6), int(w * 0.95), y0, y1)
    assert gil_threads > 0.2  # half of a thread's time: waiting for the GIL, drawn
    assert gil_procs < 0.02 and run_procs > 0.5  # processes: running, no GIL wait


def test_the_aggregated_past_still_shows_its_mix_and_says_so(qtbot):
    theme = T.LIGHT
    store = _store()
    n = store.bar_count
    EventBudget(bars=n // 3).apply(store)  # the threads' bars go into the aggregate
    assert store.history is not None and store.bars_dropped > n // 3
    img, item, data = _render(store, theme)
    assert data.history is store.history
    bands = _rows_y(img, data)
    thread_rows = [r for r, row in enumerate(data.rows) if row.label.startswith("thread")]
    assert thread_rows  # the rows of dropped lanes stay (the store keeps its lanes)
    y0, y1 = bands[thread_rows[0]]
    w = img.width()
    assert _share(img, theme.waits[2], int(w * 0.15), int(w * 0.4), y0, y1) > 0.2
