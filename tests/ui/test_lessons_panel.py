"""Help → Lessons: the real menu action opens the dock; Run this runs the step's runs."""

from __future__ import annotations

from PySide6.QtCore import Qt


def _help_action(window, text: str):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in help_menu.actions() if a.text() == text)


def _gil_step_ran(gil, process_pool: dict) -> dict:
    """The GIL lesson's first step as if its runs had ended with these results (the
    process pool's given), interpreter-pool missing on this Python."""
    return {
        "lesson": gil,
        "k": 1,
        "step": gil.steps[0],
        "labels": [],
        "runs": {
            "sequential": {"ok": True, "wall_s": 0.8},
            "threads": {"ok": True, "wall_s": 0.78, "parallelism": 0.99},
            "process-pool": {"ok": True, **process_pool},
        },
        "missing": {"interpreter-pool": "interpreter-pool is not available here: 3.11"},
    }


def test_help_lessons_opens_the_panel_and_run_this_runs_the_step(window, qtbot):
    panel = window.lessons_panel
    assert not panel.isVisible() and not panel.loaded  # read when first opened
    _help_action(window, "&Lessons").trigger()
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert panel.chooser.count() >= 10
    panel.choose("race-conditions")
    assert "lose updates" in panel.summary.text()
    assert "counter += 1" in panel.text.toPlainText()
    assert panel.run_button.isEnabled()
    before = len(window.session.runs)
    panel.run_button.click()
    # the control bar shows the step's experiment
    c = window.controls
    assert c.workload.currentText() == "shared-counter" and c.strategy() == "threads"
    assert c.workers.value() == 2 and c.tasks.value() == 4
    qtbot.waitUntil(lambda: panel.claims_text != "", timeout=60000)
    added = window.session.runs[before:]
    assert [r.spec.options.get("sync") for r in added] == ["none", "lock"]
    assert [r.name for r in added] == ["unsafe · race-conditions 1", "locked · race-conditions 1"]
    shown = panel.result.toPlainText()
    assert shown.startswith("Without a lock") and "{" not in shown
    assert not panel.result.isHidden()
    assert [c["held"] for c in panel.last_claims] == [True, True], panel.last_claims
    assert shown.count("✓") == 2 and "locked.lost_updates = 0 == 0" in shown
    assert panel.run_button.isEnabled()
    # the timeline tab, pressed after the step's comparison, draws its first run
    assert window.pages.currentWidget() is window.compare_view
    assert window.shown_run is added[0]
    tabs = window.view_tabs
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(0).center())
    assert window.pages.currentWidget() is window.timeline_page
    assert window.timeline.store is added[0].store and added[0].store.bar_count == 4
    assert "No run yet" not in window.summary.title.text(), window.summary.title.text()

    # stepping: the gil lesson's three steps
    panel.choose("gil")
    assert panel.step_label.text() == "step 1 of 3" and not panel.prev_button.isEnabled()
    panel.next_button.click()
    assert panel.step_label.text() == "step 2 of 3" and panel.next_button.isEnabled()
    assert "Native code" in panel.text.toPlainText() and panel.result.toPlainText() == ""
    assert panel.result.isHidden()  # nothing to read yet: the step's text has the room
    panel.next_button.click()
    assert panel.step_label.text() == "step 3 of 3" and not panel.next_button.isEnabled()
    panel.prev_button.click()

    # a step read against machine_parallelism waits for it off the GUI thread, then
    # shows each claim: held, not shown (with the busy machine), or not judged
    gil = panel.lesson()
    panel.parallelism = lambda: 1.9
    panel._pending = _gil_step_ran(gil, {"wall_s": 0.7, "machine_busy_cores": 1.5})
    window.batch.allFinished.emit()
    assert panel.claims_text == ""  # measuring: the GUI thread did not wait
    qtbot.waitUntil(lambda: panel.claims_text != "", timeout=5000)
    lines = panel.claims_text.splitlines()
    assert lines[:2] == ["✓ threads.parallelism = 0.99 < 1.3", "✓ speedup(threads) = 1.03 < 1.3"]
    assert lines[2].startswith("✗ not shown this time: speedup(process-pool) = 1.14")
    assert lines[3].startswith("— not judged: speedup(interpreter-pool)")
    assert "1.90 cores right now" in panel.look_text
    assert "did not show all of it now" in panel.claims_text and panel.recording_button.isVisible()

    # every judged claim held, one could not be judged here (a strategy this Python
    # lacks): the recording is offered for what could not run, not as a failure
    panel.show_step(0)
    panel._pending = _gil_step_ran(gil, {"wall_s": 0.42})
    window.batch.allFinished.emit()
    qtbot.waitUntil(lambda: panel.claims_text != "", timeout=5000)
    assert "✗" not in panel.claims_text and "— not judged" in panel.claims_text
    assert "did not show all of it" not in panel.claims_text
    assert "Not every part can run here" in panel.claims_text
    assert panel.recording_button.isVisible()


def test_the_first_start_opens_the_first_lesson_once_and_page_down_turns_its_steps(
    window, qtbot, tmp_path
):
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from concviz.ui.main_window import MainWindow

    panel = window.lessons_panel
    assert panel.welcome_if_first()  # this window's settings are new: a first start
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert panel.chooser.currentIndex() == 0 and panel.step_index == 0
    assert "Welcome to concviz" in panel.summary.text()
    assert not panel.welcome_if_first()  # once only

    # Page Down and Page Up, real keys on the window, turn the lesson's steps
    window.activateWindow()
    steps = len(panel.lesson().steps)
    assert steps >= 2
    strategy = window.controls.strategy()
    QTest.keyClick(window, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: panel.step_index == 1, timeout=2000)
    assert window.controls.strategy() == strategy  # the page turned, not the strategy
    QTest.keyClick(window, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: panel.step_index == 0, timeout=2000)
    # with the lesson closed, Page Down is the next strategy again
    panel.close()
    qtbot.waitUntil(lambda: not panel.isVisible(), timeout=2000)
    QTest.keyClick(window, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: window.controls.strategy() != strategy, timeout=3000)

    # another start with the same settings: no welcome
    again = MainWindow(settings=QSettings(window.settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    try:
        assert not again.lessons_panel.welcome_if_first()
    finally:
        again.close()
        again.shutdown()


def test_a_step_this_machine_cannot_make_offers_its_shipped_recording(window, qtbot):
    from concviz.runtime.lessons import recording

    panel = window.lessons_panel
    panel.open()
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    panel.choose("race-conditions")
    shipped = recording("race-conditions", 1)
    assert shipped is not None, "the lessons ship a recording of race-conditions step 1"
    # a lab without threads (as if a strategy were missing): no run can be made
    window._strategy_items = [
        {**s, "reason": "missing here"} if s["name"] == "threads" else s
        for s in window._strategy_items
    ]
    before = len(window.session.runs)
    assert not panel.run_step()
    assert "cannot make any of this step's runs" in panel.look_text
    assert panel.recording_button.isVisible()
    panel.recording_button.click()
    qtbot.waitUntil(lambda: len(window.session.runs) >= before + 2, timeout=10000)
    names = [r.name for r in window.session.runs[before:]]
    assert names == ["unsafe · race-conditions 1", "locked · race-conditions 1"], names
    panel.show_step(0)  # another step (or this one again): the offer is gone
    assert not panel.recording_button.isVisible()


def test_every_run_this_asks_for_the_runs_its_step_names(window, qtbot, monkeypatch):
    """Each step of each shipped lesson: Run this sets the control bar to the step's
    experiment and asks the window for exactly the runs the step names (those whose
    strategy this lab has), with their own parameters. The runs themselves are not made
    here: `concviz lessons check` in CI makes every one of them."""
    panel = window.lessons_panel
    _help_action(window, "&Lessons").trigger()
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    asked: list = []

    def start_runs(named, compare_view=False, what="", show=None):
        asked.append(named)
        return False  # nothing started: the panel stays ready for the next step

    monkeypatch.setattr(window, "start_runs", start_runs)
    available = {s["name"] for s in window._strategy_items if not s.get("reason")}
    c = window.controls
    interp = (window.client.hello or {}).get("interpreter") or {}
    lab_free_threaded = interp.get("free_threaded") and not interp.get("gil_enabled")
    stepped = 0
    for k in range(panel.chooser.count()):
        panel.chooser.setCurrentIndex(k)
        lesson = panel.lesson()
        for i, step in enumerate(lesson.steps):
            panel.show_step(i)
            assert panel.step_label.text() == f"step {i + 1} of {len(lesson.steps)}"
            if not step.runs:
                continue
            runnable = {n: s for n, s in step.runs.items() if s.strategy in available}
            if step.interpreter == "free-threaded" and not lab_free_threaded:
                runnable = {}  # said, not run on this lab's Python (the test below)
            asked.clear()
            panel.run_button.click()
            if not runnable:  # a missing engine: the recording is offered instead
                assert asked == [], (lesson.name, i)
                continue
            assert len(asked) == 1, (lesson.name, i)
            assert [n for n, _p in asked[0]] == list(runnable), (lesson.name, i)
            for name, params in asked[0]:
                assert params == runnable[name].params(), (lesson.name, name)
            shown = next(
                (s for s in runnable.values() if s.strategy != "sequential"),
                next(iter(runnable.values())),
            )
            assert c.strategy() == shown.strategy and c.workload.currentText() == shown.workload
            assert c.workers.value() == shown.workers and c.tasks.value() == shown.tasks
            stepped += 1
    assert stepped >= 20


def test_a_free_threaded_step_in_a_window_whose_lab_has_a_gil_says_what_it_needs(
    window, qtbot, monkeypatch
):
    panel = window.lessons_panel
    _help_action(window, "&Lessons").trigger()
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    asked: list = []
    monkeypatch.setattr(window, "start_runs", lambda *a, **k: asked.append(a) or False)
    panel.choose("gil")
    k = next(i for i, s in enumerate(panel.lesson().steps) if s.interpreter == "free-threaded")
    panel.show_step(k)
    assert panel.run_button.isEnabled()
    panel.run_button.click()
    assert asked == []  # nothing run on the GIL Python as if it had none
    said = panel.result.toPlainText()
    assert "free-threaded Python" in said and "with a GIL" in said
    assert "Choose the lab's Python" in said
    assert "`" not in said  # `code` is set in a code font, not shown with its backticks


def test_a_sweep_step_draws_its_runs_in_the_sweep_view(window, qtbot):
    """Amdahl's second step runs one strategy on 1, 2, 4 and 8 workers: when they end,
    the Sweep page shows them as one workers sweep, with the lesson's sizes and a fit."""
    from concviz.ui.sweep_view import fit_text

    panel = window.lessons_panel
    _help_action(window, "&Lessons").trigger()
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    panel.choose("amdahl")
    panel.next_button.click()
    step = panel.step()
    assert step.view == "sweep"
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.claims_text != "", timeout=60000)
    sweep = window.sweep_view
    assert window.pages.currentWidget() is sweep
    assert window.view_tabs.tabText(window.view_tabs.currentIndex()) == "Sweep"
    drawn = sweep.sweep
    assert [p["workers"] for p in drawn["points"]] == [1, 2, 4, 8], drawn["points"]
    assert sweep.workers_list.text() == "1,2,4,8" and sweep.serial.value() == 25
    assert (sweep.tasks.value(), sweep.task_ms.value()) == (8, 50.0)
    assert "Amdahl fit: serial fraction" in fit_text(drawn)
    # eight threads waiting on two cores do not fill them: the fit takes every point
    # (a fit of the first two put its ceiling under the eight-thread point)
    assert drawn["fit_max_workers"] is None and "fitted up to" not in fit_text(drawn)
    # the runs keep their lesson names, and carry the sweep a saved session keeps
    runs = [r for r in window.session.runs if (r.meta.get("sweep") or {}).get("id") == drawn["id"]]
    assert [r.name for r in runs] == [f"w{n} · amdahl 2" for n in (1, 2, 4, 8)]


def test_after_a_run_the_step_text_shows_the_steps_heading(window, qtbot):
    """At 720p the smaller text box beside a result showed the lesson's introduction
    and cut the heading of the step that ran at its bottom edge."""
    panel = window.lessons_panel
    _help_action(window, "&Lessons").trigger()
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    panel.choose("amdahl")
    panel.show_step(0)  # the introduction, then the step
    panel.text.setFixedHeight(140)  # as short as beside a result at 720p
    qtbot.wait(100)
    bar = panel.text.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0  # the introduction is longer than the box
    panel._say("With nothing serial, eight threads went from 0.40 s to 0.05 s.", "✓ a claim")
    title = panel.lesson().steps[0].title
    found = panel.text.document().find(title)

    def heading_at_top() -> bool:
        rect = panel.text.cursorRect(found)
        return 0 <= rect.top() < panel.text.viewport().height() // 3

    qtbot.waitUntil(heading_at_top, timeout=3000)
    assert bar.value() > 0
