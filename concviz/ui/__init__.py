"""The window: live Gantt timeline, per-core CPU, controls and run summary (Qt).

``main`` opens the app; ``render`` saves a screenshot after a short run.
"""

from __future__ import annotations

__all__ = ["main", "render"]


def main(argv: list[str] | None = None) -> int:
    from .app import main as _main

    return _main(argv)


def render(out_path: str, params: dict, interpreter: str | None = None) -> None:
    from .screenshot import render as _render

    _render(out_path, params, interpreter)
