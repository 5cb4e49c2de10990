"""Starting the lab process and talking to it, without Qt (the CLI and LabClient use it).

Threads: ``start``, ``send``, ``close`` run on the owning thread; ``read_frame`` runs
on exactly one reader thread (the caller's own in the CLI, a QThread in the window).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

from concviz.lab import protocol as P
from concviz.resources import lab_source_root

# Where another interpreter imports the lab from (the project, or the bundle's copy).
PACKAGE_ROOT = str(lab_source_root())

# How long a lab may take to send its handshake before it is given up. Generous: a
# cold interpreter on a busy machine imports for seconds; one that never answers (a
# wrapper script that waits, an interpreter stuck on its start-up) must not hang
# the window or the CLI.
HANDSHAKE_TIMEOUT_S = 15.0


class LabError(Exception):
    """The lab could not start or stopped talking (the text is for the user)."""


class BadInterpreter(LabError):
    """The interpreter the user named cannot run the lab."""


class BadInput(Exception):
    """The lab refused the request (a bad parameter); the text is one sentence for the user."""


def _probe_version(interpreter: str | None) -> str:
    """``major.minor.micro`` of ``interpreter`` ("" if it cannot tell); any Python answers."""
    if interpreter is None:
        return ""
    code = "import sys; sys.stdout.write('%d.%d.%d' % tuple(sys.version_info[:3]))"
    try:
        out = subprocess.run([interpreter, "-c", code], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.decode("ascii", "replace").strip()


def lab_command(interpreter: str | None = None) -> list[str]:
    """The command line that starts the lab under ``interpreter`` (default: this one)."""
    if getattr(sys, "frozen", False) and (
        interpreter is None or os.path.realpath(interpreter) == os.path.realpath(sys.executable)
    ):
        return [sys.executable, "--lab"]  # the packaged app runs its own lab
    return [interpreter or sys.executable, "-m", "concviz.lab"]


def _decode_hello(frame: tuple[int, bytes] | None) -> dict | None:
    if frame is None or frame[0] != P.FRAME_JSON:
        return None
    try:
        hello = json.loads(frame[1])
    except ValueError:
        return None
    return hello if isinstance(hello, dict) else None


def _exit_status(code: int | None) -> str:
    """How a process ended, in words: ``exit code 3``, ``killed by SIGKILL``."""
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit code {code}"


def _wait_exit(proc: subprocess.Popen, timeout: float) -> None:
    """Wait up to ``timeout`` s for ``proc`` to exit, and reap it if it did.

    Woken by the exit itself where Linux gives a pidfd: ``Popen.wait(timeout)`` polls
    at growing intervals of up to 50 ms, which made closing a lab (its own exit takes
    about 45 ms) 65 ms.
    """
    waited = False
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or already reaped
        fd = None
    if fd is not None:
        try:
            poller = select.poll()  # not select(): a descriptor above 1023 is fine
            poller.register(fd, select.POLLIN)
            poller.poll(max(timeout, 0.0) * 1000.0)
            waited = True
        except (AttributeError, OSError, ValueError):
            pass
        finally:
            os.close(fd)
        if proc.poll() is not None:
            return
    try:
        proc.wait(timeout=0.001 if waited else timeout)
    except subprocess.TimeoutExpired:
        pass


class LabProcess:
    """One lab process: its pipes, its handshake, and a clean end."""

    def __init__(
        self, interpreter: str | None = None, handshake_timeout: float | None = None
    ) -> None:
        if interpreter is not None:
            path = Path(interpreter).expanduser()
            if not path.exists():
                raise BadInterpreter(f"interpreter {interpreter} does not exist")
            if not os.access(path, os.X_OK) or path.is_dir():
                raise BadInterpreter(f"interpreter {interpreter} is not an executable file")
            interpreter = str(path)
        self.interpreter = interpreter
        self.proc: subprocess.Popen | None = None
        self.hello: dict | None = None
        self._stderr: deque[str] = deque(maxlen=40)
        self._stderr_thread: threading.Thread | None = None
        self._send_lock = threading.Lock()
        self.handshake_timeout = (
            HANDSHAKE_TIMEOUT_S if handshake_timeout is None else handshake_timeout
        )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> dict:
        """Start the lab (unless ``launch`` did) and return its handshake (raises LabError)."""
        if self.proc is None:
            self.launch()
        assert self.proc is not None
        frame = self._read_handshake()
        hello = _decode_hello(frame)
        if hello is None:
            # not a lab talking (it died, or wrote something else): end what it started
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            self._kill_tree(self.proc)
            self.proc.wait()
            # An old Python often dies importing the lab: say what it is, not how it died.
            self._refuse_old(_probe_version(self.interpreter))
            raise BadInterpreter(
                self._why_dead(f"the lab could not start under {lab_command(self.interpreter)[0]}")
            )
        if hello.get("type") != "hello" or hello.get("protocol") != P.PROTOCOL_VERSION:
            raise LabError(f"the lab speaks another protocol: {hello.get('protocol')!r}")
        self._refuse_old(str((hello.get("interpreter") or {}).get("version", "")))
        self.hello = hello
        return hello

    def launch(self) -> None:
        """Start the lab's process without waiting for its handshake (``start`` reads
        it): whoever starts a lab can do other work while it boots (raises LabError)."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [PACKAGE_ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env.pop("PYTHONSTARTUP", None)
        env["PYTHONUNBUFFERED"] = "1"
        try:
            self.proc = subprocess.Popen(
                lab_command(self.interpreter),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=(os.name == "posix"),  # its workers die with it
            )
        except OSError as exc:
            raise LabError(f"could not start the lab: {exc.strerror or exc}") from None
        # the lab's frames come on its stdout: a pipe that holds several batches whole
        P.widen_pipe(self.proc.stdout.fileno())
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name="concviz-lab-stderr", daemon=True
        )
        self._stderr_thread.start()

    def _refuse_old(self, version: str) -> None:
        """Close the lab and raise BadInterpreter when ``version`` is older than the lab needs."""
        try:
            found = tuple(int(x) for x in version.split(".")[:2])
        except ValueError:
            return  # unknown: let the usual errors speak
        if len(found) == 2 and found < P.MIN_PYTHON:
            self.close(timeout=0.5)
            need = ".".join(map(str, P.MIN_PYTHON))
            raise BadInterpreter(
                f"interpreter {self.interpreter} is Python {version}; "
                f"the lab needs Python {need} or newer"
            )

    def _read_handshake(self) -> tuple[int, bytes] | None:
        """The lab's first frame, or LabError once the handshake timeout has passed.

        The read itself blocks; a timer ends the lab's whole process tree when it is
        late, which ends the read.
        """
        assert self.proc is not None
        late = threading.Event()

        def give_up() -> None:
            late.set()
            self._kill_tree(self.proc)

        timer = threading.Timer(self.handshake_timeout, give_up)
        timer.daemon = True
        timer.start()
        try:
            frame = self.read_frame()
        except P.ProtocolError:
            frame = None
        finally:
            timer.cancel()
        if late.is_set():
            self._kill_tree(self.proc)
            raise BadInterpreter(
                f"the lab under {lab_command(self.interpreter)[0]} did not answer within "
                f"{self.handshake_timeout:g} s, so it was ended; check that this is a "
                "Python 3.10 or newer that starts on its own"
            )
        return frame

    def restart(self) -> dict:
        """End this lab and start a fresh one under the same interpreter; its handshake."""
        self.close(timeout=0.3)
        self.proc = None
        self.hello = None
        self._stderr.clear()
        return self.start()

    def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def stderr_tail(self) -> list[str]:
        return list(self._stderr)

    def _why_dead(self, lead: str) -> str:
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=1)
        tail = [line for line in self._stderr if line.strip()]
        detail = f": {tail[-1]}" if tail else ""
        code = self.proc.returncode if self.proc else None
        return f"{lead} ({_exit_status(code)}){detail}"

    def send(self, msg: P.Message | dict) -> None:
        """Send one control message (a dict only from tests that probe the lab's parser)."""
        if self.proc is None or self.proc.stdin is None:
            raise LabError("the lab is not running")
        line = msg.line() if isinstance(msg, P.Message) else P.control_line(msg)
        with self._send_lock:
            try:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except (OSError, ValueError):  # ValueError: the pipe was already closed
                raise LabError("the lab is not running any more") from None

    def read_frame(self) -> tuple[int, bytes] | None:
        assert self.proc is not None and self.proc.stdout is not None
        return P.read_frame(self.proc.stdout.read)

    def readable(self, timeout: float) -> bool:
        """Whether the lab's stream has bytes to read within ``timeout`` seconds. False
        does not mean ``read_frame`` would block: bytes already buffered are not seen."""
        assert self.proc is not None and self.proc.stdout is not None
        try:
            ready, _, _ = select.select([self.proc.stdout.fileno()], [], [], max(timeout, 0.0))
        except (OSError, ValueError):
            return False
        return bool(ready)

    def died_reason(self) -> str:
        """Why the stream ended (call after ``read_frame`` returned None)."""
        if self.proc is None:
            return "the lab was never started"
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the lab closed its channel but is still running"
        return self._why_dead("the lab ended unexpectedly")

    def kill(self) -> None:
        """End the lab's process tree at once (any thread); the reader sees the stream end."""
        if self.proc is not None and self.proc.poll() is None:
            self._kill_tree(self.proc)

    def close(self, timeout: float = 2.0) -> None:
        """End the lab and everything it started; safe to call twice."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                self.send(P.Quit())
                proc.stdin.close()
            except (LabError, OSError):
                pass
            _wait_exit(proc, timeout)
        self._kill_group(proc)
        for stream in (proc.stdout, proc.stderr, proc.stdin):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    @staticmethod
    def _kill_tree(proc: subprocess.Popen) -> None:
        """SIGKILL the lab's process group and every descendant that left it."""
        try:
            import psutil

            family = psutil.Process(proc.pid).children(recursive=True)
        except Exception:  # gone already, or psutil refuses: the group kill still runs
            family = []
        if os.name == "posix":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for child in family:
            try:
                child.kill()
            except Exception:
                pass
        try:
            proc.kill()
        except OSError:
            pass

    @staticmethod
    def _kill_group(proc: subprocess.Popen) -> None:
        if os.name == "posix":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        elif proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
