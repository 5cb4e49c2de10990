"""``concviz sweep``: how far a strategy scales, and from what task size it pays.

    concviz sweep -w cpu-python -s process-pool --workers 1,2,4 [--repeats 3] [--weak]
    concviz sweep -w cpu-native -s thread-pool,process-pool --task-ms 0.05,0.5,5,50

One task size (or none) sweeps workers; several sweep task sizes at fixed total work
(``--total-ms``), each strategy beside sequential at every size. Every point is a run
of one session (``--save`` keeps them); ``--json`` writes the sweep object.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    """The ``sweep`` sub-command's flags (the run flags, with lists where a sweep varies)."""
    from concviz.cli import _add_run_options

    p = sub.add_parser(
        "sweep", help="scaling (workers) or granularity (task sizes) sweep, with fits"
    )
    _add_run_options(p, strategy=False, sweep=True)
    p.add_argument(
        "-s",
        "--strategy",
        "--strategies",
        dest="strategy",
        default="process-pool",
        help="strategy (a task-size sweep takes several, comma-separated)",
    )
    p.add_argument("--repeats", type=int, default=3, help="runs per point (default 3)")
    p.add_argument(
        "--weak", action="store_true", help="weak scaling: the tasks grow with the workers"
    )
    p.add_argument(
        "--total-ms",
        type=float,
        default=None,
        help="task-size sweep: total work per point in ms (default 400)",
    )
    p.add_argument("--json", metavar="FILE", help="write the sweep as JSON (- for stdout)")
    p.add_argument("--csv", metavar="FILE", help="write the sweep's points as CSV")
    p.add_argument("--save", metavar="FILE.concviz", help="save every run in one session file")


def _list(text: str | None, kind, flag: str) -> list:
    if text is None:
        return []
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(kind(part))
        except ValueError:
            what = "whole numbers" if kind is int else "numbers"
            raise _usage(f"{flag} takes {what} separated by commas, not {part!r}") from None
    return out


def _usage(text: str):
    from concviz.cli import UsageError

    return UsageError(f"concviz sweep: {text}")


def spec_from_args(args: argparse.Namespace):
    """The ``SweepSpec`` these flags ask for (UsageError naming a bad flag)."""
    from concviz.cli import _params
    from concviz.model.diagnoses import machine_cores
    from concviz.model.scaling import default_workers
    from concviz.runtime.sweep import DEFAULT_TOTAL_MS, BadSweep, SweepSpec

    strategies = [s.strip() for s in args.strategy.split(",") if s.strip()]
    if not strategies:
        raise _usage("give a strategy with -s, e.g. -s process-pool")
    sizes = _list(args.task_ms, float, "--task-ms")
    workers = _list(args.workers, int, "--workers")
    kind = "task_size" if len(sizes) > 1 else "workers"
    if kind == "workers" and len(strategies) > 1:
        raise _usage(
            "a workers sweep runs one strategy; several strategies need several task sizes "
            "(--task-ms 0.05,0.5,5,50)"
        )
    if kind == "task_size" and len(workers) > 1:
        raise _usage("a task-size sweep runs one worker count: give --workers one number")
    if kind == "task_size" and args.weak:
        raise _usage("--weak belongs to a workers sweep (one --task-ms)")
    if kind == "workers" and args.total_ms is not None:
        raise _usage("--total-ms belongs to a task-size sweep (several --task-ms)")
    one = argparse.Namespace(**vars(args))
    one.workers = (
        workers[0] if kind == "task_size" and workers else (2 if kind == "task_size" else 1)
    )
    one.task_ms = sizes[0] if sizes else 50.0
    base = _params(one, strategies[0])  # every other flag checked as ``run`` checks it
    for s in strategies[1:]:
        _params(one, s)
    try:
        return SweepSpec(
            kind=kind,
            base=base,
            strategies=tuple(strategies),
            workers=tuple(workers or default_workers(machine_cores())),
            task_ms=tuple(sizes),
            repeats=args.repeats,
            weak=args.weak,
            total_ms=args.total_ms if args.total_ms is not None else DEFAULT_TOTAL_MS,
        )
    except BadSweep as exc:
        raise _usage(str(exc)) from None


def cmd_sweep(args: argparse.Namespace) -> int:
    from concviz.cli import _check_writable, _driver, _save_session, _write_json, _write_text
    from concviz.interop.sweep_csv import sweep_csv
    from concviz.runtime.sweep import run_sweep

    for dest, flag in ((args.json, "--json"), (args.csv, "--csv"), (args.save, "--save")):
        _check_writable(dest, flag)
    spec = spec_from_args(args)
    out = sys.stderr if args.json == "-" else sys.stdout
    driver = _driver(args)
    total = len(spec.plan())
    print(f"sweep: {total} runs ({describe(spec)})", file=out)

    def progress(done: int, total: int, run) -> None:
        res = run.result or {}
        state = "" if res.get("ok") else f"  failed: {res.get('error')}"
        print(f"  [{done:>3}/{total}] {run.name}: {res.get('wall_s', 0.0):.3f} s{state}", file=out)

    try:
        sweep = run_sweep(driver, spec, progress)
    except KeyboardInterrupt:
        driver.stop()
        raise
    print_sweep(sweep, out)
    if args.json:
        _write_json(_public(sweep), args.json)
    if args.csv:
        _write_text(args.csv, sweep_csv(sweep))
        print(f"  points written to {args.csv}", file=out)
    if args.save:
        _save_session(args.save, driver.session)
        print(f"  session saved to {args.save} (open it with: concviz {args.save})", file=out)
    ok = all((r.result or {}).get("ok") for r in driver.session.runs)
    return 0 if ok and sweep["points"] else 1


def describe(spec) -> str:
    b = spec.base
    if spec.kind == "workers":
        scale = "weak scaling" if spec.weak else "strong scaling"
        return (
            f"{b.workload} × {spec.strategies[0]}, workers {','.join(map(str, spec.xs()))}, "
            f"{b.tasks} tasks of {b.task_ms:g} ms, {scale}, {spec.repeats} repeats"
        )
    return (
        f"{b.workload} × {', '.join(spec.lanes())}, task sizes "
        f"{','.join(f'{x:g}' for x in spec.xs())} ms, {spec.total_ms:g} ms of work, "
        f"{b.workers} workers, {spec.repeats} repeats"
    )


def _public(sweep: dict) -> dict:
    """The JSON object: the issue's fields first, the raw walls of every repeat kept."""
    keys = (
        "kind",
        "points",
        "amdahl_serial_fraction",
        "amdahl_serial_fraction_err",
        "break_even_task_ms",
    )
    return {**{k: sweep.get(k) for k in keys}, **{k: v for k, v in sweep.items() if k not in keys}}


def _fmt(x, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def print_sweep(sweep: dict, out) -> None:
    """The sweep as a table, then its fits in words."""
    if sweep.get("cancelled"):
        print("  sweep stopped before the end: the points so far", file=out)
    if not sweep["points"]:
        print("  no point finished: nothing to fit", file=out)
        return
    if sweep["kind"] == "workers":
        print(
            f"  {'workers':>7}{'wall s':>10}{'± spread':>10}{'speedup':>9}{'effic.':>8}"
            f"{'Karp–Flatt e':>14}",
            file=out,
        )
        for pt in sweep["points"]:
            print(
                f"  {pt['workers']:>7}{pt['wall_s']:>10.3f}{pt['wall_s_spread']:>10.3f}"
                f"{_fmt(pt['speedup'], '.2f'):>9}{_fmt(pt['efficiency'], '.2f'):>8}"
                f"{_fmt(pt['karp_flatt'], '.3f'):>14}",
                file=out,
            )
        f, err = sweep.get("amdahl_serial_fraction"), sweep.get("amdahl_serial_fraction_err")
        if f is not None:
            pm = f" ± {err:.3f}" if err is not None else ""
            cores = sweep.get("fit_max_workers")
            past = cores is not None and max(p["workers"] for p in sweep["points"]) > cores
            print(
                f"  Amdahl fit: serial fraction {f:.3f}{pm} → speedup can never pass "
                f"{'∞' if f <= 0 else format(1 / f, '.1f')}×"
                + (
                    f" (fitted up to {cores} workers: past the cores, they share them)"
                    if past
                    else ""
                ),
                file=out,
            )
        g = sweep.get("gustafson_serial_fraction")
        if g is not None:
            print(f"  Gustafson fit (weak scaling): serial fraction {g:.3f}", file=out)
        return
    print(f"  {'strategy':<18}{'task ms':>9}{'wall s':>10}{'± spread':>10}{'speedup':>9}", file=out)
    for pt in sweep.get("sequential") or []:
        print(
            f"  {'sequential':<18}{pt['task_ms']:>9g}{pt['wall_s']:>10.3f}"
            f"{pt['wall_s_spread']:>10.3f}{'1.00':>9}",
            file=out,
        )
    for pt in sweep["points"]:
        print(
            f"  {pt['strategy']:<18}{pt['task_ms']:>9g}{pt['wall_s']:>10.3f}"
            f"{pt['wall_s_spread']:>10.3f}{_fmt(pt['speedup'], '.2f'):>9}",
            file=out,
        )
    for strategy, ms in (sweep.get("break_even_task_ms") or {}).items():
        text = (
            "never beat sequential at these sizes"
            if ms is None
            else f"beats sequential from tasks of {ms:.3g} ms"
        )
        print(f"  break-even: {strategy} {text}", file=out)
