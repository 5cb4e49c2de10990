"""Before Qt starts: can its platform plugin load here? One sentence instead of Qt's abort.

On a fresh Linux desktop Qt's ``xcb`` plugin often lacks a system library (since Qt 6.5
``libxcb-cursor0`` above all); Qt then prints a paragraph and aborts the process. This
module asks the dynamic loader first (``ldd`` on the plugin and Qt's XCB library) and
turns what is missing into the Debian/Ubuntu packages that provide it. No Qt import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# soname -> Debian/Ubuntu package: what Qt 6's xcb platform plugin links against
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def missing_from_ldd(text: str) -> list[str]:
    """The sonames ``ldd`` reports as ``not found``, in order, without repeats."""
    out: list[str] = []
    for line in text.splitlines():
        name, sep, where = line.strip().partition("=>")
        if sep and where.strip().startswith("not found") and name.strip() not in out:
            out.append(name.strip())
    return out


def missing_libraries(paths: list[str]) -> list[str]:
    """Sonames the loader cannot find for any of ``paths`` (empty when unsure: no ldd)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    missing: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            continue
        try:
            done = subprocess.run([ldd, path], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        for name in missing_from_ldd(done.stdout):
            if name not in missing:
                missing.append(name)
    return missing


def advice(missing: list[str]) -> str:
    """One sentence: what is missing and the install line that provides it."""
    packages = sorted({PACKAGES.get(name, name) for name in missing})
    unknown = [n for n in missing if n not in PACKAGES]
    line = "sudo apt-get install " + " ".join(p for p in packages if p not in unknown)
    sentence = (
        f"concviz cannot open its window: Qt's display plugin needs {', '.join(missing)}, "
        "which this system lacks"
    )
    if len(unknown) < len(missing):
        sentence += f"; on Debian or Ubuntu install them with: {line}"
    if unknown:
        sentence += f" (find the package for {', '.join(unknown)} with your package manager)"
    return sentence + "."


def _qt_paths() -> list[str]:
    try:
        import PySide6  # only the package's location; no Qt library is loaded yet
    except ImportError:
        return []
    qt = os.path.join(os.path.dirname(PySide6.__file__), "Qt")
    return [
        os.path.join(qt, "plugins", "platforms", "libqxcb.so"),
        os.path.join(qt, "lib", "libQt6XcbQpa.so.6"),
    ]


def problem(env: dict[str, str] | None = None, paths: list[str] | None = None) -> str | None:
    """Why the window cannot open on this display, in one sentence, or None."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].split(";", 1)[0]
    if platform and platform != "xcb":
        return None  # offscreen, wayland, vnc...: Qt's own message is clear enough
    if not platform and env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return (
            "concviz cannot open its window: there is no display (DISPLAY is not set); "
            "start it from a desktop session, or use 'concviz run' and 'concviz screenshot' "
            "without one."
        )
    missing = missing_libraries(_qt_paths() if paths is None else paths)
    return advice(missing) if missing else None
