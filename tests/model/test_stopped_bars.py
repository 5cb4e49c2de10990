"""Tasks a stop cut short, or that never ended before their run did, are *stopped* bars."""

from __future__ import annotations

from concviz.lab import protocol as P
from concviz.model import BAR_ERROR, BAR_STOPPED, BAR_TASK, EventStore, run_object


def _rec(kind, worker, task, t, t0=0, cpu=0, tid=11):
    return (kind, 0, worker, task, 100, tid + worker, t, cpu, t0)


def _store() -> EventStore:
    s = EventStore()
    s.add_json({"type": "hello", "pid": 100, "interpreter": {"version": "3.11.0"}})
    s.add_json(
        {
            "type": "run_started",
            "t_ns": 1_000,
            "strategy": "threads",
            "workers": 3,
            "workload": "user",
            "tasks": 4,
            "task_ms": 10.0,
        }
    )
    return s


def test_open_tasks_become_stopped_bars_when_the_run_finishes():
    s = _store()
    s.add_frame(
        P.FRAME_EVENTS,
        P.pack_records(
            [
                _rec(P.EV_START, 0, 0, 2_000),  # never ends: stuck in its thread
                _rec(P.EV_START, 1, 1, 2_100),
                _rec(P.EV_END, 1, 1, 3_000, 2_100, 800),
                _rec(P.EV_START, 2, 2, 2_200),
                _rec(P.EV_ERROR, 2, 2, 2_900, 2_200, 500),
                _rec(P.EV_START, 1, 3, 3_100),
                _rec(P.EV_STOPPED, 1, 3, 3_500, 3_100, 300),  # noticed the stop itself
            ]
        ),
    )
    assert [task for _, task, _ in s.open_bars()] == [0]
    s.add_json(
        {"type": "run_finished", "t_ns": 4_000, "wall_ns": 3_000, "ok": True, "stopped": True}
    )
    assert s.open_bars() == []
    b = s.bars()
    kinds = dict(zip(b["task"].tolist(), b["kind"].tolist(), strict=True))
    assert kinds == {0: BAR_STOPPED, 1: BAR_TASK, 2: BAR_ERROR, 3: BAR_STOPPED}
    stuck = b["task"] == 0
    assert b["start"][stuck][0] == 2_000 and b["end"][stuck][0] == 4_000  # ends with the run
    tasks = {t["id"]: t for t in run_object(s)["tasks"]}
    assert tasks[0]["stopped"] and not tasks[0]["ok"] and tasks[0]["error"] is None
    assert tasks[3]["stopped"] and tasks[3]["error"] is None
    assert tasks[1]["ok"] and not tasks[1]["stopped"]
    assert not tasks[2]["ok"] and not tasks[2]["stopped"] and tasks[2]["error"] == "failed"


def test_a_finished_run_with_nothing_open_adds_no_bar():
    s = _store()
    s.add_frame(
        P.FRAME_EVENTS,
        P.pack_records([_rec(P.EV_START, 0, 0, 2_000), _rec(P.EV_END, 0, 0, 3_000, 2_000)]),
    )
    s.add_json({"type": "run_finished", "t_ns": 4_000, "wall_ns": 3_000, "ok": True})
    assert s.bars()["kind"].tolist() == [BAR_TASK]
