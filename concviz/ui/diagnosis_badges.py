"""Badges on the summary: what went wrong in the shown run, each explained on a click.

One small button per diagnosis (``model.diagnoses``) in a row under the summary's
figures; a click opens a box with the diagnosis in words, the numbers from the run
that triggered it, the rule it follows and what to try. ``install(window)`` places the
row and follows the summary (its ``resultShown`` signal).

Threads: GUI thread only.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QMessageBox, QPushButton, QWidget

from concviz.model.diagnoses import RULES

from . import theme as T

# evidence keys in words (the JSON keeps the short names)
EVIDENCE_NAMES = {
    "parallelism": "parallelism (cores busy on average)",
    "busy_workers": "busy workers (task time ÷ wall)",
    "gil_wait_share": "share of CPU-wanting time spent waiting for the GIL",
    "gil_source": "how the GIL waits were measured",
    "cores_available": "cores free to the run",
    "cores": "cores",
    "cpu_wait_share": "share of the workers' time waiting for a CPU",
    "last_stretch_s": "last stretch (s)",
    "last_stretch_share": "last stretch as a share of the run",
    "idle_share_of_last_stretch": "workers idle in the last stretch",
    "imbalance": "imbalance of the workers' busy times",
    "dispatch_share": "share of the workers' time between tasks",
    "dispatch_gap_ms_median": "median gap between tasks (ms)",
    "tasks": "tasks",
    "loop_lag_ms": "longest the loop was blocked (ms)",
    "overhead_per_task_ms": "overhead per task (ms)",
    "task_ms_median": "median task time (ms)",
    "ratio": "ratio",
    "object": "object",
    "kind": "kind",
    "waited_s": "time waited (s)",
    "share_of_worker_time": "share of the workers' time",
    "waits": "waits",
    "startup_s": "start-up (s)",
    "wall_s": "wall, start-up left out (s)",
    "other_programs_cores": "cores other programs used",
}
SHARES = {
    "gil_wait_share",
    "cpu_wait_share",
    "last_stretch_share",
    "idle_share_of_last_stretch",
    "imbalance",
    "dispatch_share",
    "share_of_worker_time",
}


# what a badge says: short, so two or three fit beside the summary's title at 720 p
SHORT = {
    "gil": "GIL-bound threads",
    "oversubscribed": "oversubscribed",
    "uneven": "uneven end",
    "ipc-bound": "IPC-bound pool",
    "blocked-loop": "loop blocked",
    "too-fine": "tasks too fine",
    "lock-contention": "lock contention",
    "startup-dominates": "start-up dominates",
    "machine-busy": "machine busy",
}


# the waited object's kind, for the wait diagnosis's badge ("lock contention" was
# wrong for a queue's consumers waiting on its producers)
SHORT_WAIT = {
    "semaphore": "semaphore waits",
    "condition": "waits to be notified",
    "queue": "queue waits",
    "barrier": "barrier waits",
    "event": "event waits",
    "dependency": "waits for results",
}


def badge_text(d: dict) -> str:
    """A diagnosis's badge, short."""
    if d["code"] == "lock-contention":
        kind = (d.get("evidence") or {}).get("kind")
        if kind in SHORT_WAIT:
            return SHORT_WAIT[kind]
    return SHORT.get(d["code"], d["title"])


def evidence_rows(evidence: dict) -> list[tuple[str, str]]:
    """(name in words, value as text) for each piece of evidence that was measured."""
    rows = []
    for key, value in evidence.items():
        if value is None:
            continue
        if key in SHARES and isinstance(value, (int, float)):
            text = f"{value:.0%}"
        elif isinstance(value, float):
            text = f"{value:.3g}"
        else:
            text = str(value)
        rows.append((EVIDENCE_NAMES.get(key, key.replace("_", " ")), text))
    return rows


def explanation_html(d: dict) -> str:
    """The box's text: the evidence as a table, the rule, what to try."""
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td align='right'><b>{html.escape(v)}</b></td></tr>"
        for k, v in evidence_rows(d.get("evidence") or {})
    )
    rule = RULES.get(d["code"], "")
    return (
        f"<p><b>The numbers from this run:</b></p><table cellspacing='6'>{rows}</table>"
        f"<p><b>Why this badge:</b> {html.escape(rule)}</p>"
        f"<p><b>What to try:</b> {html.escape(d.get('advice', ''))}</p>"
    )


class DiagnosisBadges(QWidget):
    """A row of badges for the shown run's diagnoses (hidden when there are none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosisBadges")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self._lay = lay
        self.buttons: list[QPushButton] = []
        self.diagnoses: list[dict] = []
        self.theme = T.LIGHT
        self.scale = 1.0
        self.last_box: QMessageBox | None = None
        self.hide()

    def show_result(self, result: dict | None) -> None:
        """The badges of ``result`` (a run object), or none."""
        diagnoses = list((result or {}).get("diagnoses") or [])
        for b in self.buttons:
            self._lay.removeWidget(b)
            b.deleteLater()
        self.buttons = []
        self.diagnoses = diagnoses
        for d in diagnoses:
            b = QPushButton(f"⚠ {badge_text(d)}")
            b.setObjectName("diagnosisBadge")
            b.setProperty("code", d["code"])
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setToolTip(f"{d['title']}: {d['advice']} (click for the evidence)")
            b.clicked.connect(lambda _c=False, d=d: self.explain(d))
            self._lay.addWidget(b)
            self.buttons.append(b)
        self._style()
        self.setVisible(bool(diagnoses))

    def explain(self, d: dict) -> QMessageBox:
        """Open the box that explains ``d`` (non-modal; returned for tests)."""
        box = QMessageBox(self.window())
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle(f"Diagnosis: {d['title']}")
        box.setText(f"<b>{html.escape(d['title'])}</b> <small>({html.escape(d['code'])})</small>")
        box.setInformativeText(explanation_html(d))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.last_box = box
        return box

    def set_look(self, theme: T.Theme, scale: float) -> None:
        self.theme, self.scale = theme, scale
        self._style()

    def _style(self) -> None:
        t = self.theme
        size = T.BASE_POINT_SIZE * self.scale
        for b in self.buttons:
            bad = b.property("code") == "machine-busy"
            base, text, border = (
                (t.error_base, t.error_text, t.error_border)
                if bad
                else (t.warning_base, t.warning_text, t.warning_border)
            )
            b.setStyleSheet(
                f"QPushButton {{ background: {base}; color: {text}; border: 1px solid {border};"
                f" border-radius: 8px; padding: 0px 8px; font-size: {size:.1f}pt; }}"
            )


def install(window) -> DiagnosisBadges:
    """Put the badges at the end of the summary's title line (a row of their own made the
    window taller than a 720-pixel screen) and keep them on the shown run."""
    badges = DiagnosisBadges()
    summary = window.summary
    grid = summary.layout()
    grid.removeWidget(summary.title)
    line = QWidget()
    lay = QHBoxLayout(line)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(12)
    lay.addWidget(summary.title, 1)
    lay.addWidget(badges, 0)
    grid.addWidget(line, 0, 0, 1, len(summary.FIELDS))
    summary.resultShown.connect(badges.show_result)

    def look(*_args) -> None:
        badges.set_look(window.theme, window.scale)

    window.presentationChanged.connect(look)
    for a in window.theme_actions.values():
        a.triggered.connect(look)
    look()
    return badges
