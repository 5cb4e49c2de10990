"""Starting and reading the lab, and sampling the machine (no widgets).

``LabProcess`` is the Qt-free lab connection; ``run_batch`` runs one batch headless.
"""

from .headless import BadInput, query, run_batch
from .lab_process import LabError, LabProcess, lab_command

__all__ = ["BadInput", "LabError", "LabProcess", "lab_command", "query", "run_batch"]
