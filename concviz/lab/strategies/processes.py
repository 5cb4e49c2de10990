"""Strategies that run tasks in worker processes: multiprocessing.Pool and ProcessPoolExecutor.

Each worker process records into its own buffers and a flusher thread ships packed
batches every few milliseconds through one ``SimpleQueue`` to the lab, which relays
them unchanged; the lab never decodes or re-packs a worker's events.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection as mp_connection
import multiprocessing.pool as mp_pool
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler

from ..phases import Phase
from ..protocol import RECORD_SIZE, widen_pipe
from ..recorder import Recorder, children_cpu_ns, execute, perf_ns
from ..workloads import check_picklable, task_fn
from .base import RunContext, WorkerDied, strategy
from .dispatch import chunk_for, result_or_none, submit_windowed

START_METHODS = tuple(mp.get_all_start_methods())

# ------------------------------------------------------------------ worker side
_worker: dict = {}


def _worker_init(
    spec, events, slots, ready, ready_cpu, final_cpu, sys_path, close_fds, record=True
) -> None:
    # a forked worker inherits the lab's SIGINT handler, which ignores it; in a worker
    # a SIGINT is the task's KeyboardInterrupt, as in any Python program
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in close_fds:  # a forked worker must not hold the lab's private channel open
        try:
            os.close(fd)
        except OSError:
            pass
    for p in reversed(sys_path):
        if p not in sys.path:
            sys.path.insert(0, p)
    from ..output import attribute_stdout

    attribute_stdout()  # spawned: a fresh sys.stdout; forked: already wrapped
    pid = os.getpid()
    with slots.get_lock():
        index = next((i for i in range(len(slots)) if slots[i] == 0), len(slots))
        if index < len(slots):
            slots[index] = pid
    rec = Recorder(events.put, recording=record)
    from .. import sync

    # waits on instrumented objects are recorded here; names and blocked waits are
    # messages the relay hands to the lab's deadlock monitor
    sync.install(rec, events.put)
    # The parent is the lab, or under forkserver the fork server, which ends with the lab.
    parent_pid = os.getppid()

    def tick() -> None:
        if os.getppid() != parent_pid:  # the lab is gone: do not linger
            os._exit(1)

    rec.tick = tick
    rec.start()

    term_begun = threading.Event()

    def on_term(signum, frame) -> None:
        # The lab ended the pool (a stop, or another worker died): ship what this
        # worker recorded in the last flush interval before going. The flush runs on
        # a thread of its own, bounded, because the code interrupted here may hold a
        # buffer's lock. A second SIGTERM (the pool ends its workers too) must not run
        # this again: its kill would cut the first flush's batch short mid-write, and the
        # lab's relay stops at a cut batch, losing every worker's last events.
        term_begun.set()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sync.record_open_waits()  # a task blocked on a lock never leaves its wait
        last = threading.Thread(target=rec.close, daemon=True)
        last.start()
        last.join(0.5)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    _redeliver_sigterm(term_begun)
    mp.util.Finalize(None, rec.close, exitpriority=100)  # ship the rest at a clean exit
    _worker.update(index=index, fn=task_fn(spec), buf=rec.buffer())
    if index < len(ready):  # started: the interpreter, the imports, the user's function
        ready_cpu[index] = time.process_time_ns()  # what starting cost (not task time)
        ready[index] = perf_ns()

        def last_cpu() -> None:  # the last finalizer: what this worker used in all
            final_cpu[index] = time.process_time_ns()

        mp.util.Finalize(None, last_cpu, exitpriority=-100)


def _redeliver_sigterm(begun: threading.Event) -> None:
    """See that a SIGTERM runs the worker's handler even when its main thread is blocked.

    Python runs a signal's handler in the main thread only, between bytecodes or when
    a blocking call there is interrupted. A SIGTERM that arrives just before the main
    thread enters a wait nothing else ends (a pool worker reaching for the task
    queue's read lock, which ``Pool.terminate`` takes and never gives back) only
    marks the handler as due: the wait goes on, the handler never runs, the worker
    lives on, and ``Pool.terminate`` waited for it for ever (the lab hung so under
    load, a replacement worker just started beside a dead one). The signal's C
    handler also writes its number to the wakeup fd: a thread of the worker reads it
    and interrupts the main thread again, every 20 ms, until the handler has begun.
    """
    main = threading.get_ident()
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(r)
        os.close(w)
        return
    term = int(signal.SIGTERM)

    def watch() -> None:
        while True:
            try:
                data = os.read(r, 512)
            except OSError:
                return
            if not data:
                return
            if term in data:
                break
        while not begun.wait(0.02):
            try:
                signal.pthread_kill(main, term)
            except (OSError, ValueError):
                return

    threading.Thread(target=watch, name="concviz-sigterm", daemon=True).start()


def _worker_task(index: int):
    return index, _worker["index"], execute(_worker["buf"], _worker["index"], index, _worker["fn"])


def _worker_tasks(indices: tuple[int, ...]) -> list[tuple[int, int, str]]:
    """Several tasks in a row, each recorded as its own; the failures among them."""
    buf, w, fn = _worker["buf"], _worker["index"], _worker["fn"]
    failed = []
    for index in indices:
        err = execute(buf, w, index, fn)
        if err:
            failed.append((index, w, err))
    return failed


# ------------------------------------------------------------------ lab side
# How long a stopped worker has to ship its last batch and exit on SIGTERM before it
# is killed (a task may have ignored SIGTERM, or be stuck in a C call).
TERM_GRACE_S = 0.4


def _end_processes(processes) -> None:
    """SIGTERM every worker, then SIGKILL those still alive after ``TERM_GRACE_S``."""
    procs = [p for p in processes if p.exitcode is None]
    pids = {id(p): p.pid for p in procs}
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError):
            pass
    sentinels = []
    for p in procs:
        try:
            sentinels.append(p.sentinel)
        except ValueError:
            pass
    _wait_exits(sentinels, TERM_GRACE_S)
    for p in procs:
        try:
            if p.exitcode is None:
                p.kill()
        except (OSError, ValueError):
            # the pool may have closed the Process object meanwhile: by pid, then
            try:
                os.kill(pids[id(p)], signal.SIGKILL)
            except (OSError, KeyError, TypeError):
                pass


# Pool.terminate, Pool.join and an executor's shutdown wait for the workers without a
# bound: one that outlives its SIGTERM would hold the run, and the lab, for ever. They
# run on a thread of their own; past these bounds every worker still alive is killed,
# and what still holds the pool then is left behind (a daemon thread): the run ends.
POOL_TERM_S = 1.0  # Pool.terminate's SIGTERM: a worker flushes (<= 0.5 s) and exits
POOL_JOIN_S = 5.0  # a closed pool's or a shut-down executor's idle workers exit
POOL_GIVE_UP_S = 3.0  # after the kill: how long the pool's own ending is waited for
_KILL_ROUND_S = 0.25


def _on_thread(fn, name: str) -> threading.Thread:
    """Start ``fn`` on a daemon thread (what it raises is dropped: ending goes on)."""

    def run() -> None:
        try:
            fn()
        except Exception:
            pass

    t = threading.Thread(target=run, name=name, daemon=True)
    t.start()
    return t


def _kill_alive(processes, timeout: float = 0.5) -> None:
    """SIGKILL every process not yet exited (by its sentinel: without reaping it, which
    the pool's own thread may be doing) and wait, bounded, until they have."""
    sentinels = []
    for p in processes:
        try:
            sentinel, pid = p.sentinel, p.pid
        except ValueError:  # closed: long gone
            continue
        if pid is None or sentinel in sentinels or mp_connection.wait([sentinel], 0):
            continue  # not started, listed twice (the pool's and the run's), or gone
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        sentinels.append(sentinel)
    _wait_exits(sentinels, timeout)


def _wait_exits(sentinels: list, timeout: float) -> None:
    """Wait until the processes of these sentinels have all exited, ``timeout`` at most."""
    deadline = time.monotonic() + timeout
    while sentinels and (left := deadline - time.monotonic()) > 0:
        ready = mp_connection.wait(sentinels, left)
        sentinels = [s for s in sentinels if s not in ready]


def _unstick_pool(pool) -> None:
    """Hand on the pool's queue locks a killed worker took with it (call once every
    worker is gone). Pool.terminate takes the task queue's read lock, which a worker
    holds while idle in get(), and puts a sentinel under the result queue's write lock,
    which a worker holds while sending a result: neither comes back from a dead worker.
    A lock the lab's ending holds itself is released to no one waiting: harmless."""
    for lock in (
        getattr(pool._inqueue, "_rlock", None),
        getattr(pool._outqueue, "_wlock", None),
    ):
        if lock is None:
            continue
        try:
            lock.acquire(False)  # taken now if free, so the release below changes nothing;
            lock.release()  # if held, the release hands it to the pool's waiting thread
        except (OSError, ValueError):
            pass


def _end_pool(pool, others=(), grace: float = POOL_TERM_S) -> None:
    """``pool.terminate()``, bounded whatever the workers do.

    Pool.terminate stops the pool replacing workers, SIGTERMs them (each ships its last
    events, see ``_worker_init``) and joins them. A worker still alive after ``grace``
    is killed, with every other of ``others`` and of the pool (a
    replacement the pool started meanwhile); should the pool's ending still wait, on
    a queue lock a killed worker held, the locks are handed on; past
    ``POOL_GIVE_UP_S`` it is left behind and the run goes on.
    """
    ender = _on_thread(pool.terminate, "concviz-pool-end")
    # Pool.terminate SIGTERMs the workers once its worker handler has ended (0.1 s and
    # more, on a busy machine): the grace counts from then, so a worker has all of it
    # to ship its last events (a deadlock's waits were lost under load, killed mid-flush)
    handler = getattr(pool, "_worker_handler", None)
    if isinstance(handler, threading.Thread) and handler is not threading.current_thread():
        handler.join(grace)
    ender.join(grace)
    deadline = time.monotonic() + POOL_GIVE_UP_S
    rounds = 0
    while ender.is_alive() and time.monotonic() < deadline:
        try:
            _kill_alive([*list(pool._pool), *others])
        except Exception as exc:  # the run's own error is what the run ends with
            print(f"concviz: ending the process pool: {exc!r}", file=sys.stderr)
        ender.join(_KILL_ROUND_S)
        rounds += 1
        if ender.is_alive() and rounds >= 2:
            _unstick_pool(pool)
    if ender.is_alive():
        print("concviz: the process pool would not end; left behind", file=sys.stderr)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


# The relay joins the batches its workers hand over within this long into one frame:
# each frame costs the window a decode (tens of microseconds), and two workers of 1 ms
# tasks hand over a batch every few ms each. A bar is delayed by at most this, well
# within one display frame (16 ms).
COALESCE_S = 0.004
COALESCE_BYTES = 1 << 20
# At high event rates (a frame of more than this many events a millisecond since the
# one before: two workers of tasks under about half a millisecond) the relay rests
# longer, as the workers hand over less often then (``recorder.FAST_GAP_NS``); a start
# waits at most 30 + 12 ms, within one redraw of the live view.
FAST_COALESCE_S = 0.012
FAST_RELAY_EVENTS_PER_MS = 8


class _Rest:
    """The relay's pause between frames, which ``cut`` ends at once.

    A poll on a private pipe, which costs what a sleep costs. The relay's ``close``
    cuts it: resting out a plain sleep held the end of every process run back by up to
    the whole pause (4 ms, 1 % of a 0.3 s run). Where there is no ``select.poll``
    (Windows) it is a plain sleep.
    """

    def __init__(self) -> None:
        self._fds: tuple[int, int] | None = None
        self._poller = None
        try:
            import select

            poller = select.poll()
            r, w = os.pipe()
        except (ImportError, AttributeError, OSError):
            return
        poller.register(r, select.POLLIN)
        self._fds, self._poller = (r, w), poller

    def __call__(self, seconds: float) -> None:
        if self._poller is None:
            time.sleep(seconds)
        else:
            self._poller.poll(seconds * 1000.0)

    def cut(self) -> None:
        """End this rest and every later one (the relay is ending)."""
        if self._fds is not None:
            try:
                os.write(self._fds[1], b"x")
            except OSError:
                pass

    def close(self) -> None:
        fds, self._fds, self._poller = self._fds, None, None
        for fd in fds or ():
            try:
                os.close(fd)
            except OSError:
                pass


class _Relay:
    """Moves packed batches from the workers' queue to the lab's channel (own thread).

    It wakes when something is in the pipe, takes all that is there, sends it as one
    frame (records are fixed-size, so joined batches are one batch) and rests
    ``COALESCE_S`` before looking again: at most one wake-up and one frame per
    ``COALESCE_S``, however many workers hand over batches, and a batch waits at most
    ``COALESCE_S`` in the pipe.

    ``close`` puts a sentinel behind the workers' last batches, so the relay ends as
    soon as it has forwarded them (a polling loop made every process run wait up to
    one poll period at its end).
    """

    _END = None

    def __init__(self, events, send) -> None:
        self._events = events
        self._send = send
        self._abandon = threading.Event()
        self._rest = _Rest()
        self.frames = 0  # frames sent (each one wake-up of this thread with data)
        self._thread = threading.Thread(target=self._loop, name="concviz-relay", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        get, send, ready = self._events.get, self._send, self._events._reader.poll
        last = time.monotonic()  # when the last frame went out
        while True:
            pending: list[bytes] = []  # what is in the pipe now goes out as one frame
            end = False
            try:
                if not ready(0.05):
                    if self._abandon.is_set():
                        return
                    continue
                size = 0
                while size < COALESCE_BYTES:
                    payload = get()
                    if payload is self._END:
                        end = True
                        break
                    if isinstance(payload, dict):  # a sync object's name or a blocked wait
                        from .. import sync

                        sync.forward(payload)
                    else:
                        pending.append(payload)
                        size += len(payload)
                    if not ready(0):
                        break
            except Exception:  # EOF, or a batch cut short by a killed worker
                end = True
            rest = COALESCE_S
            if pending:
                self.frames += 1
                frame = pending[0] if len(pending) == 1 else b"".join(pending)
                now = time.monotonic()
                if len(frame) // RECORD_SIZE > FAST_RELAY_EVENTS_PER_MS * 1e3 * (now - last):
                    rest = FAST_COALESCE_S
                last = now
                try:
                    send(frame)
                except OSError:
                    return
            if end:
                return
            # Rest before looking again: what the workers hand over meanwhile waits in
            # the pipe and goes out in the next frame, instead of waking this thread
            # (and taking the GIL from the lab's dispatch) once per worker batch.
            self._rest(rest)

    def close(self) -> None:
        """Call after the workers are gone: forwards what they sent, then ends.

        A worker killed while writing may have left the queue's write lock taken
        forever; then the relay is told to stop once the pipe is drained instead.
        """
        lock = self._events._wlock
        if lock is None or lock.acquire(timeout=0.5):
            try:
                self._events._writer.send_bytes(ForkingPickler.dumps(self._END))
            except OSError:
                self._abandon.set()
            finally:
                if lock is not None:
                    lock.release()
        else:
            self._abandon.set()
        self._rest.cut()
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._rest.close()


def event_queue(context):
    """The queue the workers hand their packed batches to the lab through: a
    ``SimpleQueue`` whose pipe holds several whole batches (``widen_pipe``)."""
    queue = context.SimpleQueue()
    widen_pipe(queue._writer.fileno())
    return queue


def _pickling_check(ctx: RunContext) -> None:
    if ctx.spec["name"] == "user":
        check_picklable(ctx.spec["user"])


class _Workers:
    """What both process strategies share: the queue, the slots, the death check."""

    def __init__(self, ctx: RunContext) -> None:
        method = ctx.options.get("start_method") or mp.get_start_method(allow_none=False)
        self.mp = mp.get_context(method)
        self.ctx = ctx
        self.events = event_queue(self.mp)
        self.slots = self.mp.Array("i", ctx.workers)
        close = (
            [ctx.options["channel_fd"]] if method == "fork" and "channel_fd" in ctx.options else []
        )
        self.ready = self.mp.RawArray("q", ctx.workers)  # when each worker could take tasks
        self.ready_cpu = self.mp.RawArray("q", ctx.workers)  # and the CPU it took to get there
        self.final_cpu = self.mp.RawArray("q", ctx.workers)  # and all it used, at its exit
        self.children_cpu0 = children_cpu_ns()
        self.initargs = (
            ctx.spec,
            self.events,
            self.slots,
            self.ready,
            self.ready_cpu,
            self.final_cpu,
            ctx.sys_path,
            close,
            ctx.recorder.recording,
        )
        self.relay = _Relay(self.events, ctx.send_events)
        self.seen: dict[int, object] = {}
        self.startup = _StartupWatch(ctx, self.ready, self.ready_cpu, method)

    def watch(self, processes) -> None:
        for p in list(processes):
            self.seen.setdefault(id(p), p)

    def dead(self) -> str | None:
        for p in self.seen.values():
            code = p.exitcode
            if code is not None and code != 0 and code != -signal.SIGTERM:
                index = next((i for i, pid in enumerate(self.slots) if pid == p.pid), None)
                who = f"worker process {index}" if index is not None else "a worker process"
                return f"{who} (pid {p.pid}) {_describe_exit(code)}"
        return None

    def result(self, fut: Future) -> None:
        res = result_or_none(fut)
        if res is not None and res[2]:
            self.ctx.task_error(res[0], res[1], res[2])

    def results(self, fut: Future) -> None:
        """A chunk's result: the failures among its tasks."""
        for index, worker, err in result_or_none(fut) or ():
            self.ctx.task_error(index, worker, err)

    def wait_exited(self, timeout: float = 1.0) -> None:
        """Wait (bounded) until every worker seen has exited and shipped its last batch."""
        sentinels = []
        for p in self.seen.values():
            try:
                sentinels.append(p.sentinel)
            except ValueError:  # already closed, so long gone
                pass
        deadline = time.monotonic() + timeout
        while sentinels:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready = mp_connection.wait(sentinels, left)
            sentinels = [s for s in sentinels if s not in ready]

    def close(self) -> None:
        self.startup.close()
        self.wait_exited()
        self.relay.close()
        self._exit_cpu()

    def _exit_cpu(self) -> None:
        """What the workers spent after their last finalizer (freeing their memory as
        they exit: 10 ms each here, 150 ms on a slower machine), measured as the reaped
        children's CPU beyond what each worker counted itself. It is neither a task's
        nor a native thread's; the run takes it out of the process CPU as start-up's."""
        finals = [self.final_cpu[i] for i in range(len(self.final_cpu))]
        after = children_cpu_ns()
        if after is None or self.children_cpu0 is None or not all(finals):
            return  # a worker ended without its finalizers (a stop, a crash): unknown
        if not all(p.exitcode is not None for p in self.seen.values()):
            return  # not every worker is reaped yet: its CPU is not counted
        spent = after - self.children_cpu0 - sum(finals)
        self.startup.phase.details["workers_exit_cpu_s"] = round(max(0, spent) / 1e9, 4)
        self.startup.phase.update()


class _StartupWatch:
    """The pool's start-up as a phase: from creating the pool until a worker is ready.

    Each worker writes when it became ready (after its interpreter started, the lab's
    and the user's modules were imported and its initializer ran) into a shared
    array; a thread of the lab reads it every few ms while workers are starting.
    The phase ends when the first worker is ready (before that no task can run, and
    the run's wall time leaves it out); it is said again as each further worker gets
    ready, with every worker's start-up in ``details["workers_ready_s"]``.
    """

    POLL_S = 0.005

    def __init__(self, ctx: RunContext, ready, ready_cpu, method: str) -> None:
        self.ready, self.ready_cpu, self.n = ready, ready_cpu, len(ready)
        self.phase = Phase(
            ctx, "startup", f"{self.n} worker processes ({method}): interpreters, imports"
        )
        self.phase.details["start_method"] = method
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="concviz-startup", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        seen = 0
        while True:
            # closed: one last reading (on a busy machine a short run's workers were
            # ready, had run every task and were gone before this thread first looked)
            closed = self._done.is_set()
            stamps = [self.ready[i] for i in range(self.n)]
            known = [t for t in stamps if t > 0]
            if len(known) > seen:
                seen = len(known)
                self.phase.details["workers_ready_s"] = [
                    round((t - self.phase.t0) / 1e9, 4) if t > 0 else None for t in stamps
                ]
                self.phase.details["workers_startup_cpu_s"] = round(
                    sum(self.ready_cpu[i] for i in range(self.n) if stamps[i] > 0) / 1e9, 4
                )
                if self.phase.t_end is None:
                    self.phase.end(min(known))
                else:
                    self.phase.update()
            if seen == self.n or closed:
                return
            self._done.wait(self.POLL_S)

    def close(self) -> None:
        """The pool is gone: stop watching; a start-up no worker finished ends now."""
        self._done.set()
        self._thread.join(timeout=1.0)
        self.phase.end()


class _Pool(mp_pool.Pool):
    """``multiprocessing.Pool`` whose worker-maintaining thread sleeps while results come in.

    That thread waits on the workers' sentinels, the pool's change notifier and (in
    CPython 3.8 and later) the result pipe's reader. A result waiting in the pipe
    wakes it, and it spins until the result thread has taken the result: about ten
    rounds a result, ~27 ms of the lab's CPU in a 0.3 s run of 60 chunks, taken from
    workers that fill both cores. It needs none of them: a worker's exit wakes it
    by its sentinel, and ``close``, ``terminate`` and an emptied task cache by the
    change notifier.
    """

    def _get_sentinels(self):
        return [self._change_notifier._reader]


@strategy(
    "processes",
    "multiprocessing.Pool with N worker processes (apply_async, short tasks in chunks)",
    processes=True,
)
def run_processes(ctx: RunContext) -> None:
    _pickling_check(ctx)
    w = _Workers(ctx)
    pool = _Pool(ctx.workers, initializer=_worker_init, initargs=w.initargs, context=w.mp)
    # Watch the workers from birth: the pool reaps and replaces a dead worker within
    # 0.1 s, so one that dies before the first check would otherwise go unseen and
    # its task would never finish.
    w.watch(pool._pool)
    ending = threading.Lock()

    def end_pool(grace: float = POOL_TERM_S) -> None:
        with ending:  # a stop's and the run's own: one after the other
            _end_pool(pool, list(w.seen.values()), grace)

    # a stop kills a worker deaf to SIGTERM sooner: the user waits for it
    ctx.on_stop(lambda: end_pool(TERM_GRACE_S))
    try:

        def check() -> None:
            w.watch(pool._pool)
            why = w.dead()
            if why:
                raise WorkerDied(why)

        # tasks go to the workers in chunks of about 15 ms, as Pool.map chunks its
        # items (one apply_async per 0.05 ms task cost the lab 4-5 times the work)
        chunk = chunk_for(ctx)

        def submit(indices) -> Future:
            fut: Future = Future()
            pool.apply_async(
                _worker_tasks if chunk > 1 else _worker_task,
                (indices,),
                callback=fut.set_result,
                error_callback=fut.set_exception,
            )
            return fut

        submit_windowed(ctx, submit, w.results if chunk > 1 else w.result, check, chunk)
        if ctx.stop_event.is_set():
            end_pool(TERM_GRACE_S)
        else:
            pool.close()
            # every task has ended: the workers only exit; one that does not is ended
            joiner = _on_thread(pool.join, "concviz-pool-join")
            joiner.join(POOL_JOIN_S)
            if joiner.is_alive():
                end_pool()
    except BaseException:
        end_pool()
        raise
    finally:
        w.close()


@strategy(
    "process-pool",
    "concurrent.futures.ProcessPoolExecutor with N processes (start method selectable)",
    processes=True,
)
def run_process_pool(ctx: RunContext) -> None:
    _pickling_check(ctx)
    w = _Workers(ctx)
    ex = ProcessPoolExecutor(
        max_workers=ctx.workers, mp_context=w.mp, initializer=_worker_init, initargs=w.initargs
    )
    broken: list[BaseException] = []

    def kill() -> None:
        w.watch((ex._processes or {}).values())
        # every worker ever seen: the runner's own shutdown(wait=False) may already have
        # dropped the pool's list, and a worker deaf to SIGTERM would then outlive the run
        procs = list(w.seen.values())
        for p in procs:
            try:
                p.terminate()
            except (OSError, ValueError):
                pass

        # bounded, as every wait on the executor here: it takes its locks (which its
        # own threads hold while they end) and nothing may hold the lab for ever
        def shut() -> None:
            ex.shutdown(wait=False, cancel_futures=True)

        _on_thread(shut, "concviz-pool-end").join(0.5)
        _end_processes(procs)  # and SIGKILL any that ignore SIGTERM

    ctx.on_stop(kill)
    try:

        def on_result(fut: Future) -> None:
            exc = fut.exception() if not fut.cancelled() else None
            if isinstance(exc, BrokenProcessPool):
                broken.append(exc)
                return
            w.result(fut)

        def check() -> None:
            if ctx.stop_event.is_set():
                return  # the stop terminated the workers: the pool "broke" on purpose
            w.watch((ex._processes or {}).values())
            if broken or w.dead():
                why = w.dead()
                # A dead worker's pipe closes a moment before its exit status can be
                # read: wait for it briefly, so the error names the worker.
                deadline = time.monotonic() + 0.5
                while why is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                    why = w.dead()
                raise WorkerDied(why or f"the process pool broke: {broken[0]}")

        def submit(index: int) -> Future:
            fut = ex.submit(_worker_task, index)
            w.watch((ex._processes or {}).values())
            return fut

        submit_windowed(ctx, submit, on_result, check)
        check()
        stopped = ctx.stop_event.is_set()
        ender = _on_thread(
            lambda: ex.shutdown(wait=not stopped, cancel_futures=stopped), "concviz-pool-end"
        )
        # every task has ended (or the stop ended the workers): the workers only exit;
        # one that does not is killed
        ender.join(POOL_JOIN_S)
        if ender.is_alive():
            kill()
            ender.join(POOL_GIVE_UP_S)
    except BaseException:
        kill()
        raise
    finally:
        w.close()
