"""Fixtures for the lab's tests (no Qt): a lab session that is always closed."""

from __future__ import annotations

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


@pytest.fixture
def session():
    s = Session()
    yield s
    s.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a timed physics run (seconds of work)")
