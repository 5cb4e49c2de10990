"""The run summary: wall, CPU-seconds, parallelism, speedup and efficiency, large.

Speedup compares with the last *sequential* run of the same experiment in this window
(``model.baselines``: same workload, sizes, knobs and interpreter; the baseline is
named, so the number is never a mystery). Without one, "Measure sequential" runs it.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QWidget

from concviz.model import Baselines, metrics


class SummaryPanel(QFrame):
    """A row of figure tiles, filled when a run finishes."""

    measureSequentialClicked = Signal()  # run the sequential baseline of the shown run

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
        grid.addWidget(self.title, 0, 0, 1, len(self.FIELDS))
        for col, (key, name) in enumerate(self.FIELDS):
            head = QLabel(name)
            head.setObjectName("summaryHead")
            value = QLabel("—")
            value.setObjectName("summaryValue")
            note = QLabel("")
            note.setObjectName("summaryNote")
            for w in (head, value, note):
                w.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(head, 1, col)
            grid.addWidget(value, 2, col)
            grid.addWidget(note, 3, col)
            self.values[key] = value
            self.notes[key] = note
        self.measure_button = QPushButton("Measure sequential")
        self.measure_button.setToolTip(
            "Run the same experiment with one worker, so speedup and efficiency have a baseline"
        )
        self.measure_button.clicked.connect(self.measureSequentialClicked)
        self.measure_button.hide()
        # in the speedup tile's note line, which it replaces while it is shown
        grid.addWidget(self.measure_button, 3, 3, 1, 1, Qt.AlignmentFlag.AlignLeft)
        self.baselines = Baselines()
        self.last: dict | None = None

    def clear(self, text: str) -> None:
        self.title.setText(text)
        self.measure_button.hide()
        for key in self.values:
            self.values[key].setText("—")
            self.notes[key].setText("")

    def show_run(self, run: dict, tasks: int | None) -> None:
        """Fill the tiles from ``run_object`` output; remember sequential baselines."""
        self.last = run
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
            how = f"{run['strategy']} · {run['workers']} workers"
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
            # an engine's start-up and teardown are real costs, but not task time
            self.notes["wall"].setText(f"without {engine_time:.2f} s engine start/stop")
            extra = f"start-up {run.get('startup_s', 0.0):.2f} s"
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
        self.notes["cpu"].setToolTip(
            f"native threads (a library's own, such as BLAS) used {native:.2f} s of CPU "
            "outside the tasks' threads; parallelism counts it"
            if native
            else ""
        )
        par = run["parallelism"]
        self.values["parallelism"].setText(f"{par:.2f}×")
        self.notes["parallelism"].setText("cores busy on average")
        self.baselines.add(run)
        base = self.baselines.for_run(run)
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
        workers = 1 if run["strategy"] == "sequential" else int(run["workers"])
        s = metrics.speedup(base, wall)
        eff = metrics.efficiency(s, workers)
        self.values["speedup"].setText(f"{s:.2f}×")
        self.notes["speedup"].setText(f"vs sequential {base:.2f} s")
        self.values["efficiency"].setText(f"{eff * 100:.0f} %")
        self.notes["efficiency"].setText(
            f"speedup ÷ {workers} worker" + ("" if workers == 1 else "s")
        )

    def note_comparison(self, previous: dict) -> None:
        """After "Measure sequential": say how ``previous`` did against the run just shown."""
        base = self.baselines.for_run(previous)
        if base is None or not previous.get("wall_s"):
            return
        s = metrics.speedup(base, previous["wall_s"])
        self.notes["speedup"].setText(
            f"{previous['strategy']} × {previous['workers']} was {s:.2f}× this"
        )

    def text(self, key: str) -> str:
        return self.values[key].text()
