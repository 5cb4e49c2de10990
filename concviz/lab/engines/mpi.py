"""MPI: real mpi4py ranks started with ``mpiexec -n N``, one row per rank.

The lab starts ``mpiexec`` (MPICH's hydra, Open MPI's, whichever is beside this
interpreter or on PATH), which starts N copies of ``mpi_rank``. Every rank sends its
events through an ``EventSink``; rank 0 also opens a control connection over which
the lab hands out rounds of tasks (all of a batch at once, or 2·N at a time in
continuous mode). Rank 0 broadcasts each round, every rank runs its share
(``tasks[rank::size]``, the classic static split) and rank 0 gathers the failures
and answers. Stopping ends ``mpiexec``, which ends the ranks; whatever survives it
(hydra's proxies, ranks) is killed by process id, so nothing is left behind.

Threads: ``run_mpi`` on the run's thread; the stop hook (``_Mpiexec.terminate``) on
the lab's control thread; ``_Mpiexec`` pumps mpiexec's output and ``_Replies`` reads
rank 0's answers on threads of their own.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque

from ..strategies.base import RunContext, WorkerDied, strategy
from .common import (
    descendants,
    die_with_lab,
    engine_info,
    find_program,
    install_hint,
    missing_module,
    phase,
    process_stat,
    stat_fields,
    worker_env,
)
from .sink import ControlLink, EventSink, callback_problem

ENV_VAR = "CONCVIZ_MPI"  # JSON {address, spec, path} for the rank program
RANK_MODULE = "concviz.lab.engines.mpi_rank"
STARTUP_TIMEOUT_S = 60.0  # ranks on other hosts may take a while (ssh, imports)
QUIT_TIMEOUT_S = 5.0
KILL_GRACE_S = 0.5
# A rank on this machine gone while its round is unanswered: how long mpiexec has to
# end the job itself (hydra does within milliseconds, and says the exit code) before
# the lab does. Once in a CI run it never did, rank 0 waited in a collective for the
# dead rank, and the run hung until the test's 180 s timeout.
RANK_DEATH_GRACE_S = 3.0


def _mpi_missing() -> str | None:
    why = missing_module("mpi4py", extra="mpi")
    if why:
        return why
    if find_program("mpiexec") is None:
        return (
            f"no mpiexec was found beside {sys.executable} or on PATH "
            "(the mpich or openmpi package provides one)"
        )
    return None


def _check_options(options: dict) -> str | None:
    callback = options.get("callback_host")
    if callback is not None:
        why = callback_problem(callback)
        if why:
            return why
    hostfile = options.get("hostfile")
    if hostfile is None:
        return None
    if not isinstance(hostfile, str) or not hostfile.strip():
        return f"the MPI hostfile must be the path of a file, not {hostfile!r}"
    if not os.path.isfile(hostfile):
        return (
            f"the MPI hostfile {hostfile} does not exist; give a file that lists the hosts "
            "to start ranks on, one per line (host or host:slots)"
        )
    return _hostfile_problem(hostfile)


MAX_HOSTFILE = 1 << 20
# A host (a name, an IPv4 address or a bracketed IPv6 one), then hydra's ":slots".
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[1-9]\d*)?$"
)
# Open MPI's and hydra's settings after the host: slots=4, max_slots=8, ifhn=eth0
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*=\S+$")


def _hostfile_problem(path: str) -> str | None:
    """One sentence naming the first line of ``path`` that is not a host, or None.

    mpiexec itself says little about a bad line (hydra: "unable to parse"; some
    versions start on the wrong hosts or hang trying to reach a line it took for a
    name), so the lab reads the file first. A line is a host or ``host:slots``,
    optionally followed by ``key=value`` settings; ``#`` starts a comment.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_HOSTFILE + 1)
    except OSError as exc:
        return f"the MPI hostfile {path} cannot be read ({exc.strerror or exc})"
    if len(data) > MAX_HOSTFILE:
        return f"the MPI hostfile {path} is over {MAX_HOSTFILE >> 20} MiB: not a list of hosts"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"the MPI hostfile {path} is not text (UTF-8): not a list of hosts"
    hosts = 0
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        bad = not _HOST.match(words[0]) or not all(_SETTING.match(w) for w in words[1:])
        if bad:
            shown = line.strip()
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return (
                f"line {number} of the MPI hostfile {path} is not a host: {shown!r} "
                "(write one host per line, as host or host:slots)"
            )
        hosts += 1
    if not hosts:
        return f"the MPI hostfile {path} lists no host (write one per line, as host or host:slots)"
    return None


# ------------------------------------------------------------------ processes
def _alive(pid: int, start: int) -> bool:
    """The same process (not a recycled pid), still running (not a zombie)."""
    stat = process_stat(pid)
    return stat is not None and stat[2] == start and stat[0] not in ("Z", "X")


# hydra's own lines when it ends a job ("BAD TERMINATION ...", "YOU CAN IGNORE ...")
_HYDRA_NOISE = re.compile(
    rb"^\s*$|^=|^YOUR APPLICATION TERMINATED|^This typically refers|^Please see the FAQ"
    rb"|^\[mpiexec@"
)
_BAD_PID = re.compile(rb"PID (\d+) RUNNING AT")
_EXIT_STRING = re.compile(rb"TERMINATED WITH THE EXIT STRING: (.+)")


class _Mpiexec:
    """The mpiexec process: its output, its death, and ending it with all it started.

    Threads: built, waited for and ended (``end``) on the run's thread;
    ``terminate`` also from the lab's control thread (stop); the output pumps on
    threads of their own.
    """

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.stderr_tail: deque[str] = deque(maxlen=20)
        self.bad_pids: list[int] = []  # ranks hydra reported as killed by a signal
        self.exit_string = ""  # and how ("Killed (signal 9)")
        self._ending = threading.Event()  # we end it: hydra's banner is noise then
        self._tree: dict[int, int] = {}
        self._tree_lock = threading.Lock()
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # a lab killed with SIGKILL cannot end mpiexec itself; the kernel does
            preexec_fn=die_with_lab(),
        )
        self._pumps = [
            threading.Thread(target=self._pump_stdout, name="concviz-mpiexec-out", daemon=True),
            threading.Thread(target=self._pump_stderr, name="concviz-mpiexec-err", daemon=True),
        ]
        for t in self._pumps:
            t.start()

    # -- pump threads
    def _pump_stdout(self) -> None:
        # the ranks' prints arrive here through hydra; they go on to the lab's
        # descriptor 1, which the lab shows as the program's output
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = _BAD_PID.search(line)
            if found:
                self.bad_pids.append(int(found.group(1)))
            found = _EXIT_STRING.search(line)
            if found:
                self.exit_string = found.group(1).decode("utf-8", "replace").strip()
            if self._ending.is_set() and _HYDRA_NOISE.match(line):
                continue
            try:
                os.write(1, line)
            except OSError:
                pass

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            text = line.decode("utf-8", "replace").rstrip()
            if text.strip():
                self.stderr_tail.append(text)
            try:
                os.write(2, line)
            except OSError:
                pass

    # -- run thread (and control thread for terminate)
    def remember_tree(self) -> None:
        """Note the processes mpiexec has started (hydra's proxies, the ranks)."""
        tree = descendants(self.proc.pid)
        with self._tree_lock:
            self._tree.update(tree)

    def terminate(self) -> None:
        """Ask mpiexec to end the job (it kills the ranks); returns at once."""
        self._ending.set()
        if self.proc.poll() is not None:
            return
        self.remember_tree()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def ending(self) -> bool:
        """Whether concviz itself is ending the job (a stop, or the teardown)."""
        return self._ending.is_set()

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def last_error_line(self) -> str:
        return self.stderr_tail[-1] if self.stderr_tail else ""

    def end(self) -> None:
        """Make sure mpiexec and everything it started are gone (bounded)."""
        if self.proc.poll() is None:
            self.terminate()
            if self.wait(KILL_GRACE_S) is None:
                self.remember_tree()
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.wait(2.0)
        with self._tree_lock:
            tree = dict(self._tree)
        # mpiexec kills its ranks as it ends, but not always before it exits
        deadline = time.monotonic() + KILL_GRACE_S
        while True:
            left = [pid for pid, start in tree.items() if _alive(pid, start)]
            if not left:
                break
            if time.monotonic() >= deadline:
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                break
            time.sleep(0.02)
        for t in self._pumps:
            t.join(timeout=1.0)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class _Replies:
    """Rank 0's answers, read on a thread of their own so the run thread can watch mpiexec.

    Threads: the reader thread fills the queue; ``next`` on the run's thread.
    """

    def __init__(self, link: ControlLink) -> None:
        self.link = link
        self.closed = False
        self._queue: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, name="concviz-mpi-control", daemon=True).start()

    def _read(self) -> None:
        try:
            while (msg := self.link.receive()) is not None:
                self._queue.put(msg)
        except (OSError, ValueError):
            pass
        self._queue.put(None)

    def next(self, timeout: float) -> dict | None:
        """The next answer; None on timeout or once rank 0 has closed the connection."""
        if self.closed:
            return None
        try:
            msg = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if msg is None:
            self.closed = True
        return msg


def _death(job: _Mpiexec, sink: EventSink, when: str = "") -> str:
    """What to tell the user when the ranks went away on their own."""
    code = job.wait(2.0)
    who = "an MPI rank"
    names = {pid: label for pid, _, label in sink.rows.values()}
    for pid in job.bad_pids:
        if pid in names:
            who = f"MPI {names[pid]} (pid {pid})"
            break
    if code is None:
        text = f"MPI rank 0 closed its connection to the lab{when} while mpiexec still ran"
    elif job.exit_string and not job.ending:
        text = f"{who} died{when}: {job.exit_string} (mpiexec exited with code {code})"
    elif code < 0:
        text = f"{who} died{when}: mpiexec was ended by signal {-code}"
    else:
        text = f"{who} died{when}: mpiexec exited with code {code}"
    last = job.last_error_line()
    return f"{text}: {last}" if last else text


def _how_it_ended(pid: int) -> str:
    """ " with exit code 3" or " by signal 9" for a zombie (its status waits in /proc
    until its parent reaps it); "" when that cannot be read."""
    fields = stat_fields(pid)
    try:
        if fields[0] != "Z":
            return ""
        status = int(fields[49])  # exit_code, field 52 (Linux 3.5 on)
    except (TypeError, IndexError, ValueError):
        return ""
    if os.WIFEXITED(status):
        return f" with exit code {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        return f" by signal {os.WTERMSIG(status)}"
    return ""


def _dead_rank(job: _Mpiexec, sink: EventSink) -> tuple[int, str] | None:
    """A rank of this machine (one mpiexec started) that is gone or a zombie."""
    with job._tree_lock:
        tree = dict(job._tree)
    for pid, _tid, label in list(sink.rows.values()):
        start = tree.get(pid)  # a rank on another host is not in mpiexec's tree here
        if start is not None and not _alive(pid, start):
            return pid, f"{label} (pid {pid}) died{_how_it_ended(pid)}"
    return None


def _answer(job: _Mpiexec, replies: _Replies, sink: EventSink, ctx: RunContext) -> dict | None:
    """Rank 0's answer to a round; None when the run was stopped (raises if a rank died)."""
    dead: tuple[int, str] | None = None
    dead_at = 0.0
    while True:
        msg = replies.next(0.1)
        if msg is not None:
            return msg
        if replies.closed or job.proc.poll() is not None:
            if ctx.stop_event.is_set():
                return None
            raise WorkerDied(_death(job, sink))
        if dead is None:
            dead = _dead_rank(job, sink)
            dead_at = time.monotonic()
        elif time.monotonic() - dead_at > RANK_DEATH_GRACE_S and not ctx.stop_event.is_set():
            raise WorkerDied(
                f"MPI {dead[1]}, and mpiexec had not ended the job "
                f"{RANK_DEATH_GRACE_S:g} s later: the lab ended it"
            )


def _start(job: _Mpiexec, sink: EventSink, ctx: RunContext, n: int) -> _Replies | None:
    """Wait for rank 0's control connection and its ready (after a barrier of all ranks)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    replies: _Replies | None = None
    while True:
        if ctx.stop_event.is_set():
            return None
        if replies is None:
            link = sink.wait_control(0.05)
            if link is not None:
                replies = _Replies(link)
        else:
            msg = replies.next(0.05)
            if msg is not None and msg.get("ready"):
                break
        if job.proc.poll() is not None or (replies is not None and replies.closed):
            if ctx.stop_event.is_set():
                return None
            raise WorkerDied(_death(job, sink, when=" before the ranks were ready"))
        if time.monotonic() >= deadline:
            raise WorkerDied(
                f"the {n} MPI ranks were not ready within {STARTUP_TIMEOUT_S:g} s "
                f"({len(sink.rows)} had connected to the lab)"
            )
    if not sink.wait_rows(n, timeout=5):
        raise WorkerDied(f"only {len(sink.rows)} of {n} MPI ranks connected to the lab")
    job.remember_tree()
    return replies


@strategy(
    "mpi",
    "mpi4py: N MPI ranks started by mpiexec, each running its share of every round",
    available=_mpi_missing,
    processes=True,
    group="engines",
    install=install_hint("mpi"),
    check_options=_check_options,
)
def run_mpi(ctx: RunContext) -> None:
    n = ctx.workers
    starting = phase(ctx, "startup", f"mpiexec -n {n}: starting {n} ranks")
    mpiexec = find_program("mpiexec") or "mpiexec"
    callback = ctx.options.get("callback_host")
    sink = EventSink(ctx, name="rank {i}", callback=callback or None)
    hostfile = ctx.options.get("hostfile")
    cmd = [mpiexec, "-n", str(n)]
    if hostfile:
        cmd += ["-hostfile", os.path.abspath(hostfile)]
    cmd += [sys.executable, "-m", RANK_MODULE]
    env = worker_env(ctx.sys_path)
    # The ranks' environment is private to the user (unlike mpiexec's command line,
    # which ps shows): the run's secret goes there.
    env[ENV_VAR] = json.dumps(
        {"address": sink.worker_address, "spec": ctx.spec, "path": ctx.sys_path}
    )
    command = shlex.join(cmd)
    starting.details.update({"command": command, "ranks": n, "events_to": sink.address})
    if hostfile:
        starting.details["hostfile"] = os.path.abspath(hostfile)
    engine_info(ctx, mpiexec=command, ranks=n)

    job: _Mpiexec | None = None
    replies: _Replies | None = None
    try:
        try:
            job = _Mpiexec(cmd, env)
            ctx.on_stop(job.terminate)
            replies = _start(job, sink, ctx, n)
        finally:
            starting.end()
        if replies is None:
            return  # stopped during start-up
        # batch: one round of every task; continuous: 2·N at a time, so a stop or
        # a switch waits for at most two tasks per rank
        size = None if ctx.feed.total is not None else 2 * n
        ended = 0
        while not ctx.stop_event.is_set():
            tasks = list(ctx.feed) if size is None else list(itertools.islice(ctx.feed, size))
            if not tasks:
                break
            try:
                replies.link.send({"tasks": tasks})
            except OSError:
                pass  # rank 0 is gone: _answer says why
            answer = _answer(job, replies, sink, ctx)
            if answer is None:
                break
            for index, row, text in answer.get("errors", []):
                ctx.task_error(index, row, text)
            ended += answer.get("done", 0)
            sink.wait_ended(ended)
    finally:
        with phase(ctx, "teardown", "ending the MPI ranks"):
            if job is not None:
                if replies is not None and not ctx.stop_event.is_set():
                    try:
                        replies.link.send({"quit": True})
                    except OSError:
                        pass
                    job.wait(QUIT_TIMEOUT_S)
                if replies is not None:
                    replies.link.close()
                job.end()
            sink.close()
