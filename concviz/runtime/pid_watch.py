"""The lab's process tree from ``/proc``, whether anything began since the last look, and
the ``/proc`` facts the samplers share (``LINUX``, ``NS_PER_TICK``).

``process_tree`` walks ``/proc/PID/task/TID/children`` (Linux): a few small files per
process, ~100× cheaper than psutil's scan of every process on the machine.

``/proc/loadavg``'s last field is the newest pid the kernel gave out (threads get
one too). One ``pread`` of a kept descriptor tells a sampler that nothing began, so
it need not list a process tree's threads or walk its children again: on a run's
steady state that listing was most of what watching it cost.

Threads: one owner (a sampler's thread).
"""

from __future__ import annotations

import os
import sys

LINUX = sys.platform.startswith("linux")
# /proc/PID/stat and /proc/PID/task/TID/stat count CPU time in clock ticks
NS_PER_TICK = 1_000_000_000 // (os.sysconf("SC_CLK_TCK") if LINUX else 100)


class PidWatch:
    """``began()``: True when a pid was given out since the last call (and on the
    first call, and whenever ``/proc/loadavg`` cannot be read: the caller then looks
    as it would have without this)."""

    def __init__(self) -> None:
        self._fd = -1
        self._newest = b""
        # the pids given out between the last two looks, oldest first (empty when not
        # known: the first look, an unreadable file, or more than NEW_PIDS_MAX of them)
        self.new_pids: range = range(0)

    NEW_PIDS_MAX = 64

    def began(self) -> bool:
        self.new_pids = range(0)
        try:
            if self._fd < 0:
                self._fd = os.open("/proc/loadavg", os.O_RDONLY)
            newest = os.pread(self._fd, 128, 0).split()[4]
        except (OSError, IndexError):
            return True
        if newest == self._newest:
            return False
        before, self._newest = self._newest, newest
        try:
            first, last = int(before) + 1, int(newest)
        except ValueError:
            return True  # the first look
        if 0 < last - first + 1 <= self.NEW_PIDS_MAX:  # not wrapped past pid_max, nor a flood
            self.new_pids = range(first, last + 1)
        return True

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = -1


def parent_if_process(pid: int) -> int | None:
    """The parent of process ``pid``; None when ``pid`` is a thread's id, or gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            status = f.read(1024)
    except OSError:
        return None
    tgid = ppid = None
    for line in status.splitlines():
        if line.startswith(b"Tgid:"):
            tgid = int(line.split()[1])
        elif line.startswith(b"PPid:"):
            ppid = int(line.split()[1])
            break  # PPid comes after Tgid
    return ppid if tgid == pid else None


def process_tree(pid: int, known: dict[int, list[str]] | None = None) -> list[int]:
    """``pid`` and every process under it. ``known``: the thread ids already listed
    per process, so that a process's task directory is not listed again."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        tids = known.get(p) if known else None
        if not tids:
            try:
                tids = os.listdir(f"/proc/{p}/task")
            except OSError:
                continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    stack.extend(int(x) for x in f.read().split())
            except (OSError, ValueError):
                pass
    return out
