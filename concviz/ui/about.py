"""The About dialog: what concviz is, and the versions of everything it stands on."""

from __future__ import annotations

import platform
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from concviz.resources import resource_path


def versions() -> list[tuple[str, str]]:
    """(component, version) for the About box and bug reports."""
    import numpy
    import psutil
    import pyqtgraph
    import PySide6
    from PySide6.QtCore import qVersion

    import concviz

    frozen = " (app bundle)" if getattr(sys, "frozen", False) else ""
    return [
        ("concviz", concviz.__version__ + frozen),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("psutil", psutil.__version__),
        ("numpy", numpy.__version__),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "concviz.svg")))


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About concviz")
        layout = QVBoxLayout(self)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(logo)
        title = QLabel(
            "<h2>concviz</h2><p>See concurrency and parallelism in Python: every task on "
            "a timeline, every core's load, and what the GIL does to your threads.</p>"
        )
        title.setWordWrap(True)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        rows = "".join(
            f"<tr><td><b>{name}</b>&nbsp;&nbsp;</td><td>{value}</td></tr>"
            for name, value in versions()
        )
        table = QLabel(f"<table>{rows}</table>")
        table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
