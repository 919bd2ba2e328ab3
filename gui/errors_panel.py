"""The Errors tab: one row per failed file in plain words, the selected row in full below the table,
and Copy / Export… of the rows.

Copy puts tab-separated text on the clipboard (it pastes into Excel as columns). Export writes an
.xlsx or a .csv through `xlbatch.error_export`, which owns the file format; this panel only asks where.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from xlbatch.error_export import write_error_table
from xlbatch.errors import FileError
from xlbatch.gui import desktop, dialogs
from xlbatch.gui.actions import WindowActions
from xlbatch.gui.formatting import plural
from xlbatch.gui.models import COL_ADVICE, COL_FILE, COL_KIND, COL_MESSAGE, ErrorsModel, PathRole
from xlbatch.gui.settings import AppSettings
from xlbatch.gui.widgets import action_button

NO_SELECTION = "Select a row to read its whole message."


class ErrorsPanel(QWidget):
    """The Errors tab over an `ErrorsModel`; `changed` says rows were added or cleared."""

    changed = Signal()
    titleChanged = Signal(str)  # the tab's title: "Errors (2)"
    message = Signal(str, int)  # a status bar message and how long it shows (ms)

    def __init__(
        self,
        model: ErrorsModel,
        actions: WindowActions,
        settings: AppSettings,
        *,
        export_folder: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.errors = model
        self.actions = actions
        self.settings = settings
        self._export_folder = export_folder  # where Export… opens when it has not been used yet
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        hint = QLabel("Double-click a row to show the file in its folder.", self)
        hint.setObjectName("hintLabel")
        hint.setWordWrap(True)  # wraps rather than widening a narrow window
        self.copy_button = action_button(
            self, "Copy", "copyErrorsButton", actions.copy_errors, "Copy the rows (Ctrl+C)"
        )
        self.export_button = action_button(self, "Export…", "exportErrorsButton", actions.export_errors)
        bar.addWidget(hint, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)
        self.view = QTableView(self)
        self._set_up_view(self.view)
        layout.addWidget(self.view, 1)
        # The selected error in full: the table cells cut long messages.
        self.detail = QLabel(NO_SELECTION, self)
        self.detail.setObjectName("errorDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setMinimumHeight(self.view.fontMetrics().lineSpacing() * 3 + 16)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.detail)

    def _set_up_view(self, view: QTableView) -> None:
        view.setObjectName("errorsView")
        view.setModel(self.errors)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        # Two wrapped lines per row show most messages whole; fixed heights keep 10,000 rows cheap.
        view.setWordWrap(True)
        view.verticalHeader().hide()
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().lineSpacing() * 2 + 12)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_MESSAGE, QHeaderView.ResizeMode.Stretch)
        metrics = view.fontMetrics()
        em = metrics.horizontalAdvance("M")
        view.setColumnWidth(COL_FILE, 15 * em)
        view.setColumnWidth(COL_KIND, metrics.horizontalAdvance("Password-protected") + 20)
        view.setColumnWidth(COL_ADVICE, 28 * em)
        view.addAction(self.actions.copy_errors)
        view.doubleClicked.connect(self._reveal_error_row)
        view.selectionModel().currentRowChanged.connect(self._show_error_detail)

    # -- rows --------------------------------------------------------------------------------------
    def add_errors(self, errors: Sequence[tuple[str, FileError]]) -> None:
        self.errors.add_errors(errors)
        self._refresh()

    def clear(self) -> None:
        self.errors.clear()
        self._refresh()

    def has_errors(self) -> bool:
        return self.errors.rowCount() > 0

    def _refresh(self) -> None:
        count = self.errors.rowCount()
        if not count:
            self.detail.setText(NO_SELECTION)
        self.titleChanged.emit(f"Errors ({count:,})" if count else "Errors")
        self.changed.emit()

    def _show_error_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or current.row() >= self.errors.rowCount():
            self.detail.setText(NO_SELECTION)
            return
        row = self.errors.row(current.row())
        self.detail.setText(
            f"<b>{html.escape(row.name)}</b> &nbsp;<span style='color:#6b7280'>"
            f"{html.escape(os.path.dirname(row.path))}</span><br>"
            f"{html.escape(row.message)}<br><b>What to do:</b> {html.escape(row.advice)}"
        )

    def _reveal_error_row(self, index: QModelIndex) -> None:
        desktop.reveal_file(self.errors.data(index, PathRole))

    # -- copy and export ---------------------------------------------------------------------------
    def copy_errors(self) -> int:
        """Copy the selected error rows (all rows if none is selected) as tab-separated text."""
        selection = self.view.selectionModel()
        rows = [i.row() for i in selection.selectedRows()] if selection is not None else []
        header, body = self.errors.table(rows or None)
        text = "\n".join(
            "\t".join(str(v).replace("\t", " ").replace("\n", " ") for v in row) for row in [header, *body]
        )
        QGuiApplication.clipboard().setText(text)
        self.message.emit(f"Copied {plural(len(body), 'error row')}.", 4000)
        return len(body)

    def choose_export_errors(self) -> None:
        start = self.settings.folder("export") or self._export_folder() or str(Path.home())
        name, chosen = QFileDialog.getSaveFileName(
            self,
            "Export errors",
            str(Path(start) / "errors.xlsx"),
            "Excel workbook (*.xlsx);;CSV file (*.csv)",
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_suffix(".csv" if "csv" in chosen.lower() else ".xlsx")
        self.settings.set_folder("export", str(path.parent))
        try:
            self.export_errors(path)
        except OSError as exc:
            dialogs.show_error(self, "Export failed", f"The errors could not be saved to {path}: {exc}")

    def export_errors(self, path: str | os.PathLike[str]) -> Path:
        """Write the error table to .xlsx or .csv (by the suffix), atomically."""
        header, body = self.errors.table()
        paths = [self.errors.row(i).path for i in range(len(body))]  # the workbook links each name to its file
        target = write_error_table(path, header, body, paths)
        self.message.emit(f"Saved {plural(len(body), 'error row')} to {target}.", 6000)
        return target
