"""What every engine strategy shares: availability probes, phases, lab paths.

Standard library only: an engine imports its own package (joblib, distributed,
pyspark, mpi4py) inside its functions, so the lab still runs on an interpreter that
has none of them, and reports the engine as unavailable with the install hint.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..phases import Phase, phase  # noqa: F401 - the engines' phases, re-exported
from ..recorder import perf_ns
from ..strategies.base import RunContext

# The folder from which ``import concviz.lab`` works (the project, or a bundle's copy):
# engine workers in other processes are pointed at it.
LAB_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


# what each extra brings, for a Python that runs only the lab (no concviz installed)
EXTRA_PACKAGES = {
    "joblib": "joblib",
    "dask": "'dask[distributed]' bokeh",
    "spark": "pyspark",
    "mpi": "mpi4py mpich",
}


# how an availability reason says a package is missing (then the install hint applies)
MISSING_PACKAGE = "package is not installed"


# Engines a packaged app cannot carry, and why (the sentence the app says instead of a pip line).
OUTSIDE_THE_APP = {
    "spark": "Spark needs Java 17 or newer and about 300 MB of its own, so this app does not carry it",
    "mpi": "MPI needs an MPI runtime (mpiexec) installed on the machine, so this app does not carry it",
}
# what each extra's engine is imported as, for "a Python that has ..."
EXTRA_MODULE = {"joblib": "joblib", "dask": "dask", "spark": "pyspark", "mpi": "mpi4py"}


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def _checkout_venv() -> bool:
    """Whether this lab runs in the development environment of a source checkout."""
    if not os.path.exists(os.path.join(LAB_ROOT, "pyproject.toml")):
        return False
    venv = os.path.realpath(os.path.join(LAB_ROOT, ".venv"))
    return os.path.realpath(sys.prefix) == venv


def install_hint(extra: str) -> str:
    """How to get ``extra``'s engine, fitting how this lab was started.

    A packaged app has no pip: the user installs into a Python of their own and picks
    it. A source checkout's environment is managed by uv. Any other Python can pip.
    """
    pick = "then choose it in Lenses > Choose the lab's Python… (or pass --interpreter PATH)"
    if _frozen():
        line = f"pip install 'concviz[{extra}]' into a Python you own, {pick}"
        if extra in OUTSIDE_THE_APP:
            return f"run the lab under a Python that has {EXTRA_MODULE[extra]}: {line}"
        return line
    if _checkout_venv():
        return f"uv sync --extra {extra} (in this clone; elsewhere: pip install 'concviz[{extra}]')"
    return (
        f"pip install 'concviz[{extra}]' (in a clone: uv sync --extra {extra}); "
        f"for this Python alone: {sys.executable} -m pip install {EXTRA_PACKAGES[extra]}"
    )


def missing_module(*modules: str, extra: str) -> str | None:
    """None when every module can be imported here, else which one is missing."""
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            if _frozen() and extra in OUTSIDE_THE_APP:
                return f"{OUTSIDE_THE_APP[extra]} (the {name} {MISSING_PACKAGE} inside it)"
            return f"the {name} {MISSING_PACKAGE} for {_python()}"
    return None


def _python() -> str:
    return f"Python {sys.version_info[0]}.{sys.version_info[1]} ({sys.executable})"


def find_program(name: str) -> str | None:
    """``name`` beside this interpreter (a virtual environment's bin) or on PATH."""
    here = os.path.dirname(sys.executable)
    return shutil.which(name, path=os.pathsep.join([here, os.environ.get("PATH", "")]))


def worker_env(extra_path: list[str] | None = None) -> dict[str, str]:
    """The environment for engine worker processes: they must import ``concviz.lab``."""
    env = dict(os.environ)
    parts = [LAB_ROOT, *(extra_path or [])]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in parts if p))
    return env


def engine_info(ctx: RunContext, **details) -> None:
    """Tell the window something about the engine (dashboard address, clock offsets)."""
    ctx.emit({"type": "engine", "t_ns": perf_ns(), **details})


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_lab():
    """A ``preexec_fn`` that has the kernel SIGKILL the child when the lab dies (Linux).

    None elsewhere. ``prctl`` is looked up here, in the lab, so the child between
    fork and exec only makes one call (no import, no library loading, which could
    deadlock in a child forked from a threaded process). The signal comes when the
    *thread* that started the child ends, so start it on a thread that outlives it
    (the run's thread, which ends the child in its teardown).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError, ImportError):
        return None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    kill = int(signal.SIGKILL)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, kill, 0, 0, 0)

    return preexec


# ------------------------------------------------------------------ processes
def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (the state first), or None
    if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name may hold spaces and parentheses: the fields follow the last ')'
    return text.rsplit(")", 1)[-1].split()


def process_stat(pid: int) -> tuple[str, int, int] | None:
    """``(state, ppid, start time)`` of a process from /proc, or None if it is gone."""
    fields = stat_fields(pid)
    try:
        return fields[0], int(fields[1]), int(fields[19])
    except (TypeError, IndexError, ValueError):
        return None


def descendants(root: int) -> dict[int, int]:
    """Every process under ``root``: pid -> start time (Linux; empty where there's no /proc).

    hydra puts its proxy and each rank in a session of its own, so a signal to
    mpiexec's process group does not reach them; their pids do.
    """
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for name in names:
        if not name.isdigit():
            continue
        stat = process_stat(int(name))
        if stat is not None:
            children.setdefault(stat[1], []).append(int(name))
            starts[int(name)] = stat[2]
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            if pid not in found:
                found[pid] = starts[pid]
                todo.append(pid)
    return found


# After a stop, how long a start-up has to fail once its processes are gone; within
# the lab's grace for a stopped run (lab.STOP_GRACE_S, 0.7 s), so the run ends clean.
STOP_WAIT_S = 0.3
ABANDONED = object()  # start_up's answer when the start-up is left to finish on its own


def start_up(ctx: RunContext, build: Callable[[], Any], discard: Callable[[Any], None]) -> Any:
    """``build()`` (an engine's start-up: a JVM, a LocalCluster), ended early by a stop.

    A start-up takes seconds and cannot be interrupted from outside its thread, so it
    runs on a thread of its own while the run's thread watches for a stop. On a stop
    every process the lab started since (a JVM, Dask's worker processes) is killed,
    which makes the start-up fail within moments; the run's thread then goes on to
    its teardown at once. Returns what ``build`` returned, or None when it failed
    after a stop (raises what it raised otherwise), or ``ABANDONED`` when the run
    was stopped and ``build`` returned anyway or was still running ``STOP_WAIT_S``
    after the stop: then the run must not touch what it builds, and the start-up's
    thread hands the result to ``discard`` when it ends.
    """
    _wait_for_earlier(ctx)
    before = set(descendants(os.getpid()))
    box: dict[str, Any] = {}
    lock = threading.Lock()
    done = threading.Event()

    def go() -> None:
        try:
            value = build()
        except BaseException as exc:  # noqa: BLE001 - handed to the run's thread
            with lock:
                box["error"] = exc
            done.set()
            return
        with lock:
            # Stopped by now: what was built is ended here, off the run's thread (a
            # cluster takes seconds to close; the stopped run must not wait for it).
            left = box.get("abandoned", False) or ctx.stop_event.is_set()
            if left:
                box["abandoned"] = True
            else:
                box["value"] = value
        done.set()
        if left:
            try:
                discard(value)
            except Exception:
                pass  # nobody is left to tell; the processes were killed already

    # named concviz-: the stop's watchdog does not count it as a task stuck in the lab
    starter = threading.Thread(target=go, name="concviz-engine-start", daemon=True)
    starter.start()
    _starters.append(starter)
    while not done.wait(0.05):
        if ctx.stop_event.is_set():
            _kill_new(before)
            done.wait(STOP_WAIT_S)
            with lock:
                if "value" not in box and "error" not in box:
                    box["abandoned"] = True
            break
    if box.get("abandoned"):
        return ABANDONED
    if "error" in box:
        if ctx.stop_event.is_set():
            return None
        raise box["error"]
    return box["value"]


_starters: list[threading.Thread] = []  # start-ups that may still be closing what they built
EARLIER_WAIT_S = 20.0


def _wait_for_earlier(ctx: RunContext) -> None:
    """Let a stopped run's start-up finish closing what it built (a JVM, a cluster)
    before another starts: the two would share ports, a SparkContext, a gateway."""
    deadline = time.monotonic() + EARLIER_WAIT_S
    for t in list(_starters):
        while t.is_alive() and time.monotonic() < deadline and not ctx.stop_event.is_set():
            t.join(0.1)
    _starters[:] = [t for t in _starters if t.is_alive()]


def _kill_new(before: set[int]) -> None:
    """SIGKILL every process under the lab that was not there before (Linux; else none)."""
    for pid in descendants(os.getpid()):
        if pid in before:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                # multiprocessing's resource tracker serves the lab for its whole life
                if b"resource_tracker" in f.read():
                    continue
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
