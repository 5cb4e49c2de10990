"""concviz's recording beside VizTracer and py-spy, on the same program, the same day.

The program: a 2-thread ``ThreadPoolExecutor`` running N ``cpu-python`` tasks of
0.2 ms (``bench overhead``'s bare thread-pool side), and concviz's recorded
``thread-pool`` on the same tasks. Each run prints the seconds of its pool alone
(interpreter start-up and the tools' own start-up and output are left out).

    uv run python docs/recording-cost/compare_tools.py            # 5 interleaved repeats
    uv run python docs/recording-cost/compare_tools.py --repeats 7 --tasks 10000

VizTracer and py-spy are fetched by ``uv run --with`` into a temporary environment.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

VIZTRACER = "viztracer==1.1.1"
PY_SPY = "py-spy==0.4.3"


def one(side: str, tasks: int, task_ms: float) -> None:
    """Run the program once in this process and print its pool's seconds."""
    from concviz.bench.overhead import BARE, Window, recorded
    from concviz.lab.workloads import make_spec

    spec = make_spec("cpu-python", task_ms)
    clock = Window()
    if side == "concviz":
        recorded("thread-pool", spec, tasks, clock)
    else:
        BARE["thread-pool"](spec, tasks, clock)
    print(f"concviz-seconds {clock.seconds:.4f}")


def timed(cmd: list[str]) -> float:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    # the tools print their own lines too: the program's is marked
    return next(
        float(line.split()[1]) for line in out.splitlines() if line.startswith("concviz-seconds ")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--task-ms", type=float, default=0.2)
    parser.add_argument("--one", choices=["bare", "concviz"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.tasks, args.task_ms)
        return 0
    me = [str(Path(__file__).resolve()), "--tasks", str(args.tasks), "--task-ms", str(args.task_ms)]
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "bare": [py, *me, "--one", "bare"],
            "viztracer": [
                "uv",
                "run",
                "--with",
                VIZTRACER,
                "viztracer",
                "--quiet",
                "-o",
                f"{tmp}/trace.json",
                *me,
                "--one",
                "bare",
            ],
            "py-spy": [
                "uv",
                "run",
                "--with",
                PY_SPY,
                "py-spy",
                "record",
                "-r",
                "100",
                "--format",
                "raw",
                "-o",
                f"{tmp}/spy.txt",
                "--",
                py,
                *me,
                "--one",
                "bare",
            ],
            "concviz": [py, *me, "--one", "concviz"],
        }
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        names = list(runs)
        for r in range(args.repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:  # the order rotates
                seconds[name].append(timed(runs[name]))
    bare = statistics.median(seconds["bare"])
    table = {}
    for name, values in seconds.items():
        med = statistics.median(values)
        table[name] = {
            "seconds": values,
            "median_s": round(med, 4),
            "ratio_to_bare": round(med / bare, 3),
            "spread": round((max(values) - min(values)) / med, 3),
        }
        print(
            f"| {name} | {', '.join(f'{v:.2f}' for v in values)} | {med:.3f} | {med / bare:.2f} |"
        )
    print(json.dumps({"tasks": args.tasks, "task_ms": args.task_ms, "table": table}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
