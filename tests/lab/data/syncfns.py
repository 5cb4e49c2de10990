"""A user workload that shares a named lock between its tasks (as the README shows)."""

import time

from concviz.lab import sync

totals = sync.Lock("user totals")
seen = []


def sync_user(i):
    with totals:  # every task holds it for 20 ms: the others wait, and it is named
        seen.append(i)
        time.sleep(0.02)
