"""Phases of a run that are not task time: an engine's or a pool's start-up, a teardown.

The window draws each as a band on the timeline, and the run's wall time leaves out
the part of it that lies inside the run, so a JVM's start, worker processes being
spawned or a user module being imported never count as task time.
"""

from __future__ import annotations

from .recorder import perf_ns
from .strategies.base import RunContext


class Phase:
    """An engine's start-up or teardown, reported as a phase of its own.

    The window draws it as a band on the timeline and the summary takes its time out
    of the run's wall time, so a JVM's start never counts as task time. Use it as a
    context manager, or call ``end()`` when the phase spans more than one block.
    ``details`` may be filled before the end (a dashboard address, clock offsets).
    """

    def __init__(self, ctx: RunContext, kind: str, label: str) -> None:
        self.ctx, self.kind, self.label = ctx, kind, label
        self.details: dict = {}
        self.t0 = perf_ns()
        self.t_end: int | None = None
        self._ended = False
        # said at once too, so the window can show "starting Spark…" while it lasts
        ctx.emit(self._message(None))

    def _message(self, t_end: int | None) -> dict:
        return {
            "type": "phase",
            "kind": self.kind,
            "strategy": self.ctx.options.get("_strategy", ""),
            "label": self.label,
            "t0_ns": self.t0,
            "t_ns": t_end,
            "details": self.details,
        }

    def end(self, t_end: int | None = None) -> None:
        """End the phase now, or at ``t_end`` (a moment another process measured)."""
        if self._ended:
            return
        self._ended = True
        self.t_end = perf_ns() if t_end is None else t_end
        self.ctx.recorder.flush()
        self.ctx.emit(self._message(self.t_end))

    def update(self) -> None:
        """Say the ended phase again with its ``details`` changed (same start and end)."""
        if self._ended:
            self.ctx.emit(self._message(self.t_end))

    def __enter__(self) -> Phase:
        return self

    def __exit__(self, *exc) -> None:
        self.end()


def phase(ctx: RunContext, kind: str, label: str) -> Phase:
    return Phase(ctx, kind, label)
