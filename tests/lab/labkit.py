"""Helpers for the lab's tests: run a batch, talk to a lab frame by frame, find Pythons."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from concviz.lab import protocol as P
from concviz.model import EventStore, run_object
from concviz.runtime import LabProcess, run_batch

DATA = Path(__file__).parent / "data"
USER = str(DATA / "userfns.py")

STRATEGIES = (
    "sequential",
    "threads",
    "thread-pool",
    "asyncio",
    "asyncio-to-thread",
    "processes",
    "process-pool",
    "interpreter-pool",
)


def params(**kw) -> dict:
    p = {"workload": "io-sleep", "strategy": "threads", "workers": 2, "tasks": 6, "task_ms": 10}
    p.update(kw)
    return p


# Labs kept for a module's runs, one per interpreter, while the module uses the
# ``shared_labs`` fixture (tests/lab/conftest.py); None: every run starts a lab of its own.
_shared: dict[str | None, LabProcess] | None = None


def _lab_for(interpreter: str | None) -> LabProcess | None:
    """The module's lab for ``interpreter`` (a new one if a run ended the last), or None."""
    if _shared is None:
        return None
    lab = _shared.get(interpreter)
    if lab is not None and (lab.proc is None or lab.proc.poll() is not None):
        lab.close()
        lab = None
    if lab is None:
        lab = LabProcess(interpreter)
        lab.start()
        _shared[interpreter] = lab
    return lab


def share_labs() -> None:
    global _shared
    _shared = {}


def close_shared_labs() -> None:
    global _shared
    for lab in (_shared or {}).values():
        lab.close()
    _shared = None


def run(interpreter: str | None = None, **kw) -> tuple[EventStore, dict]:
    """One batch run: (store, ``--json`` run object).

    In the module's shared lab when it has one (a lab serves run after run, as the
    window's does; a run left stuck restarts it, see ``run_batch``), else in a lab of
    its own. Starting a lab costs 0.3-1 s, most of a short run.
    """
    lab = _lab_for(interpreter)
    if lab is None:
        store = run_batch(params(**kw), interpreter=interpreter)
    else:
        store = run_batch(params(**kw), lab=lab)
    return store, run_object(store)


def user(func: str) -> str:
    return f"{USER}:{func}"


def assert_sound(obj: dict, tasks: int, workers: int) -> None:
    """Exactly the tasks asked, each start < end, no overlap on a worker, <= workers used."""
    assert obj["ok"], obj["error"]
    ids = sorted(t["id"] for t in obj["tasks"])
    assert ids == list(range(tasks))
    for t in obj["tasks"]:
        assert t["start_ns"] < t["end_ns"], t
    by_worker: dict[tuple, list] = {}
    for t in obj["tasks"]:
        by_worker.setdefault((t["pid"], t["tid"], t["worker"]), []).append(t)
    assert 1 <= len(by_worker) <= workers, sorted(by_worker)
    assert len({w for (_, _, w) in by_worker}) <= workers
    for lane in by_worker.values():
        lane.sort(key=lambda t: t["start_ns"])
        for a, b in zip(lane, lane[1:], strict=False):
            assert a["end_ns"] <= b["start_ns"], (a, b)


def overlaps(tasks: list[dict]) -> int:
    """How many pairs of tasks run at the same time."""
    ts = sorted(tasks, key=lambda t: t["start_ns"])
    return sum(1 for i, a in enumerate(ts) for b in ts[i + 1 :] if b["start_ns"] < a["end_ns"])


class Session:
    """A lab driven frame by frame, everything it reports kept in an EventStore."""

    def __init__(self, interpreter: str | None = None) -> None:
        self.lab = LabProcess(interpreter)
        self.hello = self.lab.start()
        self.store = EventStore()
        self.store.add_json(self.hello)
        self.seen: list[dict] = []

    def send(self, msg: dict) -> None:
        self.lab.send(msg)

    def send_raw(self, line: bytes) -> None:
        self.lab.proc.stdin.write(line)
        self.lab.proc.stdin.flush()

    def until(self, pred) -> dict:
        """Read frames until a JSON object satisfies ``pred``; return it."""
        while True:
            frame = self.lab.read_frame()
            assert frame is not None, f"the lab ended: {self.lab.stderr_tail()[-5:]}"
            obj = self.store.add_frame(*frame)
            if obj is not None:
                self.seen.append(obj)
                if pred(obj):
                    return obj

    def until_type(self, kind: str) -> dict:
        return self.until(lambda o: o.get("type") == kind)

    def read_events_until(self, pred) -> None:
        """Read frames until ``pred(store)`` holds (checked after every frame)."""
        while not pred(self.store):
            frame = self.lab.read_frame()
            assert frame is not None, f"the lab ended: {self.lab.stderr_tail()[-5:]}"
            obj = self.store.add_frame(*frame)
            if obj is not None:
                self.seen.append(obj)

    def children(self) -> list:
        import psutil

        try:
            return psutil.Process(self.lab.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def close(self) -> None:
        self.lab.close()


# ------------------------------------------------------------------ interpreters
def pyenv_python(minor: str) -> str | None:
    """``~/.pyenv/versions/<minor>.*/bin/python<minor>`` (newest), or None."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", f"{minor}.*", "bin", f"python{minor}")))
    found = [
        p for p in found if not os.path.basename(os.path.dirname(os.path.dirname(p))).endswith("t")
    ]
    return found[-1] if found else None


def python_312_plus() -> tuple[str | None, str]:
    """A CPython 3.12+ with subinterpreters (own GIL), and what was looked for."""
    for minor in ("3.14", "3.13", "3.12"):
        path = pyenv_python(minor)
        if path:
            return path, ""
    return None, "no CPython 3.12+ under ~/.pyenv/versions (needed for subinterpreters)"


def free_threaded_python() -> tuple[str | None, str]:
    """A free-threaded CPython: $CONCVIZ_FT_PYTHON, python3.1Xt on PATH, or in pyenv."""
    env = os.environ.get("CONCVIZ_FT_PYTHON")
    candidates = [env] if env else []
    for name in ("python3.14t", "python3.13t"):
        if shutil.which(name):
            candidates.append(shutil.which(name))
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(os.path.join(root, "versions", "*t", "bin", "python3.1*t")))
    for path in candidates:
        if path and _is_free_threaded(path):
            return path, ""
    return None, (
        "no free-threaded CPython found (set CONCVIZ_FT_PYTHON, or put python3.13t/python3.14t "
        "on PATH or under ~/.pyenv/versions)"
    )


def _is_free_threaded(path: str) -> bool:
    try:
        out = subprocess.run(
            [path, "-c", "import sysconfig; print(sysconfig.get_config_var('Py_GIL_DISABLED'))"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "1"


def speedup(seq: dict, par: dict) -> float:
    return seq["wall_s"] / par["wall_s"]


__all__ = ["P"]
