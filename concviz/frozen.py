"""The packaged app (PyInstaller) as a program, not a Python: its helpers and its hints.

A frozen app has no ``python -m`` or ``python -c``, yet joblib's loky starts its
workers and its resource tracker exactly that way, with the app's executable as the
interpreter. ``helper(argv)`` recognises those two command lines (and only those) and
runs them; any other ``-m`` or ``-c`` is refused with one sentence by the CLI.
"""

from __future__ import annotations

import re
import runpy
import sys
from collections.abc import Callable

# loky (joblib's process backend) on POSIX: `<exe> -m <this module> --process-name N --pipe FD`
LOKY_WORKER = "joblib.externals.loky.backend.popen_loky_posix"
# loky's resource tracker: `<exe> [interpreter flags] -c 'from <module> import main; main(FD, V)'`
_LOKY_TRACKER = re.compile(
    r"from joblib\.externals\.loky\.backend\.resource_tracker import main; "
    r"main\((\d+), (True|False)\)"
)
# what `subprocess._args_from_interpreter_flags()` may put before -c (flags such as -B, -s)
_FLAG = re.compile(r"-[A-Za-z]+$")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def helper(argv: list[str]) -> Callable[[], int] | None:
    """What to run when a frozen app was started as one of loky's helpers, else None."""
    if not is_frozen():
        return None
    if argv[:2] == ["-m", LOKY_WORKER] and "--pipe" in argv[2:]:
        return lambda: _run_module(LOKY_WORKER, argv[2:])
    if "-c" in argv:
        at = argv.index("-c")
        if all(_FLAG.match(a) for a in argv[:at]) and len(argv) > at + 1:
            m = _LOKY_TRACKER.fullmatch(argv[at + 1])
            if m:
                return lambda: _run_tracker(int(m.group(1)), m.group(2) == "True")
    return None


def _run_module(name: str, args: list[str]) -> int:
    sys.argv = [sys.executable, *args]
    try:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def _run_tracker(fd: int, verbose: bool) -> int:
    from joblib.externals.loky.backend.resource_tracker import main

    main(fd, verbose)
    return 0


def python_option_refusal(argv: list[str]) -> str | None:
    """One sentence when the app was given a Python interpreter's option (``-m pip``)."""
    if not argv or argv[0] not in ("-m", "-c", "-I", "-E", "-s", "-S", "-u", "-B", "-X", "-W"):
        return None
    what = " ".join(argv[:2])
    if is_frozen():
        return (
            f"'{what}' is an option of a Python interpreter, and this packaged app is not "
            "one (it has no pip): install packages into a Python you own, then choose it in "
            "Lenses > Choose the lab's Python… or pass --interpreter PATH"
        )
    return (
        f"'{what}' is an option of a Python interpreter, not of concviz: run "
        f"'{sys.executable} {what}' instead"
    )
