"""``concviz bench startup``: from launch to the first painted window, source and frozen."""

from __future__ import annotations

import os
import stat
import statistics
import subprocess
import sys
import time
from pathlib import Path

DESCRIPTION = (
    "time from launch to the first painted window, from source and from the frozen "
    "bundle (figures first_window_s_source, first_window_s_frozen; goal <= 1.5 s each), "
    "and the download: bundle_mb unpacked (goal <= 220), archive_mb (goal <= 90)"
)

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "concviz"
# the release archives .ci/run makes of the bundle
ARCHIVE_PATTERNS = ("concviz-*.tar.zst", "concviz-*.zip")


def bundle_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder``, each counted once (symlinks and hard links
    to a file already counted add nothing), as unpacking an archive of it writes them."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, _, names in os.walk(folder):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def newest_archive(folder: Path) -> Path | None:
    found = [p for pattern in ARCHIVE_PATTERNS for p in folder.glob(pattern)]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _once(cmd: list[str]) -> tuple[float, float | None]:
    """Seconds from launch to the first painted window, and to a window that can run
    (its lab answered, the strategies shown; None if that never came)."""
    env = dict(os.environ, CONCVIZ_STARTUP_PROBE="1")
    # A user's Python caches compiled modules; some sandboxes turn that off, which
    # would time the compiler rather than concviz.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter_ns()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    seen = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key in ("first-paint-ns", "ready-ns") and value.strip().isdigit():
            seen[key] = (int(value) - t0) / 1e9
    if "first-paint-ns" not in seen:
        raise RuntimeError(f"{cmd[0]} never painted a window: {r.stderr.strip()[-300:]}")
    return seen["first-paint-ns"], seen.get("ready-ns")


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run(args) -> dict:
    repeats = 2 if args.quick else 5
    source = [sys.executable, "-m", "concviz"]
    frozen_exe = ROOT / "dist" / "concviz" / ("concviz.exe" if os.name == "nt" else "concviz")
    _once(source)  # warm the file cache and the bytecode, as a second launch would be
    src = [_once(source) for _ in range(repeats)]
    figures = {
        "first_window_s_source": statistics.median(s[0] for s in src),
        # until Run can run: the lab answered and the strategies are shown
        "ready_s_source": _median([s[1] for s in src]),
    }
    notes = [
        f"median of {repeats} launches after one warm-up (bytecode cached, as on a user's "
        "machine); offscreen unless a display is set"
    ]
    if frozen_exe.exists():
        _once([str(frozen_exe)])
        frz = [_once([str(frozen_exe)]) for _ in range(repeats)]
        figures["first_window_s_frozen"] = statistics.median(f[0] for f in frz)
        figures["ready_s_frozen"] = _median([f[1] for f in frz])
    else:
        notes.append(
            "no bundle at dist/concviz: build it with "
            "`uv run --group build pyinstaller build.spec --noconfirm` to measure the frozen start"
        )
    goals = {"first_window_s_source": "<= 1.5 s", "first_window_s_frozen": "<= 1.5 s"}
    if BUNDLE.is_dir():
        figures["bundle_mb"] = round(bundle_bytes(BUNDLE) / 1e6, 1)
        goals["bundle_mb"] = "<= 220"
        notes.append("MB are 10^6 bytes; bundle_mb counts each file of dist/concviz once")
        archive = newest_archive(BUNDLE.parent)
        if archive is not None and archive.stat().st_mtime >= frozen_exe.stat().st_mtime:
            figures["archive_mb"] = round(archive.stat().st_size / 1e6, 1)
            goals["archive_mb"] = "<= 90"
            notes.append(f"archive_mb is {archive.name}")
        else:
            notes.append("no release archive of this bundle in dist/: .ci/run makes one")
    return {
        "compared": "python -m concviz (source) vs dist/concviz/concviz (frozen)",
        "figures": figures,
        "baselines": {
            "first_window_s_frozen": "first_window_s_source",
            "ready_s_source": "first_window_s_source",
            "ready_s_frozen": "first_window_s_frozen",
        },
        "goals": goals,
        "notes": notes,
    }
