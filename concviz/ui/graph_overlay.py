"""Arrows and outlines over the Gantt: task dependencies, the critical path, a deadlock's cycle.

One pyqtgraph item above the Gantt. It draws, in device pixels (so arrowheads and
text keep their size at any zoom):

- the **critical path** of a task graph: its bars outlined in the foreground colour and
  joined by arrows, so the chain reads as one without a pointer;
- **dependency arrows** from each dependency's end to the task's start: the hovered
  task's always, every task's when ``show_all`` is on (View menu);
- a **deadlock**: the involved tasks' bars outlined in the error colour, and one arrow
  per wait, from the waiting task's bar to the holder's, labelled "waits for lock B".

Only what lies in the view is drawn. Threads: GUI thread only.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from concviz.model.sync_view import TaskGraph, deadlock_edges

from . import theme as T


class GraphOverlay(pg.GraphicsObject):
    """Draws a run's task graph and deadlock over a ``GanttItem``'s bars."""

    def __init__(self, gantt, theme: T.Theme = T.LIGHT) -> None:
        super().__init__()
        self.gantt = gantt
        self.theme = theme
        self.graph: TaskGraph | None = None
        self.deadlock: dict | None = None
        self.cycle: list[tuple[int, int, str]] = []  # (waiting task, holder, "lock B")
        self.cycle_tasks: set[int] = set()
        self.hovered: int | None = None
        self.show_all = False
        self.scale = 1.0
        self.font = QFont()
        self._row_of_task: dict[int, int] = {}
        self._span: dict[int, tuple[float, float]] = {}  # task -> (start, end) in seconds
        self._bounds = QRectF()
        self.setZValue(20)

    # -- data
    def set_run(self, graph: TaskGraph | None, deadlock: dict | None, data, store, t0_ns) -> None:
        """A new arrangement of the Gantt (``data``: its ``GanttData``) for the run shown."""
        self.graph, self.deadlock = graph, deadlock
        self.cycle = deadlock_edges(deadlock) if deadlock else []
        self.cycle_tasks = {t for edge in self.cycle for t in edge[:2]}
        self._row_of_task.clear()
        self._span.clear()
        if data is not None:
            lanes: dict[int, int] = {}
            if graph is not None:
                lanes = dict(graph.lane)
                self._span = {t: (graph.start[t], graph.end[t]) for t in graph.start}
            if self.cycle_tasks and store is not None:
                self._span.update(_spans_of(store, self.cycle_tasks, t0_ns, lanes))
            for task, lane in lanes.items():
                if 0 <= lane < len(data.row_of_lane) and data.row_of_lane[lane] >= 0:
                    self._row_of_task[task] = int(data.row_of_lane[lane])
        if self.hovered not in self._row_of_task:
            self.hovered = None
        self._update_bounds(data)
        self.update()

    def set_hovered(self, task: int | None) -> None:
        """The task under the pointer (its dependency arrows are drawn), or None."""
        if self.graph is None or task not in self._row_of_task:
            task = None
        if task != self.hovered:
            self.hovered = task
            self.update()

    def set_show_all(self, on: bool) -> None:
        if on != self.show_all:
            self.show_all = on
            self.update()

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self.update()

    def set_scale(self, scale: float, font: QFont) -> None:
        self.scale = scale
        self.font = QFont(font)
        self.update()

    def highlighted(self) -> dict[str, list[int]]:
        """Which tasks are outlined, by why: ``critical`` and ``deadlock`` (for tests)."""
        return {
            "critical": [t for t in (self.graph.critical if self.graph else []) if self.drawn(t)],
            "deadlock": sorted(t for t in self.cycle_tasks if self.drawn(t)),
        }

    def arrows(self) -> list[tuple[int, int, str]]:
        """The arrows drawn now: ``(from task, to task, label)``; dependencies have label ""."""
        out = [(a, b, label) for a, b, label in self.cycle if self.drawn(a) and self.drawn(b)]
        if self.graph is not None:
            edges = list(self._chain())
            task = None if self.show_all else self.hovered
            if self.show_all or task is not None:
                edges += [e for e in self.graph.edges(task) if e not in edges]
            out += [(d, t, "") for d, t in edges if self.drawn(d) and self.drawn(t)]
        return out

    def _chain(self) -> list[tuple[int, int]]:
        """The critical path's edges: drawn always, so the chain reads as one."""
        crit = self.graph.critical if self.graph is not None else []
        return list(zip(crit, crit[1:], strict=False))

    def drawn(self, task: int) -> bool:
        return task in self._row_of_task and task in self._span

    def _update_bounds(self, data) -> None:
        if data is None or not self._span:
            r = QRectF()
        else:
            x0 = min(s for s, _e in self._span.values())
            x1 = max(e for _s, e in self._span.values())
            r = QRectF(x0, -1.0, max(x1 - x0, 1e-9), data.n_rows + 2.0)
        if r != self._bounds:
            self.prepareGeometryChange()
            self._bounds = r

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        # labels and arrowheads reach a little past the bars: a margin of view pixels
        r = QRectF(self._bounds)
        if r.isNull():
            return r
        pw = self.pixelWidth() or 0.0
        ph = self.pixelHeight() or 0.0
        m = 200 * self.scale
        return r.adjusted(-m * pw, -m * ph, m * pw, m * ph) if pw and ph else r

    # -- drawing
    def paint(self, p: QPainter, *args) -> None:
        try:
            self._paint(p)
        except Exception:  # an exception escaping paint() takes the whole app down
            import traceback

            traceback.print_exc()

    def _paint(self, p: QPainter) -> None:
        vb = self.getViewBox()
        if vb is None or not self._span:
            return
        view = vb.viewRect()
        x0, x1 = view.left(), view.right()
        r0, r1 = min(view.top(), view.bottom()) - 1, max(view.top(), view.bottom()) + 1
        h = self.gantt.bar_height
        tr = p.transform()
        sx, dx, sy, dy = tr.m11(), tr.dx(), tr.m22(), tr.dy()
        if not (math.isfinite(sx) and math.isfinite(sy)) or sx == 0:
            return

        def box(task: int, pad: float = 0.0) -> QRectF:
            s, e = self._span[task]
            row = self._row_of_task[task]
            a = QPointF(s * sx + dx, (row - h / 2) * sy + dy)
            b = QPointF(max(e * sx + dx, a.x() + 2), (row + h / 2) * sy + dy)
            return QRectF(a, b).normalized().adjusted(-pad, -pad, pad, pad)

        def visible(task: int) -> bool:
            s, e = self._span[task]
            return self.drawn(task) and e >= x0 and s <= x1 and r0 <= self._row_of_task[task] <= r1

        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fg = QColor(self.theme.foreground)
        if self.graph is not None and self.graph.critical:
            pen = QPen(fg, 3.0 * self.scale)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for task in self.graph.critical:
                if visible(task):
                    p.drawRect(box(task, 1.5 * self.scale))
        if self.graph is not None:
            task = None if self.show_all else self.hovered
            crit = set(self._chain())
            edges = list(crit)
            if self.show_all or task is not None:
                edges += [e for e in self.graph.edges(task) if e not in crit]
            faint = QColor(fg)
            faint.setAlphaF(0.55)
            for d, t in edges:
                if not (self.drawn(d) and self.drawn(t)) or not (visible(d) or visible(t)):
                    continue
                a, b = box(d), box(t)
                start = QPointF(a.right(), a.center().y())
                end = QPointF(b.left(), b.center().y())
                strong = task is not None or (d, t) in crit
                self._arrow(p, start, end, fg if strong else faint, 2.0 if strong else 1.4)
        if self.cycle:
            err = QColor(self.theme.error)
            pen = QPen(err, 4.0 * self.scale)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for task in sorted(self.cycle_tasks):
                if visible(task):
                    p.drawRect(box(task, 2.5 * self.scale))
            self._paint_cycle(p, box, visible, err)
        p.restore()

    def _paint_cycle(self, p: QPainter, box, visible, colour: QColor) -> None:
        """One arrow per wait of the cycle, from the middle of the waiting task's bar to the
        holder's, side by side (so A -> B and B -> A never overlap), each labelled on the
        waiting bar: "task 0 waits for lock B"."""
        font = self._label_font()
        fm = QFontMetricsF(font)
        p.setFont(font)
        edges = [
            e
            for e in self.cycle
            if self.drawn(e[0]) and self.drawn(e[1]) and (visible(e[0]) or visible(e[1]))
        ]
        for k, (waiter, holder, what) in enumerate(edges):
            a, b = box(waiter), box(holder)
            left, right = max(a.left(), b.left()), min(a.right(), b.right())
            if right - left < 20:  # the bars do not overlap in time: join their ends
                left, right = a.right(), b.left()
            x = left + (right - left) * (0.55 + 0.3 * k / max(len(edges), 1))
            start = QPointF(x, a.center().y())
            end = QPointF(
                x,
                b.center().y() + (-1 if b.center().y() > a.center().y() else 1) * b.height() * 0.2,
            )
            if abs(end.y() - start.y()) < 4:  # on one row: go round below it
                start = QPointF(a.center().x(), a.bottom())
                end = QPointF(b.center().x(), b.bottom())
            self._arrow(p, start, end, colour, 3.0)
            text = f"task {waiter} waits for {what}"
            w, h = fm.horizontalAdvance(text) + 12, fm.height() + 2
            rect = QRectF(x - 8 * self.scale - w, a.center().y() - h / 2, w, h)
            if rect.left() < a.left():  # no room on the arrow's left: its right
                rect.moveLeft(x + 8 * self.scale)
            p.setPen(QPen(colour, 1.5 * self.scale))
            p.setBrush(QBrush(QColor(self.theme.background)))
            p.drawRoundedRect(rect, 4, 4)
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _label_font(self) -> QFont:
        f = QFont(self.font)
        f.setPointSizeF(T.BASE_POINT_SIZE * self.scale * 1.05)
        f.setBold(True)
        return f

    def _arrow(self, p: QPainter, a: QPointF, b: QPointF, colour: QColor, width: float) -> None:
        """A line from ``a`` to ``b`` with a filled head at ``b`` (pixel sizes, scaled)."""
        w = width * self.scale
        pen = QPen(colour, w)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        dxp, dyp = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dxp, dyp)
        if length < 1:
            return
        ux, uy = dxp / length, dyp / length
        head = min(6 + 3 * w, length * 0.6)
        base = QPointF(b.x() - ux * head, b.y() - uy * head)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if abs(dyp) > 1 and abs(dxp) > 1:  # a gentle curve from one bar to the next
            path = QPainterPath(a)
            path.cubicTo(
                QPointF(a.x() + dxp / 2, a.y()),
                QPointF(base.x() - ux * 2, b.y() - uy * head * 2),
                base,
            )
            p.drawPath(path)
        else:
            p.drawLine(a, base)
        nx, ny = -uy, ux
        half = head * 0.55
        tri = QPainterPath(b)
        tri.lineTo(QPointF(base.x() + nx * half, base.y() + ny * half))
        tri.lineTo(QPointF(base.x() - nx * half, base.y() - ny * half))
        tri.closeSubpath()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(colour))
        p.drawPath(tri)


def _spans_of(store, tasks: set[int], t0_ns: int, lanes: dict[int, int]) -> dict:
    """Each of ``tasks``' last task bar as (start, end) seconds; fills ``lanes`` too."""
    from concviz.model.event_store import BAR_SLICE

    b = store.task_bars()
    keep = np.flatnonzero(np.isin(b["task"], list(tasks)) & (b["kind"] != BAR_SLICE))
    out = {}
    for i in keep.tolist():
        task = int(b["task"][i])
        out[task] = ((int(b["start"][i]) - t0_ns) / 1e9, (int(b["end"][i]) - t0_ns) / 1e9)
        lanes[task] = int(b["lane"][i])
    return out
