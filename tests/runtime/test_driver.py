"""The run driver: specs run in order, each kept as a run of the session."""

from __future__ import annotations

import threading

import pytest

from concviz.lab import protocol as P
from concviz.model.session import Session
from concviz.runtime import LabProcess
from concviz.runtime.driver import RunDriver
from concviz.runtime.headless import BadInput


def _spec(strategy: str, **kw) -> P.Start:
    return P.Start(workload="cpu-python", strategy=strategy, workers=2, tasks=4, task_ms=20, **kw)


@pytest.fixture(scope="module")
def lab():
    lab = LabProcess()
    lab.start()
    yield lab
    lab.close()


def test_each_spec_becomes_a_finished_run_and_the_sequential_one_is_the_baseline(lab):
    session = Session()
    events = []
    session.listen(lambda event, run: events.append((event, run.strategy if run else None)))
    started = []
    runs = RunDriver(session, lab=lab).run_all(
        [_spec("sequential"), _spec("threads")], on_started=lambda i, run: started.append(i)
    )
    assert [r.strategy for r in runs] == ["sequential", "threads"]
    assert started == [0, 1]
    assert events == [
        ("added", "sequential"),
        ("finished", "sequential"),
        ("added", "threads"),
        ("finished", "threads"),
    ]
    seq, threads = session.runs
    assert all(len(r.result["tasks"]) == 4 for r in session.runs)
    assert session.baseline_for(threads) is seq
    speedup, _ = session.speedup(threads)
    assert speedup == pytest.approx(seq.wall_s / threads.wall_s)


def test_a_refused_spec_raises_one_sentence_and_keeps_no_run(lab):
    session = Session()
    with pytest.raises(BadInput):
        RunDriver(session, lab=lab).run({"workload": "cpu-python", "strategy": "no-such"})
    assert session.runs == []


def test_stop_ends_the_run_going_on_and_starts_no_other(lab):
    session = Session()
    driver = RunDriver(session, lab=lab)
    first_started = threading.Event()
    session.listen(lambda event, run: first_started.set() if event == "added" else None)
    long = P.Start(workload="io-sleep", strategy="threads", workers=2, tasks=400, task_ms=50)
    out = []
    t = threading.Thread(target=lambda: out.extend(driver.run_all([long, _spec("threads")])))
    t.start()
    assert first_started.wait(10)
    while not session.runs[0].store.bar_count:  # the run is under way
        threading.Event().wait(0.02)
    driver.stop()
    t.join(20)
    assert not t.is_alive()
    assert [r.strategy for r in out] == ["threads"] and len(session.runs) == 1
    assert session.runs[0].result["stopped"]
    assert len(session.runs[0].result["tasks"]) < 400


def test_a_lab_launched_ahead_runs_the_next_run_and_one_for_another_python_is_closed():
    """The CLI launches its first run's lab before its own imports: the run takes that
    lab, which booted meanwhile; a run asking for another interpreter closes it."""
    session = Session()
    driver = RunDriver(session)
    ahead = LabProcess()
    ahead.launch()  # the process only: no handshake read yet
    assert ahead.hello is None and ahead.proc.poll() is None
    driver.launch_ahead(ahead)
    seen: list[int] = []
    run = driver.run(_spec("threads"), on_lab=lambda _run, lab: seen.append(lab.pid))
    assert seen == [ahead.pid] and ahead.hello is not None
    assert len(run.result["tasks"]) == 4
    assert ahead.proc.poll() is not None  # a lab of the run's own is closed after it

    other = LabProcess()
    other.launch()
    driver.launch_ahead(other, interpreter="/somewhere/else/python3")
    seen.clear()
    driver.run(_spec("threads"), on_lab=lambda _run, lab: seen.append(lab.pid))
    assert seen and seen != [other.pid]
    assert other.proc.poll() is not None  # closed, not left to boot for nothing
