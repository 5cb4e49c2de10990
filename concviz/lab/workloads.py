"""What a task does: the built-in workloads, user workloads, and their calibration.

A workload is described by a JSON-able *spec* (so it can cross into worker processes
and subinterpreters); ``task_fn(spec)`` turns it into ``fn(index)`` in whatever
process or interpreter runs it. Task size is milliseconds of work on this machine:
CPU workloads do a fixed amount of work calibrated once per machine and interpreter,
so contention shows as a longer wall time, never as less work.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import pickle
import platform
import random
import select
import socket
import socketserver
import sys
import tempfile
import threading
import time
import zlib

from . import sync_workloads
from .dags import DAG_WORKLOADS
from .output import Stopped

WORKLOADS: dict[str, str] = {
    "cpu-python": "pure-Python arithmetic; holds the GIL",
    "cpu-native": "hashlib/zlib on large buffers; releases the GIL",
    "io-sleep": "time.sleep; waits without CPU",
    "io-file": "writes, syncs and reads back real files in a temporary folder",
    "io-socket": "a round trip to a TCP echo server on 127.0.0.1 that answers after the task size",
    "mixed": "cpu-python for cpu_fraction of the task, then io-sleep",
    "user": "your function: path/to/file.py:function, called with each task's index",
    **sync_workloads.SYNC_WORKLOADS,
    **DAG_WORKLOADS,
}


class BadWorkload(Exception):
    """A workload spec that cannot run (the message is shown to the user as is)."""


# Raised inside a task when the run is stopped; the recorder knows it (it records
# such a task as stopped), so it lives there.


# ---------------------------------------------------------------- stop signal
_STOP = threading.Event()
_stop_fd: int | None = None  # set inside subinterpreters, which cannot share the Event


def request_stop() -> None:
    _STOP.set()


def clear_stop() -> None:
    _STOP.clear()


def set_stop_fd(fd: int) -> None:
    global _stop_fd
    _stop_fd = fd


def _stopping() -> bool:
    if _STOP.is_set():
        return True
    if _stop_fd is not None:
        return bool(select.select([_stop_fd], [], [], 0)[0])
    return False


# ---------------------------------------------------------------- calibration
_PY_PROBE = 200_000
_NATIVE_CHUNK = 1 << 18  # 256 KiB: hashlib releases the GIL for buffers > 2 KiB
_FILE_BLOCK = 1 << 16


def _spin(n: int) -> int:
    x = 0
    for i in range(n):
        x += i * i % 7
    return x


_native_buf: bytes | None = None


def _native_chunk() -> None:
    global _native_buf
    if _native_buf is None:
        _native_buf = random.Random(1).randbytes(_NATIVE_CHUNK)
    hashlib.sha256(_native_buf).digest()


# Compressing 16 KiB of random bytes costs about what hashing 256 KiB does; the whole
# buffer took ~40x longer, which the calibration (hashes only) never saw.
_ZLIB_SLICE = _NATIVE_CHUNK // 16


def _native_step(i: int) -> None:
    """One unit of cpu-native work: mostly hashing, every eighth a compression."""
    if i % 8 == 7:
        zlib.compress(memoryview(_native_buf or b"")[:_ZLIB_SLICE], 1)
    else:
        _native_chunk()


def _typical_ms(fn, repeats: int = 5, clock=time.thread_time) -> float:
    """Median of ``repeats`` runs of ``fn`` in ms, by ``clock``.

    CPU work is timed on this thread's CPU clock, so another program that takes the
    core for a moment does not make the machine look slower than it is; the median,
    not the best, because a virtual machine's cores drift in speed and a task should
    last what was asked on a typical moment, not on the luckiest one.
    """
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append(clock() - t)
    return sorted(times)[len(times) // 2] * 1000.0


def _calibrate_now() -> dict:
    py_ms = _typical_ms(lambda: _spin(_PY_PROBE))
    _native_chunk()
    native_ms = _typical_ms(lambda: [_native_step(i) for i in range(16)])  # the task's own mix
    with tempfile.TemporaryDirectory(prefix="concviz-cal-") as d:
        blocks = 32
        file_ms = _typical_ms(lambda: _file_round(d, "cal", blocks), 2, time.perf_counter)
    return {
        "py_iters_per_ms": _PY_PROBE / max(py_ms, 1e-6),
        "native_chunks_per_ms": 16 / max(native_ms, 1e-6),
        "file_blocks_per_ms": blocks / max(file_ms, 1e-6),
    }


def calibration_path() -> str:
    base = os.environ.get("CONCVIZ_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "concviz"
    )
    key = hashlib.sha1(
        # v2: cpu-native calibrated with its compressions (v1 caches are wrong)
        f"v4|{sys.executable}|{sys.version}|{platform.node()}|{platform.machine()}".encode()
    ).hexdigest()[:16]
    return os.path.join(base, f"calibration-{key}.json")


# What each figure may be, in units per millisecond. Outside these it was not measured
# here (a hand edit, a broken write, another machine's file): a Python loop step takes
# more than 1 ns and less than 1 ms on any machine CPython runs on; hashing 256 KiB,
# or writing and syncing 64 KiB, takes between ~1 µs (100+ GB/s) and 1 s.
CALIBRATION_RANGES: dict[str, tuple[float, float]] = {
    "py_iters_per_ms": (1.0, 1e6),
    "native_chunks_per_ms": (1e-3, 1e3),
    "file_blocks_per_ms": (1e-3, 1e4),
}


def calibration_problem(cal: object) -> str | None:
    """Why ``cal`` cannot be used as a calibration (None when it can)."""
    if not isinstance(cal, dict):
        return f"it holds {type(cal).__name__}, not an object"
    for key, (low, high) in CALIBRATION_RANGES.items():
        value = cal.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{key} is missing or not a number"
        if not (math.isfinite(value) and low <= value <= high):
            return f"{key} is {value}, outside {low:g} to {high:g}"
    return None


def _say(text: str) -> None:
    sys.stderr.write(f"concviz: {text}\n")


def calibration(on_notice=None, fresh: bool = False) -> dict:
    """Work units per millisecond on this machine and interpreter (cached on disk).

    A cache that cannot be used is measured again, never obeyed: ``on_notice(text)``
    (stderr by default) is told why in one line. ``fresh`` measures regardless.
    """
    path = calibration_path()
    problem = None
    if not fresh:
        try:
            with open(path, "rb") as f:
                raw = f.read(1 << 16)  # a real cache is ~150 bytes: never read a huge file
            cal = json.loads(raw)
            problem = calibration_problem(cal)
            if problem is None:
                return {key: float(cal[key]) for key in CALIBRATION_RANGES}
        except FileNotFoundError:
            pass  # the first run here: nothing to tell
        except (OSError, ValueError, RecursionError) as exc:
            problem = f"it cannot be read ({type(exc).__name__})"
    if problem is not None:
        (on_notice or _say)(
            f"the calibration cache {path} was discarded ({problem}); measuring again"
        )
    cal = _calibrate_now()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + f".{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(cal, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home still runs, it only calibrates again next time
    return cal


# ---------------------------------------------------------------- building blocks
def _cpu_python(ms: float, cal: dict) -> None:
    total = int(ms * cal["py_iters_per_ms"])
    step = max(1, int(cal["py_iters_per_ms"]))  # about 1 ms between stop checks
    while total > 0:
        n = min(step, total)
        _spin(n)
        total -= n
        if _stopping():
            raise Stopped("stopped")


def _cpu_native(ms: float, cal: dict) -> None:
    exact = ms * cal["native_chunks_per_ms"]
    if exact < 0.5:
        # less than half a chunk (a granularity sweep's 0.05 ms tasks): hash that share of
        # the buffer, not a whole chunk, or every small task would take a chunk's time.
        # At least 4 KiB, so hashlib still releases the GIL as it does for larger work.
        global _native_buf
        if _native_buf is None:
            _native_buf = random.Random(1).randbytes(_NATIVE_CHUNK)
        size = max(4096, int(exact * _NATIVE_CHUNK))
        hashlib.sha256(memoryview(_native_buf)[:size]).digest()
        return
    chunks = max(1, round(exact))
    for i in range(chunks):
        if i % 4 == 0 and _stopping():
            raise Stopped("stopped")
        _native_step(i)


def _sleep(ms: float) -> None:
    end = time.perf_counter() + ms / 1000.0
    while True:
        left = end - time.perf_counter()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))
        if _stopping():
            raise Stopped("stopped")


def _file_round(folder: str, name: str, blocks: int) -> None:
    path = os.path.join(folder, f"{name}.bin")
    block = b"\x5a" * _FILE_BLOCK
    with open(path, "wb") as f:
        for _ in range(blocks):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass
    os.remove(path)


def _socket_round(port: int, ms: float, index: int) -> None:
    payload = b"x" * 512
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"{ms:.3f} {len(payload)}\n".encode() + payload)
        got = 0
        while got < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError(f"echo server closed the connection (task {index})")
            got += len(chunk)


# ---------------------------------------------------------------- echo server
class _EchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        try:
            ms_text, size_text = line.split()
            ms, size = float(ms_text), int(size_text)
        except ValueError:
            return
        data = self.rfile.read(size)
        time.sleep(ms / 1000.0)  # the "remote service" takes its time
        self.wfile.write(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class EchoServer:
    """A TCP echo server on 127.0.0.1 (ephemeral port), in a thread of the lab."""

    def __init__(self) -> None:
        self._server = _EchoServer(("127.0.0.1", 0), _EchoHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="concviz-echo", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---------------------------------------------------------------- user workloads
def parse_user_ref(ref: str) -> tuple[str, str]:
    path, sep, func = ref.rpartition(":")
    if not sep or not path or not func:
        raise BadWorkload(f"user workload {ref!r} must be written as path/to/file.py:function")
    return path, func


# The last import of a user module this process made: (t0_ns, t_ns, path). A run
# reports it as a start-up phase (the module's own import time: under ``fork`` the
# workers inherit it, so it is paid here once, before the run).
_last_import: tuple[int, int, str] | None = None


def take_import() -> tuple[int, int, str] | None:
    """The user module import made since the last call, if any: (t0_ns, t_ns, path)."""
    global _last_import
    out, _last_import = _last_import, None
    return out


def load_user_function(ref: str):
    global _last_import
    path, func = parse_user_ref(ref)
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise BadWorkload(f"user workload file {path} does not exist")
    name = "concviz_user_" + hashlib.sha1(path.encode()).hexdigest()[:10]
    mod = sys.modules.get(name)
    if mod is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise BadWorkload(f"user workload file {path} is not a Python file")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        t0 = time.perf_counter_ns()
        try:
            spec.loader.exec_module(mod)
            _last_import = (t0, time.perf_counter_ns(), path)
        except SyntaxError as exc:
            del sys.modules[name]
            raise BadWorkload(
                f"user workload file {path} has a syntax error on line {exc.lineno}: {exc.msg}"
            ) from None
        except Exception as exc:
            del sys.modules[name]
            raise BadWorkload(
                f"user workload file {path} failed to import: {type(exc).__name__}: {exc}"
            ) from None
    fn = getattr(mod, func, None)
    if fn is None:
        raise BadWorkload(f"user workload file {path} has no function named {func!r}")
    if not callable(fn):
        raise BadWorkload(f"{func!r} in {path} is not a function")
    return fn


def check_picklable(ref: str) -> None:
    """A process strategy ships the function to workers: refuse one pickle cannot name."""
    fn = load_user_function(ref)
    try:
        pickle.dumps(fn)
    except Exception as exc:
        _, func = parse_user_ref(ref)
        raise BadWorkload(
            f"user function {func!r} cannot be pickled for a process strategy "
            f"({type(exc).__name__}); define it with def at the top level of its file"
        ) from None


# ---------------------------------------------------------------- specs
def make_spec(
    name: str,
    task_ms: float,
    seed: int = 0,
    cpu_fraction: float = 0.5,
    jitter: float = 0.0,
    user: str | None = None,
    on_notice=None,
    options: dict | None = None,
    calibrate: bool = True,
) -> dict:
    """Validate workload parameters and return the spec (raises BadWorkload).

    ``calibrate=False`` only checks: the spec has no calibration and cannot run.

    ``on_notice(text)`` hears about a calibration cache that had to be measured again;
    ``options`` are the start's options, of which the sync workloads take their knobs.
    """
    if name not in WORKLOADS:
        raise BadWorkload(f"unknown workload {name!r}; choose one of: {', '.join(WORKLOADS)}")
    if not (isinstance(task_ms, (int, float)) and task_ms >= 0):
        raise BadWorkload(f"task size must be zero or more milliseconds, not {task_ms!r}")
    if not (0.0 <= cpu_fraction <= 1.0):
        raise BadWorkload(f"cpu fraction must be between 0 and 1, not {cpu_fraction!r}")
    if not (0.0 <= jitter < 1.0):
        raise BadWorkload(f"jitter must be at least 0 and below 1, not {jitter!r}")
    spec = {
        "name": name,
        "task_ms": float(task_ms),
        "seed": int(seed),
        "cpu_fraction": float(cpu_fraction),
        "jitter": float(jitter),
        "user": None,
        "cal": None,
        "port": None,
        "folder": None,
    }
    if name == "user":
        if not user:
            raise BadWorkload("the user workload needs a function: path/to/file.py:function")
        load_user_function(user)
        spec["user"] = os.path.abspath(parse_user_ref(user)[0]) + ":" + parse_user_ref(user)[1]
    if name in sync_workloads.SYNC_WORKLOADS:
        try:
            spec.update(sync_workloads.knobs(name, options or {}))
        except sync_workloads.BadKnob as exc:
            raise BadWorkload(str(exc)) from None
    else:
        for key in ("sync", "critical_fraction", "limit", "queue_size", "producer_ms"):
            if key in (options or {}):
                raise BadWorkload(
                    f"--{key.replace('_', '-')} applies only to the workloads that share "
                    f"objects ({', '.join(sync_workloads.SYNC_WORKLOADS)}), not to {name}"
                )
    if name in DAG_WORKLOADS:
        spec["width"] = (options or {}).get("width")
        if name == "map-reduce" and spec["width"] is not None:
            raise BadWorkload(
                "map-reduce is a tree of pairwise reductions, its shape set by --tasks alone: "
                "--width applies to pipeline, wavefront and random-dag"
            )
    elif "width" in (options or {}):
        raise BadWorkload(
            f"--width applies only to the task graphs ({', '.join(DAG_WORKLOADS)}), not to {name}"
        )
    if calibrate and name in ("cpu-python", "cpu-native", "io-file", "mixed", "contended-lock"):
        spec["cal"] = calibration(on_notice)
    return spec


class Resources:
    """What a run's workload needs while it runs (echo server, temporary folder)."""

    def __init__(self, spec: dict, strategy: str = "sequential", workers: int = 1) -> None:
        self._server: EchoServer | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._spec = spec
        self._shared: sync_workloads.Shared | None = None
        if spec["name"] in sync_workloads.SYNC_WORKLOADS:
            self._shared = spec["shared"] = sync_workloads.Shared(spec, strategy, workers)
        if spec["name"] == "io-socket":
            self._server = EchoServer()
            spec["port"] = self._server.port
        if spec["name"] == "io-file":
            self._folder = tempfile.TemporaryDirectory(prefix="concviz-io-")
            spec["folder"] = self._folder.name

    def result(self, tasks_run: int = 0, stopped: bool = False) -> dict | None:
        """What the workload counted (shared-counter's lost updates), or None."""
        if self._shared is None:
            return None
        return self._shared.result(tasks_run, self._spec, stopped)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._folder is not None:
            self._folder.cleanup()
        if self._shared is not None:
            self._spec.pop("shared", None)
            self._shared.close()


def task_ms_for(spec: dict, index: int) -> float:
    if spec["jitter"] <= 0:
        return spec["task_ms"]
    r = random.Random(spec["seed"] * 1_000_003 + index).uniform(-1.0, 1.0)
    return spec["task_ms"] * (1.0 + spec["jitter"] * r)


# asyncio (and inspect, which it imports) are imported only where a coroutine is
# involved: every worker process under spawn/forkserver and every subinterpreter
# imports this module, and asyncio alone took ~0.1 s of each one's start.
def task_fn(spec: dict):
    """``fn(index)`` running one task of this workload in the calling interpreter."""
    name = spec["name"]
    cal = spec["cal"]
    if name in sync_workloads.SYNC_WORKLOADS:
        return sync_workloads.task_fn(spec)
    if name in DAG_WORKLOADS:  # a graph's task waits like I/O: its order is the lesson
        return lambda i: _sleep(task_ms_for(spec, i))
    if name == "cpu-python":
        return lambda i: _cpu_python(task_ms_for(spec, i), cal)
    if name == "cpu-native":
        _native_chunk()
        return lambda i: _cpu_native(task_ms_for(spec, i), cal)
    if name == "io-sleep":
        return lambda i: _sleep(task_ms_for(spec, i))
    if name == "io-file":
        folder = spec["folder"]

        def file_task(i: int) -> None:
            blocks = max(1, round(task_ms_for(spec, i) * cal["file_blocks_per_ms"]))
            _file_round(folder, f"task-{os.getpid()}-{i}", blocks)

        return file_task
    if name == "io-socket":
        port = spec["port"]
        return lambda i: _socket_round(port, task_ms_for(spec, i), i)
    if name == "mixed":
        f = spec["cpu_fraction"]

        def mixed_task(i: int) -> None:
            ms = task_ms_for(spec, i)
            _cpu_python(ms * f, cal)
            _sleep(ms * (1.0 - f))

        return mixed_task
    if name == "user":
        import inspect

        fn = load_user_function(spec["user"])
        if inspect.iscoroutinefunction(fn):
            import asyncio  # only here and below: see the note above task_fn

            return lambda i: asyncio.run(fn(i))
        return fn
    raise BadWorkload(f"unknown workload {name!r}")


def async_task_fn(spec: dict):
    """``async fn(index)`` for the asyncio strategy: I/O awaits, CPU work blocks the loop."""
    import asyncio

    name = spec["name"]
    if name in sync_workloads.SYNC_WORKLOADS:
        return sync_workloads.async_task_fn(spec)
    if name == "io-sleep" or name in DAG_WORKLOADS:

        async def sleep_task(i: int) -> None:
            await asyncio.sleep(task_ms_for(spec, i) / 1000.0)

        return sleep_task
    if name == "io-socket":
        port = spec["port"]

        async def socket_task(i: int) -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            payload = b"x" * 512
            writer.write(f"{task_ms_for(spec, i):.3f} {len(payload)}\n".encode() + payload)
            await writer.drain()
            await reader.readexactly(len(payload))
            writer.close()
            await writer.wait_closed()

        return socket_task
    if name == "mixed":
        f = spec["cpu_fraction"]
        cal = spec["cal"]

        async def mixed_task(i: int) -> None:
            ms = task_ms_for(spec, i)
            _cpu_python(ms * f, cal)
            await asyncio.sleep(ms * (1.0 - f) / 1000.0)

        return mixed_task
    if name == "user":
        import inspect

        fn = load_user_function(spec["user"])
        if inspect.iscoroutinefunction(fn):
            return fn
    sync = task_fn(spec)

    async def blocking_task(i: int) -> None:
        sync(i)  # runs on the loop's thread: nothing else can run meanwhile

    return blocking_task


def serial_step(spec: dict, ms: float) -> None:
    """The serial part of an Amdahl run: pure-Python work nothing can share."""
    cal = spec["cal"] or calibration()
    _cpu_python(ms, cal)
