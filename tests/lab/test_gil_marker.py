"""The lab marks the moment the GIL turns on or off (free-threaded builds)."""

from __future__ import annotations

import sys

from concviz.lab import gil_probe
from concviz.lab.recorder import Recorder


def test_a_flip_of_is_gil_enabled_sends_one_marker(monkeypatch):
    state = {"on": False}
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: state["on"], raising=False)
    monkeypatch.setattr(gil_probe, "_reported_gil", False)
    sent: list[dict] = []
    rec = Recorder(lambda payload: None)
    probe = gil_probe.GilProbe(rec, sent.append)
    probe.check_gil()
    assert sent == []  # no change, no marker
    state["on"] = True  # what an import of a non-free-threaded extension does
    probe.check_gil()
    probe.check_gil()
    assert len(sent) == 1
    m = sent[0]
    assert m["type"] == "marker" and m["kind"] == "gil_enabled" and m["enabled"] is True
    assert isinstance(m["t_ns"], int)


def test_a_build_with_the_gil_never_sends_one(monkeypatch):
    monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    monkeypatch.setattr(gil_probe, "_reported_gil", True)
    sent: list[dict] = []
    gil_probe.GilProbe(Recorder(lambda payload: None), sent.append).check_gil()
    assert sent == []
