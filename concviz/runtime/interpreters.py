"""Finding the Pythons on this machine and asking each what it really is.

Candidates come from: the app's own interpreter, ``python3.X`` / ``python3.Xt`` on
PATH, pyenv installs, uv-managed installs, the Windows ``py`` launcher, and paths the
user added. Each is *run* once with a probe script: version, free-threaded build or
not, GIL on or off and which strategies its lab can use are read, never guessed from
a file name.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from concviz.lab.protocol import MIN_PYTHON

from .lab_process import PACKAGE_ROOT

MIN_LAB_VERSION = MIN_PYTHON

# Written to run on any Python, 2.7 included, so that an old one reports itself too.
_PROBE = r"""
import sys, json
try:
    import sysconfig
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
except Exception:
    ft = False
gil = getattr(sys, "_is_gil_enabled", None)
impl = getattr(getattr(sys, "implementation", None), "name", "cpython")
info = {"version": ".".join(map(str, sys.version_info[:3])), "implementation": impl,
        "executable": sys.executable, "free_threaded": ft,
        "gil_enabled": bool(gil()) if gil else True, "strategies": None}
if sys.version_info >= (3, 10):
    try:
        from concviz.lab.lab import strategies_info
        info["strategies"] = dict((s["name"], s["reason"]) for s in strategies_info())
        info["gil_enabled"] = bool(gil()) if gil else True
    except Exception as exc:
        info["lab_error"] = "%s: %s" % (type(exc).__name__, exc)
sys.stdout.write(json.dumps(info))
"""


def _version_key(path: str) -> tuple:
    name = os.path.basename(path)
    digits = name.replace("python", "").rstrip("t").split(".")
    try:
        return tuple(int(d) for d in digits if d)
    except ValueError:
        return ()


def candidates(extra: list[str] | None = None) -> dict[str, list[str]]:
    """Executable paths found, each with the places it was found (unprobed)."""
    found: dict[str, list[str]] = {}

    def add(path: str | None, source: str) -> None:
        if not path:
            return
        p = Path(path).expanduser()
        if not p.is_file() or not os.access(p, os.X_OK):
            return
        if "shims" in p.parts:  # pyenv shims are scripts that pick another Python
            return
        key = str(p.resolve())
        found.setdefault(key, [])
        if source not in found[key]:
            found[key].append(source)

    if not getattr(sys, "frozen", False):
        add(sys.executable, "this app")
    for minor in range(8, 20):
        for suffix in ("", "t"):
            add(shutil.which(f"python3.{minor}{suffix}"), "PATH")
    add(shutil.which("python3"), "PATH")
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    for exe in glob.glob(os.path.join(pyenv_root, "versions", "*", "bin", "python3*")):
        if os.path.basename(exe).replace("python3", "").replace(".", "").rstrip("t").isdigit():
            add(exe, "pyenv")
    uv_dirs = [os.environ.get("UV_PYTHON_INSTALL_DIR"), str(Path.home() / ".local/share/uv/python")]
    if os.name == "nt":
        uv_dirs.append(os.path.join(os.environ.get("APPDATA", ""), "uv", "python"))
    for d in filter(None, uv_dirs):
        for exe in glob.glob(os.path.join(d, "*", "bin", "python3*")) + glob.glob(
            os.path.join(d, "*", "python*.exe")
        ):
            add(exe, "uv")
    if os.name == "nt" and shutil.which("py"):
        try:
            out = subprocess.run(["py", "-0p"], capture_output=True, text=True, timeout=5).stdout
            for line in out.splitlines():
                parts = line.split()
                if parts and parts[-1].lower().endswith(".exe"):
                    add(parts[-1], "py launcher")
        except (OSError, subprocess.TimeoutExpired):
            pass
    for path in extra or []:
        add(path, "added by you")
    return found


def probe(path: str, timeout: float = 10.0) -> dict:
    """Run ``path`` once and return what it says it is (or why it could not say)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT
    env.pop("PYTHONHOME", None)
    base = {"path": path}
    try:
        r = subprocess.run(
            [path, "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {**base, "supported": False, "reason": f"could not run it: {exc}"}
    try:
        info = json.loads(r.stdout)
    except ValueError:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return {**base, "supported": False, "reason": f"it did not answer the probe: {last}"}
    version = tuple(int(x) for x in info["version"].split("."))
    info.update(base)
    if info.get("implementation") != "cpython":
        info.update(supported=False, reason="the lab needs CPython")
    elif version[:2] < MIN_LAB_VERSION:
        info.update(supported=False, reason="the lab needs Python 3.10 or newer")
    elif info.get("lab_error"):
        info.update(supported=False, reason=f"the lab does not load there: {info['lab_error']}")
    else:
        info.update(supported=True, reason=None)
    return info


def _this_app() -> dict:
    """The packaged app's own Python, described in-process (it has no ``-c`` to probe)."""
    from concviz.lab.lab import strategies_info

    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "path": sys.executable,
        "version": ".".join(map(str, sys.version_info[:3])),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "free_threaded": False,
        "gil_enabled": bool(gil()) if gil else True,
        "strategies": {s["name"]: s["reason"] for s in strategies_info()},
        "supported": True,
        "reason": None,
    }


def discover(extra: list[str] | None = None) -> list[dict]:
    """Every interpreter found, probed in parallel, newest first (the packaged app's own
    Python first of all: it is the one that needs nothing installed)."""
    found = candidates(extra)
    with ThreadPoolExecutor(max_workers=8) as ex:
        infos = list(ex.map(probe, found))
    for info in infos:
        info["sources"] = found[info["path"]]
    if getattr(sys, "frozen", False):
        mine = _this_app()
        mine["sources"] = ["this app"]
        key = str(Path(sys.executable).resolve())
        infos = [mine] + [i for i in infos if i["path"] != key]
    infos.sort(
        key=lambda i: (
            getattr(sys, "frozen", False) and "this app" in i.get("sources", ()),
            i.get("supported", False),
            _version_key("python" + i.get("version", "")),
        ),
        reverse=True,
    )
    return infos


def find_free_threaded(extra: list[str] | None = None) -> dict | None:
    """A free-threaded interpreter the lab can use ($CONCVIZ_FT_PYTHON first), or None."""
    env = os.environ.get("CONCVIZ_FT_PYTHON")
    pool = [env] if env else []
    for info in discover((extra or []) + pool):
        if info.get("supported") and info.get("free_threaded"):
            return info
    return None
