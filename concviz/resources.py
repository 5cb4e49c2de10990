"""Finding concviz's resource files (icons, themes, lesson texts) from source or frozen.

From source they live in ``resources/`` beside the package; in a PyInstaller bundle
they are unpacked under ``sys._MEIPASS``. Everything asks this one helper.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a resource file, e.g. ``resource_path("icons", "concviz.svg")``."""
    return resources_dir().joinpath(*parts)


def lab_source_root() -> Path:
    """A folder from which another interpreter can ``import concviz.lab``.

    From source it is the project root; frozen, the bundle carries the lab's
    sources under ``lab_src`` so that e.g. ``python3.13t`` can run them.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "lab_src"
    return Path(__file__).resolve().parent.parent
