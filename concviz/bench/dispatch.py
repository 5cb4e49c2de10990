"""``concviz bench dispatch``: what one task costs to hand out, per engine, and each start-up.

Every engine runs the same batch of empty tasks (cpu-python of 0 ms) on 2 workers in
one lab; ``dispatch_us_<engine>`` is the batch's wall time (start-up and teardown
excluded, as the window shows them) per task, so it is what the engine spends moving
one task in and its result out. ``thread-pool`` and ``process-pool`` run the same
batch as baselines, measured in the same run. ``startup_s_<engine>`` is the engine's
start-up phase (a cluster, a JVM, ``mpiexec``).
"""

from __future__ import annotations

DESCRIPTION = (
    "per-task dispatch cost of each engine on empty tasks (dispatch_us_<engine>) beside "
    "thread-pool and process-pool, and each engine's start-up (startup_s_<engine>)"
)

BASELINES = ("thread-pool", "process-pool")


def _key(name: str) -> str:
    return name.replace("-", "_")


def run(args) -> dict:
    from concviz.model import run_object
    from concviz.runtime import LabProcess, query, run_batch

    tasks = 40 if args.quick else 400
    lab = LabProcess()
    lab.start()
    figures: dict = {}
    baselines: dict = {}
    notes = [
        f"{tasks} empty cpu-python tasks on 2 workers per strategy, one lab; dispatch_us is "
        "the wall time per task with the engine's start-up and teardown left out"
    ]
    try:
        items = query(lab, "strategies")["items"]
        engines = [s for s in items if s.get("group") == "engines"]
        only = getattr(args, "only", None)
        if only:
            wanted = {n.strip() for n in only.split(",") if n.strip()}
            unknown = wanted - {s["name"] for s in engines}
            if unknown:
                import sys

                print(
                    f"concviz bench dispatch: not an engine: {', '.join(sorted(unknown))}.",
                    file=sys.stderr,
                )
                raise SystemExit(2)
            engines = [s for s in engines if s["name"] in wanted]
        for item in [{"name": b, "available": True} for b in BASELINES] + engines:
            name = item["name"]
            if not item["available"]:
                notes.append(f"{name} not measured: {item['reason']}")
                continue
            if item.get("needs"):  # a remote engine without its cluster's address
                notes.append(f"{name} not measured: {item['needs']}")
                continue
            store = run_batch(
                {
                    "workload": "cpu-python",
                    "strategy": name,
                    "workers": 2,
                    "tasks": tasks,
                    "task_ms": 0.0,
                    "mode": "batch",
                    "options": {"gil_probe": False},
                },
                lab=lab,
            )
            run = run_object(store)
            if not run["ok"]:
                notes.append(f"{name} failed: {run['error']}")
                continue
            figures[f"dispatch_us_{_key(name)}"] = run["wall_s"] / tasks * 1e6
            if name not in BASELINES:
                figures[f"startup_s_{_key(name)}"] = run["startup_s"]
                baselines[f"dispatch_us_{_key(name)}"] = "dispatch_us_process_pool"
    finally:
        lab.close()
    return {
        "compared": "each engine vs thread-pool and process-pool on the same empty tasks",
        "figures": figures,
        "baselines": baselines,
        "notes": notes,
    }
