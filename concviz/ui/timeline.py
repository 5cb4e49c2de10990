"""The time-aligned stack: the Gantt on top, per-core heatmap and CPU totals below.

All three plots share one x axis in seconds since the run started. While a run is
going the view follows the newest data; once it is finished (or the user pans) the
view is left alone.

Threads: GUI thread only.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QToolTip

from concviz.model.cpu_series import CpuSeries
from concviz.model.event_store import BAR_TASK, EventStore
from concviz.model.metrics import cpu_efficiency, phase_text
from concviz.model.rows import DENSITY_ROWS, MAX_GROUP_ROWS, ROW_LOOP
from concviz.model.sync_view import counter_series, run_deadlock, task_graph

from . import theme as T
from .counter_lane import CounterLane
from .cpu_panel import CpuPanel
from .gantt_item import GanttData, GanttItem
from .graph_overlay import GraphOverlay

# follow the newest data with this much history visible (seconds)
FOLLOW_WINDOW_S = 20.0
# the spans a followed run's view steps through before it pages (seconds)
FOLLOW_SPANS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, FOLLOW_WINDOW_S)
# rebuilding the Gantt's arrays may not take more than this share of the time
_REBUILD_BUDGET = 0.25
# while a run goes on, its finished bars are laid out again at most this often: the
# bars finished meanwhile are drawn by the live item at once, in their CPU colours, and
# take their wait split's colours with the layout. Once a second cost 0.004 of a core
# less, but left a block up to a second wide of unsplit bars at the live edge, which
# reads as one long task in progress
LIVE_LAYOUT_S = 0.25
# a finished bar's wait split may change this long after it ended (model.wait_states)
RESPLIT_S = 1.0
# and the view is brought up to date at most this often (15 a second: a bar following
# a 10 s run at 1920 px grows by ~7 px a step, by 25-100 px in a run's first seconds
# whatever the rate); between, the frame timer's tick returns at once. Following a
# 10 s process-pool run, 20 a second cost the window 0.096-0.101 of a core and slowed
# the run by 1.05 (bench window-cost, goals 0.10 and 1.05), 15 a second 0.087-0.089
# and 1.01-1.05; 30 a second cost 0.012 more than 20, 60 twice that
LIVE_INTERVAL_S = 1 / 15


class TimelineView(pg.GraphicsLayoutWidget):
    """Gantt + CPU heatmap + CPU totals, x-linked."""

    # the wait styles (model.sync_view.WAIT_STYLES indices) and counter names now drawn,
    # and whether a task graph is (its critical path and arrows)
    sharingShown = Signal(list, list, bool, bool)

    def __init__(self, cpu: CpuSeries, theme: T.Theme = T.LIGHT, parent=None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.store: EventStore | None = None
        self.t0_ns = time.perf_counter_ns()
        self.replay_ns: int | None = None  # replay: the moment shown, else now
        self.follow = True
        self.running = False
        self.scale = 1.0
        self._store_version = -1
        self._rows_key: tuple = ()
        self._group_rows = MAX_GROUP_ROWS
        self._next_rebuild = 0.0
        self._last_layout = 0.0
        # a strip line's height and the plot's when the y range was last set (pixels)
        self._strip_line_px = (0.0, 0.0)
        self._marker_lines: list[pg.InfiniteLine] = []
        self._n_markers = 0
        self._phase_items: list[tuple[dict, list]] = []  # (phase, its graphics items)
        self._auto_ranging = False
        # a live view is brought up to date at most this often (0: every frame); a
        # continuous run's view is calmer still (ui.segments_panel sets it)
        self.live_interval_s = LIVE_INTERVAL_S
        self._next_live = 0.0

        self.gantt_plot = pg.PlotItem(enableMenu=False)
        self.gantt_plot.setMenuEnabled(False)
        self.gantt_plot.hideButtons()
        self.gantt_plot.invertY(True)
        self.gantt_plot.setMouseEnabled(x=True, y=False)
        self.gantt = GanttItem(theme)
        self.gantt_plot.addItem(self.gantt)
        self.gantt_plot.setLabel("left", "workers")
        self.cpu = CpuPanel(cpu, theme)
        self.addItem(self.gantt_plot, row=0, col=0)
        self.addItem(self.cpu.heat, row=1, col=0)
        self.addItem(self.cpu.total, row=2, col=0)
        self.cpu.heat.setXLink(self.gantt_plot)
        self.cpu.total.setXLink(self.gantt_plot)
        self.cpu.total.setLabel("bottom", "time since the run started (s)")
        # a task graph's arrows, its critical path and a deadlock's cycle, over the bars
        self.graph_overlay = GraphOverlay(self.gantt, theme)
        self.gantt_plot.addItem(self.graph_overlay)
        # counters (a queue's depth) on the CPU totals' time axis, on an axis of their own
        self.counters = CounterLane(self.cpu.total, theme)
        self._sharing: tuple = ((), ())
        self.sharing: tuple = ([], [], False, False)  # what sharingShown said last
        self._counter_version = -1
        # one time axis, at the bottom: fewer axes to repaint while the view follows
        self.gantt_plot.hideAxis("bottom")
        self.cpu.heat.hideAxis("bottom")
        for plot in (self.gantt_plot, self.cpu.heat, self.cpu.total):
            # the row labels only change with the rows: replay them from a pixmap
            plot.getAxis("left").setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # a right-hand scale on the CPU totals (tasks/s, a queue's depth) narrows them:
        # the plots above keep an empty margin as wide (_match_right_axes)
        right = self.cpu.total.getAxis("right")
        right.visibleChanged.connect(self._match_right_axes)
        right.geometryChanged.connect(self._match_right_axes)
        lay = self.ci.layout
        lay.setRowStretchFactor(0, 6)
        lay.setRowStretchFactor(1, 2)
        lay.setRowStretchFactor(2, 2)
        self._fit_left_axes([])
        self.gantt_plot.vb.sigRangeChangedManually.connect(self._user_moved)
        self.cpu.heat.vb.sigRangeChangedManually.connect(self._user_moved)
        self.cpu.total.vb.sigRangeChangedManually.connect(self._user_moved)
        self.gantt_plot.vb.sigResized.connect(self._resized)
        self.gantt_plot.sigXRangeChanged.connect(self._layout_phase_labels)
        # the label strip is kept in pixels, the y range in rows: a taller or shorter
        # plot (the window resized, a panel shown) sets it again
        self.gantt_plot.vb.sigResized.connect(self.fit_label_strip)
        self.scene().sigMouseMoved.connect(self._hover)
        for plot in (self.gantt_plot, self.cpu.heat, self.cpu.total):
            for name in ("left", "bottom"):
                # Once, while the range is still pyqtgraph's 0..1: disabling the prefix
                # also freezes the scale computed from the range at that moment, so a
                # later call (a theme switch) on a 6 ms run would label 6 ms as "6 s".
                plot.getAxis(name).enableAutoSIPrefix(False)
        self.set_theme(theme)
        self.set_scale(1.0)
        self.gantt_plot.setXRange(0, 10, padding=0)

    # -- data
    def set_store(self, store: EventStore, t0_ns: int) -> None:
        self.store = store
        self.t0_ns = t0_ns
        self.replay_ns = None
        self._store_version = -1
        self._next_rebuild = 0.0
        self.cpu.set_origin(t0_ns)
        for line in self._marker_lines:
            self.gantt_plot.removeItem(line)
        self._marker_lines.clear()
        self._n_markers = 0
        self._clear_phases()
        self.gantt.set_data(None)
        self.graph_overlay.set_run(None, None, None, None, t0_ns)
        self.counters.set_series([])
        self._counter_version = -1
        self._emit_sharing([], [], False)
        self.follow = True

    def set_cpu_series(self, series: CpuSeries) -> None:
        """The CPU samples the panels draw: the sampler's (live) or a past run's own."""
        self.cpu.set_series(series)

    def set_origin(self, t0_ns: int) -> None:
        if t0_ns != self.t0_ns:
            self.t0_ns = t0_ns
            self.cpu.set_origin(t0_ns)
            self._store_version = -1
            self._next_rebuild = 0.0

    def now_s(self) -> float:
        now = time.perf_counter_ns() if self.replay_ns is None else self.replay_ns
        return (now - self.t0_ns) / 1e9

    def show_frame(self, store: EventStore, now_ns: int) -> None:
        """Replay: draw ``store`` (a run as it was at ``now_ns``, ``model.replay``) with
        its running tasks grown to ``now_ns``, keeping the view where the user put it."""
        self.store = store
        self.replay_ns = now_ns
        self.running = True
        self.follow = False
        self._store_version = -1
        self._next_rebuild = 0.0

    def due(self) -> bool:
        """False on the frame timer's ticks a live view calmed by ``live_interval_s``
        skips (45 of 60 a second at 15 redraws a second)."""
        return not (
            self.running and self.live_interval_s > 0 and time.perf_counter() < self._next_live
        )

    def frame(self) -> bool:
        """The frame timer's refresh: a live view calmed by ``live_interval_s`` skips
        frames (an explicit ``refresh`` always runs)."""
        if not self.due():
            return False
        return self.refresh()  # (which sets when the next redraw is due)

    def refresh(self, layout: bool = False) -> bool:
        """Bring the plots up to date; returns True when anything was redrawn.

        ``layout``: a changed store is laid out now (its new markers and phases
        drawn), not at the live pace of ``LIVE_LAYOUT_S``."""
        if layout:
            self._last_layout = self._next_rebuild = 0.0
        if self.live_interval_s > 0:  # the frame timer waits its interval from now on
            self._next_live = time.perf_counter() + self.live_interval_s
        changed = self.cpu.refresh()
        store = self.store
        now = self.now_s()
        if store is not None:
            if store.version != self._store_version and self._rebuild_due(store):
                t = time.perf_counter()
                self._store_version = store.version
                self._group_rows = self._group_rows_fit()
                old = self.gantt.data
                data = GanttData(store, self.t0_ns, self._group_rows)
                open_rows = self._open_rows(store, data)
                self.gantt.set_data(
                    data,
                    open_rows,
                    now if self.running else None,
                    self._changed_from(store, old, data, now) if self.running else None,
                )
                self._sync_rows(data)
                self._sync_sharing(store, data)
                self._sync_markers(store)
                self._sync_phases(store, now)
                cost = time.perf_counter() - t
                self._last_layout = time.perf_counter()
                # big stores rebuild less often so the GUI keeps its frame rate
                self._next_rebuild = time.perf_counter() + cost / _REBUILD_BUDGET - cost
                changed = True
            elif self.running:
                if store.version != self._store_version:
                    self._show_recent(store)
                changed = self.gantt.set_live(self._open_rows(store), now) or changed
                changed = self._grow_open_phases(now) or changed
        if self.running and self.follow:
            self._follow(now)
        return changed

    def _changed_from(
        self, store: EventStore, old: GanttData | None, new: GanttData, now: float
    ) -> float | None:
        """Where a live layout can differ from the last one (seconds), or None when it
        may differ anywhere (new rows, bars dropped into the history, a regrouping).

        From the earliest start of the bars it adds and of those whose thread-state
        split may still change (ended within ``RESPLIT_S``: their samples come in
        at 200 Hz, flushed every 50 ms)."""
        if (
            old is None
            or old.t0_ns != new.t0_ns
            or new.n_lanes != old.n_lanes
            or new.n_bars < old.n_bars
            or new.history is not None
            or [(r.label, r.kind, r.lane) for r in new.rows]
            != [(r.label, r.kind, r.lane) for r in old.rows]
        ):
            return None
        b = store.bars()
        n = min(len(b["start"]), new.n_bars)
        cut = self.t0_ns + int((now - RESPLIT_S) * 1e9)
        tail = b["end"][:n] >= cut
        tail[old.n_bars :] = True
        starts = b["start"][:n][tail]
        if not len(starts):
            return now
        return float(starts.min() - self.t0_ns) / 1e9

    def _rebuild_due(self, store: EventStore) -> bool:
        """Whether the store's change is laid out now. A finished run's is at once; while
        a run goes on, the finished bars are laid out again at most every
        ``LIVE_LAYOUT_S`` (and within the rebuild budget), the bars finished meanwhile
        drawn by the live item: a layout costs milliseconds, and a run that finishes
        forty tasks a second asked for one every frame. New workers (rows) and an
        event budget's dropped bars are laid out at once."""
        t = time.perf_counter()
        if t < self._next_rebuild:
            return False
        d = self.gantt.data
        if not self.running or d is None or self.replay_ns is not None:
            return True
        if len(store.lanes()) != d.n_lanes or store.bar_count < d.n_bars:
            return True
        return t - self._last_layout >= LIVE_LAYOUT_S

    def _show_recent(self, store: EventStore) -> None:
        """Hand the bars finished since the layout to the live item (plain task bars;
        slices, errors and waits wait for the next layout)."""
        d = self.gantt.data
        if d is None:
            return
        b = store.bars()
        n = len(b["start"])
        if n <= d.n_bars:
            return
        sl = slice(d.n_bars, n)
        lane = b["lane"][sl]
        ok = (b["kind"][sl] == BAR_TASK) & (lane < len(d.row_of_lane))
        rows = np.where(ok, d.row_of_lane[np.where(ok, lane, 0)], -1)
        keep = np.flatnonzero(rows >= 0)
        start, end = b["start"][sl][keep], b["end"][sl][keep]
        wall = np.maximum(end - start, 0)
        eff = np.divide(b["cpu"][sl][keep], wall, out=np.zeros(len(keep)), where=wall > 0)
        self.gantt.set_recent(
            (start - self.t0_ns) / 1e9, (end - self.t0_ns) / 1e9, rows[keep], T.efficiency_step(eff)
        )

    def _open_rows(
        self, store: EventStore, data: GanttData | None = None
    ) -> list[tuple[int, int, float]]:
        d = data if data is not None else self.gantt.data
        if d is None or not self.running:
            return []
        out = []
        for lane, task, start in store.open_bars():
            if lane < len(d.row_of_lane) and d.row_of_lane[lane] >= 0:
                out.append((int(d.row_of_lane[lane]), task, (start - self.t0_ns) / 1e9))
        return out

    def _sync_sharing(self, store: EventStore, data: GanttData) -> None:
        """The task graph, a deadlock and the counters of the store's last run."""
        graph = task_graph(store, self.t0_ns)
        self.graph_overlay.set_run(graph, run_deadlock(store), data, store, self.t0_ns)
        n_counters = len(store.counters()["t"])
        if n_counters != self._counter_version:
            self._counter_version = n_counters
            self.counters.set_series(counter_series(store, self.t0_ns))
        self._emit_sharing(
            data.sync_waits.styles_present(),
            self.counters.names,
            graph is not None,
            len(data.serial_rows) > 0,
        )

    def _emit_sharing(
        self, styles: list[int], counters: list[str], graph: bool = False, serial: bool = False
    ) -> None:
        key = (tuple(styles), tuple(counters), graph, serial)
        if key != self._sharing:
            self._sharing = key
            self.sharing = (list(styles), list(counters), graph, serial)
            self.sharingShown.emit(*self.sharing)

    def _sync_rows(self, data: GanttData) -> None:
        key = tuple(r.label for r in data.rows)
        if key != self._rows_key:
            self._rows_key = key
            self._set_y_range(data.n_rows)
            self._update_row_ticks()

    def _group_rows_fit(self) -> int:
        """How many rows one event loop's coroutines (or one group's threads) may have
        before they merge into a density row: at most MAX_GROUP_ROWS, and fewer when
        the Gantt is too short for each to get ~10 pixels."""
        return max(4, min(MAX_GROUP_ROWS, int(self.gantt_plot.vb.height() / 10)))

    def _resized(self, *_args) -> None:
        if self._group_rows_fit() != self._group_rows:
            self._store_version = -1  # sub-rows or a density row: rebuild at the next frame
        self._update_row_ticks()

    def _strip_lines(self) -> int:
        """Lines of labels above the first row: the phases', then the switch markers'."""
        return int(bool(self._phase_items)) + int(bool(self._marker_lines))

    def _label_line_px(self) -> float:
        """A line of the strip: the axis font's, or a marker label's box if taller."""
        px = QFontMetricsCache.height(self.gantt_plot.getAxis("left")) * 1.2
        for line in self._marker_lines[:1]:  # a label's box holds its margins too
            px = max(px, line.label.boundingRect().height() + 2.0)
        return px

    def _top(self, n_rows: int) -> float:
        """The Gantt's top edge: a strip above the first row for the phases' and the
        switch markers' labels, if any (a marker's label over the first row hid its
        bars)."""
        lines = self._strip_lines()
        if not lines:
            return -0.6
        strip_px = self._label_line_px() * lines
        rows_px = max(self.gantt_plot.vb.height() - strip_px, 40.0)
        return -0.6 - strip_px * max(n_rows, 1) / rows_px

    def fit_label_strip(self, *_args) -> None:
        """Set the strip's height again if a switch label's text made its box taller or
        shorter (the segments panel writes the figures into it as they come), or the
        plot's height changed: the strip is kept in pixels, the y range in rows."""
        if not self._strip_lines():
            return
        used = (self._label_line_px(), self.gantt_plot.vb.height())
        if any(abs(a - b) > 0.5 for a, b in zip(used, self._strip_line_px, strict=True)):
            d = self.gantt.data
            self._set_y_range(d.n_rows if d is not None else 1)

    def _set_y_range(self, n_rows: int) -> None:
        n = max(n_rows, 1)
        self._strip_line_px = (self._label_line_px(), self.gantt_plot.vb.height())
        top = self._top(n)
        self.gantt_plot.setYRange(top, n - 0.4, padding=0)
        self._layout_phase_labels()  # they sit on the new top edge
        for line in self._marker_lines:
            line.label.setPosition(self._marker_position())

    def _marker_position(self) -> float:
        """Where a switch marker's label sits on its line (0: the view's top): in the
        strip above the rows, under the phases' labels if there are any."""
        height = self.gantt_plot.vb.height()
        if height <= 0:
            return 0.0
        line = self._label_line_px() / height
        return min(0.5, 0.05 * line + line * int(bool(self._phase_items)))

    def _update_row_ticks(self, *_args) -> None:
        d = self.gantt.data
        axis = self.gantt_plot.getAxis("left")
        if d is None or not d.rows:
            axis.setTicks([[], []])
            return
        px_per_row = self.gantt_plot.vb.height() / max(d.n_rows, 1)
        line_px = QFontMetricsCache.height(axis)
        step = max(1, math.ceil(line_px / max(px_per_row, 1e-6)))
        # when rows are too thin for every label, every step-th gets one; an event loop
        # and a density row always do (they head or stand for a group), and the rows
        # next to them give way
        heads = [
            r for r, row in enumerate(d.rows) if row.kind == ROW_LOOP or row.kind in DENSITY_ROWS
        ]
        near = np.zeros(d.n_rows, bool)
        for r in heads:
            near[max(0, r - step + 1) : r + step] = True
        ticks = [
            (r, row.label)
            for r, row in enumerate(d.rows)
            if r in heads or (r % step == 0 and not near[r])
        ]
        axis.setTicks([ticks, []])
        self._fit_left_axes([row.label for row in d.rows])

    def _match_right_axes(self) -> None:
        """The Gantt and the per-core strip get an empty right margin as wide as the
        CPU totals' right-hand scale while it shows, so that one moment is at one x in
        all three (a continuous run's busy line ended 0.3 s short of the bars above)."""
        right = self.cpu.total.getAxis("right")
        width = int(round(right.geometry().width())) if right.isVisible() else 0
        for plot in (self.gantt_plot, self.cpu.heat):
            ax = plot.getAxis("right")
            if width > 0:
                if not ax.isVisible():
                    ax.setTicks([[], []])
                    ax.setStyle(showValues=False)
                    ax.setPen(pg.mkPen(None))
                    plot.showAxis("right")
                if int(ax.width()) != width:
                    ax.setWidth(width)
            elif ax.isVisible():
                plot.hideAxis("right")

    def _fit_left_axes(self, labels: list[str]) -> None:
        """One width for the three left axes, enough for the longest row label."""
        from PySide6.QtGui import QFontMetricsF

        fm = QFontMetricsF(self._font(1.0))
        widest = max([fm.horizontalAdvance(t) for t in labels] + [fm.horizontalAdvance("10.0")])
        width = int(widest + fm.height() * 1.6 + 16 * self.scale)
        for plot in (self.gantt_plot, self.cpu.heat, self.cpu.total):
            plot.getAxis("left").setWidth(width)

    def _sync_markers(self, store: EventStore) -> None:
        markers = store.markers
        for m in markers[self._n_markers :]:
            x = (m["t_ns"] - self.t0_ns) / 1e9
            if m.get("kind") == "gil_enabled":
                text = (
                    "GIL turned on" if m.get("enabled", m.get("gil_enabled")) else "GIL turned off"
                )
            else:
                to = m.get("to", {})
                text = f"→ {to.get('strategy', '?')} × {to.get('workers', '?')}"
            line = pg.InfiniteLine(
                pos=x,
                angle=90,
                movable=False,
                pen=pg.mkPen(self.theme.marker, width=2.5 * self.scale, style=Qt.PenStyle.DashLine),
                label=text,
                labelOpts={
                    "position": self._marker_position(),
                    "color": self.theme.foreground,
                    "fill": QColor(self.theme.background),
                    "anchors": [(0, 0), (0, 0)],
                },
            )
            line.label.setFont(self._font(1.0))
            self.gantt_plot.addItem(line)
            self._marker_lines.append(line)
        if markers and not self._n_markers:  # the first marker opens a strip for labels
            d = self.gantt.data
            self._set_y_range(d.n_rows if d is not None else 1)
        self._n_markers = len(markers)

    # -- engine phases (start-up, teardown): a shaded band across every panel
    def _clear_phases(self) -> None:
        for _ph, items in self._phase_items:
            for plot, item in items:
                plot.removeItem(item)
        self._phase_items.clear()

    def _phase_text(self, ph: dict, now: float) -> str:
        t1 = (ph["t_ns"] - self.t0_ns) / 1e9 if ph.get("t_ns") else now
        took = phase_text(t1 - (ph["t0_ns"] - self.t0_ns) / 1e9)
        if ph.get("kind") == "teardown":
            return f"teardown {took}"
        what = "start-up" if ph.get("kind") == "startup" else ph.get("kind", "phase")
        if not ph.get("t_ns"):  # still going
            return f"{ph.get('strategy', '')} {what}, {took} so far: {ph.get('label', '')}"
        text = f"{ph.get('strategy', '')} {what} {took}: {ph.get('label', '')}"
        offsets = (ph.get("details") or {}).get("offsets_ms") or {}
        if offsets:  # workers' clocks as measured against the lab's (Dask's own times)
            text += " · worker clocks " + ", ".join(f"{v:+.1f}" for v in offsets.values()) + " ms"
        return text

    def _sync_phases(self, store: EventStore, now: float) -> None:
        phases = store.phases()
        if [(p["t0_ns"], p.get("t_ns")) for p, _ in self._phase_items] == [
            (p["t0_ns"], p.get("t_ns")) for p in phases
        ]:
            return
        self._clear_phases()
        colour = QColor(self.theme.marker)
        colour.setAlpha(40)
        for ph in phases:
            x0 = (ph["t0_ns"] - self.t0_ns) / 1e9
            x1 = (ph["t_ns"] - self.t0_ns) / 1e9 if ph.get("t_ns") else max(now, x0)
            items = []
            for plot in (self.gantt_plot, self.cpu.total):
                region = PhaseBand(x0, x1, colour)
                region.setZValue(-10)
                plot.addItem(region, ignoreBounds=True)
                items.append((plot, region))
            # start-up reads rightwards from its start; teardown leftwards from its end,
            # so neither runs off the edge of a run zoomed to fit
            ends = ph.get("kind") == "teardown"
            label = pg.TextItem(
                self._phase_text(ph, now), color=self.theme.foreground, anchor=(1 if ends else 0, 0)
            )
            label.setFont(self._font(0.9))
            label.full_text = label.textItem.toPlainText()
            label.setPos(x1 if ends else x0, -0.6)
            self.gantt_plot.addItem(label)
            items.append((self.gantt_plot, label))
            self._phase_items.append((ph, items))
        d = self.gantt.data
        self._set_y_range(d.n_rows if d is not None else 1)  # room for the labels above

    def _layout_phase_labels(self, *_args) -> None:
        """Fit each phase's label into the room it has before the next one (elided, or
        hidden when too narrow), so labels never overlap each other or leave the view."""
        if not self._phase_items:
            return
        vb = self.gantt_plot.vb
        (lo, hi), (top, _bottom) = vb.viewRange()
        top = min(top, _bottom)
        upp = vb.viewPixelSize()[0]  # data units per pixel
        if not upp or upp <= 0:
            return
        fm = QFontMetricsF(self._font(0.9))
        now = self.now_s()
        entries = []
        for ph, items in self._phase_items:
            label = next(it for _p, it in items if isinstance(it, pg.TextItem))
            x0 = (ph["t0_ns"] - self.t0_ns) / 1e9
            x1 = (ph["t_ns"] - self.t0_ns) / 1e9 if ph.get("t_ns") else max(now, x0)
            entries.append((x0, x1, ph.get("kind") == "teardown", label))
        entries.sort(key=lambda e: e[0])
        gap = 10 * upp
        placed = lo
        for i, (x0, x1, ends, label) in enumerate(entries):
            next_x = entries[i + 1][0] if i + 1 < len(entries) else hi
            if ends:
                right = min(x1, hi)
                left = max(placed + gap, lo)
            else:
                left = max(x0, placed + gap, lo)
                right = min(next_x, hi)
            room_px = (right - left) / upp - 8
            text = fm.elidedText(label.full_text, Qt.TextElideMode.ElideRight, room_px)
            if room_px < 48 or not text or text == "…":
                label.hide()
                continue
            label.setText(text)
            label.show()
            if ends:
                label.setAnchor((1, 0))
                label.setPos(right, top)
            else:
                label.setAnchor((0, 0))
                label.setPos(left, top)
            placed = right if ends else left + (fm.horizontalAdvance(text) + 8) * upp

    def _grow_open_phases(self, now: float) -> bool:
        """Grow the bands of phases still under way (an engine's start-up); True if any."""
        grew = False
        for ph, items in self._phase_items:
            if ph.get("t_ns"):
                continue
            grew = True
            x0 = (ph["t0_ns"] - self.t0_ns) / 1e9
            for _plot, item in items:
                if isinstance(item, PhaseBand):
                    item.setRegion((x0, max(now, x0)))
                else:
                    item.full_text = self._phase_text(ph, now)
        if grew:
            self._layout_phase_labels()
        return grew

    # -- view
    def _follow(self, now: float) -> None:
        """Keep ``now`` in view, moving the view as seldom as possible: a run's first
        ``FOLLOW_WINDOW_S`` are shown from 0 in spans of 1 to 20 s, each 1.3 to 1.7
        times the last (the next when ``now`` passes nine tenths of the span), then the
        view pages on by half a span, its left edge on a whole pixel. Between steps the axes, the cached
        finished bars and the CPU image stay where they are and only what grew is
        repainted; a view that slid with every frame repainted everything, every frame.
        """
        vb = self.gantt_plot.vb
        (lo, hi) = vb.viewRange()[0]
        span = hi - lo
        if now < FOLLOW_WINDOW_S * 0.9:
            want = next((x for x in FOLLOW_SPANS if now <= 0.9 * x), FOLLOW_WINDOW_S)
            new = (0.0, want)
        else:
            want = FOLLOW_WINDOW_S
            if abs(span - want) < 1e-9 * want and lo <= now <= lo + 0.95 * want:
                return
            px = max(float(vb.width()), 1.0)
            step = want / px
            left = math.floor((now - 0.5 * want) / step) * step
            new = (left, left + want)
        if abs(new[0] - lo) <= 1e-9 * want and abs(new[1] - hi) <= 1e-9 * want:
            return
        self._auto_ranging = True
        self.gantt_plot.setXRange(*new, padding=0)
        self._auto_ranging = False

    def _user_moved(self, *_args) -> None:
        if not self._auto_ranging:
            self.follow = False

    def zoom_to_fit(self) -> None:
        """Show the whole run (and keep following it if it is still running)."""
        self.follow = True
        d = self.gantt.data
        if self.running:
            self._follow(self.now_s())
            return
        if d is None or not len(d.s):
            return
        x0, x1 = min(0.0, d.x_min), d.x_max
        if self.store is not None and self.store.t_max is not None:
            # the whole run even when the bars drawn are a rebuild behind (the rebuild
            # budget may defer the last one by a few frames)
            x1 = max(x1, (self.store.t_max - self.t0_ns) / 1e9)
        if self.store is not None:  # an engine's start-up and teardown too
            self._sync_phases(self.store, self.now_s())
            for ph in self.store.phases():
                if ph.get("t_ns"):
                    x1 = max(x1, (ph["t_ns"] - self.t0_ns) / 1e9)
        self.gantt_plot.setXRange(x0, x1 + 0.02 * (x1 - x0 + 1e-3), padding=0)
        self._set_y_range(d.n_rows)

    def zoom_to_tasks(self) -> None:
        """The tasks' span, an engine's start-up and teardown left out (Home shows
        them again)."""
        d = self.gantt.data
        if d is None or not len(d.s):
            return
        self.follow = False
        x0, x1 = d.x_min, d.x_max
        margin = 0.03 * (x1 - x0 + 1e-3)
        self.gantt_plot.setXRange(x0 - margin, x1 + margin, padding=0)
        self._set_y_range(d.n_rows)

    # -- hover
    def _hover(self, pos: QPointF) -> None:
        vb = self.gantt_plot.vb
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        info = self.gantt.hit(p.x(), p.y())
        self.graph_overlay.set_hovered(info.get("task") if info else None)
        if info is None:
            QToolTip.hideText()
            return
        QToolTip.showText(self.mapToGlobal(self.mapFromScene(pos)), describe(info), self)

    # -- looks
    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self.setBackground(theme.background)
        self.gantt.set_theme(theme)
        self.graph_overlay.set_theme(theme)
        self.cpu.set_theme(theme)
        self.counters.set_theme(theme)
        for plot in (self.gantt_plot, self.cpu.heat, self.cpu.total):
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setPen(pg.mkPen(theme.foreground))
                ax.setTextPen(pg.mkPen(theme.foreground))
        for line in self._marker_lines:
            line.setPen(pg.mkPen(theme.marker, width=2.5 * self.scale, style=Qt.PenStyle.DashLine))
        self.set_scale(self.scale)

    def _font(self, factor: float) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(T.BASE_POINT_SIZE * self.scale * factor)
        return f

    def set_scale(self, scale: float) -> None:
        """Text and line scale (1.0 normal, 1.6 in presentation mode)."""
        self.scale = scale
        tick = self._font(1.0)
        size = f"{T.BASE_POINT_SIZE * scale:.0f}pt"
        for plot in (self.gantt_plot, self.cpu.heat, self.cpu.total):
            for name in ("left", "bottom"):
                ax = plot.getAxis(name)
                ax.setStyle(tickFont=tick, tickTextOffset=int(6 * scale))
                ax.label.setFont(tick)
                if ax.labelText:
                    ax.setLabel(ax.labelText, **{"color": self.theme.foreground, "font-size": size})
        self.cpu.total.getAxis("bottom").setHeight(int(50 * scale))
        # the scene's minimum heights are the widget's too: the window's layout must never
        # give the view less, or the time axis falls off its bottom (a 720p projector)
        # (the margin: the scene layout's own spacing and borders between the plots)
        heights = {self.gantt_plot: 100, self.cpu.heat: 48, self.cpu.total: 88}
        for plot, h in heights.items():
            plot.setMinimumHeight(h * scale)
        self.setMinimumHeight(int(sum(heights.values()) * scale + 48))
        self.gantt.set_presentation(scale > 1.0)
        self.cpu.set_line_width(2.0 * scale)
        self.counters.set_line_width(2.0 * scale)
        self.graph_overlay.set_scale(scale, self.font())
        right = self.cpu.total.getAxis("right")
        right.setStyle(tickFont=tick, tickTextOffset=int(6 * scale))
        right.label.setFont(tick)
        for line in self._marker_lines:
            line.label.setFont(tick)
        for _ph, items in self._phase_items:
            for _plot, item in items:
                if isinstance(item, pg.TextItem):
                    item.setFont(self._font(0.9))
        if self._phase_items:
            d = self.gantt.data
            self._set_y_range(d.n_rows if d is not None else 1)
        self._update_row_ticks()


class PhaseBand(QGraphicsRectItem):
    """A phase's shaded band (an engine's start-up): from ``x0`` to ``x1`` seconds and
    over every row the view can show. Qt paints it without calling Python, where
    pyqtgraph's region item mapped the view's rectangle in Python at every frame
    whose changes it touched (a tenth of a millisecond to a few each)."""

    SPAN = 1.0e4  # rows or cores above and below: beyond any zoom out of the plots

    def __init__(self, x0: float, x1: float, colour: QColor) -> None:
        super().__init__()
        self.setPen(pg.mkPen(None))
        self.setBrush(pg.mkBrush(colour))
        self.setRegion((x0, x1))

    def setRegion(self, region: tuple[float, float]) -> None:  # noqa: N802 (pyqtgraph's name)
        x0, x1 = sorted(region)
        self.setRect(QRectF(x0, -self.SPAN, x1 - x0, 2 * self.SPAN))


class QFontMetricsCache:
    """Height of an axis's tick text in pixels."""

    @staticmethod
    def height(axis: pg.AxisItem) -> float:
        from PySide6.QtGui import QFontMetricsF

        font = axis.style.get("tickFont") or axis.font()
        return QFontMetricsF(font).height() * 1.1


def describe(info: dict) -> str:
    """The hover tooltip of one bar (or of a density row at one instant), and of the
    wait on a shared object under the pointer, first."""
    wait = info.get("wait")
    if wait is not None:
        head = f"<b>{wait['text']}</b>"
        if info.get("only_wait"):
            return f"{head}<br>task {info['task']} on {info['label']}"
        rest = describe({k: v for k, v in info.items() if k != "wait"})
        return f"{head}<br>{rest}"
    if info.get("density") == "workers":  # threads have no slices: busy is all we know
        return (
            f"<b>{info['label']}</b> at {info['start']:.3f} s<br>"
            f"{info['waiting']} of {info['of']} busy with a task"
        )
    if info.get("density"):
        return (
            f"<b>{info['label']}</b> at {info['start']:.3f} s<br>"
            f"{info['waiting']} waiting (on I/O, or for the loop), "
            f"{info['running']} holding the event loop, of {info['of']}"
        )
    coroutine = info.get("coroutine")
    if coroutine is not None and info.get("slice"):
        return "<br>".join(
            [
                f"<b>coroutine {coroutine} held the event loop</b> (task {info['task']})",
                f"from {info['start']:.3f} s for {info['wall'] * 1000:.2f} ms, "
                f"CPU {(info.get('cpu') or 0.0) * 1000:.2f} ms",
                "every other coroutine of this loop waited meanwhile",
            ]
        )
    kind = (
        "running task"
        if info.get("running")
        else ("coroutine slice" if info.get("slice") else "task")
    )
    if info.get("error"):
        kind = "failed task"
    elif info.get("stopped"):
        kind = "stopped task"
    lines = [f"<b>{kind} {info['task']}</b> on {info['label']}"]
    lines.append(f"started {info['start']:.3f} s, wall {info['wall'] * 1000:.1f} ms")
    if info.get("cpu") is not None:
        eff = cpu_efficiency(info["cpu"], info["wall"])
        lines.append(f"CPU {info['cpu'] * 1000:.1f} ms ({eff * 100:.0f}% of wall on a CPU)")
    if info.get("held") is not None:
        # a coroutine's task: it ran only in its slices, and waited the rest
        waited = max(info["wall"] - info["held"], 0.0)
        lines.append(
            f"held the event loop {info['held'] * 1000:.1f} ms · waited {waited * 1000:.1f} ms"
            " (on I/O, or for the loop while another coroutine held it)"
        )
    split = info.get("split")
    if split:
        lines.append(
            f"running {info['cpu'] * 1000:.1f} ms · waiting for the GIL "
            f"{split['gil_wait'] * 1000:.1f} ms · for a CPU {split['cpu_wait'] * 1000:.1f} ms"
            f" · on I/O, a sleep or a lock {split['io_wait'] * 1000:.1f} ms"
        )
    return "<br>".join(lines)
