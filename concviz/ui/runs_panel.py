"""The runs panel: this session's runs (swatch, name, wall, speedup), bound to the Session.

``RunsModel`` is a table model that listens to a :class:`~concviz.model.session.Session`
and never keeps a run of its own: it mirrors the session's run ids (so a removal can
name the row that goes) and reads everything else from the runs. User edits go back
through the session (``rename``, ``remove``, ``use_as_baseline``), which tells every
view, this one included.

Threads: GUI thread only.
"""

from __future__ import annotations

import re

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QSignalBlocker,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFontMetrics, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
)

from concviz.model.metrics import workers_text
from concviz.model.session import Run, Session

from . import theme as T

NAME, WALL, SPEEDUP = range(3)
HEADERS = ("Run", "Wall", "Speedup")
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
# The name column is never narrower than this text (with the swatch): the run's number
# and the start of its strategy stay readable however narrow the window
NAME_MIN_TEXT = "#00 threads…"
NUMBER_SAMPLES = {WALL: "999.9 s…", SPEEDUP: "9.99× ⚑"}  # of a live run of minutes
_NUMBER = re.compile(r"#\d+")


def elide_keeping_number(text: str, fm: QFontMetrics, width: int) -> str:
    """``text`` cut to ``width`` pixels with an ellipsis, keeping a leading ``#N``.

    Cut from the right, "#3 threads ×4 · cpu-python" in a narrow column became "…"
    or "#…": runs told apart only by their swatches. The number stays whole, and
    what follows it is cut instead.
    """
    if fm.horizontalAdvance(text) <= width:
        return text
    head = _NUMBER.match(text)
    if head is None:
        return fm.elidedText(text, Qt.TextElideMode.ElideRight, width)
    number = head.group(0)
    rest = fm.elidedText(
        text[len(number) :], Qt.TextElideMode.ElideRight, width - fm.horizontalAdvance(number)
    )
    return number + (rest or "…")


def elapsed_s(run: Run) -> float | None:
    """How long a live run has been going, by its own events (None before it started)."""
    store = run.store
    if not store.runs or store.t_max is None:
        return None
    return max(0.0, (store.t_max - int(store.runs[-1].started["t_ns"])) / 1e9)


def wall_text(run: Run) -> str:
    if run.wall_s is not None:
        return f"{run.wall_s:.2f} s"
    if run.source == "live":
        seconds = elapsed_s(run)
        return "starting…" if seconds is None else f"{seconds:.1f} s…"
    return "—"


def speedup_text(session: Session, run: Run) -> str:
    speedup, _eff = session.speedup(run)
    text = "—" if speedup is None else f"{speedup:.2f}×"
    if is_baseline(session, run):
        text += " ⚑"
    return text


def is_baseline(session: Session, run: Run) -> bool:
    """True when another run's speedup is measured against ``run``."""
    return any(
        other is not run and (b := session.baseline_for(other)) is not None and b is run
        for other in session.runs
    )


class RunsModel(QAbstractTableModel):
    """One row per run of ``session``, in its order."""

    def __init__(self, session: Session, theme: T.Theme = T.LIGHT, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.theme = theme
        self._ids: list[int] = [r.id for r in session.runs]
        self._unlisten = session.listen(self._changed)

    def close(self) -> None:
        self._unlisten()

    # -- the session told us
    def _changed(self, event: str, run: Run | None) -> None:
        if event == "added" and run is not None:
            row = len(self._ids)
            self.beginInsertRows(QModelIndex(), row, row)
            self._ids.append(run.id)
            self.endInsertRows()
        elif event == "removed" and run is not None:
            if run.id in self._ids:
                row = self._ids.index(run.id)
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._ids[row]
                self.endRemoveRows()
            self._all_changed()  # a removed baseline changes the others' speedups
        elif event == "cleared":
            self.beginResetModel()
            self._ids = [r.id for r in self.session.runs]
            self.endResetModel()
        elif event == "updated" and run is not None:
            row = self.row_of(run.id)
            if row is not None:
                self.dataChanged.emit(self.index(row, WALL), self.index(row, WALL))
        else:  # finished, changed: a new baseline may change every row's speedup
            self._all_changed()

    def _all_changed(self) -> None:
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, SPEEDUP))

    def set_theme(self, theme: T.Theme) -> None:
        self.theme = theme
        self._swatches = {}
        self._all_changed()

    _swatches: dict = {}

    def _swatch(self, colour: str) -> QPixmap:
        """A run's colour with a ring of the background's: on a selected row the light
        theme's highlight is the first run's own blue, which hid its swatch."""
        pix = self._swatches.get(colour)
        if pix is None:
            pix = QPixmap(16, 16)
            pix.fill(QColor(self.theme.background))
            p = QPainter(pix)
            p.fillRect(2, 2, 12, 12, QColor(colour))
            p.end()
            self._swatches = {**self._swatches, colour: pix}
        return pix

    # -- lookups
    def row_of(self, run_id: int) -> int | None:
        try:
            return self._ids.index(run_id)
        except ValueError:
            return None

    def run_at(self, row: int) -> Run | None:
        if 0 <= row < len(self._ids):
            return self.session.get(self._ids[row])
        return None

    # -- Qt's table model
    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent is not None and parent.isValid() else len(self._ids)

    def columnCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent is not None and parent.isValid() else len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def flags(self, index):
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == NAME:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        run = self.run_at(index.row())
        if run is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == NAME:
                return run.name
            if col == WALL:
                return wall_text(run)
            return speedup_text(self.session, run)
        if role == Qt.ItemDataRole.DecorationRole and col == NAME:
            return self._swatch(self.theme.run_colour(run.colour))
        if role == Qt.ItemDataRole.TextAlignmentRole and col != NAME:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(run)
        if role == RUN_ID_ROLE:
            return run.id
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        run = self.run_at(index.row())
        if run is None or index.column() != NAME or role != Qt.ItemDataRole.EditRole:
            return False
        self.session.rename(run, str(value))  # the session tells us back
        return True

    def _tooltip(self, run: Run) -> str:
        res = run.result or {}
        lines = [f"<b>{run.name}</b>", f"{run.strategy} · {run.workload}"]
        if run.spec is not None:
            lines.append(
                f"{workers_text(run.spec.workers)} · {run.spec.tasks} tasks of {run.spec.task_ms:g} ms"
            )
        if res:
            lines.append(f"wall {res.get('wall_s', 0):.2f} s · CPU {res.get('cpu_s', 0):.2f} s")
        base = self.session.baseline_for(run)
        speedup, eff = self.session.speedup(run)
        if base is None:
            lines.append("no baseline: run this experiment sequentially")
        elif base is run:
            lines.append("its own baseline (sequential)")
        else:
            lines.append(f"speedup vs {base.name} ({base.wall_s:.2f} s)")
            if eff is not None:
                lines.append(f"efficiency {eff * 100:.0f} %")
        if is_baseline(self.session, run):
            lines.append("⚑ other runs' speedups are measured against this one")
        return "<br>".join(lines)


class _NameEditor(QLineEdit):
    """The rename editor: its keys are its own while it is open.

    The window's shortcuts (Return and Space run, Escape stops, Delete removes a run)
    would otherwise take the keys that commit, type or cancel a name.
    """

    OWN_KEYS = {
        Qt.Key.Key_Return,
        Qt.Key.Key_Enter,
        Qt.Key.Key_Escape,
        Qt.Key.Key_Space,
        Qt.Key.Key_Delete,
        Qt.Key.Key_Backspace,
    }

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in self.OWN_KEYS:
            event.accept()
            return True
        return super().event(event)


class _NameDelegate(QStyledItemDelegate):
    def paint(self, painter, option, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        opt.text = elide_keeping_number(opt.text, opt.fontMetrics, rect.width() - 2 * margin)
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

    def createEditor(self, parent, option, index):  # noqa: N802 (Qt's name)
        editor = _NameEditor(parent)
        editor.setFrame(False)
        return editor


class RunsPanel(QFrame):
    """A side panel listing the session's runs; select one to view it.

    It sits beside the timeline, under the controls, so that it takes no width from
    the control bar (the widest thing on a 1280-pixel projector). Signals carry run
    ids; the window looks them up in the session.
    """

    runChosen = Signal(int)  # the user selected a run: show it
    removeRequested = Signal(list)  # run ids the user wants gone (the window checks)
    compareRequested = Signal(list)  # run ids to stack in the compare view
    compareAllClicked = Signal()

    def __init__(self, session: Session, theme: T.Theme = T.LIGHT, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("runsPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.session = session
        self.model = RunsModel(session, theme, self)
        self.model.rowsInserted.connect(lambda *_: self._sync_buttons())
        self.model.rowsRemoved.connect(lambda *_: self._sync_buttons())
        self.model.modelReset.connect(self._sync_buttons)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        self.heading = QLabel("Runs")
        self.heading.setObjectName("runsHeading")
        lay.addWidget(self.heading)
        self.view = QTableView()
        self.view.setObjectName("runsView")
        self.view.setModel(self.model)
        self._delegate = _NameDelegate(self.view)
        self.view.setItemDelegateForColumn(NAME, self._delegate)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.verticalHeader().hide()
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        head = self.view.horizontalHeader()
        head.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        # The number columns are sized when runs come, go or finish and when the text
        # grows (``_fit_numbers``), not by ResizeToContents: that measured every row's
        # cells again at each live run's wall-time tick (4 a second), 3.7 ms with 50 runs
        head.setSectionResizeMode(WALL, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(SPEEDUP, QHeaderView.ResizeMode.Interactive)
        head.setHighlightSections(False)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        lay.addWidget(self.view, 1)

        buttons = QVBoxLayout()  # stacked: the panel is narrow
        buttons.setSpacing(4)
        self.compare_all_button = QPushButton("Compare all…")
        self.compare_all_button.setObjectName("compareAllButton")
        self.compare_all_button.setToolTip(
            "Run this workload under each strategy, one after another, and compare them"
        )
        self.compare_all_button.clicked.connect(
            lambda _checked=False: self.compareAllClicked.emit()
        )
        self.compare_selected_button = QPushButton("Compare selected")
        self.compare_selected_button.setToolTip("Stack the selected runs on one time scale")
        self.compare_selected_button.clicked.connect(
            lambda _checked=False: self.compareRequested.emit(self.selected_ids())
        )
        buttons.addWidget(self.compare_all_button)
        buttons.addWidget(self.compare_selected_button)
        lay.addLayout(buttons)

        # actions of the list: keys work while it has focus, the same ones in its menu
        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.remove_action = QAction("&Remove", self.view)
        self.remove_action.setShortcuts(
            [QKeySequence.StandardKey.Delete, QKeySequence("Backspace")]
        )
        self.remove_action.setShortcutContext(ctx)
        self.remove_action.triggered.connect(
            lambda _checked=False: self.removeRequested.emit(self.selected_ids())
        )
        self.rename_action = QAction("Re&name", self.view)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.setShortcutContext(ctx)
        self.rename_action.triggered.connect(lambda _checked=False: self.edit_current_name())
        self.baseline_action = QAction("Measure speedups against this run", self.view)
        self.baseline_action.triggered.connect(
            lambda _checked=False: self.use_current_as_baseline()
        )
        self.auto_baseline_action = QAction("Automatic baseline (latest sequential)", self.view)
        self.auto_baseline_action.triggered.connect(
            lambda _checked=False: self.automatic_baseline()
        )
        self.compare_action = QAction("&Compare selected", self.view)
        self.compare_action.triggered.connect(
            lambda _checked=False: self.compareRequested.emit(self.selected_ids())
        )
        for a in (self.remove_action, self.rename_action):
            self.view.addAction(a)
        self._sync_buttons()
        session.listen(self._session_changed)  # for as long as the panel and session live
        self._fit_numbers()
        self._fit_panel(230)

    def _session_changed(self, event: str, run: Run | None) -> None:
        if event == "updated" and run is not None:
            # a live run's wall ticking: only its own text is measured, and the
            # columns are fitted again only when it no longer fits ("9.9 s…" to "10.0 s…")
            row = self.model.row_of(run.id)
            if row is None:
                return
            need = self.view.sizeHintForIndex(self.model.index(row, WALL)).width()
            if need <= self.view.columnWidth(WALL):
                return
        self._fit_numbers()

    def _fit_numbers(self) -> None:
        """Size the wall and speedup columns to their cells and headings."""
        for col in (WALL, SPEEDUP):
            self.view.resizeColumnToContents(col)

    def _fit_panel(self, floor: int) -> None:
        """The panel's least width, ``floor`` or more: ``NAME_MIN_TEXT`` with its
        swatch, beside the wall and speedup of a run of minutes (``NUMBER_SAMPLES``).
        Measured on samples, not on the cells, so that it does not change as a live
        run's wall ticks or a run ends (the panel jumped 20 pixels when a run stopped)."""
        view = self.view
        fm, style = view.fontMetrics(), view.style()
        pad = 2 * style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 8
        head = view.horizontalHeader()
        need = view.iconSize().width() + fm.horizontalAdvance(NAME_MIN_TEXT) + pad
        for col, sample in NUMBER_SAMPLES.items():
            need += max(fm.horizontalAdvance(sample) + pad, head.sectionSizeHint(col))
        need += style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, view)
        need += 2 * (view.frameWidth() + self.frameWidth()) + 8  # and the layout's margins
        self.setMinimumWidth(max(floor, need))

    # -- reading the view
    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model._ids[r] for r in rows if r < len(self.model._ids)]

    def current_run(self) -> Run | None:
        index = self.view.currentIndex()
        return self.model.run_at(index.row()) if index.isValid() else None

    # -- driven by the window
    def select(self, run_id: int) -> None:
        """Make ``run_id`` the current, only selected row, without asking to show it."""
        row = self.model.row_of(run_id)
        if row is None:
            return
        with QSignalBlocker(self):  # the window is showing it already
            self.view.selectRow(row)
            self.view.setCurrentIndex(self.model.index(row, NAME))
        self.view.scrollTo(self.model.index(row, NAME))

    def set_theme(self, theme: T.Theme) -> None:
        self.model.set_theme(theme)

    def set_scale(self, scale: float) -> None:
        """Rows and swatches grow with presentation mode's text."""
        fm = self.view.fontMetrics()
        line = max(fm.height(), int(T.BASE_POINT_SIZE * scale * 1.4))
        self.view.verticalHeader().setDefaultSectionSize(int(line * 1.5))
        self.view.setIconSize(QSize(int(14 * scale), int(14 * scale)))
        self._fit_numbers()
        self._fit_panel(int(230 * scale))

    # -- user actions
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        run = self.model.run_at(current.row()) if current.isValid() else None
        if run is not None:
            self.runChosen.emit(run.id)

    def edit_current_name(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.view.edit(self.model.index(index.row(), NAME))

    def use_current_as_baseline(self) -> None:
        run = self.current_run()
        if run is not None and run.finished:
            self.session.use_as_baseline(run)

    def automatic_baseline(self) -> None:
        run = self.current_run()
        if run is None:
            return
        for other in [run, *self.session.same_experiment(run)]:
            if other.baseline_id is not None:
                self.session.set_baseline(other, None)

    def _context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        if index.isValid() and not self.view.selectionModel().isRowSelected(index.row()):
            self.view.setCurrentIndex(index)
        run = self.current_run()
        menu = QMenu(self.view)
        for a in (self.rename_action, self.remove_action):
            a.setEnabled(run is not None)
            menu.addAction(a)
        menu.addSeparator()
        same = self.session.same_experiment(run) if run is not None else []
        self.baseline_action.setEnabled(bool(run is not None and run.finished and same))
        self.auto_baseline_action.setEnabled(
            any(r.baseline_id is not None for r in ([run, *same] if run is not None else []))
        )
        menu.addAction(self.baseline_action)
        menu.addAction(self.auto_baseline_action)
        menu.addSeparator()
        self.compare_action.setEnabled(len(self.selected_ids()) >= 1)
        menu.addAction(self.compare_action)
        self._menu = menu  # tests find it while it is open
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _sync_buttons(self) -> None:
        self.compare_selected_button.setEnabled(self.model.rowCount() > 0)
