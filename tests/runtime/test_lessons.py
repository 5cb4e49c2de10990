"""The shipped lessons: each parses and asks only for runs the lab would accept."""

from __future__ import annotations

import pytest

from concviz.lab import protocol as P
from concviz.lab.strategies import REGISTRY
from concviz.lab.workloads import WORKLOADS
from concviz.model.lessons import BadLesson, load_lessons, validate
from concviz.runtime.lessons import lessons_dir, load_checked, start_problem

# What issue 25's first step ships (file stems): each must stay.
SHIPPED = {
    "concurrency-vs-parallelism",
    "io-vs-cpu",
    "gil",
    "overhead",
    "amdahl",
    "race-conditions",
    "producer-consumer",
    "deadlock",
    "critical-path",
    "gui-freeze",
    "pools",
    "dask",
}


def test_every_shipped_lesson_parses_and_names_only_what_exists():
    lessons = load_checked()
    assert SHIPPED <= {lesson.name for lesson in lessons}
    orders = [lesson.order for lesson in lessons]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for lesson in lessons:
        runs = [s for step in lesson.steps for s in step.runs.values()]
        assert runs and any(step.claims for step in lesson.steps), lesson.name
        for start in runs:
            assert start.workload in WORKLOADS and start.strategy in REGISTRY
            assert start_problem(start) is None


def test_the_lab_checks_refuse_what_it_would_refuse():
    ok = P.Start(workload="shared-counter", strategy="threads", workers=2, tasks=4)
    assert start_problem(ok) is None
    assert "unknown strategy" in start_problem(P.Start(workload="cpu-python", strategy="warp"))
    assert "unknown workload" in start_problem(P.Start(workload="nope", strategy="threads"))
    knob = P.Start(workload="cpu-python", strategy="threads", options={"sync": "lock"})
    assert "shared-counter" in start_problem(knob)
    graph = P.Start(workload="map-reduce", strategy="threads", tasks=8)
    assert "odd number" in start_problem(graph)


def test_a_lesson_the_lab_would_refuse_names_its_file_and_run(tmp_path):
    text = (lessons_dir() / "race-conditions.md").read_text()
    (tmp_path / "warp.md").write_text(text.replace("strategy: threads", "strategy: warp"))
    (lesson,) = load_lessons(tmp_path)
    with pytest.raises(BadLesson, match=r"^warp\.md, step 1 .*run unsafe: unknown strategy 'warp'"):
        validate(lesson, start_problem)


def test_a_packaged_app_reads_the_lessons_from_its_bundle(tmp_path, monkeypatch):
    import shutil
    import sys

    # build.spec copies the whole resources folder to the bundle's resources/
    shutil.copytree(lessons_dir(), tmp_path / "resources" / "lessons")
    (tmp_path / "resources" / "lessons" / "gil.md").unlink()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert lessons_dir() == tmp_path / "resources" / "lessons"
    names = {lesson.name for lesson in load_checked()}
    assert "deadlock" in names and "gil" not in names


def test_a_speedup_claim_is_judged_against_the_machine_measured_alongside():
    """overhead's second step for real: 16 tasks of 100 ms (1.6 s of work) sequential and
    in a 2-process pool, the bar a share of what two busy processes get right now."""
    import dataclasses

    from concviz.runtime.lessons import Constants, check_lessons
    from tests.parallelism import machine_parallelism

    (lesson,) = [x for x in load_checked() if x.name == "overhead"]
    big = dataclasses.replace(lesson, steps=lesson.steps[1:])
    assert (
        big.steps[0].runs["process-pool"].tasks * big.steps[0].runs["process-pool"].task_ms >= 300
    )
    # A second try when the claim fails: a neighbour on this VM's two cores can take one
    # of them during the 2.5 s of runs without showing in the measurements around them
    # (read once: 1.29x where the machine gave 1.9 cores before and after)
    for _attempt in range(2):
        seen: list[float] = []

        def measured(seen=seen) -> float:
            seen.append(machine_parallelism())
            return seen[-1]

        (report,) = check_lessons([big], constants=Constants(measured))["lessons"]
        (claim,) = report["claims"]
        if claim["held"] is not False:
            break
    if claim["held"] is None:
        # skipped only when a measurement found no free core: before the runs (then
        # none is made after), or after them (the bar is read from the lower one)
        assert min(seen) < 1.3 and (len(seen) == 2 or seen[0] < 1.3), seen
        assert "parallelism" in claim["skipped"]
        pytest.skip(claim["skipped"])
    assert len(seen) == 2  # before and after the step's runs
    assert claim["held"], claim["evidence"]
    # the bar is read from the lower of the two measurements
    assert f"(machine_parallelism - 1) = {1 + 0.5 * (min(seen) - 1):.3g}" in claim["evidence"]


def test_judging_skips_what_is_missing_and_names_a_busy_machine():
    """``judge`` on hand-made run objects: the gil lesson's first step on a 3.11 lab."""
    from concviz.runtime.lessons import Constants, judge

    (gil,) = [x for x in load_checked() if x.name == "gil"]
    step = gil.steps[0]
    results = {
        "sequential": {"ok": True, "wall_s": 0.8, "machine_busy_cores": 0.0},
        "threads": {"ok": True, "wall_s": 0.78, "parallelism": 0.99, "machine_busy_cores": 0.0},
        "process-pool": {"ok": True, "wall_s": 0.7, "machine_busy_cores": 1.5},
    }
    missing = {"interpreter-pool": "interpreter-pool is not available here: needs 3.12"}
    constants = Constants(lambda: 1.9)
    constants.before(step.constants())
    look, claims = judge(step, 1, results, missing, constants)
    one_at_a_time, threads, pool, subinterpreters = claims
    assert one_at_a_time["held"] is True
    assert threads["held"] is True and threads["evidence"] == "speedup(threads) = 1.03 < 1.3"
    # 0.8 / 0.7 = 1.14 is below 1 + 0.5 * 0.9 = 1.45: failed, and the busy machine named
    assert pool["held"] is False and "= 1.45" in pool["evidence"]
    assert "other programs used 1.5 cores" in pool["evidence"]
    assert subinterpreters["held"] is None and "needs 3.12" in subinterpreters["skipped"]
    assert "Two threads 0.78 s (1.03×)" in look and "subinterpreters" not in look
    # no free core: a claim read against it is skipped, the others still judged
    idle = Constants(lambda: 1.1)
    idle.before(step.constants())
    _, claims = judge(step, 1, results, {}, idle)
    assert claims[1]["held"] is True
    assert claims[2]["held"] is None and "free second core" in claims[2]["skipped"]
    # a run that failed for another reason than the lesson's point cannot testify
    broken = {**results, "threads": {"ok": False, "error": "the lab died", "wall_s": 0.1}}
    _, claims = judge(step, 1, broken, missing, constants)
    assert (
        claims[0]["held"] is False and claims[0]["evidence"] == "run threads failed: the lab died"
    )


FREE_THREADED_LESSON = """---
title: No GIL
order: 1
summary: threads at once
---

## Two threads

Text.

```experiment
interpreter: free-threaded
workload: cpu-python
strategies: sequential, threads
workers: 2
tasks: 4
task_ms: 20
```

```claim
threads.tasks_ok == 4
```
"""


def test_a_step_on_a_free_threaded_python_parses_and_names_only_that_kind():
    from concviz.model.lessons import parse_lesson

    (step,) = parse_lesson(FREE_THREADED_LESSON, "ft").steps
    assert step.interpreter == "free-threaded" and list(step.runs) == ["sequential", "threads"]
    (gil_step,) = [s for s in load_checked() if s.name == "gil"][0].steps[2:]
    assert gil_step.interpreter == "free-threaded"
    bad = FREE_THREADED_LESSON.replace("interpreter: free-threaded", "interpreter: pypy")
    with pytest.raises(BadLesson, match=r"^lesson ft, step 1 .*interpreter 'pypy' is not one"):
        parse_lesson(bad, "ft")


def test_a_free_threaded_step_runs_in_a_lab_of_its_own_or_is_skipped_naming_why(monkeypatch):
    """Where no free-threaded Python is found, the step's claims are skipped, named;
    where one is, its runs are made in a lab under it (here another Python stands in
    for it: none can be had on this machine), not in the lab of the other steps."""
    import glob
    import os

    from concviz.model.lessons import parse_lesson
    from concviz.runtime import interpreters
    from concviz.runtime.lessons import NO_FREE_THREADED, check_lessons

    lesson = parse_lesson(FREE_THREADED_LESSON, "ft")
    monkeypatch.setattr(interpreters, "find_free_threaded", lambda extra=None: None)
    (report,) = check_lessons([lesson])["lessons"]
    assert [c["held"] for c in report["claims"]] == [None]
    assert report["claims"][0]["skipped"] == NO_FREE_THREADED

    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    other = sorted(glob.glob(os.path.join(root, "versions", "3.12.*", "bin", "python3.12")))
    if not other:
        pytest.skip("a second Python (pyenv's 3.12) is missing to stand in for a free-threaded one")
    monkeypatch.setattr(interpreters, "find_free_threaded", lambda extra=None: {"path": other[-1]})
    seen: list[str] = []
    from concviz.runtime import lessons as rl

    real = rl.check_step

    def check_step(lesson, k, step, driver, available, constants):
        seen.append(driver.lab.hello["interpreter"]["version"])
        return real(lesson, k, step, driver, available, constants)

    monkeypatch.setattr(rl, "check_step", check_step)
    (report,) = check_lessons([lesson])["lessons"]
    assert seen and seen[0].startswith("3.12"), seen
    assert [c["held"] for c in report["claims"]] == [True], report["claims"]
