"""The run summary: wall, CPU-seconds, parallelism, speedup and efficiency, large.

Speedup compares with the run's baseline as the window's ``Session`` decides it (the
latest sequential run of the same experiment, or the run the user marked; the same
number the runs panel shows). The baseline is named, so the number is never a mystery.
Without one, "Measure sequential" runs it. The panel listens to the session: a new
baseline, a renamed or removed one, redraws the run it shows.

Threads: GUI thread only.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QWidget

from concviz.model import metrics
from concviz.model.session import Run, Session


class SummaryPanel(QFrame):
    """A row of figure tiles, filled when a run finishes."""

    measureSequentialClicked = Signal()  # run the sequential baseline of the shown run
    resultShown = Signal(object)  # the run object shown, or None (the diagnosis badges)

    FIELDS = (
        ("wall", "Wall time"),
        ("cpu", "CPU time"),
        ("parallelism", "Parallelism"),
        ("speedup", "Speedup"),
        ("efficiency", "Efficiency"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summary")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        self.notes: dict[str, QLabel] = {}
        self.title = QLabel("No run yet: choose a strategy and press Run.")
        self.title.setObjectName("summaryTitle")
        self.title.setWordWrap(True)  # a long live-switch path must not widen the window
        self.title.setOpenExternalLinks(True)  # a running Dask cluster's dashboard
        self._live_link = ""
        grid.addWidget(self.title, 0, 0, 1, len(self.FIELDS))
        for col, (key, name) in enumerate(self.FIELDS):
            head = QLabel(name)
            head.setObjectName("summaryHead")
            value = QLabel("—")
            value.setObjectName("summaryValue")
            note = QLabel("")
            note.setObjectName("summaryNote")
            # a long note (a lesson's baseline is named at length) wraps: beside the
            # lessons dock on a 720p projector one line of each widened the window
            note.setWordWrap(True)
            for w in (head, value, note):
                w.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(head, 1, col)
            grid.addWidget(value, 2, col)
            grid.addWidget(note, 3, col)
            self.values[key] = value
            self.notes[key] = note
        self.measure_button = QPushButton("Measure sequential")
        # no taller than the note it stands in for (at 720p the row counts)
        self.measure_button.setObjectName("measureSequential")
        self.measure_button.setToolTip(
            "Run the same experiment with one worker, so speedup and efficiency have a baseline"
        )
        self.measure_button.clicked.connect(self.measureSequentialClicked)
        self.measure_button.hide()
        # in the speedup tile's note line, which it replaces while it is shown
        grid.addWidget(self.measure_button, 3, 3, 1, 1, Qt.AlignmentFlag.AlignLeft)
        self.session: Session | None = None
        self._unlisten = None
        self.run: Run | None = None  # the session's run shown, if any
        self.last: dict | None = None  # the result shown

    def bind(self, session: Session) -> None:
        """Take speedup baselines from ``session`` and follow its changes."""
        if self._unlisten is not None:
            self._unlisten()
        self.session = session
        self._unlisten = session.listen(self._session_changed)

    def _session_changed(self, event: str, run: Run | None) -> None:
        shown = self.run
        if shown is None:
            return
        if event == "updated":
            if run is shown and shown.result is None and not self._live_link:
                self._show_live_dashboard(shown)
            return
        if event == "cleared" or (event == "removed" and run is shown):
            self.run = None
            self.clear("No run shown: choose one in the Runs panel, or press Run.")
        elif shown.finished and event in ("finished", "changed", "removed"):
            self.show(shown)  # its baseline may have changed

    def show(self, run: Run | None) -> None:
        """Show a run of the session: its figures once finished, else that it is running."""
        self.run = run
        if run is None:
            self.clear("No run yet: choose a strategy and press Run.")
            return
        if run.result is None:
            if run.spec is not None:
                s = run.spec
                self.clear(f"Running {s.workload} with {s.strategy} × {s.workers}…")
                self._show_live_dashboard(run)
            else:
                self.clear(f"{run.name}: no result")
            return
        if run.source == "trace":  # another tool's trace: what it holds, no lab figures
            res = run.result
            tool = run.meta.get("tool") or "another tool"
            self.clear(
                f"{run.name}: a trace from {tool} · {res.get('slices', 0)} slices "
                f"on {res.get('workers', 0)} rows"
            )
            self.values["wall"].setText(f"{float(res.get('wall_s') or 0.0):.2f} s")
            self.notes["wall"].setText("first to last event")
            self.notes["cpu"].setText("not in the trace: bars show time in a function")
            return
        batch = run.spec is None or run.spec.mode == "batch"
        tasks = run.spec.tasks if run.spec is not None and batch else None
        self.show_run(run.result, tasks, run)

    def _show_live_dashboard(self, run: Run) -> None:
        """While a run's engine serves a dashboard (Dask's), its link, clickable."""
        infos = run.store.runs
        dashboard = (infos[-1].engine.get("dashboard") if infos else None) or ""
        if not dashboard.startswith(("http://", "https://")):
            return
        self._live_link = dashboard
        text = html.escape(self.title.text())
        link = html.escape(dashboard, quote=True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setText(
            f'{text} · Dask dashboard (while the run lasts): <a href="{link}">{link}</a>'
        )

    def clear(self, text: str) -> None:
        self._live_link = ""
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.resultShown.emit(None)
        self.title.setText(text)
        self.measure_button.hide()
        for key in self.values:
            self.values[key].setText("—")
            self.notes[key].setText("")

    def show_run(self, run: dict, tasks: int | None, shown: Run | None = None) -> None:
        """Fill the tiles from ``run_object`` output (``shown``: the session's run of it)."""
        self._live_link = ""
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.last = run
        self.resultShown.emit(run)
        if shown is None:
            self.run = None
        wall, cpu = run["wall_s"], run["cpu_s"]
        n_done = len(run["tasks"])
        mode = "stopped" if run.get("stopped") else ("failed" if not run.get("ok") else "finished")
        switches = [m for m in run.get("markers", []) if m.get("kind") == "switch"]
        if switches:  # a live run that changed strategy: say the whole path
            first = switches[0]["from"]
            steps = [f"{first['strategy']} × {first['workers']}"] + [
                f"{m['to']['strategy']} × {m['to']['workers']}" for m in switches
            ]
            how = " → ".join(steps)
        elif run["strategy"] == "sequential":
            how = "sequential · 1 worker"  # whatever the slider said, one thread ran it
        else:
            how = f"{run['strategy']} · {metrics.workers_text(run['workers'])}"
        what = run["workload"]
        if what == "user" and run.get("user"):
            from .user_workload import workload_label

            what = workload_label(run["user"])
        knobs = ""
        if run.get("serial_fraction"):
            knobs += f" · serial part {run['serial_fraction']:.0%}"
        if run["workload"] == "mixed" and run.get("cpu_fraction") is not None:
            knobs += f" · CPU share {run['cpu_fraction']:.0%}"
        if run.get("jitter"):
            knobs += f" · jitter {run['jitter']:.0%}"
        self.title.setText(
            f"{what} · {how} · {n_done} tasks of {metrics.task_size_text(run)}{knobs} · {mode}"
        )
        self.values["wall"].setText(f"{wall:.2f} s")
        engine_time = run.get("startup_s", 0.0) + run.get("teardown_s", 0.0)
        if run.get("phases"):
            # an engine's or a pool's start-up and teardown are real costs, not task time
            self.notes["wall"].setText(
                f"start-up, teardown apart ({metrics.phase_text(engine_time)})"
            )
            extra = f"start-up {metrics.phase_text(run.get('startup_s', 0.0))}"
            dashboard = (run.get("engine") or {}).get("dashboard")
            # a LocalCluster's dashboard ended with the run: no dead link; a remote
            # cluster (the user's own) is still up, and so is its dashboard
            if dashboard and run["strategy"] != "dask-local":
                extra += f" · dashboard {dashboard}"
            self.title.setText(f"{self.title.text()} · {extra}")
        else:
            self.notes["wall"].setText("start to finish")
        self.values["cpu"].setText(f"{cpu:.2f} s")
        native = run.get("native_cpu_s") or 0.0
        self.notes["cpu"].setText(
            f"+ {native:.2f} s in native threads" if native else "summed over workers"
        )
        tips = []
        if native:
            tips.append(
                f"native threads (a library's own, such as BLAS) used {native:.2f} s of CPU "
                "outside the tasks' threads; parallelism counts it"
            )
        recording = run.get("recording_overhead_estimate")
        if recording is not None:
            tips.append(
                f"recording every task cost about {recording * 100:.1f} % of this CPU time "
                "(3 events per task at the cost the lab measured per event)"
            )
            if recording >= 0.01 and not native:  # big enough to change a figure
                self.notes["cpu"].setText(f"≈ {recording * 100:.0f} % of it recording")
        self.notes["cpu"].setToolTip("\n".join(tips))
        par = run["parallelism"]
        self.values["parallelism"].setText(f"{par:.2f}×")
        self.notes["parallelism"].setText("cores busy on average")
        watching = run.get("observer_core_fraction")
        self.notes["parallelism"].setToolTip(
            f"watching this run cost this window {watching:.2f} of a core"
            if watching is not None
            else ""
        )
        if watching is not None and watching >= 0.1:  # enough to take from the workers
            self.notes["parallelism"].setText(f"watching cost {watching:.2f} core")
        base_run = (
            self.session.baseline_for(shown)
            if self.session is not None and shown is not None
            else None
        )
        base = base_run.wall_s if base_run is not None else None
        complete = run.get("ok") and not run.get("stopped") and tasks is not None
        offer = bool(complete and base is None)
        self.measure_button.setVisible(offer)
        if base is None:
            self.values["speedup"].setText("—")
            self.notes["speedup"].setText("" if offer else "needs a finished batch")
            self.values["speedup"].setToolTip(
                "no sequential run of this experiment yet" if offer else ""
            )
            self.values["efficiency"].setText("—")
            self.notes["efficiency"].setText("speedup ÷ workers")
            return
        s, eff = self.session.speedup(shown)
        self.values["speedup"].setText(f"{s:.2f}×")
        self.values["speedup"].setToolTip(f"measured against {base_run.name}")
        if base_run is shown:
            self.notes["speedup"].setText("the baseline itself")
        elif base_run.strategy == "sequential":
            self.notes["speedup"].setText(f"vs sequential {base:.2f} s")
        else:
            self.notes["speedup"].setText(f"vs {base_run.name} {base:.2f} s")
        if eff is None:  # one worker: speedup per worker says nothing more
            self.values["efficiency"].setText("—")
            self.notes["efficiency"].setText("one worker: none")
            return
        workers = int(run["workers"])
        self.values["efficiency"].setText(f"{eff * 100:.0f} %")
        self.notes["efficiency"].setText(
            f"speedup ÷ {workers} worker" + ("" if workers == 1 else "s")
        )

    def note_comparison(self, previous: Run) -> None:
        """After "Measure sequential": say how ``previous`` did against the run just shown."""
        if self.session is None:
            return
        s, _eff = self.session.speedup(previous)
        if s is None:
            return
        res = previous.result or {}
        self.notes["speedup"].setText(
            f"{res.get('strategy', previous.strategy)} × {res.get('workers')} was {s:.2f}× this"
        )

    def text(self, key: str) -> str:
        return self.values[key].text()
