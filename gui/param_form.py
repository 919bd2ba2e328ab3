"""The task's settings form, built from the task's parameter specs (`xlbatch.params.Param`).

One editor per parameter: a checkbox for bool, a drop-down for choice, spin boxes for int and float
(honouring minimum and maximum), a line edit for str and, for list, a line edit taking comma-separated
values, and for file a path with Browse… (`xlbatch.gui.file_field`; with New from template… and Open
in editor when the task runs the file as code). A number without a default is a line edit, so it can
stay empty. Each parameter's help is the tooltip of its label and editor. After every change the values
go through `Task.validate()`, exactly what the engine will run; a refusal names the parameter
(`InvalidParams.param`) and its message, with the parameter called by its label, is shown under that
field (`focus_error()` puts the cursor there).
Nothing here knows any task by name: new tasks get a form for free.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from xlbatch.gui.file_field import FileField
from xlbatch.params import InvalidParams, Param
from xlbatch.tasks.base import Task

INT_LIMIT = 2_147_483_647  # QSpinBox holds a C int
FLOAT_LIMIT = 1e15


def _repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed (the red border of a bad value)."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


class ParamForm(QWidget):
    """Editors for one task's parameters; `values()` gives what `Task.validate()` and the engine take."""

    changed = Signal()
    validityChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paramForm")
        self.task: type[Task] | None = None
        self.editors: dict[str, QWidget] = {}
        self.error_labels: dict[str, QLabel] = {}
        self.error: str | None = None
        self.error_param: str | None = None
        self._valid = True
        self._loading = False
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setHorizontalSpacing(10)
        self._layout.setVerticalSpacing(6)
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.general_error = QLabel(self)
        self.general_error.setObjectName("paramError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()

    # -- building --------------------------------------------------------------------------------
    def set_task(self, task: type[Task] | None, values: dict[str, Any] | None = None) -> None:
        """Show `task`'s parameters, with `values` (e.g. remembered ones) where they fit."""
        self._loading = True
        try:
            if self._layout.indexOf(self.general_error) < 0:
                self.general_error.deleteLater()  # rows in the layout are deleted by removeRow
            while self._layout.rowCount():
                self._layout.removeRow(0)  # deletes the row's widgets
            self.editors.clear()
            self.error_labels.clear()
            self.general_error = QLabel(self)
            self.general_error.setObjectName("paramError")
            self.general_error.setWordWrap(True)
            self.general_error.hide()
            self.task = task
            if task is None:
                return
            if not task.params:
                empty = QLabel("This task has no settings.", self)
                empty.setObjectName("hintLabel")
                self._layout.addRow(empty)
            for param in task.params:
                self._add_row(param)
            self._layout.addRow(self.general_error)
            self._layout.setRowVisible(self.general_error, False)
            for name, value in (values or {}).items():
                if name in self.editors:
                    self.set_value(name, value)
        finally:
            self._loading = False
        self.validate()

    def _add_row(self, param: Param) -> None:
        editor = self._make_editor(param)
        editor.setObjectName(f"param_{param.name}")
        tip = param.help or param.display_name
        editor.setToolTip(tip)
        editor.setAccessibleName(param.display_name)
        editor.setAccessibleDescription(param.help)
        if isinstance(editor, FileField):
            editor.edit.setAccessibleName(param.display_name)
            editor.edit.setToolTip(tip)
        if isinstance(editor, QCheckBox):
            self._layout.addRow(editor)
        else:
            label = QLabel(param.display_name + ("" if not param.required else " *"), self)
            label.setToolTip(tip)
            label.setBuddy(editor.edit if isinstance(editor, FileField) else editor)
            wide = isinstance(editor, FileField) and editor.template is not None
            if wide:  # a script's path and its buttons take the form's whole width, under their label
                self._layout.addRow(label)
                self._layout.addRow(editor)
            else:
                self._layout.addRow(label, editor)
        error = QLabel(self)
        error.setObjectName("paramError")
        error.setWordWrap(True)
        self._layout.addRow("", error)
        self._layout.setRowVisible(error, False)  # the whole row, or its spacing would remain
        self.editors[param.name] = editor
        self.error_labels[param.name] = error

    def _make_editor(self, param: Param) -> QWidget:
        if param.type == "bool":
            box = QCheckBox(param.display_name, self)
            box.setChecked(bool(param.default))
            box.toggled.connect(self._on_change)
            return box
        if param.type == "choice":
            combo = QComboBox(self)
            if param.default is None and not param.required:
                combo.addItem("(none)", None)
            for choice in param.choices:
                combo.addItem(choice, choice)
            if param.default is not None:
                combo.setCurrentIndex(max(0, combo.findData(param.default)))
            combo.currentIndexChanged.connect(self._on_change)
            return combo
        if param.type in ("int", "float") and param.default is not None:
            spin: QSpinBox | QDoubleSpinBox
            if param.type == "int":
                spin = QSpinBox(self)
                low = int(param.minimum) if param.minimum is not None else -INT_LIMIT
                high = int(param.maximum) if param.maximum is not None else INT_LIMIT
                spin.setRange(max(low, -INT_LIMIT), min(high, INT_LIMIT))
                spin.setGroupSeparatorShown(high > 9999)
            else:
                spin = QDoubleSpinBox(self)
                spin.setDecimals(3)
                spin.setSingleStep(0.1)
                low_f = param.minimum if param.minimum is not None else -FLOAT_LIMIT
                high_f = param.maximum if param.maximum is not None else FLOAT_LIMIT
                spin.setRange(low_f, high_f)
            spin.setValue(param.default)
            spin.setAccelerated(True)
            spin.valueChanged.connect(self._on_change)
            return spin
        if param.type == "file":
            task = self.task
            template = task.script_template if task is not None and task.script_param == param.name else None
            field = FileField(param, template, self)
            field.textChanged.connect(self._on_change)
            field.problem.connect(lambda text, name=param.name: self.show_error(name, text))
            return field
        edit = QLineEdit(self)
        edit.setAcceptDrops(False)  # files dropped anywhere go to the file list
        if param.type == "list":
            default = param.default or []
            edit.setText(", ".join(str(v) for v in default) if isinstance(default, list | tuple) else str(default))
            edit.setPlaceholderText("Values separated by commas")
        elif param.type in ("int", "float"):
            edit.setPlaceholderText("(none)" if not param.required else "a number")
        else:
            edit.setText("" if param.default is None else str(param.default))
        edit.textChanged.connect(self._on_change)
        return edit

    # -- values ----------------------------------------------------------------------------------
    def value(self, name: str) -> Any:
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            return editor.value()
        assert isinstance(editor, QLineEdit | FileField)
        text = editor.text()
        param = self._param(name)
        if param is not None and param.type in ("int", "float") and not text.strip():
            return None
        return text

    def values(self) -> dict[str, Any]:
        """Raw values as the engine takes them (it coerces and checks them again)."""
        return {name: self.value(name) for name in self.editors}

    def set_value(self, name: str, value: Any) -> None:
        """Put a (remembered) value in its editor; a value that does not fit is ignored."""
        editor = self.editors[name]
        try:
            if isinstance(editor, QCheckBox):
                if isinstance(value, str):
                    value = value.strip().lower() in ("1", "true", "yes", "on")
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                for i in range(editor.count()):
                    data = editor.itemData(i)
                    if data == value or (isinstance(data, str) and str(value).lower() == data.lower()):
                        editor.setCurrentIndex(i)
                        break
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QDoubleSpinBox):
                editor.setValue(float(value))
            elif isinstance(editor, QLineEdit | FileField):
                if isinstance(value, list | tuple):
                    value = ", ".join(str(v) for v in value)
                editor.setText("" if value is None else str(value))
        except (TypeError, ValueError):
            pass

    def _param(self, name: str) -> Param | None:
        if self.task is None:
            return None
        return next((p for p in self.task.params if p.name == name), None)

    # -- validation ------------------------------------------------------------------------------
    @property
    def valid(self) -> bool:
        return self._valid

    def _on_change(self, *_: Any) -> None:
        if self._loading:
            return
        self.validate()
        self.changed.emit()

    def validate(self) -> str | None:
        """Check the values with the task's own rules; show a refusal next to its field."""
        message: str | None = None
        param: str | None = None
        if self.task is not None:
            try:
                self.task.validate(self.values())
            except InvalidParams as exc:
                message, param = self.in_words(str(exc)), exc.param
        self.show_error(param, message)
        return message

    def in_words(self, message: str) -> str:
        """The engine's message with each parameter named by the label the form shows, not its name:
        "Parameter 'fields' needs at least one value." becomes "'Fields' needs at least one value."."""
        for param in self.task.params if self.task is not None else ():
            message = message.replace(f"Parameter '{param.name}'", f"'{param.display_name}'")
        return message

    def focus_error(self) -> QWidget | None:
        """Put the keyboard focus in the field whose value is refused; return that editor (or None)."""
        editor = self.editors.get(self.error_param or "")
        if editor is None:
            return None
        if isinstance(editor, FileField):
            editor = editor.edit
        editor.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(editor, QLineEdit):
            editor.selectAll()
        return editor

    def show_error(self, param: str | None, message: str | None) -> None:
        self.error, self.error_param = message, param
        for name, label in self.error_labels.items():
            bad = message is not None and name == param
            label.setText(message if bad else "")
            self._layout.setRowVisible(label, bad)
            editor = self.editors[name]
            if isinstance(editor, FileField):
                editor = editor.edit  # the red border goes on the path itself
            if bool(editor.property("invalid")) != bad:
                editor.setProperty("invalid", bad)
                _repolish(editor)
        general = message is not None and param not in self.error_labels
        self.general_error.setText(message if general else "")
        if self._layout.indexOf(self.general_error) >= 0:
            self._layout.setRowVisible(self.general_error, general)
        valid = message is None
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)
