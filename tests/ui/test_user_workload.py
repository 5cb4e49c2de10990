"""Your own function as a workload in the window; what it prints shows; bad files say why."""

from __future__ import annotations

import os
import tempfile

import pytest
from PySide6.QtCore import QSettings

from concviz.ui.user_workload import NotAWorkloadFile, top_level_functions


def test_functions_are_read_without_running_the_file(tmp_path):
    f = tmp_path / "tasks.py"
    f.write_text(
        "raise SystemExit('never run me')\ndef work(i):\n    pass\nasync def fetch(i):\n    pass\n"
    )
    assert top_level_functions(str(f)) == ["work", "fetch"]
    bad = tmp_path / "broken.py"
    bad.write_text("def work(i)\n    pass\n")
    with pytest.raises(NotAWorkloadFile, match="syntax error on line 1"):
        top_level_functions(str(bad))
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(NotAWorkloadFile, match="no function"):
        top_level_functions(str(empty))


@pytest.fixture
def window(qtbot):
    from concviz.ui.main_window import MainWindow

    tmp = tempfile.mkdtemp()
    settings = QSettings(os.path.join(tmp, "c.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(win.controls.strategy_buttons), timeout=20000)
    yield win
    win.shutdown()


def test_a_user_function_runs_its_prints_show_and_its_errors_are_marked(window, qtbot, tmp_path):
    f = tmp_path / "mywork.py"
    f.write_text(
        "def work(i):\n"
        "    print(f'hello from task {i}')\n"
        "    if i == 2:\n"
        "        raise ValueError('bad record')\n"
    )
    window.open_workload_file(str(f), "work")
    params = window.controls.params()
    assert params["workload"] == "user" and params["user"].endswith("mywork.py:work")
    assert window.controls.workload.currentText() == "mywork.py:work"
    window.controls.tasks.setValue(5)
    window.controls.set_strategy("threads")
    window.run()
    qtbot.waitUntil(lambda: not window.running, timeout=30000)
    run = window.summary.last
    assert run is not None and len(run["tasks"]) == 5
    failed = [t for t in run["tasks"] if not t["ok"]]
    assert [t["id"] for t in failed] == [2] and "bad record" in failed[0]["error"]
    qtbot.waitUntil(lambda: "hello from task 4" in window.output.text.toPlainText(), timeout=5000)
    assert window.output.isVisible()


def test_a_file_the_lab_refuses_shows_the_banner(window, qtbot, tmp_path):
    f = tmp_path / "needs.py"
    f.write_text("import no_such_module_for_concviz\ndef work(i):\n    pass\n")
    window.open_workload_file(str(f), "nothere")  # the window checks the name itself
    assert "nothere" in window.banner.text()
    window.open_workload_file(str(f), "work")  # the name is fine; importing it is not
    window.run()
    qtbot.waitUntil(lambda: "no_such_module_for_concviz" in window.banner.text(), timeout=20000)
    assert not window.running
