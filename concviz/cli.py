"""The ``concviz`` command: no sub-command opens the window; the rest run headless.

run, compare, strategies, bench and screenshot use the same lab and model as the
window. Bad input gets one sentence on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from concviz.lab import protocol as P

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input from the user: one sentence, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the whole usage block
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_run_options(
    p: argparse.ArgumentParser, strategy: bool = True, sweep: bool = False
) -> None:
    p.add_argument(
        "-w",
        "--workload",
        default="cpu-python",
        help="cpu-python, cpu-native, io-sleep, io-file, io-socket, mixed, "
        "or your own function as path/to/file.py:function",
    )
    if strategy:
        p.add_argument("-s", "--strategy", default="threads", help="see `concviz strategies`")
    if sweep:  # lists: what a sweep varies (cli_sweep reads them)
        p.add_argument("-n", "--workers", help="worker counts, e.g. 1,2,4 (default 1 … 2× cores)")
        p.add_argument("--task-ms", help="ms per task; several (0.05,0.5,5) sweep task sizes")
    else:
        p.add_argument("-n", "--workers", type=int, default=2, help="number of workers (default 2)")
        p.add_argument(
            "--task-ms", type=float, default=50.0, help="milliseconds of work per task (default 50)"
        )
    p.add_argument("--tasks", type=int, default=16, help="number of tasks (default 16)")
    p.add_argument(
        "--serial-fraction",
        type=float,
        default=0.0,
        help="share of the work done serially before the tasks (Amdahl), 0 to 0.95",
    )
    p.add_argument(
        "--cpu-fraction", type=float, default=0.5, help="CPU share of a mixed task (0 to 1)"
    )
    p.add_argument("--jitter", type=float, default=0.0, help="uneven tasks: ±share of task size")
    p.add_argument("--seed", type=int, default=0, help="seed for uneven task sizes")
    p.add_argument(
        "--start-method",
        choices=("fork", "spawn", "forkserver"),
        help="how process strategies start their workers",
    )
    p.add_argument("--interpreter", metavar="PATH", help="run the lab under this Python (>= 3.10)")
    _add_sync_options(p)
    g = p.add_argument_group("engines (joblib, Dask, Spark, MPI)")
    g.add_argument(
        "--dask-address", metavar="ADDR", help="dask-remote: the scheduler, e.g. tcp://host:8786"
    )
    g.add_argument(
        "--dask-threads", type=int, metavar="N", help="dask-local: threads per worker (default 1)"
    )
    g.add_argument(
        "--dask-in-threads",
        action="store_true",
        help="dask-local: workers as threads of one process instead of processes",
    )
    g.add_argument(
        "--spark-master", metavar="URL", help="spark-remote: the master, e.g. spark://host:7077"
    )
    g.add_argument("--hostfile", metavar="PATH", help="mpi: the hosts to start ranks on")
    g.add_argument(
        "--callback-host",
        metavar="HOST",
        help="Spark and MPI workers on other hosts send their events to this address of "
        "this machine (default 127.0.0.1)",
    )


def _add_sync_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "shared objects (shared-counter, contended-lock, bounded-pool, producer-consumer, "
        "barrier-phases, deadlock)"
    )
    g.add_argument(
        "--sync",
        metavar="MODE",
        help="shared-counter: none, lock, atomic or local-then-merge; deadlock: ordered",
    )
    g.add_argument(
        "--critical-fraction",
        type=float,
        metavar="F",
        help="contended-lock: share of each task's work done holding the lock (0 to 1)",
    )
    g.add_argument("--limit", type=int, metavar="K", help="bounded-pool: tasks let in at once")
    g.add_argument("--queue-size", type=int, metavar="N", help="producer-consumer: queue bound")
    g.add_argument(
        "--producer-ms", type=float, metavar="MS", help="producer-consumer: ms to make one item"
    )
    graphs = p.add_argument_group("task graphs (map-reduce, pipeline, wavefront, random-dag)")
    graphs.add_argument(
        "--width",
        type=int,
        metavar="W",
        help="pipeline: stages; wavefront: columns; random-dag: tasks per layer (default 4)",
    )


def _sync_options(args: argparse.Namespace) -> dict:
    keys = ("sync", "critical_fraction", "limit", "queue_size", "producer_ms", "width")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


# The flag that sets each field of the lab's start message, to name it in an error.
_FLAGS = {
    "workload": "--workload",
    "user": "--workload",
    "strategy": "--strategy",
    "workers": "--workers",
    "tasks": "--tasks",
    "task_ms": "--task-ms",
    "serial_fraction": "--serial-fraction",
    "cpu_fraction": "--cpu-fraction",
    "jitter": "--jitter",
    "seed": "--seed",
    "options.start_method": "--start-method",
    "options.dask_address": "--dask-address",
    "options.threads_per_worker": "--dask-threads",
    "options.spark_master": "--spark-master",
    "options.hostfile": "--hostfile",
    "options.callback_host": "--callback-host",
    "options.sync": "--sync",
    "options.critical_fraction": "--critical-fraction",
    "options.limit": "--limit",
    "options.queue_size": "--queue-size",
    "options.producer_ms": "--producer-ms",
    "options.width": "--width",
}


def _params(args: argparse.Namespace, strategy: str | None = None) -> P.Start:
    """The lab's start message for these flags (raises UsageError naming a bad flag)."""
    workload, user = args.workload, None
    if ":" in workload:  # path/to/file.py:function
        workload, user = "user", args.workload
    options: dict = {}
    if args.start_method:
        options["start_method"] = args.start_method
    options.update(_engine_options(args))
    options.update(_sync_options(args))
    try:
        return P.Start(
            workload=workload,
            user=user,
            strategy=strategy or args.strategy,
            workers=args.workers,
            tasks=args.tasks,
            task_ms=args.task_ms,
            serial_fraction=args.serial_fraction,
            cpu_fraction=args.cpu_fraction,
            jitter=args.jitter,
            seed=args.seed,
            mode="batch",
            options=options,
        )
    except P.ControlError as exc:
        text = str(exc)
        flag = _FLAGS.get(exc.field or "")
        if flag and exc.field and text.startswith(exc.field):
            text = flag + text[len(exc.field) :]
        raise UsageError(f"concviz {args.command}: {text}") from None


def _check_writable(dest: str | None, flag: str) -> None:
    """Refuse an output path that cannot be written, before any run spends its time."""
    if not dest or dest == "-":
        return
    path = Path(dest)
    parent = path.parent if str(path.parent) else Path(".")
    why = None
    if path.is_dir():
        why = "it is a folder"
    elif not parent.is_dir():
        why = f"the folder {parent} does not exist"
    elif not os.access(parent, os.W_OK | os.X_OK):
        why = f"the folder {parent} is not writable"
    elif path.exists() and not os.access(path, os.W_OK):
        why = "the file is not writable"
    if why:
        raise UsageError(f"concviz: {flag} {dest} cannot be written: {why}")


def _engine_options(args: argparse.Namespace) -> dict:
    options: dict = {}
    for key, value in (
        ("dask_address", args.dask_address),
        ("threads_per_worker", args.dask_threads),
        ("spark_master", args.spark_master),
        ("hostfile", args.hostfile),
        ("callback_host", args.callback_host),
    ):
        if value is not None:
            options[key] = value
    if args.dask_in_threads:
        options["dask_processes"] = False
    return options


def _describe_interp(interp: dict) -> str:
    gil = "GIL" if interp.get("gil_enabled", True) else "no GIL"
    ft = ", free-threaded build" if interp.get("free_threaded") else ""
    return f"Python {interp.get('version')} ({gil}{ft})"


def _print_run(run: dict, out=sys.stdout) -> None:
    from concviz.model.metrics import busy_machine_warning, task_size_text
    from concviz.model.wait_states import PARTS

    n_ok = sum(1 for t in run["tasks"] if t["ok"])
    what = run["user"] if run["workload"] == "user" and run.get("user") else run["workload"]
    workers = 1 if run["strategy"] == "sequential" else run["workers"]
    print(
        f"{what} × {run['strategy']}, {workers} worker{'s' if workers != 1 else ''}, "
        f"{len(run['tasks'])} tasks of {task_size_text(run)} — "
        f"{_describe_interp(run['interpreter'])}",
        file=out,
    )
    asked, ran = run.get("tasks_asked"), len(run["tasks"])
    # a batch cut short (a stop, a lab that died): the tasks asked for that never ran
    unrun = f" ({asked - ran} of {asked} never ran)" if asked and asked > ran else ""
    print(
        f"  wall {run['wall_s']:.3f} s   CPU {run['cpu_s']:.3f} s   "
        f"parallelism {run['parallelism']:.2f}   tasks ok {n_ok}/{ran}{unrun}",
        file=out,
    )
    if run.get("native_cpu_s"):
        print(
            f"  native threads used {run['native_cpu_s']:.2f} s of CPU outside the tasks' "
            "threads (counted in parallelism)",
            file=out,
        )
    gil = run.get("gil") or {}
    if gil.get("source") == "sampled":
        totals = {k: sum(t[f"{k}_s"] for t in gil["per_thread"].values()) for k in PARTS}
        print(
            f"  where the workers' time went: running {totals['running']:.3f} s, waiting for "
            f"the GIL {totals['gil_wait']:.3f} s, for a CPU {totals['cpu_wait']:.3f} s, on "
            f"I/O/sleep/locks {totals['io_wait']:.3f} s — GIL contention {gil['contention']:.2f}",
            file=out,
        )
    elif gil.get("source") == "estimate" and gil.get("reason"):
        print(f"  GIL: an estimate only ({gil['reason']})", file=out)
    busy = busy_machine_warning(run.get("machine_busy_cores"))
    if busy:
        print(f"  warning: {busy}", file=out)
    for ph in run.get("phases", []):
        print(
            f"  {ph['kind']} {ph['seconds']:.3f} s: {ph['label']} (not counted in wall)", file=out
        )
    for key, value in run.get("engine", {}).items():
        if key in ("dashboard", "scheduler", "master", "mpiexec"):
            print(f"  {key}: {value}", file=out)
        elif key == "offsets_ms" and value:
            clocks = ", ".join(f"{w} {v:+.3f} ms" for w, v in value.items())
            print(f"  worker clocks vs the lab's: {clocks}", file=out)
    _print_sync(run, out)
    for d in run.get("diagnoses") or []:
        print(f"  diagnosis [{d['code']}]: {d['title']} — {d['advice']}", file=out)
    failed = [t for t in run["tasks"] if not t["ok"] and not t.get("stopped")]
    for t in failed[:1]:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        print(f"  task {t['id']} failed: {t['error']}{more}", file=out)
    if run.get("error"):
        print(f"  run failed: {run['error']}", file=out)
    elif run.get("stopped"):
        print("  run stopped before the end", file=out)


def _print_sync(run: dict, out) -> None:
    """Time the tasks spent waiting on each shared object, and a shared counter's result."""
    waits = run.get("waits") or []
    if waits:
        parts = [
            f"{w['kind']} {w['object']} {w['total_s']:.3f} s ({w['count']}×)" for w in waits[:4]
        ]
        more = f" and {len(waits) - 4} more" if len(waits) > 4 else ""
        print(f"  waiting on shared objects: {', '.join(parts)}{more}", file=out)
    for c in run.get("counters") or []:
        print(f"  {c['object']} depth: mean {c['mean']:.2f}, max {c['max']}", file=out)
    counter = run.get("counter")
    if counter:
        print(
            f"  counter (--sync {counter['sync']}): expected {counter['expected']}, final "
            f"{counter['final']}, lost updates {counter['lost_updates']}",
            file=out,
        )


PRINTED_LINES = 200  # of the program's output, on the terminal (all of it: --json)


def _print_output(output: dict, out) -> None:
    """What the user's code printed, each line naming its task and worker, capped."""
    lines = output["lines"]
    if not lines:
        return
    total = len(lines) + output["dropped"]
    print(f"  program output ({total} line{'s' if total != 1 else ''}):", file=out)
    for line in lines[:PRINTED_LINES]:
        print(f"    {line}", file=out)
    if total > PRINTED_LINES:
        print(
            f"    … {total - PRINTED_LINES} more lines (the first {len(lines)} are in --json; "
            "--no-output hides it all)",
            file=out,
        )


def _write_trace(store, dest: str) -> None:
    """``--trace FILE``, or ``-`` for stdout (a Chrome Trace Event document)."""
    from concviz.interop.chrome_trace import trace_events, write_trace

    if dest == "-":
        doc = {"traceEvents": trace_events(store), "displayTimeUnit": "ms"}
        print(json.dumps(doc))
        return
    try:
        write_trace(store, dest)
    except OSError as exc:
        raise UsageError(f"concviz: cannot write {dest}: {exc.strerror or exc}") from None


def _stdout_taken(args: argparse.Namespace) -> bool:
    """Whether a document goes to stdout (then the human summary goes to stderr)."""
    if args.json == "-" and args.trace == "-":
        raise UsageError("concviz run: --json - and --trace - cannot both write to stdout")
    if getattr(args, "save", None) == "-":
        raise UsageError("concviz run: --save needs a file name (a session cannot go to stdout)")
    return "-" in (args.json, args.trace)


def _write_json(obj, dest: str) -> None:
    text = json.dumps(obj, indent=2)
    if dest == "-":
        print(text)
        return
    path = Path(dest)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"concviz: cannot write {dest}: {exc.strerror or exc}") from None


def _driver(args: argparse.Namespace):
    """The run driver the CLI's runs go through, into one session (``--save`` keeps it).

    Each run gets a lab of its own and is watched from outside as the window watches
    it (thread states, the machine's CPU). The first run's lab is launched before the
    imports below (numpy, the event store: a quarter of a second), so that it boots
    meanwhile.
    """
    from concviz.runtime.lab_process import LabError, LabProcess

    try:
        lab: LabProcess | None = LabProcess(args.interpreter)
        lab.launch()
    except LabError:  # the first run meets the same error and says it
        lab = None
    from concviz.model.session import Session
    from concviz.runtime.driver import RunDriver

    driver = RunDriver(Session(), interpreter=args.interpreter, observe=True, on_json=_show_notice)
    if lab is not None:
        driver.launch_ahead(lab, args.interpreter)
    return driver


def _one_run(args: argparse.Namespace, driver, strategy: str | None = None) -> tuple:
    """One run: (run object, store). A lab that dies mid-run still gives the run object
    of what it recorded, failed with the reason, so the JSON is written and the exit
    code says it failed (the driver keeps it so)."""
    run = driver.run(_params(args, strategy))
    return run.result, run.store


def _succeeded(run: dict, tasks: int) -> bool:
    """Exit code 0 means exactly this: the run ended by itself and every task succeeded."""
    return (
        bool(run["ok"])
        and not run.get("stopped")
        and len(run["tasks"]) == tasks
        and all(t["ok"] for t in run["tasks"])
    )


def _show_notice(obj: dict) -> None:
    """Print what the lab wants the user to know (a calibration measured again)."""
    if obj.get("type") == "notice":
        print(f"concviz: {obj.get('message')}", file=sys.stderr)


def _add_continuous_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("continuous runs with live switches")
    g.add_argument("--continuous", action="store_true", help="tasks without end until --duration")
    g.add_argument("--duration", type=float, metavar="S", help="seconds a continuous run lasts")
    g.add_argument(
        "--switch-at",
        action="append",
        default=[],
        metavar="T:STRATEGY[,T:STRATEGY...]",
        help="switch strategy T seconds after the start (each switch starts a segment)",
    )
    g.add_argument(
        "--workers-at", action="append", default=[], metavar="T:N[,...]", help="switch workers"
    )
    g.add_argument(
        "--task-ms-at",
        action="append",
        default=[],
        metavar="T:MS[,...]",
        help="switch the task size",
    )


def _continuous_script(args: argparse.Namespace) -> list | None:
    """The timed switches and stop of ``run --continuous`` (None for a batch run)."""
    timed = args.switch_at or args.workers_at or args.task_ms_at
    if not args.continuous:
        if timed or args.duration is not None:
            raise UsageError("concviz run: --duration and --switch-at need --continuous")
        return None
    # here, not above: the lab's strategies are a tenth of a second of imports that a
    # batch run's CLI does not need (its lab has them)
    from concviz.lab.strategies import REGISTRY
    from concviz.runtime.continuous import BadScript, parse_script

    if args.duration is None:
        raise UsageError("concviz run: --continuous needs --duration S (seconds to run)")
    try:
        return parse_script(
            args.duration, args.switch_at, args.workers_at, args.task_ms_at, list(REGISTRY)
        )
    except BadScript as exc:
        raise UsageError(f"concviz run: {exc}") from None


def _print_segments(run: dict, out) -> None:
    from concviz.model.segments import rate_text

    segs = run.get("segments") or []
    if not segs:
        return
    print("  segments:", file=out)
    for s in segs:
        rate = "—" if s["tasks_per_s"] is None else rate_text(s["tasks_per_s"])
        par = "—" if s["parallelism"] is None else f"{s['parallelism']:.2f}"
        sp = "—" if s["speedup"] is None else f"{s['speedup']:.2f}×"
        label = (
            "sequential" if s["strategy"] == "sequential" else (f"{s['strategy']} × {s['workers']}")
        )
        end = "…" if s["end_s"] is None else f"{s['end_s']:6.2f}"  # a segment still open
        print(
            f"    {s['start_s']:6.2f}–{end} s  {label:<24} {s['task_ms']:g} ms tasks"
            f"  {s['tasks']:>7} tasks  {rate:>7} tasks/s  parallelism {par}  speedup {sp}",
            file=out,
        )


def cmd_run(args: argparse.Namespace) -> int:
    _check_writable(args.json, "--json")
    _check_writable(args.trace, "--trace")
    _check_writable(args.save, "--save")
    _stdout_taken(args)  # two documents for stdout, or a session there: refused first
    _params(args)  # a bad flag is refused before the lab starts
    script = _continuous_script(args)
    driver = _driver(args)
    if script is not None:
        return _run_continuous(args, driver, script)
    run, store = _one_run(args, driver)
    out = sys.stderr if _stdout_taken(args) else sys.stdout
    _print_run(run, out)
    if not args.no_output:
        _print_output(run["output"], out)
    if args.json:
        _write_json(run, args.json)
    if args.trace:
        _write_trace(store, args.trace)
        if args.trace != "-":
            print(
                f"  trace written to {args.trace} (open it in Perfetto or chrome://tracing)",
                file=out,
            )
    if args.save:
        _save_session(args.save, driver.session)
        print(f"  session saved to {args.save} (open it with: concviz {args.save})", file=out)
    return 0 if _succeeded(run, args.tasks) else 1


def _run_continuous(args: argparse.Namespace, driver, script: list) -> int:
    """``run --continuous``: segments between timed switches; exit 0 when none failed."""
    import dataclasses

    refused: list[str] = []

    def on_json(obj: dict) -> None:
        _show_notice(obj)
        if obj.get("type") == "error" and obj.get("cmd") == "switch" and not refused:
            refused.append(str(obj.get("message")))
            driver.stop()  # a switch the lab refused: what follows would not be asked for

    driver.on_json = on_json
    start = dataclasses.replace(_params(args), mode="continuous")
    run = driver.run(start, script=script).result
    if refused:
        raise UsageError(f"concviz run: the lab refused a switch: {refused[0]}")
    out = sys.stderr if _stdout_taken(args) else sys.stdout
    # the files first: what was measured is kept whatever the printing meets
    if args.json:
        _write_json(run, args.json)
    if args.trace:
        _write_trace(driver.session.runs[-1].store, args.trace)
    if args.save:
        _save_session(args.save, driver.session)
    _print_run(run, out)
    _print_segments(run, out)
    failed = any(not t["ok"] and not t.get("stopped") for t in run["tasks"])
    return 0 if run["ok"] and not failed else 1


def _save_session(dest: str, session) -> None:
    """Save the CLI's runs as one session file."""
    from concviz.interop.session_file import save_session

    try:
        save_session(session, dest)
    except OSError as exc:
        raise UsageError(f"concviz: cannot write {dest}: {exc.strerror or exc}") from None


def cmd_compare(args: argparse.Namespace) -> int:
    from concviz.model.metrics import efficiency, speedup

    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if not names:
        raise UsageError(
            "concviz compare: give at least one strategy with -s, e.g. -s threads,process-pool"
        )
    out = sys.stderr if args.json == "-" else sys.stdout
    _check_writable(args.json, "--json")
    _check_writable(args.save, "--save")
    for name in names:
        _params(args, name)  # every flag checked before the first run starts
    runs = []
    driver = _driver(args)
    base = None
    for name in ["sequential"] + [n for n in names if n != "sequential"]:
        run = dict(_one_run(args, driver, name)[0])  # the figures below are the CLI's own
        if base is None:
            base = run
        run["speedup"] = speedup(base["wall_s"], run["wall_s"])
        run["efficiency"] = efficiency(
            run["speedup"], run["workers"] if name != "sequential" else 1
        )
        runs.append(run)
    print(
        f"{args.workload}: {args.tasks} tasks of {args.task_ms:g} ms, {args.workers} workers — "
        f"{_describe_interp(base['interpreter'])}",
        file=out,
    )
    print(
        f"  {'strategy':<20}{'wall s':>9}{'CPU s':>9}{'par.':>7}{'speedup':>9}{'effic.':>8}"
        f"{'start-up s':>12}",
        file=out,
    )
    for run in runs:
        flag = "" if run["ok"] else f"   failed: {run['error']}"
        if run["ok"] and not _succeeded(run, args.tasks):
            failed = [t for t in run["tasks"] if not t["ok"]]
            flag = f"   {len(failed)} tasks failed" + (
                f", first: task {failed[0]['id']}: {failed[0]['error']}" if failed else ""
            )
        startup = f"{run['startup_s']:>12.3f}" if run.get("phases") else f"{'—':>12}"
        print(
            f"  {run['strategy']:<20}{run['wall_s']:>9.3f}{run['cpu_s']:>9.3f}"
            f"{run['parallelism']:>7.2f}{run['speedup']:>9.2f}{run['efficiency']:>8.2f}"
            f"{startup}{flag}",
            file=out,
        )
    if any(r.get("phases") for r in runs):
        print("  (wall excludes each engine's start-up and teardown, shown apart)", file=out)
    if args.json:
        _write_json(runs, args.json)
    if args.save:
        _save_session(args.save, driver.session)
        print(f"  session saved to {args.save} (open it with: concviz {args.save})", file=out)
    return 0 if all(_succeeded(r, args.tasks) for r in runs) else 1


# A file given as the first word opens the window with it (``concviz runs.concviz``).
OPENABLE = (".concviz", ".json", ".gz")


def _open(path: str):
    """The session in ``path`` (a session file or a trace); UsageError in one sentence."""
    from concviz.interop import BadSessionFile, open_any

    try:
        return open_any(path)
    except BadSessionFile as exc:
        raise UsageError(f"concviz: {exc}") from None


def _is_trace(session) -> bool:
    return bool(session.runs) and all(r.source == "trace" for r in session.runs)


def _info_rows(session) -> list[dict]:
    """``concviz info``'s rows: the runs table with each run's rows and task count.

    A trace's tasks are its top-level slices (bars that are not slices inside a task);
    its rows are its process/thread rows (the store's lanes).
    """
    from concviz.model.event_store import BAR_SLICE

    rows = []
    for run, row in zip(session.runs, session.table(), strict=True):
        tasks = row["tasks"]
        if not (run.result or {}).get("tasks"):
            kinds = run.store.bars()["kind"]
            tasks = int((kinds != BAR_SLICE).sum())
        rows.append(
            {
                "name": row["name"],
                "strategy": row["strategy"],
                "workload": row["workload"],
                "tasks": tasks,
                "rows": len(run.store.lanes()),
                "wall_s": row["wall_s"],
                "speedup": row["speedup"],
            }
        )
    return rows


def cmd_info(args: argparse.Namespace) -> int:
    session = _open(args.file)
    kind = "trace" if _is_trace(session) else "session"
    rows = _info_rows(session)
    if args.json:
        print(json.dumps({"kind": kind, "runs": rows}, indent=2))
        return 0
    machine = (session.meta.get("machine") or {}) if kind == "session" else {}
    where = f", recorded on {machine.get('cpu') or machine.get('platform')}" if machine else ""
    print(f"{args.file}: a {kind} of {len(rows)} run{'s' if len(rows) != 1 else ''}{where}")
    if not rows:
        return 0
    width = max(12, *(len(r["name"]) for r in rows))
    print(
        f"  {'name':<{width}}  {'strategy':<18}{'workload':<14}{'tasks':>8}{'rows':>6}"
        f"{'wall s':>10}{'speedup':>9}"
    )
    for r in rows:
        wall = f"{r['wall_s']:>10.3f}" if isinstance(r["wall_s"], (int, float)) else f"{'—':>10}"
        speed = f"{r['speedup']:>9.2f}" if r["speedup"] is not None else f"{'—':>9}"
        print(
            f"  {r['name']:<{width}}  {r['strategy']:<18}{r['workload']:<14}{r['tasks']:>8}"
            f"{r['rows']:>6}{wall}{speed}"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _check_writable(args.out, "-o")
    session = _open(args.file)
    if not session.runs:
        raise UsageError(f"concviz export: {args.file} holds no runs; there is nothing to export")
    try:
        if args.format == "csv":
            _write_csv(session, args.out)
        elif len(session.runs) == 1:
            from concviz.interop.chrome_trace import write_trace

            write_trace(session.runs[0].store, args.out)
        else:
            _write_runs_trace(session, args.out)
    except OSError as exc:
        raise UsageError(f"concviz: cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"{len(session.runs)} run{'s' if len(session.runs) != 1 else ''} written to {args.out}")
    return 0


def _write_csv(session, dest: str) -> None:
    """The runs table (``Session.table()``) as CSV, written atomically."""
    import csv
    import io

    table = session.table()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    _write_text(dest, buf.getvalue())


def _write_runs_trace(session, dest: str) -> None:
    """Every run in one Chrome trace: each run a process named after it, from time 0."""
    from concviz.interop.chrome_trace import trace_events

    events: list[dict] = []
    for k, run in enumerate(session.runs):
        group = k + 1  # one process per run: its workers become its threads
        for ev in trace_events(run.store):
            if ev.get("ph") == "M" and ev.get("name") == "process_name":
                continue
            events.append({**ev, "pid": group})
        events.append({"ph": "M", "name": "process_name", "pid": group, "args": {"name": run.name}})
        events.append(
            {"ph": "M", "name": "process_sort_index", "pid": group, "args": {"sort_index": k}}
        )
    _write_text(dest, json.dumps({"traceEvents": events, "displayTimeUnit": "ms"}))


def _write_text(dest: str, text: str) -> None:
    path = Path(dest)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def cmd_strategies(args: argparse.Namespace) -> int:
    from concviz.runtime import LabProcess, query

    lab = LabProcess(args.interpreter)
    hello = lab.start()
    try:
        items = query(lab, "strategies")["items"]
    finally:
        lab.close()
    if args.json:
        print(json.dumps({"interpreter": hello["interpreter"], "strategies": items}, indent=2))
        return 0
    print(
        f"strategies under {_describe_interp(hello['interpreter'])} ({hello['interpreter']['executable']}):"
    )
    groups = {"python": "Python's own", "engines": "engines (optional extras)"}
    for group, title in groups.items():
        members = [s for s in items if s.get("group", "python") == group]
        if not members:
            continue
        print(f" {title}")
        for s in members:
            mark = "yes" if s["available"] else "no "
            why = "" if s["available"] else f"  — {s['reason']}"
            print(f"  {mark}  {s['name']:<20}{s['description']}{why}")
            hint = s.get("install")
            if not s["available"] and hint:
                label = "install" if hint.startswith(("pip ", "uv ")) else "to use it"
                print(f"       {'':<20}{label}: {hint}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from concviz.runtime import LabProcess, query

    lab = LabProcess(args.interpreter)
    hello = lab.start()
    try:
        answer = query(lab, "calibrate", on_json=_show_notice)
    finally:
        lab.close()
    if args.json:
        print(json.dumps({"interpreter": hello["interpreter"], **answer}, indent=2))
        return 0
    f = answer["figures"]
    print(f"calibration for {_describe_interp(hello['interpreter'])}, saved to {answer['path']}:")
    print(f"  cpu-python  {f['py_iters_per_ms']:>12.1f} loop steps per ms")
    print(f"  cpu-native  {f['native_chunks_per_ms']:>12.3f} hashes of 256 KiB per ms")
    print(f"  io-file     {f['file_blocks_per_ms']:>12.3f} synced writes of 64 KiB per ms")
    return 0


def cmd_interpreters(args: argparse.Namespace) -> int:
    from concviz.runtime.interpreters import discover

    infos = discover(args.add or [])
    if args.json:
        print(json.dumps(infos, indent=2))
        return 0
    for i in infos:
        kind = "free-threaded" if i.get("free_threaded") else "GIL build"
        gil = "" if "gil_enabled" not in i else (", GIL on" if i["gil_enabled"] else ", GIL off")
        head = f"{i.get('version', '?'):<9}{kind}{gil}"
        state = "" if i.get("supported") else f"  — not usable: {i['reason']}"
        print(f"  {head:<32}{i['path']}  ({', '.join(i['sources'])}){state}")
    return 0


def cmd_self_test(args: argparse.Namespace) -> int:
    from concviz.selftest import run_self_test

    items = run_self_test(window=not args.no_window)
    ok = all(i.ok for i in items)
    if args.json:
        print(json.dumps({"ok": ok, "items": [i.as_dict() for i in items]}, indent=2))
    else:
        for i in items:
            print(f"  {'pass' if i.ok else 'FAIL'}  {i.name:<36} {i.reason}")
        print("self-test passed" if ok else "self-test FAILED")
    return 0 if ok else 1


def cmd_bench(argv: list[str]) -> int:
    try:
        from concviz.bench import main as bench_main
    except ImportError:
        raise UsageError("concviz bench: the benchmarks are not built yet") from None
    return bench_main(argv)


def cmd_screenshot(args: argparse.Namespace) -> int:
    from concviz.ui.screenshot import render, render_ab

    try:
        if args.ab:
            for why in render_ab(args.out, _params(args).params()):
                print(f"  not shown: {why}")
        else:
            render(args.out, _params(args).params(), args.interpreter)
    except RuntimeError as exc:
        print(f"concviz screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"screenshot written to {args.out}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from concviz.cli_sweep import cmd_sweep

    return cmd_sweep(args)


def _cmd_lessons(args: argparse.Namespace) -> int:
    from concviz.cli_lessons import cmd_lessons

    return cmd_lessons(args)


def cmd_window(argv: list[str]) -> int:
    from concviz.ui.platform_check import problem

    why = problem()  # Qt would abort with a paragraph; say it in one sentence instead
    if why:
        raise UsageError(why)
    from concviz.ui.app import main as window_main

    return window_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="concviz",
        description="See concurrency and parallelism in Python: run a workload under a "
        "strategy and watch every task. With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser("run", help="run one workload under one strategy, headless")
    _add_run_options(p)
    p.add_argument("--json", metavar="FILE", help="write the run as JSON (- for stdout)")
    p.add_argument("--trace", metavar="FILE", help="write a Chrome Trace Event file (- for stdout)")
    p.add_argument(
        "--no-output", action="store_true", help="do not print what the workload printed"
    )
    p.add_argument("--save", metavar="FILE.concviz", help="save the run as a session file")
    _add_continuous_options(p)
    p = sub.add_parser("compare", help="run sequential and several strategies, side by side")
    _add_run_options(p, strategy=False)
    p.add_argument(
        "-s", "--strategies", default="threads,process-pool", help="comma-separated strategies"
    )
    p.add_argument("--json", metavar="FILE", help="write the runs as JSON (- for stdout)")
    p.add_argument("--save", metavar="FILE.concviz", help="save every run in one session file")
    p = sub.add_parser("info", help="what a session file or trace holds: its runs")
    p.add_argument("file", help="a .concviz session file or a trace")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("export", help="a session file's runs as a Chrome trace or a CSV table")
    p.add_argument("file", help="a .concviz session file or a trace")
    p.add_argument("--format", choices=("chrome", "csv"), required=True, help="what to write")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="the file to write")
    p = sub.add_parser("strategies", help="list every strategy, available or not, and why")
    p.add_argument("--interpreter", metavar="PATH", help="ask the lab under this Python")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("calibrate", help="measure this machine's work rates again (cached)")
    p.add_argument("--interpreter", metavar="PATH", help="calibrate the lab under this Python")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("interpreters", help="the Pythons found here and what each really is")
    p.add_argument("--add", action="append", metavar="PATH", help="also probe this interpreter")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = sub.add_parser("self-test", help="check every strategy and the window work here")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-window", action="store_true", help="skip the offscreen window frame")
    from concviz.cli_sweep import add_parser as add_sweep_parser

    add_sweep_parser(sub)
    from concviz.cli_lessons import add_parser as add_lessons_parser

    add_lessons_parser(sub)
    sub.add_parser("bench", help="benchmarks (concviz bench --list)", add_help=False)
    p = sub.add_parser("screenshot", help="render the window offscreen after a short run")
    p.add_argument("out", help="PNG file to write")
    p.add_argument(
        "--ab",
        action="store_true",
        help="the GIL A/B instead: threads under one GIL beside interpreter-pool "
        "(and threads under a free-threaded Python when one is found)",
    )
    _add_run_options(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Ctrl-C at any moment, even while the modules below are imported, ends with 130
    # and one line, never a traceback.
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # the run, if any, was stopped and its lab ended; the shell's code for Ctrl-C
        print("concviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `concviz run --json - | head`: the reader has what it wanted; what is left
        # to print goes nowhere (not into a traceback when Python flushes at exit)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


def _main(argv: list[str] | None) -> int:
    import multiprocessing

    # First, so that a frozen app's spawn and forkserver workers start as workers.
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--lab"]:  # the frozen app runs its own lab this way
        from concviz.lab.lab import main as lab_main

        return lab_main()
    from concviz import frozen

    run_helper = frozen.helper(argv)  # joblib's loky starts its helpers with `<exe> -m/-c`
    if run_helper is not None:
        return run_helper()
    refusal = frozen.python_option_refusal(argv)
    if refusal:  # `concviz -m pip`: one sentence, not a window that stays open
        print(f"concviz: {refusal}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from concviz.runtime import BadInput, LabError
    from concviz.runtime.lab_process import BadInterpreter

    try:
        if argv[:1] == ["bench"]:
            return cmd_bench(argv[1:])
        if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
            return cmd_window(argv)  # window options such as --interpreter, --presentation
        parser = build_parser()
        handlers = {
            "run": cmd_run,
            "compare": cmd_compare,
            "strategies": cmd_strategies,
            "calibrate": cmd_calibrate,
            "interpreters": cmd_interpreters,
            "self-test": cmd_self_test,
            "screenshot": cmd_screenshot,
            "info": cmd_info,
            "export": cmd_export,
            "sweep": _cmd_sweep,
            "lessons": _cmd_lessons,
        }
        if argv[0] not in handlers and argv[0].lower().endswith(OPENABLE):
            _open(argv[0])  # an unreadable file is one sentence here, not a window
            return cmd_window(["--open", argv[0], *argv[1:]])
        args = parser.parse_args(argv)
        if args.command is None:
            return cmd_window(argv)
        return handlers[args.command](args)
    except (UsageError, BadInput, BadInterpreter) as exc:
        print(
            f"concviz: {exc}" if not str(exc).startswith("concviz") else str(exc), file=sys.stderr
        )
        return EXIT_BAD_INPUT
    except LabError as exc:
        print(f"concviz: {exc}", file=sys.stderr)
        return 1
