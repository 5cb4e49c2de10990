"""Dask distributed: a LocalCluster the lab starts, or a cluster that already runs.

``dask-local`` starts a real ``distributed.LocalCluster`` (worker processes with a
nanny each, or threads of the lab); ``dask-remote`` connects to a running scheduler
and uses every worker it has, uploading the lab's sources first, since those workers
may not have concviz installed. Either way tasks go in through ``client.map`` in
bursts, two in flight (a task graph all at once, for Dask's scheduler to order).
Each task reads ``perf_counter_ns`` around its own call and returns the times with
its worker's address and its thread's ident. The times are mapped onto the lab's
clock with an offset per worker, measured at start-up (none for a worker on the lab's
machine, whose monotonic clock is the lab's), and recorded as one row per worker
thread.

The scheduler's task stream is not read: its times are shifted by a worker's
estimate of the scheduler's clock, renewed at every heartbeat, and that estimate
moved by up to 18 ms within a run here, enough to show a task starting before the
task whose result it took had ended; and reading it for the worker and thread cost a
round trip to the scheduler four times a second.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import socket
import struct
import tempfile
import threading
import time
import uuid
from itertools import islice

from ..protocol import EV_END, EV_ERROR, EV_START
from ..recorder import describe_error, perf_ns
from ..strategies.base import RunContext, WorkerDied, strategy
from ..strategies.dispatch import window_for
from .common import (
    ABANDONED,
    LAB_ROOT,
    engine_info,
    install_hint,
    missing_module,
    phase,
    start_up,
)
from .sink import task_function

POLL_S = 0.25  # how often finished tasks are fetched and recorded while a run goes
CLOCK_ROUNDS = 7  # round trips per clock-offset measurement (the shortest one counts)
CONNECT_TIMEOUT_S = 10.0
WORKERS_TIMEOUT_S = 60.0


def _dask_missing() -> str | None:
    return missing_module("distributed", "dask", extra="dask")


def _check_remote(options: dict) -> str | None:
    address = options.get("dask_address")
    if not address:
        return (
            "dask-remote needs the scheduler's address: --dask-address tcp://host:8786 "
            "(in the window: Engine settings…)"
        )
    return _not_a_scheduler(str(address))


SNIFF_TIMEOUT_S = 2.0  # a scheduler greets at once (measured: 1 ms on loopback)


def _not_a_scheduler(address: str) -> str | None:
    """One sentence when something answers at a tcp:// ``address`` but is not Dask.

    Dask's own connect would wait out its time-out on such a server, then fail with
    a traceback's worth of text. Every Dask comm greets a new connection before it
    reads anything: a frame (``<Q`` length, ``<Q`` frame count, ``<Q`` frame sizes)
    holding the msgpack map of its handshake (``compression``, ``python``,
    ``pickle-protocol``). Nothing that is not Dask sends that. An address that does
    not answer at all is left to the run, which says it cannot reach it.
    """
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("", "tcp") or not host or not port.isdigit():
        return None  # TLS and other transports: Dask's connect checks them itself
    try:
        sock = socket.create_connection((host.strip("[]"), int(port)), timeout=SNIFF_TIMEOUT_S)
    except (OSError, ValueError, OverflowError):
        return None
    data = b""
    deadline = time.monotonic() + SNIFF_TIMEOUT_S
    try:
        with sock:
            while len(data) < 256 and b"python" not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
    except OSError:
        pass
    if len(data) >= 16:
        total, frames = struct.unpack_from("<QQ", data)
        if 0 < frames <= 64 and total < 1 << 20 and b"python" in data:
            return None
    said = "said nothing" if not data else f"sent {len(data)} bytes that are no Dask handshake"
    return (
        f"something answers at {address} but it is not a Dask scheduler (it {said} within "
        f"{SNIFF_TIMEOUT_S:g} s); give the address the scheduler prints as "
        "'Scheduler at: tcp://host:8786'"
    )


# ------------------------------------------------------------------ worker side
# Dask pickles these by reference: a worker imports this module (standard library
# only) from its own concviz or from the sources the lab uploaded.


# a task's result: index, CPU ns, pid, start and end (the worker's perf_counter_ns),
# thread ident, then the worker's address and the error's text (UTF-8) with their lengths
_RESULT = struct.Struct("<qqqqqQHI")


def _dask_task(spec: dict, index: int) -> bytes:
    """Run task ``index`` on a Dask worker; what happened, packed (``_unpack_result``).

    The start and end are the worker's ``perf_counter_ns`` around the call, the CPU
    time is the thread's; the worker's address and the thread's ident say where it
    ran; an exception becomes text (a failing task is data). Packed in one ``bytes``:
    Dask serialises a tuple item by item, and fetching 2,000 results of 8 items took
    0.6 s here, as bytes 0.2 s (as long as 2,000 ``None``).
    """
    fn = task_function(spec)
    t0 = time.perf_counter_ns()
    c0 = time.thread_time_ns()
    err = b""
    try:
        fn(index)
    except BaseException as exc:  # noqa: BLE001 - SystemExit & co. are the task's failure too
        err = describe_error(exc).encode("utf-8", "replace") or b"?"
    cpu = time.thread_time_ns() - c0
    t1 = time.perf_counter_ns()
    worker = _worker_address().encode()
    head = _RESULT.pack(
        index, cpu, os.getpid(), t0, t1, threading.get_ident(), len(worker), len(err)
    )
    return head + worker + err


def _unpack_result(data: bytes) -> tuple[int, int, str | None, int, int, int, str, int]:
    """``(index, cpu_ns, error or None, pid, t0, t1, worker, thread)`` from a task's result."""
    index, cpu, pid, t0, t1, tid, n_worker, n_err = _RESULT.unpack_from(data)
    at = _RESULT.size
    worker = data[at : at + n_worker].decode()
    err = data[at + n_worker : at + n_worker + n_err].decode("utf-8", "replace") or None
    return index, cpu, err, pid, t0, t1, worker, tid


def _worker_address() -> str:
    """The address of the Dask worker running the current task ("" outside one)."""
    try:
        from distributed import get_worker  # a worker has imported it already

        return str(get_worker().address)
    except Exception:
        return ""


def _warm_up(spec: dict) -> int:
    """Import the workload and build its function before any task is timed."""
    task_function(spec)
    return os.getpid()


def _scheduler_has_dashboard(dask_scheduler=None) -> bool:
    """Whether the scheduler serves Dask's dashboard (its HTTP server runs without bokeh)."""
    import importlib.util

    return "dashboard" in dask_scheduler.services and importlib.util.find_spec("bokeh") is not None


def _boot_id() -> str | None:
    """This machine's boot id (Linux): two processes that read the same one share
    one monotonic clock."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip() or None
    except OSError:
        return None


def _worker_clock() -> tuple[str | None, int]:
    """A worker's boot id and the clock its tasks read (``perf_counter_ns``)."""
    return _boot_id(), time.perf_counter_ns()


# ------------------------------------------------------------------ lab side
def _short(address: str) -> str:
    return address.split("://", 1)[-1]


def _worker_label(address: str, seen: dict) -> str:
    """A worker's name on its rows: "worker 2" on this machine (the address took a third
    of a 720p timeline's width, "127.0.0.1:38875", and said nothing a class needs),
    ``host:port`` on another, where the host tells the machines apart."""
    host = _short(address).rpartition(":")[0]
    if host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        return f"worker {list(seen).index(address) + 1}"
    return _short(address)


def _knock(address: str) -> None:
    """Open and close a TCP connection to a tcp:// or tls:// scheduler (raises OSError).

    A refused connection fails here at once; Dask's own connect would retry it until
    its time-out before saying the same.
    """
    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("", "tcp", "tls") or not host or not port.isdigit():
        return  # another transport, or Dask's default port: let Dask connect
    socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()


def _clock_offsets(client, local: bool) -> dict[str, int]:
    """Each worker's ``perf_counter_ns`` minus the lab's, in nanoseconds.

    0 for a worker of a LocalCluster or on a machine with the lab's boot id: the
    monotonic clock is one for the whole machine. Otherwise several ``client.run``
    round trips; the one with the shortest round trip counts, its reading taken as
    made at the round trip's midpoint.
    """
    here = None if local else _boot_id()
    best: dict[str, tuple[int, int]] = {}
    for _ in range(1 if local else CLOCK_ROUNDS):
        w0 = perf_ns()
        got = client.run(_worker_clock)
        w1 = perf_ns()
        rtt, mid = w1 - w0, (w0 + w1) // 2
        for address, (boot, t) in got.items():
            if local or (here is not None and boot == here):
                best[address] = (0, 0)
            elif address not in best or rtt < best[address][0]:
                best[address] = (rtt, t - mid)
    return {address: off for address, (_, off) in best.items()}


def _lab_sources_zip(folder: str) -> str:
    """A zip of ``concviz/__init__.py`` and ``concviz/lab/**`` to upload to workers.

    Named after a hash of its contents, so runs with the same sources write the same
    file on a worker instead of piling up copies.
    """
    import zipfile  # here, not at the top: with pathlib, a tenth of the lab's start

    files = []
    top = os.path.join(LAB_ROOT, "concviz")
    files.append(os.path.join(top, "__init__.py"))
    for root, dirs, names in os.walk(os.path.join(top, "lab")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".py"))
    digest = hashlib.sha256()
    for path in files:
        with open(path, "rb") as f:
            digest.update(os.path.relpath(path, LAB_ROOT).encode() + b"\0" + f.read())
    target = os.path.join(folder, f"concviz-lab-{digest.hexdigest()[:12]}.zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, os.path.relpath(path, LAB_ROOT))
    return target


def _upload_lab(client) -> str | None:
    """Send the lab's sources to every worker (and future ones); None, or why not."""
    try:
        with tempfile.TemporaryDirectory(prefix="concviz-dask-") as folder:
            client.upload_file(_lab_sources_zip(folder))
        return None
    except Exception as exc:  # the workers may have concviz already; try without
        return describe_error(exc)


class _Tracker:
    """Records tasks from their results, which say which worker and thread ran them.

    Threads: ``result``, ``finished`` and ``failed`` run on the run thread; ``poll``
    runs on the poller thread while the run goes, then on the run thread once the
    poller has ended (never on both at once). ``poll`` fetches the results of the
    futures ``finished`` handed over, all in one ``gather``, and records them with
    those ``result`` gave.

    The scheduler's task stream says the same (worker and thread), but reading it
    took a round trip to the scheduler four times a second, and its plugin works at
    every task's end on the scheduler, the busiest of Dask's processes here.
    """

    def __init__(self, ctx: RunContext, client, offsets: dict[str, int], pids: dict) -> None:
        self.ctx = ctx
        self.client = client
        self.offsets = offsets
        self.pids = pids
        self.prefix = f"concviz-{uuid.uuid4().hex[:10]}-"
        self.lock = threading.Lock()
        self.results: list[bytes] = []  # results not recorded yet
        self.unread: list = []  # finished futures whose results are not fetched yet
        self.rows: dict[tuple[str, int], int] = {}  # (worker, thread ident) -> row
        self.threads_seen: dict[str, int] = {}  # worker -> how many of its threads
        self.live: dict[int, object] = {}  # index -> Dask future not yet done
        self.failure: str | None = None

    def key(self, index: int) -> str:
        return f"{self.prefix}{index}"

    def index_of(self, key: str) -> int:
        return int(str(key)[len(self.prefix) :])

    def result(self, got: bytes) -> None:
        """A task's result, as ``_dask_task`` returns it."""
        with self.lock:
            self.results.append(got)

    def finished(self, futures: list) -> None:
        """Futures that have finished: their results are fetched at the next ``poll``."""
        with self.lock:
            self.unread.extend(futures)

    def failed(self, text: str) -> None:
        with self.lock:
            if self.failure is None:
                self.failure = text

    def _read_results(self) -> None:
        with self.lock:
            futures, self.unread = self.unread, []
        if not futures:
            return
        try:
            got = self.client.gather(futures)
        except Exception as exc:  # a result lost with its worker after the task ended
            self.failed(f"the results of finished Dask tasks were lost: {describe_error(exc)}")
            return
        with self.lock:
            self.results.extend(got)

    def poll(self) -> None:
        """Fetch the finished tasks' results and record them."""
        self._read_results()
        with self.lock:
            found, self.results = self.results, []
        if not found:
            return
        buf = self.ctx.recorder.buffer()
        for data in found:
            index, cpu, err, pid, w0, w1, worker, tid = _unpack_result(data)
            pid = self.pids.get(worker, pid)
            row = self._row(worker, tid, pid)
            offset = self.offsets.get(worker, 0)
            t0, t1 = w0 - offset, w1 - offset
            buf.append((EV_START, 0, row, index, pid, tid, t0, 0, 0))
            buf.append((EV_ERROR if err else EV_END, 0, row, index, pid, tid, t1, cpu, t0))
            if err:
                self.ctx.task_error(index, row, err)
        self.ctx.recorder.flush()

    def _row(self, worker: str, tid: int, pid: int) -> int:
        row = self.rows.get((worker, tid))
        if row is None:
            row = self.rows[(worker, tid)] = len(self.rows)
            n = self.threads_seen[worker] = self.threads_seen.get(worker, 0) + 1
            name = f"dask {_worker_label(worker, self.threads_seen)} · thread {n}"
            self.ctx.emit({"type": "workers", "pid": pid, "tid": tid, "names": {row: name}})
        return row


def _graph_task(spec: dict, index: int, *inputs) -> bytes:
    """One task of a task graph: Dask calls it once the results it takes exist.

    ``inputs`` are the dependencies' results, passed only so that Dask's scheduler
    knows the edges (the workload's task needs nothing from them).
    """
    return _dask_task(spec, index)


def _submit_graph(ctx: RunContext, client, tracker: _Tracker, spec: dict) -> list:
    """The whole task graph handed to Dask's scheduler at once: a future per task.

    The graph is Dask's own: one entry per task, its call taking the keys of the
    tasks it depends on as arguments, so Dask knows every edge and its scheduler
    decides what runs when and where. It is written as a graph dictionary rather than
    built from ``dask.delayed`` calls: each delayed call carries the graph of all its
    ancestors, and merging them is quadratic (a 1,000-task wavefront took 9 s to
    build, 4,000 tasks 170 s; as a dictionary 0.2 s and 1.1 s). The keys are the
    tracker's, so the task stream names each task; the spec rides in the callable,
    where Dask does not look for keys.
    """
    import functools

    keys = [tracker.key(index) for index in range(len(ctx.feed.deps))]
    graph = {
        keys[index]: (functools.partial(_graph_task, spec, index), *(keys[d] for d in mine))
        for index, mine in enumerate(ctx.feed.deps)
    }
    futures = client.get(graph, keys, sync=False)
    for index, fut in enumerate(futures):
        ctx.feed.claim(index)
        with tracker.lock:
            tracker.live[index] = fut
    return futures


BURST_S = 0.06  # how long a burst should keep the workers busy
MAX_BURST = 256


def next_burst(size: int, took_s: float, floor: int) -> int:
    """The next burst's size, after one of ``size`` tasks ended ``took_s`` after the last.

    Bursts two deep keep the workers busy, but each costs Dask a graph update and a
    wait: of 2,000 tasks of 0.2 ms, bursts of 24 took 1.09x as long as one
    ``client.map`` of all, of 96 0.99x (3 interleaved repeats). Long bursts would hold
    a switch back, which waits for the bursts in flight: so a burst grows (at most
    twice as large each time) until it lasts about ``BURST_S``, and shrinks at once
    when it lasts longer, never below ``floor`` (the window of other strategies).
    """
    if took_s <= 0:
        return size
    want = int(size * BURST_S / took_s)
    return max(floor, min(2 * size, want, MAX_BURST))


def _dispatch(ctx: RunContext, client, tracker: _Tracker, spec: dict, threads: int) -> None:
    """Submit the feed's tasks in bursts (a task graph all at once, for Dask's
    scheduler to order); record the finished ones meanwhile."""
    # the window counts worker threads, which need not be ctx.workers
    window_ctx = copy.copy(ctx)
    window_ctx.workers = max(1, threads)

    def cancel_all() -> None:
        with tracker.lock:
            futures = list(tracker.live.values())
        if futures:
            client.cancel(futures, force=True)

    ctx.on_stop(cancel_all)

    from collections import deque

    from distributed import as_completed, wait

    graph = ctx.feed.deps is not None  # then Dask has every task from the start
    feed = iter(ctx.feed)
    # Tasks go in bursts (next_burst says how many), two in flight, each sent with one
    # ``client.map`` (one message and one graph update on the scheduler). Measured on 2
    # workers against a ``client.map`` and ``gather`` of all tasks: a ``client.submit``
    # per task and ``as_completed`` took 1.45x as long; ``as_completed`` alone, which
    # waits on each future in a coroutine of its own on the scheduler's event loop,
    # about 1.3x; bursts of 24 two deep, each fetched with a ``client.gather``,
    # 1.05-1.11x. A burst is now only waited for; the tracker fetches the results of
    # every burst that finished since its last read in one ``gather`` (about 4 times a
    # second), and with the recorder off nothing is fetched. A task graph goes in at
    # once, for Dask's scheduler to order, and comes back through ``as_completed``.
    floor = window_for(window_ctx)
    size = floor  # the next burst's size (see next_burst)
    bursts: deque[list] = deque()

    def send_burst() -> None:
        if graph or ctx.stop_event.is_set():
            return
        indices = list(islice(feed, size))
        if not indices:
            return
        futures = client.map(
            _dask_task,
            [spec] * len(indices),
            indices,
            key=[tracker.key(i) for i in indices],
            pure=False,
        )
        with tracker.lock:
            tracker.live.update(zip(indices, futures, strict=True))
        bursts.append(futures)

    def collect(futures: list) -> None:
        """Wait for a burst; hand what became of each task on."""
        try:
            with client.as_current():  # distributed.wait asks for the current client
                wait(futures)  # until every one has finished, failed or been cancelled
        except Exception:
            pass  # it says so when some were cancelled, having waited for all
        done = []
        for fut in futures:
            if fut.status == "finished":
                done.append(fut)
                finished(fut, None)
            elif fut.status == "error":
                finished(fut, fut.exception())
            else:
                finished(fut, None)
        if recording and done:
            tracker.finished(done)

    def finished(fut, result) -> None:
        index = tracker.index_of(fut.key)
        with tracker.lock:
            tracker.live.pop(index, None)
        if fut.status == "finished":
            if recording and result is not None:
                tracker.result(result)
        elif fut.status != "cancelled" and not ctx.stop_event.is_set():
            tracker.failed(f"Dask could not run task {index}: {describe_error(result)}")

    def check() -> None:
        if tracker.failure is not None and not ctx.stop_event.is_set():
            raise WorkerDied(tracker.failure)

    ending = threading.Event()

    def poll_loop() -> None:
        while not ending.wait(POLL_S):
            try:
                tracker.poll()
            except Exception:
                pass  # the final read reports a scheduler that went away

    recording = ctx.recorder.recording  # off: the same dispatch (bench overhead)
    poller = threading.Thread(target=poll_loop, name="concviz-dask-results", daemon=True)
    if recording:
        poller.start()
    try:
        if graph:
            futures = _submit_graph(ctx, client, tracker, spec)
            in_flight = len(futures)
            done = as_completed(futures, loop=client.loop, with_results=True, raise_errors=False)
            while in_flight:
                for fut, result in done.next_batch(block=True):
                    in_flight -= 1
                    finished(fut, result)
                check()
        else:
            send_burst()
            send_burst()
            last = time.perf_counter()
            while bursts:
                collect(bursts.popleft())
                now = time.perf_counter()
                size = next_burst(size, now - last, floor)
                last = now
                check()
                send_burst()
        check()
    finally:
        ending.set()
        if recording:
            poller.join()
    if not recording:
        return
    try:
        tracker.poll()  # the last tasks' results
    except Exception as exc:
        if ctx.stop_event.is_set():
            return
        raise WorkerDied(f"cannot fetch the Dask tasks' results: {exc}") from None
    check()  # a result lost with its worker


def _quiet_logs() -> None:
    for name in ("distributed", "distributed.client", "distributed.worker", "tornado"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _has_bokeh() -> bool:
    return missing_module("bokeh", extra="dask") is None


DASHBOARD_TIMEOUT_S = 10.0


def _dashboard_runs(client, cluster) -> bool:
    """Whether the dashboard's status page really answers (a scheduler started with
    --no-dashboard still serves HTTP, and the page needs bokeh where it runs)."""
    import urllib.request

    try:
        if cluster is None and not client.run_on_scheduler(_scheduler_has_dashboard):
            return False
        # the first request builds the page (bokeh's imports): in a packaged app on a
        # busy machine that took over 2 s, and the link was then wrongly left out
        with urllib.request.urlopen(client.dashboard_link, timeout=DASHBOARD_TIMEOUT_S) as reply:
            return reply.status == 200
    except Exception:
        return False  # not worth failing a run for


def _close(client, cluster) -> None:
    """Close a client and the cluster it belongs to (either may be None)."""
    if client is not None:
        try:
            client.close(timeout=5)
        except Exception:
            pass  # the cluster still has to go
    if cluster is not None:
        cluster.close(timeout=10)


def _prepare(ctx: RunContext, client, cluster, upload_error: str | None) -> tuple:
    """The workers' pids, clock offsets and threads, a task-stream tracker, the dashboard."""
    try:
        pids = client.run(os.getpid)
        client.run(_warm_up, ctx.spec)
        offsets = _clock_offsets(client, local=cluster is not None)
        threads = sum(client.nthreads().values())
        tracker = _Tracker(ctx, client, offsets, pids)
    except Exception as exc:
        why = f" (uploading concviz's sources failed: {upload_error})" if upload_error else ""
        raise WorkerDied(
            f"the Dask workers cannot run concviz's tasks: {describe_error(exc)}{why}"
        ) from None
    dashboard = client.dashboard_link if _dashboard_runs(client, cluster) else None
    return pids, offsets, threads, tracker, dashboard


def _run(ctx: RunContext, remote: bool) -> None:
    address = str(ctx.options.get("dask_address") or "")
    if remote:
        label = f"connecting to the Dask scheduler at {address}"
    else:
        label = f"starting a Dask LocalCluster of {ctx.workers} workers"
    starting = phase(ctx, "startup", label)
    cluster = client = None
    try:
        try:
            if remote:
                _quiet_logs()
                from distributed import Client

                try:
                    _knock(address)
                    client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
                except Exception as exc:
                    raise WorkerDied(
                        f"cannot reach the Dask scheduler at {address}: {describe_error(exc)}"
                    ) from None
                upload_error = _upload_lab(client)
                try:
                    client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
                except Exception:
                    raise WorkerDied(
                        f"the Dask scheduler at {address} has no workers "
                        f"(none joined within {WORKERS_TIMEOUT_S:g} s)"
                    ) from None
            else:
                upload_error = None
                threads_per_worker = int(ctx.options.get("threads_per_worker") or 1)

                def build():
                    # importing distributed alone takes a second or more: a stop
                    # must not wait for it either
                    _quiet_logs()
                    import dask
                    from distributed import Client, LocalCluster

                    # Dask's statistical profiler samples each worker's task thread
                    # every 10 ms, taking the GIL from the task each time; concviz
                    # measures the tasks itself, so the workers it starts go without
                    # (about 7 % here).
                    dask.config.set({"distributed.worker.profile.enabled": False})
                    if ctx.stop_event.is_set():
                        return None  # stopped while importing: start nothing
                    made = LocalCluster(
                        n_workers=ctx.workers,
                        threads_per_worker=threads_per_worker,
                        processes=bool(ctx.options.get("dask_processes", True)),
                        host="127.0.0.1",
                        protocol="tcp://",  # also for threads: inproc:// has no host
                        dashboard_address="127.0.0.1:0" if _has_bokeh() else None,
                        # a worker still sending its heartbeat while the cluster
                        # closes logs a traceback at ERROR; a task's own failure
                        # reaches concviz in the task's result, not in a log
                        silence_logs=logging.CRITICAL,
                    )
                    joined = None
                    try:
                        joined = Client(made, set_as_default=False)
                        joined.wait_for_workers(ctx.workers, timeout=WORKERS_TIMEOUT_S)
                        return made, joined, *_prepare(ctx, joined, made, None)
                    except BaseException:
                        _close(joined, made)
                        raise

                # a stop during the seconds a LocalCluster takes to start ends the run
                # at once; the cluster, if it came up all the same, is closed off the
                # run's thread
                built = start_up(ctx, build, lambda got: got and _close(got[1], got[0]))
                if not built or built is ABANDONED:
                    return
                cluster, client, pids, offsets, threads, tracker, dashboard = built
            if remote:
                pids, offsets, threads, tracker, dashboard = _prepare(
                    ctx, client, None, upload_error
                )
            scheduler = client.scheduler.address
            offsets_ms = {_short(w): round(off / 1e6, 3) for w, off in sorted(offsets.items())}
            starting.details.update(
                dashboard=dashboard,
                scheduler=scheduler,
                offsets_ms=offsets_ms,
                workers=len(pids),
                threads=threads,
            )
            if remote:
                starting.details["uploaded"] = upload_error is None
            engine_info(ctx, dashboard=dashboard, scheduler=scheduler, offsets_ms=offsets_ms)
        finally:
            starting.end()
        if not ctx.stop_event.is_set():
            _dispatch(ctx, client, tracker, ctx.spec, threads)
    finally:
        if client is not None or cluster is not None:
            what = "closing the Dask client" if remote else "closing the Dask client and cluster"
            with phase(ctx, "teardown", what):
                if client is not None:
                    try:
                        client.close(timeout=5)
                    except Exception:
                        pass  # the cluster still has to go
                if cluster is not None:
                    cluster.close(timeout=10)


@strategy(
    "dask-local",
    "Dask distributed: a LocalCluster of N worker processes (one thread each)",
    available=_dask_missing,
    processes=True,
    group="engines",
    install=install_hint("dask"),
)
def run_dask_local(ctx: RunContext) -> None:
    _run(ctx, remote=False)


@strategy(
    "dask-remote",
    "Dask distributed: a running cluster (--dask-address), every worker it has",
    available=_dask_missing,
    processes=True,
    group="engines",
    install=install_hint("dask"),
    check_options=_check_remote,
)
def run_dask_remote(ctx: RunContext) -> None:
    _run(ctx, remote=True)
