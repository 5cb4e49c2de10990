"""A C library calling back into Python for every row: sqlite3 runs each query
without the GIL and takes it back for every call of the Python function ``_plus``.
Two threads doing this hand the GIL to and fro thousands of times a second."""

import sqlite3


def _plus(x):
    return x + 1


def work(i):
    db = sqlite3.connect(":memory:")
    db.create_function("plus", 1, _plus, deterministic=True)
    db.execute("create table t(x)")
    db.executemany("insert into t values (?)", ((k,) for k in range(20_000)))
    total = 0
    for _ in range(3):
        total += db.execute("select sum(plus(x)) from t").fetchone()[0]
    db.close()
    return total
