from __future__ import annotations

import pytest


@pytest.fixture
def window(qtbot, tmp_path):
    """A main window with its own settings file, its lab started and answered."""
    from PySide6.QtCore import QSettings

    from concviz.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "concviz.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitUntil(lambda: bool(win.controls.strategy_buttons), timeout=20000)
    yield win
    win.close()
    win.shutdown()


def configure(win, **params) -> None:
    c = win.controls
    c.set_workload(params.get("workload", "cpu-python"))
    c.set_strategy(params.get("strategy", "threads"))
    c.set_workers(params.get("workers", 2))
    c.tasks.setValue(params.get("tasks", 10))
    c.task_ms.setValue(params.get("task_ms", 20))
    c.set_continuous(params.get("mode", "batch") == "continuous")
