"""A non-blocking banner across the top of the window (the lab failed, a request was refused).

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class Banner(QFrame):
    """A message with an optional action button and a dismiss button; hidden when empty."""

    actionClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName("bannerText")
        lay.addWidget(self.label, 1)
        self.action = QPushButton()
        self.action.clicked.connect(self.actionClicked)
        lay.addWidget(self.action)
        close = QPushButton("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.level = "error"
        self.hide()

    def show_message(self, text: str, level: str = "error", action: str | None = None) -> None:
        self.level = level
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.action.setVisible(action is not None)
        if action:
            self.action.setText(action)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
