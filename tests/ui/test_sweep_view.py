"""The Sweep view in the real window: Ctrl+3, a small sweep into the session, its
plots and fits, Cancel, bad input, exports; and the summary's diagnosis badges."""

from __future__ import annotations

import csv

from PySide6.QtCore import Qt

from concviz.ui.main_window import COMPARE_WITH_RUNS_MIN_WIDTH
from concviz.ui.sweep_view import fit_text

from .conftest import configure


def _sweep_view(window, qtbot):
    window.sweep_action.trigger()  # View → Sweep (Ctrl+3)
    view = window.sweep_view
    assert window.pages.currentWidget() is view
    assert not window.summary.isVisible()
    return view


def test_workers_sweep_runs_into_the_session_and_exports(window, qtbot, tmp_path):
    view = _sweep_view(window, qtbot)
    view.kind.setCurrentIndex(view.kind.findData("workers"))
    view.workload.setCurrentIndex(view.workload.findData("cpu-python"))
    view.strategy.setCurrentIndex(view.strategy.findData("threads"))
    view.workers_list.setText("1,2")
    view.tasks.setValue(4)
    view.task_ms.setValue(5)
    view.repeats.setValue(1)
    before = len(window.session.runs)
    assert view.start()
    assert not view.run_button.isEnabled() and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not view.running, timeout=60000)
    runs = window.session.runs[before:]
    assert len(runs) == 2 and all(r.meta["sweep"]["kind"] == "workers" for r in runs)
    assert [r.meta["sweep"]["x"] for r in runs] == [1, 2]
    assert view.sweep is not None and len(view.sweep["points"]) == 2
    assert view.progress.value() == 2 == view.progress.maximum()
    assert "Amdahl fit" in view.fit_label.text()
    # the plots hold the ideal line, Amdahl's curve and the measured points
    names = [item.name() for item in view.left.listDataItems() if item.name()]
    assert any("ideal" in n for n in names) and any("Amdahl" in n for n in names)
    assert any("measured" in n for n in names)
    # drawn again from the session's runs alone (as after opening a saved session)
    shown = view.sweep
    view.sweep = None
    assert view.show_latest() and view.sweep["points"] == shown["points"]
    out = tmp_path / "sweep.csv"
    assert view.export_csv(str(out))
    rows = list(csv.DictReader(out.open()))
    assert [r["workers"] for r in rows] == ["1", "2"] and rows[0]["kind"] == "workers"
    for name in ("sweep.png", "sweep.svg"):
        assert view.export_picture(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "sweep.svg").read_text().lstrip().startswith("<?xml")


def test_cancel_ends_a_sweep_early(window, qtbot):
    view = _sweep_view(window, qtbot)
    view.kind.setCurrentIndex(view.kind.findData("workers"))
    view.strategy.setCurrentIndex(view.strategy.findData("threads"))
    view.workers_list.setText("1,2,3,4")
    view.tasks.setValue(10)
    view.task_ms.setValue(30)
    view.repeats.setValue(3)
    assert view.start()
    qtbot.waitUntil(lambda: view.progress.value() >= 1, timeout=30000)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.running, timeout=20000)
    assert view.progress.value() < view.progress.maximum()
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()


def test_bad_lists_get_a_sentence_not_a_sweep(window, qtbot):
    view = _sweep_view(window, qtbot)
    view.workers_list.setText("1,two")
    assert not view.start()
    assert window.banner.isVisible() and "two" in window.banner.label.text()
    view.workers_list.setText("0,2")
    assert not view.start()
    assert "worker counts must be" in window.banner.label.text().lower()
    view.kind.setCurrentIndex(view.kind.findData("task_size"))
    view.sizes.setText("")
    assert not view.start()
    assert "task sizes" in window.banner.label.text().lower()
    assert not view.running


def test_task_size_fit_text_names_break_even():
    sweep = {
        "kind": "task_size",
        "points": [{"strategy": "process-pool"}],
        "break_even_task_ms": {"process-pool": 2.5, "thread-pool": None},
    }
    text = fit_text(sweep)
    assert "process-pool pays from 2.5 ms" in text
    assert "thread-pool never beats sequential" in text


def test_badges_explain_a_gil_bound_run(window, qtbot):
    configure(window, workload="cpu-python", strategy="threads", workers=2, tasks=4, task_ms=30)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    result = window.shown_run.result
    badges = window.badges
    codes = [d["code"] for d in result["diagnoses"]]
    assert [b.property("code") for b in badges.buttons] == codes
    assert badges.isVisible() == bool(codes)
    # whatever fired, a click explains it with this run's own numbers
    fake = {
        "code": "gil",
        "title": "Threads serialised by the GIL",
        "evidence": {"parallelism": 1.02, "gil_wait_share": 0.48},
        "advice": "use processes",
    }
    badges.show_result({"diagnoses": [fake]})
    assert badges.isVisible() and len(badges.buttons) == 1
    qtbot.mouseClick(badges.buttons[0], Qt.MouseButton.LeftButton)
    box = badges.last_box
    assert box is not None and box.isVisible()
    text = box.informativeText()
    assert "1.02" in text and "48%" in text and "use processes" in text
    assert "GIL" in text
    box.close()
    badges.show_result(None)
    assert not badges.isVisible()


def test_closing_the_window_ends_a_sweep(window, qtbot):
    view = _sweep_view(window, qtbot)
    view.kind.setCurrentIndex(view.kind.findData("workers"))
    view.strategy.setCurrentIndex(view.strategy.findData("threads"))
    view.workers_list.setText("1,2")
    view.tasks.setValue(20)
    view.task_ms.setValue(50)
    assert view.start()
    worker = view.worker
    qtbot.waitUntil(lambda: worker.driver._running is not None, timeout=30000)
    window.shutdown()
    assert not worker.thread.is_alive()
    assert worker.driver.cancel.is_set()


def test_the_sweep_page_beside_the_lessons_takes_the_runs_panels_room(window, qtbot):
    """At 1920×1080 in presentation mode the runs panel beside the Sweep page and the
    lessons cut the page's buttons to "un swee" and "Weak sca"."""
    window.resize(1900, 1000)  # wide enough for the runs panel beside the timeline
    window.runs_action.setChecked(True)
    window.show_page(window.timeline_page)
    window.lessons_panel.open()
    qtbot.waitUntil(window.lessons_panel.isVisible, timeout=5000)
    _sweep_view(window, qtbot)
    assert window.pages.currentWidget() is window.sweep_view
    assert not window.runs_panel.isVisible()
    window.lessons_panel.close()
    qtbot.waitUntil(lambda: not window.lessons_panel.isVisible(), timeout=5000)
    assert window.width() >= COMPARE_WITH_RUNS_MIN_WIDTH
    window.show_page(window.timeline_page)
    assert window.runs_panel.isVisible()  # the timeline beside it keeps it


def test_before_a_sweep_the_plots_show_the_worker_counts_and_sizes_to_come(window, qtbot):
    view = _sweep_view(window, qtbot)
    view.kind.setCurrentIndex(view.kind.findData("workers"))
    view.workers_list.setText("1,2,3,4")
    view.workers_list.editingFinished.emit()  # as leaving the field does
    ticks = view.left.getAxis("bottom")._tickLevels
    # whole workers, the ones the fields name (an empty plot read 0.2, 0.4 … workers)
    assert [v for v, _label in ticks[0]] == [1, 2, 3, 4], ticks
    view.kind.setCurrentIndex(view.kind.findData("task_size"))
    view.sizes.setText("0.05,1,20")
    view.sizes.editingFinished.emit()
    labels = [label for _v, label in view.right.getAxis("bottom")._tickLevels[0]]
    assert labels == ["0.05", "1", "20"], labels
