"""A sweep's points as CSV: one row per (strategy, workers or task size)."""

from __future__ import annotations

import csv
import io

COLUMNS = (
    "kind",
    "strategy",
    "workers",
    "task_ms",
    "repeats",
    "wall_s",
    "wall_s_spread",
    "speedup",
    "efficiency",
    "karp_flatt",
    "amdahl_serial_fraction",
    "amdahl_serial_fraction_err",
    "break_even_task_ms",
)


def sweep_csv(sweep: dict) -> str:
    """The CSV text of ``sweep`` (``concviz sweep --json``'s object).

    The fits are repeated on every row (Amdahl's for a workers sweep, each strategy's
    break-even task size for a task-size sweep), so a spreadsheet needs no second table.
    A task-size sweep's sequential baseline comes first, as strategy ``sequential``.
    """
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    kind = sweep.get("kind")
    for pt in sweep.get("sequential") or []:
        w.writerow(
            {
                "kind": kind,
                "strategy": "sequential",
                "workers": 1,
                "task_ms": pt["task_ms"],
                "wall_s": _num(pt["wall_s"]),
                "wall_s_spread": _num(pt["wall_s_spread"]),
                "speedup": 1.0,
            }
        )
    for pt in sweep.get("points") or []:
        w.writerow(
            {
                "kind": kind,
                "strategy": pt["strategy"],
                "workers": pt.get("workers", sweep.get("workers_per_run")),
                "task_ms": pt.get("task_ms"),
                "repeats": len(pt.get("walls_s") or []),
                "wall_s": _num(pt["wall_s"]),
                "wall_s_spread": _num(pt["wall_s_spread"]),
                "speedup": _num(pt["speedup"]),
                "efficiency": _num(pt["efficiency"]),
                "karp_flatt": _num(pt["karp_flatt"]),
                "amdahl_serial_fraction": _num(sweep.get("amdahl_serial_fraction")),
                "amdahl_serial_fraction_err": _num(sweep.get("amdahl_serial_fraction_err")),
                "break_even_task_ms": _num(
                    (sweep.get("break_even_task_ms") or {}).get(pt["strategy"])
                ),
            }
        )
    return buf.getvalue()


def _num(x) -> str:
    return "" if x is None else f"{float(x):.6g}"
