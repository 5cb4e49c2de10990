"""The in-window QThread demo makes the window's frames late; the lab run does not."""

from __future__ import annotations

import time


def test_in_window_thread_raises_frame_p99_above_the_lab_run(qtbot, record_property):
    from concviz.ui.gui_freeze_demo import FreezeDemo

    demo = FreezeDemo(seconds=1.5)
    qtbot.addWidget(demo)
    demo.resize(1000, 600)
    demo.show()
    # One retry: a single hiccup of a busy 2-core CI machine (another program, a lab
    # starting) can make the lab phase's worst frame look as bad as the window's.
    for _attempt in range(2):
        with qtbot.waitSignal(demo.demoFinished, timeout=60000):
            demo.start(["window", "lab"])
        w, lab = demo.stats["window"], demo.stats["lab"]
        print(f"frame p99: in-window {w['p99']:.1f} ms, lab {lab['p99']:.1f} ms")
        if w["p99"] > 1.5 * lab["p99"]:
            break
    record_property("frame_p99_window_ms", w["p99"])
    record_property("frame_p99_lab_ms", lab["p99"])
    assert lab["n"] >= 10  # the window kept ticking while the lab worked
    # sharing the GIL with two spinning threads costs the GUI whole switch intervals
    # per frame; the margin is wide because a 2-core CI machine is noisy
    assert w["p99"] > 1.5 * lab["p99"], (w, lab)
    assert w["p99"] > 30.0, w
    demo.shutdown()


def test_stop_ends_the_in_window_work_within_a_second(qtbot):
    from concviz.ui.gui_freeze_demo import FreezeDemo

    demo = FreezeDemo(seconds=30.0)
    qtbot.addWidget(demo)
    demo.start(["window", "lab"])
    qtbot.wait(300)
    assert demo.phase == "window" and demo._spinners
    spinners = list(demo._spinners)
    t0 = time.perf_counter()
    with qtbot.waitSignal(demo.demoFinished, timeout=3000):
        demo.stop()
    assert time.perf_counter() - t0 < 1.0
    assert all(s.isFinished() for s in spinners)
    assert not demo.runner.is_running()  # the lab phase was skipped
    demo.shutdown()
