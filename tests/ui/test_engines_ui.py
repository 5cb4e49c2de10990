"""Engines in the window: their own button group, their start-up band, their settings."""

from __future__ import annotations

import pytest

from concviz.lab.lab import strategies_info

from .conftest import configure


def _available(name: str) -> bool:
    return {s["name"]: s for s in strategies_info()}[name]["available"]


def test_engines_have_their_own_row_and_a_missing_one_explains_itself(window):
    c = window.controls
    engines = [n for n, g in c._groups.items() if g == "engines"]
    assert {"joblib-loky", "dask-local", "spark-local", "mpi"} <= set(engines)
    assert c.engine_line.isVisible()
    for name in engines:  # laid out in the engines row, not among the Python strategies
        assert c.engine_row.indexOf(c.strategy_buttons[name]) >= 0, name
        assert c.strategy_row.indexOf(c.strategy_buttons[name]) < 0, name
    # an engine whose package is missing: clickable, greyed, and it says how to get it
    items = [
        {"name": "threads", "description": "t", "available": True, "group": "python"},
        {
            "name": "spark-local",
            "description": "s",
            "available": False,
            "reason": "the pyspark package is not installed",
            "install": "pip install 'concviz[spark]'",
            "group": "engines",
        },
    ]
    c.set_strategies(items)
    button = c.strategy_buttons["spark-local"]
    assert button.isEnabled() and not button.isCheckable()
    button.click()
    assert window.banner.isVisible()
    text = window.banner.label.text()
    assert c.strategy() == "threads"  # the choice did not move to the missing engine
    assert "concviz[spark]" in button.toolTip()
    assert "not available" in text and "concviz[spark]" in text, text


def test_an_engine_run_shows_its_startup_band_and_reports_it_apart(window, qtbot):
    if not _available("joblib-loky"):
        pytest.skip("joblib is not installed (pip install 'concviz[joblib]')")
    configure(window, strategy="joblib-loky", workers=2, tasks=8, task_ms=20)
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=60000)
    window.timeline._next_rebuild = 0.0
    window.timeline._store_version = -1
    window.timeline.refresh()
    kinds = [ph["kind"] for ph, _items in window.timeline._phase_items]
    assert "startup" in kinds and "teardown" in kinds, kinds
    assert "start-up, teardown apart" in window.summary.notes["wall"].text()
    assert "start-up" in window.summary.title.text()
    labels = [r.label for r in window.timeline.gantt.data.rows]
    assert any(lbl.startswith("loky worker") for lbl in labels), labels


def test_engine_settings_go_with_the_next_run_and_are_remembered(window, qtbot):
    from concviz.ui.engine_settings import EngineSettingsDialog, load_options

    dialog = EngineSettingsDialog({}, window)
    dialog.dask_address.setText("tcp://10.0.0.5:8786")
    dialog.hostfile.setText("/tmp/hosts")
    options = dialog.options()
    assert options == {"dask_address": "tcp://10.0.0.5:8786", "hostfile": "/tmp/hosts"}
    window.controls.engine_options = options
    assert window.controls.params()["options"] == options
    from concviz.ui.engine_settings import save_options

    save_options(window.settings, options)
    assert load_options(window.settings) == options
    window.settings.setValue("engine_options", "{not json")
    assert load_options(window.settings) == {}  # a hand-broken value: defaults, no crash


def test_a_remote_engine_without_its_address_is_refused_in_a_banner(window, qtbot):
    if not _available("dask-remote"):
        pytest.skip("Dask is not installed (pip install 'concviz[dask]')")
    window.controls.engine_options = {}
    configure(window, strategy="dask-remote", workers=2, tasks=4, task_ms=10)
    window.run()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=20000)
    qtbot.waitUntil(lambda: not window.running, timeout=20000)
    text = window.banner.label.text()
    assert "needs the scheduler's address" in text and "Engine settings" in text, text


def test_a_running_dask_cluster_links_its_dashboard_in_the_summary(window, qtbot):
    if not _available("dask-local"):
        pytest.skip("Dask is not installed (pip install 'concviz[dask]')")
    configure(window, strategy="dask-local", workers=2, tasks=20, task_ms=100)
    window.run()
    qtbot.waitUntil(
        lambda: "<a href=" in window.summary.title.text() or not window.running, timeout=90000
    )
    title = window.summary.title.text()
    assert 'Dask dashboard (while the run lasts): <a href="http://' in title, title
    qtbot.waitUntil(lambda: not window.running, timeout=90000)
    assert "<a href=" not in window.summary.title.text()  # the cluster ended with the run


def test_an_engine_this_python_lacks_named_on_the_command_line_says_why_and_runs_nothing(
    window, qtbot
):
    from argparse import Namespace

    from concviz.ui.app import _choose_when_ready

    c = window.controls
    c.set_strategies(
        [
            {"name": "threads", "description": "t", "available": True, "group": "python"},
            {
                "name": "spark-local",
                "description": "s",
                "available": False,
                "reason": "Spark needs Java 17 or newer and about 300 MB of its own",
                "install": "run the lab under a Python that has pyspark: pip install …",
                "group": "engines",
            },
        ]
    )
    args = Namespace(
        strategy="spark-local", workload=None, workers=None, tasks=None, task_ms=None, run=True
    )
    _choose_when_ready(window, args, {})
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    text = window.banner.label.text()
    assert "spark-local is not available" in text and "To use it, run the lab under" in text
    assert not window.running
