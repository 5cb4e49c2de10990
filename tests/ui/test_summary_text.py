"""The summary's words: no dead links, the run's own knobs."""

from __future__ import annotations


def _run(**kw) -> dict:
    run = {
        "strategy": "dask-local",
        "workload": "cpu-python",
        "workers": 2,
        "task_ms": 50.0,
        "wall_s": 1.0,
        "cpu_s": 1.8,
        "parallelism": 1.8,
        "ok": True,
        "stopped": False,
        "tasks": [],
        "markers": [],
        "phases": [{"kind": "startup", "seconds": 2.0}],
        "startup_s": 2.0,
        "teardown_s": 0.5,
        "engine": {"dashboard": "http://127.0.0.1:8787/status"},
        "interpreter": {"executable": "/x/python", "version": "3.11.7"},
        "tasks_asked": 10,
    }
    run.update(kw)
    return run


def test_a_local_clusters_dashboard_is_not_offered_once_the_cluster_is_gone(qtbot):
    from concviz.ui.summary import SummaryPanel

    panel = SummaryPanel()
    qtbot.addWidget(panel)
    panel.show_run(_run(), 10)
    assert "dashboard" not in panel.title.text()
    assert "start-up 2.0 s" in panel.title.text()
    panel.show_run(_run(strategy="dask-remote"), 10)  # the user's cluster is still up
    assert "dashboard http://127.0.0.1:8787/status" in panel.title.text()


def test_native_cpu_and_a_measured_task_size_are_named(qtbot):
    from concviz.ui.summary import SummaryPanel

    panel = SummaryPanel()
    qtbot.addWidget(panel)
    panel.show_run(
        _run(
            strategy="sequential",
            workload="user",
            user="/x/mm.py:work",
            phases=[],
            native_cpu_s=0.62,
            task_ms_measured={"median": 189.0, "min": 172.0, "max": 251.0},
        ),
        10,
    )
    assert "+ 0.62 s in native threads" in panel.notes["cpu"].text()
    assert "189 ms (median; 172–251 ms)" in panel.title.text()
    assert "50 ms" not in panel.title.text()


def test_a_running_local_clusters_dashboard_is_a_link_until_the_run_ends(qtbot):
    from types import SimpleNamespace

    from PySide6.QtCore import Qt

    from concviz.ui.summary import SummaryPanel

    panel = SummaryPanel()
    qtbot.addWidget(panel)
    info = SimpleNamespace(engine={})
    spec = SimpleNamespace(workload="cpu-python", strategy="dask-local", workers=2)
    running = SimpleNamespace(result=None, spec=spec, store=SimpleNamespace(runs=[info]))
    panel.show(running)
    assert "dashboard" not in panel.title.text()  # the cluster is still starting
    info.engine["dashboard"] = "http://127.0.0.1:8787/status"
    panel._session_changed("updated", running)  # the engine said where its dashboard is
    assert '<a href="http://127.0.0.1:8787/status">' in panel.title.text()
    assert panel.title.textFormat() == Qt.TextFormat.RichText
    assert panel.title.openExternalLinks()
    panel.show_run(_run(), 10)  # the run ended and its cluster with it
    assert "dashboard" not in panel.title.text()
    assert panel.title.textFormat() == Qt.TextFormat.PlainText
