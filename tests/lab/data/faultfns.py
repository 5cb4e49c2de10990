"""User workloads that end in every way a task can end (issue 19's fault tests)."""

import asyncio
import os
import time


def sys_exit(i):
    if i == 2:
        raise SystemExit(3)
    time.sleep(0.01)


def keyboard_interrupt(i):
    if i == 2:
        raise KeyboardInterrupt
    time.sleep(0.01)


def base_exception(i):
    if i == 2:
        raise BaseException("task 2 went past Exception")
    time.sleep(0.01)


def generator_exit(i):
    if i == 2:
        raise GeneratorExit
    time.sleep(0.01)


def forks(i):
    """Task 1 forks; the child returns from the task as if it were the parent."""
    if i == 1:
        os.fork()
    time.sleep(0.01)


def forks_and_exits(i):
    """Task 1 forks; the child raises SystemExit, the way sys.exit() ends a child."""
    if i == 1 and os.fork() == 0:
        raise SystemExit(0)
    time.sleep(0.01)


def sleep_forever(i):
    if i == 0:
        time.sleep(1e9)
    time.sleep(0.01)


async def async_sys_exit(i):
    await asyncio.sleep(0.01)
    if i == 2:
        raise SystemExit(3)


async def async_keyboard_interrupt(i):
    await asyncio.sleep(0.01)
    if i == 2:
        raise KeyboardInterrupt


async def async_base_exception(i):
    await asyncio.sleep(0.01)
    if i == 2:
        raise BaseException("task 2 went past Exception")


async def async_block_forever(i):
    """A blocking call inside a coroutine: the event loop cannot run anything else."""
    if i == 0:
        time.sleep(1e9)
    await asyncio.sleep(0.01)


def ignore_term_and_sleep_forever(i):
    """Task 0 makes its worker process deaf to SIGTERM, then never returns."""
    if i == 0:
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(1e9)
    time.sleep(0.01)


class Unprintable(BaseException):
    def __str__(self):
        raise RuntimeError("this exception cannot say what it is")


def unprintable(i):
    if i == 2:
        raise Unprintable()
    time.sleep(0.01)


def sigint_own_process(i):
    """Task 2 sends SIGINT to the process it runs in (the lab itself, under threads)."""
    if i == 2:
        import signal

        os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.02)
