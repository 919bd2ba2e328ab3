"""The Task box: which task to run, what it does, and its settings form (`xlbatch.gui.param_form.ParamForm`);
for the extract task, a button opening the field builder (`xlbatch.gui.field_builder`) on a listed file.

Each task's settings are remembered separately (`AppSettings.params`): switching tasks stores the
values of the one left and brings back the ones last used for the one picked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QGroupBox, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from xlbatch.gui.delegates import TaskItemDelegate
from xlbatch.gui.field_builder import BUILDERS, FieldBuilderDialog
from xlbatch.gui.param_form import ParamForm
from xlbatch.gui.settings import AppSettings
from xlbatch.gui.widgets import FitScrollArea
from xlbatch.tasks import TASKS, Task


class TaskPanel(QGroupBox):
    """The task picker and the picked task's settings."""

    taskChanged = Signal()  # another task was picked (its form is built)
    paramsChanged = Signal()  # a setting was edited, or the form became valid or invalid

    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        *,
        sample_files: Callable[[], list[str]] = list,
    ) -> None:
        super().__init__("Task", parent)
        self.settings = settings
        self._sample_files = sample_files  # the listed files: the field builder's samples
        self._task_name: str | None = None  # the task the form shows
        self._restoring = False
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        self.combo = QComboBox(self)
        self.combo.setObjectName("taskCombo")
        self.combo.setAccessibleName("Task")
        self.combo.setItemDelegate(TaskItemDelegate(self.combo))
        self.combo.view().setMinimumWidth(460)  # room for the descriptions
        for name, task in TASKS.items():
            self.combo.addItem(task.title or name, name)
            self.combo.setItemData(self.combo.count() - 1, task.description, Qt.ItemDataRole.ToolTipRole)
        self.combo.currentIndexChanged.connect(self._on_task_changed)
        layout.addWidget(self.combo)
        self.description = QLabel("", self)
        self.description.setObjectName("taskDescription")
        self.description.setWordWrap(True)
        layout.addWidget(self.description)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")
        layout.addWidget(line)
        self.param_form = ParamForm()
        self.param_form.changed.connect(self.paramsChanged)
        self.param_form.validityChanged.connect(lambda _v: self.paramsChanged.emit())
        layout.addWidget(self._build_scroll(), 1)
        self.builder_button = QPushButton("Pick fields on a sample workbook…", self)
        self.builder_button.setObjectName("fieldBuilderButton")
        self.builder_button.setToolTip("Click the cells or labels on one of your workbooks instead of typing them")
        self.builder_button.clicked.connect(self.open_field_builder)
        self.builder_button.hide()
        layout.addWidget(self.builder_button)

    def _build_scroll(self) -> FitScrollArea:
        scroll = FitScrollArea(self)
        self.param_scroll = scroll
        scroll.setObjectName("paramScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder = QWidget()
        holder.setObjectName("paramHolder")
        h_layout = QVBoxLayout(holder)
        h_layout.setContentsMargins(0, 0, 4, 0)
        h_layout.addWidget(self.param_form)
        h_layout.addStretch(1)
        scroll.setWidget(holder)
        return scroll

    # -- the task ----------------------------------------------------------------------------------
    def current_task_name(self) -> str | None:
        data = self.combo.currentData()
        return data if isinstance(data, str) else None

    def current_task(self) -> type[Task] | None:
        name = self.current_task_name()
        return TASKS.get(name) if name else None

    def restore(self) -> None:
        """Pick the task used last time (or the first one) and show its remembered settings."""
        name = self.settings.task
        index = self.combo.findData(name) if name else -1
        self._restoring = True
        try:
            self.combo.setCurrentIndex(index if index >= 0 else 0)
        finally:
            self._restoring = False
        self._on_task_changed(self.combo.currentIndex())

    def save(self) -> None:
        """Remember the task and its settings."""
        task = self.current_task_name()
        if task:
            self.settings.task = task
            self.settings.set_params(task, self.param_form.values())

    def show_task(self, task: type[Task], values: dict[str, Any]) -> None:
        """Pick `task` and show exactly `values` over its defaults (what a recipe sets), not what was last
        typed for it."""
        index = self.combo.findData(task.name)
        if index != self.combo.currentIndex():
            self.combo.setCurrentIndex(index)  # stores the old task's values, builds the new form
        self._show_form(task, {**{p.name: p.default for p in task.params}, **values})

    def _on_task_changed(self, _index: int) -> None:
        if self._restoring:
            return
        if self._task_name and self._task_name in TASKS:
            self.settings.set_params(self._task_name, self.param_form.values())
        task = self.current_task()
        self._task_name = task.name if task else None
        self.description.setText(task.description if task else "")
        self.combo.setToolTip(task.description if task else "")
        self._show_form(task, self.settings.params(task.name) if task else None)
        self.taskChanged.emit()

    def _show_form(self, task: type[Task] | None, values: dict[str, Any] | None) -> None:
        self.param_form.set_task(task, values)
        self.builder_button.setVisible(task is not None and BUILDERS.get(task.name) in self.param_form.editors)
        # Dropped files go to the file list wherever they land; text fields must not swallow them.
        for edit in self.param_form.findChildren(QLineEdit):
            edit.setAcceptDrops(False)
        self.param_scroll.updateGeometry()  # the form may be taller: let the panel re-ask its size

    def open_field_builder(self) -> FieldBuilderDialog | None:
        """Open the field builder for the task's field list (returns the dialog, already shown)."""
        task = self.current_task()
        param = BUILDERS.get(task.name) if task is not None else None
        if param is None or param not in self.param_form.editors:
            return None
        current = self.param_form.value(param) or ""
        fields = [f.strip() for f in str(current).split(",") if f.strip()]
        dialog = FieldBuilderDialog(fields, self._sample_files(), self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.param_form.set_value(param, dialog.fields()))
        dialog.open()
        return dialog

    # -- its settings ------------------------------------------------------------------------------
    @property
    def valid(self) -> bool:
        return self.param_form.valid

    def values(self) -> dict[str, Any]:
        return self.param_form.values()

    def show_param_error(self, param: str | None, message: str) -> None:
        """Show the engine's refusal at the setting it names (if the form has it)."""
        if param and param in self.param_form.editors:
            self.param_form.show_error(param, self.param_form.in_words(message))

    def focus_error(self) -> bool:
        """Scroll to the refused setting and put the cursor in it; False when no setting is refused."""
        editor = self.param_form.focus_error()
        if editor is None:
            return False
        self.param_scroll.ensureWidgetVisible(editor)
        return True
