"""What every benchmark shares: the machine's description and robust statistics."""

from __future__ import annotations

import os
import platform
import statistics
import sys


def machine() -> dict:
    """The facts a figure depends on: cores, interpreter, platform."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def rotated(items: list, shift: int) -> list:
    """``items`` rotated by ``shift``: interleaved repeats change who goes first."""
    k = shift % len(items)
    return items[k:] + items[:k]
