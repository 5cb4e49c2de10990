"""A C library calling back into Python for every row: sqlite3 runs each query
without the GIL and takes it back for every call of the Python function ``_plus``.
Two threads doing this hand the GIL to and fro thousands of times a second.

Each thread fills its own in-memory table once; a task only queries it, so what it
does is the query and the callbacks (not allocating rows, which contends elsewhere)."""

import sqlite3
import threading

_local = threading.local()


def _plus(x):
    return x + 1


def _db():
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = sqlite3.connect(":memory:", check_same_thread=False)
        db.create_function("plus", 1, _plus, deterministic=True)
        db.execute("create table t(x)")
        db.executemany("insert into t values (?)", ((k,) for k in range(10_000)))
    return db


def work(i):
    db = _db()
    total = 0
    for _ in range(6):
        total += db.execute("select sum(plus(x)) from t").fetchone()[0]
    return total
