"""The runs table (``Session.table()``) as CSV: one row per run, for a spreadsheet."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from concviz.model.session import Session

COLUMNS = (
    "id",
    "name",
    "source",
    "strategy",
    "workload",
    "workers",
    "tasks",
    "wall_s",
    "cpu_s",
    "parallelism",
    "speedup",
    "efficiency",
    "finished",
)


def runs_csv(session: Session) -> str:
    """The session's runs table as CSV text (empty cells where a figure is unknown)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in session.table():
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    return out.getvalue()


def write_runs_csv(session: Session, path: str | os.PathLike) -> None:
    """Write the runs table atomically (a temporary file, then a rename)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(runs_csv(session), encoding="utf-8", newline="")
    os.replace(tmp, target)
