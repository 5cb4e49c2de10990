"""Where this interpreter keeps the GIL's holder, so a watcher can read it from outside.

CPython's GIL is a small structure (``struct _gil_runtime_state``) that starts

    unsigned long interval;      /* the switch interval, in microseconds */
    PyThreadState *last_holder;  /* the thread state that took it last */
    int locked;                  /* 1 while some thread holds it */

on 3.10 to 3.13 alike; the main interpreter's copy lives inside ``_PyRuntime``
(``ceval.gil`` up to 3.11, ``_main_interpreter._gil`` from 3.12). A thread state
records its thread's kernel id (``native_thread_id``) at an offset that changes
between versions.

Nothing here hard-codes those offsets. The lab finds them in its own memory while
it ran last: in ``_PyRuntime`` the one place where ``interval`` equals the switch
interval, the next word is this thread's state, and ``locked`` is 0 or 1 (the read,
a system call, lets the GIL go while it reads); in that
thread state the one word equal to this thread's kernel id, confirmed from a
second thread. Memory is read through ``/proc/self/mem`` (an unmapped page is an
error, never a crash). The watcher (``runtime.wait_sampler``) then reads the two
words at ``_PyRuntime + holder_offset`` in each lab process and names the thread
that holds the GIL at every sample. Standard library only; Linux, 64-bit.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
import time

SCAN_BYTES = 1 << 20  # _PyRuntime is ~2 KB on 3.10 and ~100 KB on 3.13: far below
TSTATE_BYTES = 4096  # a PyThreadState is a few hundred bytes


def _read(mem, address: int, size: int) -> bytes:
    """Up to ``size`` bytes at ``address``; fewer where the mapping ends."""
    out = b""
    while size > 0:
        chunk = min(size, 65536)
        try:
            mem.seek(address)
            got = mem.read(chunk)
        except (OSError, ValueError, OverflowError):
            break
        if not got:
            break
        out += got
        address += len(got)
        size -= len(got)
        if len(got) < chunk:
            break
    return out


def _current_tstate() -> int:
    import ctypes

    get = ctypes.pythonapi.PyThreadState_Get
    get.restype = ctypes.c_void_p
    return int(get() or 0)


def _runtime_address() -> int:
    import ctypes

    return ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))


def _holder_offsets(mem, runtime: int, tstate: int, interval_us: int) -> list[int]:
    data = _read(mem, runtime, SCAN_BYTES)
    found = []
    for off in range(0, len(data) - 24, 8):
        if struct.unpack_from("<Q", data, off + 8)[0] != tstate:
            continue
        if struct.unpack_from("<Q", data, off)[0] != interval_us:
            continue
        # the read itself released the GIL (a system call): ``locked`` reads 0 here
        if struct.unpack_from("<i", data, off + 16)[0] not in (0, 1):
            continue
        found.append(off + 8)
    return found


def _tid_offsets(mem, tstate: int, tid: int) -> set[int]:
    data = _read(mem, tstate, TSTATE_BYTES)
    return {
        off for off in range(0, len(data) - 8, 8) if struct.unpack_from("<Q", data, off)[0] == tid
    }


def _tcb_offsets(mem, ident: int, tid: int) -> set[int]:
    """Where glibc's thread block (at ``pthread_self()``) keeps the kernel id (a pid_t)."""
    data = _read(mem, ident, TSTATE_BYTES)
    return {
        off for off in range(0, len(data) - 4, 4) if struct.unpack_from("<i", data, off)[0] == tid
    }


def _look(mem, runtime: int, interval_us: int) -> dict:
    """What this thread sees: candidate offsets for every field."""
    tstate, tid, ident = _current_tstate(), threading.get_native_id(), threading.get_ident()
    return {
        "holders": set(_holder_offsets(mem, runtime, tstate, interval_us)),
        "tids": _tid_offsets(mem, tstate, tid),
        # before 3.11 a thread state has no kernel id: its pthread_t, then glibc's block
        "idents": _tid_offsets(mem, tstate, ident),
        "tcb": _tcb_offsets(mem, ident, tid),
    }


def _look_as_holder(mem, runtime: int, interval_us: int, tries: int = 5) -> dict:
    """``_look`` from a thread just started. Its starter still runs for a moment (from
    ``start()`` into ``join()``) and takes the GIL while a read lets it go, so that
    look sees the starter as the GIL's last holder; a look after a pause sees this
    thread (on 3.10, 1 look in 3 failed that way, several in a row)."""
    seen = _look(mem, runtime, interval_us)
    for _ in range(tries - 1):
        if seen["holders"]:
            break
        time.sleep(0.002)
        seen = _look(mem, runtime, interval_us)
    return seen


def find(attempts: int = 5) -> dict | None:
    """``_find`` until it succeeds: another thread of the lab taking the GIL while a
    look reads the memory (a read lets the GIL go) spoils that look, not the next."""
    for _ in range(attempts):
        found = _find()
        if found is not None:
            return found
    return None


def _find() -> dict | None:
    """Where the GIL's holder and a thread state's kernel id are, or None where unknown.

    ``holder_offset``: from ``_PyRuntime`` to the GIL's ``last_holder`` (``locked``
    is the int 8 bytes after it). Then either ``tid_offset`` (3.11+: from a thread
    state to its kernel id) or ``ident_offset`` and ``tcb_tid_offset`` (3.10: from a
    thread state to its ``pthread_t``, and from that thread block to the kernel id).
    None on a build without a GIL, off Linux, on 32-bit, or when a layout does not
    match (an unknown build): the watcher then keeps its estimate.
    """
    if not sys.platform.startswith("linux") or struct.calcsize("P") != 8:
        return None
    gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)()
    if not gil_enabled:
        return None
    try:
        runtime = _runtime_address()
        interval_us = round(sys.getswitchinterval() * 1_000_000)
        with open("/proc/self/mem", "rb", buffering=0) as mem:
            mine = _look(mem, runtime, interval_us)
            other: dict = {}
            # another thread: its own state, the same layout
            t = threading.Thread(
                target=lambda: other.update(_look_as_holder(mem, runtime, interval_us)),
                name="concviz-gil-layout",
            )
            t.start()
            t.join()
    except Exception:  # noqa: BLE001 - no ctypes, no /proc: the estimate stays
        return None
    if not other:
        return None
    both = {key: mine[key] & other[key] for key in mine}
    if len(both["holders"]) != 1:
        return None
    out: dict = {"holder_offset": min(both["holders"])}
    if len(both["tids"]) == 1:
        out["tid_offset"] = min(both["tids"])
    elif len(both["idents"]) == 1 and len(both["tcb"]) == 1:
        out["ident_offset"] = min(both["idents"])
        out["tcb_tid_offset"] = min(both["tcb"])
    else:
        return None
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m concviz.lab.gil_layout
    print(os.getpid(), find())
