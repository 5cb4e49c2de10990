"""The main window: controls, legend, live timeline with CPU, summary, banner, status.

The window never runs a workload: it sends control messages to the lab through a
``LabClient`` and draws what the store holds, on a timer of at most 60 Hz that only
redraws when the store or the CPU samples changed (or a task is growing).

Threads: every method runs on the GUI thread. The lab reader and the CPU sampler
have threads of their own and reach the window only through queued signals and the
stores they fill.
"""

from __future__ import annotations

import math
import os
import time

from PySide6.QtCore import QByteArray, QSettings, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QFont, QFontMetrics, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QVBoxLayout, QWidget

from concviz.lab import protocol as P
from concviz.model import metrics
from concviz.model.run_result import run_object
from concviz.model.wait_states import bound_samples
from concviz.runtime.cpu_sampler import CpuSampler
from concviz.runtime.headless import BadInput
from concviz.runtime.lab_client import LabClient
from concviz.runtime.lab_process import LabError
from concviz.runtime.wait_sampler import WaitSampler

from . import app_style, sync_panel
from . import theme as T
from .banner import Banner
from .control_bar import ControlBar
from .legend import LegendBar
from .lenses import Lenses
from .summary import SummaryPanel
from .timeline import TimelineView
from .user_workload import OutputDock

FRAME_MS = 16  # at most ~60 redraws per second


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


class MainWindow(QMainWindow):
    """concviz's window; ``start_lab()`` is called by ``__init__`` unless told not to."""

    def __init__(
        self,
        interpreter: str | None = None,
        settings: QSettings | None = None,
        start_lab: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("concviz — see concurrency")
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

        self.sampler = CpuSampler(hz=15.0)
        self.client = LabClient(
            interpreter, self, lab_nice=int(os.environ.get("CONCVIZ_LAB_NICE", "5"))
        )

        self.controls = ControlBar()
        self.legend = LegendBar(self.theme)
        self.banner = Banner()
        self.timeline = TimelineView(self.sampler.series, self.theme)
        self.summary = SummaryPanel()
        central = QWidget()
        central.setObjectName("central")
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.banner)
        lay.addWidget(self.controls)
        lay.addWidget(self.legend)
        lay.addWidget(self.timeline, 1)
        lay.addWidget(self.summary)
        self.setCentralWidget(central)
        self.setAcceptDrops(True)  # a .py file dropped on the window is opened as a workload

        self.lab_label = QLabel("Lab: starting…")
        self.statusBar().addPermanentWidget(self.lab_label)

        self.output = OutputDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.output)
        self.output.hide()
        self._build_menus()
        self.lenses = Lenses(self, self.theme)  # the GIL lenses and demos (ui/lenses.py)
        self.sync_panel = sync_panel.install(self)  # waits, deadlocks, task graphs
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
        self.banner.actionClicked.connect(self.restart_lab)
        c = self.client
        c.labStarted.connect(self._lab_started)
        c.strategiesReceived.connect(self.controls.set_strategies)
        c.workloadsReceived.connect(self._workloads_received)
        c.runStarted.connect(self._run_started_cb)
        c.runFinished.connect(self._run_finished)
        c.requestRejected.connect(self._request_rejected)
        c.noticeArrived.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        c.labFailed.connect(self._lab_failed)
        c.labRestarted.connect(lambda text: self.banner.show_message(text, "warning"))

        self.apply_theme(self.theme)
        self.set_presentation(False)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.sampler.start()
        if start_lab:
            self.start_lab()

    # ------------------------------------------------------------------ menus
    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        open_action = QAction("&Open a workload file…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        # triggered passes `checked`: it must never arrive as the path
        open_action.triggered.connect(lambda _checked=False: self.open_workload_file())
        self.open_action = open_action
        file_menu.addAction(open_action)
        file_menu.addSeparator()
        export_trace = QAction("Export the run as a &Chrome trace…", self)
        export_trace.triggered.connect(lambda: self.export_trace())
        file_menu.addAction(export_trace)
        save_picture = QAction("Save a &picture of the window…", self)
        save_picture.setShortcut(QKeySequence("Ctrl+Shift+S"))
        save_picture.triggered.connect(lambda: self.save_picture())
        file_menu.addAction(save_picture)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        run_menu = mb.addMenu("&Run")
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
        for a in (self.run_action, self.stop_action, self.restart_action):
            run_menu.addAction(a)

        view = mb.addMenu("&View")
        self.fit_action = QAction("&Zoom to fit", self)
        self.fit_action.setShortcuts([QKeySequence("Ctrl+0"), QKeySequence(Qt.Key.Key_Home)])
        self.fit_action.triggered.connect(self.timeline.zoom_to_fit)
        self.presentation_action = QAction("&Presentation mode", self)
        self.presentation_action.setCheckable(True)
        self.presentation_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.presentation_action.toggled.connect(self.set_presentation)
        view.addAction(self.fit_action)
        view.addAction(self.presentation_action)
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
        for a in (self.run_action, self.stop_action, self.fit_action, self.presentation_action):
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

    def _workloads_received(self, items: dict) -> None:
        self.controls.set_workloads(items)
        if self.controls.params()["workload"] != "user":  # keep a chosen file of yours
            self.controls.set_workload(str(self.settings.value("workload", "cpu-python")))

    def _lab_failed(self, message: str) -> None:
        self._set_running(False)
        self.sampler.set_lab_pid(None)
        self.lab_label.setText("Lab: stopped")
        kept = self.timeline.store.bar_count if self.timeline.store is not None else 0
        self.banner.show_message(
            f"The lab stopped: {message}. The {kept} bars recorded before stay on screen.",
            "error",
            "Restart the lab",
        )
        if self.summary.last is None or self._run_params is not None:
            self.summary.clear("Run interrupted: the lab stopped. What it recorded stays above.")

    def _request_rejected(self, message: str) -> None:
        if self.running and not self._run_started:
            self._set_running(False)  # the start itself was refused
        self.banner.show_message(f"The lab refused: {message}", "warning")

    # ------------------------------------------------------------------ runs
    def run(self, extra: dict | None = None) -> None:
        """Start a run with the control bar's choices (``extra`` adds lab start keys)."""
        if self.running:
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
        self.timeline.set_store(store, time.perf_counter_ns())
        self._set_running(True)
        self.summary.clear(
            f"Running {params['workload']} with {params['strategy']} × {params['workers']}…"
        )
        self.statusBar().showMessage("Running…")

    def measure_sequential(self) -> None:
        """Run the shown run's experiment sequentially: its speedup baseline, one click away."""
        previous, params = self.summary.last, self._run_params
        if self.running or previous is None or params is None:
            return
        self._measure_for = previous
        self.run({**params, "strategy": "sequential", "workers": 1})

    def stop(self) -> None:
        if self.running:
            self.client.stop_run()
            self.statusBar().showMessage("Stopping…", 3000)

    def _run_started_cb(self, obj: dict) -> None:
        self._run_started = True
        self.timeline.set_origin(int(obj["t_ns"]))

    def _watch_waits(self, store) -> None:
        """Sample what every lab thread does for this run (the wait split, the GIL)."""
        from concviz.model.wait_states import WaitSamples

        self._stop_waits()
        store.waits = WaitSamples()
        if self.client.pid is not None:
            self._waits = WaitSampler(self.client.pid, samples=store.waits)
            self._waits.start()

    def _stop_waits(self) -> None:
        waits, self._waits = getattr(self, "_waits", None), None
        if waits is not None:
            waits.stop()

    def _run_finished(self, obj: dict) -> None:
        self._stop_waits()
        self._set_running(False)
        store = self.timeline.store
        self.timeline.refresh()
        self.timeline.zoom_to_fit()
        if store is None or not store.runs:
            return
        info = store.runs[-1]
        if info.finished:
            store.machine_busy_cores = self.sampler.series.others_between(
                int(info.started["t_ns"]), int(info.finished["t_ns"])
            )
        run = run_object(store)
        params = self._run_params or {}
        tasks = params.get("tasks") if params.get("mode", "batch") == "batch" else None
        self.summary.show_run(run, tasks)
        measured_for, self._measure_for = self._measure_for, None
        if measured_for is not None and run["strategy"] == "sequential":
            self.summary.note_comparison(measured_for)
        busy = metrics.busy_machine_warning(run.get("machine_busy_cores"))
        if obj.get("error") and not obj.get("stopped"):  # a stopped pool reports "broke"
            self.banner.show_message(f"The run failed: {obj['error']}", "error")
        elif busy:
            self.banner.show_message(busy, "warning")
        self.statusBar().showMessage(
            f"Run {'stopped' if obj.get('stopped') else 'finished'}: "
            f"{len(run['tasks'])} tasks in {run['wall_s']:.2f} s",
            8000,
        )

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.timeline.running = running
        self.controls.set_running(running)
        self.run_action.setEnabled(not running)
        self.stop_action.setEnabled(running)

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
        self.timeline.refresh()
        store = self.timeline.store
        now = time.monotonic()
        if store is not None and store.waits is not None and now >= self._next_bound:
            # a class-long continuous run: old samples go, old bars keep their split
            self._next_bound = now + 2.0
            bound_samples(store)
        data = self.timeline.gantt.data
        sampled = data is not None and data.waits is not None
        if self.legend.waits != sampled:  # the legend names the colours the bars use
            self.legend.set_waits(sampled)
        if self.output.follow(self.timeline.store) and not self.output.isVisible():
            self.output.show()  # the workload printed: show it where it can be read
            self.statusBar().showMessage("The workload printed: see Program output.", 5000)

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
        try:
            write_trace(store, path)
        except OSError as exc:
            self.banner.show_message(f"Cannot write {path}: {exc.strerror or exc}.", "error")
            return False
        self.statusBar().showMessage(f"Trace written to {path}", 6000)
        return True

    def open_session_file(self, path: str) -> bool:
        """Show a session file's (or a trace's) last run in the timeline (``concviz FILE``).

        A first, small hook: the runs panel will list every run of the session.
        """
        from concviz.interop import BadSessionFile, open_any

        try:
            session = open_any(path)
        except BadSessionFile as exc:
            self.banner.show_message(f"Cannot open {path}: {exc}", "error")
            return False
        self.opened_session = session
        if not session.runs:
            self.banner.show_message(f"{path} holds no runs.", "warning")
            return False
        run = session.runs[-1]
        store = run.store
        t0 = store.runs[-1].started["t_ns"] if store.runs else (store.t_min or 0)
        self.timeline.set_store(store, int(t0))
        self.timeline.refresh()
        self.timeline.zoom_to_fit()
        if run.result is not None and run.result.get("tasks") is not None:
            self.summary.show_run(run.result, run.result.get("tasks_asked"))
        self.sync_panel.show_store(store, int(t0))
        self.statusBar().showMessage(
            f"Opened {path}: {len(session.runs)} run(s); showing {run.name}", 8000
        )
        return True

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

    def apply_theme(self, theme: T.Theme) -> None:
        """Give the application, this window, its plots and every open lens ``theme``."""
        self.theme = theme
        app_style.apply(theme)  # menus, dialogs, tooltips and new windows too
        self.timeline.set_theme(theme)
        self.legend.set_theme(theme)
        self.lenses.set_theme(theme)
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
            #runButton {{ font-weight: bold; }}
            #legendHead {{ font-weight: bold; }}
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
        for b in (self.controls.batch_button, self.controls.continuous_button):
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

    def _update_compact(self) -> None:
        # the back row needs the timeline, not the button grids
        self.controls.set_compact(self.presentation or self.height() < self.COMPACT_BELOW_HEIGHT)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._update_compact()

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
        self.legend.set_scale(scale)
        self.controls.set_columns(4 if on else 8)
        self._update_compact()
        if self.presentation_action.isChecked() != on:
            with QSignalBlocker(self.presentation_action):
                self.presentation_action.setChecked(on)
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
        self.timer.stop()
        self._stop_waits()
        self.sampler.stop()
        self.client.close()

    @staticmethod
    def _dropped_python_file(event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        return paths[0] if len(paths) == 1 and paths[0].endswith(".py") else None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self._dropped_python_file(event) and not self.running:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        path = self._dropped_python_file(event)
        if path and not self.running:
            event.acceptProposedAction()
            self.open_workload_file(path)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if not self._closed:
            self._save_settings()
        self.shutdown()
        super().closeEvent(event)
