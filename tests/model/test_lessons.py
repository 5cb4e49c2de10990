"""Lesson files: parsing, and one sentence naming the file for each kind of bad one."""

from __future__ import annotations

import pytest

from concviz.model.lessons import BadLesson, load_lesson, parse_lesson

GOOD = """---
title: Sample
order: 5
summary: A sample lesson.
---

An introduction.

## Threads against sequential

Some text.

```python
print("a fence that is not a block stays text")
```

```experiment
workload: cpu-python
strategies: sequential, threads
workers: 2
tasks: 8
task-ms: 40
```

```look
threads {threads.wall_s:.1f} s
```

```claim
speedup(threads) < 1.3
```

## Knobs by name

More text.

```experiment
workload: shared-counter
strategy: threads
workers: 2
tasks: 4
task_ms: 20
run unsafe: sync=none
run locked: sync=lock, workers=3
```

## Words only

No experiment here.
"""


def test_a_good_lesson_parses():
    lesson = parse_lesson(GOOD, "sample")
    assert (lesson.title, lesson.order, lesson.summary) == ("Sample", 5, "A sample lesson.")
    assert lesson.intro == "An introduction."
    first, second, third = lesson.steps
    assert list(first.runs) == ["sequential", "threads"]
    assert first.runs["threads"].task_ms == 40.0 and first.runs["threads"].workers == 2
    assert "a fence that is not a block stays text" in first.text
    assert [c.text for c in first.claims] == ["speedup(threads) < 1.3"]
    assert first.look == "threads {threads.wall_s:.1f} s"
    assert second.runs["unsafe"].options == {"sync": "none"}
    assert second.runs["locked"].options == {"sync": "lock"}
    assert second.runs["locked"].workers == 3 and second.runs["unsafe"].workers == 2
    assert third.runs == {} and third.claims == ()
    assert lesson.header()["steps"] == 3


def _bad(text: str, tmp_path) -> str:
    path = tmp_path / "broken.md"
    path.write_text(text)
    with pytest.raises(BadLesson) as info:
        load_lesson(path)
    message = str(info.value)
    assert message.startswith("broken.md") and "\n" not in message
    return message


@pytest.mark.parametrize(
    "change, words",
    [
        (("title: Sample\n", ""), "lacks title"),
        (("order: 5", "order: soon"), "order must be a whole number"),
        (("---\ntitle", "title"), "front matter"),
        (("task-ms: 40", "task_ms: 40\ncolour: red"), "no key 'colour'"),
        (("task-ms: 40", "task_ms: lots"), "task_ms must be a number"),
        (("workers: 2\ntasks: 8", "workers: 0\ntasks: 8"), "workers"),
        (("speedup(threads) < 1.3", "speedup(asyncio) < 1.3"), "reads run asyncio"),
        (("speedup(threads) < 1.3", "import os"), "claim 'import os'"),
        (("{threads.wall_s:.1f}", "{threads.wall_s:!r}"), "look block"),
        (("No experiment here.", ""), "has no text"),
        (("run locked: sync=lock, workers=3", "run locked: sync=lock, colour=3"), "no key"),
        (("strategy: threads\n", "strategy: threads\nview: gantt\n"), "view 'gantt' is not"),
        # a sweep's runs differ in their worker count only
        (
            ("strategy: threads\n", "strategy: threads\nview: sweep\n"),
            "run locked differs in more",
        ),
        (
            (
                "strategies: sequential, threads",
                "strategies: sequential, threads\nrun x: sync=none",
            ),
            "not both",
        ),
    ],
)
def test_a_bad_lesson_is_one_sentence_naming_the_file(change, words, tmp_path):
    old, new = change
    assert old in GOOD
    assert words in _bad(GOOD.replace(old, new, 1), tmp_path)


def test_no_steps_and_unreadable(tmp_path):
    assert "no steps" in _bad(GOOD.split("## ")[0], tmp_path)
    missing = tmp_path / "gone.md"
    with pytest.raises(BadLesson, match="gone.md cannot be read"):
        load_lesson(missing)


def test_a_sweep_step_names_its_view():
    sweep = GOOD.replace("strategy: threads\n", "strategy: threads\nview: sweep\n", 1).replace(
        "run locked: sync=lock, workers=3", "run locked: sync=none, workers=3"
    )
    step = parse_lesson(sweep, "sample").steps[1]
    assert step.view == "sweep" and [s.workers for s in step.runs.values()] == [2, 3]
    assert parse_lesson(GOOD, "sample").steps[1].view is None


def test_a_step_can_open_the_timeline_on_its_tasks():
    tasks = GOOD.replace("strategy: threads\n", "strategy: threads\nview: tasks\n", 1)
    assert parse_lesson(tasks, "sample").steps[1].view == "tasks"
    bad = GOOD.replace("strategy: threads\n", "strategy: threads\nview: everything\n", 1)
    with pytest.raises(BadLesson, match="everything"):
        parse_lesson(bad, "sample")
