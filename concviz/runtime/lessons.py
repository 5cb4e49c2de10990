"""Running a lesson's experiments and judging its claims (``concviz lessons check``).

Every run goes through the one ``RunDriver`` (one lab for the whole check, started
again should a run end it), as ``concviz run`` does; the claims are then evaluated
over the step's runs by ``model.lesson_claims``. A run whose strategy this lab cannot
offer is not made, and each claim that needs it is skipped, naming what is missing.

Threads: everything here blocks; call it from the CLI's thread or a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from concviz.lab import protocol as P
from concviz.model.diagnoses import loop_lag_ms, machine_cores
from concviz.model.lesson_claims import Missing, constants_named, evaluate, fill, runs_named
from concviz.model.lessons import BadLesson, Lesson, Step, load_lessons, validate
from concviz.model.session import Session
from concviz.resources import resource_path

from .driver import RunDriver
from .headless import query, run_batch
from .lab_process import LabProcess

BUSY_CORES = 0.2  # other programs' cores above which a failed claim blames the machine


def lessons_dir() -> Path:
    """Where the shipped lessons are (from source or in the packaged app)."""
    return resource_path("lessons")


def recording_path(lesson_name: str, k: int, folder: Path | None = None) -> Path:
    """Where step ``k`` of a lesson keeps its shipped recording (a ``.concviz`` session
    of that step's runs, made where every claim held), whether or not it exists."""
    base = folder if folder is not None else lessons_dir() / "recordings"
    return base / f"{lesson_name}-{k}.concviz"


def recording(lesson_name: str, k: int) -> Path | None:
    """Step ``k``'s shipped recording, or None when the lessons ship none for it."""
    path = recording_path(lesson_name, k)
    return path if path.is_file() else None


def start_problem(start: P.Start) -> str | None:
    """Why the lab would refuse ``start`` on any machine (its own checks), or None."""
    from concviz.lab.lab import start_problem as lab_problem

    return lab_problem(start)


def load_checked(folder: Path | None = None) -> list[Lesson]:
    """Every lesson in ``folder`` (the shipped ones by default), each run checked by the
    lab's rules; BadLesson (one sentence naming the file) for the first unusable one."""
    lessons = load_lessons(folder if folder is not None else lessons_dir())
    for lesson in lessons:
        validate(lesson, start_problem)
    return lessons


def find(lessons: list[Lesson], name: str) -> Lesson:
    """The lesson called ``name`` (its file's stem); BadLesson listing the names."""
    for lesson in lessons:
        if lesson.name == name:
            return lesson
    names = ", ".join(lesson.name for lesson in lessons) or "none"
    raise BadLesson(f"there is no lesson {name!r}; the lessons are: {names}")


class Constants(dict):
    """The machine's figures a claim may read, measured only when a step asks for them.

    ``machine_parallelism`` (``runtime.parallelism``) is measured for each step that
    reads it, before and after its runs, and the lower figure kept: what the machine
    gave may change from one minute to the next on a shared machine.
    """

    def __init__(self, parallelism: Callable[[], float] | None = None) -> None:
        super().__init__()
        if parallelism is None:
            from .parallelism import machine_parallelism as parallelism
        self._parallelism = parallelism

    def before(self, names: set[str]) -> None:
        self.pop("machine_parallelism", None)
        if "cores" in names:
            self["cores"] = float(machine_cores())
        if "machine_parallelism" in names:
            self["machine_parallelism"] = self._parallelism()

    def after(self, names: set[str]) -> None:
        # no spare core before: the lower figure cannot give one, so nothing to measure
        if "machine_parallelism" in names and not self.no_spare_core(names):
            self["machine_parallelism"] = min(self["machine_parallelism"], self._parallelism())

    def no_spare_core(self, names: set[str]) -> str | None:
        """Why a claim reading these constants cannot be judged now, or None."""
        from .parallelism import MIN_SPARE

        p = self.get("machine_parallelism")
        if "machine_parallelism" in names and p is not None and p - 1.0 < MIN_SPARE:
            return (
                f"the machine gave only {p:.2f} cores' worth of parallelism right now (other "
                "programs held the cores): a free second core is missing to judge a speedup"
            )
        return None


def _failed(run: dict) -> str | None:
    """Why a run cannot testify (it failed for a reason other than the deadlock it shows)."""
    if run.get("ok") or run.get("deadlock"):
        return None
    return str(run.get("error") or "it did not end well")


def judge(
    step: Step, k: int, results: dict[str, dict], missing: dict[str, str], constants: Constants
) -> tuple[str, list[dict]]:
    """What to look for, filled with the runs' numbers, and each claim judged.

    ``results``: the step's run objects by run name; ``missing``: the runs not made,
    each with the sentence saying why. Shared by ``concviz lessons check`` and the window.
    """
    busy = max((float(r.get("machine_busy_cores") or 0.0) for r in results.values()), default=0.0)
    claims = []
    for claim in step.claims:
        needed = sorted(runs_named(claim.node))
        out: dict = {"step": k, "text": claim.text, "held": None, "evidence": ""}
        lacking = [missing[n] for n in needed if n in missing]
        no_core = constants.no_spare_core(constants_named(claim.node))
        if no_core and not lacking:
            lacking = [no_core]
        broken = [(n, _failed(results[n])) for n in needed if n in results and _failed(results[n])]
        if lacking:
            out["skipped"] = lacking[0]
        elif broken:
            n, why = broken[0]
            out["held"], out["evidence"] = False, f"run {n} failed: {why}"
        else:
            try:
                held, evidence = evaluate(claim.node, results, constants)
            except Missing as exc:
                out["held"], out["evidence"] = False, f"cannot be judged: {exc}"
            else:
                out["held"], out["evidence"] = held, "; ".join(evidence)
                if not held and busy > BUSY_CORES:
                    out["evidence"] += (
                        f" (other programs used {busy:.1f} cores meanwhile: the machine was "
                        "busy, run it again on a quiet one)"
                    )
        claims.append(out)
    return (fill(step.look, results, constants) if step.look else ""), claims


def check_step(
    lesson: Lesson,
    k: int,
    step: Step,
    driver: RunDriver,
    available: dict[str, str | None],
    constants: Constants,
) -> tuple[dict, list[dict]]:
    """Make step ``k``'s runs and judge its claims: (the step's report, its claims)."""
    results: dict[str, dict] = {}
    missing: dict[str, str] = {}
    made: list = []
    wanted = step.constants()
    constants.before(wanted)
    for name, start in step.runs.items():
        why = available.get(start.strategy, "this lab does not know it")
        if why:
            missing[name] = f"{start.strategy} is not available here: {why}"
            continue
        run = driver.run(start, name=f"{name} · {lesson.name} {k}")
        made.append(run)
        result = dict(run.result or {})
        lag = loop_lag_ms(run.store) if start.strategy == "asyncio" else None
        if lag is not None:
            result["loop_lag_ms"] = lag
        results[name] = result
        lab = driver.lab
        if lab is not None and (lab.proc is None or lab.proc.poll() is not None):
            lab.restart()  # the run ended its lab: the next run gets a fresh one
    constants.after(wanted)
    look, claims = judge(step, k, results, missing, constants)
    report = {
        "step": k,
        "title": step.title,
        "look": look,
        "runs": {
            n: {"strategy": step.runs[n].strategy, "wall_s": r.get("wall_s"), "ok": r.get("ok")}
            for n, r in results.items()
        },
        "skipped_runs": missing,
        "machine": dict(constants),
    }
    report["_runs"] = made  # the Run objects, for a recording (not printed)
    return report, claims


NO_FREE_THREADED = (
    "no free-threaded CPython (python3.13t or newer) was found here: install one, or "
    "set CONCVIZ_FT_PYTHON to its path"
)


def _check_elsewhere(
    lesson: Lesson, k: int, step: Step, constants: Constants
) -> tuple[dict, list[dict]]:
    """Step ``k``, whose runs need another Python (``step.interpreter``): made in a lab
    of their own under it, or, where none is found, skipped naming what is missing."""
    from .interpreters import find_free_threaded

    found = find_free_threaded()
    if found is None:
        missing = {name: NO_FREE_THREADED for name in step.runs}
        look, claims = judge(step, k, {}, missing, constants)
        report = {"step": k, "title": step.title, "look": look, "runs": {},
                  "skipped_runs": missing, "machine": dict(constants), "_runs": []}  # fmt: skip
        return report, claims
    lab = LabProcess(found["path"])
    lab.start()
    try:
        available = {s["name"]: s["reason"] for s in query(lab, "strategies")["items"]}
        driver = RunDriver(Session(), interpreter=found["path"], lab=lab, observe=True)
        return check_step(lesson, k, step, driver, available, constants)
    finally:
        lab.close()


def _save_runs(runs: list, path: Path) -> None:
    """Save ``runs`` (of the driver's session) as a session file of their own."""
    from concviz.interop.session_file import save_session

    kept = [(r.id, r.colour) for r in runs]
    own = Session()
    for run in runs:
        own.add_run(run)  # renumbers them: given back below
    try:
        save_session(own, path)
    finally:
        for run, (rid, colour) in zip(runs, kept, strict=True):
            run.id, run.colour = rid, colour


def check_lessons(
    lessons: list[Lesson],
    *,
    interpreter: str | None = None,
    constants: Constants | None = None,
    on_step: Callable[[Lesson, dict, list[dict]], None] | None = None,
    record: Path | None = None,
) -> dict:
    """Run every step of ``lessons`` and judge their claims: ``{"lessons": [...]}``.

    Each lesson is ``{"name", "title", "steps": [...], "claims": [{"step", "text",
    "held", "evidence"}]}``; a claim needing a strategy this lab lacks has ``held``
    None and ``skipped`` naming it. ``on_step`` hears each step as it ends.

    ``record``: a folder where each step whose claims all held (none skipped) saves
    its runs as ``recording_path``, the recordings a lesson offers when a machine
    cannot show its point; the step's report names the file (``recorded``).
    """
    constants = constants if constants is not None else Constants()
    lab = LabProcess(interpreter)
    lab.start()
    try:
        available = {s["name"]: s["reason"] for s in query(lab, "strategies")["items"]}
        # a fresh lab's first run pays for imports and caches: not one a claim reads
        run_batch(
            P.Start(workload="cpu-python", strategy="sequential", tasks=1, task_ms=1.0), lab=lab
        )
        driver = RunDriver(Session(), interpreter=interpreter, lab=lab, observe=True)
        out = []
        for lesson in lessons:
            steps, claims = [], []
            for k, step in enumerate(lesson.steps, start=1):
                if not step.runs:
                    continue
                if step.interpreter is not None:
                    report, judged = _check_elsewhere(lesson, k, step, constants)
                else:
                    report, judged = check_step(lesson, k, step, driver, available, constants)
                runs = report.pop("_runs")
                if record is not None and judged and all(c["held"] for c in judged):
                    path = recording_path(lesson.name, k, record)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _save_runs(runs, path)
                    report["recorded"] = str(path)
                shipped = recording(lesson.name, k)
                report["recording"] = str(shipped) if shipped is not None else None
                steps.append(report)
                claims.extend(judged)
                if on_step is not None:
                    on_step(lesson, report, judged)
            out.append(
                {"name": lesson.name, "title": lesson.title, "steps": steps, "claims": claims}
            )
    finally:
        lab.close()
    return {"lessons": out}
