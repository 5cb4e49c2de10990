"""Engine settings: where a remote Dask scheduler or Spark master is, an MPI hostfile.

The values travel with every run as the lab's ``options`` (the same keys as the CLI's
``--dask-address``, ``--spark-master``, ``--hostfile``...). Only what the user filled
in is sent, so an empty dialog leaves every engine on its local defaults.

Threads: GUI thread only.
"""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from concviz.lab import protocol as P

SETTINGS_KEY = "engine_options"


def load_options(settings) -> dict:
    """The saved engine options (an unreadable value counts as none)."""
    raw = settings.value(SETTINGS_KEY, "")
    try:
        value = json.loads(str(raw)) if raw else {}
    except (ValueError, RecursionError):
        return {}
    if not isinstance(value, dict):
        return {}
    # Keep each option a run would accept; one bad value must not refuse every run.
    kept = {}
    for key, item in value.items():
        try:
            kept.update(P.check_options({key: item}))
        except P.ControlError:
            pass
    return kept


def save_options(settings, options: dict) -> None:
    settings.setValue(SETTINGS_KEY, json.dumps(options))


class EngineSettingsDialog(QDialog):
    """Edits the engine options; ``options()`` returns what was filled in."""

    def __init__(self, options: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Engine settings")
        outer = QVBoxLayout(self)
        intro = QLabel(
            "Local engines need nothing here. Fill in an address to use a cluster you run: "
            "dask-remote and spark-remote connect to it, and mpi starts its ranks on the "
            "hostfile's machines."
        )
        intro.setWordWrap(True)
        outer.addWidget(intro)
        form = QFormLayout()
        self.dask_address = QLineEdit(str(options.get("dask_address", "")))
        self.dask_address.setPlaceholderText(
            "tcp://host:8786 (TLS: tls://…, set up in Dask's config)"
        )
        form.addRow("Dask scheduler", self.dask_address)
        self.dask_threads = QSpinBox()
        self.dask_threads.setRange(1, 64)
        self.dask_threads.setValue(int(options.get("threads_per_worker", 1)))
        form.addRow("Threads per Dask worker", self.dask_threads)
        self.dask_in_threads = QCheckBox("dask-local workers as threads of one process")
        self.dask_in_threads.setChecked(options.get("dask_processes", True) is False)
        form.addRow("", self.dask_in_threads)
        self.spark_master = QLineEdit(str(options.get("spark_master", "")))
        self.spark_master.setPlaceholderText("spark://host:7077")
        form.addRow("Spark master", self.spark_master)
        hostfile_row = QHBoxLayout()
        self.hostfile = QLineEdit(str(options.get("hostfile", "")))
        self.hostfile.setPlaceholderText("one host per line, e.g. node1:2")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        hostfile_row.addWidget(self.hostfile, 1)
        hostfile_row.addWidget(browse)
        form.addRow("MPI hostfile", hostfile_row)
        self.callback_host = QLineEdit(str(options.get("callback_host", "")))
        self.callback_host.setPlaceholderText("127.0.0.1")
        self.callback_host.setToolTip(
            "The address of this machine that Spark executors and MPI ranks on other hosts "
            "send their events to"
        )
        form.addRow("This machine, as workers reach it", self.callback_host)
        outer.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.resize(640, self.sizeHint().height())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MPI hostfile")
        if path:
            self.hostfile.setText(path)

    def options(self) -> dict:
        out: dict = {}
        for key, edit in (
            ("dask_address", self.dask_address),
            ("spark_master", self.spark_master),
            ("hostfile", self.hostfile),
            ("callback_host", self.callback_host),
        ):
            text = edit.text().strip()
            if text:
                out[key] = text
        if self.dask_threads.value() != 1:
            out["threads_per_worker"] = self.dask_threads.value()
        if self.dask_in_threads.isChecked():
            out["dask_processes"] = False
        return out
