"""Help → Lessons: a dock that walks through a lesson's steps and runs each one.

"Run this" sets the control bar to the step's experiment and starts its runs through
the window's batch path (``MainWindow.start_runs``, the run driver, as Compare all);
when they have ended, "what to look for" is filled with their numbers and each claim
is judged (``runtime.lessons.judge``). A claim read against ``machine_parallelism``
waits for that figure, measured on a worker thread the GUI thread polls.

Threads: everything here runs on the GUI thread, except the parallelism measurement
(a plain thread that only writes its answer into a list).
"""

from __future__ import annotations

import html
import threading
import uuid
from collections.abc import Callable

from PySide6.QtCore import QEvent, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from concviz.model.diagnoses import loop_lag_ms
from concviz.model.lessons import BadLesson, Lesson, Step
from concviz.runtime.lessons import Constants, judge, load_checked, recording

# below this screen width the dock floats instead of docking (see ``open``)
NARROW_SCREEN_PX = 1600
# the settings key that says the first start's welcome has been shown
WELCOME_KEY = "lessons/welcomed"
WELCOME = (
    "These lessons show one idea at a time: press <b>Run this</b>, watch the timeline, "
    "read what to look for. Page Down and Page Up turn the steps. Close this panel to "
    "explore on your own; F1 (Help → Lessons) brings it back."
)


class LessonsPanel(QDockWidget):
    """The lessons dock: choose a lesson, step through it, run a step, read the result."""

    def __init__(self, window) -> None:
        super().__init__("Lessons", window)
        self.setObjectName("lessons")
        self.window_ = window
        self.lessons: list[Lesson] = []
        self.loaded = False
        self.parallelism: Callable[[], float] | None = None  # tests give a cheap one
        self.step_index = 0
        self._pending: dict | None = None  # the step whose runs are going on
        self._measured: list = []
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._poll_constants)

        body = QWidget()
        lay = QVBoxLayout(body)
        self.chooser = QComboBox()
        self.chooser.currentIndexChanged.connect(lambda _i: self.show_step(0))
        lay.addWidget(self.chooser)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        nav = QHBoxLayout()
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.step_label = QLabel()
        self.prev_button.clicked.connect(lambda _c=False: self.show_step(self.step_index - 1))
        self.next_button.clicked.connect(lambda _c=False: self.show_step(self.step_index + 1))
        nav.addWidget(self.prev_button)
        nav.addWidget(self.step_label, 1, Qt.AlignmentFlag.AlignCenter)
        nav.addWidget(self.next_button)
        lay.addLayout(nav)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        lay.addWidget(self.text, 3)
        self.run_button = QPushButton("Run this")
        self.run_button.setToolTip("Set up the window for this step and start its runs")
        self.run_button.clicked.connect(lambda _c=False: self.run_step())
        lay.addWidget(self.run_button)
        # what to look for, then each claim judged: a browser of its own, so a long
        # result scrolls instead of being cut off in a short dock
        self.result = QTextBrowser()
        self.result.setMinimumHeight(90)
        lay.addWidget(self.result, 2)
        # when this machine cannot show the step's point (a claim not shown, a strategy
        # missing), the step's shipped recording, made where every claim held
        self.recording_button = QPushButton("Open the recording of this step")
        self.recording_button.setToolTip(
            "Runs of this step recorded on a quiet 2-core machine, where every claim held"
        )
        self.recording_button.clicked.connect(lambda _c=False: self.open_recording())
        self.recording_button.hide()
        self.recording_path: str | None = None
        lay.addWidget(self.recording_button)
        self.look_text = ""
        self.claims_text = ""
        self.setWidget(body)
        window.batch.jobFinished.connect(self._job_finished)
        window.batch.allFinished.connect(self._all_finished)
        self.show_step(0)

    def load(self) -> None:
        """Read the lessons, once, when the panel is first shown (not at start-up: the
        lab's checks they go through import the lab's modules, 0.3 s)."""
        if self.loaded:
            return
        self.loaded = True
        try:
            self.lessons = load_checked()
        except BadLesson as exc:
            self.lessons = []
            self.summary.setText(f"The lessons could not be read: {exc}")
        with QSignalBlocker(self.chooser):
            for lesson in self.lessons:
                self.chooser.addItem(lesson.title, lesson.name)
        self.show_step(0)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name): however it is shown
        self.load()
        super().showEvent(event)

    def open(self) -> None:
        """Help → Lessons: read the lessons if not yet done, show the dock.

        Docked beside the window, it adds its width to the window's. Where the window
        already needs most of the screen (a 720p projector; presentation mode's larger
        controls on a full-HD screen made it 2241 px wide), the parameter line gives
        way (a lesson's Run this sets it) so the panel docks beside the timeline and
        covers nothing; only where even that does not fit does the panel float."""
        self.load()
        window = self.window_
        screen = self._screen()
        width = self._width(screen)
        crowded = screen is not None and (
            screen.width() < NARROW_SCREEN_PX
            or window.minimumSizeHint().width() + width > screen.width()
        )
        if crowded and not self.isVisible():
            size = window.size()
            self.setFloating(False)
            window.controls.set_lesson_mode(True)
            self.show()
            window._sync_runs_panel()  # docked, it also takes the runs panel's room
            if self._docked_fits():
                self._keep_window_on_screen()
                window.resizeDocks([self], [width], Qt.Orientation.Horizontal)
                self.raise_()
                return
            self.hide()
            if not window.isFullScreen():
                window.resize(size)  # docking widened it: as it was
            self.float_at_the_edge()
            return
        self.show()
        if crowded and self.isFloating():
            self.float_at_the_edge()
        self.raise_()

    def _screen(self):
        window = self.window_
        return window.screen().availableGeometry() if window.screen() else None

    @staticmethod
    def _width(screen) -> int:
        return min(380, screen.width() // 3) if screen is not None else 380

    def _docked_fits(self) -> bool:
        """Whether the window, with this panel docked, still fits the screen."""
        window, screen = self.window_, self._screen()
        # the controls' and the runs panel's new sizes, before the window is measured
        # (the window's layout keeps the central widget's minimum until told)
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        window.centralWidget().updateGeometry()
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        return screen is None or window.minimumSizeHint().width() <= screen.width()

    def _keep_window_on_screen(self) -> None:
        """Showing the dock widens a window that is not full screen nor maximized by
        the dock's width: narrow it back inside the screen (the timeline gives way)."""
        window, screen = self.window_, self._screen()
        frame = window.frameGeometry()
        if screen is None or window.isFullScreen() or screen.contains(frame):
            return
        border = frame.width() - window.width()
        width = max(window.minimumSizeHint().width(), screen.width() - border)
        window.resize(min(window.width(), width), window.height())
        x = max(screen.left(), min(frame.x(), screen.right() + 1 - window.frameGeometry().width()))
        window.move(x, max(screen.top(), frame.y()))

    def float_at_the_edge(self) -> None:
        """Float over the window at the screen's right edge (shown, raised)."""
        screen = self._screen()
        self.window_.controls.set_lesson_mode(False)
        if not self.isFloating():
            self.setFloating(True)
            if screen is not None:
                self.resize(self._width(screen), screen.height() - 40)
        self.show()
        if screen is not None:
            # its width as shown (presentation mode's larger text widens it): inside
            # the screen's right edge, with room to grow
            shown = max(self.width(), self.sizeHint().width(), self._width(screen))
            self.move(max(screen.left(), screen.right() - shown - 48), screen.top() + 20)
        self.raise_()

    def keep_fitting(self) -> None:
        """The window's content changed (presentation mode's larger controls, another
        page): docked here, the panel first takes the parameter line's room, and
        floats if the window would still grow past the screen."""
        if not self.isVisible() or self.isFloating() or self._docked_fits():
            return
        window = self.window_
        window.controls.set_lesson_mode(True)
        if not self._docked_fits():
            self.float_at_the_edge()
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if window.isFullScreen() and window.screen() is not None:
            window.setGeometry(window.screen().geometry())  # back to the screen's size
        else:
            self._keep_window_on_screen()

    def _sync_lesson_mode(self, *_args) -> None:
        """The parameter line comes back when the panel closes or is dragged out."""
        if self.isHidden() or self.isFloating():
            self.window_.controls.set_lesson_mode(False)

    def welcome_if_first(self) -> bool:
        """On the app's first start (nothing in its settings says otherwise), open the
        first lesson with a word of welcome; once only. True when it was shown."""
        settings = self.window_.settings
        if str(settings.value(WELCOME_KEY, "")).lower() in ("true", "1"):
            return False
        settings.setValue(WELCOME_KEY, True)
        self.open()
        if self.lessons:
            self.choose(self.lessons[0].name)
            self.show_step(0)
        self.summary.setText(f"<b>Welcome to concviz.</b> {WELCOME}<br><br>{self.summary.text()}")
        return True

    # ------------------------------------------------------------ stepping
    def lesson(self) -> Lesson | None:
        i = self.chooser.currentIndex()
        return self.lessons[i] if 0 <= i < len(self.lessons) else None

    def step(self) -> Step | None:
        lesson = self.lesson()
        return lesson.steps[self.step_index] if lesson is not None else None

    def choose(self, name: str) -> None:
        i = self.chooser.findData(name)
        if i >= 0:
            self.chooser.setCurrentIndex(i)

    def show_step(self, k: int) -> None:
        lesson = self.lesson()
        if lesson is None:
            self.run_button.setEnabled(False)
            self.prev_button.setEnabled(False)
            self.next_button.setEnabled(False)
            return
        self.step_index = max(0, min(k, len(lesson.steps) - 1))
        step = lesson.steps[self.step_index]
        self.summary.setText(lesson.summary)
        intro = f"{lesson.intro}\n\n" if self.step_index == 0 and lesson.intro else ""
        self.text.setMarkdown(f"{intro}### {step.title}\n\n{step.text}")
        self.step_label.setText(f"step {self.step_index + 1} of {len(lesson.steps)}")
        self.prev_button.setEnabled(self.step_index > 0)
        self.next_button.setEnabled(self.step_index < len(lesson.steps) - 1)
        self.run_button.setEnabled(bool(step.runs) and self._pending is None)
        self._say("", "")
        self._offer(None)

    def _offer(self, path) -> None:
        """Show the recording button for ``path`` (None: hide it)."""
        self.recording_path = str(path) if path is not None else None
        self.recording_button.setVisible(path is not None)

    def open_recording(self) -> None:
        if self.recording_path is not None:
            self.window_.open_session_file(self.recording_path)

    # ------------------------------------------------------------ running
    def run_step(self) -> bool:
        """Set the control bar to the step's experiment and start its runs."""
        step, lesson = self.step(), self.lesson()
        if step is None or lesson is None or not step.runs or self._pending is not None:
            return False
        win = self.window_
        if step.interpreter == "free-threaded":
            interp = (win.client.hello or {}).get("interpreter") or {}
            if not interp.get("free_threaded") or interp.get("gil_enabled", True):
                # the window's lab is one Python; this step's runs need another
                self._say(
                    "This step runs on a free-threaded Python (3.13t or newer, the GIL "
                    f"off); the lab runs Python {interp.get('version', '?')} "
                    + ("with its GIL on" if interp.get("free_threaded") else "with a GIL")
                    + ". Where one is installed, choose it with Lenses → Choose the lab's Python… and "
                    "press Run this again; `concviz lessons check gil` finds it by itself.",
                    "",
                )
                self._offer(recording(lesson.name, self.step_index + 1))
                return False
        available = {s["name"]: s.get("reason") for s in win._strategy_items}
        named, missing = [], {}
        for name, start in step.runs.items():
            why = available.get(start.strategy, "the lab has not said it has it")
            if why:
                missing[name] = f"{start.strategy} is not available here: {why}"
                continue
            named.append((name, start.params()))
        if not named:
            shipped = recording(lesson.name, self.step_index + 1)
            self._say(
                "This machine cannot make any of this step's runs: "
                + "; ".join(missing.values())
                + (". Its recording shows what they show." if shipped else "."),
                "",
            )
            self._offer(shipped)
            return False
        label, shown = next(((n, p) for n, p in named if p["strategy"] != "sequential"), named[0])
        c = win.controls
        c.set_workload(shown["workload"])
        c.set_strategy(shown["strategy"])
        c.set_workers(shown["workers"])
        c.tasks.setValue(shown["tasks"])
        c.task_ms.setValue(shown["task_ms"])
        c.workload_knobs.show_values(shown.get("options") or {})
        if not win.start_runs(
            named, compare_view=len(named) > 1, what="Lesson: running", show=label
        ):
            return False
        self._pending = {
            "lesson": lesson,
            "k": self.step_index + 1,
            "step": step,
            "labels": [n for n, _p in named],
            "runs": {},
            "run_objects": [],
            "missing": missing,
        }
        self.run_button.setEnabled(False)
        self._offer(None)
        self._say("Running…", "")
        return True

    def _say(self, look: str, claims: str) -> None:
        self.look_text, self.claims_text = look, claims
        # the look's `code` in a code font (its backticks were shown as they are); the
        # claims as written, one a line
        parts = [_code_spans(look)]
        if claims:
            parts.append("<br>".join(html.escape(line) for line in claims.splitlines()))
        self.result.setHtml("<br><br>".join(parts))
        # an empty box took a third of a short dock from the step's text (at 720p the
        # heading was cut): it is there once there is something to read in it, and then
        # it has the larger share (a room reads the claims without scrolling)
        shown = bool(look or claims)
        self.result.setVisible(shown)
        lay = self.widget().layout()
        lay.setStretchFactor(self.text, 2 if shown else 3)
        lay.setStretchFactor(self.result, 3 if shown else 2)
        if shown:  # once the text box has its smaller size
            QTimer.singleShot(0, self.scroll_to_step)

    def scroll_to_step(self) -> None:
        """The step's heading at the top of the text box: after a run the box is
        smaller, and at 720p it showed the lesson's introduction with the heading of
        the step that ran cut at its bottom edge."""
        lesson = self.lesson()
        if lesson is None or not lesson.steps:
            return
        doc = self.text.document()
        found = doc.find(lesson.steps[self.step_index].title)
        if found.isNull():
            return
        top = doc.documentLayout().blockBoundingRect(found.block()).top()
        self.text.verticalScrollBar().setValue(int(top))

    def _job_finished(self, i: int, run) -> None:
        p = self._pending
        if p is None or i >= len(p["labels"]):
            return
        result = dict(run.result or {})
        if run.spec is not None and run.spec.strategy == "asyncio":
            lag = loop_lag_ms(run.store)
            if lag is not None:
                result["loop_lag_ms"] = lag
        label = p["labels"][i]
        p["runs"][label] = result
        p["run_objects"].append(run)
        # the runs list and the compare view name it as the lesson does
        self.window_.session.rename(run, f"{label} · {p['lesson'].name} {p['k']}")

    def _all_finished(self) -> None:
        p = self._pending
        if p is None:
            return
        constants = Constants(self.parallelism)
        wanted = p["step"].constants()
        p["constants"] = constants
        if "machine_parallelism" not in wanted:
            constants.before(wanted)
            self._show_result()
            return
        self._say("Measuring what parallelism the machine gives…", "")
        self._measured = []

        def measure() -> None:
            try:
                constants.before(wanted)
                self._measured.append(True)
            except Exception as exc:  # a machine that cannot start processes
                self._measured.append(exc)

        threading.Thread(target=measure, name="concviz-lesson-parallelism", daemon=True).start()
        self._poll.start()

    def _poll_constants(self) -> None:
        if not self._measured:
            return
        self._poll.stop()
        if self._measured[0] is not True:
            self._pending["constants"].pop("machine_parallelism", None)
        self._show_result()

    def _show_result(self) -> None:
        p, self._pending = self._pending, None
        look, claims = judge(p["step"], p["k"], p["runs"], p["missing"], p["constants"])
        self.last_claims = claims
        look = look or "The runs have ended."
        lines = []
        for c in claims:
            if c["held"] is None:
                lines.append(f"— not judged: {c['text']} ({c.get('skipped')})")
            elif c["held"]:
                lines.append(f"✓ {c['evidence']}")
            else:
                lines.append(f"✗ not shown this time: {c['evidence']}")
        shipped = recording(p["lesson"].name, p["k"])
        if shipped is not None and any(c["held"] is False for c in claims):
            lines.append("This machine did not show all of it now: its recording does.")
            self._offer(shipped)
        elif shipped is not None and any(c["held"] is None for c in claims):
            # every judged claim held; what was not judged could not run here
            lines.append("Not every part can run here: the step's recording has them all.")
            self._offer(shipped)
        self._say(look, "\n".join(lines))
        if p["step"].view == "sweep":
            self._show_sweep(p)
        elif p["step"].view == "tasks":
            # after the window's own zoom to the whole run, which this one follows
            QTimer.singleShot(0, self.window_.timeline.zoom_to_tasks)
        step = self.step()
        self.run_button.setEnabled(bool(step and step.runs))

    def _show_sweep(self, p: dict) -> None:
        """A sweep step's runs, tagged as the points of one workers sweep (as a sweep
        of the Sweep page tags its own, so a saved session keeps it), drawn there with
        speedup and efficiency against workers and Amdahl's fit."""
        runs = [r for r in p["run_objects"] if r.spec is not None]
        if len(runs) < 2:
            return
        from concviz.runtime.sweep import point_tag

        sid = f"lesson-{p['lesson'].name}-{p['k']}-{uuid.uuid4().hex[:6]}"
        for run in runs:
            run.meta["sweep"] = point_tag(sid, "workers", run.spec, run.spec.workers)
        win = self.window_
        win.show_page(win.sweep_view)


def _code_spans(text: str) -> str:
    """``text`` as HTML, its `code` spans in a code font."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:  # an odd backtick: no spans, the text as it is
        return html.escape(text).replace("\n", "<br>")
    out = [p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts)]
    return "".join(out).replace("\n", "<br>")


def install(window) -> LessonsPanel:
    """Add the Lessons dock (hidden) and Help → Lessons, which shows it."""
    panel = LessonsPanel(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    panel.hide()
    panel.visibilityChanged.connect(lambda _shown: window._sync_runs_panel())
    panel.visibilityChanged.connect(panel._sync_lesson_mode)
    panel.topLevelChanged.connect(panel._sync_lesson_mode)
    action = QAction("&Lessons", window)
    action.setShortcut("F1")
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda _checked=False: panel.open())
    help_menu = next(
        (a.menu() for a in window.menuBar().actions() if a.text() == "&Help" and a.menu()), None
    )
    if help_menu is not None:
        first = help_menu.actions()[0] if help_menu.actions() else None
        help_menu.insertAction(first, action)
    window.addAction(action)  # in full screen too, where the menu bar hides
    window.lessons_action = action
    return panel
