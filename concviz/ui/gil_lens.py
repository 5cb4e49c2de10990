"""The GIL lens: a meter in plain words and effective parallelism against busy workers.

Fed from the window's live ``EventStore`` (bars, probes, the lab's handshake) and a
``ThreadSampler`` of the lab's process tree: the CPU each worker thread really got,
matched to its row by native thread id. "Busy workers" counts tasks in flight;
"running Python" sums the CPU rate of the worker threads. Under one GIL the second
stays near 1 however many threads are busy.

Threads: GUI thread only. ``LabThreadWatch`` samples on a QTimer in the GUI thread
(a sample costs a few microseconds per thread: open /proc files re-read).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from concviz.model import gil
from concviz.model.event_store import EventStore
from concviz.model.thread_samples import ThreadSamples, cpu_rate
from concviz.runtime.thread_sampler import ThreadSampler

from . import theme as T
from .plot_style import add_legend, lesson_plot, theme_plots


class LabThreadWatch(QObject):
    """Samples every thread of the lab's process tree at ``hz`` while a lab is known.

    Threads: GUI thread only (the QTimer fires there).
    """

    def __init__(self, hz: float = 20.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.samples = ThreadSamples()
        self._sampler: ThreadSampler | None = None
        self._pid: int | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / hz))
        self.timer.timeout.connect(self._tick)

    def watch(self, pid: int | None) -> None:
        """Sample ``pid`` and its children from now on (None: stop)."""
        if pid == self._pid:
            return
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        self._pid = pid
        self.samples = ThreadSamples()
        if pid is None:
            self.timer.stop()
            return
        try:
            self._sampler = ThreadSampler(pid, self.samples)
        except Exception:  # the lab is already gone
            self._pid = None
            return
        self.timer.start()

    def _tick(self) -> None:
        if self._sampler is None:
            return
        try:
            self._sampler.sample()
        except Exception:  # the lab ended between two samples
            self.watch(None)

    def close(self) -> None:
        self.watch(None)


def worker_tids(store: EventStore) -> dict[int, str]:
    """Native thread id -> row label of every worker lane (probe and dispatcher excluded)."""
    from concviz.lab import protocol as P

    out = {}
    for lane in store.lanes():
        if lane.worker in (P.WORKER_SERIAL, P.WORKER_DISPATCH, P.WORKER_PROBE):
            continue
        out[lane.tid] = lane.label
    return out


def running_python_series(samples: ThreadSamples, tids: set[int]) -> tuple[np.ndarray, np.ndarray]:
    """(sample times ns, summed CPU rate of the worker threads in cores) from thread samples."""
    v = samples.view()
    if not len(v["t"]) or not tids:
        return np.zeros(0, np.int64), np.zeros(0)
    keep = np.isin(v["tid"], np.fromiter(tids, np.int64, len(tids)))
    t_all = np.unique(v["t"])
    total = np.zeros(len(t_all))
    for tid in tids:
        sel = keep & (v["tid"] == tid)
        t, c = v["t"][sel], v["cpu_ns"][sel]
        if len(t) < 2:
            continue
        rate = cpu_rate(t, c)
        total[np.searchsorted(t_all, t[1:])] += rate
    return t_all, total


class GilLens(QWidget):
    """Meter + lane, refreshed at 5 Hz (skipped when nothing changed).

    ``source`` returns the store being drawn and the lab's pid.
    """

    def __init__(
        self,
        source: Callable[[], tuple[EventStore | None, int | None]],
        theme: T.Theme = T.LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("concviz — GIL lens")
        self.source = source
        self.theme = theme
        self.watch = LabThreadWatch(parent=self)
        self.effective = 0.0
        self.busy = 0.0
        self.contention: float | None = None
        lay = QVBoxLayout(self)
        big = QFont()
        big.setPointSizeF(T.BASE_POINT_SIZE * 1.7)
        big.setBold(True)
        self.meter = QLabel("GIL meter: waiting for a run…")
        self.meter.setFont(big)
        self.meter.setWordWrap(True)
        lay.addWidget(self.meter)
        self.details = QLabel("")
        df = QFont()
        df.setPointSizeF(T.BASE_POINT_SIZE * 1.1)
        self.details.setFont(df)
        self.details.setWordWrap(True)
        lay.addWidget(self.details)
        self.plot = lesson_plot(theme, "cores", "seconds since the run started", label_scale=1.0)
        p = self.plot.getPlotItem()
        add_legend(p, theme, T.BASE_POINT_SIZE, offset=(-10, 10))
        self.busy_curve = p.plot(name="busy workers")
        self.python_curve = p.plot(name="running Python (CPU of the workers)")
        lay.addWidget(self.plot, 1)
        self.set_theme(theme)
        self._key: tuple = ()
        self.timer = QTimer(self)
        self.timer.setInterval(200)  # the meter changes slowly; 5 Hz reads calmly
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def set_theme(self, theme: T.Theme) -> None:
        """Recolour the plot and its curves (the labels follow the application palette)."""
        self.theme = theme
        theme_plots(self.plot, [self.plot.getPlotItem()], theme)
        self.busy_curve.setPen(pg.mkPen(theme.foreground, width=2.5, style=Qt.PenStyle.DashLine))
        self.python_curve.setPen(pg.mkPen(theme.bars[2], width=3))

    def refresh(self) -> None:
        store, pid = self.source()
        self.watch.watch(pid)
        if store is None or not store.runs:
            return
        key = (id(store), store.version, self.watch.samples.version)
        if key == self._key:
            return
        self._key = key
        t0 = int(store.runs[-1].started["t_ns"])
        now = time.perf_counter_ns()
        end = store.runs[-1].finished["t_ns"] if store.runs[-1].finished else now
        tids = worker_tids(store)
        t, running = running_python_series(self.watch.samples, set(tids))
        # samples taken after the run ended belong to no run: the axis stops with the run
        in_run = (t >= t0) & (t <= end)
        t, running = t[in_run], running[in_run]
        b = store.bars()
        starts, ends, cpu = b["start"], b["end"], b["cpu"]
        opened = store.open_bars()
        if opened:
            starts = np.r_[starts, [s for _l, _t, s in opened]]
            ends = np.r_[ends, [end] * len(opened)]
            cpu = np.r_[cpu, np.zeros(len(opened))]
        step = max((end - t0) / 200, 20_000_000)
        edges = np.arange(t0, end + step, step, dtype=float)
        if len(edges) >= 2:
            busy, _ = gil.parallelism_over_time(starts, ends, cpu, edges)
            self.busy_curve.setData((edges[:-1] - t0) / 1e9, busy, stepMode=None)
        self.python_curve.setData((t - t0) / 1e9, running)
        # the meter describes the run: its average so far while it runs, then the whole of it
        lo = t0
        recent = t >= lo
        self.effective = float(running[recent].mean()) if recent.any() else 0.0
        busy_recent, _ = gil.parallelism_over_time(starts, ends, cpu, np.array([lo, end], float))
        self.busy = float(busy_recent[0]) if len(busy_recent) else 0.0
        interp = (store.hello or {}).get("interpreter", {})
        strategy = store.runs[-1].started.get("strategy", "threads")
        meter = gil.gil_meter(
            strategy,
            self.effective,
            self.busy,
            bool(interp.get("free_threaded")),
            bool(interp.get("gil_enabled", True)),
        )
        over = "Over the run" if store.runs[-1].finished else "Over the run so far"
        sampled = self._sampled(store)
        if sampled is not None:  # measured from outside: who waited for the GIL
            self.contention = sampled["contention"]
            meter = gil.sampled_sentence(sampled["per_thread"], sampled["contention"])
        self.meter.setText(f"{over}: {meter}")
        pr = store.probes()
        sel = pr["t"] >= lo
        switch = (store.runs[-1].finished or {}).get("switch_interval") or (store.hello or {}).get(
            "switch_interval", 0.005
        )
        estimate = gil.gil_contention(pr["late"][sel], switch)
        if sampled is None:
            self.contention = estimate
        level = gil.contention_level(self.contention)
        late_ms = float(np.median(pr["late"][sel])) / 1e6 if sel.any() else float("nan")
        v = self.watch.samples.view()
        ctx = ""
        if len(v["t"]):
            worker = np.isin(v["tid"], list(tids)) & (v["vol_ctx"] >= 0) & (v["t"] >= lo)
            if worker.any():
                span = max((v["t"][worker].max() - v["t"][worker].min()) / 1e9, 1e-3)
                per_tid = [np.ptp(v["vol_ctx"][worker & (v["tid"] == tid)]) for tid in tids]
                ctx = f" · voluntary switches {sum(per_tid) / span:.0f}/s"
        probe_note = (store.runs[-1].finished or {}).get("probe") or {}
        cost = (
            f" (the probe itself used {probe_note.get('cpu_ns', 0) / 1e6:.1f} ms of CPU)"
            if probe_note
            else ""
        )
        if sampled is not None:
            level = gil.contention_level(sampled["contention"])
            self.details.setText(
                f"GIL contention: {level} — measured: every worker thread's state read from "
                f"outside the lab 200 times a second (switch interval {switch * 1000:.1f} ms)"
                f"{ctx}"
            )
            return
        why = (store.waits.reason if store.waits is not None else None) or "not sampled"
        self.details.setText(
            f"GIL contention: {level} (an estimate: {why}) — a thread waking from a 1 ms "
            f"sleep waited {late_ms:.1f} ms for the GIL (switch interval "
            f"{switch * 1000:.1f} ms){cost}{ctx}"
        )

    @staticmethod
    def _sampled(store: EventStore) -> dict | None:
        """The run's sampled GIL section (as ``run --json`` has it), or None."""
        if store.waits is None or store.waits.source != "sampled" or not store.bar_count:
            return None
        from concviz.model import run_object

        try:
            section = run_object(store)["gil"]
        except (KeyError, IndexError):
            return None
        return section if section.get("source") == "sampled" else None

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.watch.close()
        super().closeEvent(event)
