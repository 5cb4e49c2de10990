"""The window: live Gantt timeline, per-core CPU, controls and run summary (Qt).

``main`` opens the app; ``render`` saves a screenshot after a short run.
"""

from __future__ import annotations

from .qt_mirrors import prepare as _prepare_pyqtgraph

__all__ = ["main", "render"]

_prepare_pyqtgraph()  # before any module of the window imports pyqtgraph


def main(argv: list[str] | None = None) -> int:
    from .app import main as _main

    return _main(argv)


def render(out_path: str, params: dict, interpreter: str | None = None) -> None:
    from .screenshot import render as _render

    _render(out_path, params, interpreter)
