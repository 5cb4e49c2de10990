"""``concviz`` with no sub-command: the QApplication and the main window."""

from __future__ import annotations

import sys

from . import theme as T

# Qt's own command-line options (QGuiApplication, QApplication): passed on to Qt; any
# other argument is a mistake the user hears about instead of a window opening.
QT_OPTIONS_WITH_VALUE = frozenset(
    "-platform -platformpluginpath -platformtheme -plugin -qwindowgeometry -qwindowicon "
    "-qwindowtitle -style -stylesheet -display -geometry -session -name -title".split()
)
QT_FLAGS = frozenset("-reverse -nograb -dograb -sync -widgetcount".split())


def _qt_options(parser, rest: list[str]) -> list[str]:
    """``rest`` when every item is one of Qt's options (with its value), else a usage error."""
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in QT_FLAGS:
            i += 1
        elif arg in QT_OPTIONS_WITH_VALUE and i + 1 < len(rest):
            i += 2
        else:
            what = "option" if arg.startswith("-") else "argument"
            parser.error(f"unknown {what} {arg!r}")
    return rest


def main(argv: list[str] | None = None) -> int:
    """Open the window; returns the application's exit code."""
    from concviz.cli import _Parser

    # its errors are one sentence and exit code 2 (the CLI catches them)
    parser = _Parser(prog="concviz", description="Open the concviz window.")
    parser.add_argument("--interpreter", help="run the lab under this Python")
    parser.add_argument("--presentation", action="store_true", help="start in presentation mode")
    parser.add_argument("--open", metavar="FILE", help="open a session file or a trace")
    # a lesson's starting point (and a scripted screenshot's): the controls, set once
    # the lab has listed its workloads, and optionally the run itself
    parser.add_argument("--workload", help="choose this workload (e.g. deadlock)")
    parser.add_argument("--strategy", help="choose this strategy (e.g. threads)")
    parser.add_argument("--workers", type=int, help="this many workers")
    parser.add_argument("--tasks", type=int, help="this many tasks")
    parser.add_argument("--task-ms", type=int, help="each task's size in milliseconds")
    parser.add_argument(
        "--knob",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a workload knob for --run, e.g. critical_fraction=0.8 or sync=lock",
    )
    parser.add_argument("--run", action="store_true", help="start the run once the lab is ready")
    args, rest = parser.parse_known_args(list(argv) if argv is not None else [])
    qt_args = _qt_options(parser, rest)
    try:
        knobs = _knobs(args.knob)
    except ValueError as exc:
        parser.error(str(exc))  # one sentence, exit code 2

    import pyqtgraph as pg
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("concviz")
    app.setOrganizationName("concviz")
    app.setStyle("Fusion")
    from .about import app_icon

    app.setWindowIcon(app_icon())
    app.setDesktopFileName("concviz")
    font = QFont(app.font())
    font.setPointSizeF(T.BASE_POINT_SIZE)
    app.setFont(font)
    pg.setConfigOptions(antialias=False)
    window = MainWindow(interpreter=args.interpreter)
    from . import startup_probe

    startup_probe.install(window)
    window.show()
    if args.presentation:
        window.set_presentation(True)
    if args.open:
        window.open_session_file(args.open)
    if args.workload or args.strategy or args.run:
        _choose_when_ready(window, args, knobs)
    if not (args.open or args.workload or args.strategy or args.run):
        # the first start of a double-clicked app opens the first lesson, once
        window.lessons_panel.welcome_if_first()
    code = app.exec()
    window.shutdown()
    return int(code)


def _knobs(items: list[str]) -> dict:
    """``["critical_fraction=0.8", "sync=lock"]`` -> ``{"critical_fraction": 0.8, "sync": "lock"}``."""
    out: dict = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--knob takes NAME=VALUE (e.g. critical_fraction=0.8), not {item!r}")
        value: object = text
        for cast in (int, float):
            try:
                value = cast(text)
                break
            except ValueError:
                continue
        out[name.replace("-", "_")] = value
    return out


def _choose_when_ready(window, args, knobs: dict) -> None:
    """Set the controls from the command line once the lab has listed what it runs."""
    from PySide6.QtCore import QTimer

    timer = QTimer(window)
    timer.setInterval(100)

    def ready() -> None:
        c = window.controls
        if not c.strategy_buttons or (args.workload and c.workload.findText(args.workload) < 0):
            return
        timer.stop()
        if args.workload:
            c.set_workload(args.workload)
        unavailable = None
        if args.strategy:
            b = c.strategy_buttons.get(args.strategy)
            if b is not None and b.property("unavailable"):
                unavailable = b  # an engine this Python lacks: say why, run nothing
            else:
                c.set_strategy(args.strategy)
        if args.workers:
            c.set_workers(args.workers)
        if args.tasks:
            c.tasks.setValue(args.tasks)
        if args.task_ms:
            c.task_ms.setValue(args.task_ms)
        c.workload_knobs.show_values(knobs)  # the Knobs row says what the run used
        if unavailable is not None:
            unavailable.click()  # the banner names what it needs and how to get it
        elif args.run:
            window.run({"options": {**c.params()["options"], **knobs}} if knobs else None)

    timer.timeout.connect(ready)
    timer.start()
