"""The numbers of a run: parallelism, speedup, efficiency. Pure functions, no Qt."""

from __future__ import annotations


def parallelism(cpu_s: float, wall_s: float) -> float:
    """Average number of cores kept busy: ``P = cpu_s / wall_s`` (0 when wall is 0)."""
    return cpu_s / wall_s if wall_s > 0 else 0.0


def speedup(baseline_wall_s: float, wall_s: float) -> float:
    """How many times faster than the baseline: ``S = T_baseline / T``."""
    return baseline_wall_s / wall_s if wall_s > 0 else 0.0


def efficiency(speedup_value: float, workers: int) -> float:
    """Speedup per worker: ``E = S / N`` (1.0 is perfect scaling)."""
    return speedup_value / workers if workers > 0 else 0.0


def cpu_efficiency(cpu_ns: float, wall_ns: float) -> float:
    """Share of a task's wall time spent on a CPU: ``cpu / wall`` (pale bars wait)."""
    return cpu_ns / wall_ns if wall_ns > 0 else 0.0


# Above this many cores used by other programs on average, a run's timings are suspect.
BUSY_MACHINE_CORES = 0.2


def busy_machine_warning(others_cores: float | None) -> str | None:
    """One sentence when programs outside the lab took CPU during a run, else None."""
    if others_cores is None or others_cores <= BUSY_MACHINE_CORES:
        return None
    return (
        f"Other programs used {others_cores:.1f} cores during this run: "
        "its timings are not trustworthy."
    )


def task_size_text(run: dict) -> str:
    """A run's task size in words: the asked size, or for the user's own function (whose
    size nobody asked for) the measured wall time per task, median and spread."""
    measured = run.get("task_ms_measured")
    if run.get("workload") != "user":
        return f"{run['task_ms']:g} ms"
    if not measured:
        return "your function"
    return f"{measured['median']:.3g} ms (median; {measured['min']:.3g}–{measured['max']:.3g} ms)"


def measured_task_ms(walls_ms: list[float]) -> dict | None:
    """Median, minimum and maximum of the tasks' wall times (ms), or None without tasks."""
    import statistics

    if not walls_ms:
        return None
    return {
        "median": float(statistics.median(walls_ms)),
        "min": float(min(walls_ms)),
        "max": float(max(walls_ms)),
    }


class ObserverClock:
    """The watcher's own CPU over a run, in cores: ``Δ process CPU ÷ Δ wall``.

    The process's CPU clock counts every thread of the watcher (the window's GUI and
    reader threads, its samplers; or the CLI's), so the figure is what watching a
    run took from the cores the run was measured on.
    """

    def __init__(self) -> None:
        import time

        self._time = time
        self.cpu0 = time.process_time()
        self.wall0 = time.perf_counter()

    def core_fraction(self) -> float | None:
        wall = self._time.perf_counter() - self.wall0
        if wall <= 0:
            return None
        return max(0.0, self._time.process_time() - self.cpu0) / wall


def phase_text(seconds: float) -> str:
    """A start-up's or teardown's length in words: "14 ms" under a second (a process
    pool's start-up read "0.0 s" on its band beside "0.04 s" in the summary), "2.3 s"
    above."""
    if seconds < 0.995:
        return f"{max(seconds, 0.0) * 1000:.0f} ms"
    return f"{seconds:.1f} s"


def workers_text(n: int) -> str:
    """ "1 worker", "4 workers"."""
    return f"{n} worker{'' if n == 1 else 's'}"
