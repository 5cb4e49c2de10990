"""Apache Spark (pyspark) as strategies: a ``local[N]`` context, or a standalone master.

A task is a partition of one RDD: ``parallelize(indices, len(indices))`` mapped to
``run_task``, which runs in Spark's Python workers and records the task there; the
workers send their events to the lab through an ``EventSink`` (one row per Python
worker process, that is per executor task slot, since Spark reuses its workers).

Spark keeps a JVM (the py4j gateway) for the life of the Python process, and a
Python daemon that forks the workers. concviz starts both afresh for each run and
leaves neither behind: the teardown stops the context, closes the gateway, waits for
the JVM to exit (killing it if it does not) and for the local Python workers. A
stopped local run does not wait: its JVM and workers are killed at once, since Spark's
orderly stop takes longer than the lab gives a stopped run.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from ..strategies.base import RunContext, WorkerDied, strategy
from .common import (
    ABANDONED,
    engine_info,
    install_hint,
    missing_module,
    phase,
    start_up,
    worker_env,
)
from .sink import EventSink, callback_problem, resolve_callback, run_task, warm_up

NO_JAVA = (
    "Java is not installed: Spark needs Java 17 or newer (e.g. apt install openjdk-17-jre-headless)"
)
NEEDS_MASTER = "spark-remote needs a master: --spark-master spark://host:7077 (in the window: Engine settings…)"
_MASTER = re.compile(r"^spark://[^\s/:,]+:\d{1,5}(,[^\s/:,]+:\d{1,5})*$")
WARM_UP_TIMEOUT = 90.0  # an executor on a cluster may first have to start its own JVM
SLOT_NAME = "Spark task slot {n}"


def find_java() -> str | None:
    """The ``java`` Spark's launcher will run: ``$JAVA_HOME/bin/java``, else on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        path = os.path.join(home, "bin", "java")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which("java")


def _spark_missing() -> str | None:
    return missing_module("pyspark", "py4j", extra="spark") or (None if find_java() else NO_JAVA)


def _check_remote(options: dict) -> str | None:
    master = options.get("spark_master")
    if not master:
        return NEEDS_MASTER
    if not isinstance(master, str) or not _MASTER.match(master.strip()):
        return f"{NEEDS_MASTER} (not {master!r})"
    callback = options.get("callback_host")
    if callback is not None:
        return callback_problem(callback)
    return None


# ------------------------------------------------------------------ worker side
def _warm(address: str, spec: dict) -> tuple[int, int]:
    """Warm this Python worker up; its pid and its parent's (Spark's Python daemon).

    Spark's daemon runs a full ``gc.collect()`` after every task of a reused worker:
    with pyspark and concviz imported that is about 15 ms of CPU a task, taken from
    the tasks on a small machine. Freezing what the worker holds now (modules,
    functions: nothing a task leaves behind) makes those collections nearly free.
    """
    import gc

    pid = warm_up(address, spec)
    gc.freeze()
    return pid, os.getppid()


# ------------------------------------------------------------------ lab side
def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def _reach_master(master: str) -> None:
    """Fail at once, in one sentence, when no master listens at ``master``."""
    why = ""
    for hostport in master[len("spark://") :].split(","):
        host, port = hostport.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
            return
        except OSError as exc:
            why = exc.strerror or str(exc)
    raise WorkerDied(f"cannot reach the Spark master at {master}: {why}")


def _short(exc: BaseException) -> str:
    """One line from a Spark failure: the Python error if a worker raised one."""
    text = str(exc)
    lines = text.splitlines()
    if "Traceback (most recent call last)" in text:
        start = max(i for i, ln in enumerate(lines) if "Traceback (most recent call last)" in ln)
        tail = []
        for ln in lines[start + 1 :]:
            if ln.startswith("\tat ") or ln.startswith("\t..."):
                break
            tail.append(ln)
        errors = [ln.strip() for ln in tail if re.match(r"^\w[\w.]*(Error|Exception)\b", ln)]
        if errors:
            return errors[-1]
    for ln in lines:
        ln = ln.strip()
        if ln and not ln.startswith("at ") and "Traceback" not in ln:
            m = re.search(r"(SparkException|Exception|Error): (.+)", ln)
            return m.group(2).strip() if m else ln
    return type(exc).__name__


class _Spark:
    """One SparkContext and the JVM behind it, owned by one run (the run's thread)."""

    def __init__(
        self, ctx: RunContext, master: str, remote: bool, callback: str, sink: EventSink
    ) -> None:
        self.ctx, self.master, self.remote, self.callback = ctx, master, remote, callback
        self.sink = sink
        self.sc = None
        self.gateway = None
        self.proc: subprocess.Popen | None = None
        self.local_pids: set[int] = set()  # Python workers and their daemon (local only)
        fd, self.log_path = tempfile.mkstemp(prefix="concviz-spark-", suffix=".log")
        self.log = os.fdopen(fd, "wb")

    # -- start
    def conf_pairs(self) -> dict[str, str]:
        python = sys.executable
        pairs = {
            "spark.master": self.master,
            "spark.app.name": "concviz",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.pyspark.python": python,
            "spark.pyspark.driver.python": python,
            "spark.executorEnv.PYTHONPATH": worker_env()["PYTHONPATH"],
            "spark.executorEnv.PYSPARK_PYTHON": python,
            "spark.python.worker.reuse": "true",
            # no JVM of its own reads these tasks' data: no point waiting for locality
            "spark.locality.wait": "0s",
            # The driver only schedules here (and, locally, runs the executor's side of
            # the Python tasks): its JIT's optimising compiler would take a core for
            # seconds after the start, away from the tasks being timed, to speed up
            # code that is not where the time goes. The quick compiler alone does.
            "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        }
        if hasattr(socket, "AF_UNIX") and os.name == "posix":
            # Over TCP, each task's small writes between the executor and its Python
            # worker meet delayed ACKs: about 40 ms of waiting a task on each slot
            # (measured: 400 empty tasks on local[2] in 11.7 s over TCP, 3.2 s here).
            pairs["spark.python.unix.domain.socket.enabled"] = "true"
        if self.remote:
            pairs["spark.cores.max"] = str(self.ctx.workers)
            # executors reach the driver by the name the user gave; it listens on the
            # one address of this machine that name resolves to, never on all of them
            pairs["spark.driver.host"] = self.callback
            pairs["spark.driver.bindAddress"] = resolve_callback(self.callback)
        else:
            pairs["spark.driver.host"] = "127.0.0.1"
            pairs["spark.driver.bindAddress"] = "127.0.0.1"
        return pairs

    def start(self, java: str) -> None:
        from pyspark import SparkConf, SparkContext
        from pyspark.java_gateway import launch_gateway

        conf = SparkConf(loadDefaults=False)
        for key, value in self.conf_pairs().items():
            conf.set(key, value)
        saved = {k: os.environ.get(k) for k in _ENV_KEYS}
        os.environ.update(
            {
                "PYSPARK_PYTHON": sys.executable,
                "PYSPARK_DRIVER_PYTHON": sys.executable,
                "PYTHONPATH": worker_env()["PYTHONPATH"],
                # the launcher scripts use JAVA_HOME when set: point it at the Java found
                "JAVA_HOME": os.path.dirname(os.path.dirname(os.path.realpath(java))),
            }
        )
        if not self.remote:
            os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        for key in ("PYSPARK_GATEWAY_PORT", "PYSPARK_GATEWAY_SECRET", "PYSPARK_SUBMIT_ARGS"):
            os.environ.pop(key, None)  # always a JVM of our own, started with our conf
        try:
            try:
                # the JVM's console (log4j's warnings, spark-submit's notes) goes to a log
                # file, never into the user's program output
                self.gateway = launch_gateway(
                    conf,
                    popen_kwargs={
                        "stdout": self.log,
                        "stderr": subprocess.STDOUT,
                        "start_new_session": True,
                    },
                )
            except Exception as exc:
                raise WorkerDied(f"the Spark JVM failed to start: {self.log_reason(exc)}") from None
            self.proc = getattr(self.gateway, "proc", None)
            try:
                self.sc = SparkContext(conf=conf, gateway=self.gateway)
            except Exception as exc:
                raise WorkerDied(
                    f"Spark could not start a context on {self.master}: {self.log_reason(exc)}"
                ) from None
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.sc.setLogLevel("ERROR")

    def log_reason(self, exc: BaseException) -> str:
        """Why the JVM failed: the last error line of its log, else the exception."""
        try:
            self.log.flush()
            with open(self.log_path, "rb") as f:
                text = f.read()[-20000:].decode("utf-8", "replace")
        except OSError:
            text = ""
        found = [
            ln.strip()
            for ln in text.splitlines()
            if re.search(r"(Error|Exception)\b.*:", ln) and not ln.startswith("\tat ")
        ]
        return found[-1] if found else _short(exc)

    # -- jobs
    def cancel(self) -> None:
        """Cancel every job and (locally) kill the Python workers running its tasks.

        Spark alone lets a cancelled Python task run on for seconds; a stop must not.
        Called from the lab's control thread (a stop) and the run's thread.
        """
        sc = self.sc
        if sc is not None:
            try:
                sc.cancelAllJobs()
            except Exception:
                pass  # the JVM is going or gone: nothing left to cancel
        if self.sink is not None and not self.remote:
            for pid in [pid for pid, _, _ in list(self.sink.rows.values())]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def collect(self, make_rdd, timeout: float | None = None, what: str = "a Spark job"):
        """``make_rdd().collect()``; WorkerDied when it fails, None when the run was stopped.

        The job runs on a thread of its own so that the run's thread can cancel it
        should it have been submitted just after a stop's cancel and leave it to the
        teardown, and give up on a cluster whose executors never come (``timeout``). The
        RDD is made there too: handing its data to the JVM takes a few tenths of a second
        after a start, which a stop does not wait for.
        """
        box: dict = {}

        def go() -> None:
            try:
                box["value"] = make_rdd().collect()
            except BaseException as exc:  # noqa: BLE001 - handed to the run's thread
                box["error"] = exc

        t = threading.Thread(target=go, name="concviz-spark-collect", daemon=True)
        t.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            t.join(0.05)
            if not t.is_alive():
                break
            if self.ctx.stop_event.is_set():
                # cancelled jobs take most of a second to wind down on a busy machine:
                # not waited for (the teardown ends the JVM, and the job's thread then)
                self.cancel()
                return None
            elif deadline is not None and time.monotonic() > deadline:
                self.sc.cancelAllJobs()
                t.join(10)
                raise WorkerDied(
                    f"{what} did not run within {timeout:.0f} s: no Spark executor took its "
                    f"tasks (does {self.master} have a worker with free cores, and can its "
                    f"executors reach this machine at {self.callback}?)"
                )
        if "error" in box:
            if self.ctx.stop_event.is_set():
                return None  # the stop cancelled the job on purpose
            raise WorkerDied(f"{what} failed: {_short(box['error'])}")
        return box["value"]

    # -- teardown
    def stop(self, hurry: bool = False) -> None:
        """End the context, the gateway, the JVM and the local Python workers.

        ``hurry`` (a stopped local run): Spark's orderly stop takes most of a second
        (its scheduler winds down, then the accumulator server's loop, which looks up
        every 0.5 s, is waited for), longer than a stopped run may take. The JVM is
        killed first instead, and the accumulator server ends on a thread of its own.
        """
        sc, self.sc = self.sc, None
        proc = self.proc
        if hurry and proc is not None:
            _kill_process(proc)
            if sc is not None:
                sc._jsc = None  # its JVM is gone: nothing to stop there
                server, sc._accumulatorServer = getattr(sc, "_accumulatorServer", None), None
                if server is not None:
                    threading.Thread(
                        target=server.shutdown, name="concviz-spark-accumulators", daemon=True
                    ).start()
        if sc is not None:
            try:
                sc.stop()
            except Exception:
                pass  # the JVM is killed below whatever state it is in
        gateway, self.gateway = self.gateway, None
        if gateway is not None:
            try:
                gateway.shutdown()
            except Exception:
                pass
        if "pyspark" in sys.modules:  # never imported (a stop came first): nothing to reset
            from pyspark import SparkContext

            with SparkContext._lock:
                SparkContext._gateway = None  # the next run starts a JVM of its own
                SparkContext._jvm = None
                SparkContext._active_spark_context = None
        proc, self.proc = self.proc, None
        if proc is not None:
            _end_process(proc)
        self._end_local_workers(0.0 if hurry else 3.0)
        self.log.close()
        try:
            os.remove(self.log_path)
        except OSError:
            pass

    def _end_local_workers(self, grace_s: float) -> None:
        """Spark's Python daemon and workers end with the JVM; make sure they did."""
        pids = set(self.local_pids)
        deadline = time.monotonic() + grace_s
        while pids and time.monotonic() < deadline:
            pids = {p for p in pids if _alive(p)}
            if pids:
                time.sleep(0.05)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


_ENV_KEYS = (
    "PYSPARK_PYTHON",
    "PYSPARK_DRIVER_PYTHON",
    "PYTHONPATH",
    "JAVA_HOME",
    "SPARK_LOCAL_IP",
    "PYSPARK_GATEWAY_PORT",
    "PYSPARK_GATEWAY_SECRET",
    "PYSPARK_SUBMIT_ARGS",
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (not yet reaped by its parent) is gone for our purpose
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _kill_process(proc: subprocess.Popen) -> None:
    """Kill the gateway's JVM and its launcher scripts (its own session) now."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait(timeout=5)


def _end_process(proc: subprocess.Popen) -> None:
    """Let the gateway's JVM exit (it does when its stdin closes), else kill it."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        _kill_process(proc)


def _run_spark(ctx: RunContext, master: str, remote: bool) -> None:
    starting = phase(ctx, "startup", f"starting the JVM and a SparkContext ({master})")
    callback = (
        str(ctx.options.get("callback_host") or "127.0.0.1").strip() if remote else "127.0.0.1"
    )
    sink = EventSink(ctx, name=SLOT_NAME, callback=callback if remote else None)
    # the workers' address carries the run's secret: it travels inside the task closures
    spec, address, n = ctx.spec, sink.worker_address, ctx.workers
    spark: _Spark | None = None
    try:
        try:
            spark = _Spark(ctx, master, remote, callback, sink)

            def build() -> _Spark | None:
                java = find_java()
                if java is None:
                    raise WorkerDied(NO_JAVA)
                import pyspark

                version = pyspark.__version__
                major = _java_major(java)
                if major is not None and major < 17 and int(version.split(".")[0]) >= 4:
                    raise WorkerDied(
                        f"Java {major} is too old: Spark {version} needs Java 17 or newer "
                        "(e.g. apt install openjdk-17-jre-headless)"
                    )
                if remote:
                    _reach_master(master)
                if ctx.stop_event.is_set():
                    return None  # stopped already: start no JVM
                spark.start(java)
                return spark

            # the JVM takes seconds to start: a stop kills it instead of waiting
            built = start_up(ctx, build, lambda started: started and started.stop())
            if built is ABANDONED:
                spark = None  # still starting: its own thread stops it when it ends
                return
            if built is None:
                return  # stopped during the start-up
            sc = spark.sc
            ctx.on_stop(spark.cancel)
            starting.details.update({"master": master, "spark": sc.version})
            engine_info(ctx, master=master, spark=sc.version, app=sc.applicationId)
            pids = spark.collect(
                lambda: sc.parallelize(range(2 * n), 2 * n).map(lambda _: _warm(address, spec)),
                WARM_UP_TIMEOUT,
                "warming up Spark's Python workers",
            )
            if pids is None:
                return  # stopped during the start-up
            if not remote:
                spark.local_pids.update(p for pair in pids for p in pair)
            sink.wait_rows(n, timeout=5)
        finally:
            starting.end()
        done = _run_jobs(ctx, spark, address, spec)
        sink.wait_ended(done)
    finally:
        with phase(ctx, "teardown", "stopping Spark"):
            if spark is not None:
                if not remote:
                    spark.local_pids.update(pid for pid, _, _ in sink.rows.values())
                spark.stop(hurry=ctx.stop_event.is_set() and not remote)
            sink.close()


def _run_jobs(ctx: RunContext, spark: _Spark, address: str, spec: dict) -> int:
    """Run the feed's tasks as Spark jobs; how many tasks came back.

    A batch is one job; a continuous run is rounds of 2·N tasks, a job each, so the
    feed's end (a stop, a switch) is seen between rounds.
    """
    sc = spark.sc
    feed = iter(ctx.feed)
    per_job = None if ctx.feed.total is not None else 2 * ctx.workers
    done = 0
    while not ctx.stop_event.is_set():
        indices = list(feed) if per_job is None else list(itertools.islice(feed, per_job))
        if not indices:
            break
        results = spark.collect(
            lambda part=indices: sc.parallelize(part, len(part)).map(
                lambda i: run_task(address, spec, i)
            ),
            what="a Spark job",
        )
        if results is None:
            break
        for index, row, err in results:
            if err:
                ctx.task_error(index, row, err)
        done += len(results)
    return done


@strategy(
    "spark-local",
    "Apache Spark, local[N]: one partition per task, N Python worker processes",
    available=_spark_missing,
    processes=True,
    group="engines",
    install=install_hint("spark"),
)
def run_spark_local(ctx: RunContext) -> None:
    _run_spark(ctx, f"local[{ctx.workers}]", remote=False)


@strategy(
    "spark-remote",
    "Apache Spark on a standalone cluster (--spark-master spark://host:7077), N cores",
    available=_spark_missing,
    processes=True,
    group="engines",
    install=install_hint("spark"),
    check_options=_check_remote,
)
def run_spark_remote(ctx: RunContext) -> None:
    _run_spark(ctx, str(ctx.options["spark_master"]).strip(), remote=True)
