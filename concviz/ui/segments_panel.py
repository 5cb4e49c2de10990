"""A continuous run's segments, live: the current rate large, the segments so far beside it.

A continuous run has no fixed amount of work, so the summary's wall time, speedup and
efficiency say nothing about it; this panel stands in for the summary while such a run
is shown (live or past). It shows the current segment's tasks per second over the
last 2 s, large enough for the back row, its speedup against the reference
(``model.segments``), its parallelism, mean task time and wait split, and a compact
table of every segment so far. ``install`` also labels each switch marker with the
change and both rates, feeds the throughput lane (``ui.throughput_lane``), keeps a
live run inside the event budget (``model.history``), and adds the Run menu's
Continuous and next/previous strategy actions.

Threads: GUI thread only.
"""

from __future__ import annotations

import html
import math
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QFontMetricsF, QKeySequence
from PySide6.QtWidgets import QBoxLayout, QFrame, QLabel, QVBoxLayout, QWidget

from concviz.model.history import EventBudget
from concviz.model.segments import (
    PART_NAMES,
    SegmentTracker,
    rate_text,
    switch_label,
    tracker_for,
)
from concviz.model.wait_states import bound_samples

from . import theme as T
from .throughput_lane import ThroughputLane
from .timeline import LIVE_INTERVAL_S

UPDATE_MS = 400
TABLE_ROWS = 4  # the newest segments the table lists (the first one always, as reference)
# the window keeps full detail for the last DETAIL_S seconds and at most this many
# bars (a minute of 1 ms tasks on two workers); older ones are aggregated (model.history)
WINDOW_BUDGET = 120_000
DETAIL_S = 30.0
BUDGET_EVERY_S = 1.0
# a live continuous run's timeline redraws with this panel's tick, its bars and its
# throughput lane in the same repaint, about this often (every second or third tick):
# whole-view repaints at 60 Hz cost the window most of a core over a lesson, and a
# redraw at every tick (2.5 a second: a layout of the detail's tens of thousands of
# bars and a repaint of the dense rows each) 0.12 of a core following 1 ms tasks
CALM_REDRAW_S = 1.0
# the frame timer's redraw of a live continuous run, only should this panel's tick stall
FALLBACK_REDRAW_S = CALM_REDRAW_S + 2 * UPDATE_MS / 1000
STEP_SETTLE_MS = 600
KEEP_SAMPLES_S = 15.0
SHORT_PARTS = {"running": "running", "cpu_wait": "CPU wait", "gil_wait": "GIL wait",
               "io_wait": "I/O wait"}  # fmt: skip


class SegmentsPanel(QFrame):
    """The current segment's figures and the table of segments (see the module)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("segments")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # the figures beside the table where the width allows, else above it: at 720p in
        # presentation mode with the lessons open, side by side they asked for 1 630 px
        # and pushed the window off the screen. The panel's width is the window's to
        # give (an explicit minimum, not its layout's), and ``_arrange`` stacks it.
        row = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        row.setContentsMargins(8, 2, 8, 2)
        row.setSpacing(24)
        self._row = row
        self.setMinimumWidth(1)
        left = QVBoxLayout()
        left.setSpacing(0)
        self.title = QLabel("")
        self.title.setObjectName("segmentsTitle")
        self.title.setWordWrap(True)
        self.rate = QLabel("—")
        self.rate.setObjectName("segmentRate")
        self.note = QLabel("")
        self.note.setObjectName("segmentNote")
        self.note.setWordWrap(True)
        for w in (self.title, self.rate, self.note):
            left.addWidget(w)
        row.addLayout(left, 1)  # the figures take what the table leaves
        self.table = QLabel("")
        self.table.setObjectName("segmentTable")
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.table, 0)
        self.scale = 1.0
        self.theme = T.LIGHT
        self.set_look(self.theme, 1.0)

    def side_by_side(self) -> bool:
        return self._row.direction() == QBoxLayout.Direction.LeftToRight

    def _arrange(self) -> None:
        """Side by side when the title, the rate and the table fit in one row."""
        left = max(
            self.title.fontMetrics().horizontalAdvance(self.title.text()),
            self.rate.fontMetrics().horizontalAdvance(self.rate.text()),
        )
        m = self._row.contentsMargins()
        need = left + self.table.sizeHint().width() + self._row.spacing() + m.left() + m.right()
        wanted = (
            QBoxLayout.Direction.LeftToRight
            if self.width() >= need
            else QBoxLayout.Direction.TopToBottom
        )
        if self._row.direction() != wanted:
            self._row.setDirection(wanted)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def set_look(self, theme: T.Theme, scale: float) -> None:
        self.theme, self.scale = theme, scale
        pt = T.BASE_POINT_SIZE * scale
        self.setStyleSheet(
            f"""
            #segmentsTitle {{ font-size: {pt * 1.1:.1f}pt; font-weight: bold; }}
            #segmentRate {{ font-size: {pt * 2.4:.1f}pt; font-weight: bold;
                color: {theme.sync}; }}
            #segmentNote, #segmentTable {{ font-size: {pt:.1f}pt; }}
            """
        )
        self._arrange()

    def show_segments(
        self, tracker: SegmentTracker, now_ns: int, live: bool, what: str, ended: str = "stopped"
    ) -> None:
        """``ended``: how a run no longer live ended, for the title."""
        segs = tracker.segments
        if not segs:
            self.title.setText(f"{what} · waiting for the first tasks…")
            self.rate.setText("—")
            self.note.setText("")
            self.table.setText("")
            return
        cur = segs[-1]
        rolling = tracker.rolling_tasks_per_s(now_ns) if live else cur.tasks_per_s(now_ns)
        self.title.setText(
            f"{what} · {'now' if live else 'last'}: {cur.label}, {cur.task_ms:g} ms tasks"
            + ("" if live else f" · {ended}")
        )
        self.rate.setText("—" if rolling is None else f"{rate_text(rolling)} tasks/s")
        parts = []
        ref = tracker.reference(cur)
        s = tracker.speedup(cur, now_ns)
        if s is not None and ref is not None and ref is not cur:
            parts.append(f"speedup {s:.2f}× vs {ref.label}")
        par = cur.parallelism(now_ns)
        if par is not None:
            parts.append(f"parallelism {par:.2f}")
        mean = cur.mean_task_ms()
        if mean is not None:
            parts.append(f"{mean:.3g} ms per task")
        shares = cur.wait_shares()
        if shares:
            parts.append(
                ", ".join(
                    f"{SHORT_PARTS[k]}\u00a0{shares[k] * 100:.0f}\u00a0%"
                    for k in PART_NAMES
                    if shares[k] >= 0.005
                )
            )
        if live:
            parts.insert(0, "last 2 s")
        self.note.setText(" · ".join(parts))
        self.table.setText(self._table(tracker, now_ns))
        self._arrange()

    def _table(self, tracker: SegmentTracker, now_ns: int) -> str:
        segs = tracker.segments
        shown = segs if len(segs) <= TABLE_ROWS else [segs[0], *segs[-(TABLE_ROWS - 1) :]]
        t0 = tracker.bins_t0
        pad = f"padding: 0 {int(10 * self.scale)}px 0 0;"
        head = "".join(
            f'<th align="left" style="{pad}">{h}</th>'
            for h in ("segment", "from", "tasks/s", "parallelism", "speedup")
        )
        rows = []
        for seg in shown:
            rate = seg.tasks_per_s(now_ns)
            par = seg.parallelism(now_ns)
            sp = tracker.speedup(seg, now_ns)
            cells = (
                html.escape(seg.label),
                f"{(seg.start_ns - t0) / 1e9:.1f} s",
                "—" if rate is None else rate_text(rate),
                "—" if par is None else f"{par:.2f}",
                "—" if sp is None else f"{sp:.2f}×",
            )
            bold = seg is segs[-1]
            row = "".join(
                f'<td style="{pad}">{"<b>" + c + "</b>" if bold else c}</td>' for c in cells
            )
            rows.append(f"<tr>{row}</tr>")
        if len(segs) > len(shown):
            rows.insert(1, f'<tr><td colspan="5">… {len(segs) - len(shown)} more</td></tr>')
        return f'<table cellspacing="0"><tr>{head}</tr>{"".join(rows)}</table>'


def install(window) -> SegmentsPanel:
    """Add the segments panel, the throughput lane and the Run menu's live actions."""
    panel = SegmentsPanel()
    lay = window.centralWidget().layout()
    lay.insertWidget(lay.indexOf(window.summary) + 1, panel)
    panel.hide()
    timeline = window.timeline
    lane = ThroughputLane(timeline.cpu.total, window.theme, timeline.ci.layout)
    budget = EventBudget(WINDOW_BUDGET, keep_s=DETAIL_S)
    state = {"hid_summary": False, "next_budget": 0.0, "labels": {}, "redrawn": 0.0}

    def is_continuous(run) -> bool:
        return (
            run is not None
            and run.spec is not None
            and run.spec.mode == "continuous"
            and run.source == "live"
            and bool(run.store.runs)
        )

    def tick() -> None:
        run = window.shown_run
        comparing = window.pages.currentWidget() is window.compare_view
        calm = FALLBACK_REDRAW_S if is_continuous(run) and not run.finished else LIVE_INTERVAL_S
        timeline.live_interval_s = calm
        if not is_continuous(run):
            if panel.isVisible():
                panel.hide()
            lane.hide()
            if state["hid_summary"]:
                state["hid_summary"] = False
                window.summary.setVisible(not comparing)
            return
        store = run.store
        live = not run.finished
        now = time.monotonic()
        if live and now >= state["next_budget"]:
            state["next_budget"] = now + BUDGET_EVERY_S
            budget.apply(store)
            # thread-state samples: a shorter past than a batch run keeps (the 200 Hz
            # samples of a lab's threads are most of what a continuous run's window holds)
            bound_samples(store, keep_s=KEEP_SAMPLES_S)
        tracker = tracker_for(store)
        tracker.update()
        info = store.runs[-1]
        now_ns = time.perf_counter_ns() if live else int((info.finished or {}).get("t_ns", 0))
        if not live and not now_ns:
            now_ns = store.t_max or 0
        spec = run.spec
        # a run its lab's death cut off was not stopped by anyone
        ended = "cut off: the lab ended" if run.meta.get("interrupted") else "stopped"
        panel.show_segments(tracker, now_ns, live, spec.workload, ended)
        if not comparing:
            # the summary goes before the panel comes: both shown for a moment asked
            # the window for their sum, and Qt grew it past a 720p screen's bottom
            # (1097x751 on 1280x720), where it stayed when the summary went
            if window.summary.isVisible():
                window.summary.hide()
                state["hid_summary"] = True
            panel.show()
        else:
            panel.hide()
        # the figures above and the switch labels change at every tick; the bars and the
        # lane about once a second while the run goes on (a tick's jitter lets 0.8 s pass
        # for a second), and at once after a switch or when the user moved the view
        view = tuple(timeline.gantt_plot.vb.viewRange()[0])
        # a switch, or an engine's start-up beginning or ending, is drawn at once
        marks = (
            len(store.markers),
            len(info.phases),
            sum(1 for ph in info.phases if ph.get("t_ns")),
        )
        marked = marks != state.get("marks")
        if live and marked and marks[0] > (state.get("marks") or (0,))[0]:
            _say_switched(window, store)
        state["marks"] = marks
        redraw = (
            not live
            or marked
            or now - state["redrawn"] >= CALM_REDRAW_S - UPDATE_MS / 2000
            or view != state.get("view")
        )
        if timeline.counters.names:
            lane.hide()  # a queue's depth has the right-hand axis
        elif timeline.store is store and redraw:
            lane.set_counts(tracker.throughput(now_ns), timeline.t0_ns, tracker.bins_t0)
        _label_markers(timeline, store, tracker, now_ns)
        if live and timeline.store is store and redraw:
            state["redrawn"] = now
            # the bars, the lane and the labels in one repaint; new marks laid out now,
            # not at the timeline's own pace (LIVE_LAYOUT_S)
            timeline.refresh(layout=marked)
            state["view"] = tuple(timeline.gantt_plot.vb.viewRange()[0])

    timer = QTimer(window)
    timer.setInterval(UPDATE_MS)
    timer.timeout.connect(tick)
    timer.start()

    def look(*_args) -> None:
        panel.set_look(window.theme, window.scale)
        lane.set_theme(window.theme)
        lane.set_line_width(2.0 * window.scale)

    window.presentationChanged.connect(look)
    for a in window.theme_actions.values():
        a.triggered.connect(look)
    look()
    _add_run_actions(window)
    window.segments_tick = tick  # tests and benches drive it without waiting
    window.throughput_lane = lane
    return panel


def _say_switched(window, store) -> None:
    """The status line's "Switching to … at the next task boundary…" becomes what
    happened, once the switch's marker is in (it stood for 4 s, past the switch)."""
    switches = [m for m in store.markers if m.get("kind") == "switch"]
    if not switches or switches[-1] is getattr(window, "_said_switch", None):
        return
    window._said_switch = m = switches[-1]
    to = m.get("to") or {}
    tl = window.timeline
    t0 = tl.t0_ns if tl.store is store else store.t_min  # the time axis's zero
    at = (m["t_ns"] - t0) / 1e9 if t0 and m.get("t_ns") else None
    when = f" at {at:.1f} s" if at is not None and at >= 0 else ""
    window.statusBar().showMessage(
        f"Switched to {to.get('strategy', '?')} × {to.get('workers', '?')}{when}", 4000
    )


def _label_markers(timeline, store, tracker: SegmentTracker, now_ns: int) -> None:
    """Each switch marker says what changed and both segments' rates."""
    lines = getattr(timeline, "_marker_lines", [])
    segs = tracker.segments
    k = 0
    for i, m in enumerate(store.markers):
        if m.get("kind") != "switch":
            continue
        k += 1
        if i >= len(lines) or k >= len(segs):
            continue
        label = lines[i].label
        text, left = _fitted_label(timeline, lines[i].value(), label, segs[k - 1], segs[k], now_ns)
        text = text.replace("{", "{{").replace("}", "}}")
        if label.format != text:
            label.setFormat(text)
        anchors = [(1, 0), (1, 0)] if left else [(0, 0), (0, 0)]
        if label.anchors != anchors:
            label.anchors = anchors
            label.updatePosition()
    if k:
        timeline.fit_label_strip()  # a label grown by its figures keeps above the rows


def _fitted_label(timeline, x: float, label, before, after, now_ns: int) -> tuple[str, bool]:
    """The words a switch marker has room for, and whether they go left of the line.

    Right of the line where they fit, else left; on two lines, names over figures,
    where one line fits neither side; the figures alone where that does not fit
    either (a 720p projector in presentation mode cut "threads × 2 →" to "ds × 2 →"
    at the view's edge); elided as a last resort."""
    vb = timeline.gantt_plot.vb
    (x0, x1), _y = vb.viewRange()
    upp = vb.viewPixelSize()[0]
    fm = QFontMetricsF(label.textItem.font())
    pad = 12.0  # the label's margins and a little air
    if not upp or upp <= 0 or not math.isfinite(upp):
        return switch_label(before, after, now_ns), False
    right_px = (x1 - x) / upp - pad
    left_px = (x - x0) / upp - pad
    whole = switch_label(before, after, now_ns)
    what, colon, figures = whole.partition(": ")
    # on one line; then the names over the figures (the strip above the rows grows a
    # line for it), which a whole run's view has room for after a stop where one line
    # had not, and the names were dropped; then the figures alone
    tries = [whole, f"{what}\n{figures}" if colon else None]
    tries.append(switch_label(before, after, now_ns, names=False))
    for text in filter(None, tries):
        width = max(fm.horizontalAdvance(line) for line in text.split("\n"))
        if width <= right_px:
            return text, False
        if width <= left_px:
            return text, True
    left = left_px > right_px
    room = max(left_px, right_px, 0.0)
    return fm.elidedText(text, Qt.TextElideMode.ElideRight, room), left


def _add_run_actions(window) -> None:
    """Run → Continuous (Ctrl+Shift+C), Next/Previous strategy (Page Down/Up, Ctrl+]/[):
    a presenter's remote sends Page Down and Page Up, so a teacher switches from anywhere."""
    run_menu = next(
        (a.menu() for a in window.menuBar().actions() if a.text() == "&Run" and a.menu()), None
    )
    controls = window.controls

    continuous = QAction("&Continuous mode", window)
    continuous.setCheckable(True)
    continuous.setChecked(controls.continuous())
    continuous.setShortcut(QKeySequence("Ctrl+Shift+C"))
    continuous.setToolTip("tasks without end until Stop; strategies switch live")

    def set_continuous(on: bool) -> None:
        if controls.running:
            window.statusBar().showMessage("Stop the run first: its mode is fixed.", 4000)
            continuous.setChecked(controls.continuous())
            return
        controls.set_continuous(on)
        controls._sync_mode()

    continuous.triggered.connect(set_continuous)
    controls.batch_button.toggled.connect(lambda _on: continuous.setChecked(controls.continuous()))

    # presses close together make one switch (five Page Downs: one segment, not five)
    settle = QTimer(window)
    settle.setSingleShot(True)
    settle.setInterval(STEP_SETTLE_MS)

    def chosen() -> None:
        b = controls.strategy_buttons.get(controls.strategy())
        if b is not None:
            controls._on_strategy_clicked(b)  # a live run switches; else the next run

    settle.timeout.connect(chosen)

    def page(delta: int) -> None:
        lessons = getattr(window, "lessons_panel", None)
        if lessons is not None and lessons.isVisible():
            # with a lesson on screen Page Down and Page Up turn its pages, as a
            # presenter's clicker turns slides (Ctrl+] and Ctrl+[ switch the strategy)
            lessons.show_step(lessons.step_index + delta)
        else:
            step(delta)

    def step(delta: int) -> None:
        cur = controls.strategy()
        group = controls._groups.get(cur, "python")
        names = [  # the strategies of the shown group (an engine takes seconds to start)
            name
            for name, b in controls.strategy_buttons.items()
            if b.isCheckable() and b.isEnabled() and controls._groups.get(name) == group
        ]
        if not names:
            return
        i = names.index(cur) if cur in names else -1
        name = names[(i + delta) % len(names)]
        controls.set_strategy(name)
        settle.start()
        what = "switching to" if controls.running else "next run:"
        window.statusBar().showMessage(f"Strategy: {what} {name}", 3000)

    nxt = QAction("&Next strategy (Page Down without a lesson)", window)
    nxt.setShortcut(QKeySequence("Ctrl+]"))
    nxt.triggered.connect(lambda _checked=False: step(1))
    prev = QAction("&Previous strategy (Page Up without a lesson)", window)
    prev.setShortcut(QKeySequence("Ctrl+["))
    prev.triggered.connect(lambda _checked=False: step(-1))
    page_down = QAction("Page down", window)
    page_down.setShortcut(QKeySequence(Qt.Key.Key_PageDown))
    page_down.triggered.connect(lambda _checked=False: page(1))
    page_up = QAction("Page up", window)
    page_up.setShortcut(QKeySequence(Qt.Key.Key_PageUp))
    page_up.triggered.connect(lambda _checked=False: page(-1))
    if run_menu is not None:
        run_menu.addSeparator()
        for a in (continuous, nxt, prev):
            run_menu.addAction(a)
    for a in (continuous, nxt, prev, page_down, page_up):
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(a)  # in full screen too, where the menu bar hides
    window.strategy_step_timer = settle
    window.continuous_action = continuous
    window.next_strategy_action = nxt
    window.previous_strategy_action = prev
