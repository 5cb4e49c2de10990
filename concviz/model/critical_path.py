"""The critical path of a run's task graph: the longest chain of dependencies by measured time.

No schedule, however many workers, finishes a graph faster than its critical path:
wall >= critical path (and >= total work / workers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def critical_path(
    durations: Mapping[int, float], deps: Mapping[int, Sequence[int]]
) -> tuple[float, list[int]]:
    """(length, tasks on it, first to last): the heaviest path through the graph.

    ``finish(t) = durations[t] + max(finish(d) for d in deps[t])`` (0 for no deps);
    the length is the largest ``finish``, and the path follows, from its last task
    back, the dependency with the largest ``finish``. A task missing from
    ``durations`` (it never ran) counts 0. Raises ValueError on a cycle.
    """
    finish: dict[int, float] = {}
    via: dict[int, int | None] = {}
    state: dict[int, int] = {}  # 1: being visited, 2: done
    nodes = set(durations) | set(deps)
    for root in sorted(nodes):
        if state.get(root) == 2:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                best, best_dep = 0.0, None
                for d in deps.get(node, ()):
                    if finish[d] > best or best_dep is None:
                        best, best_dep = finish[d], d
                finish[node] = best + float(durations.get(node, 0.0))
                via[node] = best_dep
                state[node] = 2
                continue
            if state.get(node) == 2:
                continue
            if state.get(node) == 1:
                raise ValueError(f"the task graph has a cycle through task {node}")
            state[node] = 1
            stack.append((node, True))
            for d in deps.get(node, ()):
                if state.get(d) == 1:
                    raise ValueError(f"the task graph has a cycle through task {d}")
                if state.get(d) != 2:
                    stack.append((d, False))
    if not finish:
        return 0.0, []
    last = max(sorted(finish), key=lambda t: finish[t])
    path = [last]
    while via.get(path[-1]) is not None:
        path.append(via[path[-1]])  # type: ignore[arg-type]
    return finish[last], path[::-1]
