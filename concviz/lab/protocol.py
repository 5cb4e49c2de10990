"""The lab's wire format: JSON control lines in, length-prefixed binary frames out.

Standard library only: this module is imported by the lab (any CPython >= 3.10) and by
the window's model layer, which decodes event records with numpy using ``RECORD_FIELDS``.

Frame = header ``<IB`` (payload length, frame kind) + payload.

* ``FRAME_EVENTS``: a run of fixed-width event records (``RECORD``), packed in batches.
* ``FRAME_JSON``: one UTF-8 JSON object (handshake, markers, errors, summaries).
* ``FRAME_OUTPUT``: text the user's code printed (captured, never mixed with frames).

Control lines are typed: one frozen dataclass per command (``Start``, ``Stop``,
``Switch``, ``Set``, ``Ping``, ...), validated when built, and one parser,
``parse_control``, that turns a line into one of them or raises ``ControlError``
naming the field. The lab, the CLI and the window all build their lines with
``message.line()``; nobody writes these dicts by hand.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import struct
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, ClassVar

PROTOCOL_VERSION = 1
# The oldest Python the lab runs under (lab/__main__.py repeats it: it must refuse an
# older Python before importing anything that Python cannot parse).
MIN_PYTHON = (3, 10)

HEADER = struct.Struct("<IB")

FRAME_EVENTS = 1
FRAME_JSON = 2
FRAME_OUTPUT = 3

# Event kinds. END / ERROR / SLICE_END carry the interval's start in ``t0_ns`` and
# the CPU time consumed by the interval in ``cpu_ns``, both measured in the worker, so
# one record describes a finished bar without pairing.
EV_QUEUED = 1
EV_START = 2
EV_END = 3
EV_ERROR = 4
EV_SLICE_START = 5
EV_SLICE_END = 6
# A GIL probe sample: a lab thread asked to sleep t0_ns and woke cpu_ns late.
EV_PROBE = 7
# A task cut short by a stop (a workload's stop check, a cancelled coroutine): like
# END, but neither a success nor a failure.
EV_STOPPED = 8
# A finished wait on a synchronisation object (``lab/sync.py``): ``t0_ns`` .. ``t_ns``
# is the time the task was blocked, ``flags`` the object's kind (``SYNC_KINDS``) and
# ``cpu_ns`` packs the object's id with the task that held it (``pack_wait``).
EV_WAIT = 9
# A sample of a counter (a queue's depth): ``task`` is the object's id, ``cpu_ns`` the
# value at ``t_ns``.
EV_COUNTER = 10

EVENT_NAMES = {
    EV_QUEUED: "queued",
    EV_START: "start",
    EV_END: "end",
    EV_ERROR: "error",
    EV_SLICE_START: "slice_start",
    EV_SLICE_END: "slice_end",
    EV_PROBE: "probe",
    EV_STOPPED: "stopped",
    EV_WAIT: "wait",
    EV_COUNTER: "counter",
}

# What a wait record's ``flags`` byte says the object was.
SYNC_KINDS = {
    1: "lock",
    2: "rlock",
    3: "semaphore",
    4: "condition",
    5: "event",
    6: "barrier",
    7: "queue",
    8: "dependency",
}
SYNC_KIND_CODES = {name: code for code, name in SYNC_KINDS.items()}

# A wait's ``cpu_ns`` is ``object id << HOLDER_BITS | (holder task + 1)``: task ids stay
# below MAX_TASKS (2**20), and an object id (a pid and a counter) fits in the rest.
HOLDER_BITS = 21
HOLDER_MASK = (1 << HOLDER_BITS) - 1


def pack_wait(obj_id: int, holder: int) -> int:
    """One wait's object and holder (-1: none or unknown) in one signed 64-bit field."""
    return (obj_id << HOLDER_BITS) | ((holder + 1) & HOLDER_MASK if holder >= 0 else 0)


def unpack_wait(value: int) -> tuple[int, int]:
    """(object id, holder task or -1) from a wait record's ``cpu_ns``."""
    return value >> HOLDER_BITS, (value & HOLDER_MASK) - 1


# Worker index reserved for the serial (Amdahl) step and for the dispatcher.
WORKER_SERIAL = 65535
WORKER_DISPATCH = 65534
WORKER_PROBE = 65533
# Counter samples (a queue's depth) belong to no worker's row.
WORKER_COUNTER = 65532

# kind, flags, worker, task, pid, tid, t_ns, cpu_ns, t0_ns
RECORD_FIELDS = (
    ("kind", "<u1"),
    ("flags", "<u1"),
    ("worker", "<u2"),
    ("task", "<i8"),
    ("pid", "<u4"),
    ("tid", "<u8"),
    ("t_ns", "<i8"),
    ("cpu_ns", "<i8"),
    ("t0_ns", "<i8"),
)
_RECORD_BODY = "BBHqIQqqq"
RECORD = struct.Struct("<" + _RECORD_BODY)
RECORD_SIZE = RECORD.size

_many_cache: dict[int, struct.Struct] = {}


def pack_records(records: list[tuple]) -> bytes:
    """Pack event tuples (in ``RECORD_FIELDS`` order) into one payload, with one call."""
    n = len(records)
    s = _many_cache.get(n)
    if s is None:
        s = struct.Struct("<" + _RECORD_BODY * n)
        if len(_many_cache) < 64:
            _many_cache[n] = s
    return s.pack(*chain.from_iterable(records))


def unpack_records(payload: bytes) -> list[tuple]:
    """Decode an events payload into tuples (for tests and non-numpy readers)."""
    return [RECORD.unpack_from(payload, off) for off in range(0, len(payload), RECORD_SIZE)]


# A pipe that carries event batches is widened to this (Linux lets any process grow a
# pipe to ``/proc/sys/fs/pipe-max-size``, 1 MiB by default). A full batch is 196 KB, and
# the 64 KiB a pipe holds by default made each writer wait for its reader to drain
# every batch in three turns: two workers' batches then crossed the lab's relay at
# about 1 M events/s, against 2.6 M/s for the same pipes holding a batch whole.
WIDE_PIPE_BYTES = 1 << 20


def widen_pipe(fd: int, size: int = WIDE_PIPE_BYTES) -> int:
    """Grow the pipe ``fd`` belongs to (either end) to ``size`` bytes where the system
    allows it; returns its size now, or 0 where it cannot be read (not Linux, not a pipe)."""
    try:
        import fcntl
    except ImportError:  # Windows
        return 0
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    getter = getattr(fcntl, "F_GETPIPE_SZ", None)
    if setter is None or getter is None:
        return 0
    try:
        fcntl.fcntl(fd, setter, size)
    except OSError:  # above the system's limit, or not a pipe: keep what it has
        pass
    try:
        return int(fcntl.fcntl(fd, getter))
    except OSError:
        return 0


def frame(kind: int, payload: bytes) -> bytes:
    """One frame: header then payload."""
    return HEADER.pack(len(payload), kind) + payload


def json_frame(obj: dict) -> bytes:
    return frame(FRAME_JSON, json.dumps(obj, separators=(",", ":")).encode())


def control_line(obj: dict) -> bytes:
    """Encode one control object as a line (tests use it to send what no message can hold)."""
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


class ProtocolError(Exception):
    """The frame stream is malformed (a truncated or unknown frame)."""


def read_frame(read) -> tuple[int, bytes] | None:
    """Read one frame with ``read(n) -> bytes``; None at a clean end of stream."""
    head = _read_exact(read, HEADER.size)
    if head is None:
        return None
    length, kind = HEADER.unpack(head)
    if kind not in (FRAME_EVENTS, FRAME_JSON, FRAME_OUTPUT):
        raise ProtocolError(f"unknown frame kind {kind}")
    payload = _read_exact(read, length) if length else b""
    if payload is None:
        raise ProtocolError("the lab's stream ended inside a frame")
    return kind, payload


def _read_exact(read, n: int) -> bytes | None:
    chunks = []
    got = 0
    while got < n:
        chunk = read(n - got)
        if not chunk:
            if got == 0:
                return None
            raise ProtocolError("the lab's stream ended inside a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# ====================================================================== control messages
# Bounds, each with the reason it is where it is.
MAX_LINE = 1 << 20  # 1 MiB: the longest real line (a start with options) is under 1 KiB
MAX_DEPTH = 8  # a real line nests 2 deep (the line, its options); json.loads recurses
MAX_TEXT = 4096  # PATH_MAX on Linux: the longest name or path:function a field can need
MAX_WORKERS = 1024
# The window keeps each task's records (three or more of RECORD_SIZE bytes, plus its
# bookkeeping); a million tasks is already hundreds of MB there.
MAX_TASKS = 1_000_000
MAX_TASK_MS = 60_000.0  # one minute: longer tasks are a mistake in the units, not a lesson
MAX_SEED = 2**63  # a seed travels as a 64-bit integer in saved sessions
# sys.setswitchinterval keeps whole microseconds: below 1 µs it stores 0 (and a huge
# value overflows the C conversion to 0 too). Above 1 s, a CPU-bound thread may hold
# the GIL for that long before the lab's control thread gets it back, so `stop` could
# no longer end a run within a second.
MIN_SWITCH_INTERVAL = 1e-6
MAX_SWITCH_INTERVAL = 1.0
MODES = ("batch", "continuous")


class ControlError(ValueError):
    """A control line that is not a well-formed message; the text names the field."""

    def __init__(self, message: str, field: str | None = None, cmd: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.cmd = cmd


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: object) -> str:
    """How a JSON value is called in an error message."""
    names = {bool: "a boolean", list: "a list", dict: "an object"}
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value[:40])
    for t, name in names.items():
        if isinstance(value, t):
            return name
    if isinstance(value, (int, float)):
        return repr(value)
    return type(value).__name__


def _text(name: str, value: object, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        wanted = "a string or null" if optional else "a string"
        raise ControlError(f"{name} must be {wanted}, not {_kind(value)}", name)
    if len(value) > MAX_TEXT:
        raise ControlError(f"{name} is {len(value)} characters long; at most {MAX_TEXT}", name)
    return value


def _whole(name: str, value: object, low: int, high: int) -> int:
    if not _is_int(value):
        raise ControlError(f"{name} must be a whole number, not {_kind(value)}", name)
    if not low <= value <= high:  # type: ignore[operator]
        raise ControlError(f"{name} must be between {low} and {high}, not {value}", name)
    return int(value)  # type: ignore[arg-type]


def _real(name: str, value: object, low: float, high: float, low_open: bool = False) -> float:
    if not (_is_int(value) or isinstance(value, float)):
        raise ControlError(f"{name} must be a number, not {_kind(value)}", name)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ControlError(f"{name} must be a finite number, not {value}", name)
    too_low = number <= low if low_open else number < low
    if too_low or number > high:
        lower = f"above {low:g}" if low_open else f"at least {low:g}"
        raise ControlError(f"{name} must be {lower} and at most {high:g}, not {value}", name)
    return number


# The options a start may carry, and the type each must have. Keys the lab adds for
# itself (the channel's descriptor, the current strategy) are not accepted from a line.
OPTION_TYPES: dict[str, type] = {
    "start_method": str,
    "gil_probe": bool,
    "dask_address": str,
    "dask_processes": bool,
    "threads_per_worker": int,
    "spark_master": str,
    "hostfile": str,
    "callback_host": str,
    # the synchronisation workloads' knobs (lab/sync_workloads.py)
    "sync": str,
    "critical_fraction": float,
    "limit": int,
    "queue_size": int,
    "producer_ms": float,
    "width": int,
}

# How a workload shares what its tasks touch: shared-counter takes the first four,
# deadlock takes ``ordered`` (both locks in one order) against its default.
SYNC_MODES = ("none", "lock", "atomic", "local-then-merge", "ordered")
# The bounds of the numeric knobs, and why: a queue longer than the tasks is unbounded.
_OPTION_BOUNDS: dict[str, tuple[float, float]] = {
    "critical_fraction": (0.0, 1.0),
    "producer_ms": (0.0, MAX_TASK_MS),
    "limit": (1, MAX_WORKERS),
    "queue_size": (1, MAX_TASKS),
    "width": (1, MAX_WORKERS),
}


def check_options(value: object) -> dict[str, Any]:
    """A start's options, each known key of its type (raises ControlError naming one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError(f"options must be an object, not {_kind(value)}", "options")
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"options.{key}"
        wanted = OPTION_TYPES.get(key)
        if wanted is None:
            known = ", ".join(OPTION_TYPES)
            raise ControlError(f"unknown option {key!r}; known options: {known}", name)
        if wanted is bool:
            if not isinstance(item, bool):
                raise ControlError(f"{name} must be true or false, not {_kind(item)}", name)
            out[key] = item
        elif wanted is int:
            low, high = _OPTION_BOUNDS.get(key, (1, MAX_WORKERS))
            out[key] = _whole(name, item, int(low), int(high))
        elif wanted is float:
            low, high = _OPTION_BOUNDS[key]
            out[key] = _real(name, item, low, high)
        else:
            out[key] = _text(name, item)
        if key == "sync" and out[key] not in SYNC_MODES:
            raise ControlError(
                f"{name} must be one of {', '.join(SYNC_MODES)}, not {_kind(item)}", name
            )
    return out


def _fix(obj: object, name: str, value: object) -> None:
    """Store a checked value on a frozen message (only from its ``__post_init__``)."""
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Message:
    """A control message (window or CLI -> lab); subclasses name their command."""

    CMD: ClassVar[str] = ""

    def line(self) -> bytes:
        """The message as one JSON line, as the lab reads it."""
        return control_line({"cmd": self.CMD, **dataclasses.asdict(self)})


@dataclass(frozen=True)
class Start(Message):
    """Start a run: a workload under a strategy (the window's Run, ``concviz run``)."""

    CMD: ClassVar[str] = "start"
    workload: str
    strategy: str
    workers: int = 1
    tasks: int = 8
    task_ms: float = 10.0
    serial_fraction: float = 0.0
    cpu_fraction: float = 0.5
    jitter: float = 0.0
    seed: int = 0
    mode: str = "batch"
    user: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _fix(self, "workload", _text("workload", self.workload))
        _fix(self, "strategy", _text("strategy", self.strategy))
        _fix(self, "workers", _whole("workers", self.workers, 1, MAX_WORKERS))
        _fix(self, "tasks", _whole("tasks", self.tasks, 1, MAX_TASKS))
        # 0 ms is allowed: empty tasks measure what the strategy itself costs
        _fix(self, "task_ms", _real("task_ms", self.task_ms, 0.0, MAX_TASK_MS))
        _fix(self, "serial_fraction", _real("serial_fraction", self.serial_fraction, 0.0, 0.95))
        _fix(self, "cpu_fraction", _real("cpu_fraction", self.cpu_fraction, 0.0, 1.0))
        _fix(self, "jitter", _real("jitter", self.jitter, 0.0, 0.99))
        _fix(self, "seed", _whole("seed", self.seed, -MAX_SEED, MAX_SEED - 1))
        if self.mode not in MODES:
            raise ControlError(f"mode must be batch or continuous, not {_kind(self.mode)}", "mode")
        _fix(self, "user", _text("user", self.user, optional=True))
        _fix(self, "options", check_options(self.options))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Start:
        """A start from a parameter dict (the message without ``cmd``); raises ControlError."""
        return _build(cls, params)

    def params(self) -> dict[str, Any]:
        """The fields as a plain dict (for code that shows or stores them, not for the wire)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Stop(Message):
    """End the current run within a second; nothing happens without one."""

    CMD: ClassVar[str] = "stop"


@dataclass(frozen=True)
class Switch(Message):
    """Change a continuous run's strategy, worker count or task size at the next task
    boundary."""

    CMD: ClassVar[str] = "switch"
    strategy: str | None = None  # None: keep the run's strategy
    workers: int | None = None  # None: keep the run's worker count
    task_ms: float | None = None  # None: keep the run's task size

    def __post_init__(self) -> None:
        _fix(self, "strategy", _text("strategy", self.strategy, optional=True))
        if self.workers is not None:
            _fix(self, "workers", _whole("workers", self.workers, 1, MAX_WORKERS))
        if self.task_ms is not None:
            _fix(self, "task_ms", _real("task_ms", self.task_ms, 0.0, MAX_TASK_MS))

    def line(self) -> bytes:
        # the task size only when it changes: the line stays what it always was otherwise
        fields = dataclasses.asdict(self)
        if fields["task_ms"] is None:
            del fields["task_ms"]
        return control_line({"cmd": self.CMD, **fields})


@dataclass(frozen=True)
class Set(Message):
    """Turn a live knob of the lab (today: the interpreter's switch interval, seconds)."""

    CMD: ClassVar[str] = "set"
    switch_interval: float

    def __post_init__(self) -> None:
        _fix(
            self,
            "switch_interval",
            _real(
                "switch_interval", self.switch_interval, MIN_SWITCH_INTERVAL, MAX_SWITCH_INTERVAL
            ),
        )


@dataclass(frozen=True)
class Ping(Message):
    """Ask for a ``pong`` (shows that the lab is alive and reading)."""

    CMD: ClassVar[str] = "ping"


@dataclass(frozen=True)
class Strategies(Message):
    """Ask for the strategies and whether each is available here."""

    CMD: ClassVar[str] = "strategies"


@dataclass(frozen=True)
class Workloads(Message):
    """Ask for the built-in workloads."""

    CMD: ClassVar[str] = "workloads"


@dataclass(frozen=True)
class Calibrate(Message):
    """Measure this machine's work rates again and replace the cached calibration."""

    CMD: ClassVar[str] = "calibrate"


@dataclass(frozen=True)
class Quit(Message):
    """End the lab (after stopping its run)."""

    CMD: ClassVar[str] = "quit"


MESSAGES: dict[str, type[Message]] = {
    m.CMD: m for m in (Start, Stop, Switch, Set, Ping, Strategies, Workloads, Calibrate, Quit)
}


def _build(cls: type[Message], fields: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    for key in fields:
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise ControlError(
                f"{cls.CMD} has no field {key!r} (its fields: {allowed})", str(key), cls.CMD
            )
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for name in required:
        if name not in fields:
            raise ControlError(f"{cls.CMD} needs {name}", name, cls.CMD)
    try:
        return cls(**fields)
    except ControlError as exc:
        exc.cmd = cls.CMD
        raise


# Brackets and the characters that start or escape inside a string: enough to measure
# nesting without parsing.
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def nesting_depth(line: bytes) -> int:
    """How deeply the JSON in ``line`` nests (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = False
    skip_to = -1  # the character after a backslash is escaped
    for m in _STRUCTURE.finditer(line):
        pos = m.start()
        if pos < skip_to:
            continue
        ch = m.group()
        if in_string:
            if ch == b"\\":
                skip_to = pos + 2
            elif ch == b'"':
                in_string = False
        elif ch == b'"':
            in_string = True
        elif ch in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in b"]}":
            depth -= 1
    return deepest


def parse_control(line: bytes) -> Message:
    """The one parser for control lines: a typed message, or ControlError naming the field."""
    if len(line) > MAX_LINE:
        raise ControlError(f"control line is {len(line)} bytes long; at most {MAX_LINE}")
    # Counting brackets first is cheap and spares a real line the full scan.
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and nesting_depth(line) > MAX_DEPTH:
        raise ControlError(f"control line nests deeper than {MAX_DEPTH} levels")
    try:
        obj = json.loads(line)
    except RecursionError:  # the depth check should have caught it; never crash on it
        raise ControlError(f"control line nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # includes text that is not UTF-8
        raise ControlError(f"control line is not JSON: {line[:80]!r}") from None
    if not isinstance(obj, dict):
        raise ControlError(f"control line must be a JSON object, not {_kind(obj)}")
    fields = dict(obj)
    cmd = fields.pop("cmd", None)
    if not isinstance(cmd, str):
        raise ControlError(f"cmd must be a string, not {_kind(cmd)}", "cmd")
    cls = MESSAGES.get(cmd)
    if cls is None:
        raise ControlError(f"unknown cmd {cmd!r}; known: {', '.join(MESSAGES)}", "cmd", cmd)
    return _build(cls, fields)
