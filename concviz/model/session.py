"""A session: every run of one sitting, kept, named, compared, saved (no Qt here).

A :class:`Run` is one execution of a :class:`~concviz.lab.protocol.Start` spec (or a
trace opened from another tool): its event store, the per-core CPU samples of its
span, what the observer measured, and its result once it finished. A
:class:`Session` holds the runs in order and tells its listeners what changed, the
way a view binds to a model: ``session.listen(fn)`` calls ``fn(event, run)`` with
``event`` one of ``added``, ``updated``, ``finished``, ``changed`` (renamed, marked
as baseline), ``removed`` and ``cleared``.

Speedup baselines are decided here, in one place: a run's baseline is the run the
user marked for it, or else the latest complete sequential run of the *same
experiment* (:func:`concviz.model.baselines.experiment_key`) in the session.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from concviz.lab import protocol as P

from .baselines import experiment_key, is_complete
from .event_store import EventStore

SOURCES = ("live", "saved", "trace")
EVENTS = ("added", "updated", "finished", "changed", "removed", "cleared")

Listener = Callable[[str, "Run | None"], None]


@dataclass
class CpuSamples:
    """Per-core CPU use over a run's span: ``t_ns`` (n,) and ``percent`` (n, cores).

    ``percent`` is each core's busy share, 0 to 100. ``others`` and ``lab`` are in
    cores (1.0 = one core fully busy).
    """

    t_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    percent: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    # the cores other programs kept busy at each sample (None when not measured)
    others: np.ndarray | None = None
    # the cores the lab's process tree used at each sample (None when not measured)
    lab: np.ndarray | None = None

    @property
    def cores(self) -> int:
        return int(self.percent.shape[1]) if self.percent.ndim == 2 else 0


@dataclass
class Run:
    """One run of the session."""

    id: int
    name: str
    spec: P.Start | None  # None for a trace opened from another tool
    store: EventStore
    source: str = "live"
    cpu: CpuSamples = field(default_factory=CpuSamples)
    annotations: list[dict] = field(default_factory=list)
    # the run's result (``run_object``): set when it finished, or read from a file
    result: dict | None = None
    baseline_id: int | None = None  # a baseline the user chose, else the session decides
    colour: int = 0  # an index into the theme's run colours
    meta: dict[str, Any] = field(default_factory=dict)  # a trace's tool, a file's origin
    # a trace's counter tracks (``C`` events), drawn on the CPU panel: name -> (t_ns, value)
    counters: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.result is not None

    @property
    def strategy(self) -> str:
        if self.spec is not None:
            return self.spec.strategy
        return str((self.result or {}).get("strategy") or self.meta.get("tool") or "trace")

    @property
    def workload(self) -> str:
        if self.spec is not None:
            return self.spec.workload
        return str((self.result or {}).get("workload") or "")

    @property
    def wall_s(self) -> float | None:
        return None if self.result is None else self.result.get("wall_s")


def default_name(spec: P.Start | None, number: int) -> str:
    """``#3 threads ×4 · cpu-python``: what the runs list shows until renamed."""
    if spec is None:
        return f"#{number} trace"
    what = spec.user.rpartition(":")[2] if spec.workload == "user" and spec.user else spec.workload
    workers = "" if spec.strategy == "sequential" else f" ×{spec.workers}"
    return f"#{number} {spec.strategy}{workers} · {what}"


def switched_name(spec: P.Start, number: int, markers: list[dict]) -> str | None:
    """``#1 threads ×2 → process-pool ×2 · cpu-python``: a continuous run's default
    name once it has switched (None when it has not); past three strategies, the first
    and the last with "…" between."""
    switches = [m for m in markers if m.get("kind") == "switch" and m.get("to")]
    if not switches:
        return None

    def step(strategy: str, workers) -> str:
        return strategy if strategy == "sequential" else f"{strategy} ×{workers}"

    steps = [step(spec.strategy, spec.workers)]
    steps += [step(m["to"].get("strategy", "?"), m["to"].get("workers", "?")) for m in switches]
    if len(steps) > 3:
        steps = [steps[0], "…", steps[-1]]
    what = default_name(spec, number).rpartition(" · ")[2]
    return f"#{number} {' → '.join(steps)} · {what}"


class Session:
    """The runs of one sitting, in the order they were made."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.path: str | None = None  # the .concviz file it was opened from or saved to
        self.dirty = False  # changed since it was last saved or opened
        self.meta: dict[str, Any] = {}  # a file's header: machine, versions
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)
        self._colours = itertools.count(0)

    # ------------------------------------------------------------ listening
    def listen(self, fn: Listener) -> Callable[[], None]:
        """Call ``fn(event, run)`` on every change; returns a function that stops it."""
        self._listeners.append(fn)

        def unlisten() -> None:
            if fn in self._listeners:
                self._listeners.remove(fn)

        return unlisten

    def _tell(self, event: str, run: Run | None) -> None:
        for fn in list(self._listeners):
            fn(event, run)

    # ------------------------------------------------------------ changing
    def new_run(
        self,
        spec: P.Start | None,
        store: EventStore | None = None,
        *,
        name: str | None = None,
        source: str = "live",
        **fields: Any,
    ) -> Run:
        """Add a run (live: its store fills as frames arrive) and tell the listeners."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        number = next(self._ids)
        run = Run(
            id=number,
            name=name or default_name(spec, number),
            spec=spec,
            store=store if store is not None else EventStore(),
            source=source,
            colour=next(self._colours),
            **fields,
        )
        self.runs.append(run)
        self.dirty = True
        self._tell("added", run)
        return run

    def add_run(self, run: Run) -> Run:
        """Add a run made elsewhere (a file's, a trace's); its id is renumbered here."""
        run.id = next(self._ids)
        run.colour = next(self._colours)
        if not run.name:  # a driver's run: named like ``new_run``'s
            run.name = default_name(run.spec, run.id)
        self.runs.append(run)
        self.dirty = True
        self._tell("added", run)
        return run

    def take_runs(self, other: Session) -> list[Run]:
        """Move every run of ``other`` (an opened file's) into this session, in order.

        Runs are renumbered here (``add_run``), and a baseline one of them chose is
        kept pointing at the same run under its new number; colours are kept.
        """
        moved = list(other.runs)
        chosen = {run.id: run.baseline_id for run in moved}
        old_ids = {run.id: run for run in moved}
        for run in moved:
            colour = run.colour
            self.add_run(run)
            run.colour = colour
        for old_id, base in chosen.items():
            if base is not None:
                target = old_ids.get(base)
                old_ids[old_id].baseline_id = target.id if target is not None else None
        other.runs = []
        if moved:
            self._tell("changed", moved[-1])
        return moved

    def updated(self, run: Run) -> None:
        """New events arrived for a live run."""
        self._tell("updated", run)

    def finish(self, run: Run, result: dict) -> None:
        """The run ended: keep its result (``run_object``) and tell the listeners.

        A continuous run that switched strategy, still under its default name, is
        named for its whole path (the runs list named it for its first strategy)."""
        run.result = result
        if run.spec is not None and run.name == default_name(run.spec, run.id):
            run.name = switched_name(run.spec, run.id, result.get("markers") or []) or run.name
        self.dirty = True
        self._tell("finished", run)

    def rename(self, run: Run, name: str) -> None:
        name = " ".join(str(name).split())
        if name and name != run.name:
            run.name = name
            self.dirty = True
            self._tell("changed", run)

    def set_baseline(self, run: Run, baseline: Run | None) -> None:
        """Measure ``run``'s speedup against ``baseline`` (None: let the session choose)."""
        if baseline is not None and baseline.id == run.id:
            raise ValueError("a run cannot be its own baseline")
        run.baseline_id = None if baseline is None else baseline.id
        self.dirty = True
        self._tell("changed", run)

    def annotate(self, run: Run, note: dict) -> None:
        run.annotations.append(dict(note))
        self.dirty = True
        self._tell("changed", run)

    def unannotate(self, run: Run, index: int) -> None:
        """Remove ``run``'s note at ``index`` (out of range: nothing)."""
        if 0 <= index < len(run.annotations):
            del run.annotations[index]
            self.dirty = True
            self._tell("changed", run)

    def remove(self, run: Run) -> None:
        if run in self.runs:
            self.runs.remove(run)
            for other in self.runs:
                if other.baseline_id == run.id:
                    other.baseline_id = None
            self.dirty = True
            self._tell("removed", run)

    def clear(self) -> None:
        self.runs.clear()
        self.path = None
        self.dirty = False
        self.meta = {}
        self._tell("cleared", None)

    # ------------------------------------------------------------ reading
    def get(self, run_id: int) -> Run | None:
        return next((r for r in self.runs if r.id == run_id), None)

    def baseline_for(self, run: Run) -> Run | None:
        """The sequential run ``run``'s speedup is measured against, or None.

        A complete sequential run is its own baseline (speedup 1) unless the user chose
        another for it.
        """
        if run.baseline_id is not None:
            chosen = self.get(run.baseline_id)
            if chosen is not None and chosen.finished:
                return chosen
        res = run.result
        if res is None or not is_complete(res):
            return None
        if res.get("strategy") == "sequential":
            return run
        key = experiment_key(res)
        for other in reversed(self.runs):
            r = other.result
            if (
                other is not run
                and r is not None
                and r.get("strategy") == "sequential"
                and is_complete(r)
                and experiment_key(r) == key
            ):
                return other
        return None

    def speedup(self, run: Run) -> tuple[float | None, float | None]:
        """``(speedup, efficiency)`` against the run's baseline; None where unknown.

        Efficiency is the speedup per worker; a sequential run has none (one worker is
        not "50 % efficient" on a two-core machine).
        """
        base = self.baseline_for(run)
        wall = run.wall_s
        if base is None or not wall or not base.wall_s:
            return None, None
        speedup = float(base.wall_s) / float(wall)
        if run.strategy == "sequential":
            return speedup, None
        workers = run.spec.workers if run.spec is not None else (run.result or {}).get("workers")
        return speedup, (speedup / workers if workers else None)

    def same_experiment(self, run: Run) -> list[Run]:
        """The other finished runs of ``run``'s experiment (those it can be a baseline for)."""
        key = experiment_key(run.result) if run.result is not None else None
        if key is None:
            return []
        return [
            r
            for r in self.runs
            if r is not run and r.result is not None and experiment_key(r.result) == key
        ]

    def use_as_baseline(self, baseline: Run) -> list[Run]:
        """Measure every other run of ``baseline``'s experiment against it; those runs."""
        others = self.same_experiment(baseline)
        for r in others:
            self.set_baseline(r, baseline)
        return others

    def table(self) -> list[dict]:
        """One row per run, as the runs list, ``concviz info`` and the CSV show it."""
        rows = []
        for run in self.runs:
            speedup, efficiency = self.speedup(run)
            res = run.result or {}
            rows.append(
                {
                    "id": run.id,
                    "name": run.name,
                    "source": run.source,
                    "strategy": run.strategy,
                    "workload": run.workload,
                    "workers": run.spec.workers if run.spec is not None else res.get("workers"),
                    "tasks": len(res.get("tasks") or []),
                    "wall_s": res.get("wall_s"),
                    "cpu_s": res.get("cpu_s"),
                    "parallelism": res.get("parallelism"),
                    "speedup": speedup,
                    "efficiency": efficiency,
                    "finished": run.finished,
                }
            )
        return rows
