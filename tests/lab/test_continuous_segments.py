"""A headless continuous run with a timed switch: its segments agree with batch runs."""

from __future__ import annotations

import pytest
from parallelism import machine_parallelism, required_speedup

from concviz.lab import protocol as P
from concviz.model import run_object
from concviz.runtime.continuous import BadScript, parse_script
from concviz.runtime.headless import run_batch

TASK_MS = 5.0
SEGMENT_S = 1.2


def _batch_rate(lab, strategy: str, tasks: int) -> float:
    store = run_batch(
        P.Start(workload="cpu-python", strategy=strategy, workers=2, tasks=tasks, task_ms=TASK_MS),
        lab=lab,
    )
    run = run_object(store)
    assert run["ok"] and len(run["tasks"]) == tasks
    return tasks / run["wall_s"]


@pytest.mark.slow
def test_segment_rates_agree_with_batch_runs_of_each_strategy(lab):
    # The batch runs come just before the continuous run, so the machine gives both
    # the same cores: their rates compare as they are (dividing each by a parallelism
    # measured apart added that measurement's own noise: 157 against 129 ± 19 per core).
    # One retry: another program waking on a 2-core machine during the 1.2 s segment
    # (and not during the batch run) halves it. The threads' batch rate is read before
    # and after the continuous run: this VM's one core drifted from 135 to 180 tasks/s
    # within seconds (CI), and the segment is judged against both readings.
    for _attempt in range(2):
        p_before = machine_parallelism()
        required_speedup(p_before, 0.5)  # skips when no second core is free to judge
        threads = _batch_rate(lab, "threads", 120)
        pool = _batch_rate(lab, "process-pool", 240)
        script = parse_script(2 * SEGMENT_S, [f"{SEGMENT_S}:process-pool"])
        store = run_batch(
            P.Start(workload="cpu-python", strategy="threads", workers=2, task_ms=TASK_MS,
                    mode="continuous"),
            lab=lab,
            script=script,
        )  # fmt: skip
        threads_after = _batch_rate(lab, "threads", 120)
        p_after = machine_parallelism()
        run = run_object(store)
        segs = run["segments"]
        required_speedup(p_after, 0.5)  # a second core was still free after the runs
        lo, hi = 0.8 * min(threads, threads_after), 1.2 * max(threads, threads_after)
        agree = 0.75 * pool <= segs[1]["tasks_per_s"] <= 1.5 * pool
        if agree and lo <= segs[0]["tasks_per_s"] <= hi:
            break
    assert [(s["strategy"], s["workers"]) for s in segs] == [("threads", 2), ("process-pool", 2)]
    assert [m["to"]["strategy"] for m in run["markers"] if m["kind"] == "switch"] == [
        "process-pool"
    ]
    # GIL-bound threads do one core's work whatever the machine gives: within 20 % of
    # the batch runs either side (this VM's core drifts: 154 to 199 tasks/s between
    # runs a second apart); a segment timed wrong would read half or double
    assert lo <= segs[0]["tasks_per_s"] <= hi, (segs[0], threads, threads_after)
    # the pool's rate, on the cores the machine gave both runs: a batch run's rate of
    # 0.6 s includes its ramp-up and its last tasks' stair-step, a segment's not, so
    # the segment reads up to a third faster (CI: 460 against 369, 544 against 423);
    # a segment timed wrong would be off by half or double
    assert 0.75 * pool <= segs[1]["tasks_per_s"] <= 1.5 * pool, (segs[1], pool)
    assert segs[1]["speedup_vs_first"] == pytest.approx(
        segs[1]["tasks_per_s"] / segs[0]["tasks_per_s"], rel=1e-3
    )
    assert segs[0]["end_s"] == segs[1]["start_s"]
    assert abs(segs[0]["end_s"] - SEGMENT_S) < 0.3  # the switch came when it was asked for


def test_a_bad_switch_script_is_one_sentence():
    with pytest.raises(BadScript, match="after the run's end"):
        parse_script(5, ["6:threads"])
    with pytest.raises(BadScript, match="unknown strategy 'nope'"):
        parse_script(5, ["1:nope"], strategies=["threads"])
    with pytest.raises(BadScript, match="TIME:VALUE"):
        parse_script(5, ["threads"])
    with pytest.raises(BadScript, match="positive"):
        parse_script(5, ["-1:threads"])
    with pytest.raises(BadScript, match="workers"):
        parse_script(5, workers_at=["1:0"])
    with pytest.raises(BadScript, match="two different values at 1 s"):
        parse_script(5, ["1:threads,1:sequential"])
    with pytest.raises(BadScript, match="--duration"):
        parse_script(float("nan"))
    # changes at the same moment are one switch; the stop comes last
    script = parse_script(4, ["2:process-pool"], ["2:3"], ["3:1.5"])
    assert [(t, type(m).__name__) for t, m in script] == [
        (2, "Switch"),
        (3, "Switch"),
        (4, "Stop"),
    ]
    assert (script[0][1].strategy, script[0][1].workers, script[1][1].task_ms) == (
        "process-pool",
        3,
        1.5,
    )
