"""GIL lens and cores view on the main window's live lab."""

from __future__ import annotations

import sys

import pytest

from .conftest import configure


def test_lens_reads_one_gil_for_python_threads_and_cores_view_counts_moves(window, qtbot):
    from concviz.ui.cores_view import CoresView
    from concviz.ui.gil_lens import GilLens

    def source():
        return window.timeline.store, window.client.pid

    lens = GilLens(source)
    cores = CoresView(source, lens.watch)
    qtbot.addWidget(lens)
    qtbot.addWidget(cores)
    configure(window, workload="cpu-python", strategy="threads", workers=2, tasks=10, task_ms=100)
    with qtbot.waitSignal(window.client.runFinished, timeout=60000):
        window.run()
    qtbot.wait(300)
    lens.refresh()
    cores.refresh()
    print(lens.meter.text(), "|", lens.details.text(), "|", cores.migrations)
    # measured from outside: two threads take turns holding the GIL
    assert lens.meter.text().startswith("Over the run: 2 threads want Python"), lens.meter.text()
    assert lens.contention is not None and lens.contention >= 0.3
    assert "measured" in lens.details.text()
    # idle after the run: later samples never stretch the lens's time axis
    x_end = lens.python_curve.getData()[0].max()
    run_s = (window.timeline.store.runs[-1].finished["t_ns"] - window.timeline.store.runs[-1]
             .started["t_ns"]) / 1e9  # fmt: skip
    qtbot.wait(600)
    lens.refresh()
    assert lens.python_curve.getData()[0].max() == x_end <= run_s + 0.05
    # two busy threads under one GIL: about one core of Python (wide margins: noisy CI)
    assert 1.5 <= lens.busy <= 2.2, lens.busy
    assert lens.effective <= 1.3, lens.effective  # one GIL: about one core of Python at most
    if (window.timeline.store.machine_busy_cores or 0.0) < 0.2:  # a quiet machine gives it
        assert lens.effective >= 0.4, lens.effective
    assert "GIL contention" in lens.details.text()
    if sys.platform.startswith("linux"):
        assert len(cores.migrations) == 2, cores.migrations
        assert all(v >= 0 for v in cores.migrations.values())
        assert cores.blocks.blocks  # something was drawn, coloured by core
    else:
        pytest.skip("the cores view is Linux only")


def test_the_cores_view_opened_after_a_run_shows_that_run(window, qtbot):
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("the cores view is Linux only")
    configure(window, workload="cpu-python", strategy="threads", workers=2, tasks=8, task_ms=80)
    with qtbot.waitSignal(window.client.runFinished, timeout=60000):
        window.run()
    cores = window.lenses.show("cores")  # opened only now, after the run
    cores.refresh()
    assert len(cores.migrations) == 2, cores.migrations
    assert cores.blocks.blocks
