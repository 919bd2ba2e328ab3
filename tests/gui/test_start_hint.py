"""The line under Start when a task setting is refused: the setting's own words, with the label the user
sees, in the error colour; a click on it puts the cursor in that setting."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QPushButton

from xlbatch.bundle import resource_path

ERROR_COLOUR = QColor("#b3261e")  # resources/style.qss


@pytest.fixture
def styled(qapp):
    """The app's style sheet, as xlbatch.gui.app applies it, for this test only."""
    previous = qapp.styleSheet()
    qapp.setStyleSheet(resource_path("style.qss").read_text(encoding="utf-8"))
    yield
    qapp.setStyleSheet(previous)


def pick_task(window, name: str) -> None:
    combo = window.findChild(QComboBox, "taskCombo")
    combo.setCurrentIndex(combo.findData(name))


def text_colour(widget) -> QColor:
    return widget.palette().color(QPalette.ColorRole.WindowText)


def test_a_refused_setting_is_named_by_its_label_in_red_and_a_click_goes_to_it(styled, window, inputs, qtbot):
    window.add_paths([inputs])
    pick_task(window, "extract")
    hint, form = window.start_hint, window.task_panel.param_form
    field = form.editors["fields"]
    assert not window.findChild(QPushButton, "startButton").isEnabled()
    assert form.error == "'Fields' needs at least one value."  # the label shown, not the name 'fields'
    assert form.error_labels["fields"].text() == form.error
    assert hint.text() == f"Correct the task setting shown in red to start: {form.error}"
    assert hint.property("state") == "error" and text_colour(hint) == ERROR_COLOUR
    assert text_colour(form.error_labels["fields"]) == ERROR_COLOUR
    assert hint.cursor().shape() == Qt.CursorShape.PointingHandCursor

    window.findChild(QComboBox, "taskCombo").setFocus()
    qtbot.waitUntil(lambda: not field.hasFocus())
    qtbot.mouseClick(hint, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field)

    assert isinstance(field, QLineEdit)
    qtbot.keyClicks(field, "Total=Sheet1!B2")
    assert form.valid and hint.property("state") == "" and text_colour(hint) != ERROR_COLOUR
    assert hint.text().startswith("Ready to run")
    window.findChild(QComboBox, "taskCombo").setFocus()
    qtbot.mouseClick(hint, Qt.MouseButton.LeftButton)  # nothing to go to now
    assert not field.hasFocus()


def test_without_files_the_hint_asks_for_them_first(window):
    pick_task(window, "extract")
    assert window.start_hint.text().startswith("Add workbooks to start")
    assert window.start_hint.property("state") in (None, "")
