"""Fixtures for the lab's tests (no Qt): a lab session that is always closed."""

from __future__ import annotations

import labkit
import pytest
from labkit import Session


@pytest.fixture(scope="module")
def lab():
    """One lab for a module's runs (``run_batch(..., lab=lab)``), closed after it."""
    from concviz.runtime import LabProcess

    lab = LabProcess()
    lab.start()
    yield lab
    lab.close()


@pytest.fixture(scope="module")
def shared_labs():
    """``labkit.run`` reuses one lab per interpreter for the module's runs (opt in with
    ``pytestmark = pytest.mark.usefixtures("shared_labs")``); closed after the module."""
    labkit.share_labs()
    yield
    labkit.close_shared_labs()


@pytest.fixture
def session():
    s = Session()
    yield s
    s.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a timed physics run (seconds of work)")
