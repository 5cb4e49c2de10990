"""``concviz`` with no sub-command: the QApplication and the main window."""

from __future__ import annotations

import argparse
import sys

from . import theme as T


def main(argv: list[str] | None = None) -> int:
    """Open the window; returns the application's exit code."""
    parser = argparse.ArgumentParser(prog="concviz", description="Open the concviz window.")
    parser.add_argument("--interpreter", help="run the lab under this Python")
    parser.add_argument("--presentation", action="store_true", help="start in presentation mode")
    parser.add_argument("--open", metavar="FILE", help="open a session file or a trace")
    args, qt_args = parser.parse_known_args(list(argv) if argv is not None else [])

    import pyqtgraph as pg
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("concviz")
    app.setOrganizationName("concviz")
    app.setStyle("Fusion")
    from .about import app_icon

    app.setWindowIcon(app_icon())
    app.setDesktopFileName("concviz")
    font = QFont(app.font())
    font.setPointSizeF(T.BASE_POINT_SIZE)
    app.setFont(font)
    pg.setConfigOptions(antialias=False)
    window = MainWindow(interpreter=args.interpreter)
    from . import startup_probe

    startup_probe.install(window)
    window.show()
    if args.presentation:
        window.set_presentation(True)
    if args.open:
        window.open_session_file(args.open)
    code = app.exec()
    window.shutdown()
    return int(code)
