"""Files in and out of concviz (Chrome Trace Event JSON, ``.concviz`` sessions), on the model only.

``open_any(path)`` opens whatever a user hands over: a session file or a trace.
"""

from __future__ import annotations

import importlib
import os
import zipfile
from pathlib import Path

from concviz.model.session import Session

from .chrome_trace import run_trace_events, trace_events, write_trace
from .runs_csv import runs_csv, write_runs_csv
from .session_file import SUFFIX, BadSessionFile, load_session, save_session
from .trace_import import BadTrace, load_trace

__all__ = [
    "BadSessionFile",
    "BadTrace",
    "SUFFIX",
    "load_session",
    "load_trace",
    "open_any",
    "run_trace_events",
    "runs_csv",
    "save_session",
    "trace_events",
    "write_runs_csv",
    "write_trace",
]


def open_any(path: str | os.PathLike) -> Session:
    """A session from ``path``: a ``.concviz`` file, or a trace another tool wrote.

    A zip archive (or a name ending ``.concviz``) is a session file; anything else is
    handed to ``interop.trace_import.load_trace`` (Chrome Trace Event JSON, ``.gz``).
    Raises BadSessionFile, one sentence, when it cannot be opened.
    """
    p = Path(path)
    if not p.exists():
        raise BadSessionFile(f"{p.name} does not exist; check the path.")
    if p.is_dir():
        raise BadSessionFile(f"{p.name} is a folder, not a session or trace file.")
    try:
        is_zip = zipfile.is_zipfile(p)
    except OSError as exc:
        raise BadSessionFile(f"{p.name} cannot be read ({exc.strerror or exc}).") from None
    if is_zip or p.suffix.lower() == SUFFIX:
        return load_session(p)
    try:
        trace_import = importlib.import_module(f"{__name__}.trace_import")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.trace_import":
            raise
        raise BadSessionFile(
            f"{p.name} is not a concviz session file, and this concviz cannot open traces "
            "yet; open a .concviz file instead."
        ) from None
    bad_trace = getattr(trace_import, "BadTraceFile", BadSessionFile)
    try:
        return trace_import.load_trace(p)
    except bad_trace as exc:
        raise BadSessionFile(str(exc)) from None
