"""The claim language: hand-computed cases, and refusal of anything else (no eval)."""

from __future__ import annotations

import pytest

from concviz.model.lesson_claims import (
    BadClaim,
    Missing,
    evaluate,
    fill,
    parse_claim,
    parse_template,
    parse_value,
    runs_named,
    value,
)

RUNS = {
    "sequential": {"wall_s": 2.0, "cpu_s": 2.0, "ok": True},
    "threads": {"wall_s": 1.6, "cpu_s": 2.1, "ok": True},
    "process-pool": {"wall_s": 1.0, "cpu_s": 2.0, "ok": True},
    "unsafe": {"counter": {"lost_updates": 799, "expected": 1600}, "deadlock": None},
    "stuck": {
        "deadlock": {"cycle": []},
        "waits": [{"kind": "lock", "total_s": 0.25}, {"kind": "queue", "total_s": 0.5}],
    },
}
CONST = {"machine_parallelism": 1.8, "cores": 2.0}


def held(text: str) -> bool:
    return evaluate(parse_claim(text), RUNS, CONST)[0]


def test_speedup_and_arithmetic_hand_computed():
    assert value(parse_value("speedup(threads)"), RUNS, CONST) == pytest.approx(2.0 / 1.6)
    assert value(parse_value("speedup(threads, process-pool)"), RUNS, CONST) == pytest.approx(
        1.0 / 1.6
    )
    # 1 + 0.5 * (1.8 - 1) = 1.4; process-pool's speedup is 2.0
    assert value(parse_value("1 + 0.5 * (machine_parallelism - 1)"), RUNS, CONST) == (
        pytest.approx(1.4)
    )
    assert value(parse_value("-2 * 3 + 8 / 4 - 1"), RUNS, CONST) == pytest.approx(-5.0)
    assert value(parse_value("max(1, cores) + min(3, abs(-4))"), RUNS, CONST) == 5.0
    assert held("speedup(process-pool) > 1 + 0.5 * (machine_parallelism - 1)")
    assert held("speedup(threads) < 1.3")
    assert not held("speedup(threads) >= 1.3")


def test_fields_logic_and_evidence():
    assert value(parse_value("unsafe.lost_updates"), RUNS, CONST) == 799
    assert value(parse_value("unsafe.expected_updates"), RUNS, CONST) == 1600
    assert value(parse_value("stuck.deadlocked + unsafe.deadlocked"), RUNS, CONST) == 1
    assert value(parse_value("stuck.wait_s"), RUNS, CONST) == 0.75
    assert value(parse_value("stuck.queue_wait_s"), RUNS, CONST) == 0.5
    assert held("unsafe.lost_updates > 0 and stuck.deadlocked == 1")
    assert held("unsafe.lost_updates == 0 or not stuck.deadlocked == 0")
    assert not held("unsafe.lost_updates > 0 and stuck.deadlocked == 0")
    ok, evidence = evaluate(parse_claim("speedup(threads) < 1.3"), RUNS, CONST)
    assert ok and evidence == ["speedup(threads) = 1.25 < 1.3"]
    # a name with hyphens is one name; a minus between names needs its spaces
    assert runs_named(parse_claim("speedup(process-pool) > 1")) == {"process-pool", "sequential"}
    assert value(parse_value("process-pool.wall_s - threads.wall_s"), RUNS, CONST) == (
        pytest.approx(-0.6)
    )


def test_missing_values_are_missing_not_errors():
    with pytest.raises(Missing):
        value(parse_value("speedup(interpreter-pool)"), RUNS, CONST)
    with pytest.raises(Missing):
        value(parse_value("threads.lost_updates"), RUNS, CONST)
    with pytest.raises(Missing):
        value(parse_value("machine_parallelism"), RUNS, {})


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true') > 0",
        "threads.__class__ > 0",
        "threads.wall_s > 0; 1",
        "open('x') > 1",
        "speedup(1) > 1",
        "speedup(threads) > 1 > 0",
        "threads.wall_s",  # a number, not a claim
        "threads.wall_s > 1 and 2",
        "threads.nonsense > 1",
        "lambda: 1 > 0",
        "threads.wall_s ** 2 > 1",
        "x > 1",
        "min(1) > 0",
        "",
        "(threads.wall_s > 1",
        "'a' > 1",
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(BadClaim):
        parse_claim(text)


def test_templates_quote_values_and_drop_lines_that_cannot_be_filled():
    text = "threads took {threads.wall_s:.1f} s, sequential {sequential.wall_s:.1f} s {{x}}"
    assert fill(text, RUNS, CONST) == "threads took 1.6 s, sequential 2.0 s {x}"
    two = "lost {unsafe.lost_updates:,.0f}\nsubinterpreters {speedup(interpreter-pool):.2f}×"
    assert fill(two, RUNS, CONST) == "lost 799"
    for bad in ("{threads.wall_s:!r}", "{threads.wall_s > 1}", "{threads.wall_s", "x }"):
        with pytest.raises(BadClaim):
            parse_template(bad)
