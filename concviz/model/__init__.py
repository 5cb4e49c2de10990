"""What the lab reported, as numpy columns, and the numbers computed from it (no Qt).

``EventStore`` holds a session's events; ``metrics`` holds the formulas.
"""

from .baselines import Baselines, experiment_key
from .event_store import BAR_ERROR, BAR_SLICE, BAR_STOPPED, BAR_TASK, EventStore, Lane, RunInfo
from .run_result import run_object

__all__ = [
    "Baselines",
    "experiment_key",
    "BAR_ERROR",
    "BAR_SLICE",
    "BAR_STOPPED",
    "BAR_TASK",
    "EventStore",
    "Lane",
    "RunInfo",
    "run_object",
]
