"""The window's files: open, save, save as, recent files, import, and the title.

A session is saved to a ``.concviz`` file and opened again as it was; a trace another
tool wrote (Chrome Trace Event JSON, ``.json.gz``) opens as a run of its own. Reading
and writing happen on a worker thread (a session of a million tasks takes seconds);
the GUI thread polls the result on a timer, so no signal crosses threads. The window
title names the session's file and marks unsaved changes (``[*]``).

Threads: GUI thread only (the worker thread runs ``open_any``/``save_session`` and
touches nothing else).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox

from concviz.interop import SUFFIX, BadSessionFile, open_any, save_session
from concviz.model.session import Run, Session

RECENT_KEY = "recent_files"
MAX_RECENT = 8
OPEN_FILTER = (
    "Everything concviz opens (*.concviz *.json *.gz *.py);;"
    "concviz sessions (*.concviz);;"
    "Traces from other tools (*.json *.json.gz *.gz);;"
    "Python workload files (*.py)"
)
SESSION_FILTER = "concviz sessions (*.concviz)"
# what a drop or File → Open hands to ``open_path`` rather than to the workload opener
SESSION_SUFFIXES = (SUFFIX, ".json", ".gz")


def opens_as_session(path: str) -> bool:
    return path.lower().endswith(SESSION_SUFFIXES)


class SessionFiles(QObject):
    """File → Open/Save/Save As/Open recent/Import for one window's ``Session``."""

    POLL_MS = 50

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.session: Session = window.session
        self.settings = window.settings
        # the offscreen platform (tests, screenshots) has nobody to answer a question
        self.ask = QGuiApplication.platformName() != "offscreen"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="concviz-files")
        self._job: tuple[Future, Callable[[Future], None]] | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(self.POLL_MS)
        self._poll.timeout.connect(self._check_job)

        self.save_action = QAction("&Save session", window)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(lambda _checked=False: self.save())
        self.save_as_action = QAction("Save session &as…", window)
        self.save_as_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_as_action.triggered.connect(lambda _checked=False: self.save_as())
        self.import_action = QAction("&Import runs into this session…", window)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(lambda _checked=False: self.import_file())
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        for a in (self.save_action, self.save_as_action, self.import_action):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(a)  # shortcuts work in full screen too
        self.session.listen(self._session_changed)
        self.update_title()

    # ------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """A file is being read or written."""
        return self._job is not None

    def update_title(self) -> None:
        path = self.session.path
        name = Path(path).name if path else "untitled session"
        self.w.setWindowTitle(f"{name}[*] — concviz")
        self.w.setWindowModified(bool(self.session.dirty and self.session.runs))

    def _session_changed(self, event: str, run: Run | None) -> None:
        if event != "updated":  # a live run growing changes nothing a file holds yet
            self.update_title()

    def recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings gives one string for a one-item list
            value = [value]
        return [str(v) for v in (value or []) if v]

    def _remember(self, path: str) -> None:
        path = os.path.abspath(path)
        items = [path] + [p for p in self.recent() if p != path]
        self.settings.setValue(RECENT_KEY, items[:MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.recent()
        if not items:
            a = self.recent_menu.addAction("(no files opened yet)")
            a.setEnabled(False)
            return
        for i, path in enumerate(items):
            a = self.recent_menu.addAction(f"&{i + 1} {Path(path).name}  —  {Path(path).parent}")
            a.triggered.connect(lambda _checked=False, p=path: self.open_recent(p))
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear the list")
        clear.triggered.connect(lambda _checked=False: self.settings.setValue(RECENT_KEY, []))

    def open_recent(self, path: str) -> None:
        if not os.path.exists(path):
            self.settings.setValue(RECENT_KEY, [p for p in self.recent() if p != path])
            self.w.banner.show_message(
                f"{Path(path).name} is not there any more (moved or deleted); "
                "it was taken off the recent files.",
                "warning",
            )
            return
        self.open_path(path)

    # ------------------------------------------------------------ opening
    def open_path(self, path: str, add: bool = False) -> bool:
        """Open a session or trace file: replacing this session's runs, or ``add``-ing
        to them. Returns False when nothing was started (busy, a run going, cancelled)."""
        if self.busy:
            self.w.banner.show_message("A file is still being read or written.", "warning")
            return False
        if self.w.running:
            self.w.banner.show_message("Stop the run before opening a file.", "warning")
            return False
        if not add and not self.maybe_discard():
            return False
        name = Path(path).name
        self.w.statusBar().showMessage(f"Opening {name}…")
        self._start(self._pool.submit(open_any, path), lambda f: self._opened(f, path, add))
        return True

    def _opened(self, fut: Future, path: str, add: bool) -> None:
        name = Path(path).name
        self.w.statusBar().clearMessage()
        exc = fut.exception()
        if isinstance(exc, BadSessionFile):
            self.w.banner.show_message(f"Cannot open {name}: {exc}", "error")
            return
        if isinstance(exc, OSError):
            self.w.banner.show_message(f"Cannot open {name}: {exc.strerror or exc}.", "error")
            return
        if exc is not None:
            raise exc  # an internal bug, not a bad file
        loaded: Session = fut.result()
        if not loaded.runs:
            self.w.banner.show_message(f"{name} holds no runs.", "warning")
            return
        session = self.session
        if not add:
            session.clear()
            session.meta = dict(loaded.meta)
        moved = session.take_runs(loaded)
        is_session = path.lower().endswith(SUFFIX)
        if not add:
            session.path = os.path.abspath(path) if is_session else None
            session.dirty = False  # nothing is unsaved: the file holds it all
        self._remember(path)
        self.update_title()
        self.w.banner.hide()
        self.w.show_run(moved[-1])
        what = "run" if len(moved) == 1 else "runs"
        self.w.statusBar().showMessage(f"Opened {name}: {len(moved)} {what}.", 8000)

    def open_dialog(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self.w, "Open", str(self.settings.value("open_dir", "")), OPEN_FILTER
        )
        if path:
            self.settings.setValue("open_dir", os.path.dirname(os.path.abspath(path)))
        return path or None

    def import_file(self, path: str | None = None) -> bool:
        """Add the runs of a session or trace file to this session (File → Import)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.w,
                "Import runs into this session",
                str(self.settings.value("open_dir", "")),
                OPEN_FILTER.split(";;", 1)[1],
            )
            if not path:
                return False
        return self.open_path(path, add=True)

    # ------------------------------------------------------------ saving
    def save(self) -> bool:
        """Ctrl+S: to the session's file, or ask for one (False: nothing was saved)."""
        if self.session.path is None:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self, path: str | None = None) -> bool:
        path = path or self._ask_where()
        return self._save_to(path) if path else False

    def _ask_where(self) -> str | None:
        """The Save-as dialog: a ``.concviz`` path, or None when cancelled."""
        start = self.session.path or str(
            Path(str(self.settings.value("open_dir", "") or Path.home())) / f"session{SUFFIX}"
        )
        path, _ = QFileDialog.getSaveFileName(self.w, "Save session as", start, SESSION_FILTER)
        if not path:
            return None
        return path if path.lower().endswith(SUFFIX) else path + SUFFIX

    def _savable(self) -> str | None:
        if self.busy:
            return "A file is still being read or written."
        if not any(r.finished for r in self.session.runs):
            return "There is no finished run to save yet."
        if any(not r.finished for r in self.session.runs):
            return "Stop the run going on before saving: a file keeps finished runs."
        return None

    def _save_to(self, path: str, wait: bool = False) -> bool:
        why = self._savable()
        if why is not None:
            self.w.banner.show_message(why, "warning")
            return False
        name = Path(path).name
        self.w.statusBar().showMessage(f"Saving {name}…")
        fut = self._pool.submit(save_session, self.session, path)
        if wait:  # closing the window: the user asked to save, and waits for it
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                fut.exception()
            finally:
                QApplication.restoreOverrideCursor()
            return self._saved(fut, path)
        self._start(fut, lambda f: self._saved(f, path))
        return True

    def _saved(self, fut: Future, path: str) -> bool:
        name = Path(path).name
        self.w.statusBar().clearMessage()
        exc = fut.exception()
        if isinstance(exc, OSError):
            self.w.banner.show_message(
                f"Cannot save {name}: {exc.strerror or exc} (the previous file, if any, "
                "is unchanged).",
                "error",
            )
            return False
        if exc is not None:
            raise exc
        self._remember(path)
        self.update_title()
        self.w.statusBar().showMessage(f"Saved {name}.", 5000)
        return True

    # ------------------------------------------------------------ closing
    def maybe_discard(self) -> bool:
        """Before unsaved runs are lost (closing, opening another file): ask to save.

        True when it is fine to go on (saved, discarded, nothing to lose).
        """
        if not self.session.dirty or not any(r.finished for r in self.session.runs):
            return True
        if not self.ask:
            return True
        box = QMessageBox(self.w)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Unsaved runs")
        n = sum(1 for r in self.session.runs if r.finished)
        box.setText(f"Save the {n} run{'s' if n != 1 else ''} of this session first?")
        box.setInformativeText("Runs you do not save are gone when the session closes.")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            path = self.session.path or self._ask_where()
            return self._save_to(path, wait=True) if path else False
        return answer == QMessageBox.StandardButton.Discard

    # ------------------------------------------------------------ the worker
    def _start(self, fut: Future, done: Callable[[Future], None]) -> None:
        self._job = (fut, done)
        self._poll.start()

    def _check_job(self) -> None:
        if self._job is None or not self._job[0].done():
            return
        fut, done = self._job
        self._job = None
        self._poll.stop()
        done(fut)

    def wait(self, timeout_ms: int = 30000) -> None:
        """Finish the file job going on now (tests; closing)."""
        if self._job is not None:
            self._job[0].exception(timeout=timeout_ms / 1000)
            self._check_job()

    def shutdown(self) -> None:
        self._poll.stop()
        self._pool.shutdown(wait=True)
