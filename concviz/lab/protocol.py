"""The lab's wire format: JSON control lines in, length-prefixed binary frames out.

Standard library only: this module is imported by the lab (any CPython >= 3.10) and by
the window's model layer, which decodes event records with numpy using ``RECORD_FIELDS``.

Frame = header ``<IB`` (payload length, frame kind) + payload.

* ``FRAME_EVENTS``: a run of fixed-width event records (``RECORD``), packed in batches.
* ``FRAME_JSON``: one UTF-8 JSON object (handshake, markers, errors, summaries).
* ``FRAME_OUTPUT``: text the user's code printed (captured, never mixed with frames).
"""

from __future__ import annotations

import json
import struct
from itertools import chain

PROTOCOL_VERSION = 1

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

EVENT_NAMES = {
    EV_QUEUED: "queued",
    EV_START: "start",
    EV_END: "end",
    EV_ERROR: "error",
    EV_SLICE_START: "slice_start",
    EV_SLICE_END: "slice_end",
    EV_PROBE: "probe",
    EV_STOPPED: "stopped",
}

# Worker index reserved for the serial (Amdahl) step and for the dispatcher.
WORKER_SERIAL = 65535
WORKER_DISPATCH = 65534
WORKER_PROBE = 65533

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


def frame(kind: int, payload: bytes) -> bytes:
    """One frame: header then payload."""
    return HEADER.pack(len(payload), kind) + payload


def json_frame(obj: dict) -> bytes:
    return frame(FRAME_JSON, json.dumps(obj, separators=(",", ":")).encode())


def control_line(obj: dict) -> bytes:
    """Encode one control message (window -> lab)."""
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
