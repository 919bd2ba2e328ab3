"""The line under Start: what to do next, and, when a task setting is refused, what it says.

A refused setting's message is shown in the error colour (the style sheet's `QLabel#hintLabel[state="error"]`)
with the setting called by its label, and a click on the line says `goToSetting`, which the window
answers by putting the cursor in that setting.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

from xlbatch.gui.formatting import plural
from xlbatch.gui.widgets import repolish

GO_TO_SETTING = "Click to go to the setting."


def start_hint(
    running: bool, has_task: bool, files: int, valid: bool, output_problem: str | None, setting_error: str | None = None
) -> str:
    """What to do next (`setting_error`: what the refused task setting says)."""
    if running:
        return "Press Esc or Cancel to stop the batch."
    if not has_task:
        return "No task is available."
    if not files:
        return "Add workbooks to start: Add files…, Add folder…, or drop them on this window."
    if not valid:
        if setting_error:
            return f"Correct the task setting shown in red to start: {setting_error}"
        return "Correct the task setting shown in red to start."
    if output_problem is not None:
        return output_problem
    return f"Ready to run on {plural(files, 'file')}. Ctrl+Enter starts."


class StartHint(QLabel):
    """The hint label (object name hintLabel); `show_hint()` sets its text and whether it names a bad setting."""

    goToSetting = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("hintLabel")
        self.setWordWrap(True)
        self.bad_setting = False

    def show_hint(self, text: str, bad_setting: bool) -> None:
        self.setText(text)
        if bad_setting == self.bad_setting:
            return
        self.bad_setting = bad_setting
        self.setProperty("state", "error" if bad_setting else "")
        repolish(self)
        if bad_setting:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip(GO_TO_SETTING)
        else:
            self.unsetCursor()
            self.setToolTip("")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        inside = self.rect().contains(event.position().toPoint())
        if self.bad_setting and inside and event.button() == Qt.MouseButton.LeftButton:
            self.goToSetting.emit()
        super().mouseReleaseEvent(event)
