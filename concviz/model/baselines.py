"""Speedup baselines: a sequential run of the *same* experiment, never another one's.

Two runs are the same experiment when everything that decides how much work a task
does and how fast one thread does it is equal: the workload (and the user's function),
the number of tasks, the task size, the serial fraction, the CPU fraction, the jitter,
the seed, and the interpreter (its path and version: a 3.13 is not measured against a
3.11). Only the strategy and the worker count may differ.
"""

from __future__ import annotations


def experiment_key(run: dict) -> tuple | None:
    """The key that a run and its sequential baseline share; None for a continuous run."""
    tasks = run.get("tasks_asked")
    if tasks is None:
        return None  # a continuous run has no fixed amount of work to compare
    interp = run.get("interpreter") or {}
    return (
        run.get("workload"),
        run.get("user"),
        int(tasks),
        float(run.get("task_ms") or 0.0),
        float(run.get("serial_fraction") or 0.0),
        run.get("cpu_fraction"),
        run.get("jitter"),
        run.get("seed"),
        interp.get("executable"),
        interp.get("version"),
    )


def is_complete(run: dict) -> bool:
    """A finished batch: every task ran, nothing stopped or failed the run."""
    return bool(run.get("ok")) and not run.get("stopped") and experiment_key(run) is not None


class Baselines:
    """The latest complete sequential wall time of each experiment seen."""

    def __init__(self) -> None:
        self._walls: dict[tuple, float] = {}

    def add(self, run: dict) -> None:
        """Remember ``run`` when it is a complete sequential run."""
        if run.get("strategy") == "sequential" and is_complete(run):
            self._walls[experiment_key(run)] = float(run["wall_s"])

    def for_run(self, run: dict) -> float | None:
        """The baseline wall time for ``run``, or None when this experiment has none."""
        if not is_complete(run):
            return None
        return self._walls.get(experiment_key(run))
