"""Small widget helpers the window's parts share: a push button bound to an action, a scroll area as tall
as its content, and re-applying the style sheet after a dynamic property changed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QPushButton, QScrollArea, QWidget


def action_button(
    parent: QWidget, text: str, name: str, action: QAction | None = None, tip: str = "", *, follow: bool = True
) -> QPushButton:
    """A push button named `name` that triggers `action`; its tooltip names the action's shortcut.

    With `follow`, the button is enabled exactly when the action is, so a part's buttons never need
    enabling apart from the window's commands (pass follow=False for a button with a rule of its own)."""
    button = QPushButton(text, parent)
    button.setObjectName(name)
    if action is not None:
        button.clicked.connect(action.trigger)
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        tip = tip or action.statusTip()
        if shortcut:
            tip = f"{tip} ({shortcut})" if tip else shortcut
        if follow:
            button.setEnabled(action.isEnabled())
            action.enabledChanged.connect(button.setEnabled)  # a bound slot: gone with the button
    if tip:
        button.setToolTip(tip)
    return button


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property (state, invalid) changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FitScrollArea(QScrollArea):
    """A scroll area as tall as its content when there is room, scrolling only when there is not."""

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        # The content's layout changed (another task's form): let the panel re-ask our size.
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().sizeHint()
        hint = widget.sizeHint()
        return QSize(hint.width(), hint.height() + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, min(self.sizeHint().height(), 6 * self.fontMetrics().lineSpacing()))
