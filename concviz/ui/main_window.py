"""The main window: controls, legend, live timeline with CPU, summary, runs, compare view.

The window never runs a workload: it sends control messages to the lab through a
``LabClient`` and draws what the store holds, on a timer of at most 60 Hz that only
redraws when the store or the CPU samples changed (or a task is growing).

Every run lives in the window's ``Session`` (``model/session.py``): a run started here,
each run of "Compare all", and later a run opened from a file. The runs panel, the
summary and the compare view bind to the session's events; the timeline draws the
run the user selected (a live one keeps drawing).

Threads: every method runs on the GUI thread. The lab reader and the CPU sampler
have threads of their own and reach the window only through queued signals and the
stores they fill.
"""

from __future__ import annotations

import math
import os
import time

from PySide6.QtCore import QByteArray, QSettings, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QFont, QFontMetrics, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from concviz.lab import protocol as P
from concviz.model import metrics
from concviz.model.cpu_series import CpuSeries
from concviz.model.event_store import EventStore
from concviz.model.metrics import ObserverClock, workers_text
from concviz.model.run_result import run_object
from concviz.model.session import Run, Session
from concviz.model.wait_states import SETTLE_S, bound_samples
from concviz.runtime.batch_runner import BatchRunner, Job
from concviz.runtime.cpu_sampler import CpuSampler
from concviz.runtime.headless import BadInput, as_start
from concviz.runtime.lab_client import LabClient
from concviz.runtime.lab_process import LabError
from concviz.runtime.wait_sampler import WaitSampler

from . import (
    app_style,
    diagnosis_badges,
    lessons_panel,
    notes,
    segments_panel,
    sweep_view,
    sync_panel,
)
from . import theme as T
from .banner import Banner
from .compare_view import CompareView, run_t0, save_view
from .control_bar import ControlBar
from .legend import LegendBar
from .lenses import Lenses
from .replay_bar import ReplayBar
from .runs_panel import RunsPanel
from .session_files import SessionFiles, opens_as_session
from .summary import SummaryPanel
from .timeline import TimelineView
from .trace_levels import TraceLevelBar
from .user_workload import OutputDock

FRAME_MS = 16  # at most ~60 redraws per second
# and the frame timer's other work runs at least this often while a live view skips
# ticks (a continuous run's view redraws about once a second)
WORK_S = 0.05
# below this width the compare view takes the runs panel's room (its charts need it)
COMPARE_WITH_RUNS_MIN_WIDTH = 1600
UPDATE_S = 0.25  # how often a live run tells the session's listeners it grew
CPU_MARGIN_NS = 500_000_000  # a run keeps its CPU samples from 0.5 s before to 0.5 s after


def _whole_setting(settings: QSettings, key: str, default: int, low: int, high: int) -> int:
    """A whole-number setting within [low, high], or ``default`` when it is not one."""
    raw = settings.value(key, default)
    try:
        value = float(raw)  # QSettings gives back text from an ini file
    except (TypeError, ValueError):
        return default
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        return default
    return int(value)


class _PageStack(QStackedWidget):
    """The views' pages, as narrow as the page shown: a hidden page's fields (the
    sweep's) kept the window from fitting a 720p screen beside the lessons."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        page = self.currentWidget()
        if page is None:
            return super().minimumSizeHint()
        # a page's own minimum counts too: the timeline's is the height its three plots
        # need, and with the hint alone a short window cut the busy plot and the time
        # axis off the bottom (a window of 526 px showed the workers and the cores only)
        return page.minimumSizeHint().expandedTo(page.minimumSize())


class MainWindow(QMainWindow):
    """concviz's window; ``start_lab()`` is called by ``__init__`` unless told not to."""

    # presentation mode turned on or off, however (F11, the menu, --presentation): the
    # panels added beside the window follow it (--presentation left the sharing
    # panel's small line at the normal size: its listener heard only the menu action)
    presentationChanged = Signal(bool)

    def __init__(
        self,
        interpreter: str | None = None,
        settings: QSettings | None = None,
        start_lab: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else QSettings("concviz", "concviz")
        self.theme_choice = str(self.settings.value("theme", "system"))
        self.theme = T.resolve(self.theme_choice)
        self.presentation = False
        self.running = False
        self._run_params: dict | None = None
        self._run_started = False
        self._measure_for: dict | None = None  # the run "Measure sequential" is for
        self._next_bound = 0.0  # when the wait samples are next kept in bounds
        self._closed = False
        self.frame_times: list[float] = []  # perf_counter of each redraw tick (benchmarks)
        self.record_frames = False
        self._next_work = 0.0  # the frame timer's next tick that does more than redraw
        # every run of this sitting; the widgets below bind to it
        self.session = Session()
        self.live_run: Run | None = None  # the run the lab client is (or was last) running
        self.shown_run: Run | None = None  # the run the timeline and summary show
        self._strategy_items: list[dict] = []
        self._next_update = 0.0
        self._versions: dict[int, int] = {}  # the store version each live run last told
        self.batch = BatchRunner(
            self, self.session, before_finish=self._keep_batch_run
        )  # "Compare all": one lab per strategy, in turn
        self._batch_jobs: list[Job] = []
        self._batch_show: str | None = None
        self._batch_runs: dict[int, Run] = {}
        self._watch_clocks: dict[int, ObserverClock] = {}  # run id -> the window's CPU clock
        self._batch_cancelled = False
        self.compare_dialog = None

        self.sampler = CpuSampler(hz=15.0)
        self.client = LabClient(
            interpreter, self, lab_nice=int(os.environ.get("CONCVIZ_LAB_NICE", "5"))
        )
        # The lab boots (0.25-0.45 s: an interpreter and its imports) while the widgets
        # below are built, not after them. Its signals are connected first: they come
        # from the client's reader thread and are queued, so the slots run once this
        # constructor has returned and the widgets they touch exist.
        self._connect_client()
        if start_lab:
            self.client.start()

        self.controls = ControlBar()
        self.legend = LegendBar(self.theme)
        self.banner = Banner()
        self.timeline = TimelineView(self.sampler.series, self.theme)
        self.summary = SummaryPanel()
        self.summary.bind(self.session)
        self.compare_view = CompareView(self.session, self.theme)
        self.runs_panel = RunsPanel(self.session, self.theme, self)
        self.session.listen(self._session_changed)
        central = QWidget()
        central.setObjectName("central")
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.banner)
        lay.addWidget(self.controls)
        # Timeline | Compare: the tabs sit at the end of the legend's short CPU line,
        # so that they cost a 720-pixel projector no height
        self.timeline_page = self.timeline
        self.pages = _PageStack()
        self.pages.currentChanged.connect(lambda _i: self.pages.updateGeometry())
        self.pages.setObjectName("viewPages")
        self.pages.addWidget(self.timeline_page)
        self.pages.addWidget(self.compare_view)
        self.view_tabs = QTabBar()
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.setExpanding(False)
        self.view_tabs.setUsesScrollButtons(False)  # both tabs whole, or it is not a tab bar
        self.view_tabs.addTab("Timeline")
        self.view_tabs.addTab("Compare")
        self.view_tabs.setTabToolTip(0, "The selected run: its tasks and CPU (Ctrl+1)")
        self.view_tabs.setTabToolTip(1, "Runs side by side on one time scale (Ctrl+2)")
        self.view_tabs.currentChanged.connect(self._page_chosen)
        self.legend.add_trailing(self.view_tabs)
        lay.addWidget(self.legend)
        # the runs beside the views, under the controls: the control bar keeps its width
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("viewsSplitter")
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(self.runs_panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        lay.addWidget(self.splitter, 1)
        self.replay = ReplayBar(self.timeline)  # shown while a run is played again
        self.replay.finished.connect(self._replay_finished)
        lay.addWidget(self.replay)
        self.trace_levels = TraceLevelBar(self.timeline)  # shown for a trace's runs
        lay.addWidget(self.trace_levels)
        lay.addWidget(self.summary)  # the selected run's figures, the whole width
        self.setCentralWidget(central)
        self.setAcceptDrops(True)  # a .py file dropped on the window is opened as a workload

        self.lab_label = QLabel("Lab: starting…")
        self.compare_progress = QProgressBar()
        self.compare_progress.setObjectName("compareProgress")
        self.compare_progress.setTextVisible(True)
        self.compare_progress.setMaximumWidth(260)
        self.compare_cancel = QPushButton("Cancel")
        self.compare_cancel.setObjectName("compareCancel")
        self.compare_cancel.setToolTip(
            "Stop the comparison: the run going ends, the rest never start"
        )
        self.compare_cancel.clicked.connect(lambda _checked=False: self.cancel_compare())
        for w in (self.compare_progress, self.compare_cancel):
            w.hide()
            self.statusBar().addPermanentWidget(w)
        self.statusBar().addPermanentWidget(self.lab_label)

        self.output = OutputDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.output)
        self.output.hide()
        self.files = SessionFiles(self)  # open, save, recent files, the title
        self._build_menus()
        self.lenses = Lenses(self, self.theme)  # the GIL lenses and demos (ui/lenses.py)
        self.sync_panel = sync_panel.install(self)  # waits, deadlocks, task graphs
        self.segments_panel = segments_panel.install(self)  # a continuous run's segments
        self.badges = diagnosis_badges.install(self)  # what went wrong, on the summary
        self.sweep_view = sweep_view.install(self)  # View → Sweep (Ctrl+3)
        self.lessons_panel = lessons_panel.install(self)  # Help → Lessons (F1)
        self.notes = notes.install(self, self._run_menu)  # notes on a run (Ctrl+M)
        self._restore_settings()

        self.controls.runClicked.connect(lambda: self.run())
        self.controls.stopClicked.connect(self.stop)
        self.controls.strategyChosen.connect(self._strategy_chosen)
        self.controls.workersChosen.connect(self._workers_chosen)
        self.controls.unavailableChosen.connect(
            lambda why: self.banner.show_message(why, "warning")
        )
        self.controls.engineSettingsClicked.connect(self.edit_engine_settings)
        self.summary.measureSequentialClicked.connect(self.measure_sequential)
        self.runs_panel.runChosen.connect(self._run_chosen)
        self.runs_panel.removeRequested.connect(self.remove_runs)
        self.runs_panel.compareRequested.connect(self.compare_runs)
        self.runs_panel.compareAllClicked.connect(lambda: self.compare_all())
        self.batch.jobStarted.connect(self._job_started)
        self.batch.jobFinished.connect(self._job_finished)
        self.batch.jobFailed.connect(self._job_failed)
        self.batch.allFinished.connect(self._compare_finished)
        self.banner.actionClicked.connect(self.restart_lab)

        self._lab_down = False  # the lab ended (killed, crashed) and was not restarted
        self._run_when_up: dict | None = None  # Run pressed then: run once a new lab is up
        # the window's stylesheet once: set_presentation sets it (each setting restyles
        # every widget of the window, about 50 ms)
        self.apply_theme(self.theme, restyle=False)
        self.set_presentation(False)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.sampler.start()

    def _connect_client(self) -> None:
        c = self.client
        c.labStarted.connect(self._lab_started)
        c.strategiesReceived.connect(self._strategies_received)
        c.workloadsReceived.connect(self._workloads_received)
        c.runStarted.connect(self._run_started_cb)
        c.runFinished.connect(self._run_finished)
        c.requestRejected.connect(self._request_rejected)
        c.noticeArrived.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        # queued even when emitted on this thread (an interpreter refused at once, in
        # the constructor): the slot needs the widgets built after the lab's start
        c.labFailed.connect(self._lab_failed, Qt.ConnectionType.QueuedConnection)
        c.labRestarted.connect(lambda text: self.banner.show_message(text, "warning"))

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        open_action = QAction("&Open… (session, trace or workload file)", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        # triggered passes `checked`: it must never arrive as the path
        open_action.triggered.connect(lambda _checked=False: self.open_file())
        self.open_action = open_action
        file_menu.addAction(open_action)
        file_menu.addMenu(self.files.recent_menu)
        file_menu.addAction(self.files.import_action)
        file_menu.addSeparator()
        file_menu.addAction(self.files.save_action)
        file_menu.addAction(self.files.save_as_action)
        file_menu.addSeparator()
        self.export_action = QAction("&Export… (trace, CSV, PNG or SVG)", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(lambda _checked=False: self.export_any())
        file_menu.addAction(self.export_action)
        export_trace = QAction("Export the run as a &Chrome trace…", self)
        export_trace.triggered.connect(lambda: self.export_trace())
        file_menu.addAction(export_trace)
        save_picture = QAction("Save a &picture of the window…", self)
        save_picture.triggered.connect(lambda: self.save_picture())
        file_menu.addAction(save_picture)
        save_timeline = QAction("Save the &timeline as PNG or SVG…", self)
        save_timeline.triggered.connect(lambda _checked=False: self.save_timeline_picture())
        file_menu.addAction(save_timeline)
        self.save_compare_action = QAction("Save the c&ompare view as PNG or SVG…", self)
        self.save_compare_action.triggered.connect(
            lambda _checked=False: self.save_compare_picture()
        )
        file_menu.addAction(self.save_compare_action)
        self.export_csv_action = QAction("Export the runs table as C&SV…", self)
        self.export_csv_action.triggered.connect(lambda _checked=False: self.export_runs_csv())
        file_menu.addAction(self.export_csv_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        run_menu = mb.addMenu("&Run")
        self._run_menu = run_menu
        self.run_action = QAction("&Run", self)
        self.run_action.setShortcuts(
            [
                QKeySequence(Qt.Key.Key_Return),
                QKeySequence(Qt.Key.Key_Enter),
                QKeySequence(Qt.Key.Key_Space),
                QKeySequence("Ctrl+R"),
            ]
        )
        self.run_action.triggered.connect(lambda: self.run())
        self.stop_action = QAction("&Stop", self)
        self.stop_action.setShortcuts([QKeySequence(Qt.Key.Key_Escape), QKeySequence("Ctrl+.")])
        self.stop_action.triggered.connect(self.stop)
        self.restart_action = QAction("Restart the &lab", self)
        self.restart_action.triggered.connect(self.restart_lab)
        self.replay_action = QAction("Re&play the shown run", self)
        self.replay_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.replay_action.triggered.connect(lambda _checked=False: self.replay_run())
        self.compare_all_action = QAction("&Compare all strategies…", self)
        self.compare_all_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.compare_all_action.triggered.connect(lambda _checked=False: self.compare_all())
        for a in (self.run_action, self.stop_action, self.restart_action):
            run_menu.addAction(a)
        run_menu.addSeparator()
        run_menu.addAction(self.compare_all_action)
        run_menu.addAction(self.replay_action)

        view = mb.addMenu("&View")
        self.fit_action = QAction("&Zoom to fit", self)
        self.fit_action.setShortcuts([QKeySequence("Ctrl+0"), QKeySequence(Qt.Key.Key_Home)])
        self.fit_action.triggered.connect(self.timeline.zoom_to_fit)
        self.presentation_action = QAction("&Presentation mode", self)
        self.presentation_action.setCheckable(True)
        self.presentation_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.presentation_action.toggled.connect(self.set_presentation)
        self.runs_action = QAction("&Runs panel", self)
        self.runs_action.setCheckable(True)
        self.runs_action.setChecked(True)
        self.runs_action.setShortcut(QKeySequence(Qt.Key.Key_F9))
        self.runs_action.toggled.connect(lambda _on: self._sync_runs_panel())
        self.show_timeline_action = QAction("&Timeline", self)
        self.show_timeline_action.setShortcut(QKeySequence("Ctrl+1"))
        self.show_timeline_action.triggered.connect(
            lambda _checked=False: self.show_page(self.timeline_page)
        )
        self.show_compare_action = QAction("&Compare view", self)
        self.show_compare_action.setShortcut(QKeySequence("Ctrl+2"))
        self.show_compare_action.triggered.connect(
            lambda _checked=False: self.show_page(self.compare_view)
        )
        view.addAction(self.fit_action)
        view.addAction(self.presentation_action)
        view.addAction(self.runs_action)
        view.addAction(self.show_timeline_action)
        view.addAction(self.show_compare_action)
        view.addAction(self.output.toggleViewAction())
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for key, text in (("system", "Follow the &system"), ("light", "&Light"), ("dark", "&Dark")):
            a = QAction(text, self)
            a.setCheckable(True)
            a.setChecked(key == self.theme_choice)
            a.triggered.connect(lambda _=False, k=key: self.set_theme_choice(k))
            group.addAction(a)
            theme_menu.addAction(a)
            self.theme_actions[key] = a
        help_menu = mb.addMenu("&Help")
        about = QAction("&About concviz", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        for a in (
            self.run_action,
            self.stop_action,
            self.export_action,
            self.replay_action,
            self.fit_action,
            self.presentation_action,
            self.compare_all_action,
            self.runs_action,
            self.show_timeline_action,
            self.show_compare_action,
        ):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(a)  # shortcuts work in full screen too, where the menu bar hides

    def show_about(self) -> None:
        from .about import AboutDialog

        AboutDialog(self).exec()

    # ------------------------------------------------------------------ lab
    def start_lab(self) -> None:
        self.lab_label.setText("Lab: starting…")
        self.client.start()

    def restart_lab(self) -> None:
        self.banner.hide()
        self._set_running(False)
        self._lab_down = False  # starting: a failure to start says so again
        self.client.restart()

    def _lab_started(self, hello: dict) -> None:
        interp = hello.get("interpreter", {})
        gil = "free-threaded" if interp.get("free_threaded") else "GIL"
        if interp.get("free_threaded"):
            gil += ", GIL " + ("on" if interp.get("gil_enabled") else "off")
        self.lab_label.setText(
            f"Lab: Python {interp.get('version')} ({gil}) · {interp.get('executable')} · "
            f"pid {hello.get('pid')} · {hello.get('cores')} cores"
        )
        self.sampler.set_lab_pid(hello.get("pid"))
        self._lab_down = False
        pending, self._run_when_up = self._run_when_up, None
        if pending is not None:  # Run was pressed while the lab was down
            QTimer.singleShot(0, lambda: self.run(pending or None))

    def _workloads_received(self, items: dict) -> None:
        self.controls.set_workloads(items)
        if self.controls.params()["workload"] != "user":  # keep a chosen file of yours
            self.controls.set_workload(str(self.settings.value("workload", "cpu-python")))

    def _lab_failed(self, message: str) -> None:
        self._lab_down = True
        self._run_when_up = None  # a run waiting for a lab that did not start
        self._set_running(False)
        self.sampler.set_lab_pid(None)
        self.lab_label.setText("Lab: stopped")
        kept = self.timeline.store.bar_count if self.timeline.store is not None else 0
        # the message names the lab itself ("the lab ended unexpectedly (killed by
        # SIGKILL)"): one sentence of its own, not "The lab stopped: the lab stopped ..."
        said = f"{message[:1].upper()}{message[1:]}".rstrip(".")
        if kept:
            said += f". The {kept} bars recorded before stay on screen"
        self.banner.show_message(f"{said}.", "error", "Restart the lab")
        run = self.live_run
        if run is not None and not run.finished:
            self._end_live_run(run, interrupted=True)
            self.statusBar().showMessage("The run was cut off: the lab ended.")
        else:
            self.statusBar().clearMessage()
        if self.summary.last is None or self._run_params is not None:
            self.summary.clear("Run interrupted: the lab stopped. What it recorded stays above.")

    def _request_rejected(self, message: str) -> None:
        if self.running and not self._run_started:
            self._set_running(False)  # the start itself was refused
            run = self.live_run
            if run is not None and not run.finished and not run.store.runs:
                self.live_run = None
                self.session.remove(run)  # it never ran: nothing to keep
        self.banner.show_message(f"The lab refused: {message}", "warning")

    # ------------------------------------------------------------------ runs
    def run(self, extra: dict | None = None) -> None:
        """Start a run with the control bar's choices (``extra`` adds lab start keys)."""
        if self.running or self.batch.is_running():
            return
        if self._lab_down:
            # Run after the lab ended (killed, crashed): a new lab, then this run, as a
            # user pressing Run means; not "the lab is not running" and a second click
            if self._run_when_up is None:
                self._run_when_up = dict(extra or {})
                self.restart_lab()
                self.statusBar().showMessage("Starting a new lab for the run…")
            return
        params = self.controls.params()
        if extra:
            params.update(extra)
        if self.client.pid is not None and WaitSampler.unavailable_reason(self.client.pid) is None:
            # the GIL is read from outside: the lab's probe thread, which takes the GIL
            # a thousand times a second itself, would only disturb what is measured
            params["options"] = {**params.get("options", {}), "gil_probe": False}
        if params.get("strategy") != "sequential":
            self._measure_for = None
        try:
            store = self.client.begin_run(params)
        except BadInput as exc:  # a malformed value from the controls or a caller
            self.banner.show_message(f"Cannot run: {exc}.", "error")
            return
        except LabError as exc:
            self.banner.show_message(f"Cannot run: {exc}.", "error", "Restart the lab")
            return
        self.banner.hide()
        self._run_params = params
        self._run_started = False
        self._watch_waits(store)
        self.live_run = self.session.new_run(as_start(params), store)
        self._set_running(True)
        self.show_run(self.live_run)  # a new run is selected and drawn as it grows
        self.statusBar().showMessage("Running…")

    def measure_sequential(self) -> None:
        """Run the shown run's experiment sequentially: its speedup baseline, one click away."""
        previous = self.shown_run
        if self.running or previous is None or previous.spec is None or not previous.finished:
            return
        self._measure_for = previous
        self.run({**previous.spec.params(), "strategy": "sequential", "workers": 1})

    def stop(self) -> None:
        if self.batch.is_running():
            self.cancel_compare()
        elif self.running:
            self.client.stop_run()
            self.statusBar().showMessage("Stopping…", 3000)

    def _run_started_cb(self, obj: dict) -> None:
        self._run_started = True
        if self.live_run is not None:  # what following it costs the window, from now
            self._watch_clocks[self.live_run.id] = ObserverClock()
        if self.shown_run is not None and self.shown_run is self.live_run:
            self.timeline.set_origin(int(obj["t_ns"]))

    def _watch_waits(self, store) -> None:
        """Sample what every lab thread does for this run (the wait split, the GIL)."""
        from concviz.model.wait_states import WaitSamples

        self._stop_waits()
        store.waits = WaitSamples()
        if self.client.pid is not None:
            self._waits = WaitSampler(
                self.client.pid,
                samples=store.waits,
                gil_layout=(store.hello or {}).get("gil_layout"),
            )
            self._waits.start()

    def _stop_waits(self) -> None:
        waits, self._waits = getattr(self, "_waits", None), None
        if waits is not None:
            waits.stop()

    def _run_finished(self, obj: dict) -> None:
        self._stop_waits()
        self._set_running(False)
        run = self.live_run
        if run is None or run.finished:
            return
        if not run.store.runs:  # it never started: nothing to keep
            self.live_run = None
            self.session.remove(run)
            return
        result = self._end_live_run(run)
        if result is None:
            return
        measured_for, self._measure_for = self._measure_for, None
        if (
            measured_for is not None
            and result["strategy"] == "sequential"
            and self.shown_run is run
            and self.session.get(measured_for.id) is not None
        ):
            self.summary.note_comparison(measured_for)
        busy = metrics.busy_machine_warning(result.get("machine_busy_cores"))
        if obj.get("error") and not obj.get("stopped"):  # a stopped pool reports "broke"
            self.banner.show_message(f"The run failed: {obj['error']}", "error")
        elif busy:
            self.banner.show_message(busy, "warning")
        self.statusBar().showMessage(
            f"Run {'stopped' if obj.get('stopped') else 'finished'}: "
            f"{len(result['tasks'])} tasks in {result['wall_s']:.2f} s",
            8000,
        )

    def _end_live_run(self, run: Run, interrupted: bool = False) -> dict | None:
        """Keep a run that ended in the session: its result and its span's CPU samples."""
        store = run.store
        if not store.runs:
            self.session.remove(run)
            return None
        self._keep_run_cpu(run)
        if interrupted:
            run.meta["interrupted"] = True
        result = run_object(store)
        self._versions.pop(run.id, None)
        self.session.finish(run, result)
        if self.shown_run is run:
            self._sync_timeline_running()
            self.timeline.refresh()
            self.timeline.zoom_to_fit()
        return result

    def _keep_run_cpu(self, run: Run) -> None:
        """A run's span's CPU samples (and, later, the half second after), and the
        cores other programs used meanwhile."""
        store = run.store
        if not store.runs:
            return
        info = store.runs[-1]
        t_start = int(info.started["t_ns"])
        t_end = int(info.finished["t_ns"]) if info.finished else (store.t_max or t_start)
        clock = self._watch_clocks.pop(run.id, None)
        if info.finished:
            store.machine_busy_cores = self.sampler.series.others_between(t_start, t_end)
            if clock is not None:
                store.observer_core_fraction = clock.core_fraction()
        self._keep_cpu(run, t_start, t_end)
        # the samples after its end come in the next half second (a short run may have
        # none inside it yet): keep them too, once they exist
        QTimer.singleShot(
            CPU_MARGIN_NS // 1_000_000 + 150, lambda: self._keep_late_cpu(run, t_start, t_end)
        )

    def _keep_cpu(self, run: Run, t_start: int, t_end: int) -> None:
        """The per-core CPU samples of the run's span, and CPU_MARGIN_NS either side."""
        run.cpu = self.sampler.series.samples_between(
            t_start - CPU_MARGIN_NS, t_end + CPU_MARGIN_NS
        )

    def _keep_late_cpu(self, run: Run, t_start: int, t_end: int) -> None:
        if self._closed or self.session.get(run.id) is not run:
            return
        kept = len(run.cpu.t_ns)
        self._keep_cpu(run, t_start, t_end)
        if len(run.cpu.t_ns) != kept:  # the run changed: a file saved before lacks these
            self.session.dirty = True
            self.files.update_title()
        if self.shown_run is run and self.timeline.cpu.series is not self.sampler.series:
            self.timeline.set_cpu_series(
                CpuSeries.from_samples(run.cpu, self.sampler.series.n_cores)
            )

    # ------------------------------------------------------------------ the session
    def show_page(self, page: QWidget) -> None:
        """Show the timeline or the compare view (the tab follows)."""
        self.view_tabs.setCurrentIndex(self.pages.indexOf(page))

    def _page_chosen(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        comparing = self.pages.currentWidget() is self.compare_view
        run = self.shown_run
        if not comparing and run is not None and self.timeline.store is not run.store:
            # a comparison (or a lesson's step) ran while the compare view was shown:
            # the timeline draws the run chosen then, not what it drew before
            self.show_run(run)
        # the compare view has figures of its own: it takes the summary's height too,
        # and on a narrow screen (a 720p projector) the runs panel's width, since it
        # names and colours its runs itself (its charts were cut off beside the panel)
        self.summary.setVisible(not comparing)
        self._sync_runs_panel()
        panel = getattr(self, "lessons_panel", None)
        if panel is not None:
            panel.keep_fitting()  # a wider page (the sweep's fields) beside the lessons

    def _sync_runs_panel(self) -> None:
        screen = self.screen()
        # the window's width, or the screen's before the window has taken its size
        narrow = self.width() < COMPARE_WITH_RUNS_MIN_WIDTH or (
            screen is not None and screen.availableGeometry().width() < COMPARE_WITH_RUNS_MIN_WIDTH
        )
        # the Sweep page too: its runs are its points (beside the lessons at 1920×1080 the
        # runs panel cut its buttons to "un swee" and "Weak sca")
        comparing = self.pages.currentWidget() in (
            self.compare_view,
            getattr(self, "sweep_view", None),
        )
        # the lessons dock takes the runs panel's width on a narrow screen too (a 720p
        # projector: the window grew past the screen with both)
        panel = getattr(self, "lessons_panel", None)
        lessons = panel is not None and panel.isVisible()
        # and beside the lessons the compare view, which names and colours its runs
        # itself, takes it at any width (at 1920×1080 in presentation mode its charts
        # stood in one narrow column)
        crowded = (narrow and (comparing or lessons)) or (comparing and lessons)
        self.runs_panel.setVisible(self.runs_action.isChecked() and not crowded)

    def _strategies_received(self, items: list) -> None:
        self._strategy_items = list(items)
        self.controls.set_strategies(items)

    def _run_chosen(self, run_id: int) -> None:
        run = self.session.get(run_id)
        if run is not None and run is not self.shown_run:
            self.show_run(run)

    def replay_run(self, run: Run | None = None, speed: float | None = None) -> bool:
        """Play a finished run again as it happened (Run → Replay, Ctrl+Shift+R)."""
        run = run if run is not None else self.shown_run
        if run is None or not run.finished or run.store.bar_count == 0:
            self.banner.show_message("Replay needs a finished run: select one first.", "warning")
            return False
        if run is not self.shown_run:
            self.show_run(run)
        self.show_page(self.timeline_page)
        self.replay.start(run, speed)
        return True

    def _replay_finished(self) -> None:
        if self.shown_run is not None:
            self.show_run(self.shown_run)  # the run whole again

    def show_run(self, run: Run | None) -> None:
        """Draw ``run`` in the timeline, its CPU panel and the summary (None: nothing)."""
        if self.replay.active and run is not self.replay.run:
            self.replay.stop(quiet=True)
        self.shown_run = run
        self.trace_levels.show_for(run)
        if run is None:
            self.timeline.set_store(EventStore(), time.perf_counter_ns())
            self.timeline.set_cpu_series(self.sampler.series)
            self._sync_timeline_running()
            self.summary.show(None)
            if hasattr(self, "notes"):
                self.notes.draw(None)
            return
        self.runs_panel.select(run.id)
        live = not run.finished and run.source == "live"
        t0 = run_t0(run)
        self.timeline.set_store(run.store, t0 if t0 is not None else time.perf_counter_ns())
        if live:
            self.timeline.set_cpu_series(self.sampler.series)
        else:  # a past run draws the CPU it kept, not what the machine does now
            self.timeline.set_cpu_series(
                CpuSeries.from_samples(run.cpu, self.sampler.series.n_cores)
            )
        self._sync_timeline_running()
        self.summary.show(run)
        if run.finished and t0 is not None:  # what its tasks shared and waited for
            self.sync_panel.show_store(run.store, t0)
        else:
            self.sync_panel.hide()
        self.timeline.refresh()
        self.timeline.zoom_to_fit()
        if hasattr(self, "notes"):
            self.notes.draw(run)

    def _sync_timeline_running(self) -> None:
        run = self.shown_run
        self.timeline.running = run is not None and not run.finished and run.source == "live"

    def _session_changed(self, event: str, run: Run | None) -> None:
        if event == "cleared" or (event == "removed" and run is self.shown_run):
            remaining = self.session.runs
            self.show_run(remaining[-1] if remaining else None)
        if event in ("removed", "cleared") and (run is self.live_run or event == "cleared"):
            if self.live_run is not None and self.live_run.finished:
                self.live_run = None

    def remove_runs(self, run_ids: list) -> None:
        """Remove finished runs from the session (a run still going must be stopped first)."""
        kept = 0
        for run_id in run_ids:
            run = self.session.get(int(run_id))
            if run is None:
                continue
            if not run.finished:
                kept += 1
                continue
            self.session.remove(run)
        if kept:
            self.statusBar().showMessage("A run still going stays: stop it first.", 5000)

    # ------------------------------------------------------------------ compare
    def compare_all(self):
        """Ask which strategies to compare (Run → Compare all strategies…), then run them."""
        if self.running or self.batch.is_running():
            self.statusBar().showMessage("Wait for the run to end, or stop it, first.", 5000)
            return None
        if not self._strategy_items:
            self.banner.show_message("The lab has not listed its strategies yet.", "warning")
            return None
        from .compare_dialog import CompareDialog

        p = self.controls.params()
        what = (
            f"{self.controls.workload.currentText()} · {p['tasks']} tasks of "
            f"{p['task_ms']:g} ms · {workers_text(p['workers'])}"
        )
        dialog = CompareDialog(self._strategy_items, what, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_compare(dialog.chosen()))
        self.compare_dialog = dialog
        dialog.open()  # window-modal, and the GUI thread goes on
        return dialog

    def start_compare(
        self, strategies: list[str], extra: dict | None = None, *, compare_view: bool = True
    ) -> bool:
        """Run the control bar's workload under each of ``strategies`` in turn (a batch).

        The runs go through the run driver (``BatchRunner``). ``extra``: more of the
        lab's start parameters (a sync mode, a seed). ``compare_view`` False keeps the
        timeline page, each run drawn live on it (``concviz screenshot``).
        """
        if self.running or self.batch.is_running() or not strategies:
            return False
        params = {**self.controls.params(), **(extra or {}), "mode": "batch"}
        order = sorted(strategies, key=lambda n: n != "sequential")  # the baseline first
        named = []
        for name in order:
            p = {**params, "strategy": name}
            if name == "sequential":
                p["workers"] = 1
            named.append((name, p))
        return self.start_runs(
            named, compare_view=compare_view, what="Comparing", noun="strategies"
        )

    def start_runs(
        self,
        named: list[tuple[str, dict]],
        *,
        compare_view: bool = True,
        what: str = "Running",
        noun: str = "runs",
        show: str | None = None,
    ) -> bool:
        """Run each ``(label, start parameters)`` in turn through the run driver (a batch).

        Compare all and a lesson's step start this way; the runs join the session and
        the compare view as they end. False (and a banner) when one cannot start.
        """
        if self.running or self.batch.is_running() or not named:
            return False
        jobs = []
        for label, p in named:
            p = {**p, "mode": "batch"}
            try:
                spec = as_start(p)
            except BadInput as exc:
                self.banner.show_message(f"Cannot compare: {exc}.", "error")
                return False
            jobs.append(Job(p, self.client.interpreter, label, {"spec": spec}, EventStore()))
        self._batch_jobs = jobs
        self._batch_show = show
        self._batch_runs = {}
        self._batch_cancelled = False
        self.banner.hide()
        self.compare_view.set_runs([])
        self.show_page(self.compare_view if compare_view else self.timeline_page)
        self.compare_progress.setRange(0, len(jobs))
        self.compare_progress.setValue(0)
        self.compare_progress.setFormat(f"comparing: 0 of {len(jobs)}")
        self.compare_progress.show()
        self.compare_cancel.show()
        self.compare_cancel.setEnabled(True)
        self.batch.start(jobs)
        self._sync_controls()
        self.statusBar().showMessage(f"{what} {len(jobs)} {noun}, one after another…")
        return True

    def cancel_compare(self) -> None:
        if self.batch.is_running():
            self._batch_cancelled = True
            self.compare_cancel.setEnabled(False)
            self.batch.stop()
            self.statusBar().showMessage("Cancelling the comparison…", 5000)

    def compare_runs(self, run_ids: list) -> None:
        """Stack these runs in the compare view and show it."""
        self.compare_view.set_runs([int(i) for i in run_ids])
        self.show_page(self.compare_view)

    def _job_started(self, i: int, run: Run, pid: int) -> None:
        job = self._batch_jobs[i]
        self._batch_runs[i] = run
        self._watch_clocks[run.id] = ObserverClock()
        self.sampler.set_lab_pid(pid or None)  # the CPU panel's lab line follows this lab
        # While a run is measured the window draws as little as it can: on two cores,
        # redrawing the compare view (0.2 s of CPU) beside a run made the first runs of
        # a comparison read 30 % slower. The run joins the compare view when it ends.
        if self.pages.currentWidget() is self.compare_view:
            self.shown_run = run
            self.runs_panel.select(run.id)
        else:
            self.show_run(run)
        self.compare_progress.setFormat(f"{job.label}: {i + 1} of {len(self._batch_jobs)}")

    def _keep_batch_run(self, run: Run) -> None:
        """A compared run ends (the driver finishes it next): keep its span's CPU."""
        self._keep_run_cpu(run)
        self._versions.pop(run.id, None)

    def _job_finished(self, i: int, run: Run) -> None:
        self.compare_progress.setValue(i + 1)
        if self.shown_run is run:
            self._sync_timeline_running()
            self.timeline.refresh()
            self.timeline.zoom_to_fit()
            t0 = run_t0(run)
            if run.finished and t0 is not None:  # what its tasks shared, as show_run says
                self.sync_panel.show_store(run.store, t0)
        if run.finished and self.session.get(run.id) is run:
            self.compare_view.add_run(run.id)

    def _job_failed(self, i: int, message: str) -> None:
        job = self._batch_jobs[i]
        self.compare_progress.setValue(i + 1)
        self.banner.show_message(f"{job.label} could not run: {message}", "warning")

    def _compare_finished(self) -> None:
        self.sampler.set_lab_pid(self.client.pid)
        self.compare_progress.hide()
        self.compare_cancel.hide()
        done = sum(1 for r in self._batch_runs.values() if r.finished)
        total = len(self._batch_jobs)
        for run in self._batch_runs.values():  # a run whose lab never reported its end
            if not run.finished:
                self._end_live_run(run, interrupted=True)
        self._choose_compared_run()
        self._sync_controls()
        # a lesson's runs may be one strategy on several worker counts: runs, then
        strategies = {r.spec.strategy for r in self._batch_runs.values() if r.spec is not None}
        what = "strategies" if len(strategies) == total else "runs"
        if self._batch_cancelled:
            text = f"Comparison cancelled after {done} of {total} {what}."
        elif total == 1:
            text = f"Ran {self._batch_jobs[0].label}." if done else ""
        else:
            text = f"Compared {done} {what} on one time scale."
        self.statusBar().showMessage(text, 10_000)

    def _choose_compared_run(self) -> None:
        """After a comparison shown in the compare view, the run the timeline tab opens
        on (drawn when that tab is chosen), selected in the runs list: the one
        ``start_runs`` was asked to show (a lesson's, as the control bar says), else
        the last."""
        kept = {i: r for i, r in self._batch_runs.items() if self.session.get(r.id) is r}
        if not kept or self.pages.currentWidget() is not self.compare_view:
            return
        labels = [job.label for job in self._batch_jobs]
        wanted = labels.index(self._batch_show) if self._batch_show in labels else None
        chosen = kept.get(wanted) if wanted is not None else None
        chosen = chosen or kept[max(kept)]
        self.shown_run = chosen
        self.runs_panel.select(chosen.id)

    def _sync_controls(self) -> None:
        busy = self.running or self.batch.is_running()
        self.controls.set_running(busy)
        self.run_action.setEnabled(not busy)
        self.stop_action.setEnabled(busy)
        self.compare_all_action.setEnabled(not busy)
        self.runs_panel.compare_all_button.setEnabled(not busy)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self._sync_timeline_running()
        self._sync_controls()

    def _switch(self, **change) -> None:
        params = self._run_params or {}
        if params.get("mode") != "continuous":
            self.statusBar().showMessage(
                "Live switching works in continuous runs; the next run uses the new choice.", 5000
            )
            return
        wanted = {
            "strategy": self.controls.strategy(),
            "workers": int(self.controls.workers.value()),
            **change,
        }
        msg = P.Switch(**wanted)
        try:
            self.client.send(msg)
        except LabError as exc:
            self._lab_failed(str(exc))
            return
        self.statusBar().showMessage(
            f"Switching to {msg.strategy} × {msg.workers} at the next task boundary…", 4000
        )
        self.summary.clear(
            f"Running {params.get('workload', '')} with {msg.strategy} × {msg.workers}…"
        )

    def _strategy_chosen(self, name: str) -> None:
        if self.running:
            self._switch(strategy=name)

    def _workers_chosen(self, n: int) -> None:
        if self.running:
            self._switch(workers=n)

    # ------------------------------------------------------------------ drawing
    def _tick(self) -> None:
        if self.record_frames:
            self.frame_times.append(time.perf_counter())
        tick = time.perf_counter()
        if not self.timeline.due() and tick < self._next_work:
            # a live view's calm ticks: nothing below needs more than 20 a second (the
            # growth, the samples' bound, the legend, the program's output)
            return
        self._next_work = tick + WORK_S
        shown = self.shown_run
        if shown is not None and not shown.finished:
            t0 = run_t0(shown)  # a batch run's start comes with its events
            if t0 is not None:
                self.timeline.set_origin(t0)
        self.timeline.frame()  # a continuous run's view redraws calmly (ui.segments_panel)
        self._tell_growth()
        store = self.timeline.store
        now = time.monotonic()
        if store is not None and store.waits is not None and now >= self._next_bound:
            # old bars keep their split (a live layout recomputes only the newer ones);
            # a class-long continuous run's old samples go
            self._next_bound = now + SETTLE_S
            bound_samples(store)
        data = self.timeline.gantt.data
        sampled = data is not None and data.waits is not None
        if self.legend.waits != sampled:  # the legend names the colours the bars use
            self.legend.set_waits(sampled)
        if self.output.follow(self.timeline.store) and not self.output.isVisible():
            self.output.show()  # the workload printed: show it where it can be read
            self.statusBar().showMessage("The workload printed: see Program output.", 5000)

    def _tell_growth(self) -> None:
        """A few times a second, tell the session's listeners that live runs grew."""
        now = time.monotonic()
        if now < self._next_update:
            return
        self._next_update = now + UPDATE_S
        for run in (self.live_run, *self._batch_runs.values()):
            if run is None or run.finished:
                continue
            if self._versions.get(run.id) != run.store.version:
                self._versions[run.id] = run.store.version
                self.session.updated(run)

    def export_runs_csv(self, path: str | None = None) -> bool:
        """Write the runs table (File → Export the runs table as CSV…)."""
        from PySide6.QtWidgets import QFileDialog

        from concviz.interop.runs_csv import write_runs_csv

        if not self.session.runs:
            self.banner.show_message("No runs to export yet: run something first.", "warning")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export the runs table", "concviz-runs.csv", "CSV files (*.csv)"
            )
            if not path:
                return False
        try:
            write_runs_csv(self.session, path)
        except OSError as exc:
            self.banner.show_message(f"Cannot write {path}: {exc.strerror or exc}.", "error")
            return False
        self.statusBar().showMessage(f"Runs table written to {path}", 6000)
        return True

    def _picture_path(self, title: str, name: str) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        path, chosen = QFileDialog.getSaveFileName(
            self, title, name, "PNG image (*.png);;SVG drawing (*.svg)"
        )
        if path and not path.lower().endswith((".png", ".svg")):
            path += ".svg" if "svg" in chosen.lower() else ".png"
        return path or None

    def save_compare_picture(self, path: str | None = None) -> bool:
        """The compare view as PNG or SVG (by the file's ending)."""
        if not self.compare_view.runs():
            self.banner.show_message(
                "Nothing to compare yet: Run → Compare all strategies… first.", "warning"
            )
            return False
        self.show_page(self.compare_view)  # what is saved is what is seen
        path = path or self._picture_path("Save the compare view", "concviz-compare.png")
        if not path:
            return False
        return self._saved(self.compare_view.save_picture(path), path)

    def save_timeline_picture(self, path: str | None = None) -> bool:
        """The timeline with its CPU panels as PNG or SVG."""
        self.show_page(self.timeline_page)
        path = path or self._picture_path("Save the timeline", "concviz-timeline.png")
        if not path:
            return False
        return self._saved(save_view(self.timeline, path), path)

    def _saved(self, ok: bool, path: str) -> bool:
        if ok:
            self.statusBar().showMessage(f"Picture saved to {path}", 6000)
        else:
            self.banner.show_message(f"Cannot write the picture to {path}.", "error")
        return ok

    def export_any(self, path: str | None = None) -> bool:
        """Ctrl+E: the shown run as a Chrome trace, the runs table as CSV, or the view
        on screen (timeline or compare) as PNG or SVG, by the file's ending."""
        from PySide6.QtWidgets import QFileDialog

        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self,
                "Export",
                "concviz-trace.json",
                "Chrome trace (*.json *.json.gz);;Runs table (*.csv);;Picture (*.png *.svg)",
            )
            if not path:
                return False
        low = path.lower()
        if low.endswith(".csv"):
            return self.export_runs_csv(path)
        if low.endswith((".png", ".svg")):
            if self.pages.currentWidget() is self.compare_view:
                return self.save_compare_picture(path)
            return self.save_timeline_picture(path)
        if not low.endswith((".json", ".gz")):
            path += ".json"
        return self.export_trace(path)

    def export_trace(self, path: str | None = None) -> bool:
        """Write what is on screen as Chrome Trace Event JSON (Perfetto, chrome://tracing)."""
        from PySide6.QtWidgets import QFileDialog

        from concviz.interop.chrome_trace import write_trace

        store = self.timeline.store
        if store is None or store.bar_count == 0:
            self.banner.show_message("Nothing to export yet: run something first.", "warning")
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export a Chrome trace", "concviz-trace.json", "Trace files (*.json)"
            )
            if not path:
                return False
        run = self.shown_run
        try:
            # the shown run with its CPU samples (per-core counter tracks), else the store
            write_trace(run if run is not None and run.store is store else store, path)
        except OSError as exc:
            self.banner.show_message(f"Cannot write {path}: {exc.strerror or exc}.", "error")
            return False
        self.statusBar().showMessage(f"Trace written to {path}", 6000)
        return True

    def open_file(self, path: str | None = None) -> bool:
        """File → Open (Ctrl+O), a drop, ``concviz FILE``: a session or a trace replaces
        this session's runs (after asking to save unsaved ones); a ``.py`` file offers
        its function as a workload."""
        if path is None:
            path = self.files.open_dialog()
            if path is None:
                return False
        if opens_as_session(path):
            return self.files.open_path(path)
        self.open_workload_file(path)
        return True

    def open_session_file(self, path: str) -> bool:
        """``concviz FILE``: open a session or trace file in this window."""
        return self.files.open_path(path)

    def save_picture(self, path: str | None = None) -> bool:
        """Save the window as a PNG (for slides and handouts)."""
        from PySide6.QtWidgets import QFileDialog

        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save a picture", "concviz.png", "PNG images (*.png)"
            )
            if not path:
                return False
        if not self.grab().save(path, "PNG"):
            self.banner.show_message(f"Cannot write the picture to {path}.", "error")
            return False
        self.statusBar().showMessage(f"Picture saved to {path}", 6000)
        return True

    def open_workload_file(self, path: str | None = None, function: str | None = None) -> None:
        """Offer your own ``def work(i)`` as a workload (File → Open a workload file…)."""
        from PySide6.QtWidgets import QFileDialog, QInputDialog

        from .user_workload import NotAWorkloadFile, top_level_functions

        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Open a workload file",
                str(self.settings.value("user_dir", "")),
                "Python files (*.py)",
            )
            if not path:
                return
        try:
            names = top_level_functions(path)
        except NotAWorkloadFile as exc:
            self.banner.show_message(f"Cannot use that file: {exc}.", "warning")
            return
        if function is None:
            if len(names) == 1:
                function = names[0]
            else:
                default = names.index("work") if "work" in names else 0
                function, ok = QInputDialog.getItem(
                    self,
                    "Which function?",
                    "Run this function for each task (it gets the task's index):",
                    names,
                    default,
                    False,
                )
                if not ok:
                    return
        elif function not in names:
            self.banner.show_message(
                f"Cannot use that file: it has no function {function!r}.", "warning"
            )
            return
        self.settings.setValue("user_dir", os.path.dirname(os.path.abspath(path)))
        self.controls.add_user_workload(f"{os.path.abspath(path)}:{function}")
        self.banner.hide()

    # ------------------------------------------------------------------ looks
    def set_theme_choice(self, choice: str) -> None:
        self.theme_choice = choice
        self.settings.setValue("theme", choice)
        self.apply_theme(T.resolve(choice))

    def apply_theme(self, theme: T.Theme, restyle: bool = True) -> None:
        """Give the application, this window, its plots and every open lens ``theme``."""
        self.theme = theme
        app_style.apply(theme)  # menus, dialogs, tooltips and new windows too
        self.timeline.set_theme(theme)
        if hasattr(self, "notes"):
            self.notes.draw()
        self.legend.set_theme(theme)
        self.lenses.set_theme(theme)
        self.runs_panel.set_theme(theme)
        self.compare_view.set_theme(theme)
        if restyle:
            self._apply_stylesheet()

    def _apply_stylesheet(self) -> None:
        # Colours come from the application's stylesheet (ui/app_style.py); this one
        # only scales text and controls for presentation mode, with the theme's colours
        # where a rule must repeat them.
        s = self.scale
        th = self.theme
        pt = T.BASE_POINT_SIZE * s
        self.setStyleSheet(
            f"""
            QWidget {{ font-size: {pt:.1f}pt; }}
            QMainWindow, #central {{ background: {th.background}; }}
            QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{
                width: {16 * s:.0f}px; }}
            QAbstractSpinBox::up-arrow {{
                border-left: {4 * s:.0f}px solid transparent;
                border-right: {4 * s:.0f}px solid transparent;
                border-bottom: {5 * s:.0f}px solid {th.foreground}; }}
            QAbstractSpinBox::down-arrow {{
                border-left: {4 * s:.0f}px solid transparent;
                border-right: {4 * s:.0f}px solid transparent;
                border-top: {5 * s:.0f}px solid {th.foreground}; }}
            QPushButton {{ padding: {4 * s:.0f}px {10 * s:.0f}px; }}
            QCheckBox::indicator {{ width: {13 * s:.0f}px; height: {13 * s:.0f}px; }}
            QSlider::groove:horizontal {{ height: {4 * s:.0f}px; }}
            QSlider::handle:horizontal {{ width: {14 * s:.0f}px; margin: {-6 * s:.0f}px 0;
                border-radius: {(14 * s + 2) / 2:.0f}px; }}
            QPushButton#measureSequential {{ padding: 0px {8 * s:.0f}px; }}
            #runButton {{ font-weight: bold; }}
            #legendHead {{ font-weight: bold; }}
            #runsHeading {{ font-weight: bold; }}
            QTabBar#viewTabs::tab {{ padding: 0px {12 * s:.0f}px; margin: 0px;
                background: {th.button}; color: {th.foreground};
                border: 1px solid {th.grid}; }}
            QTabBar#viewTabs::tab:selected {{ background: {th.highlight};
                color: {th.highlighted_text}; font-weight: bold; }}
            #summaryTitle {{ font-size: {pt * 1.1:.1f}pt; font-weight: bold; }}
            #summaryValue {{ font-size: {pt * 1.9:.1f}pt; font-weight: bold; }}
            #summaryHead, #summaryNote {{ font-size: {pt:.1f}pt; }}
            """
        )
        # a checked button turns bold: leave room for its bold text, or it is clipped
        bold = QFont(self.font())
        bold.setPointSizeF(pt)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        for b in (
            self.controls.batch_button,
            self.controls.continuous_button,
            self.controls.knobs_button,
        ):
            b.setMinimumWidth(metrics.horizontalAdvance(b.text()) + int(28 * s))

    @property
    def scale(self) -> float:
        """Text and line scale: 1, or the presentation scale that fits this screen."""
        if not self.presentation:
            return 1.0
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return T.PRESENTATION_SCALE
        geo = screen.availableGeometry()
        return T.presentation_scale(geo.width(), geo.height())

    # below this height the strategy grids would squeeze the CPU panel and the time axis
    # out of the window (a 720p projector): the strategies go into one combo box instead
    COMPACT_BELOW_HEIGHT = 780

    def _size_runs_panel(self, scale: float) -> None:
        """Room for a run's name in the runs panel: 320 px (times the text's scale) on
        a small screen, more on a wide one (at 1920 px a run's name was cut at 320), at
        most a third of the width."""
        total = sum(self.splitter.sizes()) or self.width()
        wanted = max(int(320 * scale), int(0.24 * total))
        side = max(self.runs_panel.minimumWidth(), min(wanted, total // 3))
        self.splitter.setSizes([max(total - side, 1), side])

    def _update_compact(self) -> None:
        # the back row needs the timeline, not the button grids
        short = self.height() < self.COMPACT_BELOW_HEIGHT
        self.controls.set_compact(self.presentation or short)
        # nor the status line (the lab's path and pid are for the desk): on a 720p
        # projector its row is what the sharing panel's sentence needs under the summary
        self.statusBar().setVisible(not (self.presentation and short))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._update_compact()
        if hasattr(self, "runs_action"):
            self._sync_runs_panel()

    def _fits_screen(self) -> bool:
        screen = self.screen() or QApplication.primaryScreen()
        return screen is None or screen.availableGeometry().contains(self.frameGeometry())

    def set_presentation(self, on: bool) -> None:
        """F11: full screen, text × 1.6 (less on a small screen), thicker bars and lines."""
        self.presentation = on
        scale = self.scale
        f = QFont(self.font())
        f.setPointSizeF(T.BASE_POINT_SIZE * scale)
        self.setFont(f)
        self._apply_stylesheet()
        self.timeline.set_scale(scale)
        if hasattr(self, "notes"):
            self.notes.draw()
        self.legend.set_scale(scale)
        self.runs_panel.set_scale(scale)
        self._size_runs_panel(scale)
        self.compare_view.set_scale(scale)
        self.controls.set_columns(4 if on else 8)
        self._update_compact()
        panel = getattr(self, "lessons_panel", None)
        if panel is not None:
            panel.keep_fitting()  # larger controls beside a docked lessons panel
        if self.presentation_action.isChecked() != on:
            with QSignalBlocker(self.presentation_action):
                self.presentation_action.setChecked(on)
        self.presentationChanged.emit(on)
        if on and not self.isFullScreen():
            self._normal_geometry = self.saveGeometry()
            self.showFullScreen()
        elif not on and self.isFullScreen():
            self.showNormal()
            if getattr(self, "_normal_geometry", None) is not None:
                self.restoreGeometry(self._normal_geometry)

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.value("geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)  # from a bigger screen, perhaps: checked below
        if not (isinstance(geo, QByteArray) and not geo.isEmpty()) or not self._fits_screen():
            from .lenses import fit_to_screen

            fit_to_screen(self, self.screen() or QApplication.primaryScreen(), 1280, 820)
        self.controls.set_workload(str(s.value("workload", "cpu-python")))
        user = str(s.value("user_workload", "") or "")
        if s.value("workload") == "user" and os.path.isfile(user.rpartition(":")[0]):
            self.controls.add_user_workload(user)  # your own file, if it is still there
        self.controls.set_strategy(str(s.value("strategy", "threads")))
        c = self.controls
        # A hand-edited or foreign settings file may hold anything: a value the control
        # cannot show as it is (inf, -3, "many", 1e12) falls back to the default.
        c.set_workers(_whole_setting(s, "workers", 2, c.workers.minimum(), c.workers.maximum()))
        c.tasks.setValue(_whole_setting(s, "tasks", 40, c.tasks.minimum(), c.tasks.maximum()))
        c.task_ms.setValue(
            _whole_setting(s, "task_ms", 50, c.task_ms.minimum(), c.task_ms.maximum())
        )
        self.controls.set_continuous(str(s.value("mode", "batch")) == "continuous")
        from .engine_settings import load_options

        self.controls.engine_options = load_options(s)

    def edit_engine_settings(self) -> None:
        """Ask for remote addresses and the like; they go with every run from now on."""
        from .engine_settings import EngineSettingsDialog, save_options

        dialog = EngineSettingsDialog(self.controls.engine_options, self)
        if dialog.exec():
            self.controls.engine_options = dialog.options()
            save_options(self.settings, self.controls.engine_options)

    def _save_settings(self) -> None:
        s = self.settings
        p = self.controls.params()
        s.setValue("geometry", self.saveGeometry())
        for key in ("workload", "strategy", "workers", "tasks", "task_ms", "mode"):
            s.setValue(key, p[key])
        s.setValue("user_workload", p.get("user", ""))
        s.setValue("theme", self.theme_choice)
        s.sync()

    # ------------------------------------------------------------------ closing
    def shutdown(self) -> None:
        """Stop the timer, the sampler and the lab (with every process it started)."""
        if self._closed:
            return
        self._closed = True
        self.lenses.close_all()
        self.sweep_view.shutdown()
        self.batch.stop()
        self.batch.wait(5000)
        self.timer.stop()
        self._stop_waits()
        self.sampler.stop()
        self.files.shutdown()
        self.client.close()

    @staticmethod
    def _dropped_file(event) -> str | None:
        """The one local file dropped, when it is a workload, a session or a trace."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if len(paths) != 1:
            return None
        path = paths[0]
        return path if path.endswith(".py") or opens_as_session(path) else None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self._dropped_file(event) and not self.running:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        path = self._dropped_file(event)
        if path and not self.running:
            event.acceptProposedAction()
            self.open_file(path)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self._closed and not self.files.maybe_discard():
            event.ignore()  # the user chose Cancel: keep the window and its runs
            return
        if not self._closed:
            self._save_settings()
        self.shutdown()
        super().closeEvent(event)
