"""The window's "Lenses" menu: the GIL lens, cores, convoy, A/B, GUI freeze, interpreters.

Each lens opens in a window of its own (created on first use, then raised). The lens
windows read the main window's live store and lab pid; the demos start labs of their
own. Choosing another Python in the picker restarts the main window's lab under it.
Every lens has ``set_theme(theme)``: a lens is made in the window's theme and follows
a live switch while it is open.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QWidget

from . import theme as T


class Lenses:
    """Owns the lens windows of one main window."""

    def __init__(self, window: QMainWindow, theme: T.Theme = T.LIGHT) -> None:
        self.window = window
        self.theme = theme
        self.open: dict[str, QWidget] = {}
        menu = window.menuBar().addMenu("&Lenses")
        items = (
            ("gil", "&GIL lens: who really runs Python", "Ctrl+G"),
            ("cores", "&Cores: which worker ran on which core", None),
            ("ab", "GIL &A/B: one GIL vs one per interpreter", "Ctrl+Shift+G"),
            ("convoy", "&Switch interval and the convoy effect", None),
            ("freeze", "&Why a Python GUI freezes (runs work in this window!)", None),
            ("picker", "Choose the lab's &Python…", None),
        )
        self.actions: dict[str, QAction] = {}
        for key, text, shortcut in items:
            a = QAction(text, window)
            if shortcut:
                a.setShortcut(shortcut)
            a.triggered.connect(lambda _=False, k=key: self.show(k))
            menu.addAction(a)
            self.actions[key] = a
        menu.insertSeparator(self.actions["picker"])

    def _source(self):
        w = self.window
        return w.timeline.store, w.client.pid

    def _make(self, key: str) -> QWidget:
        theme = self.theme
        if key == "gil":
            from .gil_lens import GilLens

            return GilLens(self._source, theme)
        if key == "cores":
            from .cores_view import CoresView

            gil = self.open.get("gil")
            return CoresView(self._source, getattr(gil, "watch", None), theme)
        if key == "ab":
            from .gil_ab import GilABView

            return GilABView(theme)
        if key == "convoy":
            from .convoy_demo import ConvoyDemo

            return ConvoyDemo(theme)
        if key == "freeze":
            from .gui_freeze_demo import FreezeDemo

            return FreezeDemo(theme)
        from .interpreter_picker import InterpreterPicker

        picker = InterpreterPicker(self.window.settings, self.window.client.interpreter, theme)
        picker.interpreterChosen.connect(self._use_interpreter)
        return picker

    def show(self, key: str) -> QWidget:
        """Open (or raise) a lens, sized to the screen the main window is on."""
        w = self.open.get(key)
        if w is None:
            w = self._make(key)
            fit_to_screen(w, self.window.screen(), 1200, 800)
            self.open[key] = w
        w.show()
        w.raise_()
        w.activateWindow()
        return w

    def set_theme(self, theme: T.Theme) -> None:
        """Lenses opened from now on, and those open now, take ``theme``."""
        self.theme = theme
        for w in self.open.values():
            w.set_theme(theme)

    def _use_interpreter(self, path: str) -> None:
        self.window.client.interpreter = path or None  # "": the app's own Python
        self.window.restart_lab()

    def close_all(self) -> None:
        for w in self.open.values():
            w.close()
        self.open.clear()


def fit_to_screen(w: QWidget, screen, width: int, height: int) -> None:
    """Give ``w`` its preferred size, or as much of ``screen`` as is free, and centre it there."""
    if screen is None:
        w.resize(width, height)
        return
    geo = screen.availableGeometry()
    # leave room for the window manager's frame and title bar
    w.resize(min(width, geo.width() - 16), min(height, geo.height() - 48))
    w.move(
        geo.x() + max(0, (geo.width() - w.width()) // 2),
        geo.y() + max(0, (geo.height() - w.height() - 32) // 2),
    )
