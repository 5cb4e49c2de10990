"""``concviz screenshot OUT.png``: the window rendered offscreen after a short batch run."""

from __future__ import annotations

import os
import tempfile
import time

_CONTROL_KEYS = ("workload", "user", "strategy", "workers", "tasks", "task_ms", "mode")


def _application():
    """The QApplication for an offscreen render (offscreen unless a display is set)."""
    if "QT_QPA_PLATFORM" not in os.environ and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from . import theme as T

    app = QApplication.instance() or QApplication(["concviz-screenshot"])
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSizeF(T.BASE_POINT_SIZE)
    app.setFont(font)
    return app


def _wait(app, done, timeout_s: float) -> bool:
    """Spin the event loop until ``done()`` or the timeout; True when done."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if done():
            return True
        time.sleep(0.01)  # this is the screenshot command's own loop, not a live window
    return done()


def _driven_run(app, win, strategy: str, extra: dict, timeout_s: float) -> None:
    """A batch run through the run driver (as Compare all runs one), drawn on the timeline."""
    failed: list[str] = []
    win.batch.jobFailed.connect(lambda _i, message: failed.append(message))
    if not win.start_compare([strategy], extra, compare_view=False):
        raise RuntimeError(win.banner.text() or "the run did not start")
    if not _wait(app, lambda: not win.batch.is_running(), timeout_s):
        win.batch.stop()
        _wait(app, lambda: not win.batch.is_running(), 5)
    _wait(app, lambda: False, 0.1)  # the driver's last changes reach the session
    if failed:
        raise RuntimeError(f"the run failed: {failed[0]}")


def _live_run(app, win, extra: dict, failures: list[str], timeout_s: float) -> None:
    """A continuous run in the window's live lab, stopped after ``timeout_s``."""
    finished: list[dict] = []
    win.client.runFinished.connect(finished.append)
    win.run(extra)
    if not win.running:
        raise RuntimeError(win.banner.text() or "the run did not start")
    if not _wait(app, lambda: bool(finished) or failures, timeout_s):
        win.stop()
        _wait(app, lambda: bool(finished), 5)
    if failures:
        raise RuntimeError(f"the lab failed: {failures[0]}")


def render(
    out_path: str,
    params: dict,
    interpreter: str | None = None,
    *,
    presentation: bool = False,
    theme: str = "light",
    size: tuple[int, int] = (1400, 900),
    timeout_s: float = 120.0,
) -> None:
    """Run ``params`` (the lab's start message minus ``cmd``) in a window and save a PNG.

    Raises RuntimeError with a sentence for the user when the lab fails or times out.
    """
    app = _application()
    from PySide6.QtCore import QSettings

    from .main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(os.path.join(tmp, "concviz.ini"), QSettings.Format.IniFormat)
        settings.setValue("theme", theme)
        win = MainWindow(interpreter=interpreter, settings=settings)
        win.files.ask = False  # a screenshot's runs are not the user's to save
        try:
            failures: list[str] = []
            win.client.labFailed.connect(failures.append)
            win.resize(*size)
            win.show()
            if not _wait(app, lambda: bool(win.controls.strategy_buttons) or failures, 30):
                raise RuntimeError("the lab did not answer within 30 s")
            if failures:
                raise RuntimeError(f"the lab failed: {failures[0]}")
            c = win.controls
            p = {"mode": "batch", **params}
            if p.get("user"):  # path.py:function, chosen as File -> Open would
                c.add_user_workload(str(p["user"]))
            else:
                c.set_workload(str(p.get("workload", "cpu-python")))
            c.set_strategy(str(p.get("strategy", "threads")))
            c.set_workers(int(p.get("workers", 2)))
            c.tasks.setValue(int(p.get("tasks", 20)))
            c.task_ms.setValue(int(round(float(p.get("task_ms", 50)))))
            c.set_continuous(p.get("mode") == "continuous")
            extra = {k: v for k, v in p.items() if k not in _CONTROL_KEYS}
            if p.get("mode") == "continuous":
                _live_run(app, win, extra, failures, timeout_s)
            else:
                _driven_run(app, win, str(p.get("strategy", "threads")), extra, timeout_s)
            if presentation:
                win.set_presentation(True)
                win.showNormal()  # offscreen "full screen" is the virtual screen's size
                win.resize(*size)
            _wait(app, lambda: False, 0.3)  # a few frames so every panel is drawn
            if not win.grab().save(out_path):
                raise RuntimeError(f"could not write {out_path}")
        finally:
            win.close()
            win.shutdown()


def render_ab(
    out_path: str,
    params: dict,
    *,
    size: tuple[int, int] = (1400, 1000),
    timeout_s: float = 300.0,
) -> list[str]:
    """Run the GIL A/B (every case found on this machine) and save it as a PNG.

    Returns what could not be shown (e.g. no free-threaded Python), one sentence each.
    """
    app = _application()
    from .gil_ab import GilABView

    view = GilABView()
    finished: list[bool] = []
    view.abFinished.connect(lambda: finished.append(True))
    try:
        view.resize(*size)
        view.show()
        for key in ("workload",):
            if key in params:
                view.workload.setCurrentText(str(params[key]))
        view.workers.setValue(int(params.get("workers", 2)))
        view.tasks.setValue(int(params.get("tasks", 16)))
        view.task_ms.setValue(int(params.get("task_ms", 100)))
        view.run_ab()
        if not _wait(app, lambda: bool(finished), timeout_s):
            raise RuntimeError("the A/B runs did not finish in time")
        _wait(app, lambda: False, 0.3)  # let the last pane paint
        if not view.grab().save(out_path):
            raise RuntimeError(f"could not write {out_path}")
        return list(view.missing)
    finally:
        view.shutdown()
        view.close()
