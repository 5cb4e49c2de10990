"""Lessons: guided experiments read from ``resources/lessons/*.md`` (no Qt).

A lesson file is plain Markdown with a small front matter::

    ---
    title: The GIL
    order: 30
    summary: Threads share one interpreter lock; processes do not.
    ---

    ## Threads on pure Python          <- each "## " heading starts a step
    Text of the step, in Markdown.

    ```experiment                     <- optional: the runs the step makes
    workload: cpu-python
    strategies: sequential, threads, process-pool
    workers: 2
    tasks: 8
    task_ms: 40
    ```

    ```look                           <- what to look for, quoting the runs' numbers
    threads took {threads.wall_s:.2f} s, sequential {sequential.wall_s:.2f} s
    ```

    ```claim                          <- one claim a line (``model.lesson_claims``)
    speedup(threads) < 1.3
    ```

An experiment's keys are the run's own (``concviz run``'s flags, with ``_`` or
``-``): workload, strategy, workers, tasks, task_ms, serial_fraction, cpu_fraction,
jitter, seed, and the knobs sync, critical_fraction, limit, queue_size, producer_ms,
width, start_method; ``interpreter: free-threaded`` runs them on a free-threaded Python;
``view: sweep`` shows runs of one strategy on several worker counts in the Sweep view
(speedup and efficiency against workers, with Amdahl's fit) once they have ended.
``strategies: a, b`` makes one run per strategy, named after it;
``run NAME: key=value, key=value`` lines make runs of their own names instead, each
the experiment's keys with its changes. Whether the workloads and strategies exist is
the lab's to say: ``validate`` takes a function that asks it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from concviz.lab import protocol as P

from .lesson_claims import (
    BadClaim,
    Node,
    constants_named,
    parse_claim,
    parse_template,
    runs_named,
)

FRONT_KEYS = ("title", "order", "summary")
BLOCKS = ("experiment", "look", "claim")
# The experiment's keys: the start's fields, then its options (the workloads' knobs).
START_KEYS = {
    "workload": str,
    "strategy": str,
    "workers": int,
    "tasks": int,
    "task_ms": float,
    "serial_fraction": float,
    "cpu_fraction": float,
    "jitter": float,
    "seed": int,
}
OPTION_KEYS = {
    "sync": str,
    "critical_fraction": float,
    "limit": int,
    "queue_size": int,
    "producer_ms": float,
    "width": int,
    "start_method": str,
}
# ``interpreter:``: the kinds of Python an experiment may ask for
INTERPRETERS = ("free-threaded",)
# ``view:``: where the window shows the step's runs when they have ended (the compare
# view, or the timeline for one run, when not given): ``sweep`` the Sweep page,
# ``tasks`` the timeline zoomed to the tasks (a Dask cluster's 3 s start-up left its
# task graph 50 px wide at 720p)
VIEWS = ("sweep", "tasks")
_RUN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*$")


class BadLesson(Exception):
    """A lesson file that cannot be used: one sentence naming the file and the problem."""


@dataclass(frozen=True)
class Claim:
    text: str
    node: Node = field(compare=False, repr=False)


@dataclass(frozen=True)
class Step:
    """One step: its text, and optionally the runs it makes, what to look for, its claims."""

    title: str
    text: str
    runs: dict[str, P.Start] = field(default_factory=dict)
    look: str = ""
    claims: tuple[Claim, ...] = ()
    # the Python the runs need, when not the lab's own: "free-threaded" (3.13t or newer,
    # the GIL off); where none is found the runs are not made and the claims skipped
    interpreter: str | None = None
    view: str | None = None  # "sweep": the runs are a workers sweep, shown as one

    def constants(self) -> set[str]:
        """The machine's figures the claims and the text need (``machine_parallelism``)."""
        out: set[str] = set()
        for c in self.claims:
            out |= constants_named(c.node)
        for q in parse_template(self.look):
            out |= constants_named(q.node)
        return out


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's stem: what ``concviz lessons check NAME`` takes
    title: str
    order: int
    summary: str
    intro: str
    steps: tuple[Step, ...]
    path: Path | None = None

    def header(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "order": self.order,
            "summary": self.summary,
            "steps": len(self.steps),
            "claims": sum(len(s.claims) for s in self.steps),
        }


def _front(lines: list[str], where: str) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        raise BadLesson(
            f"{where} must start with a front matter: a line '---', then title, "
            "order and summary, then '---'"
        )
    meta: dict[str, str] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            break
        if not line.strip():
            continue
        key, sep, val = line.partition(":")
        key = key.strip()
        if not sep or key not in FRONT_KEYS:
            raise BadLesson(
                f"{where}, line {i + 1}: the front matter takes only "
                f"{', '.join(FRONT_KEYS)} as 'key: value', not {line.strip()!r}"
            )
        meta[key] = val.strip()
    else:
        raise BadLesson(f"{where}: the front matter has no closing '---' line")
    for key in FRONT_KEYS:
        if not meta.get(key):
            raise BadLesson(f"{where}: the front matter lacks {key}")
    try:
        meta["order"] = int(meta["order"])  # type: ignore[assignment]
    except ValueError:
        raise BadLesson(f"{where}: order must be a whole number, not {meta['order']!r}") from None
    return meta, i + 1


def _convert(key: str, text: str, kinds: dict, what: str) -> object:
    kind = kinds[key]
    try:
        return kind(text)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise BadLesson(f"{what}: {key} must be {noun}, not {text!r}") from None


def _one_of(key: str, text: str, allowed: tuple[str, ...], what: str) -> str:
    value = text.strip()
    if value not in allowed:
        raise BadLesson(
            f"{what}: {key} {value!r} is not one a step can ask for (it takes {', '.join(allowed)})"
        )
    return value


def _key(raw: str) -> str:
    return raw.strip().replace("-", "_")


def _experiment(body: str, what: str) -> tuple[dict[str, P.Start], str | None, str | None]:
    """The runs an experiment block makes, by name, the Python they need (None: the
    lab's own) and the view that shows them (None: the usual one)."""
    base: dict[str, object] = {}
    interpreter: str | None = None
    view: str | None = None
    options: dict[str, object] = {}
    strategies: list[str] = []
    named: list[tuple[str, str]] = []
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, sep, rest = line.partition(":")
        if not sep:
            raise BadLesson(f"{what}: the experiment's lines are 'key: value', not {line!r}")
        if head.startswith("run "):
            name = head[4:].strip()
            if not _RUN_NAME.match(name):
                raise BadLesson(f"{what}: {name!r} cannot name a run (letters, digits, _ and -)")
            named.append((name, rest))
            continue
        key = _key(head)
        if key == "strategies":
            strategies = [s.strip() for s in rest.split(",") if s.strip()]
        elif key == "interpreter":
            interpreter = _one_of("interpreter", rest, INTERPRETERS, what)
        elif key == "view":
            view = _one_of("view", rest, VIEWS, what)
        elif key in START_KEYS:
            base[key] = _convert(key, rest.strip(), START_KEYS, what)
        elif key in OPTION_KEYS:
            options[key] = _convert(key, rest.strip(), OPTION_KEYS, what)
        else:
            known = ", ".join(
                [*START_KEYS, *OPTION_KEYS, "strategies", "interpreter", "view", "run NAME"]
            )
            raise BadLesson(
                f"{what}: the experiment has no key {head.strip()!r} (it takes {known})"
            )
    if strategies and named:
        raise BadLesson(f"{what}: give either 'strategies:' or 'run NAME:' lines, not both")
    plans: list[tuple[str, dict, dict]] = []
    if named:
        for name, changes in named:
            params, opts = dict(base), dict(options)
            for item in changes.split(","):
                if not item.strip():
                    continue
                k, eq, v = item.partition("=")
                k = _key(k)
                if not eq:
                    raise BadLesson(
                        f"{what}, run {name}: changes are key=value, not {item.strip()!r}"
                    )
                if k in START_KEYS:
                    params[k] = _convert(k, v.strip(), START_KEYS, f"{what}, run {name}")
                elif k in OPTION_KEYS:
                    opts[k] = _convert(k, v.strip(), OPTION_KEYS, f"{what}, run {name}")
                else:
                    raise BadLesson(f"{what}, run {name}: no key {k!r}")
            plans.append((name, params, opts))
    elif strategies:
        plans = [(s, {**base, "strategy": s}, dict(options)) for s in strategies]
    else:
        if "strategy" not in base:
            raise BadLesson(f"{what}: the experiment names no strategy (strategy: or strategies:)")
        plans = [(str(base["strategy"]), dict(base), dict(options))]
    runs: dict[str, P.Start] = {}
    for name, params, opts in plans:
        if name in runs:
            raise BadLesson(f"{what}: two runs are named {name}")
        if "strategy" not in params:
            raise BadLesson(f"{what}, run {name}: no strategy (give strategy= or strategy:)")
        if "workload" not in params:
            raise BadLesson(f"{what}, run {name}: no workload (give workload= or workload:)")
        if params["workload"] == "user":
            raise BadLesson(f"{what}: a lesson runs concviz's own workloads, not a user function")
        if not _RUN_NAME.match(name):
            raise BadLesson(f"{what}: {name!r} cannot name a run (letters, digits, _ and -)")
        try:
            runs[name] = P.Start(mode="batch", options=opts, **params)  # type: ignore[arg-type]
        except P.ControlError as exc:
            raise BadLesson(f"{what}, run {name}: {exc}") from None
    if view == "sweep":
        _check_sweep(runs, what)
    return runs, interpreter, view


def _check_sweep(runs: dict[str, P.Start], what: str) -> None:
    """A sweep step's runs differ in their worker count only, one run a count."""
    counts = [s.workers for s in runs.values()]
    if len(set(counts)) < 2 or len(set(counts)) != len(counts):
        raise BadLesson(
            f"{what}: a sweep's runs each have a worker count of their own, two at least "
            f"(these have {', '.join(map(str, counts))})"
        )
    first = next(iter(runs.values()))
    for name, s in runs.items():
        if dataclasses.replace(s, workers=first.workers) != first:
            raise BadLesson(
                f"{what}: a sweep's runs differ in their worker count only; run {name} "
                "differs in more"
            )


def _blocks(lines: list[str], what: str) -> tuple[str, dict[str, str]]:
    """A step's text, and its experiment/look/claim blocks (other fences stay text)."""
    text: list[str] = []
    blocks: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        info = line.strip()[3:].strip() if line.strip().startswith("```") else None
        if info in BLOCKS:
            if info in blocks:
                raise BadLesson(f"{what} has two {info} blocks")
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j >= len(lines):
                raise BadLesson(f"{what}: the {info} block is not closed with ```")
            blocks[info] = "\n".join(lines[i + 1 : j]).strip()
            i = j + 1
            continue
        text.append(line)
        i += 1
    return "\n".join(text).strip(), blocks


def parse_lesson(text: str, name: str, path: Path | None = None) -> Lesson:
    """A lesson from its file's text; BadLesson naming ``name`` and the problem."""
    where = path.name if path is not None else f"lesson {name}"
    lines = text.splitlines()
    meta, body_at = _front(lines, where)
    sections: list[tuple[str, list[str]]] = []
    intro: list[str] = []
    for line in lines[body_at:]:
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    if not sections:
        raise BadLesson(f"{where} has no steps: start each with a '## ' heading")
    steps = []
    for k, (title, body) in enumerate(sections, start=1):
        what = f"{where}, step {k} ({title})"
        step_text, blocks = _blocks(body, what)
        if not step_text:
            raise BadLesson(f"{what} has no text")
        runs, interpreter, view = (
            _experiment(blocks["experiment"], what) if "experiment" in blocks else ({}, None, None)
        )
        if not runs and ("look" in blocks or "claim" in blocks):
            raise BadLesson(f"{what}: a look or claim block needs an experiment block")
        claims = []
        for line in (blocks.get("claim") or "").splitlines():
            if not line.strip() or line.strip().startswith("#"):
                continue
            try:
                node = parse_claim(line)
            except BadClaim as exc:
                raise BadLesson(f"{what}, claim {line.strip()!r}: {exc}") from None
            claims.append(Claim(line.strip(), node))
        look = blocks.get("look", "")
        try:
            quotes = parse_template(look)
        except BadClaim as exc:
            raise BadLesson(f"{what}, look block: {exc}") from None
        for node in [c.node for c in claims] + [q.node for q in quotes]:
            unknown = sorted(runs_named(node) - set(runs))
            if unknown:
                raise BadLesson(
                    f"{what}: {node.text!r} reads run {unknown[0]}, which the experiment "
                    f"does not make (it makes {', '.join(runs)})"
                )
        steps.append(Step(title, step_text, runs, look, tuple(claims), interpreter, view))
    return Lesson(
        name=name,
        title=str(meta["title"]),
        order=int(meta["order"]),
        summary=str(meta["summary"]),
        intro="\n".join(intro).strip(),
        steps=tuple(steps),
        path=path,
    )


def load_lesson(path: Path) -> Lesson:
    """The lesson in ``path``; BadLesson (one sentence naming the file) when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BadLesson(f"lesson file {path} cannot be read: {why}") from None
    return parse_lesson(text, path.stem, path)


def load_lessons(folder: Path) -> list[Lesson]:
    """Every ``*.md`` lesson in ``folder``, in their order (BadLesson for the first bad one)."""
    lessons = [load_lesson(p) for p in sorted(folder.glob("*.md"))]
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.name))


def validate(lesson: Lesson, problem: Callable[[P.Start], str | None]) -> None:
    """Ask ``problem(start)`` (the lab's own checks) about every run; BadLesson for one refused."""
    for k, step in enumerate(lesson.steps, start=1):
        for name, start in step.runs.items():
            why = problem(start)
            if why:
                where = lesson.path.name if lesson.path else f"lesson {lesson.name}"
                raise BadLesson(f"{where}, step {k} ({step.title}), run {name}: {why}")


def with_runs(step: Step, **changes) -> Step:
    """A copy of ``step`` with its runs' fields changed (tests make lessons smaller)."""
    runs = {n: dataclasses.replace(s, **changes) for n, s in step.runs.items()}
    return dataclasses.replace(step, runs=runs)
