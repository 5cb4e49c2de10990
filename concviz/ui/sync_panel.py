"""What a run's sharing cost, under the summary: a deadlock, lost updates, waits, the critical path.

``SyncSummary`` is a small panel, hidden for runs that share nothing: a large line for
what a class must see from the back row (the deadlock's sentence, "lost 1,234 of
10,000 updates"), and one line of time waited per object and the critical path.
``install(window)`` places it under the summary, adds the View menu's "Show all
dependency arrows" (Ctrl+D) and keeps the legend's "Waiting on" row in step with the
Gantt; the window calls it once.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QFontMetricsF, QKeySequence
from PySide6.QtWidgets import QBoxLayout, QFrame, QLabel, QWidget

from concviz.model.event_store import EventStore
from concviz.model.run_result import task_wall_ns
from concviz.model.sync_view import (
    critical_path_text,
    lost_updates_text,
    run_deadlock,
    task_graph,
    wait_total_lines,
)
from concviz.model.sync_waits import names_of, run_waits, wait_totals

from . import theme as T


class SyncSummary(QFrame):
    """A deadlock or lost updates in large text, then waits per object and the critical path."""

    BIG, BIG_MIN = 1.4, 1.15  # the large line's size, times the window's text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncSummary")
        # the two lines side by side when they fit (at 720p a line taken from the
        # timeline counts), else one above the other
        self.lay = lay = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        lay.setContentsMargins(8, 0, 8, 0)
        lay.setSpacing(0)
        self.big = QLabel()
        self.big.setObjectName("syncBig")
        self.big.setWordWrap(True)
        self.line = QLabel()
        self.line.setObjectName("syncLine")
        self.line.setWordWrap(True)
        for w in (self.big, self.line):
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(w)
        lay.addStretch(1)
        self.theme = T.LIGHT
        self.scale = 1.0
        self.bad = False  # the large line is a deadlock or lost updates: in the error colour
        self.hide()

    def set_look(self, theme: T.Theme, scale: float) -> None:
        self.theme, self.scale = theme, scale
        self.line.setStyleSheet(f"font-size: {T.BASE_POINT_SIZE * scale:.1f}pt;")
        self._fit_big()

    def _fit_big(self) -> None:
        """The large line at 1.4 x the text, less (down to 1.15 x) if that keeps it on one
        line: at 720p every line taken from the timeline counts."""
        pt = T.BASE_POINT_SIZE * self.scale
        factor = self.BIG
        text = self.big.text()
        if text and self.width() > 100:
            f = QFont(self.font())
            f.setPointSizeF(pt * self.BIG)
            f.setBold(True)
            room = self.width() - 24
            need = QFontMetricsF(f).horizontalAdvance(text)
            if need > room:
                factor = max(self.BIG_MIN, self.BIG * room / need * 0.98)
        # the label's own sheet: the window's "QWidget { font-size }" would win over setFont
        colour = self.theme.error if self.bad else self.theme.foreground
        sheet = f"color: {colour}; font-size: {pt * factor:.1f}pt; font-weight: bold;"
        if sheet != self.big.styleSheet():
            self.big.setStyleSheet(sheet)
        self._arrange(pt * factor, pt)

    GAP = 24  # between the large line and the small one when they share a row

    def _arrange(self, big_pt: float, line_pt: float) -> None:
        """One row when both lines fit in the panel's width side by side."""
        one_row = False
        if self.big.text() and self.line.text() and self.width() > 100:
            fb, fl = QFont(self.font()), QFont(self.font())
            fb.setPointSizeF(big_pt)
            fb.setBold(True)
            fl.setPointSizeF(line_pt)
            need = (
                QFontMetricsF(fb).horizontalAdvance(self.big.text())
                + QFontMetricsF(fl).horizontalAdvance(self.line.text())
                + self.GAP
            )
            one_row = need <= self.width() - 24
        want = QBoxLayout.Direction.LeftToRight if one_row else QBoxLayout.Direction.TopToBottom
        if self.lay.direction() != want:
            self.lay.setDirection(want)
            self.lay.setSpacing(self.GAP if one_row else 0)
        # side by side, each label keeps its text on one line (no wrap to squeeze it)
        self.line.setWordWrap(not one_row)
        self.big.setWordWrap(not one_row)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_big()

    def show_store(self, store: EventStore | None, t0_ns: int | None = None) -> None:
        """Fill from the store's last run (hidden when it shared nothing)."""
        self._show(*self.texts(store, t0_ns))

    def show_runs(self, runs: list) -> None:
        """The compare view's runs: each one's large line, named (a race's lesson showed
        "Lost none of 1,600 updates", the locked run's, beside the unlocked one that lost
        800); hidden when none has one."""
        parts, bad = [], False
        for run in runs:
            said, run_bad, _deadlocked = self._news(run.store)
            if said:
                parts.append(f"{run.name.split(' · ')[0]}: {said[0]}")
                bad = bad or run_bad
        self._show(" · ".join(parts), "", bad)

    def _show(self, big: str, line: str, bad: bool) -> None:
        self.bad = bad
        self.big.setText(big)
        self.line.setText(line)
        self._fit_big()
        self.big.setVisible(bool(big))
        self.line.setVisible(bool(line))
        self.setVisible(bool(big or line))

    @staticmethod
    def _news(store: EventStore | None) -> tuple[list[str], bool, bool]:
        """The store's last run's large news, a sentence each (a deadlock, the lost
        updates of a shared counter), whether it is bad news, and whether it deadlocked."""
        if store is None or not store.runs or store.runs[-1].finished is None:
            return [], False, False
        said = []
        deadlock = run_deadlock(store)
        if deadlock:
            said.append(str(deadlock.get("description", "deadlock")))
        counter = store.runs[-1].finished.get("workload_result")
        lost = lost_updates_text(counter)
        if lost:
            said.append(lost)
        bad = bool(deadlock) or bool(counter and counter.get("lost_updates"))
        return said, bad, bool(deadlock)

    @staticmethod
    def texts(store: EventStore | None, t0_ns: int | None = None) -> tuple[str, str, bool]:
        """(the large line, the small line, whether the large one is bad news) for the
        store's last run."""
        if store is None or not store.runs or store.runs[-1].finished is None:
            return "", "", False
        info = store.runs[-1]
        started, finished = info.started, info.finished
        lo, hi = int(started["t_ns"]), int(finished["t_ns"])
        news, bad, deadlock = SyncSummary._news(store)
        big = [s[:1].upper() + s[1:] for s in news]
        small = []
        graph = task_graph(store, t0_ns if t0_ns is not None else lo)
        if graph is not None:
            # beside the wall the summary shows: an engine's start-up and teardown apart
            wall_ns = task_wall_ns(started, finished, info.phases)
            small.append(critical_path_text(graph.critical_s, wall_ns / 1e9))
        waits = run_waits(store, lo, hi)
        lines = wait_total_lines(wait_totals(waits, names_of(store, waits["object"])))
        if lines and not deadlock:  # the sentence says it all, and a projector has no room
            small.append("waited: " + " · ".join(lines))
        return " · ".join(big), " · ".join(t for t in small if t), bad


def install(window) -> SyncSummary:
    """Add the sharing panel, the arrows toggle and the legend's wait row to ``window``."""
    panel = SyncSummary()
    lay = window.centralWidget().layout()
    lay.insertWidget(lay.indexOf(window.summary) + 1, panel)
    timeline = window.timeline

    action = QAction("Show all dependency &arrows", window)
    action.setCheckable(True)
    action.setShortcut(QKeySequence("Ctrl+D"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip("a task graph's arrows for every task, not only the one under the pointer")
    action.toggled.connect(timeline.graph_overlay.set_show_all)
    view_menu = next(
        (a.menu() for a in window.menuBar().actions() if a.text() == "&View" and a.menu()), None
    )
    if view_menu is not None:
        view_menu.addAction(action)
    window.addAction(action)  # in full screen too, where the menu bar hides
    window.arrows_action = action

    # the legend names what the page shown draws: the timeline's run, or the compare
    # view's lanes (a deadlock compared after a producer/consumer run named its queue)
    def sharing(*_args) -> None:
        window.legend.set_cpu_shown(window.pages.currentWidget() is window.timeline_page)
        if window.pages.currentWidget() is window.compare_view:
            window.legend.set_sharing(*window.compare_view.sharing)
            panel.show_runs(window.compare_view.runs())  # each run's, named
        else:
            window.legend.set_sharing(*timeline.sharing)
            if window.pages.currentWidget() is window.timeline_page:
                finished()

    timeline.sharingShown.connect(sharing)
    window.compare_view.sharingShown.connect(sharing)
    window.pages.currentChanged.connect(sharing)

    def look(*_args) -> None:
        panel.set_look(window.theme, window.scale)

    def finished(*_args) -> None:
        if window.pages.currentWidget() is window.compare_view:
            panel.show_runs(window.compare_view.runs())
            return
        store = timeline.store
        if store is not None and store.runs:
            panel.show_store(store, int(store.runs[-1].started["t_ns"]))

    window.presentationChanged.connect(look)
    for a in window.theme_actions.values():
        a.triggered.connect(look)
    window.client.runStarted.connect(lambda _obj: panel.hide())
    window.client.runFinished.connect(finished)
    look()
    return panel
