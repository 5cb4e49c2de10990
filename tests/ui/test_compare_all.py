"""Compare all, in the real window: one run per chosen strategy (sequential first), stacked
on one time scale beside their figures, exported; Cancel stops it."""

from __future__ import annotations

import csv

from PySide6.QtCore import QPointF, Qt

from concviz.ui.compare_view import run_span_s

from .conftest import configure


def _choose(window, qtbot, names: list[str]):
    """Open Run → Compare all strategies… and tick exactly ``names`` by clicking."""
    window.compare_all_action.trigger()
    dialog = window.compare_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    boxes = dialog.boxes
    assert boxes["sequential"].isChecked() and not boxes["sequential"].isEnabled()
    # engines only when ticked; Python's own available strategies are ticked at first
    assert boxes["threads"].isChecked() and boxes["process-pool"].isChecked()
    for engine in ("dask-local", "spark-local", "mpi", "joblib-loky"):
        if engine in boxes:
            assert not boxes[engine].isChecked()
    for name, box in boxes.items():
        if box.isEnabled() and box.isChecked() != (name in names):
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert dialog.chosen() == ["sequential", *names]
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)


def test_compare_all_runs_each_strategy_on_one_time_scale(window, qtbot, tmp_path):
    configure(window, workload="cpu-python", workers=2, tasks=6, task_ms=60)
    _choose(window, qtbot, ["threads", "process-pool"])
    assert window.batch.is_running() and window.compare_progress.isVisible()
    assert not window.run_action.isEnabled()
    qtbot.waitUntil(lambda: not window.batch.is_running(), timeout=60000)
    qtbot.waitUntil(lambda: not window.compare_progress.isVisible(), timeout=5000)

    runs = window.session.runs
    assert [r.strategy for r in runs] == ["sequential", "threads", "process-pool"]
    assert all(r.finished and r.result["ok"] and len(r.result["tasks"]) == 6 for r in runs)
    # each says what watching it cost the window
    assert all(0 <= r.result["observer_core_fraction"] < 2 for r in runs)
    assert window.runs_panel.model.rowCount() == 3 and window.shown_run is runs[-1]
    assert window.session.baseline_for(runs[2]) is runs[0]

    view = window.compare_view
    assert window.pages.currentWidget() is view
    qtbot.wait(200)  # let the scene lay itself out
    assert [lane.run_id for lane in view.lanes] == [r.id for r in runs]
    starts, widths = [], []
    for lane, run in zip(view.lanes, runs, strict=True):
        vb = lane.plot.vb
        x0 = vb.mapViewToScene(QPointF(0.0, 0.0)).x()
        x1 = vb.mapViewToScene(QPointF(lane.end_line.value(), 0.0)).x()
        starts.append(x0)
        widths.append(x1 - x0)
        # the bars sit inside their run's span, and fill most of it
        d = lane.gantt.data
        span = run_span_s(run)  # the wall, plus a pool's start-up drawn as a phase
        assert (
            run.wall_s
            <= span
            <= run.wall_s + run.result["startup_s"] + run.result.get("teardown_s", 0) + 0.005
        )
        assert d.x_min >= -0.01 and d.x_max <= span * 1.01 + 0.005
        assert d.x_max >= 0.6 * span
        assert f"{run.wall_s:.2f} s" in lane.plot.titleLabel.text
    assert max(starts) - min(starts) <= 1.0  # every t = 0 on one vertical line
    px_per_s = [w / run_span_s(r) for w, r in zip(widths, runs, strict=True)]
    assert max(px_per_s) / min(px_per_s) <= 1.03, (widths, [r.wall_s for r in runs])
    assert widths[0] > 50  # drawn at a size a class can see
    walls = list(view.bars["wall"].opts["height"])
    assert walls == [r.wall_s for r in runs]
    speedups = list(view.bars["speedup"].opts["height"])
    assert speedups[0] == 1.0
    assert abs(speedups[2] - runs[0].wall_s / runs[2].wall_s) < 1e-9

    # out from the window: the runs table and the compare view
    table = tmp_path / "runs.csv"
    assert window.export_runs_csv(str(table))
    rows = list(csv.DictReader(table.open()))
    assert [row["strategy"] for row in rows] == ["sequential", "threads", "process-pool"]
    assert float(rows[2]["speedup"]) == runs[0].wall_s / runs[2].wall_s
    png, svg = tmp_path / "cmp.png", tmp_path / "cmp.svg"
    assert window.save_compare_picture(str(png)) and png.stat().st_size > 10_000
    assert window.save_compare_picture(str(svg))
    text = svg.read_text()
    assert "<svg" in text and runs[1].name.split(" ")[0] in text  # the lanes' titles
    timeline_svg = tmp_path / "timeline.svg"
    assert window.save_timeline_picture(str(timeline_svg)) and "<svg" in timeline_svg.read_text()


def test_cancel_stops_the_comparison(window, qtbot):
    configure(window, workload="cpu-python", workers=2, tasks=8, task_ms=250)
    _choose(window, qtbot, ["threads", "process-pool"])
    qtbot.waitUntil(lambda: len(window.session.runs) == 1, timeout=20000)
    qtbot.waitUntil(lambda: window.session.runs[0].store.bar_count >= 1, timeout=20000)
    qtbot.mouseClick(window.compare_cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.batch.is_running(), timeout=10000)
    qtbot.waitUntil(lambda: not window.compare_progress.isVisible(), timeout=5000)
    runs = window.session.runs
    assert len(runs) == 1 and runs[0].strategy == "sequential"  # the rest never started
    assert runs[0].finished and runs[0].result["stopped"]
    assert runs[0].wall_s < 8 * 0.25  # it stopped well before its 2 s of work
    assert window.run_action.isEnabled() and window.compare_all_action.isEnabled()
    assert "cancelled after" in window.statusBar().currentMessage()
