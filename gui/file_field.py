"""The editor of a `file` parameter (the python task's script): the path, Browse…, and for a parameter that
names code the task runs, "New from template…" (writes the task's commented starter script and opens it in
the system editor) and "Open in editor".

The path is a plain line edit, so the form checks it with the task's rules after every change, like any
setting, and shows a refusal (a syntax error and its line) under the field. The questions go through
`xlbatch.gui.dialogs` and the editor through `xlbatch.gui.desktop`, which tests replace.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from xlbatch.gui import desktop, dialogs
from xlbatch.params import Param
from xlbatch.script_template import write_starter


class FileField(QWidget):
    """A file path with Browse… (and, given a `template`, New from template… and Open in editor)."""

    textChanged = Signal(str)
    problem = Signal(str)  # something the field could not do (write the new script), in words

    def __init__(self, param: Param, template: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.template = template
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.edit = QLineEdit(self)
        self.edit.setObjectName(f"param_{param.name}_path")
        self.edit.setAcceptDrops(False)  # files dropped anywhere go to the file list
        self.edit.setPlaceholderText("The path of a " + (param.extensions[0] if param.extensions else "") + " file")
        self.edit.setText("" if param.default is None else str(param.default))
        self.edit.textChanged.connect(self.textChanged)
        self.edit.textChanged.connect(self._sync_buttons)
        layout.addWidget(self.edit)
        # Two short rows of buttons under the path: they fit the narrow settings column side by side.
        row = QHBoxLayout()
        row.setSpacing(6)
        self.browse_button = self._button("Browse…", "browse", "Choose the file", self.browse)
        row.addWidget(self.browse_button)
        self.new_button: QPushButton | None = None
        self.editor_button: QPushButton | None = None
        if template is not None:
            self.editor_button = self._button("Open in editor", "edit", "Open the script in your editor", self.open)
            self.new_button = self._button(
                "New from template…", "new", "Write a commented starter script and open it in your editor", self.new
            )
            row.addWidget(self.editor_button)
        row.addStretch(1)
        layout.addLayout(row)
        if self.new_button is not None:
            second = QHBoxLayout()
            second.addWidget(self.new_button)
            second.addStretch(1)
            layout.addLayout(second)
        self._sync_buttons()

    def _button(self, text: str, role: str, tip: str, slot: object) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(f"param_{self.param.name}_{role}")
        button.setToolTip(tip)
        button.clicked.connect(lambda _checked=False: slot())  # type: ignore[operator]
        return button

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 - the Qt spelling, as QLineEdit's
        self.edit.setText(text)

    def _folder(self) -> str:
        current = Path(self.text().strip()).expanduser() if self.text().strip() else None
        if current is not None and current.parent.is_dir():
            return str(current.parent)
        return str(Path.home())

    def _sync_buttons(self, *_: object) -> None:
        if self.editor_button is not None:
            self.editor_button.setEnabled(Path(self.text().strip()).expanduser().is_file())

    def browse(self) -> None:
        name = dialogs.ask_script_path(self, self._folder(), self.param.extensions)
        if name:
            self.setText(name)

    def new(self) -> None:
        """Ask where, write the starter script there, put its path in the field and open it in the editor."""
        name = dialogs.ask_new_script_path(self, self._folder())
        if not name or self.template is None:
            return
        try:
            write_starter(name, self.template)
        except OSError as exc:  # FileExistsError included: an existing script is never overwritten
            self.problem.emit(f"The new script could not be written: {exc}")
            return
        self.setText(name)
        desktop.edit_file(name)

    def open(self) -> None:
        path = self.text().strip()
        if path and Path(path).expanduser().is_file():
            desktop.edit_file(Path(path).expanduser())
