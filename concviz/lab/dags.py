"""Task graphs: which tasks each task needs finished before it may start.

A graph is ``deps``: one list per task of the tasks it depends on, every one of them
with a smaller index (so 0..n-1 is already an order in which the graph can run).
The strategies hand a task out only when its dependencies have ended
(``strategies.base.DagFeed``); the work of each task is a sleep of the task size,
uneven with ``--jitter``. Standard library only.
"""

from __future__ import annotations

import random

DAG_WORKLOADS: dict[str, str] = {
    "map-reduce": "map tasks, then a tree of pairwise reductions (tasks = 2 x leaves - 1)",
    "pipeline": "items through --width stages in order: stage s of item k needs stage s-1 "
    "of k and stage s of k-1",
    "wavefront": "a grid --width wide: each cell needs the cell above and the one to its left",
    "random-dag": "layers --width wide, each task needing one or two of the layer before (--seed)",
}
DEFAULT_WIDTH = 4


class BadGraph(Exception):
    """Tasks that cannot make the graph asked for (one sentence for the user)."""


def build(name: str, tasks: int, width: int | None, seed: int) -> list[list[int]]:
    """Each task's dependencies (raises BadGraph when ``tasks`` does not fit the shape)."""
    width = width or DEFAULT_WIDTH
    if name == "map-reduce":
        if tasks % 2 == 0:
            raise BadGraph(
                "map-reduce is a tree of pairwise reductions: give an odd number of tasks "
                f"(2 x leaves - 1, e.g. 127 for 64 leaves), not {tasks}"
            )
        leaves = (tasks + 1) // 2
        deps: list[list[int]] = [[] for _ in range(leaves)]
        level = list(range(leaves))
        while len(level) > 1:
            nxt = []
            for k in range(0, len(level) - 1, 2):
                deps.append([level[k], level[k + 1]])
                nxt.append(len(deps) - 1)
            if len(level) % 2:
                nxt.append(level[-1])  # the odd one out joins the next level
            level = nxt
        return deps
    if name in ("pipeline", "wavefront"):
        if tasks % width:
            what = "stages" if name == "pipeline" else "columns"
            raise BadGraph(
                f"{name} has {width} {what} (--width): give a multiple of {width} tasks, not {tasks}"
            )
        deps = []
        for i in range(tasks):
            row, col = divmod(i, width)  # pipeline: row = item, col = stage
            mine = []
            if col > 0:
                mine.append(i - 1)
            if row > 0:
                mine.append(i - width)
            deps.append(mine)
        return deps
    if name == "random-dag":
        rng = random.Random(seed)
        deps = []
        for i in range(tasks):
            layer = i // width
            if layer == 0:
                deps.append([])
                continue
            lo, hi = (layer - 1) * width, layer * width
            deps.append(sorted(rng.sample(range(lo, hi), min(hi - lo, rng.choice((1, 2))))))
        return deps
    raise BadGraph(f"not a task graph: {name}")
