"""The interpreter picker lists pyenv's Pythons and remembers an added path."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

PYENV = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")


def test_picker_lists_pyenv_pythons_and_remembers_a_path(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from concviz.ui.interpreter_picker import SETTINGS_KEY, InterpreterPicker

    pyenv = sorted(glob.glob(os.path.join(PYENV, "versions", "3.*", "bin", "python3.[0-9]*")))
    pyenv = [p for p in pyenv if os.path.basename(p).replace("python3.", "").rstrip("t").isdigit()]
    if not pyenv:
        pytest.skip(f"no pyenv Pythons under {PYENV}/versions")
    settings = QSettings(str(tmp_path / "concviz.ini"), QSettings.Format.IniFormat)
    picker = InterpreterPicker(settings=settings)
    qtbot.addWidget(picker)
    qtbot.waitUntil(lambda: bool(picker.infos), timeout=60000)
    paths = {picker.table.item(r, 5).text() for r in range(picker.table.rowCount())}
    for exe in pyenv:
        assert str(Path(exe).resolve()) in paths, exe
    # versions are read by running each one, and 3.12+ offers interpreter-pool
    by_path = {i["path"]: i for i in picker.infos}
    for exe in pyenv:
        info = by_path[str(Path(exe).resolve())]
        minor = os.path.basename(exe).replace("python", "")
        assert info["version"].startswith(minor + ".")
        if info.get("supported") and tuple(map(int, minor.split("."))) >= (3, 12):
            assert (
                "interpreter-pool" in picker.table.item(list(by_path).index(info["path"]), 3).text()
            )
    # choosing one emits its path
    row = next(
        r
        for r, i in enumerate(picker.infos)
        if i.get("supported") and "this app" not in i.get("sources", [])
    )
    picker.table.selectRow(row)
    with qtbot.waitSignal(picker.interpreterChosen, timeout=1000) as sig:
        picker.use_button.click()
    assert sig.args == [picker.infos[row]["path"]]
    # an added path is remembered
    with qtbot.waitSignal(picker.scan.scanned, timeout=60000):
        picker.add_path(pyenv[0])
    assert pyenv[0] in settings.value(SETTINGS_KEY)
    picker.scan.wait()


def test_this_app_restarts_the_lab_in_the_apps_own_environment(window, qtbot):
    """The app's own entry means "no --interpreter": the lab keeps the app's packages."""
    picker = window.lenses.show("picker")
    qtbot.waitUntil(lambda: bool(picker.infos), timeout=60000)
    own = next(r for r, i in enumerate(picker.infos) if "this app" in i.get("sources", []))
    # first another Python, then back to this app
    other = next((r for r, i in enumerate(picker.infos) if i.get("supported") and r != own), None)
    if other is not None:
        picker.table.selectRow(other)
        with qtbot.waitSignal(window.client.labStarted, timeout=60000):
            picker.use_button.click()
        assert window.client.interpreter == picker.infos[other]["path"]
    picker.table.selectRow(own)
    with qtbot.waitSignal(window.client.labStarted, timeout=60000) as sig:
        picker.use_button.click()
    assert window.client.interpreter is None
    import sys

    assert sig.args[0]["interpreter"]["executable"] == sys.executable


def test_the_apps_own_python_is_named_as_such_beside_one_of_the_same_version():
    from concviz.ui.interpreter_picker import describe_row

    base = {"supported": True, "version": "3.13.0", "path": "/x", "strategies": {}}
    assert describe_row({**base, "sources": ["this app"]})[0] == "3.13.0 (this app)"
    assert describe_row({**base, "sources": ["pyenv"]})[0] == "3.13.0"
