"""``concviz bench gantt``: pan/zoom frames per second of the Gantt at 10 k, 100 k and 1 M
tasks, and while following a live run that finishes 20 k tasks a second.

The custom ``GanttItem`` (visible range only, sub-pixel merging, one ``drawRects``
per colour) is measured beside the naive way, a pyqtgraph ``BarGraphItem`` with a
brush per bar, at 100 k tasks, in the same run, in a 1200×700 offscreen view.
"""

from __future__ import annotations

import os
import time

DESCRIPTION = "Gantt pan/zoom fps at 10k/100k/1M tasks vs a naive BarGraphItem (offscreen)"

WIDTH, HEIGHT = 1200, 700
LANES = 8


def synthetic_store(n_tasks: int, lanes: int = LANES, seed: int = 1):
    """An EventStore holding ``n_tasks`` finished tasks spread over ``lanes`` workers,
    fed through the same decoding path as a real lab's event frames."""
    import numpy as np

    from concviz.lab import protocol as P
    from concviz.model.event_store import RECORD_DTYPE, EventStore

    rng = np.random.default_rng(seed)
    per_lane = -(-n_tasks // lanes)
    dur = rng.uniform(0.5e6, 2.0e6, (lanes, per_lane)).astype(np.int64)  # 0.5-2 ms
    gap = rng.uniform(5e3, 50e3, (lanes, per_lane)).astype(np.int64)
    ends = np.cumsum(dur + gap, axis=1)
    starts = ends - dur
    rec = np.zeros(lanes * per_lane, RECORD_DTYPE)
    rec["kind"] = P.EV_END
    rec["worker"] = np.repeat(np.arange(lanes), per_lane)
    rec["task"] = np.arange(len(rec))
    rec["pid"] = 4242
    rec["tid"] = 1000 + rec["worker"]
    rec["t0_ns"] = starts.ravel()
    rec["t_ns"] = ends.ravel()
    rec["cpu_ns"] = (dur * rng.uniform(0.1, 1.0, dur.shape)).astype(np.int64).ravel()
    rec = rec[:n_tasks]
    rec = rec[np.argsort(rec["t_ns"], kind="stable")]  # arrival order
    store = EventStore()
    store.add_json({"type": "hello", "pid": 1, "protocol": P.PROTOCOL_VERSION})
    for i in range(0, len(rec), 65536):  # in frames, like the lab sends them
        store.add_events(rec[i : i + 65536])
    return store


def _views(x_max: float, frames: int) -> list[tuple[float, float]]:
    """A pan/zoom path: whole run, zoom in to ~50 ms, pan across, zoom back out."""
    import numpy as np

    out = []
    third = frames // 3
    widths = np.geomspace(x_max, 0.05, third)
    for w in widths:  # zoom in on the middle
        c = x_max / 2
        out.append((c - w / 2, c + w / 2))
    for c in np.linspace(0.05, x_max - 0.05, third):  # pan
        out.append((c - 0.05, c + 0.05))
    for w in widths[::-1]:  # zoom out
        c = x_max / 2
        out.append((c - w / 2, c + w / 2))
    return out[: frames or 1]


def _fps(widget, plot, views) -> float:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    plot.setXRange(*views[0], padding=0)
    widget.viewport().repaint()
    app.processEvents()
    t = time.perf_counter()
    for lo, hi in views:
        plot.setXRange(lo, hi, padding=0)
        widget.viewport().repaint()  # synchronous paint of the whole view
    return len(views) / (time.perf_counter() - t)


def _plot_widget():
    import pyqtgraph as pg

    w = pg.PlotWidget()
    w.resize(WIDTH, HEIGHT)
    w.setMouseEnabled(x=True, y=False)
    w.getPlotItem().invertY(True)
    w.show()
    return w


def _live_append_fps(seconds: float, rate: int, start_tasks: int) -> dict:
    """Frames per second of the real timeline following a live run that ``start_tasks``
    finished tasks already fill and that finishes ``rate`` more a second, in frames as
    the lab sends them (one per 16 ms tick). Every frame brings the view up to date and
    paints what that asked for, as the window's timer does; ``full`` repaints the whole
    view each frame (the worst case, e.g. a window uncovered). The frame rate is frames
    ÷ the time spent bringing the view up to date and painting it (the store's decoding
    is the reader thread's work in the window, not the GUI's)."""
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from concviz.lab import protocol as P
    from concviz.model.cpu_series import CpuSeries
    from concviz.model.event_store import RECORD_DTYPE
    from concviz.ui.timeline import TimelineView

    app = QApplication.instance()
    out = {}
    for mode in ("asked", "full"):
        store = synthetic_store(start_tasks)
        b = store.bars()
        span_ns = int(b["end"].max())
        t0 = time.perf_counter_ns() - span_ns  # the synthetic run ends now: it goes on
        view = TimelineView(CpuSeries(2))
        view.resize(WIDTH, HEIGHT)
        view.show()
        view.set_store(store, t0)
        view.running = True
        view.live_interval_s = 0.0  # every frame is measured, none skipped by the cadence
        app.processEvents()
        next_task = start_tasks
        last_ns = time.perf_counter_ns()
        frames = 0
        t_end = time.perf_counter() + seconds
        drawing = 0.0
        while time.perf_counter() < t_end:
            now_ns = time.perf_counter_ns()
            n = max(1, int((now_ns - last_ns) * rate / 1e9))
            rec = np.zeros(n, RECORD_DTYPE)
            rec["kind"] = P.EV_END
            # each thread's events together in a frame, as the lab sends them
            rec["worker"] = (np.arange(n) * LANES) // n
            rec["task"] = next_task + np.arange(n)
            rec["pid"], rec["tid"] = 4242, 1000 + rec["worker"]
            ends = np.linspace(last_ns, now_ns, n, dtype=np.int64) - t0
            rec["t_ns"] = t0 + ends
            rec["t0_ns"] = rec["t_ns"] - int(LANES * 1e9 / rate)
            rec["cpu_ns"] = int(LANES * 1e9 / rate)
            store.add_events(rec)  # the reader thread's work in the window: not timed
            next_task += n
            last_ns = now_ns
            t = time.perf_counter()
            view.refresh()
            if mode == "full":
                view.viewport().repaint()
            app.processEvents()
            drawing += time.perf_counter() - t
            frames += 1
        out[mode] = frames / drawing
        out[f"{mode}_tasks"] = next_task
        view.close()
        view.deleteLater()
        app.processEvents()
    return out


def rss_child(n_tasks: int) -> None:
    """Print the RSS (MB) of a fresh window process holding ``n_tasks`` drawn tasks."""
    import json

    import psutil
    from PySide6.QtWidgets import QApplication

    from concviz.ui.gantt_item import GanttData, GanttItem

    app = QApplication.instance() or QApplication(["concviz-bench-rss"])
    w = _plot_widget()
    item = GanttItem()
    w.addItem(item)
    app.processEvents()
    w.viewport().repaint()
    base = psutil.Process().memory_info().rss / 2**20
    store = synthetic_store(n_tasks)
    data = GanttData(store, 0)
    item.set_data(data)
    w.setYRange(-0.6, data.n_rows - 0.4, padding=0)
    for lo, hi in _views(data.x_max, 30):  # every level of detail gets built
        w.setXRange(lo, hi, padding=0)
        w.viewport().repaint()
    rss = psutil.Process().memory_info().rss / 2**20
    print(json.dumps({"rss_mb": rss, "base_mb": base}))


def _rss_in_fresh_process(n_tasks: int) -> dict:
    import json
    import subprocess
    import sys

    env = dict(os.environ)
    code = f"from concviz.bench.gantt import rss_child; rss_child({n_tasks})"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        raise RuntimeError(f"the RSS probe failed: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(args=None) -> dict:
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    import psutil
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from concviz.ui.gantt_item import GanttData, GanttItem

    app = QApplication.instance() or QApplication(["concviz-bench"])
    frames = int(getattr(args, "frames", 0) or 90)
    figures: dict[str, float] = {}
    details: dict[str, float] = {}

    def gantt_fps(n: int) -> tuple[float, float]:
        store = synthetic_store(n)
        w = _plot_widget()
        item = GanttItem()
        w.addItem(item)
        t = time.perf_counter()
        data = GanttData(store, 0)
        build_s = time.perf_counter() - t
        item.set_data(data)
        w.setYRange(-0.6, data.n_rows - 0.4, padding=0)
        app.processEvents()
        fps = _fps(w, w.getPlotItem(), _views(data.x_max, frames))
        rss = psutil.Process().memory_info().rss / 2**20
        w.close()
        w.deleteLater()
        app.processEvents()
        return fps, build_s, rss, store, data

    fps, build, _rss, _s, _d = gantt_fps(10_000)
    figures["fps_10k"] = round(fps, 1)
    fps, build, _rss, _s, _d = gantt_fps(100_000)
    figures["fps_100k"] = round(fps, 1)
    details["build_s_100k"] = round(build, 4)
    del _s, _d
    fps, build, _rss, store, data = gantt_fps(1_000_000)
    figures["fps_1m"] = round(fps, 1)
    # measured in a fresh process: this one still holds the smaller runs' memory
    probe = _rss_in_fresh_process(1_000_000)
    figures["rss_mb_1m_tasks"] = round(probe["rss_mb"], 1)
    details["rss_mb_empty_window"] = round(probe["base_mb"], 1)
    details["build_s_1m"] = round(build, 3)
    del store, data

    live = _live_append_fps(3.0, 20_000, 100_000)
    figures["fps_live_append"] = round(live["full"], 1)
    details["fps_live_append_asked_only"] = round(live["asked"], 1)
    details["live_append_tasks_at_end"] = int(live["full_tasks"])

    # the naive way: one BarGraphItem, a brush per bar
    store = synthetic_store(100_000)
    b = store.bars()
    x0 = b["start"] / 1e9
    width = (b["end"] - b["start"]) / 1e9
    eff = b["cpu"] / np.maximum(b["end"] - b["start"], 1)
    palette = [pg.mkBrush(c) for c in ("#B9DCF4", "#56B4E9", "#0072B2")]
    brushes = [palette[int(k)] for k in np.searchsorted([0.3, 0.7], eff).tolist()]
    w = _plot_widget()
    bars = pg.BarGraphItem(
        x0=x0, y0=b["lane"] - 0.35, width=width, height=0.7, brushes=brushes, pen=None
    )
    w.addItem(bars)
    w.setYRange(-0.6, LANES - 0.4, padding=0)
    app.processEvents()
    # fewer frames: each one is slow
    naive_views = _views(float((b["end"].max()) / 1e9), max(9, frames // 6))
    figures["naive_fps_100k"] = round(_fps(w, w.getPlotItem(), naive_views), 1)
    w.close()
    ratio = figures["fps_100k"] / max(figures["naive_fps_100k"], 1e-9)
    text = (
        f"Gantt pan/zoom at {WIDTH}x{HEIGHT} offscreen, {frames} frames per size\n"
        f"  10 k tasks : {figures['fps_10k']:8.1f} fps\n"
        f"  100 k tasks: {figures['fps_100k']:8.1f} fps   (naive BarGraphItem: "
        f"{figures['naive_fps_100k']:.1f} fps, {ratio:.0f}× slower)\n"
        f"  1 M tasks  : {figures['fps_1m']:8.1f} fps   window RSS {figures['rss_mb_1m_tasks']:.0f} MB\n"
        f"  following a live run of 100 k tasks + 20 k/s: {figures['fps_live_append']:.1f} fps "
        f"(whole view each frame; {details['fps_live_append_asked_only']:.1f} painting what "
        f"changed)\n"
        f"  goals: ≥ 60 fps at 100 k and following the live run, ≥ 30 fps at 1 M, ≤ 300 MB"
    )
    return {
        "figures": figures,
        "details": details,
        "text": text,
        "compared": "concviz's Gantt item vs a pyqtgraph BarGraphItem with a brush per bar, "
        "panning and zooming at 1200x700 offscreen",
        "baselines": {"fps_100k": "naive_fps_100k"},
        "goals": {
            "fps_100k": ">= 60",
            "fps_1m": ">= 30",
            "fps_live_append": ">= 60",
            "rss_mb_1m_tasks": "<= 300",
        },
    }


if __name__ == "__main__":
    import json

    out = run()
    print(out["text"])
    print(json.dumps({"figures": out["figures"], "details": out["details"]}))
