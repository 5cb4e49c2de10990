"""concviz: see concurrency and parallelism in Python, task by task and core by core."""

__version__ = "0.1.0"
