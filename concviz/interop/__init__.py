"""Files in and out of concviz (Chrome Trace Event JSON, the runs table as CSV), on the model only."""

from .chrome_trace import trace_events, write_trace
from .runs_csv import runs_csv, write_runs_csv

__all__ = ["runs_csv", "trace_events", "write_runs_csv", "write_trace"]
