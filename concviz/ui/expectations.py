"""What to expect from each strategy, in the words a teacher would use (strategy tooltips)."""

from __future__ import annotations

_THREADS = (
    "CPU-bound Python: no faster than sequential — one GIL, one thread runs Python at a "
    "time (a free-threaded Python has none). I/O, sleeps, hashlib/zlib: faster, the GIL "
    "is released while they wait or compute."
)
_PROCESSES = (
    "CPU-bound Python: faster, up to one core per worker — each process has its own GIL. "
    "Costs: starting the workers and pickling every task and result."
)

EXPECT = {
    "sequential": "The baseline: one task after another on one thread.",
    "threads": _THREADS,
    "thread-pool": _THREADS,
    "asyncio-to-thread": _THREADS,
    "asyncio": (
        "One thread, one event loop: waits on I/O overlap (faster); CPU-bound work runs "
        "one coroutine at a time (no faster), and a coroutine that never awaits blocks "
        "the rest."
    ),
    "processes": _PROCESSES,
    "process-pool": _PROCESSES,
    "interpreter-pool": (
        "CPU-bound Python: faster — each subinterpreter has its own GIL, in one process "
        "(Python 3.12+)."
    ),
    "joblib-loky": _PROCESSES + " joblib batches short tasks for you.",
    "joblib-threads": _THREADS,
    "dask-local": (
        "CPU-bound work: faster once the cluster is up (seconds to start, milliseconds "
        "per task to dispatch): pays off for tasks much longer than that."
    ),
    "dask-remote": "Like dask-local, on your cluster: the network adds to every task.",
    "spark-local": (
        "Seconds of JVM start and milliseconds per task: pays off only for large tasks."
    ),
    "spark-remote": "Like spark-local, on your cluster: the network adds to every task.",
    "mpi": "One process per rank: CPU-bound work faster; tasks are handed out in batches.",
}


def tooltip(name: str, description: str) -> str:
    """The strategy button's tooltip: what to expect first, then how it works."""
    expect = EXPECT.get(name)
    return f"{expect}\n\nHow: {description}" if expect else description
