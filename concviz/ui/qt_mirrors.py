"""Let pyqtgraph import without building every Qt class up front.

pyqtgraph (0.13.7, 0.14) keeps mirror modules of QtCore, QtGui and QtWidgets and fills
them on import by reading every name of PySide6's modules. PySide6 (6.7 on) makes a
class the first time it is asked for, so that loop made all of about 720 classes: 0.3 s
of a 1.6 s start to the first painted window, for the few dozen classes ever used.

``prepare()``, before pyqtgraph is first imported, gives each mirror a module
``__getattr__`` that fetches a name from PySide6 when first asked for, and hides
PySide6's names from pyqtgraph's copying loop while ``pyqtgraph.Qt`` runs (they show
again as soon as it is done). The mirrors keep whatever pyqtgraph itself puts in them; a later
pyqtgraph that no longer copies loses nothing, since every name still resolves.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

_MIRRORS = {
    "pyqtgraph.Qt.QtCore": "PySide6.QtCore",
    "pyqtgraph.Qt.QtGui": "PySide6.QtGui",
    "pyqtgraph.Qt.QtWidgets": "PySide6.QtWidgets",
}
_QT = "pyqtgraph.Qt"  # the module whose import copies the names


class _Loader(importlib.abc.Loader):
    """pyqtgraph's own loader, around it: PySide6's names hidden while ``pyqtgraph.Qt``
    runs; a mirror given a ``__getattr__`` that asks PySide6."""

    def __init__(self, loader, name: str) -> None:
        self.loader = loader
        self.name = name

    def __getattr__(self, name: str):
        # the rest of the loader's face (get_code, resource readers, is_package) is its own
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        if self.name == _QT:
            self._exec_hiding_names(module)
            return
        self.loader.exec_module(module)
        if "__getattr__" not in vars(module):
            src = sys.modules[_MIRRORS[self.name]]

            def forward(name: str, _src=src):
                return getattr(_src, name)

            module.__getattr__ = forward

    def _exec_hiding_names(self, module) -> None:
        import PySide6.QtCore  # noqa: F401 (imported here so that their names can hide)
        import PySide6.QtGui  # noqa: F401
        import PySide6.QtWidgets  # noqa: F401

        sources = [sys.modules[s] for s in _MIRRORS.values()]
        own = [vars(m).get("__dir__") for m in sources]
        for m in sources:
            m.__dir__ = list  # dir(module) == [] while pyqtgraph copies
        try:
            self.loader.exec_module(module)
        finally:
            for m, d in zip(sources, own, strict=True):
                if d is None:
                    vars(m).pop("__dir__", None)
                else:
                    m.__dir__ = d
            if _finder in sys.meta_path:
                sys.meta_path.remove(_finder)  # its work is done


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _QT and name not in _MIRRORS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader, name)
                return spec
        return None


_finder = _Finder()


def prepare() -> None:
    """Before pyqtgraph is first imported: its Qt mirrors made lazy (see the module)."""
    if "pyqtgraph.Qt" in sys.modules or _finder in sys.meta_path:
        return
    if importlib.util.find_spec("PySide6") is None:
        return  # pyqtgraph will say what is missing
    sys.meta_path.insert(0, _finder)
