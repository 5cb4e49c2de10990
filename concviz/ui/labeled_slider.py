"""A slider with its value in an editable box beside it (the Workers control).

Drag the handle for a few workers, or type 200 into the box for an I/O run's threads:
both move together, and ``valueChanged`` reports each change, whichever was used.
(superqt's ``QLabeledSlider`` does the same; importing superqt imports all of its
widgets and qtpy, whose star imports build every PySide6 class and enum: 0.6 s of the
window's start.)

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QHBoxLayout,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolTip,
    QWidget,
)


class LabeledSlider(QWidget):
    """A horizontal slider and a spin box without arrows, holding one integer."""

    valueChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.box = QSpinBox()
        self.box.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.box.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # keyboard tracking stays on: every digit typed is a change (the bar's 300 ms
        # debounce makes "200" one choice); with changes only on Return, Return ran
        # the window's Run shortcut first, with the count from before the typing
        self.box.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        # the window's style gives spin boxes' arrows room even when they are not
        # drawn: the digits had none left (a 1-pixel field beside the slider)
        self.box.setStyleSheet(
            "QAbstractSpinBox { padding-right: 0px; } "
            "QAbstractSpinBox::up-button, QAbstractSpinBox::down-button "
            "{ width: 0px; border: none; subcontrol-origin: border; }"
        )
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.box)
        self.setFocusProxy(self.slider)
        self.slider.valueChanged.connect(self._from_slider)
        self.box.valueChanged.connect(self._from_box)
        self.setRange(0, 99)

    def _from_slider(self, v: int) -> None:
        with QSignalBlocker(self.box):
            self.box.setValue(v)
        self.valueChanged.emit(v)

    def _from_box(self, v: int) -> None:
        top = self.slider.maximum()
        if v > top:
            # past what the control allows: the box takes any number of digits, so a
            # typed 12 is not silently cut to its first digit (which then ran 1
            # worker); it becomes the most allowed, and the tooltip says why
            with QSignalBlocker(self.box):
                self.box.setValue(top)
            QToolTip.showText(
                self.box.mapToGlobal(QPoint(0, self.box.height())),
                f"At most {top} here. {self.toolTip()}".strip(),
                self.box,
            )
            v = top
        if v == self.slider.value():
            return
        with QSignalBlocker(self.slider):
            self.slider.setValue(v)
        self.valueChanged.emit(v)

    def setRange(self, low: int, high: int) -> None:  # noqa: N802 (Qt's name)
        """The range of both; a value outside it comes to its nearer end (and is
        reported, as Qt's own slider does, unless signals are blocked)."""
        before = self.value()
        with QSignalBlocker(self.slider):
            self.slider.setRange(low, high)
        with QSignalBlocker(self.box):
            # room to type past the top (see _from_box): one digit more than it has
            self.box.setRange(low, 10 ** len(str(high)) * 10 - 1)
            self.box.setValue(self.slider.value())
        self.box.updateGeometry()  # its size hint is its widest value's, padding and all
        if self.value() != before and not self.signalsBlocked():
            self.valueChanged.emit(self.value())

    def setValue(self, v: int) -> None:  # noqa: N802 (Qt's name)
        self.slider.setValue(v)  # the box follows; valueChanged once if it changed

    def value(self) -> int:
        return self.slider.value()

    def minimum(self) -> int:
        return self.slider.minimum()

    def maximum(self) -> int:
        return self.slider.maximum()

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setToolTip(text)
        self.slider.setToolTip(text)
        self.box.setToolTip(text)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # a larger font (presentation mode) widens the box to fit its digits again
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self.setRange(self.minimum(), self.maximum())
