"""The CPU sampler's own readers of /proc (Linux) against psutil's, and the process
tree's sum across children that come and go."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from concviz.runtime import cpu_sampler
from concviz.runtime.cpu_sampler import CpuSampler, _ProcessTree

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the kept-open /proc readers are Linux's"
)

# a child that burns CPU in pure Python for about `s` seconds of its own CPU, after
# naming itself with a space and a parenthesis (which /proc/PID/stat shows unescaped)
BURN = """
import sys, time
try:
    open('/proc/self/comm', 'w').write('a) b (c')
except OSError:
    pass
end = time.process_time() + float(sys.argv[1])
while time.process_time() < end:
    pass
print('done', flush=True)
time.sleep(float(sys.argv[2]))
"""


@linux_only
def test_proc_stat_reader_agrees_with_psutil():
    sampler = CpuSampler()
    mine = sampler._read_proc_stat()
    theirs = psutil.cpu_times(percpu=True)
    assert mine is not None and len(mine) == sampler.n_cores == len(theirs)
    tick = cpu_sampler._TICK_S
    for (busy, total), t in zip(mine, theirs, strict=True):
        # the same counters read a moment apart: within a few clock ticks per core
        assert abs(total * tick - (sum(t) - t.guest - t.guest_nice)) < 0.5
        assert abs(busy * tick - (sum(t) - t.guest - t.guest_nice - t.idle - t.iowait)) < 0.5
    assert sampler._stat_fd >= 0  # kept open for the next tick


def test_process_tree_counts_a_child_and_keeps_it_after_it_exits():
    tree = _ProcessTree()
    tree.set_root(psutil.Process().pid)
    before = tree.cpu_seconds()
    child = subprocess.Popen(
        [sys.executable, "-c", BURN, "0.4", "0.3"], stdout=subprocess.PIPE, text=True
    )
    try:
        # seen while it runs: the pid watch notices a new process and walks the tree
        deadline = time.monotonic() + 10
        while child.pid not in tree._procs and time.monotonic() < deadline:
            tree.cpu_seconds()
            time.sleep(0.02)
        assert child.pid in tree._procs
        assert child.stdout.readline().strip() == "done"
        during = tree.cpu_seconds()
        child.wait(timeout=10)
        # the child has exited (reaped): its CPU stays in the sum
        after = tree.cpu_seconds()
    finally:
        child.kill()
        child.wait()
        tree.close()
    assert during - before >= 0.35  # the child's 0.4 s (born after the first look)
    assert after >= during
    assert child.pid not in tree._procs
    if sys.platform.startswith("linux"):
        assert not tree._fds  # every descriptor of a gone process closed


@linux_only
def test_stat_reader_reads_a_name_with_spaces_and_parentheses():
    child = subprocess.Popen(
        [sys.executable, "-c", BURN, "0.3", "5"], stdout=subprocess.PIPE, text=True
    )
    tree = _ProcessTree()
    try:
        assert child.stdout.readline().strip() == "done"
        assert psutil.Process(child.pid).name() == "a) b (c"
        mine = tree._cpu_of(child.pid, psutil.Process(child.pid))
        c = psutil.Process(child.pid).cpu_times()
        assert tree._fds[child.pid] >= 0
        assert abs(mine - (c.user + c.system)) < 0.05
        assert mine >= 0.25
    finally:
        child.kill()
        child.wait()
        tree.close()
