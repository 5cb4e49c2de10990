"""The critical path against hand-computed graphs."""

from __future__ import annotations

import pytest

from concviz.model.critical_path import critical_path


def test_a_diamond_takes_its_heavier_side():
    #     0 (1 s)
    #    /        \
    #  1 (5 s)   2 (2 s)
    #    \        /
    #     3 (1 s)
    # paths: 0-1-3 = 7 s, 0-2-3 = 4 s
    durations = {0: 1.0, 1: 5.0, 2: 2.0, 3: 1.0}
    deps = {1: [0], 2: [0], 3: [1, 2]}
    assert critical_path(durations, deps) == (7.0, [0, 1, 3])


def test_a_tree_reduction_of_four_leaves():
    # leaves 0..3 of 1, 1, 4, 1 s; 4 = 0+1 (2 s), 5 = 2+3 (1 s), 6 = 4+5 (3 s)
    # longest: 2 -> 5 -> 6 = 4 + 1 + 3 = 8 s (0 -> 4 -> 6 is only 6 s)
    durations = {0: 1.0, 1: 1.0, 2: 4.0, 3: 1.0, 4: 2.0, 5: 1.0, 6: 3.0}
    deps = {4: [0, 1], 5: [2, 3], 6: [4, 5]}
    assert critical_path(durations, deps) == (8.0, [2, 5, 6])


def test_independent_tasks_have_the_longest_as_their_path():
    assert critical_path({0: 1.0, 1: 3.0, 2: 2.0}, {}) == (3.0, [1])
    assert critical_path({}, {}) == (0.0, [])


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        critical_path({0: 1.0, 1: 1.0}, {0: [1], 1: [0]})


def test_the_wall_beside_the_critical_path_leaves_out_start_up_and_teardown():
    from concviz.model.run_result import task_wall_ns

    started, finished = {"t_ns": 1_000}, {"t_ns": 11_000, "wall_ns": 10_000}
    phases = [
        {"kind": "startup", "t0_ns": 500, "t_ns": 4_000},  # 3,000 of it inside the run
        {"kind": "teardown", "t0_ns": 10_000, "t_ns": 12_000},  # 1,000 inside
        {"kind": "startup", "t0_ns": 5_000, "t_ns": None},  # never ended: not counted
        {"kind": "other", "t0_ns": 1_000, "t_ns": 2_000},
    ]
    assert task_wall_ns(started, finished, phases) == 10_000 - 3_000 - 1_000
