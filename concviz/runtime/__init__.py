"""Starting and reading the lab, and sampling the machine (no widgets).

``LabProcess`` is the Qt-free lab connection; ``run_batch`` runs one batch headless.
"""

from .lab_process import BadInput, LabError, LabProcess, lab_command

__all__ = ["BadInput", "LabError", "LabProcess", "lab_command", "query", "run_batch"]


def __getattr__(name: str):
    # run_batch and query bring numpy and the event store (0.25 s of imports): only
    # when asked for, so that the CLI can start its lab first and import them while
    # the lab boots
    if name in ("query", "run_batch"):
        from . import headless

        return getattr(headless, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
