"""The lab process: handshake, control loop, and the runner that drives strategies.

Threads: ``serve`` runs on the main thread and reads control lines from stdin;
each run executes on one runner thread; the recorder's flusher, the output
capture and the parent watch each have a thread of their own. Frames are written
to the private channel under one lock, from any of them.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import sysconfig
import threading
import time
import traceback

from . import gil_layout, sync, workloads
from . import protocol as P
from .gil_probe import GilProbe
from .output import attribute_stdout
from .protocol import (
    EV_END,
    EV_START,
    FRAME_EVENTS,
    FRAME_JSON,
    FRAME_OUTPUT,
    PROTOCOL_VERSION,
    WORKER_SERIAL,
    ControlError,
    frame,
)
from .recorder import Recorder, children_cpu_ns, cpu_ns, measure_record_ns, perf_ns
from .strategies import REGISTRY, DagFeed, RunContext, TaskFeed, WorkerDied
from .workloads import BadWorkload

MAX_WORKERS = P.MAX_WORKERS


class Channel:
    """The private frame channel (a duplicate of the lab's original stdout)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()
        self.broken = False
        self._pid = os.getpid()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """In a child forked from the lab (by a task, or a fork-started pool worker).

        The child must never write a frame: its bytes would interleave with the
        lab's. The descriptor is pointed at /dev/null rather than closed, so its
        number is not handed to the next file the child opens (a pool worker closes
        it later by number).
        """
        self.broken = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.fd)
            os.close(null)
        except OSError:
            pass

    def write(self, kind: int, payload: bytes) -> None:
        data = frame(kind, payload)
        with self._lock:
            if self.broken or os.getpid() != self._pid:
                return
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except OSError:
                self.broken = True

    def json(self, obj: dict) -> None:
        self.write(FRAME_JSON, json.dumps(obj, separators=(",", ":")).encode())

    def events(self, payload: bytes) -> None:
        self.write(FRAME_EVENTS, payload)


def interpreter_info() -> dict:
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    gil_check = getattr(sys, "_is_gil_enabled", None)
    return {
        "version": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "free_threaded": free_threaded,
        "gil_enabled": bool(gil_check()) if gil_check else True,
    }


def _install_hint(s, reason: str | None) -> str | None:
    """The extra to install, when what is missing is a package (not e.g. Java)."""
    from .engines.common import MISSING_PACKAGE

    return s.install if reason and MISSING_PACKAGE in reason else None


def strategies_info() -> list[dict]:
    out = []
    for s in REGISTRY.values():
        try:
            reason = s.available()
        except Exception as exc:  # a probe that breaks means the strategy is unusable
            reason = f"availability probe failed: {exc}"
        out.append(
            {
                "name": s.name,
                "description": s.description,
                "available": reason is None,
                "reason": reason,
                "processes": s.processes,
                "group": s.group,
                "install": _install_hint(s, reason),
                # what it cannot run without (a cluster's address), or None
                "needs": s.check_options({}) if s.check_options is not None else None,
            }
        )
    return out


class BadRequest(Exception):
    """A control message that cannot be carried out (the text goes back to the user)."""


def _strategy_name(name: str) -> str:
    if name not in REGISTRY:
        raise BadRequest(f"unknown strategy {name!r}; choose one of: {', '.join(REGISTRY)}")
    reason = REGISTRY[name].available()
    if reason:
        hint = _install_hint(REGISTRY[name], reason)
        raise BadRequest(
            f"strategy {name} is not available here: {reason}" + (f"; {hint}" if hint else "")
        )
    return name


def _check_options(name: str, options: dict) -> None:
    check = REGISTRY[name].check_options
    why = check(options) if check is not None else None
    if why:
        raise BadRequest(why)


def _graph(spec: dict, tasks: int | None, seed: int) -> list[list[int]] | None:
    """The task graph of a graph workload (raises BadRequest), else None."""
    from .dags import DAG_WORKLOADS, BadGraph, build

    if spec["name"] not in DAG_WORKLOADS:
        return None
    if tasks is None:
        raise BadRequest(
            f"{spec['name']} is a graph of a fixed number of tasks: run it in batch mode"
        )
    try:
        return build(spec["name"], tasks, spec.get("width"), seed)
    except BadGraph as exc:
        raise BadRequest(str(exc)) from None


# Besides the sync workloads' strategies, what runs a task graph: subinterpreters
# pulling from the graph's feed, and Dask through its own scheduler (dask.delayed).
GRAPH_ENGINES = ("interpreter-pool", "dask-local", "dask-remote")
# Why the others cannot, by strategy family (the module's name).
NO_GRAPHS = {
    "joblib_": "joblib's Parallel maps independent calls, none of which can wait for another's "
    "result",
    "spark": "Spark schedules stages of independent partitions, not single tasks that wait "
    "for others",
    "mpi": "concviz's MPI ranks each take a fixed share of independent tasks",
}


def _check_sync_run(spec: dict, strategy: str, tasks: int | None, workers: int) -> None:
    """A sync or graph workload refuses strategies and task counts it cannot run (BadWorkload)."""
    from .dags import DAG_WORKLOADS
    from .sync_workloads import STRATEGIES, SYNC_WORKLOADS, BadKnob, check_run

    if spec["name"] in DAG_WORKLOADS and strategy not in (*STRATEGIES, *GRAPH_ENGINES):
        why = NO_GRAPHS.get(REGISTRY[strategy].family, "it has no way to run a task graph")
        raise BadWorkload(
            f"{strategy} cannot run the {spec['name']} task graph: {why}; "
            f"use {', '.join((*STRATEGIES, *GRAPH_ENGINES))}"
        )
    if spec["name"] in SYNC_WORKLOADS:
        try:
            check_run(spec, strategy, tasks, workers)
        except BadKnob as exc:
            raise BadWorkload(str(exc)) from None


def start_problem(start: P.Start) -> str | None:
    """Why a lab would refuse ``start`` whatever the machine, or None (a lesson's check).

    The checks ``Run`` makes, less those that depend on this machine (is the strategy
    available, can a user function be loaded) and without calibrating.
    """
    if start.strategy not in REGISTRY:
        return f"unknown strategy {start.strategy!r}; choose one of: {', '.join(REGISTRY)}"
    if start.workload == "user":
        return "a user function cannot be checked without loading it"
    try:
        _check_options(start.strategy, dict(start.options))
        spec = workloads.make_spec(
            start.workload,
            start.task_ms,
            seed=start.seed,
            cpu_fraction=start.cpu_fraction,
            jitter=start.jitter,
            options=start.options,
            calibrate=False,
        )
        _check_sync_run(spec, start.strategy, start.tasks, start.workers)
        _graph(spec, start.tasks, start.seed)
    except (BadWorkload, BadRequest) as exc:
        return str(exc)
    return None


STOP_GRACE_S = 0.7  # after a stop, how long the runner has to report on its own


def _process_cpu_s() -> float:
    """CPU seconds of this process and of the children it has waited for (all threads).

    ``process_time`` and ``getrusage`` count in micro- or nanoseconds; ``os.times``
    only in clock ticks (10 ms), too coarse beside a short run's tasks.
    """
    kids = children_cpu_ns()
    if kids is not None:
        return time.process_time() + kids / 1e9
    t = os.times()  # Windows: no resource module
    return t.user + t.system + t.children_user + t.children_system


class _FinishState:
    """Who reports a run's end: its runner, or the stop's watchdog (once, either)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reported = False
        self._timer: threading.Timer | None = None
        self.abandoned = False
        self.runner: threading.Thread | None = None
        self.threads_before: set[int | None] = set()
        self.t0 = 0
        self.cpu0 = 0.0
        self.probe: GilProbe | None = None

    def begin(self, t0: int, probe: GilProbe | None) -> None:
        """Runner thread, at the run's start: what the watchdog needs to know."""
        self.t0, self.probe = t0, probe
        self.cpu0 = _process_cpu_s()
        self.runner = threading.current_thread()
        self.threads_before = {t.ident for t in threading.enumerate()}

    def arm(self, abandon) -> None:
        with self._lock:
            if self._reported or self._timer is not None:
                return
            self._timer = threading.Timer(STOP_GRACE_S, abandon)
            self._timer.name = "concviz-stop-watchdog"
            self._timer.daemon = True
            self._timer.start()

    def claim(self, abandoned: bool) -> bool:
        """True for the one caller that sends run_finished."""
        with self._lock:
            if self._reported:
                return False
            self._reported = True
            self.abandoned = abandoned
            if self._timer is not None:
                self._timer.cancel()
            return True


class Run:
    """One run: its parameters, its feed, and what the control thread may change."""

    def __init__(self, lab: Lab, start: P.Start) -> None:
        # Types and ranges were checked by the parser; what is left needs this lab
        # (which strategies exist here, whether a user function can be loaded).
        self.lab = lab
        self.mode = start.mode
        self.strategy = _strategy_name(start.strategy)
        self.workers = start.workers
        self.tasks = start.tasks if self.mode == "batch" else None
        self.serial_fraction = start.serial_fraction
        options = start.options
        method = options.get("start_method")
        if method is not None:
            from .strategies.processes import START_METHODS

            if method not in START_METHODS:
                raise BadRequest(
                    f"start method {method!r} is not available here; "
                    f"choose one of: {', '.join(START_METHODS)}"
                )
        self.options = dict(options)
        _check_options(self.strategy, self.options)
        self.options["channel_fd"] = lab.channel.fd
        try:
            self.spec = workloads.make_spec(
                start.workload,
                start.task_ms,
                seed=start.seed,
                cpu_fraction=start.cpu_fraction,
                jitter=start.jitter,
                user=start.user,
                on_notice=lab.notice,
                options=options,
            )
            if REGISTRY[self.strategy].processes and self.spec["name"] == "user":
                workloads.check_picklable(self.spec["user"])
            _check_sync_run(self.spec, self.strategy, self.tasks, self.workers)
        except BadWorkload as exc:
            raise BadRequest(str(exc)) from None
        # the user's module, imported just now to check it: reported as start-up
        self.imported = workloads.take_import()
        self.stop_event = threading.Event()
        self.deps = _graph(self.spec, self.tasks, start.seed)
        self.feed = (
            TaskFeed(self.tasks, lab.recorder)
            if self.deps is None
            else DagFeed(self.deps, lab.recorder)
        )
        self.pending_switch: dict | None = None
        self.ctx: RunContext | None = None
        self.finished = threading.Event()  # set just before run_finished is sent
        self._lock = threading.Lock()
        self._finish = _FinishState()
        self.deadlock: dict | None = None  # the wait-for cycle that ended the run
        self.workload_result: dict | None = None  # what a workload counted (lost updates)

    # -- control thread
    def stop(self) -> None:
        self.stop_event.set()
        workloads.request_stop()
        self.feed.stop()
        sync.abort_barriers()  # a barrier's waiters cannot look up: break it
        # A task that never returns (time.sleep(1e9), a blocking call in a coroutine)
        # cannot be ended in a thread, so the run is ended without it: if the runner
        # has not reported by the deadline, the watchdog reports for it.
        self._finish.arm(self._abandon)
        with self._lock:
            ctx = self.ctx
        if ctx is not None:
            # on a thread of their own: a hook that blocks (a pool joining a worker
            # that ignores SIGTERM) must not stop the lab from reading control lines
            threading.Thread(
                target=ctx.fire_stop_hooks, name="concviz-stop-hooks", daemon=True
            ).start()

    @property
    def abandoned(self) -> bool:
        """The run was reported finished while its runner was still stuck in it."""
        return self._finish.abandoned

    def _abandon(self) -> None:
        """Watchdog thread: report the stopped run whose runner is stuck in a task."""
        if self.finished.is_set():
            return
        runner = self._finish.runner
        stuck = [runner.name] if runner is not None and runner.is_alive() else []
        stuck += [
            t.name
            for t in threading.enumerate()
            if t.ident not in self._finish.threads_before
            and t is not threading.current_thread()
            and t is not runner
            and not t.name.startswith("concviz-")  # the lab's own helpers end by themselves
        ]
        if not stuck:
            return  # it is finishing right now
        probe = self._finish.probe
        if probe is not None:
            probe.stop()
        self._report_finished(None, stuck)

    def _report_finished(self, failure: str | None, stuck: list[str]) -> None:
        """Send run_finished once, whichever of the runner and the watchdog comes first."""
        if not self._finish.claim(abandoned=bool(stuck)):
            return
        lab = self.lab
        probe = self._finish.probe
        t_run0 = self._finish.t0
        lab.recorder.flush()
        if not stuck:  # (a stuck task may hold the output's lock: never wait on it)
            drain_output()  # the tasks' last printed lines go before the run's end
        self.finished.set()
        now = perf_ns()
        lab.channel.json(
            {
                "type": "run_finished",
                "t0_ns": t_run0,
                "t_ns": now,
                "wall_ns": now - t_run0,
                "tasks_handed_out": self.feed.handed_out,
                "stopped": self.stop_event.is_set(),
                "ok": failure is None,
                "error": failure,
                "strategy": self.strategy,
                "workers": self.workers,
                "switch_interval": sys.getswitchinterval(),
                "probe": None
                if probe is None
                else {"samples": probe.samples, "cpu_ns": probe.cpu_ns},
                # every thread of the lab and of the worker processes it waited for:
                # native threads a library starts (BLAS) use CPU no task's clock sees
                "process_cpu_ns": int((_process_cpu_s() - self._finish.cpu0) * 1e9)
                - (probe.cpu_ns if probe is not None else 0),
                # threads still inside a task the stop could not end: the lab is not
                # clean any more, and its client starts a fresh one
                "stuck": stuck,
                "deadlock": self.deadlock,
                "workload_result": self.workload_result,
            }
        )

    def switch(self, msg: P.Switch) -> None:
        strategy = _strategy_name(msg.strategy if msg.strategy is not None else self.strategy)
        workers = msg.workers if msg.workers is not None else self.workers
        task_ms = msg.task_ms if msg.task_ms is not None else self.spec["task_ms"]
        _check_options(strategy, self.options)
        if (
            strategy != self.strategy
            and REGISTRY[strategy].processes
            and self.spec["name"] == "user"
        ):
            try:
                workloads.check_picklable(self.spec["user"])
            except BadWorkload as exc:
                raise BadRequest(str(exc)) from None
        try:
            _check_sync_run(self.spec, strategy, self.tasks, workers)
        except BadWorkload as exc:
            raise BadRequest(str(exc)) from None
        if self.spec["name"] == "barrier-phases" and workers != self.workers:
            raise BadRequest(
                "a barrier's parties are fixed for the run: barrier-phases cannot change its workers"
            )
        with self._lock:
            self.pending_switch = {"strategy": strategy, "workers": workers, "task_ms": task_ms}
        self.feed.pause()  # the next task boundary ends the current segment

    # -- runner thread
    def execute(self) -> None:
        lab = self.lab
        t_run0 = perf_ns()
        # a run abandoned earlier in this lab may have left the stop request raised
        workloads.clear_stop()
        resources = workloads.Resources(self.spec, self.strategy, self.workers)
        failure: str | None = None
        segments = 0
        probe = (
            GilProbe(lab.recorder, lab.channel.json)
            if self.options.get("gil_probe", True)
            else None
        )
        self._finish.begin(t_run0, probe)
        monitor = _DeadlockMonitor(self)
        try:
            monitor.start()
            if probe is not None:
                probe.start()
            lab.channel.json(
                {
                    "type": "run_started",
                    "t_ns": t_run0,
                    "strategy": self.strategy,
                    "workers": self.workers,
                    "workload": self.spec["name"],
                    "user": self.spec["user"],
                    "tasks": self.tasks,
                    "task_ms": self.spec["task_ms"],
                    "mode": self.mode,
                    "serial_fraction": self.serial_fraction,
                    # with the rest above, what makes two runs the same experiment
                    "cpu_fraction": self.spec["cpu_fraction"],
                    "jitter": self.spec["jitter"],
                    "seed": self.spec["seed"],
                    "calibration": self.spec["cal"],
                    # a task graph: each task's dependencies (None for independent tasks)
                    "deps": self.deps,
                }
            )
            if self.imported is not None:
                t0, t1, path = self.imported
                lab.channel.json(
                    {
                        "type": "phase",
                        "kind": "startup",
                        "strategy": self.strategy,
                        "label": f"import of {os.path.basename(path)}",
                        "t0_ns": t0,
                        "t_ns": t1,
                        "details": {"path": path, "before_run": True},
                    }
                )
            if self.serial_fraction > 0 and self.tasks:
                self._serial_step()
            while not self.stop_event.is_set():
                ctx = RunContext(
                    spec=self.spec,
                    workers=self.workers,
                    feed=self.feed,
                    recorder=lab.recorder,
                    emit=lab.channel.json,
                    send_events=lab.channel.events,
                    options=self.options,
                    stop_event=self.stop_event,
                    sys_path=lab.sys_path,
                )
                with self._lock:
                    self.ctx = ctx
                if self.stop_event.is_set():
                    break
                lab.channel.json(
                    {
                        "type": "segment",
                        "t_ns": perf_ns(),
                        "strategy": self.strategy,
                        "workers": self.workers,
                        "task_ms": self.spec["task_ms"],
                        "index": segments,
                    }
                )
                segments += 1
                self.options["_strategy"] = self.strategy
                REGISTRY[self.strategy].run(ctx)
                with self._lock:
                    switch, self.pending_switch = self.pending_switch, None
                if switch is None or self.stop_event.is_set():
                    if self.feed.exhausted or self.stop_event.is_set():
                        break
                    continue
                lab.recorder.flush()
                lab.channel.json(
                    {
                        "type": "marker",
                        "kind": "switch",
                        "t_ns": perf_ns(),
                        "from": {
                            "strategy": self.strategy,
                            "workers": self.workers,
                            "task_ms": self.spec["task_ms"],
                        },
                        "to": switch,
                    }
                )
                self.strategy, self.workers = switch["strategy"], switch["workers"]
                self.spec["task_ms"] = float(switch["task_ms"])
                self.feed.resume()
        except WorkerDied as exc:
            failure = str(exc)
        except BadWorkload as exc:
            failure = str(exc)
        except BaseException as exc:  # noqa: BLE001 - the run fails; the lab goes on
            failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            traceback.print_exc(file=sys.stderr)
        finally:
            monitor.close()
            if self.deadlock is not None:
                failure = self.deadlock["description"]
            if probe is not None:
                probe.stop()
            self.workload_result = resources.result(self.feed.handed_out, self.stop_event.is_set())
            resources.close()
            if not self.abandoned:
                self._report_finished(failure, [])
                workloads.clear_stop()

    def _serial_step(self) -> None:
        f = self.serial_fraction
        ms = f / (1.0 - f) * self.spec["task_ms"] * (self.tasks or 0)
        buf = self.lab.recorder.buffer()
        t0 = perf_ns()
        c0 = cpu_ns()
        buf.add(EV_START, WORKER_SERIAL, -1, t0, 0, 0)
        workloads.serial_step(self.spec, ms)
        c1 = cpu_ns()
        buf.add(EV_END, WORKER_SERIAL, -1, perf_ns(), c1 - c0, t0)


class _DeadlockMonitor:
    """Looks for a wait-for cycle among the run's blocked tasks, 10 times a second.

    On one it names the cycle on the run and stops the run (the waiters end as
    stopped), so a deadlocked run ends within about ``DEADLOCK_AGE_S`` + 0.1 s.
    """

    INTERVAL_S = 0.1

    def __init__(self, run: Run) -> None:
        self.run = run
        self.graph = run.lab.wait_graph
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="concviz-deadlocks", daemon=True)

    def start(self) -> None:
        self.graph.clear()
        self._thread.start()

    def _loop(self) -> None:
        while not self._done.wait(self.INTERVAL_S):
            found = self.graph.check()
            if found is not None:
                self.run.deadlock = found
                self.run.lab.recorder.flush()
                self.run.lab.channel.json({"type": "deadlock", "t_ns": perf_ns(), **found})
                self.run.stop()
                return

    def close(self) -> None:
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)
        self.graph.clear()


class Lab:
    """The lab: owns the channel, the recorder, and at most one run at a time."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.recorder = Recorder(channel.events)
        # the instrumented sync objects record into this process's recorder; their
        # names go out as JSON, their blocked waits feed the deadlock monitor
        self.wait_graph = sync.WaitGraph()
        sync.install(self.recorder, self._sync_message, workloads._stopping, self.wait_graph)
        self.run: Run | None = None
        self.runner: threading.Thread | None = None
        self.sys_path = [p for p in sys.path if p]
        here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        if here not in self.sys_path:
            self.sys_path.insert(0, here)
        bundle = getattr(sys, "_MEIPASS", None)
        if getattr(sys, "frozen", False) and bundle:
            # a packaged app's modules live in its archive, which only the main
            # interpreter can read: subinterpreters import the lab's sources and the
            # standard library's compiled modules that travel as plain files for them
            src = os.path.join(bundle, "lab_src")
            self.sys_path[:0] = [os.path.join(src, "stdlib.zip"), src]

    def _sync_message(self, msg: dict) -> None:
        """A sync object's name, or a worker process's blocked wait (any thread)."""
        if not self.wait_graph.receive(msg):
            self.channel.json(msg)

    def hello(self) -> None:
        perf, wall = time.perf_counter_ns(), time.time_ns()
        self.channel.json(
            {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "pid": os.getpid(),
                "interpreter": interpreter_info(),
                "cores": os.cpu_count(),
                "clock": {"perf_ns": perf, "time_ns": wall},
                "switch_interval": sys.getswitchinterval(),
                # what recording one event costs a worker here (a run's overhead estimate)
                "record_ns_per_event": round(measure_record_ns(500), 1),
                # where the GIL's holder is, for a watcher reading it from outside
                "gil_layout": gil_layout.find(),
            }
        )

    def handle(self, line: bytes) -> bool:
        """Carry out one control line; False when the lab should exit."""
        try:
            msg = P.parse_control(line)
        except ControlError as exc:
            self._error("bad_message", str(exc), exc.cmd, exc.field)
            return True
        if isinstance(msg, P.Quit):
            return False
        try:
            self._handlers[type(msg)](msg)
        except BadRequest as exc:
            self._error("bad_request", str(exc), msg.CMD)
        return True

    def line_too_long(self, size: int) -> None:
        """The reader dropped a line longer than the protocol allows (it was never parsed)."""
        self._error(
            "bad_message",
            f"control line of {size} bytes or more was dropped; at most {P.MAX_LINE} bytes",
        )

    @property
    def _handlers(self) -> dict:
        return {
            P.Start: self._start,
            P.Stop: self._stop,
            P.Switch: self._switch,
            P.Set: self._set,
            P.Strategies: lambda _m: self.channel.json(
                {"type": "strategies", "items": strategies_info()}
            ),
            P.Workloads: lambda _m: self.channel.json(
                {"type": "workloads", "items": workloads.WORKLOADS}
            ),
            P.Ping: lambda _m: self.channel.json({"type": "pong", "t_ns": perf_ns()}),
            P.Calibrate: self._calibrate,
        }

    def notice(self, text: str) -> None:
        """Tell the window or CLI something it should show in one line (not an error)."""
        self.channel.json({"type": "notice", "message": text})

    def _calibrate(self, _msg: P.Calibrate) -> None:
        if self._running():
            raise BadRequest("calibrate measures an idle machine; stop the run first")
        figures = workloads.calibration(self.notice, fresh=True)
        self.channel.json(
            {"type": "calibrate", "figures": figures, "path": workloads.calibration_path()}
        )

    def _error(self, code: str, message: str, cmd: object = None, field: str | None = None) -> None:
        self.channel.json(
            {"type": "error", "code": code, "message": message, "cmd": cmd, "field": field}
        )

    def _stop(self, _msg: P.Stop) -> None:
        if self.run is not None:
            self.run.stop()

    def _switch(self, msg: P.Switch) -> None:
        if self.run is None or not self._running():
            raise BadRequest("switch needs a run in progress")
        self.run.switch(msg)

    def _running(self) -> bool:
        return (
            self.runner is not None
            and self.runner.is_alive()
            and not (self.run is not None and self.run.finished.is_set())
        )

    def _start(self, msg: P.Start) -> None:
        if self._running():
            raise BadRequest("a run is already in progress; stop it first")
        if self.runner is not None and not (self.run is not None and self.run.abandoned):
            self.runner.join(timeout=5)  # it has reported; let it finish tidying up
        run = Run(self, msg)
        self.run = run
        self.runner = threading.Thread(target=run.execute, name="concviz-runner", daemon=True)
        self.runner.start()

    def _set(self, msg: P.Set) -> None:
        sys.setswitchinterval(msg.switch_interval)
        self.channel.json(
            {"type": "set", "switch_interval": sys.getswitchinterval(), "t_ns": perf_ns()}
        )

    def shutdown(self) -> None:
        if self.run is not None:
            self.run.stop()
        if self.runner is not None and not (self.run is not None and self.run.abandoned):
            self.runner.join(timeout=3)
        self.recorder.close()

    @property
    def stuck(self) -> bool:
        """A thread of an abandoned run is still stuck in a task."""
        return self.run is not None and self.run.abandoned


class _OutputPump:
    """Forwards what descriptor 1 receives (the user's prints) as output frames.

    ``drain`` lets a run's end wait until everything printed so far has been sent, so
    ``run_finished`` never overtakes a task's last lines (a reader stops at it). It
    writes a NUL byte into the pipe behind what was printed and waits until the pump
    has read it: the pipe keeps order, so every earlier line has gone out by then.
    (Watching the pipe's fill level missed a read in flight, and a slow machine's
    8 000-line flood outran its 0.2 s: 269 lines came after the run's end.)
    """

    def __init__(self, channel: Channel, fd: int) -> None:
        self.channel, self.fd = channel, fd
        self._marks = threading.Condition()
        self._asked = 0  # NULs written by ``drain``
        self._seen = 0  # NULs the pump has read (everything before them is sent)
        threading.Thread(target=self._pump, name="concviz-output", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            marks = data.count(b"\0")
            if marks:
                data = data.replace(b"\0", b"")
            if data:
                self.channel.write(FRAME_OUTPUT, data)
            if marks:
                with self._marks:
                    self._seen += marks
                    self._marks.notify_all()

    def drain(self, timeout: float = 2.0) -> None:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        with self._marks:
            self._asked += 1
            ticket = self._asked
        try:
            os.write(1, b"\0")
        except OSError:
            return
        with self._marks:
            self._marks.wait_for(lambda: self._seen >= ticket, timeout)


_pump: _OutputPump | None = None


def _capture_stdout(channel: Channel) -> None:
    """Point descriptor 1 at a pipe whose text is forwarded as output frames."""
    global _pump
    r, w = os.pipe()
    os.dup2(w, 1)
    os.close(w)
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True
    )
    attribute_stdout()  # a line printed inside a task names the task and its worker
    _pump = _OutputPump(channel, r)


def drain_output() -> None:
    """Send everything printed so far before what comes next (a run's end)."""
    if _pump is not None:
        _pump.drain()


def _watch_parent(on_gone) -> None:
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.25)
            if os.getppid() != parent:
                on_gone()
                return

    threading.Thread(target=watch, name="concviz-parent", daemon=True).start()


def _detach_stdin() -> int:
    """Take the control pipe off descriptor 0 and leave the user's code an empty stdin.

    Reading ``sys.stdin`` would hold its buffer's lock while waiting; a worker forked
    meanwhile inherits the held lock and hangs when multiprocessing closes stdin.
    """
    control = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    return control


def _control_lines(fd: int, on_too_long, limit: int = P.MAX_LINE):
    """Yield the lines read from ``fd``; a line longer than ``limit`` is never held whole.

    Once a line outgrows the limit, the rest of it is read and thrown away up to its
    newline, then ``on_too_long(size)`` is called with what was dropped.
    """
    pending = bytearray()
    dropping = 0  # bytes of an oversized line dropped so far (0: not dropping)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if dropping:
                dropping += len(piece)
            elif len(pending) + len(piece) > limit:
                dropping = len(pending) + len(piece)
                pending.clear()
            else:
                pending += piece
            if end < 0:
                break
            if dropping:
                on_too_long(dropping)
                dropping = 0
            else:
                yield bytes(pending)
                pending.clear()
            start = end + 1


def _ignore_sigint(signum, frame) -> None:
    pass


def main() -> int:
    channel = Channel(os.dup(1))
    _capture_stdout(channel)
    lab = Lab(channel)
    lab.recorder.start()
    lab.hello()

    def parent_gone() -> None:
        lab.shutdown()
        os._exit(0)

    _watch_parent(parent_gone)
    # The lab runs in a session of its own, so a terminal's Ctrl-C never reaches it; a
    # SIGINT that does comes from a task (os.kill(os.getpid(), SIGINT)) and must not
    # end the lab's control loop and with it the run. (A Python handler, not SIG_IGN:
    # an ignored SIGINT would be inherited by every worker and engine process.)
    signal.signal(signal.SIGINT, _ignore_sigint)
    try:
        for line in _control_lines(_detach_stdin(), lab.line_too_long):
            if line.strip() and not lab.handle(line):
                break
    except KeyboardInterrupt:
        pass
    lab.shutdown()
    sys.stdout.flush()
    if lab.stuck:
        # Interpreter shutdown would wait for the stuck thread for ever (the
        # thread pools join their threads at exit): leave without it.
        os._exit(0)
    return 0
