"""What a task leaves behind besides its events: its printed lines, and its stop.

What user code prints gets each line prefixed with the task and worker that printed it.

``execute`` (recorder) names the task running on each thread in ``running``; the lab
(and each spawned pool worker) wraps ``sys.stdout`` in ``TaskLines``, which starts
every line written from inside a task with ``[task 3 · worker 2] ``. Output written
outside a task (a module's import, a library's own thread) is passed through as it is.
"""

from __future__ import annotations

import sys
import threading

running = threading.local()  # .task, .worker: the task this thread is running, if any


class Stopped(Exception):
    """Raised inside a task when the run is stopped (recorded as stopped, not failed).

    Here, in a module of two standard imports, because every subinterpreter imports the
    workloads that raise it: importing the recorder (and with it the protocol's
    dataclasses) there cost each subinterpreter tens of milliseconds of start-up.
    """


class TaskLines:
    """A text stream that prefixes lines written from inside a task."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._fresh = threading.local()  # per thread: the next write starts a line

    def write(self, text: str) -> int:
        task = getattr(running, "task", None)
        if task is None or not text:
            return self._stream.write(text)
        prefix = f"[task {task} · worker {getattr(running, 'worker', 0) + 1}] "
        fresh = getattr(self._fresh, "value", True)
        lines = text.split("\n")
        out = []
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            if last and not line:  # the text ended with a newline
                break
            out.append((prefix if (fresh or i > 0) else "") + line)
        body = "\n".join(out) + ("\n" if text.endswith("\n") else "")
        self._fresh.value = text.endswith("\n")
        self._stream.write(body)
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def attribute_stdout() -> None:
    """Wrap this process's ``sys.stdout`` once (the lab, a spawned pool worker)."""
    if not isinstance(sys.stdout, TaskLines) and sys.stdout is not None:
        sys.stdout = TaskLines(sys.stdout)
