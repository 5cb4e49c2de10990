"""Interpreter picker: the Pythons on this machine, what each really is, and a choice.

Discovery runs in the background (``InterpreterScan``): each Python is run once to
read its version, free-threaded build or not, GIL on or off and which strategies its
lab can use. A path the user adds is remembered in ``QSettings`` (key
``interpreters/extra``). Choosing one emits ``interpreterChosen(path)``; the window
restarts its lab under it.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from concviz.runtime.interpreter_scan import InterpreterScan

from . import theme as T

SETTINGS_KEY = "interpreters/extra"
COLUMNS = ("Python", "build", "GIL", "strategies available", "found in", "path")


def describe_row(info: dict) -> tuple[str, str, str, str, str, str]:
    """The table's cells for one ``discover`` entry."""
    if not info.get("supported"):
        return (
            info.get("version", "?"),
            "—",
            "—",
            f"not usable: {info.get('reason')}",
            ", ".join(info.get("sources", [])),
            info["path"],
        )
    ft = bool(info.get("free_threaded"))
    strategies = info.get("strategies") or {}
    usable = [name for name, reason in strategies.items() if reason is None]
    own = "this app" in info.get("sources", [])  # told apart from a Python of the same version
    return (
        f"{info['version']} (this app)" if own else info["version"],
        "free-threaded" if ft else "standard",
        "on" if info.get("gil_enabled", True) else "OFF",
        ", ".join(usable),
        ", ".join(info.get("sources", [])),
        info["path"],
    )


class InterpreterPicker(QWidget):
    """A table of interpreters; ``interpreterChosen(path)`` when the user picks one."""

    interpreterChosen = Signal(str)

    def __init__(
        self,
        settings: QSettings | None = None,
        current: str | None = None,
        theme: T.Theme = T.LIGHT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("concviz — choose the lab's Python")
        self.theme = theme
        self.settings = settings if settings is not None else QSettings("concviz", "concviz")
        self.current = current
        self.infos: list[dict] = []
        self.scan = InterpreterScan(self)
        lay = QVBoxLayout(self)
        head = QLabel(
            "The lab can run under any CPython 3.10 or newer. Each one below was run to "
            "ask what it is (not guessed from its name)."
        )
        head.setWordWrap(True)
        lay.addWidget(head)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table, 1)
        self.status = QLabel("Looking for Pythons…")
        lay.addWidget(self.status)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add a Python…")
        self.rescan_button = QPushButton("Look again")
        self.use_button = QPushButton("Run the lab under this Python")
        self.use_button.setEnabled(False)
        row.addWidget(self.add_button)
        row.addWidget(self.rescan_button)
        row.addStretch(1)
        row.addWidget(self.use_button)
        lay.addLayout(row)

        self.add_button.clicked.connect(self._add_dialog)
        self.rescan_button.clicked.connect(self.rescan)
        self.use_button.clicked.connect(self._use_selected)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._use_selected())
        self.scan.scanned.connect(self._scanned)
        self.scan.scanFailed.connect(lambda msg: self.status.setText(f"Looking failed: {msg}"))
        self.rescan()

    # -- remembered paths
    def extra_paths(self) -> list[str]:
        value = self.settings.value(SETTINGS_KEY, [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value or []]

    def add_path(self, path: str) -> None:
        """Remember ``path`` and look again (the probe says whether it can run the lab)."""
        paths = self.extra_paths()
        if path and path not in paths:
            paths.append(path)
            self.settings.setValue(SETTINGS_KEY, paths)
            self.settings.sync()
        self.rescan()

    def _add_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Python executable")
        if path:
            self.add_path(path)

    # -- scanning
    def rescan(self) -> None:
        if self.scan.is_running():
            return
        self.status.setText("Looking for Pythons… (each is run once, in the background)")
        self.rescan_button.setEnabled(False)
        self.scan.start(self.extra_paths())

    def _scanned(self, infos: list[dict]) -> None:
        self.infos = infos
        self.rescan_button.setEnabled(True)
        self._fill_table()
        usable = sum(1 for i in infos if i.get("supported"))
        self.status.setText(
            f"{len(infos)} found, {usable} can run the lab. Bold: the one the lab runs under now."
        )

    def _fill_table(self) -> None:
        infos = self.infos
        self.table.setRowCount(len(infos))
        for r, info in enumerate(infos):
            cells = describe_row(info)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not info.get("supported"):
                    item.setForeground(QColor(self.theme.muted))
                if info["path"] == self.current or (
                    self.current is None and "this app" in info.get("sources", [])
                ):
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def set_theme(self, theme: T.Theme) -> None:
        """Grey the unusable rows in the theme's muted colour (the rest follows the app)."""
        self.theme = theme
        self._fill_table()

    def _selection_changed(self) -> None:
        row = self.table.currentRow()
        ok = 0 <= row < len(self.infos) and bool(self.infos[row].get("supported"))
        self.use_button.setEnabled(ok)

    def _use_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.infos) and self.infos[row].get("supported"):
            info = self.infos[row]
            # the app's own Python is chosen as "no --interpreter": the lab then starts
            # exactly as the app does, in its environment (engines and all), whatever
            # path the scan resolved it to
            own = "this app" in info.get("sources", [])
            self.current = None if own else info["path"]
            self.interpreterChosen.emit("" if own else info["path"])
            self._fill_table()  # move the bold mark
