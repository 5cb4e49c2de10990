"""Where a running CPython keeps its GIL: the ``_PyRuntime`` symbol, found from outside.

A thread that waits for the GIL sleeps in ``futex()`` on the GIL's condition variable,
which lives inside the ``_PyRuntime`` structure (``ceval.gil`` on 3.10-3.11; the main
interpreter's ``_gil``, embedded in ``_PyRuntime``, on 3.12+). A lock, a queue or an
event made by the program lives on the heap instead. So a futex address inside
``_PyRuntime``'s extent means "waiting for the GIL". The extent is read from the
dynamic symbol table of the ``python`` executable or ``libpython`` that the process
mapped (``/proc/PID/maps``), plus that file's load address. Linux, 64-bit ELF only;
anywhere else the answer is None and the caller falls back to an estimate.
"""

from __future__ import annotations

import os
import struct

_SHT_DYNSYM = 11
_PT_LOAD = 1


_cache: dict[tuple, tuple[int, int, int] | None] = {}


def dynamic_symbol(path: str, name: bytes) -> tuple[int, int, int] | None:
    """``(st_value, st_size, first PT_LOAD vaddr)`` of ``name`` in ``path``'s .dynsym.

    Cached per file (path, size, mtime): every pool worker maps the same libpython.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (path, st.st_size, st.st_mtime_ns, name)
    if key not in _cache:
        _cache[key] = _read_symbol(path, name)
    return _cache[key]


def _read_symbol(path: str, name: bytes) -> tuple[int, int, int] | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or len(data) < 64 or data[4] != 2 or data[5] != 1:
        return None  # not a 64-bit little-endian ELF file
    try:
        e_phoff, e_shoff = struct.unpack_from("<QQ", data, 0x20)
        e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", data, 0x36)
        first_load = None
        for i in range(e_phnum):
            p_type, _flags, _offset, p_vaddr = struct.unpack_from(
                "<IIQQ", data, e_phoff + i * e_phentsize
            )
            if p_type == _PT_LOAD:
                first_load = p_vaddr
                break
        sections = [
            struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize)
            for i in range(e_shnum)
        ]
        for sh in sections:
            if sh[1] != _SHT_DYNSYM or sh[9] == 0:
                continue
            strtab_off = sections[sh[6]][4]
            for j in range(sh[5] // sh[9]):
                st_name, _info, _other, _shndx, st_value, st_size = struct.unpack_from(
                    "<IBBHQQ", data, sh[4] + j * sh[9]
                )
                start = strtab_off + st_name
                if data[start : start + len(name) + 1] == name + b"\0" and st_value:
                    return st_value, st_size, first_load or 0
    except (struct.error, IndexError):
        return None
    return None


def python_runtime_range(pid: int) -> tuple[int, int] | None:
    """``[start, end)`` of ``_PyRuntime`` in process ``pid``'s memory, or None."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    starts: dict[str, int] = {}
    for line in lines:
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or int(parts[2], 16) != 0:
            continue
        path = parts[5]
        base = os.path.basename(path)
        if base.startswith("libpython") or base.startswith("python") or "python" in base:
            starts.setdefault(path, int(parts[0].split("-")[0], 16))
    # libpython first: a shared build's executable holds no _PyRuntime of its own
    for path in sorted(starts, key=lambda p: "libpython" not in p):
        found = dynamic_symbol(path, b"_PyRuntime")
        if found is None:
            continue
        value, size, first_load = found
        start = starts[path] - (first_load & ~0xFFF) + value
        return start, start + max(size, 1)
    return None
