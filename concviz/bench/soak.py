"""``concviz bench soak [--minutes M]``: the window stays flat through a class-long run.

The real main window (offscreen, 1920×1080) follows a continuous ``cpu-python`` run of
1 ms tasks under ``process-pool`` × 2 for ``--minutes`` (default 10; 2 for CI). Every
second it reads the window process's own CPU time and resident memory (the lab and its
workers are other processes). Figures: the window's share of a core over the first
and the last minute (goal ≤ 0.10, and the last ≤ 1.1 × the first), its memory growth
after the first minute (MB per minute, least squares over each 10 s window's lowest
reading; goal ≤ 2), and the tasks the
window lost (task numbers below the highest one it recorded that it never saw; goal 0).
The first minute is the baseline of the last.
"""

from __future__ import annotations

import os
import time

from ._common import bench_window

DESCRIPTION = (
    "the window's CPU and memory over a long continuous run (1 ms process-pool × 2): "
    "first vs last minute, MB/min, tasks lost"
)
SAMPLE_S = 1.0
# memory is judged on each 10 s window's lowest reading: a redraw's arrays come and go
# within a frame, and one sample landing on them is noise, not growth
RSS_WINDOW_S = 10.0


def _slope_per_min(t: list[float], y: list[float]) -> float:
    import numpy as np

    if len(t) < 2:
        return 0.0
    a = np.polyfit(np.asarray(t) / 60.0, np.asarray(y), 1)
    return float(a[0])


def run(args=None) -> dict:
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import psutil
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from concviz.model.segments import tracker_for

    minutes = float(getattr(args, "minutes", None) or 10.0)
    if getattr(args, "quick", False):
        minutes = min(minutes, 0.5)
    app = QApplication.instance() or QApplication(["concviz-bench"])
    me = psutil.Process()

    def wait(cond, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not cond():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.002)
        return cond()

    samples: list[tuple[float, float, float]] = []  # (s since start, CPU s, RSS MB)

    with bench_window(app, 1920, 1080) as win:
        c = win.controls
        c.set_workload("cpu-python")
        c.set_strategy("process-pool")
        c.set_workers(2)
        c.task_ms.setValue(1)
        c.set_continuous(True)
        win.run()
        if not wait(lambda: win.timeline.store.bar_count > 100, 30):
            raise RuntimeError("the run produced no tasks")
        t0 = time.monotonic()

        def sample() -> None:
            cpu = me.cpu_times()
            samples.append(
                (
                    time.monotonic() - t0,
                    cpu.user + cpu.system,
                    me.memory_info().rss / 2**20,
                )
            )

        sample()
        timer = QTimer()
        timer.setInterval(int(SAMPLE_S * 1000))
        timer.timeout.connect(sample)
        timer.start()
        loop = QEventLoop()
        QTimer.singleShot(int(minutes * 60_000), loop.quit)
        loop.exec()
        timer.stop()
        sample()
        store = win.timeline.store
        win.stop()
        wait(lambda: not win.running, 15)
        run = win.session.runs[-1]
        tracker = tracker_for(run.store)
        tracker.update(settle_upto=2**62)
        task = store.bars()["task"]
        recorded = store.bars_dropped + store.bar_count
        highest = int(task.max()) if len(task) else -1
        lost = max(0, highest + 1 - recorded)
        kept_bars = store.bar_count
        segments_tasks = sum(s.tasks for s in tracker.segments)

    def core_fraction(lo: float, hi: float) -> float:
        pts = [s for s in samples if lo - 1e-6 <= s[0] <= hi + SAMPLE_S / 2]
        if len(pts) < 2:
            return float("nan")
        return (pts[-1][1] - pts[0][1]) / max(pts[-1][0] - pts[0][0], 1e-9)

    total = samples[-1][0]
    span = min(60.0, total / 2)
    first = core_fraction(0.0, span)
    last = core_fraction(total - span, total)
    late = [s for s in samples if s[0] >= span]
    lows: dict[int, tuple[float, float]] = {}
    for t, _cpu, rss in late:
        k = int(t // RSS_WINDOW_S)
        if k not in lows or rss < lows[k][1]:
            lows[k] = (t, rss)
    growth = _slope_per_min([t for t, _ in lows.values()], [r for _, r in lows.values()])
    figures = {
        "window_core_fraction_first_min": round(first, 4),
        "window_core_fraction_last_min": round(last, 4),
        "rss_growth_mb_per_min": round(growth, 3),
        "events_dropped": int(lost),
        "rss_mb_start": round(samples[0][2], 1),
        "rss_mb_end": round(samples[-1][2], 1),
        "tasks_recorded": int(recorded),
        "tasks_in_segments": int(segments_tasks),
        "bars_kept_in_detail": int(kept_bars),
        "minutes": round(total / 60.0, 2),
    }
    text = (
        f"the window following a continuous 1 ms process-pool × 2 run for {total / 60:.1f} min "
        f"(offscreen, 1920×1080)\n"
        f"  window CPU, first {span:.0f} s : {first:.3f} of a core (goal ≤ 0.10)\n"
        f"  window CPU, last {span:.0f} s  : {last:.3f} of a core "
        f"({last / first if first else float('nan'):.2f}× the first; goal ≤ 1.1×)\n"
        f"  memory growth after {span:.0f} s: {growth:.2f} MB/min (goal ≤ 2); "
        f"RSS {samples[0][2]:.0f} → {samples[-1][2]:.0f} MB\n"
        f"  tasks recorded {recorded:,}, lost {lost} (goal 0); "
        f"{kept_bars:,} kept in full detail, the rest aggregated"
    )
    return {
        "figures": figures,
        "text": text,
        "compared": "the window's last minute against its first minute of the same run",
        "baselines": {"window_core_fraction_last_min": "window_core_fraction_first_min"},
        "goals": {
            "window_core_fraction_first_min": "<= 0.10",
            "window_core_fraction_last_min": "<= 0.10 and <= 1.1 x first",
            "rss_growth_mb_per_min": "<= 2",
            "events_dropped": "== 0",
        },
        "notes": ["the lab and its worker processes are not the window: their CPU is not counted"],
    }


if __name__ == "__main__":
    import json

    out = run()
    print(out["text"])
    print(json.dumps({"figures": out["figures"]}))
