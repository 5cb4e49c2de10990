"""Engine hints fit how the lab was started: packaged app, source checkout, any Python."""

from __future__ import annotations

import sys

from concviz.lab.engines import common


def test_a_packaged_app_never_offers_its_own_executable_to_pip(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    for extra in ("joblib", "dask", "spark", "mpi"):
        hint = common.install_hint(extra)
        assert "-m pip" not in hint and sys.executable not in hint, hint
        assert f"pip install 'concviz[{extra}]' into a Python you own" in hint, hint
        assert "Choose the lab's Python" in hint, hint
    assert common.install_hint("spark").startswith("run the lab under a Python that has pyspark")
    assert common.install_hint("mpi").startswith("run the lab under a Python that has mpi4py")


def test_a_packaged_app_says_why_spark_and_mpi_are_not_inside(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    why = common.missing_module("no_such_module_for_concviz", extra="spark")
    assert "Java 17" in why and common.MISSING_PACKAGE in why, why
    why = common.missing_module("no_such_module_for_concviz", extra="mpi")
    assert "MPI runtime" in why, why


def test_the_checkouts_own_environment_is_told_to_use_uv(monkeypatch):
    monkeypatch.setattr(common, "_checkout_venv", lambda: True)
    assert common.install_hint("dask").startswith("uv sync --extra dask"), common.install_hint(
        "dask"
    )


def test_any_other_python_gets_pip_for_itself(monkeypatch):
    monkeypatch.setattr(common, "_checkout_venv", lambda: False)
    hint = common.install_hint("mpi")
    assert hint.startswith("pip install 'concviz[mpi]'") and "-m pip install mpi4py" in hint
