"""The packaged app's own Python: listed first, running its own lab; the bundle's size."""

from __future__ import annotations

import os
import sys

from concviz.bench.startup import bundle_bytes
from concviz.runtime import interpreters
from concviz.runtime.lab_process import lab_command
from concviz.runtime.parallelism import required_speedup


def test_a_packaged_app_lists_its_own_python_first_and_runs_it_as_its_lab(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(interpreters, "candidates", lambda extra=None: {})
    infos = interpreters.discover()
    own = infos[0]
    assert own["sources"] == ["this app"] and own["supported"], own
    assert own["strategies"]["sequential"] is None  # asked of the lab's registry itself
    assert lab_command(sys.executable) == [sys.executable, "--lab"]
    assert lab_command(None) == [sys.executable, "--lab"]


def test_a_python_from_source_runs_the_lab_as_a_module():
    assert lab_command(sys.executable)[1:] == ["-m", "concviz.lab"]


def test_bundle_size_counts_each_file_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.so").write_bytes(b"x" * 1000)
    os.link(tmp_path / "a.so", tmp_path / "sub" / "hard.so")
    os.symlink("a.so", tmp_path / "link.so")
    (tmp_path / "sub" / "b.txt").write_bytes(b"y" * 24)
    assert bundle_bytes(tmp_path) == 1024


def test_the_speedup_bar_is_a_share_of_the_spare_parallelism():
    assert required_speedup(2.0, 0.3) == 1.3
    assert abs(required_speedup(1.5, 0.3) - 1.15) < 1e-9
    assert required_speedup(1.2, 0.3) is None  # no spare core: nothing to judge against


def test_the_machines_parallelism_is_measured_by_two_real_burners():
    from concviz.runtime.parallelism import machine_parallelism

    p = machine_parallelism(seconds=0.1)
    assert 1.0 <= p <= 2.0, p


def test_the_packaged_apps_self_test_fails_when_a_promised_strategy_is_missing():
    from concviz.selftest import PROMISED, _speedups

    missing = {name: "its package is not installed" for name in PROMISED}
    items = _speedups(None, missing, required=True)  # nothing to run: no lab needed
    assert [i.name for i in items] == [f"speedup {n}" for n in PROMISED]
    assert not any(i.ok for i in items)
    assert all("missing from the app" in i.reason for i in items)
    # from source a missing one (interpreter-pool on 3.11) is skipped, with the reason
    assert all(i.ok and "skipped here" in i.reason for i in _speedups(None, missing, False))
