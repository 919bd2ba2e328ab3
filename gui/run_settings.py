"""The Run settings box: how many workers, which backend (and what Auto will use), the output folder,
the time limit per file, the batch's checkboxes and the recipe's file filters.

A checkbox here sets one BatchSpec field of the same name. They are listed in TOGGLES: adding one is a
line there (its field, text, object name, tooltip, default, and whether the app remembers it between
runs); `spec_fields()` hands every box to the BatchSpec, `restore()`/`save()` remember the persisted ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from xlbatch.executors import BACKEND_TITLES, Choice, available_backends
from xlbatch.executors.choice import is_adaptive
from xlbatch.gui.cluster_dialog import ClusterRow
from xlbatch.gui.formatting import plural
from xlbatch.gui.settings import AppSettings
from xlbatch.gui.widgets import repolish
from xlbatch.plan import DEFAULT_OUT_DIR
from xlbatch.settings import Settings

FORCE_TIP = (
    "Process every file again. Without this, files unchanged since the last run into the same output "
    "folder, with the same task and settings, are not processed again: their earlier results are kept."
)
NO_CACHE_TIP = "Every file is processed every time: your settings file turns the cache off."
VERIFY_TIP = (
    "Before a file counts as done, read each output back and compare every value with what was written; "
    "a file whose output differs is listed as failed and its output removed."
)


OPEN_WHEN_DONE = "open_output_when_done"  # the remembered flag of "When done, open the output folder"


@dataclass(frozen=True)
class Toggle:
    """A checkbox of the run settings bound to the BatchSpec field `field`."""

    field: str
    text: str
    name: str  # objectName
    tip: str
    default: bool = False
    remembered: bool = False  # kept between runs of the app (AppSettings.flag)
    # The settings-file key whose value is the box's state until the user sets it in the app.
    settings_key: str | None = None


TOGGLES: tuple[Toggle, ...] = (
    Toggle("force", "Re-run everything", "forceCheck", FORCE_TIP),
    Toggle("verify", "Check outputs", "verifyCheck", VERIFY_TIP, default=True, remembered=True, settings_key="verify"),
)


class RunSettingsPanel(QGroupBox):
    """The run settings; `changed` says the workers or the backend changed (the choice may differ)."""

    changed = Signal()
    outputChanged = Signal()  # the output folder's text changed
    filtersCleared = Signal()  # the user dropped the recipe's file filters

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__("Run settings", parent)
        self.settings = settings
        self.workers_user_set = False  # the user set a worker count (else the automatic one shows)
        self._output_user_set = False
        self._updating = False  # the panel itself is setting the worker count
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self._form = form
        form.addRow("Workers", self._build_workers())
        self.backend_combo = QComboBox(self)
        self.backend_combo.setObjectName("backendCombo")
        self.backend_combo.setAccessibleName("Backend")
        self.backend_combo.setToolTip(
            "How the files are run in parallel.\nAuto: the backend your settings file names for this task, "
            "if any; otherwise what suits the task and the files."
        )
        # Narrower than its longest title when the window is (the list still shows them whole).
        self.backend_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.backend_combo.setMinimumContentsLength(14)
        for name in available_backends():
            self.backend_combo.addItem(BACKEND_TITLES.get(name, name), name)
        self.backend_combo.currentIndexChanged.connect(lambda _i: self._on_backend_changed())
        form.addRow("Backend", self.backend_combo)
        # With "Dask cluster": where the cluster is, a connection test, shared storage (gui/cluster_dialog.py).
        self.cluster_row = ClusterRow(self)
        self.cluster_label = QLabel("Cluster", self)
        form.addRow(self.cluster_label, self.cluster_row)
        form.setRowVisible(self.cluster_row, False)
        self.auto_hint = QLabel("", self)
        self.auto_hint.setObjectName("hintLabel")
        form.addRow(self.auto_hint)
        form.addRow("Output folder", self._build_output())
        form.addRow("Time limit per file", self._build_timeout())
        self.checks: dict[str, QCheckBox] = {}
        for toggle in TOGGLES:
            check = QCheckBox(toggle.text, self)
            check.setObjectName(toggle.name)
            check.setToolTip(toggle.tip)
            check.setChecked(toggle.default)
            self.checks[toggle.field] = check
            form.addRow(check)
        self.force_check = self.checks["force"]
        # Not part of the batch: what the window does when it ends (xlbatch.gui.finishing).
        self.open_when_done_check = QCheckBox("When done, open the output folder", self)
        self.open_when_done_check.setObjectName("openWhenDoneCheck")
        self.open_when_done_check.setToolTip("Open the output folder when a batch has run to its end")
        form.addRow(self.open_when_done_check)
        self._build_filters()

    # -- narrow: every field under its label -------------------------------------------------------
    def _side_by_side_width(self) -> int:
        """The width the form needs with labels beside their fields."""
        form = self._form
        labels, fields = 0, 0
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and field is not None and not label.isEmpty():
                labels = max(labels, label.minimumSize().width())
                fields = max(fields, field.minimumSize().width())
        margins = form.contentsMargins()
        return labels + form.horizontalSpacing() + fields + margins.left() + margins.right()

    def resizeEvent(self, event: Any) -> None:
        # All rows wrap or none do: a box where some labels sit above their fields and some beside looks broken.
        room = self.contentsRect().width()
        policy = (
            QFormLayout.RowWrapPolicy.WrapAllRows
            if room < self._side_by_side_width()
            else QFormLayout.RowWrapPolicy.DontWrapRows
        )
        if self._form.rowWrapPolicy() != policy:
            self._form.setRowWrapPolicy(policy)
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        # As narrow as the wrapped form allows (its widest field), not the side-by-side width.
        hint = super().minimumSizeHint()
        wrapped = self._wrapped_width()
        return QSize(min(hint.width(), wrapped), hint.height()) if wrapped else hint

    def _wrapped_width(self) -> int:
        form = self._form
        widest = 0
        for row in range(form.rowCount()):
            roles = (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole, QFormLayout.ItemRole.SpanningRole)
            for role in roles:
                item = form.itemAt(row, role)
                if item is not None and not item.isEmpty():
                    widest = max(widest, item.minimumSize().width())
        margins = form.contentsMargins()
        return widest + margins.left() + margins.right() + (self.width() - self.contentsRect().width())

    def _build_workers(self) -> QHBoxLayout:
        self.workers_spin = QSpinBox(self)
        self.workers_spin.setObjectName("workersSpin")
        self.workers_spin.setRange(1, 256)
        self.workers_spin.setAccessibleName("Workers")
        self.workers_spin.setToolTip(
            "How many files run at the same time. The automatic number suits the task and this computer."
        )
        self.workers_spin.valueChanged.connect(self._on_workers_changed)
        self.workers_auto = QToolButton(self)
        self.workers_auto.setObjectName("workersAutoButton")
        self.workers_auto.setText("Auto")
        self.workers_auto.setToolTip("Go back to the automatic number of workers")
        self.workers_auto.clicked.connect(self.reset_workers)
        self.workers_note = QLabel("automatic", self)
        self.workers_note.setObjectName("hintLabel")
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.workers_spin)
        row.addWidget(self.workers_auto)
        row.addWidget(self.workers_note, 1)
        return row

    def _build_output(self) -> QHBoxLayout:
        self.output_edit = QLineEdit(self)
        self.output_edit.setObjectName("outputEdit")
        self.output_edit.setAccessibleName("Output folder")
        self.output_edit.setPlaceholderText(f"…/{DEFAULT_OUT_DIR}")
        self.output_edit.setToolTip("Where the results go. Your input files are never changed.")
        self.output_edit.textEdited.connect(self._on_output_edited)
        self.output_edit.textChanged.connect(lambda _t: self.outputChanged.emit())
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.setObjectName("browseOutputButton")
        self.browse_button.setToolTip("Choose the output folder")
        self.browse_button.clicked.connect(self.choose_output)
        row = QHBoxLayout()
        row.addWidget(self.output_edit, 1)
        row.addWidget(self.browse_button)
        return row

    def _build_timeout(self) -> QSpinBox:
        self.timeout_spin = QSpinBox(self)
        self.timeout_spin.setObjectName("timeoutSpin")
        self.timeout_spin.setRange(0, 24 * 3600)
        self.timeout_spin.setSingleStep(10)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setSpecialValueText("No limit")
        self.timeout_spin.setAccessibleName("Time limit per file")
        self.timeout_spin.setToolTip(
            "A file that runs longer than this is stopped and listed as failed. "
            "0 = the limit in your settings file, if it sets one; otherwise no limit."
        )
        return self.timeout_spin

    def _build_filters(self) -> None:
        # File filters come from an opened recipe; shown (with a way to drop them) only when set.
        self.filter_label = QLabel("", self)
        self.filter_label.setObjectName("filterLabel")
        self.filter_label.setWordWrap(True)
        self.filter_clear = QToolButton(self)
        self.filter_clear.setObjectName("filterClearButton")
        self.filter_clear.setText("Clear")
        self.filter_clear.setToolTip("Stop filtering the files by name")
        self.filter_clear.clicked.connect(lambda: self.filtersCleared.emit())
        row = QHBoxLayout()
        row.addWidget(self.filter_label, 1)
        row.addWidget(self.filter_clear)
        self.filter_row_label = QLabel("File filter", self)
        self._form.addRow(self.filter_row_label, row)

    # -- remembered between runs -------------------------------------------------------------------
    def restore(self, from_settings_file: Callable[[str], Any] | None = None) -> None:
        """Show the remembered run settings; a box never set in the app shows `from_settings_file(key)`
        (the user's settings file), where it names one."""
        s = self.settings
        backend = self.backend_combo.findData(s.backend)
        self.backend_combo.setCurrentIndex(backend if backend >= 0 else 0)
        self.timeout_spin.setValue(s.timeout)
        if s.workers > 0:
            self.workers_user_set = True
            self._set_workers(s.workers)
        for toggle in TOGGLES:
            if toggle.remembered:
                default = toggle.default
                if toggle.settings_key and from_settings_file is not None:
                    value = from_settings_file(toggle.settings_key)
                    default = value if isinstance(value, bool) else default
                self.checks[toggle.field].setChecked(s.flag(toggle.field, default))
        self.open_when_done_check.setChecked(s.flag(OPEN_WHEN_DONE, False))

    def save(self) -> None:
        s = self.settings
        s.backend = self.current_backend()
        s.workers = self.workers_spin.value() if self.workers_user_set else 0
        s.timeout = self.timeout_spin.value()
        for toggle in TOGGLES:
            if toggle.remembered:
                s.set_flag(toggle.field, self.checks[toggle.field].isChecked())
        s.set_flag(OPEN_WHEN_DONE, self.open_when_done_check.isChecked())

    def open_when_done(self) -> bool:
        """Whether the output folder is to be opened when a batch has run to its end."""
        return self.open_when_done_check.isChecked()

    # -- workers and backend -----------------------------------------------------------------------
    def current_backend(self) -> str:
        data = self.backend_combo.currentData()
        return data if isinstance(data, str) else "auto"

    def _on_backend_changed(self) -> None:
        self._form.setRowVisible(self.cluster_row, self.current_backend() == "dask")
        self.changed.emit()

    def set_cluster(self, address: str | None, shared: bool | None) -> None:
        """The Dask cluster a recipe names (None: the settings file's, else this computer)."""
        self.cluster_row.set_cluster(address, shared)

    def user_workers(self) -> int | None:
        """The worker count the user set; None: automatic."""
        return self.workers_spin.value() if self.workers_user_set else None

    def _on_workers_changed(self, _value: int) -> None:
        if self._updating:
            return
        self.workers_user_set = True
        self.changed.emit()

    def reset_workers(self) -> None:
        """Back to the automatic worker count."""
        self.workers_user_set = False
        self.changed.emit()

    def select_backend(self, backend: str) -> bool:
        """Pick `backend` (False if this version does not offer it)."""
        index = self.backend_combo.findData(backend)
        if index < 0:
            return False
        self.backend_combo.setCurrentIndex(index)  # says `changed` if it is another one
        return True

    def set_workers(self, count: int | None) -> None:
        """Set the worker count as the user would (None: back to the automatic count)."""
        if count is not None:
            self._set_workers(count)
        self.workers_user_set = count is not None
        self.changed.emit()

    def set_toggle(self, field: str, on: bool | None) -> None:
        """Set a run-settings box (None leaves it as it is)."""
        if on is not None:
            self.checks[field].setChecked(on)

    def set_timeout(self, seconds: float | None) -> None:
        """Set the time limit per file (None: the settings file's, if any), in whole seconds rounded up."""
        self.timeout_spin.setValue(int(-(-seconds // 1)) if seconds else 0)

    def _set_workers(self, count: int) -> None:
        previous, self._updating = self._updating, True
        try:
            self.workers_spin.setValue(count)
        finally:
            self._updating = previous

    def show_choice(self, choice: Choice, running: bool) -> None:
        """Show what the batch will run with: the automatic worker count, and with Auto its backend."""
        backend = self.current_backend()
        if not self.workers_user_set or backend == "sequential":
            self._set_workers(choice.workers)
        self.workers_spin.setEnabled(backend != "sequential" and not running)
        self.workers_auto.setEnabled(self.workers_user_set and backend != "sequential" and not running)
        self.workers_note.setText(
            "one at a time" if backend == "sequential" else ("your choice" if self.workers_user_set else "automatic")
        )
        # One short line (a long wrapped reason would crowd the panel); the reason is its tooltip.
        if backend != "auto":
            self.auto_hint.setText("")
            self.auto_hint.setToolTip("")
        elif is_adaptive(choice):  # measures the first files, then moves the rest to processes if it pays
            # Short, as the panel's width allows; the worker count is in the spin box above, the how in the tooltip.
            self.auto_hint.setText("Auto decides while running")
            self.auto_hint.setToolTip(f"How: {choice.reason}.")
        elif choice.backend == "auto":  # no files yet: nothing decided
            self.auto_hint.setText("Auto picks how to run once files are added.")
            self.auto_hint.setToolTip("")
        else:
            title = BACKEND_TITLES.get(choice.backend, choice.backend).split(" (")[0]
            self.auto_hint.setText(f"Auto will use: {title}, {plural(choice.workers, 'worker')}")
            self.auto_hint.setToolTip(f"Why: {choice.reason}.")
        self.auto_hint.setVisible(bool(self.auto_hint.text()))

    def show_settings_file(self, settings: Settings) -> None:
        """What the settings file decides, where it applies: the time limit that 0 means, and whether
        unchanged files are skipped at all."""
        limit = settings.get("parallelization.timeout_seconds")
        self.timeout_spin.setSpecialValueText("No limit" if limit is None else f"Settings: {limit:g} s")
        self.cluster_row.show_settings_default(settings.get("parallelization.cluster"))
        if not self.cluster_row.shared_check.isChecked():
            self.cluster_row.shared_check.setChecked(bool(settings.get("parallelization.shared_storage")))
        cache = bool(settings.get("cache.enabled"))
        self.force_check.setEnabled(cache)  # the whole box is disabled while a batch runs
        self.force_check.setToolTip(FORCE_TIP if cache else NO_CACHE_TIP)

    # -- output folder, time limit, checkboxes, filters --------------------------------------------
    def output_text(self) -> str:
        return self.output_edit.text().strip()

    def set_output_folder(self, folder: str) -> None:
        self._output_user_set = bool(folder)
        self.output_edit.setText(folder)

    def _on_output_edited(self, text: str) -> None:
        self._output_user_set = bool(text.strip())  # typed by the user: no longer follows the files

    def set_default_output(self, folder: str) -> None:
        """Follow the files' folder unless the user chose the output folder."""
        if not self._output_user_set:
            self.output_edit.setText(folder)

    def choose_output(self) -> None:
        start = self.output_edit.text() or self.settings.folder("output")
        folder = QFileDialog.getExistingDirectory(self, "Output folder", start)
        if folder:
            self.settings.set_folder("output", folder)
            self.set_output_folder(folder)

    def output_problem(self, input_folders: list[str]) -> str | None:
        """Why the output folder cannot be used, or None. Checked here because the engine only sees
        the files (not the folders the user picked), so its own "output is an input folder" rule
        cannot catch a folder the files came from."""
        text = self.output_text()
        if not text:
            return "Choose an output folder to start."
        folder = Path(text).expanduser()
        try:
            resolved = str(folder.resolve())
        except OSError:
            return None
        if resolved in input_folders:
            return "The output folder is one of the input folders; choose a separate output folder."
        if folder.exists() and not folder.is_dir():
            return "The output folder is a file; choose a folder."
        return None

    def mark_output(self, problem: str | None) -> None:
        """Draw the output folder red when it is typed but cannot be used."""
        invalid = problem is not None and bool(self.output_text())
        if bool(self.output_edit.property("invalid")) != invalid:
            self.output_edit.setProperty("invalid", invalid)
            repolish(self.output_edit)

    def timeout_seconds(self) -> int:
        """The time limit per file; 0: the settings file's, if any."""
        return self.timeout_spin.value()

    def spec_fields(self) -> dict[str, Any]:
        """The BatchSpec fields the checkboxes set, and with "Dask cluster" the cluster's (None: the
        settings file's)."""
        fields: dict[str, Any] = {field: check.isChecked() for field, check in self.checks.items()}
        if self.current_backend() == "dask":
            fields["cluster"] = self.cluster_row.address()
            fields["shared_storage"] = self.cluster_row.shared_check.isChecked()
        return fields

    def show_filters(self, include: list[str], exclude: list[str]) -> None:
        parts = []
        if include:
            parts.append("only " + ", ".join(include))
        if exclude:
            parts.append("not " + ", ".join(exclude))
        self.filter_label.setText("; ".join(parts))
        self.filter_label.setToolTip(
            "Files in added folders must match these name patterns; the batch leaves out files matching "
            "the 'not' patterns."
        )
        self._form.setRowVisible(self.filter_row_label, bool(parts))
