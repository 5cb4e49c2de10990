"""How a strategy scales: speedup, efficiency, Amdahl, Gustafson and Karp–Flatt. No Qt.

Pure functions over wall times, each with its formula; ``sweep_points`` and
``sweep_object`` turn the walls of a sweep (workers or task sizes, each point repeated)
into the object ``concviz sweep --json`` writes and the window's Sweep view draws.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def speedup(t1_s: float, tp_s: float) -> float:
    """Strong-scaling speedup ``S(p) = T(1) / T(p)`` (0 when ``T(p)`` is 0)."""
    return t1_s / tp_s if tp_s > 0 else 0.0


def scaled_speedup(t1_s: float, tp_s: float, p: int) -> float:
    """Weak-scaling (scaled) speedup ``S(p) = p · T(1) / T(p)``: ``p`` times the work in ``T(p)``."""
    return p * t1_s / tp_s if tp_s > 0 else 0.0


def efficiency(s: float, p: int) -> float:
    """Speedup per worker ``E = S / p`` (1.0 is perfect scaling)."""
    return s / p if p > 0 else 0.0


def amdahl(f: float, p: float) -> float:
    """Amdahl's law, the speedup of fixed work with serial fraction ``f``: ``S = 1 / (f + (1 − f) / p)``."""
    return 1.0 / (f + (1.0 - f) / p)


def gustafson(f: float, p: float) -> float:
    """Gustafson's law, the scaled speedup of work that grows with ``p``: ``S = p − f (p − 1)``."""
    return p - f * (p - 1.0)


def karp_flatt(s: float, p: int) -> float | None:
    """The experimentally determined serial fraction ``e = (1/S − 1/p) / (1 − 1/p)``.

    None for one worker (the formula divides by zero there) or no speedup. An ``e``
    that rises with ``p`` says overhead grows with the workers; a flat one, a real
    serial part.
    """
    if p <= 1 or s <= 0:
        return None
    return (1.0 / s - 1.0 / p) / (1.0 - 1.0 / p)


def fit_amdahl(ps: Sequence[float], ss: Sequence[float]) -> tuple[float | None, float | None]:
    """Amdahl's serial fraction ``f`` fitted by least squares on ``1/S``, and its standard error.

    ``1/S = f + (1 − f)/p`` is linear in ``f``: with ``y = 1/S − 1/p`` and
    ``x = 1 − 1/p``, ``y = f·x``, a line through the origin, so
    ``f = Σxy / Σx²`` and its standard error ``√(Σ(y − f·x)² / (n − 1) / Σx²)``
    over the ``n`` points with ``p > 1`` (each repeat is a point). ``f`` is clipped
    to 0…1; the error is None with fewer than two such points, both None with none.
    """
    xs, ys = [], []
    for p, s in zip(ps, ss, strict=True):
        if p > 1 and s > 0:
            xs.append(1.0 - 1.0 / p)
            ys.append(1.0 / s - 1.0 / p)
    sxx = sum(x * x for x in xs)
    if not xs or sxx <= 0:
        return None, None
    f = sum(x * y for x, y in zip(xs, ys, strict=True)) / sxx
    err = None
    if len(xs) >= 2:
        rss = sum((y - f * x) ** 2 for x, y in zip(xs, ys, strict=True))
        err = math.sqrt(rss / (len(xs) - 1) / sxx)
    return min(1.0, max(0.0, f)), err


def fit_gustafson(ps: Sequence[float], ss: Sequence[float]) -> float | None:
    """Gustafson's serial fraction by least squares: ``p − S = f (p − 1)``, so
    ``f = Σ(p − S)(p − 1) / Σ(p − 1)²`` (clipped to 0…1; None without a ``p > 1``)."""
    num = den = 0.0
    for p, s in zip(ps, ss, strict=True):
        if p > 1:
            num += (p - s) * (p - 1.0)
            den += (p - 1.0) ** 2
    if den <= 0:
        return None
    return min(1.0, max(0.0, num / den))


def spread(values: Sequence[float]) -> float:
    """The spread of repeated walls: ``max − min`` (0 for one value)."""
    return (max(values) - min(values)) if values else 0.0


def break_even(sizes: Sequence[float], ss: Sequence[float]) -> float | None:
    """The task size (ms) from which a strategy first beats sequential (``S > 1``).

    Scanning sizes from small to large, the first point with ``S > 1``; between it
    and the point before (``S ≤ 1``) the crossing of ``S = 1`` is interpolated on a
    log scale of size: ``log x = log x₀ + (1 − S₀)/(S₁ − S₀) · (log x₁ − log x₀)``.
    The smallest size when it already wins there; None when it never does.
    """
    pairs = sorted((x, s) for x, s in zip(sizes, ss, strict=True) if x > 0)
    prev = None
    for x, s in pairs:
        if s > 1.0:
            if prev is None:
                return x
            x0, s0 = prev
            t = (1.0 - s0) / (s - s0) if s != s0 else 0.0
            return math.exp(math.log(x0) + t * (math.log(x) - math.log(x0)))
        prev = (x, s)
    return None


def default_workers(cores: int) -> list[int]:
    """A workers sweep's default list: 1, 2, 3, 4 … up to twice the cores."""
    return list(range(1, 2 * max(1, cores) + 1))


def sweep_points(
    kind: str,
    walls: dict[tuple[str, float], list[float]],
    baseline: dict[float, list[float]] | None = None,
    weak: bool = False,
) -> list[dict]:
    """The points of a sweep from each (strategy, x)'s repeated walls (seconds).

    ``kind`` ``"workers"``: x is the worker count and ``T(1)`` the strategy's median
    wall at one worker (``speedup``, or ``scaled_speedup`` when ``weak``).
    ``"task_size"``: x is the task size (ms) and ``T(1)`` the median sequential wall at
    that size (``baseline``); efficiency there is per worker of the run (``workers``
    given in the point by the caller, else 1). Each point has the median wall, its
    spread, speedup, efficiency and Karp–Flatt's ``e`` (workers sweeps only).
    """
    points = []
    for (strategy, x), ws in sorted(walls.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        if not ws:
            continue
        wall = statistics.median(ws)
        if kind == "workers":
            p = int(x)
            ones = walls.get((strategy, 1)) or walls.get((strategy, 1.0))
            t1 = statistics.median(ones) if ones else None
            if t1 is None:
                s = None
            else:
                s = scaled_speedup(t1, wall, p) if weak else speedup(t1, wall)
            points.append(
                {
                    "workers": p,
                    "strategy": strategy,
                    "wall_s": wall,
                    "wall_s_spread": spread(ws),
                    "walls_s": list(ws),
                    "speedup": s,
                    "efficiency": efficiency(s, p) if s is not None else None,
                    "karp_flatt": karp_flatt(s, p) if s is not None else None,
                }
            )
        else:
            base = (baseline or {}).get(x)
            t1 = statistics.median(base) if base else None
            s = speedup(t1, wall) if t1 is not None else None
            points.append(
                {
                    "task_ms": x,
                    "strategy": strategy,
                    "wall_s": wall,
                    "wall_s_spread": spread(ws),
                    "walls_s": list(ws),
                    "speedup": s,
                    "efficiency": None,  # filled per worker count by sweep_object
                    "karp_flatt": None,
                }
            )
    return points


def sweep_object(
    kind: str,
    walls: dict[tuple[str, float], list[float]],
    baseline: dict[float, list[float]] | None = None,
    weak: bool = False,
    workers: int = 1,
    cores: int | None = None,
) -> dict:
    """``concviz sweep --json``: the points and the fits.

    Workers sweeps: Amdahl's ``f`` (and its error) fitted over every repeat of every
    strategy's points with ``1 < p ≤ cores`` (strong scaling), or Gustafson's ``f``
    (weak). Past the cores, workers share them: the speedup stops for the machine's
    sake, not the program's, and would read as a serial part (Karp–Flatt's rising
    ``e`` shows it there instead). ``cores`` None fits every point.
    Task-size sweeps: each strategy's break-even task size, and efficiency as speedup
    per worker (``workers``).
    """
    points = sweep_points(kind, walls, baseline, weak)
    out: dict = {
        "kind": kind,
        "weak": bool(weak) if kind == "workers" else None,
        "points": points,
        "amdahl_serial_fraction": None,
        "amdahl_serial_fraction_err": None,
        "gustafson_serial_fraction": None,
        "break_even_task_ms": {},
        "fit_max_workers": cores if kind == "workers" else None,
    }
    if kind == "workers":
        ps, ss = [], []
        for pt in points:
            ones = walls.get((pt["strategy"], 1)) or walls.get((pt["strategy"], 1.0))
            if not ones:
                continue
            t1 = statistics.median(ones)
            if cores is not None and pt["workers"] > cores:
                continue
            for w in pt["walls_s"]:
                ps.append(pt["workers"])
                ss.append(scaled_speedup(t1, w, pt["workers"]) if weak else speedup(t1, w))
        if weak:
            out["gustafson_serial_fraction"] = fit_gustafson(ps, ss)
        else:
            f, err = fit_amdahl(ps, ss)
            out["amdahl_serial_fraction"], out["amdahl_serial_fraction_err"] = f, err
    else:
        for pt in points:
            if pt["speedup"] is not None:
                pt["efficiency"] = efficiency(pt["speedup"], max(1, workers))
        for strategy in sorted({pt["strategy"] for pt in points}):
            mine = [pt for pt in points if pt["strategy"] == strategy and pt["speedup"] is not None]
            out["break_even_task_ms"][strategy] = break_even(
                [pt["task_ms"] for pt in mine], [pt["speedup"] for pt in mine]
            )
    return out
