# ruff: noqa: I001  (the order is the registry's order: the standard library first, engines after)
"""How tasks are run: one module per family, each registering its strategies.

``REGISTRY`` maps a strategy's name to its ``Strategy`` (run, availability probe).
"""

from . import asyncio_, interpreters, local, processes  # noqa: F401  (they register)
from .. import engines  # noqa: F401, E402  (joblib, Dask, Spark, MPI register after these)
from .base import REGISTRY, DagFeed, RunContext, Strategy, TaskFeed, WorkerDied

__all__ = ["REGISTRY", "DagFeed", "RunContext", "Strategy", "TaskFeed", "WorkerDied"]
