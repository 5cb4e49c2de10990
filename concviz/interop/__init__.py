"""Files in and out of concviz (Chrome Trace Event JSON), working on the model only."""

from .chrome_trace import trace_events, write_trace

__all__ = ["trace_events", "write_trace"]
