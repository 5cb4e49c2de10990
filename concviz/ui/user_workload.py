"""Your own workload in the window: pick a ``.py`` file and a function; see what it prints.

The window never imports the file (that would run the user's code here): it reads
the function names with ``ast`` and leaves loading, and every complaint about the
file, to the lab, whose one-sentence refusal shows in the banner.
"""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

from . import theme as T


class NotAWorkloadFile(Exception):
    """The chosen file cannot offer a workload (the text is one sentence)."""


def top_level_functions(path: str) -> list[str]:
    """Names of the functions a file defines at top level, in order (raises NotAWorkloadFile)."""
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotAWorkloadFile(f"cannot read {path}: {exc}") from None
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise NotAWorkloadFile(
            f"{Path(path).name} has a syntax error on line {exc.lineno}: {exc.msg}"
        ) from None
    names = [
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    if not names:
        raise NotAWorkloadFile(
            f"{Path(path).name} defines no function at top level; write def work(i): ..."
        )
    return names


def workload_label(ref: str) -> str:
    """``/long/path/tasks.py:work`` shown as ``tasks.py:work``."""
    path, _, func = ref.rpartition(":")
    return f"{Path(path).name}:{func}"


class OutputDock(QDockWidget):
    """What the workload printed (the lab captures it; it never mixes with the events).

    Threads: GUI thread only.
    """

    MAX_BLOCKS = 5000  # keep the newest lines; a chatty workload must not eat memory

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Program output", parent)
        self.setObjectName("outputDock")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(self.MAX_BLOCKS)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(T.BASE_POINT_SIZE)
        self.text.setFont(font)
        self.setWidget(self.text)
        self._seen = 0
        self._store_id = 0

    def follow(self, store) -> bool:
        """Append what ``store`` gained since the last call; True when there was new text."""
        if store is None:
            return False
        if id(store) != self._store_id:
            self._store_id, self._seen = id(store), 0
            self.text.appendPlainText("— a new run —")
        chunks = store.output
        if len(chunks) <= self._seen:
            return False
        new = "".join(chunks[self._seen :])
        self._seen = len(chunks)
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)
        self.text.insertPlainText(new)
        return True
