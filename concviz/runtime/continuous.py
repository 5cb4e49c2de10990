"""A headless continuous run with live switches at set times (``concviz run --continuous``).

``parse_script`` turns the CLI's ``--switch-at 4:process-pool,8:threads``,
``--workers-at 6:4`` and ``--task-ms-at 10:5`` into a time-ordered list of
``(seconds after the run started, Switch)`` (changes at the same moment become one
switch), and a ``Stop`` at ``duration``. ``ScriptPlayer`` sends them from a thread
of its own, timed from the moment the lab said the run started.

Threads: ``parse_script`` anywhere; ``ScriptPlayer.start`` on the thread that reads
the run, its sends on its own thread (``LabProcess.send`` takes a lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from concviz.lab import protocol as P


class BadScript(ValueError):
    """A switch time or value the user gave cannot be used; the text is one sentence."""


def _items(text: str, flag: str) -> list[tuple[float, str]]:
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        t, sep, value = item.partition(":")
        if not sep or not value.strip():
            raise BadScript(f"{flag} wants TIME:VALUE items separated by commas, not {item!r}")
        try:
            seconds = float(t)
        except ValueError:
            raise BadScript(f"{flag}: {t!r} is not a time in seconds") from None
        if not (seconds > 0) or seconds != seconds or seconds == float("inf"):
            raise BadScript(f"{flag}: a switch time must be a positive number of seconds")
        out.append((seconds, value.strip()))
    return out


def parse_script(
    duration: float,
    switch_at: Sequence[str] = (),
    workers_at: Sequence[str] = (),
    task_ms_at: Sequence[str] = (),
    strategies: Sequence[str] | None = None,
) -> list[tuple[float, P.Message]]:
    """The messages to send and when (seconds after the run's start), ending in a Stop.

    ``strategies``: the names the lab knows (an unknown one is refused here, before a
    lab starts). Raises BadScript with one sentence naming the flag.
    """
    if not (duration > 0) or duration == float("inf"):
        raise BadScript("--duration must be a positive number of seconds")
    changes: dict[float, dict] = {}

    def put(t: float, key: str, value, flag: str) -> None:
        at = changes.setdefault(t, {})
        if key in at and at[key] != value:
            raise BadScript(f"{flag} asks for two different values at {t:g} s")
        at[key] = value

    for text in switch_at:
        for t, name in _items(text, "--switch-at"):
            if strategies is not None and name not in strategies:
                raise BadScript(f"--switch-at: unknown strategy {name!r}; see `concviz strategies`")
            put(t, "strategy", name, "--switch-at")
    for text in workers_at:
        for t, value in _items(text, "--workers-at"):
            try:
                n = int(value)
            except ValueError:
                raise BadScript(f"--workers-at: {value!r} is not a whole number") from None
            put(t, "workers", n, "--workers-at")
    for text in task_ms_at:
        for t, value in _items(text, "--task-ms-at"):
            try:
                ms = float(value)
            except ValueError:
                raise BadScript(f"--task-ms-at: {value!r} is not milliseconds") from None
            put(t, "task_ms", ms, "--task-ms-at")
    script: list[tuple[float, P.Message]] = []
    for t in sorted(changes):
        if t >= duration:
            raise BadScript(
                f"a switch at {t:g} s comes after the run's end (--duration {duration:g})"
            )
        try:
            script.append((t, P.Switch(**changes[t])))
        except P.ControlError as exc:
            raise BadScript(f"the switch at {t:g} s: {exc}") from None
    script.append((duration, P.Stop()))
    return script


class ScriptPlayer:
    """Sends a script's messages at their times after ``start(t0)`` (see the module)."""

    def __init__(
        self,
        script: Sequence[tuple[float, P.Message]],
        send: Callable[[P.Message], None],
    ) -> None:
        self.script = list(script)
        self.send = send
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent: list[tuple[float, P.Message]] = []

    def start(self) -> None:
        """The run has started (now): play the script from this moment."""
        if self._thread is not None:
            return
        t0 = time.monotonic()
        self._thread = threading.Thread(
            target=self._play, args=(t0,), name="concviz-switch-script", daemon=True
        )
        self._thread.start()

    def _play(self, t0: float) -> None:
        for at, msg in self.script:
            if self._done.wait(max(0.0, t0 + at - time.monotonic())):
                return
            try:
                self.send(msg)
            except Exception:  # noqa: BLE001 - the lab is gone: the reader sees why
                return
            self.sent.append((time.monotonic() - t0, msg))

    def close(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
