"""A run's default name in the runs list, and a continuous run's once it has switched."""

from __future__ import annotations

from concviz.lab import protocol as P
from concviz.model.session import Session


def _switch(strategy: str, workers: int) -> dict:
    return {"kind": "switch", "t_ns": 1, "to": {"strategy": strategy, "workers": workers}}


def test_a_run_that_switched_is_named_for_its_path_unless_renamed():
    s = Session()
    spec = P.Start(workload="cpu-python", strategy="threads", workers=2, mode="continuous")
    run = s.new_run(spec)
    assert run.name == "#1 threads ×2 · cpu-python"
    s.finish(run, {"markers": [_switch("process-pool", 2)]})
    # the runs list named it for its first strategy alone, after process-pool took over
    assert run.name == "#1 threads ×2 → process-pool ×2 · cpu-python"
    many = s.new_run(spec)
    s.finish(many, {"markers": [_switch("thread-pool", 2), _switch("asyncio", 4),
                                _switch("sequential", 1)]})  # fmt: skip
    assert many.name == "#2 threads ×2 → … → sequential · cpu-python"
    named = s.new_run(spec)
    s.rename(named, "my run")
    s.finish(named, {"markers": [_switch("process-pool", 2)]})
    assert named.name == "my run"  # a name the user gave is theirs
    batch = s.new_run(P.Start(workload="io-sleep", strategy="asyncio", workers=8))
    s.finish(batch, {"markers": []})
    assert batch.name == "#4 asyncio ×8 · io-sleep"
