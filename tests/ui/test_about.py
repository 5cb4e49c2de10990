"""The About dialog names every version a bug report needs; the icon is found."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from concviz.resources import resource_path
from concviz.ui.about import AboutDialog, app_icon, versions


def test_about_lists_the_stack_and_the_icon_loads(qtbot):
    names = [name for name, _ in versions()]
    for needed in ("Python", "Qt", "PySide6", "pyqtgraph", "psutil"):
        assert needed in names
    assert resource_path("icons", "concviz.svg").is_file()
    assert not app_icon().isNull()
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    text = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "pyqtgraph" in text and "PySide6" in text
