"""Engines from the field as strategies: joblib, Dask, Spark and MPI (mpi4py).

Each is an optional extra (``concviz[joblib]``, ``[dask]``, ``[spark]``, ``[mpi]``):
its module registers its strategies in the ``engines`` group and imports the
engine's package only when it runs, so a missing one shows as unavailable with the
install hint. Engines run for real; their start-up and teardown are reported as
phases of their own (``common.phase``) so they never count as task time.
"""

from . import dask_, joblib_, mpi, spark  # noqa: F401  (they register)
