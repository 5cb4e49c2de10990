"""``concviz run --continuous --duration S --switch-at T:STRATEGY``: segments, headless."""

from __future__ import annotations

import pytest


def test_a_continuous_run_with_a_switch_writes_its_segments(run_cli):
    done, run = run_cli(
        "--continuous", "--duration", "1.2", "--switch-at", "0.6:sequential",
        "--workers-at", "0.6:1", "-w", "io-sleep", "--task-ms", "5", "-n", "2",
    )  # fmt: skip
    segs = run["segments"]
    assert [(s["strategy"], s["workers"]) for s in segs] == [("threads", 2), ("sequential", 1)]
    for s in segs:
        assert set(s) >= {"strategy", "workers", "start_s", "end_s", "tasks", "tasks_per_s",
                          "parallelism", "speedup_vs_first"}  # fmt: skip
        assert s["tasks"] > 0
    # two sleeping threads against one: about twice the tasks per second
    assert segs[0]["tasks_per_s"] > 1.4 * segs[1]["tasks_per_s"]
    assert segs[1]["speedup_vs_first"] < 0.75
    assert "segments:" in done.stdout and "sequential" in done.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--continuous"], "needs --duration"),
        (["--duration", "2"], "need --continuous"),
        (["--continuous", "--duration", "2", "--switch-at", "3:threads"], "after the run's end"),
        (["--continuous", "--duration", "2", "--switch-at", "1:nope"], "unknown strategy"),
        (["--continuous", "--duration", "2", "--workers-at", "1:x"], "not a whole number"),
        (["--continuous", "--duration", "-1"], "positive"),
    ],
)
def test_bad_continuous_flags_are_one_sentence_and_exit_2(args, words, capsys):
    from concviz.cli import main

    assert main(["run", *args]) == 2  # refused before any lab starts
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
