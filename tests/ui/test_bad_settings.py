"""Settings that cannot be used fall back to their defaults; the window still opens and runs."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QSettings

from concviz.ui.main_window import MainWindow


def open_window(qtbot, path, **values) -> MainWindow:
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in values.items():
        settings.setValue(key, value)
    settings.sync()
    win = MainWindow(settings=QSettings(str(path), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(win.controls.strategy_buttons), timeout=20000)
    return win


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e12", "-5", "many", "2.5"])
def test_a_task_size_that_cannot_be_used_falls_back_to_the_default(qtbot, tmp_path, value):
    win = open_window(qtbot, tmp_path / "concviz.ini", task_ms=value, tasks=value, workers=value)
    try:
        assert win.controls.task_ms.value() == 50
        assert win.controls.tasks.value() == 40
        assert win.controls.workers.value() == min(2, win.controls.workers.maximum())
    finally:
        win.close()
        win.shutdown()


@pytest.mark.timeout(60)
def test_usable_settings_are_kept(qtbot, tmp_path):
    win = open_window(qtbot, tmp_path / "concviz.ini", task_ms="120.0", tasks="7")
    try:
        assert win.controls.task_ms.value() == 120
        assert win.controls.tasks.value() == 7
    finally:
        win.close()
        win.shutdown()


@pytest.mark.timeout(60)
def test_with_task_ms_inf_saved_the_window_opens_and_runs(qtbot, tmp_path):
    bad_options = {"threads_per_worker": "lots", "start_method": 5, "teleport": True}
    win = open_window(
        qtbot,
        tmp_path / "concviz.ini",
        task_ms="inf",
        engine_options=json.dumps({**bad_options, "dask_processes": False}),
    )
    try:
        # only the engine option a run accepts survives
        assert win.controls.engine_options == {"dask_processes": False}
        c = win.controls
        c.set_workload("io-sleep")
        c.set_strategy("threads")
        c.tasks.setValue(4)
        with qtbot.waitSignal(win.client.runFinished, timeout=30000) as done:
            win.run()
        assert done.args[0]["ok"], done.args[0]
        assert "refused" not in win.banner.text()
    finally:
        win.close()
        win.shutdown()
