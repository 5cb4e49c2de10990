"""``.concviz`` session files: every run of a session, saved and opened without loss.

A session file is a zip archive (deflate) of

* ``session.json``: the format and its version, the concviz version, the machine
  (platform, cores, CPU model), the interpreters the runs used, and per run its name,
  source, spec (``Start.params()``), result without its task list, baseline, colour,
  annotations, meta, counter names and its store's JSON part (``EventStore.state()``:
  the lab's hello, each run's start, end, segments and phases, lanes, markers, task
  errors, errors, output lines, times);
* one ``.npy`` member per numeric column, written with ``np.save`` and read with
  ``np.load(..., allow_pickle=False)``: never pickle. ``runs/<i>/<column>.npy``.

Columns are stored to compress well and come back exactly: integers in the narrowest
type that holds them, sorted-ish times as differences (``delta``), a bar's end as its
duration (``less:bars.start``). A result's task list (one dict per task, as
``run_object`` makes it) is stored as columns too, each task as the index of its bar
and its differences from that bar (zeros when it agrees, as it does for a run's own
result), so a million tasks cost a few bytes each and not a megabyte of JSON.

A save is atomic (a temporary file in the same folder, then ``os.replace``). Opening
checks everything before it is used: a file from a newer concviz, not a zip, cut
short, with a member missing, a column of the wrong type or length, or sizes past
what the file could honestly hold (a zip bomb) raises :class:`BadSessionFile`, whose
text is one sentence for the user.
"""

from __future__ import annotations

import gc
import io
import json
import math
import os
import platform
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

import concviz
from concviz.lab import protocol as P
from concviz.model.event_store import BAR_ERROR, BAR_STOPPED, EventStore
from concviz.model.session import SOURCES, CpuSamples, Run, Session
from concviz.model.wait_states import PARTS

FORMAT = "concviz-session"
FORMAT_VERSION = 1
HEADER = "session.json"
SUFFIX = ".concviz"

# Zip-bomb guards: what the members may add up to once inflated. A real session
# inflates to a few times its size (its columns are already narrow); the slack lets a
# small file of mostly zeros through.
MAX_RATIO = 50
SLACK_BYTES = 64 << 20
MAX_TOTAL_BYTES = 16 << 30
MAX_HEADER_BYTES = 64 << 20
MAX_MEMBERS = 100_000
COMPRESS_LEVEL = 6

# How a column is stored (anything not named here: as it is, narrowed if integer).
_ENCODING = {
    "bars.task": "delta",
    "bars.start": "delta",
    "bars.end": "less:bars.start",
    "queued.task": "delta",
    "queued.t": "delta",
    "probes.t": "delta",
    "waits.t": "delta",
    "cpu.t_ns": "delta",
    "tasks.bar": "delta",
}

# a result task's keys, in run_object's order
_TASK_INTS = ("id", "worker", "pid", "tid", "start_ns", "end_ns", "cpu_ns")
_TASK_KEYS = frozenset((*_TASK_INTS, "ok", "stopped", "error"))


class BadSessionFile(Exception):
    """A file that cannot be opened as a session; ``str()`` is one sentence for the user."""


# ---------------------------------------------------------------------- saving
def save_session(session: Session, path: str | os.PathLike) -> None:
    """Write ``session`` to ``path`` atomically: a failed save leaves the old file as it was.

    Raises OSError when the folder cannot be written (nothing is left behind).
    """
    target = Path(path)
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "concviz": concviz.__version__,
        "machine": session.meta.get("machine") or machine_info(),
        "interpreters": _interpreters(session),
        "session_meta": {
            k: v for k, v in session.meta.items() if k not in ("machine", "file", "interpreters")
        },
        "runs": [],
    }
    members: list[tuple[str, np.ndarray]] = []
    for i, run in enumerate(session.runs):
        entry, cols = _run_entry(run)
        header["runs"].append(entry)
        members += [(f"runs/{i}/{name}.npy", col) for name, col in cols.items()]
    text = json.dumps(header, separators=(",", ":")).encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(
                raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
            ) as zf:
                zf.writestr(HEADER, text)
                for name, col in members:
                    with zf.open(name, "w", force_zip64=True) as f:
                        np.save(f, col, allow_pickle=False)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    session.path = str(target)
    session.dirty = False


def machine_info() -> dict:
    """The machine the runs were made on: platform, cores and (where cheap) the CPU model."""
    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "cpu": platform.processor() or None,
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def _interpreters(session: Session) -> list[dict]:
    seen: list[dict] = []
    for run in session.runs:
        interp = (run.store.hello or {}).get("interpreter")
        if isinstance(interp, dict) and interp not in seen:
            seen.append(interp)
    return seen


def _run_entry(run: Run) -> tuple[dict, dict[str, np.ndarray]]:
    store_info, cols = run.store.state()
    cols["cpu.t_ns"] = np.asarray(run.cpu.t_ns)
    cols["cpu.percent"] = np.asarray(run.cpu.percent)
    if run.cpu.others is not None:
        cols["cpu.others"] = np.asarray(run.cpu.others)
    if run.cpu.lab is not None:
        cols["cpu.lab"] = np.asarray(run.cpu.lab)
    counters = list(run.counters)
    for k, name in enumerate(counters):
        t, value = run.counters[name]
        cols[f"counter.{k}.t"] = np.asarray(t)
        cols[f"counter.{k}.value"] = np.asarray(value)
    # a meta entry made of numpy columns (a trace's nested slices) is stored as columns
    meta, meta_arrays = {}, {}
    for key, value in run.meta.items():
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(v, np.ndarray) and v.ndim == 1 for v in value.values())
        ):
            meta_arrays[key] = list(value)
            for col, arr in value.items():
                cols[f"meta.{key}.{col}"] = arr
        else:
            meta[key] = value
    result, tasks_how = run.result, None
    if result is not None:
        result = dict(result)
        task_cols = _task_columns(result.get("tasks"), _bar_refs(cols, store_info))
        if task_cols is not None:
            tasks_how = {"n": len(result.pop("tasks")), "errors": task_cols.pop("errors")}
            cols.update(task_cols)
    stored: dict[str, np.ndarray] = {}
    encoding: dict[str, list[str]] = {}  # column -> [how it is stored, its own dtype]
    for name, col in cols.items():
        how = _ENCODING.get(name, "raw")
        stored[name], how = _encode(name, col, how, cols)
        encoding[name] = [how, np.asarray(col).dtype.str]
    entry = {
        "id": run.id,
        "name": run.name,
        "source": run.source,
        "spec": None if run.spec is None else run.spec.params(),
        "result": result,
        "result_tasks": tasks_how,
        "baseline_id": run.baseline_id,
        "colour": run.colour,
        "annotations": run.annotations,
        "meta": meta,
        "meta_arrays": meta_arrays,
        "counters": counters,
        "cpu_others": run.cpu.others is not None,
        "cpu_lab": run.cpu.lab is not None,
        "store": store_info,
        "columns": encoding,
    }
    return entry, stored


def _bar_refs(cols: dict, store_info: dict) -> dict[str, np.ndarray]:
    """The bars' columns and each lane's worker, pid and tid: what a task is made from."""
    refs = {k: cols[k] for k in ("bars.task", "bars.start", "bars.end", "bars.cpu")}
    refs["bars.lane"], refs["bars.kind"] = cols["bars.lane"], cols["bars.kind"]
    for k in ("worker", "pid", "tid"):
        refs[f"lane.{k}"] = np.array([lane[k] for lane in store_info["lanes"]], np.int64)
    return refs


def _narrow(col: np.ndarray) -> np.ndarray:
    """An integer column in the smallest integer type that holds every value exactly."""
    if col.dtype.kind not in "iu" or not len(col):
        return col
    lo, hi = int(col.min()), int(col.max())
    for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return col.astype(dtype)
    return col


def _encode(name: str, col: np.ndarray, how: str, cols: dict) -> tuple[np.ndarray, str]:
    col = np.ascontiguousarray(col)
    if how != "raw" and col.dtype == np.int64 and col.ndim == 1:
        if how == "delta":
            out = np.diff(col, prepend=np.int64(0))  # wraps like the sum that undoes it
            return _narrow(out), how
        base = cols.get(how.removeprefix("less:"))
        if base is not None and base.shape == col.shape and base.dtype == np.int64:
            return _narrow(col - base), how
    return _narrow(col), "raw"


def _task_columns(tasks: Any, cols: dict) -> dict | None:
    """A result's task list as columns against the store's bars; None to keep it as JSON.

    Each task is the index of the bar it came from (found the way ``run_object`` orders
    them) and its differences from that bar, so the file holds zeros where they agree
    and still everything exactly where they do not (a result the caller edited).
    """
    if not isinstance(tasks, list):
        return None
    n = len(tasks)
    try:
        if not all(t.keys() == _TASK_KEYS for t in tasks if "split_ms" not in t):
            return None
        if not all(t.keys() - {"split_ms"} == _TASK_KEYS for t in tasks if "split_ms" in t):
            return None
        columns = {}
        for k in _TASK_INTS:
            values = [t[k] for t in tasks]
            if not set(map(type, values)) <= {int}:
                return None
            columns[k] = np.array(values, dtype=np.int64)  # OverflowError past 64 bits
        ints = (
            np.stack([columns[k] for k in _TASK_INTS], axis=1) if n else np.zeros((0, 7), np.int64)
        )
        ok = [t["ok"] for t in tasks]
        stopped = [t["stopped"] for t in tasks]
        if not set(map(type, ok)) | set(map(type, stopped)) <= {bool}:
            return None
        errors = [[i, t["error"]] for i, t in enumerate(tasks) if t["error"] is not None]
        if not all(type(e) is str for _, e in errors):
            return None
        split = np.full((n, len(PARTS)), np.nan)
        has_split = np.zeros(n, bool)
        for i, t in enumerate(tasks):
            s = t.get("split_ms")
            if s is None:
                continue
            if not isinstance(s, dict) or s.keys() != set(PARTS):
                return None
            values = [s[p] for p in PARTS]
            if not all(type(v) is float and math.isfinite(v) for v in values):
                return None
            split[i] = values
            has_split[i] = True
    except (AttributeError, KeyError, TypeError, OverflowError):
        return None
    bar = _bar_of_tasks(cols, ints)
    base = _bar_fields(cols, bar)
    out = {f"tasks.{k}": ints[:, j] - base[k] for j, k in enumerate(_TASK_INTS)}
    out["tasks.bar"] = bar
    out["tasks.ok"] = np.array(ok, bool) ^ base["ok"]
    out["tasks.stopped"] = np.array(stopped, bool) ^ base["stopped"]
    if has_split.any():
        out["tasks.split_ms"] = split
    out["errors"] = errors
    return out


def _bar_of_tasks(cols: dict, ints: np.ndarray) -> np.ndarray:
    """Each task's bar: the bar with its task id and start time (-1 when none has)."""
    task, start = cols["bars.task"], cols["bars.start"]
    if not len(task) or not len(ints):
        return np.full(len(ints), -1, np.int64)
    order = np.lexsort((start, task))
    keys = np.stack([task[order], start[order]], axis=1)
    want = ints[:, [0, 4]]
    # a binary search on (task, start) pairs
    pos = np.searchsorted(keys[:, 0], want[:, 0], side="left")
    pos_hi = np.searchsorted(keys[:, 0], want[:, 0], side="right")
    bar = np.full(len(ints), -1, np.int64)
    idx = np.flatnonzero(pos < pos_hi)
    # most task ids have one bar: its start must match too
    single = (pos_hi[idx] - pos[idx]) == 1
    one = idx[single]
    hit = one[keys[pos[one], 1] == want[one, 1]]
    bar[hit] = order[pos[hit]]
    for i in idx[~single].tolist():  # a task with several bars (slices): find its own
        j = np.flatnonzero(keys[pos[i] : pos_hi[i], 1] == want[i, 1])
        if len(j):
            bar[i] = order[pos[i] + j[0]]
    return bar


def _bar_fields(cols: dict, bar: np.ndarray) -> dict[str, np.ndarray]:
    """The task fields that bar ``bar[i]`` gives (zeros and False where ``bar`` is -1)."""
    n = len(bar)
    out = {k: np.zeros(n, np.int64) for k in _TASK_INTS}
    out["ok"] = np.zeros(n, bool)
    out["stopped"] = np.zeros(n, bool)
    has = bar >= 0
    b = bar[has]
    lane = cols["bars.lane"][b]
    kind = cols["bars.kind"][b]
    out["id"][has] = cols["bars.task"][b]
    out["start_ns"][has] = cols["bars.start"][b]
    out["end_ns"][has] = cols["bars.end"][b]
    out["cpu_ns"][has] = cols["bars.cpu"][b]
    for k in ("worker", "pid", "tid"):
        out[k][has] = cols[f"lane.{k}"][lane]
    out["ok"][has] = (kind != BAR_ERROR) & (kind != BAR_STOPPED)
    out["stopped"][has] = kind == BAR_STOPPED
    return out


# ---------------------------------------------------------------------- opening
def load_session(path: str | os.PathLike) -> Session:
    """The session saved in ``path``; raises BadSessionFile (one sentence) if it cannot be."""
    p = Path(path)
    name = p.name
    try:
        size = p.stat().st_size
        raw = open(p, "rb")  # noqa: SIM115 - closed below, with the zip
    except FileNotFoundError:
        raise BadSessionFile(f"{name} does not exist; check the path.") from None
    except IsADirectoryError:
        raise BadSessionFile(f"{name} is a folder, not a session file.") from None
    except OSError as exc:
        raise BadSessionFile(f"{name} cannot be read ({exc.strerror or exc}).") from None
    with raw:
        try:
            zf = zipfile.ZipFile(raw)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            ValueError,
            EOFError,
            NotImplementedError,
        ):
            raise BadSessionFile(
                f"{name} is not a concviz session file (not a zip archive, or cut short); "
                "open a .concviz file saved by concviz."
            ) from None
        with zf:
            reader = _Reader(zf, name, size)
            header = reader.header()
            session = Session()
            _build(session, header, reader)
    session.path = str(p)
    session.dirty = False
    return session


class _Reader:
    """Reads a session zip's members, each checked for size before it is inflated."""

    def __init__(self, zf: zipfile.ZipFile, name: str, size: int) -> None:
        self.zf = zf
        self.name = name
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            self.bad(f"holds {len(infos)} members, far more than a session has")
        self.infos = {i.filename: i for i in infos}
        budget = min(MAX_TOTAL_BYTES, SLACK_BYTES + MAX_RATIO * size)
        declared = sum(i.file_size for i in infos)
        if declared > budget:
            self.bad(f"declares {declared:,} bytes inside a {size:,}-byte file (a zip bomb?)")
        self.budget = budget
        self.inflated = 0

    def bad(self, what: str) -> None:
        raise BadSessionFile(f"{self.name} is damaged: it {what}; save the session again.")

    def read(self, member: str, limit: int) -> bytes:
        info = self.infos.get(member)
        if info is None:
            self.bad(f"has no {member} member")
        if info.file_size > limit or self.inflated + info.file_size > self.budget:
            self.bad(f"has a {member} member too large to be real ({info.file_size:,} bytes)")
        try:
            with self.zf.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            self.bad(f"has a corrupt {member} member ({_one_line(exc)})")
        except NotImplementedError:
            self.bad(f"compresses {member} in a way concviz does not read")
        except RuntimeError:  # encrypted
            self.bad(f"has an encrypted {member} member")
        if len(data) != info.file_size:
            self.bad(f"has a {member} member of the wrong length")
        self.inflated += len(data)
        return data

    def header(self) -> dict:
        if HEADER not in self.infos:
            raise BadSessionFile(
                f"{self.name} is not a concviz session file (it has no {HEADER}); "
                "open a .concviz file saved by concviz."
            )
        data = self.read(HEADER, MAX_HEADER_BYTES)
        try:
            header = json.loads(data)
        except (ValueError, RecursionError):
            self.bad(f"has an unreadable {HEADER}")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BadSessionFile(
                f"{self.name} is not a concviz session file; open a .concviz file saved by concviz."
            )
        version = header.get("version")
        if type(version) is not int or version < 1:
            self.bad("has no valid format version")
        if version > FORMAT_VERSION:
            raise BadSessionFile(
                f"{self.name} was saved by a newer concviz "
                f"({header.get('concviz', '?')}, session format {version}; this one reads "
                f"format {FORMAT_VERSION} and older); update concviz to open it."
            )
        return header

    def array(self, member: str, ndim: int, kinds: str) -> np.ndarray:
        """The ``.npy`` member, checked: its header, dtype kind, rank and exact length."""
        data = self.read(member, self.budget)
        buf = io.BytesIO(data)
        try:
            major, _minor = np.lib.format.read_magic(buf)
            if major == 1:
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
            elif major in (2, 3):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf)
            else:
                raise ValueError("unknown npy version")
        except (ValueError, SyntaxError, TypeError, EOFError, RecursionError):
            self.bad(f"has a {member} member that is not a numpy array")
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in kinds:
            self.bad(f"has a {member} column of the wrong type ({dtype})")
        if len(shape) != ndim:
            self.bad(f"has a {member} column of the wrong shape {shape}")
        if dtype.itemsize * math.prod(shape) != len(data) - buf.tell():
            self.bad(f"has a {member} column whose size does not match its shape")
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            self.bad(f"has an unreadable {member} column ({_one_line(exc)})")
        raise AssertionError  # unreachable: bad() raised


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120].rstrip(".")


# ---------------------------------------------------------------------- checking
_NUM = (int, float)
_OPT_INT = (int, type(None))
_OPT_NUM = (int, float, type(None))
_OPT_STR = (str, type(None))
_OPT_DICT = (dict, type(None))


class _Checker:
    """Type checks on the header's values, each failure one sentence naming where."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def val(self, value: Any, types: tuple | type, where: str) -> Any:
        allowed = types if isinstance(types, tuple) else (types,)
        # True is an int to Python; a count or a time never is
        if not isinstance(value, allowed) or (type(value) is bool and bool not in allowed):
            self.reader.bad(f"has a {where} of the wrong type")
        if type(value) is int and not -(2**63) <= value < 2**63:
            self.reader.bad(f"has a {where} out of range")
        return value

    def key(self, obj: dict, key: str, types: tuple | type, where: str, default: Any = ...) -> Any:
        if key not in obj:
            if default is ...:
                self.reader.bad(f"lacks {where}.{key}")
            return default
        return self.val(obj[key], types, f"{where}.{key}")

    def dicts(self, value: Any, where: str) -> list[dict]:
        self.val(value, list, where)
        for item in value:
            self.val(item, dict, f"{where} entry")
        return value


def _check_store(c: _Checker, s: Any, where: str) -> None:
    c.val(s, dict, where)
    c.key(s, "hello", _OPT_DICT, where)
    if s["hello"] is not None:
        c.key(s["hello"], "interpreter", dict, f"{where}.hello", default={})
    for r in c.dicts(c.key(s, "runs", list, where), f"{where}.runs"):
        started = c.key(r, "started", dict, f"{where}.runs")
        c.key(started, "t_ns", int, f"{where}.started")
        c.key(started, "strategy", str, f"{where}.started")
        c.key(started, "workload", str, f"{where}.started")
        c.key(started, "workers", int, f"{where}.started")
        c.key(started, "task_ms", _NUM, f"{where}.started")
        fin = c.key(r, "finished", _OPT_DICT, f"{where}.runs")
        if fin is not None:
            c.key(fin, "t_ns", int, f"{where}.finished")
            c.key(fin, "wall_ns", int, f"{where}.finished", default=0)
            c.key(fin, "process_cpu_ns", _OPT_INT, f"{where}.finished", default=None)
            c.key(fin, "switch_interval", _OPT_NUM, f"{where}.finished", default=None)
            c.key(fin, "probe", _OPT_DICT, f"{where}.finished", default=None)
        c.dicts(c.key(r, "segments", list, f"{where}.runs"), f"{where}.segments")
        for ph in c.dicts(c.key(r, "phases", list, f"{where}.runs"), f"{where}.phases"):
            c.key(ph, "t0_ns", int, f"{where}.phase")
            c.key(ph, "t_ns", _OPT_INT, f"{where}.phase")
            c.key(ph, "kind", str, f"{where}.phase")
            c.key(ph, "details", _OPT_DICT, f"{where}.phase", default=None)
        c.key(r, "engine", dict, f"{where}.runs")
    for lane in c.dicts(c.key(s, "lanes", list, where), f"{where}.lanes"):
        for k in ("pid", "tid", "worker"):
            c.key(lane, k, int, f"{where}.lane")
        c.key(lane, "has_slices", bool, f"{where}.lane")
        c.key(lane, "name", _OPT_STR, f"{where}.lane")
    for item in c.key(s, "names", list, where):
        c.val(item, list, f"{where}.names entry")
        if len(item) != 4:
            c.reader.bad(f"has a {where}.names entry of the wrong length")
        for v in item[:3]:
            c.val(v, int, f"{where}.names entry")
        c.val(item[3], str, f"{where}.names entry")
    for m in c.dicts(c.key(s, "markers", list, where), f"{where}.markers"):
        c.key(m, "t_ns", int, f"{where}.marker")
        c.key(m, "to", dict, f"{where}.marker", default={})
    for item in c.key(s, "task_errors", list, where):
        c.val(item, list, f"{where}.task_errors entry")
        if len(item) != 2:
            c.reader.bad(f"has a {where}.task_errors entry of the wrong length")
        c.val(item[0], int, f"{where}.task_errors entry")
        c.val(item[1], str, f"{where}.task_errors entry")
    c.dicts(c.key(s, "errors", list, where), f"{where}.errors")
    for line in c.key(s, "output", list, where):
        c.val(line, str, f"{where}.output line")
    c.dicts(c.key(s, "other", list, where), f"{where}.other")
    c.key(s, "t_min", _OPT_INT, where)
    c.key(s, "t_max", _OPT_INT, where)
    c.key(s, "machine_busy_cores", _OPT_NUM, where)
    c.key(s, "observer_core_fraction", _OPT_NUM, where, default=None)
    for item in c.key(s, "sync_objects", list, where, default=[]):
        c.val(item, list, f"{where}.sync_objects entry")
        if len(item) != 3:
            c.reader.bad(f"has a {where}.sync_objects entry of the wrong length")
        c.val(item[0], int, f"{where}.sync_objects entry")
        c.val(item[1], str, f"{where}.sync_objects entry")
        c.val(item[2], str, f"{where}.sync_objects entry")
    probe = c.key(s, "probe_thread", (list, type(None)), where, default=None)
    if probe is not None:
        if len(probe) != 2:
            c.reader.bad(f"has a {where}.probe_thread of the wrong length")
        for v in probe:
            c.val(v, int, f"{where}.probe_thread")
    waits = c.key(s, "waits", _OPT_DICT, where)
    if waits is not None:
        c.key(waits, "source", str, f"{where}.waits")
        c.key(waits, "reason", _OPT_STR, f"{where}.waits")


def _check_result(c: _Checker, res: dict, where: str) -> None:
    for k in ("wall_s", "cpu_s", "parallelism", "task_ms", "serial_fraction"):
        c.key(res, k, _OPT_NUM, where, default=None)
    for k in ("workers", "tasks_asked"):
        c.key(res, k, _OPT_INT, where, default=None)
    for k in ("strategy", "workload"):
        c.key(res, k, _OPT_STR, where, default=None)
    c.key(res, "interpreter", _OPT_DICT, where, default=None)
    c.key(res, "tasks", (list, type(None)), where, default=None)


# ---------------------------------------------------------------------- rebuilding
def _build(session: Session, header: dict, reader: _Reader) -> None:
    c = _Checker(reader)
    runs = c.dicts(c.key(header, "runs", list, "header"), "runs")
    machine = c.key(header, "machine", _OPT_DICT, "header", default=None)
    interps = c.key(header, "interpreters", list, "header", default=[])
    extra = c.key(header, "session_meta", dict, "header", default={})
    old_to_new: dict[int, int] = {}
    wanted: list[tuple[Run, int | None]] = []
    for i, entry in enumerate(runs):
        run = _build_run(c, reader, entry, i)
        colour = run.colour
        old_id = run.id
        session.add_run(run)  # the session numbers its runs; baselines follow below
        run.colour = colour
        old_to_new[old_id] = run.id
        wanted.append((run, entry["baseline_id"]))
    for run, old in wanted:
        run.baseline_id = old_to_new.get(old) if old is not None else None
    session.meta = {
        **extra,
        "machine": machine,
        "interpreters": interps,
        "file": {"format_version": header["version"], "concviz": header.get("concviz")},
    }


def _build_run(c: _Checker, reader: _Reader, e: dict, i: int) -> Run:
    where = f"run {i}"
    run_id = c.key(e, "id", int, where)
    name = c.key(e, "name", str, where)
    source = c.key(e, "source", str, where)
    if source not in SOURCES:
        reader.bad(f"has a {where} of an unknown source")
    spec_params = c.key(e, "spec", _OPT_DICT, where)
    spec = None
    if spec_params is not None:
        try:
            spec = P.Start.from_params(spec_params)
        except (P.ControlError, TypeError, ValueError) as exc:
            reader.bad(f"has a {where} spec the lab would refuse ({_one_line(exc)})")
    result = c.key(e, "result", _OPT_DICT, where)
    if result is not None:
        _check_result(c, result, f"{where}.result")
    tasks_how = c.key(e, "result_tasks", _OPT_DICT, where)
    c.key(e, "baseline_id", _OPT_INT, where)
    colour = c.key(e, "colour", int, where)
    annotations = c.dicts(c.key(e, "annotations", list, where), f"{where}.annotations")
    meta = c.key(e, "meta", dict, where)
    counters = c.key(e, "counters", list, where)
    for n in counters:
        c.val(n, str, f"{where} counter name")
    store_info = c.key(e, "store", dict, where)
    _check_store(c, store_info, f"{where}.store")
    encoding = c.key(e, "columns", dict, where)
    dtypes: dict[str, np.dtype] = {}
    for col, item in encoding.items():
        c.val(item, list, f"{where} column encoding")
        if len(item) != 2 or not all(isinstance(x, str) for x in item):
            reader.bad(f"has a {where} column encoding of the wrong shape")
        try:
            dtype = np.dtype(item[1])
        except (TypeError, ValueError, SyntaxError):
            dtype = None
        if dtype is None or dtype.fields is not None or dtype.kind not in "biuf":
            reader.bad(f"has a {where} column of an unknown type")
        dtypes[col] = dtype

    prefix = f"runs/{i}/"
    cols: dict[str, np.ndarray] = {}

    def get(col: str, ndim: int = 1, kinds: str = "iub") -> np.ndarray:
        if col in cols:
            return cols[col]
        if col not in encoding:
            reader.bad(f"lacks the column {col} of {where}")
        how = encoding[col][0]
        arr = reader.array(f"{prefix}{col}.npy", ndim, kinds)
        if how == "raw":
            out = arr
        elif how == "delta" and ndim == 1 and arr.dtype.kind in "iu":
            out = np.cumsum(arr.astype(np.int64), dtype=np.int64)
        elif how.startswith("less:") and ndim == 1 and arr.dtype.kind in "iu":
            base = get(how.removeprefix("less:"))
            if base.shape != arr.shape or base.dtype != np.int64:
                reader.bad(f"has a column {col} of {where} that does not match its base")
            out = arr.astype(np.int64) + base
        else:
            reader.bad(f"stores the column {col} of {where} in an unknown way ({how!r})")
        if out.dtype.kind in "iub" and dtypes[col].kind == "f":
            reader.bad(f"stores the column {col} of {where} in an unknown way ({how!r})")
        with np.errstate(all="ignore"):
            cols[col] = out.astype(dtypes[col], copy=False)
        return cols[col]

    store_cols = {}
    for col in encoding:
        group = col.partition(".")[0]
        if group in ("bars", "queued", "probes", "open", "waits", "sync_waits", "counters"):
            if col == "waits.frozen":
                store_cols[col] = get(col, 2, "f")
            else:
                store_cols[col] = get(col)
    with np.errstate(all="ignore"):
        try:
            store = EventStore.from_state(store_info, store_cols)
        except ValueError as exc:
            reader.bad(f"has inconsistent columns in {where} ({_one_line(exc)})")

    cpu_t = get("cpu.t_ns")
    percent = get("cpu.percent", 2, "iuf")
    others = None
    if c.key(e, "cpu_others", bool, where):
        others = get("cpu.others", 1, "iuf")
        if len(others) != len(cpu_t):
            reader.bad(f"has CPU samples of {where} of uneven lengths")
    if len(percent) != len(cpu_t):
        reader.bad(f"has CPU samples of {where} of uneven lengths")
    lab = None
    if c.key(e, "cpu_lab", bool, where, default=False):
        lab = get("cpu.lab", 1, "iuf")
        if len(lab) != len(cpu_t):
            reader.bad(f"has CPU samples of {where} of uneven lengths")
    cpu = CpuSamples(t_ns=cpu_t, percent=percent, others=others, lab=lab)
    for key, names in c.key(e, "meta_arrays", dict, where, default={}).items():
        c.val(names, list, f"{where}.meta_arrays")
        meta[key] = {str(col): get(f"meta.{key}.{col}") for col in names}
    counter_data = {}
    for k, cname in enumerate(counters):
        t = get(f"counter.{k}.t", 1, "iuf")
        v = get(f"counter.{k}.value", 1, "iuf")
        if len(t) != len(v):
            reader.bad(f"has a counter of {where} of uneven lengths")
        counter_data[cname] = (t, v)

    if result is not None and tasks_how is not None:
        result = dict(result)
        result["tasks"] = _rebuild_tasks(c, reader, store, tasks_how, encoding, get, where)
    return Run(
        id=run_id,
        name=name,
        spec=spec,
        store=store,
        source="saved" if source == "live" else source,
        cpu=cpu,
        annotations=annotations,
        result=result,
        baseline_id=None,
        colour=colour,
        meta=meta,
        counters=counter_data,
    )


def _rebuild_tasks(
    c: _Checker, reader: _Reader, store: EventStore, how: dict, encoding: dict, get, where: str
) -> list[dict]:
    """A result's task list from its columns and the (already checked) store's bars."""
    n = c.key(how, "n", int, f"{where}.result_tasks")
    errors = c.key(how, "errors", list, f"{where}.result_tasks")
    bar = get("tasks.bar")
    if len(bar) != n:
        reader.bad(f"has a task list of {where} of the wrong length")
    n_bars = store.bar_count
    if n and (bar.min() < -1 or bar.max() >= n_bars):
        reader.bad(f"has a task of {where} naming a bar that does not exist")
    bars = store.bars()
    lanes = store.lanes()
    cols = {
        "bars.task": bars["task"],
        "bars.start": bars["start"],
        "bars.end": bars["end"],
        "bars.cpu": bars["cpu"],
        "bars.lane": bars["lane"],
        "bars.kind": bars["kind"],
        "lane.worker": np.array([ln.worker for ln in lanes], np.int64),
        "lane.pid": np.array([ln.pid for ln in lanes], np.int64),
        "lane.tid": np.array([ln.tid for ln in lanes], np.int64),
    }
    base = _bar_fields(cols, bar)
    values = {}
    for k in _TASK_INTS:
        diff = get(f"tasks.{k}")
        if len(diff) != n:
            reader.bad(f"has a task column {k} of {where} of the wrong length")
        values[k] = (diff.astype(np.int64) + base[k]).tolist()
    for k in ("ok", "stopped"):
        flip = get(f"tasks.{k}", 1, "b")
        if len(flip) != n:
            reader.bad(f"has a task column {k} of {where} of the wrong length")
        values[k] = (flip ^ base[k]).tolist()
    gc_was = gc.isenabled()
    gc.disable()  # a million new dicts, none in a cycle: the collector would only rescan them
    try:
        tasks = _task_dicts(values)
    finally:
        if gc_was:
            gc.enable()
    for item in errors:
        c.val(item, list, f"{where} task error")
        if len(item) != 2 or type(item[0]) is not int or not 0 <= item[0] < n:
            reader.bad(f"has a task error of {where} naming no task")
        tasks[item[0]]["error"] = c.val(item[1], str, f"{where} task error")
    if "tasks.split_ms" in encoding:
        split = get("tasks.split_ms", 2, "f")
        if split.shape != (n, len(PARTS)):
            reader.bad(f"has a task split of {where} of the wrong shape")
        has = ~np.isnan(split[:, 0])
        for i, row in zip(np.flatnonzero(has).tolist(), split[has].tolist(), strict=True):
            tasks[i]["split_ms"] = dict(zip(PARTS, row, strict=True))
    return tasks


def _task_dicts(values: dict[str, list]) -> list[dict]:
    """One dict per task, keys in ``run_object``'s order (``error`` filled in later)."""
    return [
        {
            "id": a,
            "worker": b,
            "pid": p,
            "tid": t,
            "start_ns": s,
            "end_ns": en,
            "cpu_ns": cp,
            "ok": ok,
            "stopped": st,
            "error": None,
        }
        for a, b, p, t, s, en, cp, ok, st in zip(
            values["id"],
            values["worker"],
            values["pid"],
            values["tid"],
            values["start_ns"],
            values["end_ns"],
            values["cpu_ns"],
            values["ok"],
            values["stopped"],
            strict=True,
        )
    ]
