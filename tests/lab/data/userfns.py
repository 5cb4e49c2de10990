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


def die_beside_a_worker_deaf_to_sigterm(i):
    """Task 1 ignores SIGTERM and sleeps on; task 0 exits with code 3 once it has begun.
    Ending the pool sends the deaf worker a SIGTERM it never acts on (as a worker whose
    handler a blocked wait holds off): Pool.terminate would join it for ever."""
    if i == 1:
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a task runs in the main thread
        open(_flag(i), "w").close()
        time.sleep(30)
    elif i == 0:
        deadline = time.monotonic() + 5
        while not os.path.exists(_flag(i)) and time.monotonic() < deadline:
            time.sleep(0.001)
        os._exit(3)


def kill_the_idle_worker(i):
    """Task 1 ends at once, its worker then waits for more work (blocked in the task
    queue's get, holding its read lock); task 0 kills that worker with SIGKILL, so the
    lock is never given back, and sleeps on."""
    if i == 1:
        with open(_flag(i) + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(_flag(i) + ".tmp", _flag(i))
    elif i == 0:
        import signal

        deadline = time.monotonic() + 5
        while not os.path.exists(_flag(i)) and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(0.2)  # the other worker is back in get()
        with open(_flag(i)) as f:
            os.kill(int(f.read()), signal.SIGKILL)
        time.sleep(30)


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
