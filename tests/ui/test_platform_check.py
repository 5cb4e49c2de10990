"""A desktop without Qt's system libraries gets one sentence and the install line, not an abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from concviz.ui import platform_check as pc

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
"""


def test_ldd_output_gives_the_missing_libraries_and_their_packages():
    missing = pc.missing_from_ldd(LDD_OUTPUT)
    assert missing == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]
    text = pc.advice(missing)
    assert text.count(".") >= 1 and "\n" not in text
    assert "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0" in text


def test_no_display_is_said_plainly_and_offscreen_is_left_alone():
    if not sys.platform.startswith("linux"):
        pytest.skip("the check is for Linux desktops (this is not Linux)")
    assert "no display" in pc.problem({}, paths=[])
    assert pc.problem({"QT_QPA_PLATFORM": "offscreen"}, paths=[]) is None
    assert pc.problem({"DISPLAY": ":0"}, paths=[]) is None


def _plugin_missing_a_library(tmp_path) -> str:
    """A real shared object linked against a library that is then taken away."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None or shutil.which("ldd") is None:
        pytest.skip("needs a C compiler (gcc) and ldd to build a plugin with a missing library")
    stub = tmp_path / "stub.c"
    stub.write_text("int concviz_stub(void) { return 1; }\n")
    lib = tmp_path / "libconcviz-gone.so.0"  # a name no system has
    subprocess.run([gcc, "-shared", "-fPIC", "-Wl,-soname,libconcviz-gone.so.0", "-o", str(lib),
                    str(stub)], check=True)  # fmt: skip
    plugin_c = tmp_path / "plugin.c"
    plugin_c.write_text("int concviz_stub(void);\nint plugin(void) { return concviz_stub(); }\n")
    plugin = tmp_path / "libqxcb.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(plugin), str(plugin_c), str(lib)],
                   check=True)  # fmt: skip
    lib.unlink()
    return str(plugin)


def test_a_plugin_whose_library_is_gone_is_named(tmp_path):
    plugin = _plugin_missing_a_library(tmp_path)
    why = pc.problem({"DISPLAY": ":0"}, paths=[plugin])
    assert why is not None and "libconcviz-gone.so.0" in why
    assert "find the package for libconcviz-gone.so.0" in why


def test_the_cli_says_it_in_one_line_with_exit_code_2(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("the check is for Linux desktops (this is not Linux)")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-m", "concviz"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0], done.stderr
