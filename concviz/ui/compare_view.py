"""The compare view: runs stacked on ONE time scale, beside bars of their figures.

Each run's timeline starts at its own t = 0 and every timeline shares the same
seconds-per-pixel, so a run that took twice as long is drawn twice as wide. Beside
them, four small bar charts: wall time, CPU time, speedup and efficiency, each
measured against the run's baseline as the :class:`~concviz.model.session.Session`
decides it (the same numbers as the runs panel and the summary).

Everything is drawn in one pyqtgraph scene, so a PNG or an SVG of it holds it all.

Threads: GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from concviz.model.rows import ROW_COROUTINE, ROW_LOOP
from concviz.model.session import Run, Session

from . import theme as T
from .gantt_item import GanttData, GanttItem
from .runs_panel import elapsed_s

# the charts beside the timelines: (key, title, unit)
METRICS = (
    ("wall", "Wall", "s"),
    ("cpu", "CPU", "s"),
    ("speedup", "Speedup", "×"),
    ("efficiency", "Efficiency", "%"),
)


def run_t0(run: Run) -> int | None:
    """The run's own t = 0: when the lab started it (None before it started); for a
    trace from another tool, its first event."""
    store = run.store
    if not store.runs:
        return int(store.t_min) if run.source == "trace" and store.t_min is not None else None
    return int(store.runs[-1].started["t_ns"])


def run_span_s(run: Run) -> float:
    """How long the run took from its start to its end (or has taken so far).

    The wall time leaves out a pool's or an engine's start-up (reported apart), but
    the lane draws it, as a phase: the span is the wall plus that start-up.
    """
    if run.wall_s is not None:
        finished = run.store.runs[-1].finished if run.store.runs else None
        elapsed = (finished or {}).get("wall_ns")
        return max(float(run.wall_s), elapsed / 1e9 if elapsed else 0.0)
    return elapsed_s(run) or 0.0


def metric_values(session: Session, runs: list[Run]) -> dict[str, list[float | None]]:
    """Each chart's value per run (None where it is not known: a live run, no baseline)."""
    out: dict[str, list[float | None]] = {key: [] for key, _t, _u in METRICS}
    for run in runs:
        res = run.result or {}
        speedup, eff = session.speedup(run)
        out["wall"].append(res.get("wall_s"))
        out["cpu"].append(res.get("cpu_s"))
        out["speedup"].append(speedup)
        out["efficiency"].append(None if eff is None else eff * 100.0)
    return out


def lane_name(name: str, runs: list[Run]) -> str:
    """A run's name in its lane's title, less the ``· tag`` every compared run shares (a
    lesson's step names each of its runs "unsafe · race-conditions 1": the shared part
    cut the part that differs to "opposit…" at 720p)."""
    head, sep, tail = name.rpartition(" · ")
    others = [r.name for r in runs]
    if sep and head and len(others) >= 2 and all(n.endswith(sep + tail) for n in others):
        return head
    return name


def speedup_heading(session: Session, runs: list[Run]) -> str:
    """What the speedup charts measure against, from the baselines the charts use: one
    run for all ("speedup against #3 sequential (0.61 s)"), each run its own (an I/O
    and a CPU experiment side by side: the heading named the I/O one for both), or none
    (the heading said so beside a chart that had speedups from another run's baseline)."""
    bases: list[Run] = []
    for run in runs:
        base = session.baseline_for(run) if run.finished else None
        if base is not None and base.wall_s and all(b is not base for b in bases):
            bases.append(base)
    if not bases:
        return "no sequential run of this experiment: no speedup yet"
    if len(bases) == 1:
        base = bases[0]
        return f"speedup against #{base.id} {base.strategy} ({base.wall_s:.2f} s)"
    return "speedup vs own sequential (" + ", ".join(f"#{b.id}" for b in bases) + ")"


@dataclass
class Lane:
    """One run's timeline in the stack."""

    run_id: int
    plot: pg.PlotItem
    gantt: GanttItem
    end_line: pg.InfiniteLine | None  # at the run's end (wall + start-up), once it finished


# below this canvas width (px at scale 1) the four charts stand in one column
NARROW_PX = 640
# the lanes' titles and axis title keep within this share of the view's width (the lanes
# get 5 parts of 9, less their axis and margins), the charts the rest
LANE_SHARE = 0.45
MIN_NAME_PX = 90  # a run's name shown at least this wide before the wall's words shorten


class CompareView(QWidget):
    """Stacked timelines on a shared time scale, and bar charts of their figures."""

    sharingShown = Signal(list, list, bool, bool)  # as TimelineWidget's: what the lanes draw

    def __init__(self, session: Session, theme: T.Theme = T.LIGHT, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.sharing: tuple = ([], [], False, False)
        self._styles: dict[int, list[int]] = {}
        self._serial: set[int] = set()  # the runs whose lanes draw an Amdahl serial step
        self._named: dict[int, bool] = {}  # run id: its lane names its rows (an event loop)
        self.session = session
        self.theme = theme
        self.scale = 1.0
        self.run_ids: list[int] = []
        self.lanes: list[Lane] = []
        self.charts: dict[str, pg.PlotItem] = {}
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.chart_columns = 2
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName("compareCanvas")
        lay.addWidget(self.canvas)
        # titles are elided to the width there is: redrawn once a resize settles
        self._resized = QTimer(self)
        self._resized.setSingleShot(True)
        self._resized.setInterval(120)
        self._resized.timeout.connect(self.rebuild)
        self._unlisten = session.listen(self._session_changed)
        self.rebuild()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.run_ids:
            self._resized.start()

    def _elide(self, text: str, share: float, factor: float = 1.0, bold: bool = True) -> str:
        """``text`` cut to ``share`` of the view's width (a title must not widen the
        scene past the view: pyqtgraph's layout would push the charts off its edge)."""
        room = max(self.canvas.width() * share, 80.0)
        fm = QFontMetricsF(self._font(factor, bold))
        return fm.elidedText(text, Qt.TextElideMode.ElideRight, room)

    def close_view(self) -> None:
        self._unlisten()

    # -- what to show
    def set_runs(self, run_ids: list[int]) -> None:
        self.run_ids = [i for i in run_ids if self.session.get(i) is not None]
        self.rebuild()

    def add_run(self, run_id: int) -> None:
        if run_id not in self.run_ids:
            self.run_ids.append(run_id)
            self.rebuild()

    def runs(self) -> list[Run]:
        return [r for r in (self.session.get(i) for i in self.run_ids) if r is not None]

    def _session_changed(self, event: str, run: Run | None) -> None:
        if event == "cleared":
            self.run_ids = []
            self.rebuild()
        elif run is not None and run.id in self.run_ids:
            if event == "removed":
                self.run_ids.remove(run.id)
                self.rebuild()
            elif event == "updated":
                self._update_lane(run)
            else:
                self.rebuild()
        elif event in ("finished", "changed", "removed") and self.run_ids:
            self.rebuild()  # another run may be (or have been) these runs' baseline

    # -- looks
    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self.rebuild()

    def set_scale(self, scale: float) -> None:
        self.scale = scale
        self.rebuild()

    def _font(self, factor: float = 1.0, bold: bool = False) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(T.BASE_POINT_SIZE * self.scale * factor)
        f.setBold(bold)
        return f

    def _pt(self, factor: float = 1.0) -> str:
        return f"{T.BASE_POINT_SIZE * self.scale * factor:.0f}pt"

    def _style_plot(self, plot: pg.PlotItem) -> None:
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        fg = self.theme.foreground
        for name in ("left", "bottom"):
            ax = plot.getAxis(name)
            ax.enableAutoSIPrefix(False)
            ax.setStyle(tickFont=self._font(0.9), tickTextOffset=int(4 * self.scale))
            ax.setPen(pg.mkPen(fg))
            ax.setTextPen(pg.mkPen(fg))

    # -- drawing
    def rebuild(self) -> None:
        """Draw the chosen runs from scratch (a few runs: cheap)."""
        self.canvas.setBackground(self.theme.background)
        ci = self.canvas.ci
        ci.clear()
        self.lanes = []
        self.charts = {}
        self.bars = {}
        self._styles = {}
        self._serial = set()
        self._named = {}
        runs = self.runs()
        if not runs:
            ci.addLabel(
                # "Compare all" names the command: the line read as garbled English
                "“Compare all” runs this workload under each strategy, one after another:<br>"
                "Run → Compare all strategies… (Ctrl+Shift+A), or select runs in the Runs "
                "panel and press Compare selected.",
                color=self.theme.foreground,
                size=self._pt(1.1),
                row=0,
                col=0,
            )
            return
        lanes = ci.addLayout(row=0, col=0)
        charts = ci.addLayout(row=0, col=1)
        ci.layout.setColumnStretchFactor(0, 5)
        ci.layout.setColumnStretchFactor(1, 4)
        self._draw_lanes(lanes, runs)
        self._draw_charts(charts, runs)
        self._tell_sharing()
        # as wide as the view: a wider layout (the placeholder's line) left its width
        # behind, and the chart column ran off the view's right edge beside the lessons
        self.canvas.ci.setGeometry(QRectF(self.canvas.viewport().rect()))

    def _title(self, run: Run) -> str:
        from html import escape

        colour = self.theme.run_colour(run.colour)
        wall = f"{run.wall_s:.2f} s" if run.wall_s is not None else "running…"
        if run.result is not None and run.result.get("stopped"):
            wall += " (stopped)"
        wall_only = short_wall = wall
        outside = run_span_s(run) - run.wall_s if run.wall_s is not None else 0.0
        if outside >= 0.01:
            # what the lab's span holds beyond the wall: the start-up, and the rest of
            # it (an engine's teardown) named as such, so it agrees with a lesson's
            # start-up figure
            up = float((run.result or {}).get("startup_s") or 0.0)
            up = min(up, outside) if up > 0 else outside
            short_wall = f"{wall} + {outside:.1f} s outside"
            wall += f" + {up:.2f} s start-up"
            if outside - up >= 0.01:
                wall += f" + {outside - up:.2f} s teardown"
        # the whole title within the lanes' half of the view: a longer one widened the
        # lanes and pushed the charts off the view (beside the lessons dock, under the
        # runs list); the start-up and teardown shorten before the name goes
        fm = QFontMetricsF(self._font(1.0, True))
        total = self.canvas.width() * LANE_SHARE
        for wall_text in dict.fromkeys((wall, short_wall, wall_only)):
            tail = f" · wall {wall_text}"
            room = total - fm.horizontalAdvance(tail + "■ ")
            if room >= MIN_NAME_PX * self.scale:
                break
        name = fm.elidedText(
            lane_name(run.name, self.runs()), Qt.TextElideMode.ElideRight, max(room, 40.0)
        )
        return (
            f"<span style='color:{colour}'>■</span>&nbsp;<b>{escape(name)}</b>"
            f"&nbsp;·&nbsp;wall {escape(wall_text)}"
        )

    def _axis_title(self) -> str:
        """The lanes' time axis title, as long as the lanes have room for (it was cut
        on the left: "onds since each run started")."""
        fm = QFontMetricsF(self._font(0.95))
        room = self.canvas.width() * LANE_SHARE
        for text in (
            "seconds since each run started (one scale for all)",
            "seconds since each run started",
            "seconds",
        ):
            if fm.horizontalAdvance(text) <= room:
                return text
        return "s"

    def _draw_lanes(self, layout: pg.GraphicsLayout, runs: list[Run]) -> None:
        axis_width = int(8 * self.scale)  # no row names: the title says how many workers
        first: pg.PlotItem | None = None
        for k, run in enumerate(runs):
            plot = layout.addPlot(row=k, col=0, enableMenu=False)
            self._style_plot(plot)
            plot.setTitle(self._title(run), color=self.theme.foreground, size=self._pt(1.0))
            plot.invertY(True)
            plot.showGrid(x=True, y=False, alpha=0.2)
            plot.getAxis("left").setWidth(axis_width)
            last = k == len(runs) - 1
            if last:
                plot.setLabel(
                    "bottom",
                    self._axis_title(),
                    color=self.theme.foreground,
                    **{"font-size": self._pt(0.95)},
                )
                plot.getAxis("bottom").setHeight(int(44 * self.scale))
            else:
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(int(4 * self.scale))
            gantt = GanttItem(self.theme)
            gantt.set_presentation(self.scale > 1.0)
            plot.addItem(gantt)
            end_line = None
            if run.wall_s is not None:
                end_line = pg.InfiniteLine(
                    pos=run_span_s(run),
                    angle=90,
                    movable=False,
                    pen=pg.mkPen(
                        self.theme.run_colour(run.colour),
                        width=2.5 * self.scale,
                        style=Qt.PenStyle.DashLine,
                    ),
                )
                plot.addItem(end_line)
            lane = Lane(run.id, plot, gantt, end_line)
            self.lanes.append(lane)
            self._fill_lane(lane, run)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
        if any(self._named.values()):  # every lane as wide on the left: one time scale
            fm = QFontMetricsF(self._font(0.85))
            width = int(fm.horizontalAdvance("loop") + 16 * self.scale)
            for lane in self.lanes:
                lane.plot.getAxis("left").setWidth(width)
                lane.plot.getAxis("left").setStyle(tickFont=self._font(0.85))
        self._fit_x()

    def _fill_lane(self, lane: Lane, run: Run) -> None:
        t0 = run_t0(run)
        plot = lane.plot
        if t0 is None:
            lane.gantt.set_data(None)
            plot.setYRange(-0.6, 0.6, padding=0)
            plot.getAxis("left").setTicks([[], []])
            return
        data = GanttData(run.store, t0)
        lane.gantt.set_data(data)
        self._styles[run.id] = data.sync_waits.styles_present()
        if len(data.serial_rows):
            self._serial.add(run.id)
        else:
            self._serial.discard(run.id)
        n = max(data.n_rows, 1)
        plot.setYRange(-0.6, n - 0.4, padding=0)
        left = plot.getAxis("left")
        names = _short_row_names(data.rows)
        # an event loop's lane says which row is the loop and which its coroutines (its
        # two dark rows read as two things running at once); other lanes need no names
        left.setTicks([_thinned(names), []] if names else [[], []])
        left.setStyle(showValues=bool(names))
        self._named[run.id] = bool(names)

    def _update_lane(self, run: Run) -> None:
        lane = next((ln for ln in self.lanes if ln.run_id == run.id), None)
        if lane is None:
            self.rebuild()
            return
        self._fill_lane(lane, run)
        lane.plot.setTitle(self._title(run), color=self.theme.foreground, size=self._pt(1.0))
        self._fit_x()
        self._tell_sharing()

    def _tell_sharing(self) -> None:
        """The wait styles the lanes draw, for the legend while this view is shown (it
        named the queue of a run shown before beside a deadlock's lock waits)."""
        styles = sorted(set().union(*self._styles.values())) if self._styles else []
        # no counters nor task graph in the lanes
        self.sharing = (styles, [], False, bool(self._serial))
        self.sharingShown.emit(*self.sharing)  # the runs may have changed too

    def _fit_x(self) -> None:
        if not self.lanes:
            return
        longest = max([run_span_s(r) for r in self.runs()] + [0.05])
        self.lanes[0].plot.setXRange(0.0, longest * 1.03, padding=0)

    def _draw_charts(self, layout: pg.GraphicsLayout, runs: list[Run]) -> None:
        heading = speedup_heading(self.session, runs)
        # two columns of charts where the charts' share of the view holds two charts
        # side by side (each as wide as its title and axis), else one: every chart stays
        # on the screen (in presentation mode beside the dock two did not fit)
        fm = QFontMetricsF(self._font(0.95, True))
        one = max(fm.horizontalAdvance(f"{t} ({u})") for _k, t, u in METRICS) + 62 * self.scale
        room = self.canvas.width() * (1 - LANE_SHARE) - 40
        cols = 2 if room >= 2 * one and self.canvas.width() >= NARROW_PX * self.scale else 1
        self.chart_columns = cols
        self.heading = layout.addLabel(
            self._elide(heading, 0.4 if cols == 2 else 0.3, bold=False),
            row=0,
            col=0,
            colspan=cols,
            color=self.theme.foreground,
            size=self._pt(1.0),
        )
        for i, (key, title, unit) in enumerate(METRICS):
            plot = layout.addPlot(row=1 + i // cols, col=i % cols, enableMenu=False)
            self._style_plot(plot)
            plot.setTitle(
                f"{title} ({unit})", color=self.theme.foreground, size=self._pt(0.95), bold=True
            )
            plot.getAxis("left").setWidth(int(42 * self.scale))
            self.charts[key] = plot
        self._update_charts()

    def _update_charts(self) -> None:
        if not self.charts:
            return
        runs = self.runs()
        values = metric_values(self.session, runs)
        x = np.arange(len(runs), dtype=float)
        colours = [self.theme.run_colour(r.colour) for r in runs]
        # "#3" while there is room, the bare number (the colour says the rest) when not
        mark = "#" if len(runs) <= 4 else ""
        ticks = [[(float(i), f"{mark}{r.id}") for i, r in enumerate(runs)], []]
        for key, _title, unit in METRICS:
            plot = self.charts[key]
            plot.clear()
            vals = values[key]
            heights = np.array([0.0 if v is None else float(v) for v in vals])
            bar = pg.BarGraphItem(
                x=x,
                height=heights,
                width=0.7,
                brushes=[pg.mkBrush(c) for c in colours],
                pens=[pg.mkPen(self.theme.foreground, width=1) for _ in colours],
            )
            plot.addItem(bar)
            self.bars[key] = bar
            top = max([*heights.tolist(), 1.0 if key == "speedup" else 0.0, 1e-3])
            if key == "cpu":
                # seconds as the wall chart's: a few milliseconds of CPU beside a wall of
                # a second are a sliver, not a chart-high bar labelled 0.00
                walls = [float(v) for v in values.get("wall", []) if v is not None]
                top = max([top, *walls])
            if key == "speedup":
                plot.addItem(
                    pg.InfiniteLine(
                        pos=1.0,
                        angle=0,
                        pen=pg.mkPen(self.theme.muted, width=1.5, style=Qt.PenStyle.DashLine),
                    )
                )
            if key == "efficiency":
                top = max(top, 100.0)
            if all(v is None for v in vals):
                # no baseline (no sequential run of this experiment): words, not a row
                # of dashes floating over an empty chart
                words = "no sequential run" if key in ("speedup", "efficiency") else "—"
                label = pg.TextItem(words, color=self.theme.muted, anchor=(0.5, 0.5))
                label.setFont(self._font(0.85))
                label.setPos((len(runs) - 1) / 2, top * 0.65)
                plot.addItem(label)
                vals = []
            for i, v in enumerate(vals):
                if len(runs) > 4:
                    break  # too many to label: the axis gives the values
                text = "—" if v is None else (f"{v:.0f}" if unit == "%" else f"{v:.2f}")
                label = pg.TextItem(text, color=self.theme.foreground, anchor=(0.5, 1.0))
                label.setFont(self._font(0.85))
                label.setPos(float(i), 0.0 if v is None else float(v))
                plot.addItem(label)
            # room above the tallest bar for its label: a short chart (one column of
            # four, beside the lessons) needs more of its range for the same text
            one_column = self.chart_columns == 1
            plot.setYRange(0.0, top * (2.0 if one_column else 1.3), padding=0)
            left = plot.getAxis("left")
            if one_column:  # 0 and one round value: six crammed numbers read as a smear
                mark = _round_below(top)
                left.setTicks([[(0.0, "0"), (mark, f"{mark:g}")], []])
            else:
                left.setTicks(None)
            plot.setXRange(-0.6, len(runs) - 0.4, padding=0)
            plot.getAxis("bottom").setTicks(ticks)

    # -- out
    def save_picture(self, path: str) -> bool:
        """Write the view as PNG (pixels as on screen) or SVG (by the file's ending)."""
        return save_view(self.canvas, path)


def _short_row_names(rows) -> list[str]:
    """Row names short enough for a lane's left edge, for a run with an event loop's
    rows ("loop", "↳ 1", "↳ 2"); none for other runs."""
    if not any(r.kind == ROW_LOOP for r in rows):
        return []
    out = []
    for r in rows:
        if r.kind == ROW_LOOP:
            out.append("loop")
        elif r.kind == ROW_COROUTINE:
            digits = "".join(ch for ch in r.label if ch.isdigit())
            out.append(f"↳ {digits}" if digits else "↳")
        else:
            out.append("↳ …")
    return out


LANE_NAMES_MAX = 6  # a lane is a few text lines tall: 20 coroutines' names piled up


def _thinned(names: list[str]) -> list[tuple[int, str]]:
    """(row, name) ticks for a lane: the loop's row and its coroutines' at an even
    stride, at most ``LANE_NAMES_MAX`` in all, the last coroutine always named."""
    if len(names) <= LANE_NAMES_MAX:
        return list(enumerate(names))
    stride = -(-(len(names) - 1) // (LANE_NAMES_MAX - 2))
    keep = {0, len(names) - 1, *range(1, len(names) - 1, stride)}
    return [(i, n) for i, n in enumerate(names) if i in keep]


def _round_below(value: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``value`` (> 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(max(m * power for m in (1.0, 2.0, 5.0) if m * power <= value * (1 + 1e-9)))


def save_view(view: pg.GraphicsView, path: str) -> bool:
    """A pyqtgraph view as ``.svg`` (vector) or else a PNG, as it is on screen.

    The SVG is the scene painted into a ``QSvgGenerator`` (pyqtgraph's own SVG exporter
    fails on the paths this Qt writes). Written to a temporary file, then renamed.
    """
    import os

    from PySide6.QtCore import QRect, QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    tmp = f"{path}.tmp"
    size = view.size()
    if path.lower().endswith(".svg"):
        gen = QSvgGenerator()
        gen.setFileName(tmp)
        gen.setSize(QSize(size.width(), size.height()))
        gen.setViewBox(QRect(0, 0, size.width(), size.height()))
        gen.setTitle("concviz")
        painter = QPainter()
        if not painter.begin(gen):
            return False
        try:
            view.scene().render(
                painter,
                QRectF(0, 0, size.width(), size.height()),
                view.mapToScene(view.viewport().rect()).boundingRect(),
            )
        finally:
            painter.end()
        ok = os.path.exists(tmp) and os.path.getsize(tmp) > 0
    else:
        ok = bool(view.grab().save(tmp, "PNG"))
    if not ok:
        return False
    try:
        os.replace(tmp, path)
    except OSError:
        return False
    return True
