"""The whole application's look from one Theme: its palette, its stylesheet, its tooltips.

Applied to the ``QApplication``, not to a window, so that everything gets it: menus
and tooltips (top-level popups, which a window's palette does not reach), dialogs
(file, input, About, engine settings), the Program output pane and every lens window,
open or still to come. Every colour here comes from the Theme. Sizes that change with
presentation mode belong to the main window's own stylesheet, not here.

Threads: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from . import theme as T


def palette(theme: T.Theme) -> QPalette:
    """Every palette role, for every colour group, from ``theme``."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.background,
        QPalette.ColorRole.WindowText: theme.foreground,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.band,
        QPalette.ColorRole.Text: theme.foreground,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Button: theme.button,
        QPalette.ColorRole.ButtonText: theme.foreground,
        QPalette.ColorRole.BrightText: theme.error,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.highlighted_text,
        QPalette.ColorRole.ToolTipBase: theme.tooltip_base,
        QPalette.ColorRole.ToolTipText: theme.tooltip_text,
        QPalette.ColorRole.Link: theme.link,
        QPalette.ColorRole.LinkVisited: theme.link,
        # Fusion draws frames and bevels from these: derived so they suit either theme
        QPalette.ColorRole.Light: theme.grid,
        QPalette.ColorRole.Midlight: theme.grid,
        QPalette.ColorRole.Mid: theme.grid,
        QPalette.ColorRole.Dark: theme.grid,
        QPalette.ColorRole.Shadow: theme.grid,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(disabled, role, QColor(theme.muted))
    return pal


def stylesheet(theme: T.Theme) -> str:
    """The application's stylesheet: colours only, at the base text size."""
    th = theme
    return f"""
        QToolTip {{ color: {th.tooltip_text}; background: {th.tooltip_base};
                    border: 1px solid {th.grid}; padding: 4px; }}
        QMenuBar {{ background: {th.background}; color: {th.foreground}; }}
        QMenuBar::item {{ background: transparent; padding: 4px 8px; }}
        QMenuBar::item:selected {{ background: {th.highlight}; color: {th.highlighted_text}; }}
        QMenu {{ background: {th.background}; color: {th.foreground};
                 border: 1px solid {th.grid}; }}
        QMenu::item {{ padding: 4px 24px 4px 26px; }}
        QMenu::item:selected {{ background: {th.highlight}; color: {th.highlighted_text}; }}
        QMenu::item:disabled {{ color: {th.muted}; }}
        QMenu::separator {{ height: 1px; background: {th.grid}; margin: 4px 8px; }}
        /* a styled menu no longer draws the style's check marks: draw them here, or
           "Presentation mode" and the chosen theme look unticked in the dark */
        QMenu::indicator {{ width: 11px; height: 11px; margin-left: 6px;
                            border: 1px solid {th.muted}; background: {th.base}; }}
        QMenu::indicator:exclusive {{ border-radius: 6px; }}
        QMenu::indicator:checked {{ background: {th.highlight};
                                    border: 1px solid {th.foreground}; }}
        /* Fusion draws a check box and a slider's handle from the palette's frame
           colours, which the dark theme made nearly invisible: draw them here */
        QCheckBox::indicator {{ width: 13px; height: 13px; border-radius: 2px;
                                border: 1px solid {th.muted}; background: {th.base}; }}
        QCheckBox::indicator:checked {{ background: {th.highlight};
                                        border: 1px solid {th.foreground}; }}
        QCheckBox::indicator:disabled {{ border: 1px solid {th.grid}; }}
        QSlider::groove:horizontal {{ height: 4px; background: {th.grid};
                                      border-radius: 2px; }}
        QSlider::sub-page:horizontal {{ background: {th.highlight}; border-radius: 2px; }}
        QSlider::handle:horizontal {{ background: {th.foreground}; width: 14px;
            margin: -6px 0; border: 1px solid {th.background}; border-radius: 8px; }}
        QSlider::handle:horizontal:disabled {{ background: {th.muted}; }}
        QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit {{
            background: {th.base}; color: {th.foreground}; border: 1px solid {th.grid};
            padding: 2px 4px; selection-background-color: {th.highlight};
            selection-color: {th.highlighted_text}; }}
        QComboBox QAbstractItemView {{ background: {th.base}; color: {th.foreground};
            selection-background-color: {th.highlight};
            selection-color: {th.highlighted_text}; }}
        QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{
            width: 16px; background: {th.button}; border-left: 1px solid {th.grid}; }}
        QAbstractSpinBox::up-arrow {{ image: none; width: 0; height: 0;
            border-left: 4px solid transparent; border-right: 4px solid transparent;
            border-bottom: 5px solid {th.foreground}; }}
        QAbstractSpinBox::down-arrow {{ image: none; width: 0; height: 0;
            border-left: 4px solid transparent; border-right: 4px solid transparent;
            border-top: 5px solid {th.foreground}; }}
        QPushButton {{ padding: 4px 10px; background: {th.button}; color: {th.foreground};
                       border: 1px solid {th.grid}; border-radius: 4px; }}
        QPushButton:checked {{ background: {th.highlight}; color: {th.highlighted_text};
                               font-weight: bold; border: 1px solid {th.highlight}; }}
        QPushButton:default {{ border: 1px solid {th.highlight}; }}
        QPushButton:disabled {{ color: {th.muted}; }}
        QPushButton:checked:disabled {{ background: {th.button}; color: {th.foreground};
                                        border: 2px solid {th.highlight}; }}
        QPushButton[unavailable="true"] {{ color: {th.muted}; font-style: italic; }}
        QPlainTextEdit, QTextEdit, QAbstractItemView {{ background: {th.base};
            color: {th.foreground}; selection-background-color: {th.highlight};
            selection-color: {th.highlighted_text}; }}
        QHeaderView::section {{ background: {th.button}; color: {th.foreground};
            border: none; border-right: 1px solid {th.grid};
            border-bottom: 1px solid {th.grid}; padding: 3px 6px; }}
        QDockWidget {{ color: {th.foreground}; }}
        QDockWidget::title {{ background: {th.button}; padding: 4px; }}
        QStatusBar {{ background: {th.background}; color: {th.foreground}; }}
        #banner[level="error"] {{ background: {th.error_base};
                                  border: 2px solid {th.error_border}; }}
        #banner[level="error"] QLabel {{ color: {th.error_text}; font-weight: bold; }}
        #banner[level="warning"] {{ background: {th.warning_base};
                                    border: 2px solid {th.warning_border}; }}
        #banner[level="warning"] QLabel {{ color: {th.warning_text}; font-weight: bold; }}
        QLabel#warning {{ background: {th.warning_base}; color: {th.warning_text};
                          border: 2px solid {th.warning_border}; padding: 6px;
                          font-weight: bold; }}
    """


def apply(theme: T.Theme, app: QApplication | None = None) -> None:
    """Give the whole application ``theme``: widgets open now and any opened later."""
    app = app if app is not None else QApplication.instance()
    if app is None:
        return
    T.remember_system_palette()  # "follow the system" must read the desktop, not us
    pal = palette(theme)
    if app.palette() != pal:
        app.setPalette(pal)
    QToolTip.setPalette(pal)  # tooltips keep a palette of their own
    sheet = stylesheet(theme)
    # setting a sheet re-polishes every widget the application has: a second window of
    # the same theme (or a theme menu chosen twice) must not pay for that again
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
