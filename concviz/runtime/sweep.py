"""Sweeps: one strategy over a list of worker counts, or strategies over task sizes.

Every point of a sweep is a run of the driver's session (``RunDriver.run``), tagged
``run.meta["sweep"]`` with the sweep's id, kind and the point's x and repeat, so a
saved session keeps its sweeps and ``model.scaling`` can fit them again from the runs
alone (``sweep_from_runs``).

Runs are interleaved (every point once, then every point again), so a machine that
gets busier halfway through spreads over all points instead of bending the curve.

Threads: ``run_sweep`` blocks (the CLI's main thread, or the window's sweep thread);
``SweepJob.cancel`` may be called from any thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from concviz.lab import protocol as P
from concviz.model import scaling
from concviz.model.diagnoses import machine_cores
from concviz.model.session import Run

from .driver import RunDriver, _Cancelled
from .headless import run_batch
from .lab_process import LabProcess

KINDS = ("workers", "task_size")
DEFAULT_TOTAL_MS = 400.0  # a task-size sweep's fixed total work per point
MAX_POINTS_RUNS = 2000  # a sweep asking more runs than this is a typo, not a lesson


class BadSweep(ValueError):
    """A sweep that cannot be run as asked: one sentence for the user."""


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep: ``base`` gives the workload and knobs; the rest says what varies."""

    kind: str  # "workers" or "task_size"
    base: P.Start
    strategies: tuple[str, ...]
    workers: tuple[int, ...] = ()  # a workers sweep's worker counts
    task_ms: tuple[float, ...] = ()  # a task-size sweep's task sizes
    repeats: int = 3
    weak: bool = False  # workers sweep: the work grows with the workers
    total_ms: float = DEFAULT_TOTAL_MS  # task-size sweep: fixed total work
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadSweep(f"a sweep is over workers or task sizes, not {self.kind!r}")
        if not self.strategies:
            raise BadSweep("name at least one strategy to sweep")
        if self.repeats < 1 or self.repeats > 50:
            raise BadSweep(f"repeats must be 1 to 50, not {self.repeats}")
        if self.kind == "workers":
            if len(self.strategies) != 1:
                raise BadSweep("a workers sweep runs one strategy; name only one")
            if self.strategies[0] == "sequential":
                raise BadSweep("sequential always runs one worker: sweep another strategy")
            if not self.workers:
                raise BadSweep("name the worker counts to sweep, such as 1,2,4")
            bad = [w for w in self.workers if not 1 <= w <= P.MAX_WORKERS]
            if bad:
                raise BadSweep(f"worker counts must be 1 to {P.MAX_WORKERS}, not {bad[0]}")
        else:
            if all(s == "sequential" for s in self.strategies):
                raise BadSweep(
                    "sequential is every task size's baseline: name a strategy to compare"
                )
            if not self.task_ms:
                raise BadSweep("name the task sizes to sweep in ms, such as 0.05,0.5,5,50")
            bad = [t for t in self.task_ms if not 0 < t <= P.MAX_TASK_MS]
            if bad:
                raise BadSweep(
                    f"task sizes must be above 0 and at most {P.MAX_TASK_MS:g} ms, not {bad[0]:g}"
                )
            if not 0 < self.total_ms <= 3_600_000:
                raise BadSweep(f"the total work must be above 0 ms, not {self.total_ms:g}")
        if len(self.plan()) > MAX_POINTS_RUNS:
            raise BadSweep(
                f"this sweep would make {len(self.plan())} runs (at most {MAX_POINTS_RUNS}): "
                "sweep fewer points or repeats"
            )

    def xs(self) -> tuple:
        """The worker counts (1 always first: speedup needs T(1)) or the task sizes."""
        if self.kind == "workers":
            return tuple(sorted(set(self.workers) | {1}))
        return tuple(sorted(set(self.task_ms)))

    def lanes(self) -> tuple[str, ...]:
        """The strategies run at each point (a task-size sweep adds sequential: its baseline)."""
        if self.kind == "workers":
            return self.strategies
        rest = tuple(s for s in self.strategies if s != "sequential")
        return ("sequential", *rest)

    def start_for(self, strategy: str, x: float) -> P.Start:
        """The lab's start message of one point."""
        b = self.base
        if self.kind == "workers":
            p = int(x)
            tasks = b.tasks * p if self.weak else b.tasks
            return dataclasses.replace(
                b, strategy=strategy, workers=p, tasks=min(tasks, P.MAX_TASKS), mode="batch"
            )
        tasks = max(1, min(P.MAX_TASKS, round(self.total_ms / x)))
        return dataclasses.replace(
            b, strategy=strategy, task_ms=float(x), tasks=tasks, mode="batch"
        )

    def plan(self) -> list[tuple[int, str, float]]:
        """Every run as (repeat, strategy, x), interleaved: each point once per round."""
        return [
            (r, s, x)
            for r in range(self.repeats)
            for x, s in itertools.product(self.xs(), self.lanes())
        ]


def _walls(runs: list[Run]) -> tuple[dict, dict, dict]:
    """(walls per (strategy, x), sequential walls per x, one tag) of a sweep's runs."""
    walls: dict[tuple[str, float], list[float]] = {}
    base: dict[float, list[float]] = {}
    tag: dict = {}
    for run in runs:
        t = run.meta.get("sweep") or {}
        res = run.result or {}
        if not t or not res.get("ok") or res.get("stopped"):
            continue  # a failed or stopped point says nothing about scaling
        tag = t
        x = t["x"]
        if t["kind"] == "task_size" and t["strategy"] == "sequential":
            base.setdefault(x, []).append(float(res["wall_s"]))
        else:
            walls.setdefault((t["strategy"], x), []).append(float(res["wall_s"]))
    return walls, base, tag


def sweep_from_runs(runs: list[Run], sweep_id: str | None = None) -> dict | None:
    """The sweep object (``model.scaling.sweep_object``) of the runs tagged with a sweep.

    ``sweep_id`` picks one sweep; None takes the latest sweep among ``runs``.
    """
    tagged = [r for r in runs if (r.meta.get("sweep") or {}).get("id")]
    if not tagged:
        return None
    sid = sweep_id or tagged[-1].meta["sweep"]["id"]
    mine = [r for r in tagged if r.meta["sweep"]["id"] == sid]
    walls, base, tag = _walls(mine)
    if not tag:
        first = mine[0].meta["sweep"]
        return {"id": sid, "kind": first["kind"], "points": [], "workload": first.get("workload")}
    out = scaling.sweep_object(
        tag["kind"],
        walls,
        base,
        weak=bool(tag.get("weak")),
        workers=int(tag.get("workers") or 1),
        cores=_fit_cores(mine),
    )
    out["id"] = sid
    # points measured while other programs were busy: the fit is only as good as they are
    out["busy_runs"] = sum(
        1
        for r in mine
        if any(d["code"] == "machine-busy" for d in (r.result or {}).get("diagnoses") or [])
    )
    out["workload"] = tag.get("workload")
    out["serial_fraction"] = tag.get("serial_fraction", 0.0)
    out["workers_per_run"] = tag.get("workers") if tag["kind"] == "task_size" else None
    if tag["kind"] == "task_size":
        out["sequential"] = [
            {"task_ms": x, "wall_s": sorted(ws)[len(ws) // 2], "wall_s_spread": scaling.spread(ws)}
            for x, ws in sorted(base.items())
        ]
    return out


def _fit_cores(runs: list[Run]) -> int | None:
    """The most workers Amdahl's fit takes: the cores, where workers past them filled
    the machine (they share the cores, and their speedup stops for the machine's sake);
    None (every point) where they did not (threads waiting on I/O: eight of them on two
    cores still scale, and a fit of the first two put its ceiling under the points)."""
    cores = machine_cores()
    past = [
        float((r.result or {}).get("parallelism") or 0.0)
        for r in runs
        if int((r.meta.get("sweep") or {}).get("x") or 0) > cores
    ]
    if past and max(past) < 0.75 * cores:
        return None
    return cores


def sweep_ids(runs: list[Run]) -> list[str]:
    """The ids of the sweeps among ``runs``, oldest first."""
    seen: dict[str, None] = {}
    for r in runs:
        sid = (r.meta.get("sweep") or {}).get("id")
        if sid:
            seen.setdefault(sid, None)
    return list(seen)


def run_sweep(
    driver: RunDriver,
    spec: SweepSpec,
    on_progress: Callable[[int, int, Run | None], None] | None = None,
) -> dict:
    """Run every point of ``spec`` through ``driver`` (into its session); the sweep object.

    ``on_progress(done, total, run)`` after each run. A cancel (``driver.stop()``)
    ends the sweep early: the object holds the points measured so far and
    ``"cancelled": True``. A point whose lab refuses it raises BadInput (its sentence).
    """
    plan = spec.plan()
    runs: list[Run] = []
    cancelled = False
    # one lab for the whole sweep (starting one costs about half a second a point),
    # started again should a point end it
    own_lab = driver.lab is None
    if own_lab:
        driver.lab = LabProcess(driver.interpreter)
        driver.lab.start()
    try:
        _warm_up(driver, spec)
        cancelled, runs = _run_plan(driver, spec, plan, on_progress)
    finally:
        if own_lab and driver.lab is not None:
            driver.lab.close()
            driver.lab = None
    out = sweep_from_runs(runs, spec.id) or {"id": spec.id, "kind": spec.kind, "points": []}
    out["cancelled"] = cancelled
    out["runs"] = len(runs)
    return out


def _warm_up(driver: RunDriver, spec: SweepSpec) -> None:
    """One tiny run, not kept, before the first point: a fresh lab's first run pays for
    imports and caches (it read 0.19 s for 20 ms of work), which would bend T(1)."""
    lab = driver.lab
    if lab is None or driver.cancel.is_set():
        return
    start = dataclasses.replace(
        spec.start_for(spec.lanes()[0], spec.xs()[0]), tasks=1, task_ms=1.0, serial_fraction=0.0
    )
    run_batch(start, lab=lab, on_json=driver.on_json)


def _run_plan(driver: RunDriver, spec: SweepSpec, plan: list, on_progress) -> tuple[bool, list]:
    runs: list[Run] = []
    cancelled = False
    for i, (r, strategy, x) in enumerate(plan):
        if driver.cancel.is_set():
            cancelled = True
            break
        start = spec.start_for(strategy, x)
        name = _point_name(spec, strategy, x, r)
        tag = point_tag(spec.id, spec.kind, start, x, r, spec.weak)
        try:
            run = driver.run(start, name=name, meta={"sweep": tag})
        except _Cancelled:
            cancelled = True
            break
        runs.append(run)
        if (run.result or {}).get("stopped") and driver.cancel.is_set():
            cancelled = True
        if on_progress is not None:
            on_progress(i + 1, len(plan), run)
        if cancelled:
            break
        lab = driver.lab
        if lab is not None and (lab.proc is None or lab.proc.poll() is not None):
            lab.restart()  # the point's lab died: the next point gets a fresh one
    return cancelled, runs


def point_tag(
    sweep_id: str, kind: str, start: P.Start, x: float, repeat: int = 0, weak: bool = False
) -> dict:
    """What ``run.meta["sweep"]`` holds for a run made as the point ``x`` of a sweep
    (``sweep_from_runs`` reads it back): a sweep's own runs, and a lesson's."""
    return {
        "id": sweep_id,
        "kind": kind,
        "x": x,
        "strategy": start.strategy,
        "repeat": repeat,
        "weak": weak,
        "workers": start.workers,
        "workload": start.workload,
        "serial_fraction": start.serial_fraction,
    }


def _point_name(spec: SweepSpec, strategy: str, x: float, repeat: int) -> str:
    what = f"×{int(x)}" if spec.kind == "workers" else f"{x:g} ms"
    if spec.kind == "task_size" and strategy != "sequential":
        what = f"×{spec.base.workers} · {x:g} ms"
    return f"sweep {spec.id[:4]} · {strategy} {what} · #{repeat + 1}"
