"""The Gantt timeline as one pyqtgraph item: a row per worker, a bar per task.

It draws only the visible time range, merges bars narrower than a pixel (level of
detail) and paints with one ``drawRects`` call per colour, so 1 M tasks pan as
smoothly as 1 k. Coordinates: x is seconds since ``t0`` (the run's start), y is the
row (row 0 at the top once the view inverts y).

Threads: every method runs on the GUI thread; the store it reads locks itself.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

from concviz.model.event_store import BAR_SLICE
from concviz.model.gantt_layout import GAP0 as _GAP0
from concviz.model.gantt_layout import KIND_CODE as _KIND_CODE
from concviz.model.gantt_layout import GanttData
from concviz.model.gantt_layout import Layer as _Layer
from concviz.model.gantt_layout import group_starts as _group_starts
from concviz.model.history import DENSE_PX, dense_mix
from concviz.model.rows import (
    ROW_COROUTINE,
    ROW_LOOP,
    SUB_ROW,
)

from . import theme as T
from .live_bars import LiveBars
from .rect_batch import RectBatch as _RectBatch
from .wait_rects import WaitPainter


def running_shades(theme: T.Theme) -> tuple[str, str]:
    """Two shades of "running" for coroutine slices (odd-numbered coroutines, even):
    the theme's running hue, and the shade of its blue ramp furthest from it in
    lightness that is not the pale "waiting" one."""
    base = QColor(theme.waits[0])
    other = max(theme.bars[1:], key=lambda c: abs(QColor(c).lightness() - base.lightness()))
    return theme.waits[0], other


# a live layout's item rectangle grows by this many pixels at a time (see _update_bounds)
GROW_PX = 256

_DEVICE_CACHE = pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
_NO_CACHE = pg.QtWidgets.QGraphicsItem.CacheMode.NoCache


class GanttItem(pg.GraphicsObject):
    """Draws a ``GanttData`` plus the tasks still running; ask ``hit`` for tooltips."""

    def __init__(self, theme: T.Theme = T.LIGHT) -> None:
        super().__init__()
        self.theme = theme
        self.data: GanttData | None = None
        self.bar_height = 0.7
        self.pen_scale = 1.0
        self._batches = [_RectBatch() for _ in range(13)]
        self.wait_painter = WaitPainter()
        self._bounds = QRectF()  # what is drawn
        self._painted = QRectF()  # the item's rectangle: the bounds, grown in steps
        self.last_paint_s = 0.0  # for benchmarks
        self.rects_drawn = 0
        self.dense_rows = 0  # rows drawn as per-column state mixes in the last paint
        self.paints = 0  # for tests: how often the finished bars were painted
        self.last_exposed: QRectF | None = None  # and the part the last paint was asked for
        self._view_x = (0.0, 0.0)
        self._last_range: tuple[float, float, float] | None = None
        # the finished bars change only with the layout: Qt keeps them as a pixmap in
        # device coordinates (scrolled, not repainted, when the view pans) and a frame
        # in which only a running bar grew repaints the child item alone
        self.setCacheMode(_DEVICE_CACHE)
        self.setFlag(pg.QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.live = LiveBars(self, theme)

    # -- data
    def set_data(
        self,
        data: GanttData | None,
        open_bars=(),
        now_s: float | None = None,
        changed_from: float | None = None,
    ) -> None:
        """A new layout; ``now_s`` when a run is live. ``changed_from`` (seconds): a
        live layout that only added the
        bars finished since the last one, none of which starts before it; the cached
        picture is then redrawn from there on only, the rest of it kept."""
        self.data = data
        grew = self._update_bounds(live=now_s is not None)
        pw = self.pixelWidth() or 0.0
        if changed_from is None or grew or not pw or not math.isfinite(pw):
            self.update()
        else:
            # a few pixels to the left too: merged sub-pixel bars and column mixes are
            # drawn from the pixel grid, which the new bars may change near their start
            r = self._painted
            left = max(r.left(), changed_from - 6 * pw)
            self.update(QRectF(left, r.top(), max(r.right() - left, pw), r.height()))
        self.live.coroutine_rows = frozenset(
            np.flatnonzero(data.row_kind == _KIND_CODE[ROW_COROUTINE]).tolist()
            if data is not None
            else ()
        )
        self.live.clear_recent()
        self.set_live(open_bars, now_s)

    @property
    def open(self) -> list[tuple[int, int, float]]:
        """(row, task, start_s) of each task running now."""
        return self.live.open

    @property
    def now_s(self) -> float | None:
        return self.live.now_s

    def set_live(self, open_bars, now_s: float | None) -> bool:
        """Only the running bars and the clock changed: the finished bars are not
        repainted, and nothing is when no running bar grew by a pixel. True if the live
        bars will be repainted."""
        return self.live.set_live(open_bars, now_s, self.pixelWidth() or 0.0)

    def set_recent(self, s, e, row, step) -> None:
        """Bars finished since the layout was built, drawn by the live item until the
        next layout includes them."""
        self.live.set_recent(s, e, row, step)

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self.live.set_style(theme, self.bar_height, self.pen_scale)
        self.update()

    def set_presentation(self, on: bool) -> None:
        self.bar_height = 0.82 if on else 0.7
        self.pen_scale = 2.0 if on else 1.0
        self.live.set_style(self.theme, self.bar_height, self.pen_scale)
        self.update()

    def _update_bounds(self, live: bool = False) -> bool:
        """The drawn bounds; True when the item's rectangle changed (a full repaint).

        ``live``: the rectangle grows rightwards in steps of ``GROW_PX`` pixels, not with
        every layout: a change of an item's rectangle repaints all of it, while a
        layout that added a few bars repaints only where they are."""
        d = self.data
        # what is drawn: the bars, and the aggregate of bars an event budget dropped
        # (a cached item's paint is clipped to its bounds)
        x0, x1 = (min(0.0, d.x_min), d.x_max) if d is not None and len(d.s) else (0.0, 0.0)
        if d is not None and len(d.sync_waits):
            x0 = min(x0, float(d.sync_waits.s.min()))
            x1 = max(x1, float(d.sync_waits.e.max()))
        for t_s, *_rest in d.density.values() if d is not None else ():
            if len(t_s):
                x1 = max(x1, float(t_s.max()))
        if d is not None and d.history is not None and d.history.bars:
            x0 = min(x0, (d.history.t0_ns - d.t0_ns) / 1e9)
            x1 = max(x1, (d.history.end_ns - d.t0_ns) / 1e9)
        n = d.n_rows if d is not None else 0
        r = QRectF(x0, -0.5, max(x1 - x0, 1e-9), max(n, 1))
        self._bounds = r
        painted = QRectF(r)
        pw = self.pixelWidth() or 0.0
        old = self._painted
        if live and pw and math.isfinite(pw):
            if (
                old.left() == r.left()
                and old.top() == r.top()
                and old.height() == r.height()
                and r.right() <= old.right()
            ):
                return False  # still inside: nothing to change
            step = GROW_PX * pw
            # at least half a step ahead of the bars, on a step from the left edge
            painted.setRight(r.left() + math.ceil((r.right() - r.left()) / step + 0.5) * step)
        if painted != old:
            self.prepareGeometryChange()
            self._painted = painted
            return True
        return False

    def boundingRect(self) -> QRectF:
        return QRectF(self._painted)

    def viewRangeChanged(self) -> None:
        """A pan by a fraction of a pixel: Qt scrolls the cached picture by whole
        pixels, which would leave a seam at each strip it uncovers; repaint it all."""
        vb = self.getViewBox()
        if not isinstance(vb, pg.ViewBox):  # not in a plot (yet): a view, or nothing
            return
        (lo, hi), width = vb.viewRange()[0], vb.width()
        last, self._last_range = self._last_range, (lo, hi, width)
        if last is None or width <= 0 or hi <= lo:
            return
        plo, phi, pwidth = last
        if pwidth != width or abs((phi - plo) - (hi - lo)) > 1e-9 * (hi - lo):
            return  # zoomed: Qt paints the picture again anyway
        shift = (lo - plo) * width / (hi - lo)
        if abs(shift - round(shift)) > 0.01:  # drop the picture (an update() is scrolled)
            self.setCacheMode(_NO_CACHE)
            self.setCacheMode(_DEVICE_CACHE)

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        r = self._bounds
        live = self.live.boundingRect()
        if not live.isEmpty():
            r = r.united(live)
        if ax == 0:
            return (r.left(), r.right())
        return (r.top(), r.bottom())

    # -- lookup
    def hit(self, x: float, y: float, tol_px: float = 3.0) -> dict | None:
        """What is under the point (data coordinates): a finished or a running task, and
        the wait on a shared object there (``info["wait"]``, see ``WaitData.info``)."""
        info = self._hit_bar(x, y, tol_px)
        d = self.data
        row = int(math.floor(y + 0.5))
        if d is None or not len(d.sync_waits) or abs(y - row) > self.bar_height / 2 + 0.05:
            return info
        i = d.sync_waits.find(x, row, tol_px * (self.pixelWidth() or 0.0))
        if i is None:
            return info
        wait = d.sync_waits.info(i)
        if info is None:  # a wait of a task whose bar is not drawn (yet)
            info = {"task": wait["task"], "row": row, "label": d.rows[row].label, "only_wait": True}
        info["wait"] = wait
        return info

    def _hit_bar(self, x: float, y: float, tol_px: float) -> dict | None:
        d = self.data
        row = int(math.floor(y + 0.5))
        pw = self.pixelWidth() or 0.0
        for r, task, start in self.open:
            if r == row and self.now_s is not None and start - tol_px * pw <= x <= self.now_s:
                return {
                    "task": task,
                    "row": r,
                    "start": start,
                    "running": True,
                    "wall": self.now_s - start,
                    "cpu": None,
                    "label": d.rows[r].label.removeprefix(SUB_ROW) if d and r < d.n_rows else "",
                    "row_kind": d.rows[r].kind if d and r < d.n_rows else None,
                }
        if d is None or abs(y - row) > self.bar_height / 2 + 0.05:
            return None
        counts = d.counts_at(row, x)
        if counts is not None:
            waiting, running, n = counts
            return {
                "density": d.rows[row].kind,
                "row": row,
                "label": d.rows[row].label.removeprefix(SUB_ROW),
                "start": x,
                "waiting": waiting,
                "running": running,
                "of": n,
            }
        i = d.find(x, row, tol_px * pw)
        if i is None:
            return None
        wall = float(d.e[i] - d.s[i])
        lane = int(d._bars["lane"][d.idx[i]])
        kind = d.rows[row].kind
        held = None
        if kind == ROW_COROUTINE and d._bars["kind"][d.idx[i]] != BAR_SLICE:
            # how long this task held the loop: its slices' time (only on a hover)
            b, task = d._bars, d._bars["task"][d.idx[i]]
            mine = (b["lane"] == lane) & (b["task"] == task) & (b["kind"] == BAR_SLICE)
            held = float((b["end"][mine] - b["start"][mine]).sum()) / 1e9
        return {
            "held": held,
            "row_kind": kind,
            "coroutine": (
                int(d.coroutine_of_lane[lane]) if kind in (ROW_LOOP, ROW_COROUTINE) else None
            ),
            "task": int(d._bars["task"][d.idx[i]]),
            "row": row,
            "label": d.rows[row].label.removeprefix(SUB_ROW),
            "start": float(d.s[i]),
            "wall": wall,
            "cpu": float(d.cpu[i]),
            "running": False,
            "error": bool(d.is_error[i]),
            "stopped": bool(d.is_stopped[i]),
            "slice": bool(d._bars["kind"][d.idx[i]] == BAR_SLICE),
            "split": (
                {
                    k: float(v)
                    for k, v in zip(
                        ("cpu_wait", "gil_wait", "io_wait"), d.waits[:3, i], strict=True
                    )
                }
                if d.waits is not None and d.waits[3, i] > 0
                else None
            ),
        }

    # -- drawing
    def paint(self, p: QPainter, option=None, *args) -> None:
        # only the exposed part: a pan scrolls the cached picture and asks for the strip
        # it uncovered; a live layout asks for the part that changed
        exposed = getattr(option, "exposedRect", None)
        self.last_exposed = QRectF(exposed) if exposed is not None else None  # for tests
        try:
            self._paint(p, exposed)
        except Exception:  # an exception escaping paint() takes the whole app down
            import traceback

            traceback.print_exc()

    def _paint(self, p: QPainter, exposed: QRectF | None = None) -> None:
        self.paints += 1
        t_start = time.perf_counter()
        vb = self.getViewBox()
        d = self.data
        if vb is None:
            return
        view = vb.viewRect()
        x0, x1 = view.left(), view.right()
        self._view_x = (x0, x1)  # a row is dense or not by what the whole view shows
        pw = self.pixelWidth()
        if exposed is not None and not exposed.isEmpty() and pw and math.isfinite(pw):
            # a few pixels past the exposed strip: column mixes and merged bars then
            # cover it to its edges (the painter clips the rest)
            x0 = max(x0, exposed.left() - 4 * pw)
            x1 = min(x1, exposed.right() + 4 * pw)
            if x1 < x0:
                return
        if not pw or not math.isfinite(pw) or pw <= 0:
            return
        h = self.bar_height
        p.setPen(Qt.PenStyle.NoPen)
        n_rows = d.n_rows if d is not None else 0
        r0 = max(0, int(math.floor(min(view.top(), view.bottom()))))
        r1 = min(n_rows - 1, int(math.ceil(max(view.top(), view.bottom()))))
        drawn = 0
        self.dense_rows = 0
        if d is not None and n_rows:
            self._paint_bands(p, d, r0, r1, x0, x1)
            if d.history is not None:
                drawn += self._paint_history(p, d, r0, r1, x0, x1, pw, h)
            tasks = d.layers[0]
            if tasks is not None:
                drawn += self._paint_bars(p, d, tasks, r0, r1, x0, x1, pw, h)
            # coroutine slices: running, over their task's (waiting) bar and on the loop's
            # row, in two shades so that one coroutine's turn is told from the next one's
            for layer, colour in zip(d.slice_layers, running_shades(self.theme), strict=False):
                if layer is not None:
                    drawn += self._paint_bars(p, d, layer, r0, r1, x0, x1, pw, h, colour)
            drawn += self._paint_density(p, d, r0, r1, x0, x1, pw, h)
            drawn += self._paint_errors(p, d, r0, r1, x0, x1, pw, h)
            drawn += self._paint_stopped(p, d, r0, r1, x0, x1, pw, h)
            # waits on shared objects, over the bar of the task that waited (stopped too)
            if len(d.sync_waits):
                drawn += self.wait_painter.paint(
                    p, d.sync_waits, r0, r1, x0, x1, pw, h, self.theme, self.pen_scale,
                    self._batches[12],
                )  # fmt: skip
        if d is not None and d.slice_layers:
            self._paint_coroutine_numbers(p, d, r0, r1, x0, x1, pw, h)
        self.rects_drawn = drawn
        self.last_paint_s = time.perf_counter() - t_start

    def _paint_bands(self, p, d: GanttData, r0, r1, x0, x1) -> None:
        band = QColor(self.theme.band)
        p.setBrush(QBrush(band))
        xs = []
        for r in range(r0, r1 + 1):
            if d.rows[r].group % 2 == 1:
                xs.append(r)
        if xs:
            rows = np.array(xs, float)
            n = len(rows)
            self._batches[5].draw(p, np.full(n, x0), rows - 0.5, np.full(n, x1 - x0), np.ones(n))

    def _paint_bars(
        self, p, d: GanttData, layer: _Layer, r0, r1, x0, x1, pw, h, colour: str | None = None
    ) -> int:
        """Paint one layer's visible bars; ``colour``: every bar in it (else by CPU share
        or by the measured wait split)."""
        # the coarsest level whose merges stay below a pixel
        lvl = layer.level(int(math.floor(math.log(max(pw, 1e-300) / _GAP0, 4))))
        per_step: list[list[np.ndarray]] = [[], [], [], []]
        per_split: list[list[np.ndarray]] = [[], [], [], []]
        per_mix: list[list[np.ndarray]] = [[], [], [], []]
        serial = set(d.serial_rows.tolist())
        for r in range(r0, r1 + 1):
            if (
                colour is None
                and r not in serial
                and self._dense_row(per_mix, layer.raw, r, x0, x1, pw, h)
            ):
                continue
            lo, hi = lvl.offsets[r], lvl.offsets[r + 1]
            if lo == hi:
                continue
            i0 = lo + int(np.searchsorted(lvl.emax[lo:hi], x0, side="left"))
            i1 = lo + int(np.searchsorted(lvl.s[lo:hi], x1, side="right"))
            if i0 >= i1:
                continue
            s, e, em = lvl.s[i0:i1], lvl.e[i0:i1], lvl.emax[i0:i1]
            wall, cpu, wmax = lvl.wall[i0:i1], lvl.cpu[i0:i1], lvl.wmax[i0:i1]
            waits = None if lvl.waits is None else lvl.waits[:, i0:i1]
            if len(s) > 1:  # pixel merge: join sub-pixel bars closer than one pixel
                idx = _group_starts(s, em, wmax, pw)
                if len(idx) < len(s):
                    s = s[idx]
                    e = np.maximum.reduceat(e, idx)
                    wall = np.add.reduceat(wall, idx)
                    cpu = np.add.reduceat(cpu, idx)
                    wmax = np.maximum.reduceat(wmax, idx)
                    if waits is not None:
                        waits = np.add.reduceat(waits, idx, axis=1)
            # a one-pixel gap after each bar that is wide enough shows where tasks meet
            e = np.where(wmax >= 4 * pw, e - pw, e)
            s = np.maximum(s, x0 - pw)
            e = np.minimum(e, x1 + pw)
            w = np.maximum(e - s, pw)
            if colour is not None:
                step = np.full(len(s), 2)
            elif r in serial:
                step = np.full(len(s), 3)
            else:
                eff = np.divide(cpu, wall, out=np.zeros_like(cpu), where=wall > 0)
                step = T.efficiency_step(eff)
            ys = np.full(len(s), r - h / 2)
            split = np.zeros(len(s), bool)
            if waits is not None and r not in serial:
                # where the time went, measured: running, then each wait, in proportion
                split = waits[3] >= 0.5 * wall
                if split.any():
                    self._split_segments(per_split, s[split], w[split], ys[split],
                                         wall[split], cpu[split], waits[:, split])  # fmt: skip
            for k_step in range(4):
                m = (step == k_step) & ~split
                if m.any():
                    per_step[k_step].append(np.stack([s[m], ys[m], w[m]]))
        drawn = 0
        colours = [*self.theme.bars, self.theme.serial]
        if colour is not None:
            colours[2] = colour
        for k_step, chunks in enumerate(per_step):
            if not chunks:
                continue
            arr = np.concatenate(chunks, axis=1)
            p.setBrush(QBrush(QColor(colours[k_step])))
            self._batches[k_step].draw(p, arr[0], arr[1], arr[2], np.full(arr.shape[1], h))
            drawn += arr.shape[1]
        for k_part, chunks in enumerate(per_split):
            if not chunks:
                continue
            arr = np.concatenate(chunks, axis=1)
            p.setBrush(QBrush(QColor(self.theme.waits[k_part])))
            self._batches[8 + k_part].draw(p, arr[0], arr[1], arr[2], np.full(arr.shape[1], h))
            drawn += arr.shape[1]
        return drawn + self._draw_mix(p, per_mix)

    def _draw_mix(self, p, per_mix) -> int:
        drawn = 0
        for k_part, chunks in enumerate(per_mix):
            if not chunks:
                continue
            arr = np.concatenate(chunks, axis=1)
            p.setBrush(QBrush(QColor(self.theme.waits[k_part])))
            self._batches[8 + k_part].draw(p, arr[0], arr[1], arr[2], arr[3])
            drawn += arr.shape[1]
        return drawn

    @staticmethod
    def _columns(x0: float, x1: float, pw: float) -> np.ndarray:
        cols = int(min(max(math.ceil((x1 - x0) / pw), 1), 8192))
        return x0 + np.arange(cols + 1) * ((x1 - x0) / cols)

    @staticmethod
    def _stack(per_mix, mix: np.ndarray, edges: np.ndarray, r: int, h: float) -> None:
        """Per column, each state's share as a stacked band rising from the row's foot
        (running lowest); equal neighbouring columns become one rectangle."""
        q = np.round(mix * 64) / 64  # 1/64 of a row: finer than a presentation row's pixels
        foot = r + h / 2
        below = np.zeros(q.shape[1])
        for k in range(4):
            v = q[k]
            change = np.flatnonzero(np.r_[True, (v[1:] != v[:-1]) | (below[1:] != below[:-1])])
            keep = change[v[change] > 0]
            if len(keep):
                ends = np.r_[change[1:], len(v)]
                right = ends[np.searchsorted(change, keep)]
                hh = h * v[keep]
                y = foot - h * below[keep] - hh
                per_mix[k].append(np.stack([edges[keep], y, edges[right] - edges[keep], hh]))
            below = below + v

    def _dense_row(self, per_mix, raw, r: int, x0: float, x1: float, pw: float, h: float) -> bool:
        """Draw row ``r`` as per-pixel-column state mixes when its tasks in the view
        are narrower than DENSE_PX pixels on average; False (nothing drawn) otherwise.
        Judged over the whole view, not the strip being painted (``x0``-``x1``): a
        strip a pan uncovers or a live layout redraws looks as the rest of the row."""
        lo, hi = raw.offsets[r], raw.offsets[r + 1]
        if hi - lo < 8:
            return False
        v0, v1 = self._view_x
        j0 = lo + int(np.searchsorted(raw.emax[lo:hi], min(v0, x0), side="left"))
        j1 = lo + int(np.searchsorted(raw.s[lo:hi], max(v1, x1), side="right"))
        if j1 - j0 < 8 or float(raw.wall[j0:j1].mean()) >= DENSE_PX * pw:
            return False
        j0 = lo + int(np.searchsorted(raw.emax[lo:hi], x0, side="left"))
        j1 = lo + int(np.searchsorted(raw.s[lo:hi], x1, side="right"))
        edges = self._columns(x0, x1, pw)
        waits = None if raw.waits is None else raw.waits[:, j0:j1]
        mix, _sampled = dense_mix(
            raw.s[j0:j1], raw.e[j0:j1], raw.wall[j0:j1], raw.cpu[j0:j1], waits, edges
        )
        self._stack(per_mix, mix, edges, r, h)
        self.dense_rows += 1
        return True

    def _paint_history(self, p, d: GanttData, r0, r1, x0, x1, pw, h) -> int:
        """Bars an event budget folded into ``d.history``: per pixel column, the state
        mix of each worker's row, and a line where full detail begins, labelled."""
        hist = d.history
        end_s = (hist.end_ns - d.t0_ns) / 1e9
        first_s = (hist.t0_ns - d.t0_ns) / 1e9
        if x0 >= end_s or x1 <= first_s or not hist.bars:
            return 0
        lo_x, hi_x = max(x0, first_s), min(x1, end_s)
        edges = self._columns(lo_x, hi_x, pw)
        width_ns = np.diff(edges) * 1e9
        per_mix: list[list[np.ndarray]] = [[], [], [], []]
        for r in range(r0, r1 + 1):
            lane = d.rows[r].lane
            if lane < 0:
                continue
            cols = hist.columns(lane, d.t0_ns, edges)
            mix = np.clip(cols[1:] / np.where(width_ns > 0, width_ns, 1.0), 0.0, 1.0)
            if mix.any():
                self._stack(per_mix, mix, edges, r, h)
        drawn = self._draw_mix(p, per_mix)
        if x0 < end_s:  # where detail begins: said in words, not only shown
            at = min(end_s, x1)
            tr = p.transform()
            a = tr.map(QPointF(at, float(r0) - 0.5))
            b = tr.map(QPointF(at, float(r1) + 0.5))
            p.save()
            p.resetTransform()
            pen = QPen(QColor(self.theme.muted))
            pen.setStyle(Qt.PenStyle.DotLine)
            pen.setWidthF(1.5 * self.pen_scale)
            p.setPen(pen)
            p.drawLine(a, b)
            font = p.font()
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85 * self.pen_scale))
            p.setFont(font)
            p.setPen(QColor(self.theme.foreground))
            text = f"← older: aggregated per {hist.bin_ns / 1e6:g} ms"
            fm = p.fontMetrics()
            top = min(a.y(), b.y())
            box = QRectF(a.x() - fm.horizontalAdvance(text) - 8, top, fm.horizontalAdvance(text) + 6,
                         fm.height())  # fmt: skip
            p.fillRect(box, QColor(self.theme.background))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            p.restore()
        return drawn

    def _paint_density(self, p, d: GanttData, r0, r1, x0, x1, pw, h) -> int:
        """A density row: per pixel column, the most coroutines (or threads) that had a
        task (waiting or running) in it, as a band rising from the row's foot (full
        height: all of them)."""
        drawn = 0
        for r, (t, alive, _running, n) in d.density.items():
            if not (r0 <= r <= r1) or not len(t) or n <= 0:
                continue
            cols = int(min(max((x1 - x0) / pw, 1), 8192))
            edges = x0 + np.arange(cols + 1) * ((x1 - x0) / cols)
            at = np.searchsorted(t, edges[:-1], side="right")
            value = np.where(at > 0, alive[np.maximum(at - 1, 0)], 0)
            # changes inside a column count too (a burst narrower than a pixel)
            nxt = np.searchsorted(t, edges[1:], side="left")
            inside = nxt > at
            if inside.any():
                peaks = np.maximum.reduceat(alive, np.minimum(at, len(alive) - 1))
                value = np.where(inside, np.maximum(value, peaks), value)
            value = np.maximum(value, 0)
            # one rectangle per run of equal height
            change = np.flatnonzero(np.r_[True, value[1:] != value[:-1]])
            heights = value[change]
            lefts = edges[change]
            rights = edges[np.r_[change[1:], cols]]
            m = heights > 0
            if not m.any():
                continue
            hh = h * heights[m] / n
            p.setBrush(QBrush(QColor(self.theme.bars[0])))
            self._batches[5].draw(p, lefts[m], r + h / 2 - hh, rights[m] - lefts[m], hh)
            drawn += int(m.sum())
        return drawn

    def _paint_coroutine_numbers(self, p, d: GanttData, r0, r1, x0, x1, pw, h) -> None:
        """Each slice wide enough for it carries its coroutine's number."""
        loop_rows = [r for r in range(r0, r1 + 1) if d.rows[r].kind == ROW_LOOP]
        if not loop_rows:
            return
        tr = p.transform()
        font = p.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85 * self.pen_scale))
        p.save()
        p.resetTransform()
        p.setFont(font)
        fm_w = p.fontMetrics().horizontalAdvance("0000")
        labels = 0
        for k, layer in enumerate(d.slice_layers):
            if layer is None:
                continue
            raw, numbers = layer.raw, d.slice_coroutine[k]
            p.setPen(QColor(self.theme.background if k == 0 else self.theme.foreground))
            for r in loop_rows:
                lo, hi = raw.offsets[r], raw.offsets[r + 1]
                i0 = lo + int(np.searchsorted(raw.emax[lo:hi], x0, side="left"))
                i1 = lo + int(np.searchsorted(raw.s[lo:hi], x1, side="right"))
                if i1 - i0 > 2000:
                    continue  # far too many to be wide enough: skip the work
                s, e = np.maximum(raw.s[i0:i1], x0), np.minimum(raw.e[i0:i1], x1)
                wide = np.flatnonzero((e - s) / pw >= fm_w)
                for j in wide[: 400 - labels].tolist():
                    a = tr.map(QPointF(float(s[j]), r - h / 2))
                    b = tr.map(QPointF(float(e[j]), r + h / 2))
                    rect = QRectF(a, b).normalized()
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(int(numbers[i0 + j])))
                labels += min(len(wide), 400 - labels)
        p.restore()

    @staticmethod
    def _split_segments(per_split, s, w, ys, wall, cpu, waits) -> None:
        """Cut each bar into running | CPU wait | GIL wait | I/O wait, by share of its time."""
        parts = np.vstack([np.minimum(cpu, wall), waits[:3]])
        total = np.maximum(parts.sum(axis=0), 1e-12)
        widths = parts / total * w
        x = s.copy()
        for k in range(4):
            m = widths[k] > 0
            if m.any():
                per_split[k].append(np.stack([x[m], ys[m], widths[k][m]]))
            x = x + widths[k]

    def _paint_errors(self, p, d: GanttData, r0, r1, x0, x1, pw, h) -> int:
        if not len(d.err_s):
            return 0
        m = (d.err_row >= r0) & (d.err_row <= r1) & (d.err_e >= x0) & (d.err_s <= x1)
        if not m.any():
            return 0
        s, e, row = d.err_s[m], d.err_e[m], d.err_row[m]
        w = np.maximum(e - s, 3 * pw)  # errors stay visible at any zoom
        hh = min(0.95, h + 0.15)  # taller than ordinary bars: not told by hue alone
        p.setBrush(QBrush(QColor(self.theme.error)))
        self._batches[4].draw(p, s, row - hh / 2, w, np.full(len(s), hh))
        return int(m.sum())

    def _paint_stopped(self, p, d: GanttData, r0, r1, x0, x1, pw, h) -> int:
        """Tasks the stop cut short: the stopped grey, hatched, at least 3 px wide."""
        if not len(d.stop_s):
            return 0
        m = (d.stop_row >= r0) & (d.stop_row <= r1) & (d.stop_e >= x0) & (d.stop_s <= x1)
        if not m.any():
            return 0
        s, e, row = d.stop_s[m], d.stop_e[m], d.stop_row[m]
        s = np.maximum(s, x0 - pw)
        w = np.maximum(np.minimum(e, x1 + pw) - s, 3 * pw)
        y, hh = row - h / 2, np.full(len(s), h)
        p.setBrush(QBrush(QColor(self.theme.stopped)))
        self._batches[6].draw(p, s, y, w, hh)
        hatch = QColor(self.theme.foreground)
        hatch.setAlphaF(0.45)
        p.setBrush(QBrush(hatch, Qt.BrushStyle.BDiagPattern))
        self._batches[7].draw(p, s, y, w, hh)
        return int(m.sum())
