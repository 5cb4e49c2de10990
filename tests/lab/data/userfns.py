"""User workloads for the lab's tests (each called with its task's index)."""

import ctypes
import os
import time


def ok(i):
    time.sleep(0.01)


def boom(i):
    if i == 2:
        raise ValueError(f"task {i} exploded")
    time.sleep(0.01)


def _flag(i):
    return os.path.join(os.environ.get("CONCVIZ_TEST_FLAGS", "/tmp"), "done")


def die_late(i):
    """Task 0 dies with os._exit(3) once task 1 (on the other worker) has finished."""
    if i == 0:
        deadline = time.monotonic() + 5
        while not os.path.exists(_flag(i)) and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.003)  # task 1's end is recorded, not yet shipped
        os._exit(3)
    time.sleep(0.05)
    if i == 1:
        open(_flag(i), "w").close()


def die_beside_an_idle_worker(i):
    """Task 0 exits with code 3 after 0.4 s; task 1 ends at once, so its worker waits
    for more work (blocked in the task queue's get, holding its read lock)."""
    if i == 0:
        time.sleep(0.4)
        os._exit(3)


def segv_late(i):
    if i == 0:
        time.sleep(0.3)
        ctypes.string_at(0)
    time.sleep(0.02)


def chatty(i):
    print(f"hello from task {i}")
    # bytes that look like a frame header on the event stream, were they to reach it
    os.write(1, b"\x05\x00\x00\x00\x01\xff\xff\xff\xff\n")
    time.sleep(0.005)


lam = lambda i: None  # noqa: E731 - a lambda is exactly what pickle cannot name
