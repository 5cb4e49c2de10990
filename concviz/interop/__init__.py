"""Files in and out of concviz (Chrome Trace Event JSON), working on the model only."""

from .chrome_trace import run_trace_events, trace_events, write_trace
from .trace_import import BadTrace, load_trace

__all__ = ["BadTrace", "load_trace", "run_trace_events", "trace_events", "write_trace"]
